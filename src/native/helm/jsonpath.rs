//! `helm show values --jsonpath TEMPLATE`: Kubernetes' JSONPath templates
//! (k8s.io/client-go/util/jsonpath, through cli-runtime's JSONPathPrinter) over the
//! chart's values. Supported: text outside `{…}`, `.field`, `['field']`, `.*`, `..field`,
//! `[i]` (negative from the end), `[a:b]`, `[*]`, `[?(@.x OP literal)]` and `[?(@.x)]`,
//! string literals (`{"\n"}`), `{range PATH}…{end}`, `$`/`@` roots. As in client-go, a
//! scalar prints as Go's fmt prints it, a map or list as compact JSON (keys sorted, HTML
//! characters escaped), several results of one action joined by a space; every action is
//! evaluated before anything is printed, so a missing key prints nothing (Helm ignores
//! the error).

use super::yaml::{go_format_float, Yaml};

#[derive(Debug, Clone)]
enum Step {
    Field(String),
    Wildcard,
    Recursive(String),
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    All,
    Filter(Vec<Step>, Option<(String, Literal)>),
}

#[derive(Debug, Clone)]
enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Path(bool, Vec<Step>),
    Range(bool, Vec<Step>),
    End,
}

/// Parses a template (`error parsing jsonpath T: …` is the caller's).
fn parse(t: &str) -> Result<Vec<Node>, String> {
    let mut out = Vec::new();
    let mut rest = t;
    while !rest.is_empty() {
        match rest.find('{') {
            None => {
                out.push(Node::Text(rest.to_string()));
                break;
            }
            Some(i) => {
                if i > 0 {
                    out.push(Node::Text(rest[..i].to_string()));
                }
                let body_start = i + 1;
                let close =
                    find_close(&rest[body_start..]).ok_or_else(|| "unclosed action".to_string())?;
                let body = rest[body_start..body_start + close].trim();
                out.push(parse_action(body)?);
                rest = &rest[body_start + close + 1..];
            }
        }
    }
    Ok(out)
}

/// The `}` closing an action, skipping quoted strings.
fn find_close(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut esc = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '}' => return Some(i),
            _ => {}
        }
    }
    None
}

fn parse_action(body: &str) -> Result<Node, String> {
    if body == "end" {
        return Ok(Node::End);
    }
    if let Some(p) = body.strip_prefix("range ") {
        let (root, steps) = parse_path(p.trim())?;
        return Ok(Node::Range(root, steps));
    }
    if body.starts_with('"') {
        let s: String = serde_json::from_str(body).map_err(|_| format!("invalid string {body}"))?;
        return Ok(Node::Text(s));
    }
    let (root, steps) = parse_path(body)?;
    Ok(Node::Path(root, steps))
}

/// A path; `true` when it starts at the root (`$`).
fn parse_path(p: &str) -> Result<(bool, Vec<Step>), String> {
    let b = p.as_bytes();
    let mut i = 0;
    let mut root = false;
    if p.starts_with('$') {
        root = true;
        i = 1;
    } else if p.starts_with('@') {
        i = 1;
    }
    let mut steps = Vec::new();
    let ident = |i: &mut usize| -> String {
        let st = *i;
        while *i < b.len()
            && !matches!(b[*i], b'.' | b'[' | b' ' | b'=' | b'!' | b'<' | b'>' | b')')
        {
            *i += 1;
        }
        p[st..*i].to_string()
    };
    while i < b.len() {
        match b[i] {
            b'.' if b.get(i + 1) == Some(&b'.') => {
                i += 2;
                steps.push(Step::Recursive(ident(&mut i)));
            }
            b'.' => {
                i += 1;
                if b.get(i) == Some(&b'*') {
                    i += 1;
                    steps.push(Step::Wildcard);
                } else {
                    let name = ident(&mut i);
                    if !name.is_empty() {
                        steps.push(Step::Field(name));
                    }
                }
            }
            b'[' => {
                let close = matching_bracket(&p[i..]).ok_or("unterminated array")? + i;
                let inner = p[i + 1..close].trim();
                steps.push(parse_index(inner)?);
                i = close + 1;
            }
            b' ' => i += 1,
            c => return Err(format!("unrecognized character in action: {:?}", c as char)),
        }
    }
    Ok((root, steps))
}

