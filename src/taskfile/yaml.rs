//! YAML → a node tree that keeps positions, with anchors, aliases and merge keys (`<<`)
//! resolved. Scalars resolve to typed values the way go-yaml v3 decodes into `interface{}`.

use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;
use thiserror::Error;

use crate::template::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// 1-based line and column of the node's start.
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar; `plain` is false for quoted and block scalars (they are always strings).
    Scalar {
        text: String,
        plain: bool,
        tag: Option<String>,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// `line` 0: go-yaml gives no line (an unknown anchor is found while decoding).
#[derive(Debug, Error, Clone, PartialEq)]
#[error("yaml: {}{msg}", if *line == 0 { String::new() } else { format!("line {line}: ") })]
pub struct YamlError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

/// Parses the first document of `src`. An empty document is a null scalar.
pub fn parse(src: &str) -> Result<Node, YamlError> {
    // go-yaml checks no indentation inside flow collections or quoted scalars; YAML 1.2,
    // which the parser here follows, does. A line it refuses there is shifted right (its
    // leading blanks mean nothing in those contexts) and the text parsed again; nodes on
    // a shifted line keep their own columns.
    let mut text = std::borrow::Cow::Borrowed(src);
    let mut shifts: HashMap<usize, usize> = HashMap::new();
    let width = src.lines().map(|l| l.chars().count()).max().unwrap_or(0) + 1;
    loop {
        let (err, retry) = match parse_once(&text, &shifts) {
            Ok(node) => return Ok(node),
            Err(e) => e,
        };
        let Some((info, index, line)) = retry else {
            return Err(err);
        };
        let lines = match info.as_str() {
            "invalid indentation in quoted scalar" => quoted_lines(&text, index),
            "invalid indentation in flow construct" => vec![line],
            "invalid indentation" if line > 1 && in_flow_at(&text, line) => vec![line],
            _ => vec![],
        };
        let lines: Vec<usize> = lines
            .into_iter()
            .filter(|l| !shifts.contains_key(l))
            .collect();
        // Bounded: each line is shifted at most once.
        if lines.is_empty() {
            return Err(err);
        }
        let mut out = String::with_capacity(text.len() + width * lines.len());
        for (i, l) in text.split_inclusive('\n').enumerate() {
            if lines.contains(&(i + 1)) {
                out.extend(std::iter::repeat_n(' ', width));
            }
            out.push_str(l);
        }
        for l in lines {
            shifts.insert(l, width);
        }
        text = std::borrow::Cow::Owned(out);
    }
}

/// The lines after the first of the quoted scalar that starts at char `index`.
fn quoted_lines(text: &str, index: usize) -> Vec<usize> {
    let mut chars = text.chars().skip(index);
    let Some(q) = chars.next() else {
        return vec![];
    };
    let line0 = text.chars().take(index).filter(|c| *c == '\n').count() + 1;
    let (mut lines, mut line) = (vec![], line0);
    while let Some(c) = chars.next() {
        match c {
            '\\' if q == '"' => {
                if chars.next() == Some('\n') {
                    line += 1;
                    lines.push(line);
                }
            }
            '\n' => {
                line += 1;
                lines.push(line);
            }
            c if c == q => break,
            _ => {}
        }
    }
    lines
}

/// Whether 1-based `line` starts inside a flow collection: the text before it, parsed
/// alone, leaves a bracketed collection open.
fn in_flow_at(text: &str, line: usize) -> bool {
    let prefix: String = text.split_inclusive('\n').take(line - 1).collect();
    let chars: Vec<char> = prefix.chars().collect();
    let mut open: Vec<bool> = vec![];
    for ev in Parser::new_from_str(&prefix) {
        let Ok((ev, span)) = ev else { break };
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let c = chars.get(span.start.index()).copied();
                open.push(matches!(c, Some('[' | '{')));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                open.pop();
            }
            _ => {}
        }
    }
    open.contains(&true)
}

