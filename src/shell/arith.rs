//! `$(( … ))`: integer arithmetic on 64-bit values, variables by name.

pub trait Vars {
    fn get(&self, name: &str) -> Option<String>;
    /// Fails with the message of a read-only variable.
    fn set(&mut self, name: &str, v: String) -> Result<(), String>;
    /// `name[index]`: an associative array's key, else an index evaluated as arithmetic.
    fn elem(&mut self, name: &str, index: &str) -> Result<Option<String>, String>;
}

/// Around the text of an expansion in an arithmetic expression: mvdan evaluates an
/// operand word as one value and never parses it as an expression (`x='1 + 2'`,
/// `$((x*2))` and `$(($x*2))` are both 0).
pub const OPEN: char = '\u{1}';
pub const CLOSE: char = '\u{2}';

struct A<'a, V: Vars> {
    t: Vec<char>,
    i: usize,
    v: &'a mut V,
    depth: usize,
    /// Inside the operand `&&`, `||` or `?:` does not evaluate: no assignment, no error.
    skip: u32,
}

type R = Result<i64, String>;

pub fn eval<V: Vars>(expr: &str, vars: &mut V) -> R {
    eval_depth(expr, vars, 0)
}

fn eval_depth<V: Vars>(expr: &str, vars: &mut V, depth: usize) -> R {
    if depth > 64 {
        return Err("arithmetic recursion too deep".into());
    }
    let mut a = A {
        t: expr.chars().collect(),
        i: 0,
        v: vars,
        depth,
        skip: 0,
    };
    a.ws();
    if a.i >= a.t.len() {
        return Ok(0);
    }
    let r = a.comma()?;
    a.ws();
    if a.i < a.t.len() {
        return Err(format!(
            "arithmetic syntax error near {:?}",
            a.t[a.i..].iter().collect::<String>()
        ));
    }
    Ok(r)
}

/// A variable's value as a number: its text evaluated as an expression.
fn value_of<V: Vars>(v: &mut V, name: &str, depth: usize) -> R {
    let s = v.get(name).unwrap_or_default();
    let _ = depth;
    Ok(operand(v, s))
}

/// mvdan's value of an operand word: a name is followed through the variables (while
/// their values are names), then the text is read as an integer, 0 when it is not one.
fn operand<V: Vars>(v: &mut V, mut s: String) -> i64 {
    for _ in 0..100 {
        if !super::parse::is_name(&s) {
            break;
        }
        match v.get(&s) {
            Some(n) if !n.is_empty() => s = n,
            _ => break,
        }
    }
    number(s.trim()).unwrap_or(0)
}