fn matching_bracket(s: &str) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_index(inner: &str) -> Result<Step, String> {
    if inner == "*" {
        return Ok(Step::All);
    }
    if let Some(f) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
        let f = f.trim();
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if let Some((l, r)) = f.split_once(op) {
                let (_, steps) = parse_path(l.trim())?;
                return Ok(Step::Filter(
                    steps,
                    Some((op.to_string(), literal(r.trim())?)),
                ));
            }
        }
        let (_, steps) = parse_path(f)?;
        return Ok(Step::Filter(steps, None));
    }
    if (inner.starts_with('\'') && inner.ends_with('\'') && inner.len() >= 2)
        || (inner.starts_with('"') && inner.ends_with('"') && inner.len() >= 2)
    {
        return Ok(Step::Field(inner[1..inner.len() - 1].to_string()));
    }
    let num = |s: &str| -> Result<Option<i64>, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        s.parse::<i64>()
            .map(Some)
            .map_err(|_| format!("invalid array index {s}"))
    };
    if let Some((a, rest)) = inner.split_once(':') {
        let b = rest.split(':').next().unwrap_or("");
        return Ok(Step::Slice(num(a)?, num(b)?));
    }
    Ok(Step::Index(num(inner)?.ok_or("invalid array index")?))
}

fn literal(s: &str) -> Result<Literal, String> {
    if (s.starts_with('\'') && s.ends_with('\'') || s.starts_with('"') && s.ends_with('"'))
        && s.len() >= 2
    {
        return Ok(Literal::Str(s[1..s.len() - 1].to_string()));
    }
    match s {
        "true" => return Ok(Literal::Bool(true)),
        "false" => return Ok(Literal::Bool(false)),
        _ => {}
    }
    s.parse::<f64>()
        .map(Literal::Num)
        .map_err(|_| format!("unrecognized filter value {s}"))
}

fn map_entries(y: &Yaml) -> Option<&Vec<(Yaml, Yaml)>> {
    match y {
        Yaml::Map(m) => Some(m),
        _ => None,
    }
}

fn eval<'a>(root: &'a Yaml, cur: Vec<&'a Yaml>, steps: &[Step]) -> Result<Vec<&'a Yaml>, String> {
    let mut cur = cur;
    for s in steps {
        let mut next: Vec<&Yaml> = Vec::new();
        match s {
            Step::Field(name) => {
                for v in &cur {
                    if let Some(m) = map_entries(v) {
                        if let Some((_, x)) = m.iter().find(|(k, _)| k.key_string() == *name) {
                            next.push(x);
                        }
                    }
                }
                if next.is_empty() {
                    return Err(format!("{name} is not found"));
                }
            }
            Step::Wildcard => {
                for v in &cur {
                    match v {
                        Yaml::Map(m) => {
                            let mut kv: Vec<&(Yaml, Yaml)> = m.iter().collect();
                            kv.sort_by_key(|(k, _)| k.key_string());
                            next.extend(kv.into_iter().map(|(_, x)| x));
                        }
                        Yaml::Seq(s) => next.extend(s.iter()),
                        _ => {}
                    }
                }
            }
            Step::Recursive(name) => {
                fn walk<'b>(v: &'b Yaml, name: &str, out: &mut Vec<&'b Yaml>) {
                    match v {
                        Yaml::Map(m) => {
                            let mut kv: Vec<&(Yaml, Yaml)> = m.iter().collect();
                            kv.sort_by_key(|(k, _)| k.key_string());
                            for (k, x) in &kv {
                                if k.key_string() == name {
                                    out.push(x);
                                }
                            }
                            for (_, x) in kv {
                                walk(x, name, out);
                            }
                        }
                        Yaml::Seq(s) => s.iter().for_each(|x| walk(x, name, out)),
                        _ => {}
                    }
                }
                for v in &cur {
                    walk(v, name, &mut next);
                }
            }
            Step::Index(i) => {
                for v in &cur {
                    if let Yaml::Seq(s) = v {
                        let n = s.len() as i64;
                        let j = if *i < 0 { n + i } else { *i };
                        if j < 0 || j >= n {
                            return Err(format!(
                                "array index out of bounds: index {i}, length {n}"
                            ));
                        }
                        next.push(&s[j as usize]);
                    }
                }
            }
            Step::Slice(a, b) => {
                for v in &cur {
                    if let Yaml::Seq(s) = v {
                        let n = s.len() as i64;
                        let fix = |x: i64| if x < 0 { (n + x).max(0) } else { x.min(n) };
                        let (a, b) = (fix(a.unwrap_or(0)), fix(b.unwrap_or(n)));
                        if a < b {
                            next.extend(s[a as usize..b as usize].iter());
                        }
                    }
                }
            }
            Step::All => {
                for v in &cur {
                    match v {
                        Yaml::Seq(s) => next.extend(s.iter()),
                        Yaml::Map(m) => next.extend(m.iter().map(|(_, x)| x)),
                        _ => {}
                    }
                }
            }
            Step::Filter(path, cond) => {
                for v in &cur {
                    let items: Vec<&Yaml> = match v {
                        Yaml::Seq(s) => s.iter().collect(),
                        other => vec![*other],
                    };
                    for it in items {
                        let found = eval(root, vec![it], path).unwrap_or_default();
                        let keep = match cond {
                            None => !found.is_empty(),
                            Some((op, lit)) => found.iter().any(|x| compare(x, op, lit)),
                        };
                        if keep {
                            next.push(it);
                        }
                    }
                }
            }
        }
        cur = next;
    }
    Ok(cur)
}