/// One parse of `src`; an error comes with saphyr's own wording, char index and line
/// when it is an indentation error go-yaml might not make.
#[allow(clippy::type_complexity)]
fn parse_once(
    src: &str,
    shifts: &HashMap<usize, usize>,
) -> Result<Node, (YamlError, Option<(String, usize, usize)>)> {
    let unshift = |line: usize, col: usize| {
        col.saturating_sub(shifts.get(&line).copied().unwrap_or(0))
            .max(1)
    };
    let mut builder = Builder::default();
    let last_line = src.lines().count();
    // Open collections (in flow context, its bracket if it has one, 1-based line), kept
    // only when the file has flow syntax, where go-yaml's scanner departs from YAML 1.2.
    let flow_chars: Option<Vec<char>> =
        (src.contains('[') || src.contains('{')).then(|| src.chars().collect());
    let mut flows: Vec<(bool, Option<char>, usize)> = vec![];
    let mut events = Parser::new_from_str(src).peekable();
    while let Some(ev) = events.next() {
        // This scalar's text takes the `:` after it (go-yaml's plain scalar, below).
        let mut colon_key = false;
        let (ev, span) = ev.map_err(|e| {
            let retry = e
                .info()
                .starts_with("invalid indentation")
                .then(|| (e.info().to_string(), e.marker().index(), e.marker().line()));
            (yaml_error(&e, src, &builder, last_line, shifts), retry)
        })?;
        let (line, col) = (span.start.line(), span.start.col() + 1);
        let col = unshift(line, col);
        // A block scalar that ends the file without a final line break has none (go-yaml);
        // the parser here gives it one.
        let ev = match ev {
            Event::Scalar(text, style @ (ScalarStyle::Literal | ScalarStyle::Folded), a, t)
                if !src.ends_with('\n') && text.ends_with('\n') && span.end.line() >= last_line =>
            {
                let mut text = text.into_owned();
                text.pop();
                Event::Scalar(text.into(), style, a, t)
            }
            other => other,
        };
        if let Some(chars) = &flow_chars {
            // go-yaml's plain scalar ends at `:` only before a blank, so in flow context
            // `a:,` / `a:]` / `a:}` is the scalar `a:`; YAML 1.2 (saphyr) reads a key `a`
            // with no value. In a sequence saphyr builds the pair `{a: null}`: that
            // mapping becomes the one scalar `a:`.
            let colon_after = |end: usize| {
                chars.get(end) == Some(&':') && matches!(chars.get(end + 1), Some(',' | ']' | '}'))
            };
            if let Event::MappingStart(..) = &ev {
                let implicit_pair = flows.last().is_some_and(|f| f.0)
                    && !matches!(chars.get(span.start.index()), Some('[' | '{'));
                if implicit_pair {
                    if let Some(Ok((Event::Scalar(key, ScalarStyle::Plain, _, _), kspan))) =
                        events.peek()
                    {
                        if colon_after(kspan.end.index()) {
                            let text = format!("{key}:");
                            events.next();
                            // The empty value and the end of the pair.
                            events.next();
                            events.next();
                            builder
                                .event(
                                    Event::Scalar(text.into(), ScalarStyle::Plain, 0, None),
                                    line,
                                    col,
                                )
                                .map_err(|e| (e, None))?;
                            continue;
                        }
                    }
                }
            }
            if let Event::Scalar(text, ScalarStyle::Plain, _, _) = &ev {
                // (An empty value saphyr adds after `a:` ends where the key ends.)
                if !text.is_empty()
                    && flows.last().is_some_and(|f| f.0 && f.1 == Some('{'))
                    && colon_after(span.end.index())
                {
                    colon_key = true;
                }
            }
            match &ev {
                Event::SequenceStart(..) | Event::MappingStart(..) => {
                    let c = chars.get(span.start.index()).copied();
                    let bracket = c.filter(|c| *c == '[' || *c == '{');
                    let in_flow = bracket.is_some() || flows.last().is_some_and(|f| f.0);
                    flows.push((in_flow, bracket, line));
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    flows.pop();
                }
                Event::Scalar(text, ScalarStyle::Plain, _, _)
                    if flows.last().is_some_and(|f| f.0) =>
                {
                    let start = span.start.index();
                    let end = span.end.index().min(chars.len());
                    if go_yaml_flow_scalar(
                        &mut builder,
                        &flows,
                        &chars[start..end],
                        text,
                        line,
                        col,
                    )
                    .map_err(|e| (e, None))?
                    {
                        continue;
                    }
                }
                _ => {}
            }
        }
        let ev = match ev {
            Event::Scalar(text, style, a, t) if colon_key => {
                Event::Scalar(format!("{text}:").into(), style, a, t)
            }
            other => other,
        };
        match ev {
            Event::DocumentEnd => break,
            other => builder.event(other, line, col).map_err(|e| (e, None))?,
        }
    }
    Ok(builder.root.unwrap_or(Node {
        kind: NodeKind::Scalar {
            text: String::new(),
            plain: true,
            tag: None,
        },
        line: 1,
        col: 1,
    }))
}