impl<V: Vars> A<'_, V> {
    fn ws(&mut self) {
        while self.t.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }
    fn eat(&mut self, op: &str) -> bool {
        self.ws();
        let ok = op
            .chars()
            .enumerate()
            .all(|(k, c)| self.t.get(self.i + k) == Some(&c));
        if ok {
            self.i += op.chars().count();
        }
        ok
    }
    /// Eats `op` unless it is the start of a longer operator in `not`.
    fn eat_not(&mut self, op: &str, not: &[&str]) -> bool {
        self.ws();
        let save = self.i;
        for n in not {
            if self.eat(n) {
                self.i = save;
                return false;
            }
        }
        self.eat(op)
    }

    fn comma(&mut self) -> R {
        let mut v = self.assign()?;
        while self.eat(",") {
            v = self.assign()?;
        }
        Ok(v)
    }

    fn assign(&mut self) -> R {
        self.ws();
        let save = self.i;
        if let Some(name) = self.name() {
            self.ws();
            for op in [
                "=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^=",
            ] {
                if op == "=" && self.t.get(self.i + 1) == Some(&'=') {
                    continue;
                }
                if self.eat(op) {
                    let rhs = self.assign()?;
                    let cur = value_of(self.v, &name, self.depth)?;
                    let v = if op == "=" {
                        rhs
                    } else {
                        self.binop(&op[..op.len() - 1], cur, rhs)?
                    };
                    self.set(&name, v)?;
                    return Ok(v);
                }
            }
        }
        self.i = save;
        self.ternary()
    }

    /// Assigns unless in a skipped operand.
    fn set(&mut self, name: &str, v: i64) -> Result<(), String> {
        if self.skip == 0 {
            self.v.set(name, v.to_string())?;
        }
        Ok(())
    }

    /// `binop`, whose errors do not count in a skipped operand.
    fn binop(&self, op: &str, l: i64, r: i64) -> R {
        match binop(op, l, r) {
            Err(_) if self.skip > 0 => Ok(0),
            r => r,
        }
    }

    /// Parses an operand that is only evaluated when `eval`.
    fn lazy(&mut self, eval: bool, f: fn(&mut Self) -> R) -> R {
        if !eval {
            self.skip += 1;
        }
        let r = f(self);
        if !eval {
            self.skip -= 1;
        }
        r
    }

    fn ternary(&mut self) -> R {
        let c = self.bin(0)?;
        if self.eat("?") {
            let a = self.lazy(c != 0, Self::assign)?;
            if !self.eat(":") {
                return Err("expected :".into());
            }
            let b = self.lazy(c == 0, Self::assign)?;
            return Ok(if c != 0 { a } else { b });
        }
        Ok(c)
    }

    fn bin(&mut self, level: usize) -> R {
        const LEVELS: &[&[&str]] = &[
            &["||"],
            &["&&"],
            &["|"],
            &["^"],
            &["&"],
            &["==", "!="],
            &["<=", ">=", "<", ">"],
            &["<<", ">>"],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        if level == LEVELS.len() {
            return self.power();
        }
        let mut l = self.bin(level + 1)?;
        'outer: loop {
            for op in LEVELS[level] {
                let not: &[&str] = match *op {
                    "|" => &["||", "|="],
                    "&" => &["&&", "&="],
                    "<" => &["<<", "<="],
                    ">" => &[">>", ">="],
                    "+" => &["++", "+="],
                    "-" => &["--", "-="],
                    "*" => &["**", "*="],
                    "/" => &["/="],
                    "%" => &["%="],
                    "^" => &["^="],
                    "<<" => &["<<="],
                    ">>" => &[">>="],
                    _ => &[],
                };
                if self.eat_not(op, not) {
                    if *op == "&&" || *op == "||" {
                        // The right operand is only evaluated when it decides.
                        let eval = (*op == "&&") == (l != 0);
                        if eval {
                            l = (self.bin(level + 1)? != 0) as i64;
                        } else {
                            self.skip += 1;
                            let r = self.bin(level + 1);
                            self.skip -= 1;
                            r?;
                            l = (*op == "||") as i64;
                        }
                    } else {
                        let r = self.bin(level + 1)?;
                        l = self.binop(op, l, r)?;
                    }
                    continue 'outer;
                }
            }
            return Ok(l);
        }
    }

    fn power(&mut self) -> R {
        let b = self.unary()?;
        if self.eat_not("**", &["**="]) {
            let e = self.power()?;
            if e < 0 && self.skip == 0 {
                return Err("exponent less than 0".into());
            }
            return Ok(b.wrapping_pow(e.clamp(0, u32::MAX as i64) as u32));
        }
        Ok(b)
    }

    fn unary(&mut self) -> R {
        self.ws();
        for op in ["++", "--"] {
            if self.eat(op) {
                self.ws();
                let name = self.name().ok_or("expected a variable")?;
                let v = value_of(self.v, &name, self.depth)? + if op == "++" { 1 } else { -1 };
                self.set(&name, v)?;
                return Ok(v);
            }
        }
        if self.eat("!") {
            return Ok((self.unary()? == 0) as i64);
        }
        if self.eat("~") {
            return Ok(!self.unary()?);
        }
        if self.eat("-") {
            return Ok(self.unary()?.wrapping_neg());
        }
        if self.eat("+") {
            return self.unary();
        }
        self.primary()
    }

    fn name(&mut self) -> Option<String> {
        let st = self.i;
        if self
            .t
            .get(self.i)
            .is_some_and(|c| *c == '_' || c.is_ascii_alphabetic())
        {
            while self
                .t
                .get(self.i)
                .is_some_and(|c| *c == '_' || c.is_ascii_alphanumeric())
            {
                self.i += 1;
            }
            return Some(self.t[st..self.i].iter().collect());
        }
        None
    }

    fn primary(&mut self) -> R {
        self.ws();
        if self.eat("(") {
            let v = self.comma()?;
            if !self.eat(")") {
                return Err("expected )".into());
            }
            return Ok(v);
        }
        if let Some(name) = self.name() {
            if self.t.get(self.i) == Some(&'[') {
                // An array element (`a[1]`, `m[k]`): the index up to its `]`.
                let st = self.i + 1;
                let mut depth = 0;
                let mut k = st;
                while let Some(c) = self.t.get(k) {
                    match c {
                        '[' => depth += 1,
                        ']' if depth == 0 => break,
                        ']' => depth -= 1,
                        _ => {}
                    }
                    k += 1;
                }
                if k < self.t.len() {
                    let index: String = self.t[st..k].iter().collect();
                    self.i = k + 1;
                    let v = self.v.elem(&name, &index)?.unwrap_or_default();
                    return Ok(operand(self.v, v));
                }
            }
            let v = value_of(self.v, &name, self.depth)?;
            for op in ["++", "--"] {
                if self.eat(op) {
                    let n = v + if op == "++" { 1 } else { -1 };
                    self.set(&name, n)?;
                    return Ok(v);
                }
            }
            return Ok(v);
        }
        if self.t.get(self.i).is_some_and(|c| {
            c.is_ascii_alphanumeric() || matches!(*c, '#' | '@' | '_' | OPEN | '"' | '\'')
        }) {
            // One operand word: a number, quoted text and expansions, joined (`1$x`,
            // `"1"`).
            let mut w = String::new();
            while let Some(&c) = self.t.get(self.i) {
                let close = match c {
                    OPEN => CLOSE,
                    '"' | '\'' => c,
                    c if c.is_ascii_alphanumeric() || matches!(c, '#' | '@' | '_') => {
                        w.push(c);
                        self.i += 1;
                        continue;
                    }
                    _ => break,
                };
                self.i += 1;
                while let Some(&d) = self.t.get(self.i) {
                    self.i += 1;
                    if d == close {
                        break;
                    }
                    if d != OPEN && d != CLOSE {
                        w.push(d);
                    }
                }
            }
            return Ok(operand(self.v, w));
        }
        Err("arithmetic syntax error: operand expected".into())
    }
}