fn compare(x: &Yaml, op: &str, lit: &Literal) -> bool {
    use std::cmp::Ordering;
    let ord = match (x, lit) {
        (Yaml::Str(a), Literal::Str(b)) => a.as_str().cmp(b.as_str()),
        (Yaml::Bool(a), Literal::Bool(b)) => a.cmp(b),
        (Yaml::Int(a), Literal::Num(b)) => (*a as f64).partial_cmp(b).unwrap_or(Ordering::Less),
        (Yaml::UInt(a), Literal::Num(b)) => (*a as f64).partial_cmp(b).unwrap_or(Ordering::Less),
        (Yaml::Float(a), Literal::Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Less),
        _ => return op == "!=",
    };
    match op {
        "==" => ord == Ordering::Equal,
        "!=" => ord != Ordering::Equal,
        "<" => ord == Ordering::Less,
        ">" => ord == Ordering::Greater,
        "<=" => ord != Ordering::Greater,
        _ => ord != Ordering::Less,
    }
}

/// How client-go prints one result: JSON for maps and lists, fmt's text otherwise.
fn text(v: &Yaml) -> String {
    match v {
        Yaml::Map(_) | Yaml::Seq(_) => json(v),
        Yaml::Null => "<nil>".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Int(i) => i.to_string(),
        Yaml::UInt(u) => u.to_string(),
        Yaml::Float(f) => go_format_float(*f, 64),
        Yaml::Str(s) => s.clone(),
    }
}