/// go-yaml's message and line for a parse error.
fn yaml_error(
    e: &saphyr_parser::ScanError,
    src: &str,
    builder: &Builder,
    last_line: usize,
    shifts: &HashMap<usize, usize>,
) -> YamlError {
    let mut err = (|| {
        if e.info().ends_with("found unknown anchor") {
            // go-yaml names the anchor, without a line: `unknown anchor 'x' referenced`.
            let at: String = src.chars().skip(e.marker().index()).collect();
            let name: String = at
                .trim_start_matches('*')
                .chars()
                .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
                .collect();
            return YamlError {
                line: 0,
                col: e.marker().col() + 1,
                msg: format!("unknown anchor '{name}' referenced"),
            };
        }
        let (msg, parser_error) = go_yaml_message(e.info());
        // A key spread over lines inside a flow sequence (`[a\n b: c]`): saphyr's scanner
        // refuses the implicit pair; libyaml's parser finds no `,` or `]` after the
        // entry, at the sequence's start (or, on the first line, the `:`).
        if msg == "illegal placement of ':' indicator" {
            let open = builder
                .stack
                .last()
                .map_or(0, |(n, _)| n.line.saturating_sub(1));
            return YamlError {
                line: if open != 0 {
                    open
                } else {
                    e.marker().line().saturating_sub(1)
                },
                col: e.marker().col() + 1,
                msg: "did not find expected ',' or ']'".into(),
            };
        }
        // go-yaml reports a parser error at its context mark (the open block's start,
        // printed 0-based) and a scanner error at its 1-based line; libyaml's "node
        // content" error has the token it found as its context (printed 0-based).
        let line = match (parser_error, builder.stack.last()) {
            (true, _) if msg == "did not find expected node content" => {
                e.marker().line().saturating_sub(1)
            }
            (true, Some((open, _))) => open.line.saturating_sub(1),
            // At the end of a file without a final line break libyaml's mark stays on
            // the last line.
            _ if e.marker().index() >= src.chars().count() && !src.ends_with('\n') => {
                e.marker().line().min(last_line.max(1))
            }
            _ => e.marker().line(),
        };
        YamlError {
            line,
            col: e.marker().col() + 1,
            msg,
        }
    })();
    err.col = err
        .col
        .saturating_sub(shifts.get(&e.marker().line()).copied().unwrap_or(0))
        .max(1);
    err
}