/// mvdan's `atoi`: bash's base prefixes (`0x`, leading `0` octal, `BASE#digits` up to 64),
/// and errors ignored as strconv.ParseInt leaves them: bad digits are 0, a number too
/// large for 64 bits saturates.
fn number(s: &str) -> Option<i64> {
    let mut s = s.trim();
    let mut neg = false;
    if let Some(r) = s.strip_prefix('+') {
        s = r;
    } else if let Some(r) = s.strip_prefix('-') {
        neg = true;
        s = r;
    }
    let mut base: u32 = 10;
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        base = 16;
        s = h;
    } else if let Some(o) = s.strip_prefix('0') {
        base = 8;
        s = o;
    } else if let Some((b, d)) = s.split_once('#') {
        match b.parse::<u32>() {
            Ok(b) if (2..=64).contains(&b) => {
                base = b;
                s = d;
            }
            _ => return Some(0),
        }
    }
    let n = if base > 36 {
        let mut n: i64 = 0;
        for c in s.chars() {
            let d = match c {
                '0'..='9' => c as i64 - '0' as i64,
                'a'..='z' => c as i64 - 'a' as i64 + 10,
                'A'..='Z' => c as i64 - 'A' as i64 + 36,
                '@' => 62,
                '_' => 63,
                _ => return Some(0),
            };
            if d >= base as i64 {
                return Some(0);
            }
            n = n.wrapping_mul(base as i64).wrapping_add(d);
        }
        n
    } else if s.is_empty() {
        0
    } else {
        match i64::from_str_radix(s, base) {
            Ok(n) => n,
            Err(e) => match e.kind() {
                std::num::IntErrorKind::PosOverflow => i64::MAX,
                std::num::IntErrorKind::NegOverflow => i64::MIN,
                _ => 0,
            },
        }
    };
    Some(if neg { n.wrapping_neg() } else { n })
}

fn binop(op: &str, l: i64, r: i64) -> R {
    Ok(match op {
        "+" => l.wrapping_add(r),
        "-" => l.wrapping_sub(r),
        "*" => l.wrapping_mul(r),
        "/" | "%" if r == 0 => return Err("division by zero".into()),
        "/" => l.wrapping_div(r),
        "%" => l.wrapping_rem(r),
        // Go's shifts by a count converted to uint: 64 or more (or negative) shifts all out.
        "<<" if !(0..64).contains(&r) => 0,
        ">>" if !(0..64).contains(&r) => (l < 0) as i64 * -1,
        "<<" => l << r,
        ">>" => l >> r,
        "&" => l & r,
        "|" => l | r,
        "^" => l ^ r,
        "==" => (l == r) as i64,
        "!=" => (l != r) as i64,
        "<" => (l < r) as i64,
        "<=" => (l <= r) as i64,
        ">" => (l > r) as i64,
        ">=" => (l >= r) as i64,
        _ => return Err(format!("unknown operator {op}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    impl Vars for HashMap<String, String> {
        fn get(&self, n: &str) -> Option<String> {
            HashMap::get(self, n).cloned()
        }
        fn set(&mut self, n: &str, v: String) -> Result<(), String> {
            self.insert(n.into(), v);
            Ok(())
        }
        fn elem(&mut self, _: &str, _: &str) -> Result<Option<String>, String> {
            Ok(None)
        }
    }

    #[test]
    fn arithmetic() {
        let mut v: HashMap<String, String> = HashMap::new();
        v.insert("x".into(), "41".into());
        assert_eq!(eval("x+1", &mut v), Ok(42));
        assert_eq!(eval("2*3+4", &mut v), Ok(10));
        assert_eq!(eval("(1+2)*3 - -1", &mut v), Ok(10));
        assert_eq!(eval("y=5, y*2", &mut v), Ok(10));
        assert_eq!(eval("x++", &mut v), Ok(41));
        assert_eq!(eval("x", &mut v), Ok(42));
        assert_eq!(eval("1 < 2 && 3 >= 3", &mut v), Ok(1));
        assert_eq!(eval("7 % 3 ? 0x10 : 010", &mut v), Ok(16));
        assert_eq!(eval("2**10", &mut v), Ok(1024));
        assert!(eval("1/0", &mut v).is_err());
    }
}