/// encoding/json of the value: keys sorted, HTML characters escaped.
fn json(v: &Yaml) -> String {
    let esc = |s: &str| {
        serde_json::to_string(s)
            .unwrap_or_default()
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026")
    };
    match v {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Int(i) => i.to_string(),
        Yaml::UInt(u) => u.to_string(),
        Yaml::Float(f) => go_format_float(*f, 64),
        Yaml::Str(s) => esc(s),
        Yaml::Seq(s) => format!("[{}]", s.iter().map(json).collect::<Vec<_>>().join(",")),
        Yaml::Map(m) => {
            let mut kv: Vec<(String, &Yaml)> = m.iter().map(|(k, x)| (k.key_string(), x)).collect();
            kv.sort_by(|a, b| a.0.cmp(&b.0));
            format!(
                "{{{}}}",
                kv.iter()
                    .map(|(k, x)| format!("{}:{}", esc(k), json(x)))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
    }
}

/// Checks the template (`helm show values` fails on a parse error before printing).
pub fn check(template: &str) -> Result<(), String> {
    let nodes = parse(template)?;
    // every range has its end
    let mut depth = 0i32;
    for n in &nodes {
        match n {
            Node::Range(..) => depth += 1,
            Node::End => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return Err("not in range, nothing to end".into());
        }
    }
    Ok(())
}

/// Executes the template over `values`; `None` when an action fails (nothing is printed).
pub fn execute(template: &str, values: &Yaml) -> Result<Option<String>, String> {
    check(template)?;
    let nodes = parse(template)?;
    let mut out = String::new();
    match run(&nodes, values, values, &mut out) {
        Ok(_) => Ok(Some(out)),
        Err(_) => Ok(None),
    }
}

/// The offset of the `end` closing a range whose body starts at `nodes[0]`.
fn end_of(nodes: &[Node]) -> Result<usize, String> {
    let mut depth = 0;
    for (i, n) in nodes.iter().enumerate() {
        match n {
            Node::Range(..) => depth += 1,
            Node::End if depth == 0 => return Ok(i),
            Node::End => depth -= 1,
            _ => {}
        }
    }
    Err("not in range, nothing to end".into())
}

/// Runs `nodes` with `cur` as `@`.
fn run(nodes: &[Node], root: &Yaml, cur: &Yaml, out: &mut String) -> Result<(), String> {
    let mut i = 0;
    while i < nodes.len() {
        match &nodes[i] {
            Node::Text(t) => out.push_str(t),
            Node::End => return Err("not in range, nothing to end".into()),
            Node::Path(from_root, steps) => {
                let start = if *from_root { root } else { cur };
                let found = eval(root, vec![start], steps)?;
                out.push_str(&found.iter().map(|v| text(v)).collect::<Vec<_>>().join(" "));
            }
            Node::Range(from_root, steps) => {
                let start = if *from_root { root } else { cur };
                let items = eval(root, vec![start], steps)?;
                let len = end_of(&nodes[i + 1..])?;
                let body = &nodes[i + 1..i + 1 + len];
                for it in items {
                    run(body, root, it, out)?;
                }
                i += len + 1;
            }
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals() -> Yaml {
        super::super::yaml::parse(
            "image:\n  repository: nginx\n  tag: \"1.25\"\nreplicas: 3\nratio: 0.5\nports:\n- name: http\n  port: 80\n- name: https\n  port: 443\nempty: {}\nlabels:\n  b: <2>\n  a: x\n",
        )
        .unwrap()
    }

    fn ex(t: &str) -> Option<String> {
        execute(t, &vals()).unwrap()
    }

    #[test]
    fn client_go_templates() {
        assert_eq!(
            ex("{.image.repository}:{.image.tag}").unwrap(),
            "nginx:1.25"
        );
        assert_eq!(ex("{.replicas} {.ratio}").unwrap(), "3 0.5");
        assert_eq!(ex("{.ports[*].port}").unwrap(), "80 443");
        assert_eq!(ex("{.ports[-1].name}").unwrap(), "https");
        assert_eq!(ex("{.ports[0:1].name}").unwrap(), "http");
        assert_eq!(ex("{.ports[?(@.port==443)].name}").unwrap(), "https");
        assert_eq!(ex("{.ports[?(@.name=='http')].port}").unwrap(), "80");
        assert_eq!(ex("{..port}").unwrap(), "80 443");
        assert_eq!(
            ex("{range .ports[*]}{.name}={.port}{\"\\n\"}{end}").unwrap(),
            "http=80\nhttps=443\n"
        );
        assert_eq!(
            ex("{.labels}").unwrap(),
            "{\"a\":\"x\",\"b\":\"\\u003c2\\u003e\"}"
        );
        assert_eq!(ex("{.empty}").unwrap(), "{}");
        assert_eq!(ex("{['image']['tag']}").unwrap(), "1.25");
        assert_eq!(ex("plain text").unwrap(), "plain text");
        // a missing key or an index out of range: nothing at all
        assert_eq!(ex("{.image.tag}{.nope}"), None);
        assert_eq!(ex("{.ports[5]}"), None);
        assert!(check("{.image").is_err());
    }
}