/// go-yaml v3.0.4's scanner in flow context, where it departs from YAML 1.2 (which the
/// parser here follows): `?` always ends a plain scalar and starts an explicit key, and a
/// plain scalar may not start with `?` or `:` (both are indicators there). `source` is the
/// scalar's text in the file. Returns true when it pushed the node(s) go-yaml would build
/// itself, an error where go-yaml refuses the document, false when nothing differs.
fn go_yaml_flow_scalar(
    builder: &mut Builder,
    flows: &[(bool, Option<char>, usize)],
    source: &[char],
    text: &str,
    line: usize,
    col: usize,
) -> Result<bool, YamlError> {
    let first = source.first().copied();
    if !matches!(first, Some('?' | ':')) && !source.contains(&'?') {
        return Ok(false);
    }
    // A parser error's line is its context mark, printed 0-based; on the first line,
    // the problem mark (the offending token, also 0-based); none when that is 0 too.
    let line_at =
        |offset: usize| line - 1 + source[..offset].iter().filter(|c| **c == '\n').count();
    let node_content = || YamlError {
        line: line - 1,
        col,
        msg: "did not find expected node content".into(),
    };
    let in_key = matches!(
        builder.stack.last(),
        Some((
            Node {
                kind: NodeKind::Map(_),
                ..
            },
            _
        ))
    ) && builder.pending_key.last().is_some_and(|k| k.is_none());
    let in_entry = matches!(
        builder.stack.last(),
        Some((
            Node {
                kind: NodeKind::Seq(_),
                ..
            },
            _
        ))
    );
    let skip = usize::from(first == Some('?'));
    if first == Some(':') || (first == Some('?') && !in_key && !in_entry) {
        return Err(node_content());
    }
    // `?` inside the scalar: go-yaml ends the scalar there, and a key indicator after a
    // node is not the `,` or closing bracket the innermost flow collection expects.
    if let Some(p) = source.iter().skip(skip).position(|c| *c == '?') {
        let p = p + skip;
        let (close, ctx_line) = flows
            .iter()
            .rev()
            .find_map(|f| f.1.map(|b| (if b == '[' { ']' } else { '}' }, f.2 - 1)))
            .unwrap_or((']', 0));
        return Err(YamlError {
            line: if ctx_line != 0 { ctx_line } else { line_at(p) },
            col,
            msg: format!("did not find expected ',' or '{close}'"),
        });
    }
    // `?x` is an explicit key `x`: a key as it stands, in a sequence a one-pair mapping.
    let rest = Event::Scalar(text[1..].to_string().into(), ScalarStyle::Plain, 0, None);
    if in_key {
        builder.event(rest, line, col + 1)?;
    } else {
        builder.event(Event::MappingStart(0, None), line, col)?;
        builder.event(rest, line, col + 1)?;
        let null = Event::Scalar(String::new().into(), ScalarStyle::Plain, 0, None);
        builder.event(null, line, col + 1)?;
        builder.event(Event::MappingEnd, line, col)?;
    }
    Ok(true)
}

/// libyaml's wording without its context part, which go-yaml drops; tells whether
/// it was a parser (rather than scanner) error.
fn go_yaml_message(info: &str) -> (String, bool) {
    let parser_error = info.starts_with("while parsing");
    let msg = match info.split_once(", ") {
        Some((ctx, problem)) if ctx.starts_with("while ") => problem.to_string(),
        _ => info.to_string(),
    };
    // Where saphyr's wording differs from libyaml's (which go-yaml prints), libyaml's.
    let msg = match msg.as_str() {
        "expected ',' or ']'" => "did not find expected ',' or ']'".to_string(),
        "expected ',' or '}'" => "did not find expected ',' or '}'".to_string(),
        "simple key expect ':'" | "simple key expected" => {
            "could not find expected ':'".to_string()
        }
        m if m.starts_with("unexpected character: ") || m.starts_with("tabs disallowed") => {
            "found character that cannot start any token".to_string()
        }
        _ => msg,
    };
    (msg, parser_error)
}

/// go-yaml v3's message when alias expansion exceeds its budget.
pub const EXCESSIVE_ALIASING: &str = "document contains excessive aliasing";

/// go-yaml v3's alias budget (decode.go `allowedAliasRatio`): the share of decode
/// operations that may come from alias expansion, 99% for documents up to 400,000
/// operations, falling linearly to 10% at 4,000,000.
pub fn allowed_alias_ratio(decode_count: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    if decode_count <= LOW {
        0.99
    } else if decode_count >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decode_count - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

/// go-yaml v3's check, made before an alias is expanded: more than 100 alias-driven
/// decodes, more than 1,000 decodes in all, and a ratio above the allowed one.
pub fn excessive_aliasing(decode_count: u64, alias_count: u64) -> bool {
    alias_count > 100
        && decode_count > 1000
        && alias_count as f64 / decode_count as f64 > allowed_alias_ratio(decode_count)
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Node, usize)>, // container under construction + its anchor id
    /// `decode_count` when each open container started.
    starts: Vec<u64>,
    pending_key: Vec<Option<Node>>,
    /// Per open mapping: the line of each string key seen so far (duplicate check in O(1)).
    anchors: HashMap<usize, Node>,
    /// Decode operations one expansion of each anchor costs (go-yaml counts every node
    /// it visits, an alias as 1 plus its target).
    anchor_cost: HashMap<usize, u64>,
    decode_count: u64,
    alias_count: u64,
    root: Option<Node>,
}

impl Builder {
    fn event(&mut self, ev: Event, line: usize, col: usize) -> Result<(), YamlError> {
        match &ev {
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) => {
                self.decode_count += 1;
            }
            Event::Alias(id) => {
                let cost = self.anchor_cost.get(id).copied().unwrap_or(1);
                let decodes = self.decode_count + 1 + cost;
                let aliases = self.alias_count + cost;
                if excessive_aliasing(decodes, aliases) {
                    // Reported where the enclosing collection starts (go-task points at
                    // the value it was decoding).
                    let (line, col) = self
                        .stack
                        .last()
                        .map(|(n, _)| (n.line, n.col))
                        .unwrap_or((line, col));
                    return Err(YamlError {
                        line,
                        col,
                        msg: EXCESSIVE_ALIASING.into(),
                    });
                }
                self.decode_count = decodes;
                self.alias_count = aliases;
            }
            _ => {}
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    kind: NodeKind::Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                        tag: tag.map(|t| format!("{}{}", t.handle, t.suffix)),
                    },
                    line,
                    col,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                    self.anchor_cost.insert(anchor, 1);
                }
                self.push(node)?;
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    line,
                    col,
                    msg: "unknown anchor referenced".into(),
                })?;
                self.push(node)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.starts.push(self.decode_count - 1);
                self.stack.push((
                    Node {
                        kind: NodeKind::Seq(vec![]),
                        line,
                        col,
                    },
                    anchor,
                ));
            }
            Event::MappingStart(anchor, _) => {
                self.starts.push(self.decode_count - 1);
                self.stack.push((
                    Node {
                        kind: NodeKind::Map(vec![]),
                        line,
                        col,
                    },
                    anchor,
                ));
                self.pending_key.push(None);
            }
            Event::SequenceEnd => {
                let (node, anchor) = self.stack.pop().expect("balanced events");
                let start = self.starts.pop().unwrap_or(0);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                    self.anchor_cost.insert(anchor, self.decode_count - start);
                }
                self.push(node)?;
            }
            Event::MappingEnd => {
                let (mut node, anchor) = self.stack.pop().expect("balanced events");
                let start = self.starts.pop().unwrap_or(0);
                self.pending_key.pop();
                resolve_merge(&mut node)?;
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                    self.anchor_cost.insert(anchor, self.decode_count - start);
                }
                self.push(node)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, node: Node) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some((
                Node {
                    kind: NodeKind::Seq(items),
                    ..
                },
                _,
            )) => items.push(node),
            Some((
                Node {
                    kind: NodeKind::Map(entries),
                    ..
                },
                _,
            )) => {
                let slot = self.pending_key.last_mut().expect("map has key slot");
                match slot.take() {
                    None => *slot = Some(node),
                    Some(key) => {
                        // Duplicate keys are go-yaml's decoding concern, not the parser's:
                        // only a mapping decoded into a struct refuses them (decode.rs);
                        // go-task's vars, tasks and includes take the last one.
                        entries.push((key, node));
                    }
                }
            }
            Some(_) => unreachable!("only containers are on the stack"),
        }
        Ok(())
    }
}

/// Applies YAML merge keys: entries from `<<: *a` or `<<: [*a, *b]` fill in keys the
/// mapping does not set itself (explicit keys win, earlier merge sources win).
fn resolve_merge(node: &mut Node) -> Result<(), YamlError> {
    let NodeKind::Map(entries) = &mut node.kind else {
        return Ok(());
    };
    if !entries.iter().any(|(k, _)| k.is_merge_key()) {
        return Ok(());
    }
    let mut explicit = Vec::new();
    let mut merged: Vec<(Node, Node)> = Vec::new();
    for (k, v) in std::mem::take(entries) {
        if !k.is_merge_key() {
            explicit.push((k, v));
            continue;
        }
        let sources = match v.kind {
            NodeKind::Map(m) => vec![m],
            NodeKind::Seq(items) => {
                let mut out = vec![];
                for it in items {
                    match it.kind {
                        NodeKind::Map(m) => out.push(m),
                        _ => {
                            return Err(YamlError {
                                line: it.line,
                                col: it.col,
                                msg: "map merge requires map or sequence of maps as the value"
                                    .into(),
                            })
                        }
                    }
                }
                out
            }
            _ => {
                return Err(YamlError {
                    line: v.line,
                    col: v.col,
                    msg: "map merge requires map or sequence of maps as the value".into(),
                })
            }
        };
        for src in sources {
            for (mk, mv) in src {
                if !merged.iter().any(|(k2, _)| k2.same_key(&mk)) {
                    merged.push((mk, mv));
                }
            }
        }
    }
    let mut out: Vec<(Node, Node)> = merged
        .into_iter()
        .filter(|(mk, _)| !explicit.iter().any(|(ek, _)| ek.same_key(mk)))
        .collect();
    out.extend(explicit);
    *entries = out;
    Ok(())
}

impl Node {
    /// The text of a scalar node (any style).
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    fn is_merge_key(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true, .. } if text == "<<")
    }

    fn same_key(&self, other: &Node) -> bool {
        self.as_str().is_some() && self.as_str() == other.as_str()
    }

    pub fn is_null(&self) -> bool {
        matches!(self.to_value(), Value::Nil) && matches!(self.kind, NodeKind::Scalar { .. })
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } => match self.to_value() {
                Value::Nil => "null",
                Value::Bool(_) => "!!bool",
                Value::Int(_) | Value::Uint(_) => "!!int",
                Value::Float(_) => "!!float",
                _ => "!!str",
            },
            NodeKind::Seq(_) => "!!seq",
            NodeKind::Map(_) => "!!map",
        }
    }

    /// The node as a go-task value (go-yaml v3 decoding into `interface{}`).
    pub fn to_value(&self) -> Value {
        match &self.kind {
            NodeKind::Scalar { text, plain, tag } => scalar_value(text, *plain, tag.as_deref()),
            NodeKind::Seq(items) => Value::List(items.iter().map(Node::to_value).collect()),
            NodeKind::Map(entries) => {
                let keys: Vec<Value> = entries.iter().map(|(k, _)| k.to_value()).collect();
                // Any non-string key makes go-yaml decode a map[interface{}]interface{}.
                if keys.iter().any(|k| !matches!(k, Value::Str(_))) {
                    return Value::AnyMap(
                        keys.into_iter()
                            .zip(entries.iter().map(|(_, v)| v.to_value()))
                            .collect(),
                    );
                }
                let mut m = Map::new();
                for (k, (_, v)) in keys.into_iter().zip(entries) {
                    if let Value::Str(k) = k {
                        m.insert(k, v.to_value());
                    }
                }
                Value::Map(m.into())
            }
        }
    }
}

/// go-yaml v3's resolution of a scalar (YAML 1.2 core schema plus its extras).
pub fn scalar_value(text: &str, plain: bool, tag: Option<&str>) -> Value {
    match tag.map(|t| {
        t.trim_start_matches("tag:yaml.org,2002:")
            .trim_start_matches("!!")
    }) {
        Some("str") => return Value::Str(text.to_string()),
        Some("float") => {
            if let Some(f) = match scalar_value(text, true, None) {
                Value::Int(i) => Some(i as f64),
                Value::Uint(u) => Some(u as f64),
                Value::Float(f) => Some(f),
                _ => None,
            } {
                return Value::Float(f);
            }
        }
        Some("int") | Some("bool") | Some("null") => return scalar_value(text, true, None),
        _ => {}
    }
    if !plain {
        return Value::Str(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Nil,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
        if let Some(v) = parse_int(text) {
            return v;
        }
        let plain_num = text.replace('_', "");
        if is_yaml_float(&plain_num) {
            if let Ok(f) = plain_num.parse::<f64>() {
                return Value::Float(f);
            }
        }
    }
    Value::Str(text.to_string())
}

fn parse_int(text: &str) -> Option<Value> {
    let (neg, body) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let body = body.replace('_', "");
    if body.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = body.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = body.strip_prefix("0b") {
        (2, d.to_string())
    } else if body.len() > 1 && body.starts_with('0') && body.bytes().all(|b| b.is_ascii_digit()) {
        (8, body[1..].to_string())
    } else {
        (10, body.clone())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u128::from_str_radix(&digits, radix).ok();
    match mag {
        Some(m) if !neg && m <= i64::MAX as u128 => Some(Value::Int(m as i64)),
        Some(m) if neg && m <= (i64::MAX as u128) + 1 => {
            Some(Value::Int((m as i128).wrapping_neg() as i64))
        }
        Some(m) if !neg && m <= u64::MAX as u128 => Some(Value::Uint(m as u64)),
        _ if radix == 10 => text.replace('_', "").parse::<f64>().ok().map(Value::Float),
        _ => None,
    }
}

fn is_yaml_float(s: &str) -> bool {
    // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == fs {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let es = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Billion laughs": 9 levels of 9 aliases each would expand to 9^9 scalars.
    pub(crate) fn alias_bomb(levels: usize) -> String {
        let mut s = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..levels {
            s.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                vec![format!("*a{}", i - 1); 9].join(", ")
            ));
        }
        s
    }

    #[test]
    fn alias_bombs_are_refused_before_expanding() {
        let t = std::time::Instant::now();
        let e = parse(&alias_bomb(9)).unwrap_err();
        assert!(
            e.msg == EXCESSIVE_ALIASING && (e.line, e.col) == (4, 5),
            "{e:?}"
        );
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        // three levels (910 decodes) stay under go-yaml's 1,000-decode floor
        assert!(parse(&alias_bomb(3)).is_ok());
    }

    #[test]
    fn ordinary_aliasing_is_allowed() {
        // many aliases, but most of the document is its own content
        let mut s = String::from("base: &b {x: 1, y: 2}\n");
        for i in 0..2000 {
            s.push_str(&format!("k{i}: {{v: {i}, w: *b}}\n"));
        }
        assert!(parse(&s).is_ok());
    }

    #[test]
    fn merge_keys_explicit_wins() {
        let n = parse("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n").unwrap();
        let v = n.to_value();
        let Value::Map(m) = v else { panic!() };
        let Value::Map(x) = &m["x"] else { panic!() };
        assert_eq!(x["a"], Value::Int(1));
        assert_eq!(x["b"], Value::Int(3));
    }

    #[test]
    fn scalars_resolve_like_go_yaml() {
        assert_eq!(scalar_value("0x1F", true, None), Value::Int(31));
        assert_eq!(scalar_value("yes", true, None), Value::str("yes"));
        assert_eq!(scalar_value("True", true, None), Value::Bool(true));
        assert_eq!(scalar_value("1.0", true, None), Value::Float(1.0));
        assert_eq!(scalar_value("1e6", true, None), Value::Float(1e6));
        assert_eq!(scalar_value("'3'", false, None), Value::str("'3'"));
        assert_eq!(
            scalar_value("18446744073709551615", true, None),
            Value::Uint(u64::MAX)
        );
    }

    #[test]
    fn positions_are_one_based() {
        let n = parse("a:\n  b: 1\n").unwrap();
        let NodeKind::Map(e) = &n.kind else { panic!() };
        let NodeKind::Map(inner) = &e[0].1.kind else {
            panic!()
        };
        assert_eq!((inner[0].0.line, inner[0].0.col), (2, 3));
    }

    #[test]
    fn block_scalar_at_eof_without_line_break_has_none() {
        let n = parse("a: |\n  x\n  y").unwrap();
        let NodeKind::Map(e) = &n.kind else { panic!() };
        let NodeKind::Scalar { text, .. } = &e[0].1.kind else {
            panic!()
        };
        assert_eq!(text, "x\ny");
        let n = parse("a: |\n  x\n  y\n").unwrap();
        let NodeKind::Map(e) = &n.kind else { panic!() };
        let NodeKind::Scalar { text, .. } = &e[0].1.kind else {
            panic!()
        };
        assert_eq!(text, "x\ny\n");
    }

    #[test]
    fn parser_errors_report_go_yaml_context_line() {
        // go-yaml names the 0-based line where the open block mapping began.
        let src = "version: '3'\ntasks:\n  a:\n    cmds:\n      - echo a\n     bad-indent: true\n";
        let e = parse(src).unwrap_err();
        assert_eq!(e.to_string(), "yaml: line 3: did not find expected key");
    }
}
