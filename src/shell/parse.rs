//! Parser for the shell subset. Anything outside the subset is reported as
//! [`ParseError::Unsupported`] before a single command runs, so the caller can hand the
//! whole script to bash instead.

use super::ast::*;
use std::sync::{Arc, OnceLock};

#[derive(Debug)]
pub enum ParseError {
    /// A construct the interpreter does not implement.
    Unsupported(String),
    /// Not valid shell: left to bash, which reports it.
    Syntax(String),
}

type R<T> = Result<T, ParseError>;

fn unsupported<T>(what: &str) -> R<T> {
    Err(ParseError::Unsupported(what.to_string()))
}

fn syntax<T>(what: &str) -> R<T> {
    Err(ParseError::Syntax(what.to_string()))
}

/// Builtins and keywords the interpreter does not implement: a script naming one of them
/// literally runs in bash.
const UNSUPPORTED_NAMES: &[&str] = &[
    "trap",
    "wait",
    "jobs",
    "fg",
    "bg",
    "source",
    ".",
    "alias",
    "unalias",
    "declare",
    "typeset",
    "readonly",
    "let",
    "ulimit",
    "umask",
    "getopts",
    "shopt",
    "select",
    "time",
    "coproc",
    "function",
    "((",
    "mapfile",
    "readarray",
    "disown",
    "suspend",
    "hash",
    "builtin",
    "enable",
    "caller",
    "complete",
    "compgen",
    "dirs",
    "pushd",
    "popd",
    "history",
    "fc",
    "logout",
    "times",
];

const RESERVED: &[&str] = &[
    "if", "then", "elif", "else", "fi", "while", "until", "do", "done", "for", "in", "case",
    "esac", "{", "}", "!",
];

struct Pending {
    delim: String,
    quoted: bool,
    strip_tabs: bool,
    slot: Arc<OnceLock<Word>>,
}

pub struct Parser {
    s: Vec<char>,
    i: usize,
    pending: Vec<Pending>,
}

pub fn parse(src: &str) -> R<List> {
    let mut p = Parser {
        s: src.chars().collect(),
        i: 0,
        pending: vec![],
    };
    let list = p.list(&[])?;
    p.skip_blank();
    if p.i < p.s.len() {
        return syntax(&format!("unexpected {:?}", p.s[p.i]));
    }
    if !p.pending.is_empty() {
        // A here-document with no newline after its operator: its body is empty.
        p.read_heredocs()?;
    }
    Ok(list)
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')'
    )
}

fn is_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }
    fn starts(&self, t: &str) -> bool {
        t.chars()
            .enumerate()
            .all(|(k, c)| self.peek_at(k) == Some(c))
    }

    /// Skips spaces, tabs, line continuations and comments (not newlines).
    fn skip_blank(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t') => self.i += 1,
                Some('\\') if self.peek_at(1) == Some('\n') => self.i += 2,
                Some('#') => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                _ => return,
            }
        }
    }

    /// Consumes one newline and reads the bodies of here-documents opened on its line.
    fn newline(&mut self) -> R<()> {
        self.i += 1;
        self.read_heredocs()
    }

    fn skip_newlines(&mut self) -> R<()> {
        loop {
            self.skip_blank();
            if self.peek() == Some('\n') {
                self.newline()?;
            } else {
                return Ok(());
            }
        }
    }

    fn read_heredocs(&mut self) -> R<()> {
        for d in std::mem::take(&mut self.pending) {
            let mut body = String::new();
            loop {
                if self.i >= self.s.len() {
                    break;
                }
                let start = self.i;
                while self.peek().is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
                let mut line: String = self.s[start..self.i].iter().collect();
                if self.peek() == Some('\n') {
                    self.i += 1;
                }
                if d.strip_tabs {
                    line = line.trim_start_matches('\t').to_string();
                }
                if line == d.delim {
                    break;
                }
                body.push_str(&line);
                body.push('\n');
            }
            let word = if d.quoted {
                vec![Part::Quoted(body)]
            } else {
                let mut sub = Parser {
                    s: body.chars().collect(),
                    i: 0,
                    pending: vec![],
                };
                sub.dq_parts(None)?
            };
            let _ = d.slot.set(word);
        }
        Ok(())
    }

    /// The reserved word at the cursor, if any.
    fn reserved(&self) -> Option<&'static str> {
        RESERVED.iter().copied().find(|w| {
            self.starts(w) && self.peek_at(w.len()).is_none_or(|c| is_meta(c) || c == '#')
        })
    }

    fn expect_word(&mut self, w: &str) -> R<()> {
        self.skip_newlines()?;
        if self.reserved() == Some(w) {
            self.i += w.len();
            Ok(())
        } else {
            syntax(&format!("expected {w}"))
        }
    }

    /// A list of and-or lists, up to a reserved word in `stop`, `)`, `;;` or the end.
    pub fn list(&mut self, stop: &[&str]) -> R<List> {
        let mut out = vec![];
        loop {
            self.skip_newlines()?;
            match self.peek() {
                None | Some(')') => break,
                Some(';') if self.peek_at(1) == Some(';') => break,
                _ => {}
            }
            if let Some(w) = self.reserved() {
                if stop.contains(&w) {
                    break;
                }
            }
            out.push(self.and_or()?);
            self.skip_blank();
            match self.peek() {
                Some(';') if self.peek_at(1) != Some(';') => self.i += 1,
                Some('&') => return unsupported("background job (&)"),
                Some('\n') => self.newline()?,
                _ => {}
            }
        }
        Ok(out)
    }

    fn and_or(&mut self) -> R<AndOr> {
        let first = self.pipeline()?;
        let mut rest = vec![];
        loop {
            self.skip_blank();
            let op = if self.starts("&&") {
                AndOrOp::And
            } else if self.starts("||") {
                AndOrOp::Or
            } else {
                break;
            };
            self.i += 2;
            self.skip_newlines()?;
            rest.push((op, self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn pipeline(&mut self) -> R<Pipeline> {
        self.skip_blank();
        let mut bang = false;
        if self.reserved() == Some("!") {
            self.i += 1;
            bang = true;
        }
        let mut cmds = vec![self.command()?];
        loop {
            self.skip_blank();
            if self.peek() == Some('|') && self.peek_at(1) != Some('|') {
                if self.peek_at(1) == Some('&') {
                    return unsupported("|&");
                }
                self.i += 1;
                self.skip_newlines()?;
                cmds.push(self.command()?);
            } else {
                break;
            }
        }
        Ok(Pipeline { bang, cmds })
    }

    fn command(&mut self) -> R<Cmd> {
        self.skip_blank();
        if self.starts("((") {
            return unsupported("((");
        }
        if self.starts("[[")
            && self
                .peek_at(2)
                .is_some_and(|c| c == ' ' || c == '\t' || c == '\n')
        {
            self.i += 2;
            let e = self.test_or()?;
            self.skip_test_blank()?;
            if !(self.starts("]]") && self.peek_at(2).is_none_or(|c| is_meta(c))) {
                return syntax("expected ]]");
            }
            self.i += 2;
            let r = self.redirs()?;
            return Ok(Cmd::Compound(Box::new(Compound::Test(e)), r));
        }
        if self.peek() == Some('(') {
            self.i += 1;
            let l = self.list(&[])?;
            if self.peek() != Some(')') {
                return syntax("expected )");
            }
            self.i += 1;
            let r = self.redirs()?;
            return Ok(Cmd::Compound(Box::new(Compound::Subshell(l)), r));
        }
        let c = match self.reserved() {
            Some("{") => {
                self.i += 1;
                let l = self.list(&["}"])?;
                self.expect_word("}")?;
                Compound::Group(l)
            }
            Some("if") => {
                self.i += 2;
                let mut arms = vec![];
                let mut els = None;
                loop {
                    let cond = self.list(&["then"])?;
                    self.expect_word("then")?;
                    let body = self.list(&["elif", "else", "fi"])?;
                    arms.push((cond, body));
                    self.skip_newlines()?;
                    match self.reserved() {
                        Some("elif") => self.i += 4,
                        Some("else") => {
                            self.i += 4;
                            els = Some(self.list(&["fi"])?);
                            self.expect_word("fi")?;
                            break;
                        }
                        Some("fi") => {
                            self.i += 2;
                            break;
                        }
                        _ => return syntax("expected fi"),
                    }
                }
                Compound::If(arms, els)
            }
            Some(w @ ("while" | "until")) => {
                self.i += w.len();
                let cond = self.list(&["do"])?;
                self.expect_word("do")?;
                let body = self.list(&["done"])?;
                self.expect_word("done")?;
                Compound::Loop {
                    until: w == "until",
                    cond,
                    body,
                }
            }
            Some("for") => {
                self.i += 3;
                self.skip_blank();
                let var = self.word()?.ok_or(ParseError::Syntax("for: name".into()))?;
                let var = match var.as_slice() {
                    [Part::Lit(n)] if is_name(n) => n.clone(),
                    _ => return syntax("for: bad name"),
                };
                self.skip_newlines()?;
                let mut items = None;
                if self.reserved() == Some("in") {
                    self.i += 2;
                    let mut v = vec![];
                    loop {
                        self.skip_blank();
                        match self.peek() {
                            Some(';') => {
                                self.i += 1;
                                break;
                            }
                            Some('\n') => {
                                self.newline()?;
                                break;
                            }
                            _ => {}
                        }
                        match self.word()? {
                            Some(w) => v.push(w),
                            None => return syntax("for: words"),
                        }
                    }
                    items = Some(v);
                } else if self.peek() == Some(';') {
                    self.i += 1;
                }
                self.expect_word("do")?;
                let body = self.list(&["done"])?;
                self.expect_word("done")?;
                Compound::For { var, items, body }
            }
            Some("case") => {
                self.i += 4;
                self.skip_blank();
                let w = self.word()?.ok_or(ParseError::Syntax("case word".into()))?;
                self.expect_word("in")?;
                let mut arms = vec![];
                loop {
                    self.skip_newlines()?;
                    if self.reserved() == Some("esac") {
                        self.i += 4;
                        break;
                    }
                    if self.peek() == Some('(') {
                        self.i += 1;
                    }
                    let mut pats = vec![];
                    loop {
                        self.skip_blank();
                        pats.push(
                            self.word()?
                                .ok_or(ParseError::Syntax("case pattern".into()))?,
                        );
                        self.skip_blank();
                        match self.peek() {
                            Some('|') => self.i += 1,
                            Some(')') => {
                                self.i += 1;
                                break;
                            }
                            _ => return syntax("case: expected )"),
                        }
                    }
                    let body = self.list(&["esac"])?;
                    arms.push((pats, body));
                    self.skip_newlines()?;
                    if self.starts(";;") {
                        if self.peek_at(2) == Some('&') {
                            return unsupported(";;&");
                        }
                        self.i += 2;
                    } else if self.starts(";&") {
                        return unsupported(";&");
                    } else if self.reserved() != Some("esac") {
                        return syntax("case: expected ;;");
                    }
                }
                Compound::Case(w, arms)
            }
            Some(w) => return syntax(&format!("unexpected {w}")),
            None => return self.simple(),
        };
        let r = self.redirs()?;
        Ok(Cmd::Compound(Box::new(c), r))
    }

    fn skip_test_blank(&mut self) -> R<()> {
        self.skip_newlines()
    }

    fn test_or(&mut self) -> R<TestExpr> {
        let mut l = self.test_and()?;
        loop {
            self.skip_test_blank()?;
            if self.starts("||") {
                self.i += 2;
                let r = self.test_and()?;
                l = TestExpr::Or(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn test_and(&mut self) -> R<TestExpr> {
        let mut l = self.test_not()?;
        loop {
            self.skip_test_blank()?;
            if self.starts("&&") {
                self.i += 2;
                let r = self.test_not()?;
                l = TestExpr::And(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn test_not(&mut self) -> R<TestExpr> {
        self.skip_test_blank()?;
        if self.peek() == Some('!') && self.peek_at(1).is_some_and(|c| c == ' ' || c == '\t') {
            self.i += 1;
            return Ok(TestExpr::Not(Box::new(self.test_not()?)));
        }
        if self.peek() == Some('(') {
            self.i += 1;
            let e = self.test_or()?;
            self.skip_test_blank()?;
            if self.peek() != Some(')') {
                return syntax("expected ) in [[");
            }
            self.i += 1;
            return Ok(e);
        }
        let w = self.test_word()?;
        let unary = match w.as_slice() {
            [Part::Lit(op)] if op.len() == 2 && op.starts_with('-') => Some(op.clone()),
            _ => None,
        };
        self.skip_test_blank()?;
        // A binary operator after the word?
        let op = ["==", "!=", "=~", "<", ">", "="]
            .into_iter()
            .find(|op| {
                self.starts(op)
                    && self
                        .peek_at(op.len())
                        .is_some_and(|c| c == ' ' || c == '\t')
            })
            .map(String::from)
            .or_else(|| {
                let save = self.i;
                let mut p = Parser {
                    s: self.s.clone(),
                    i: save,
                    pending: vec![],
                };
                match p.word() {
                    Ok(Some(v)) => match v.as_slice() {
                        [Part::Lit(o)]
                            if [
                                "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef",
                            ]
                            .contains(&o.as_str()) =>
                        {
                            Some(o.clone())
                        }
                        _ => None,
                    },
                    _ => None,
                }
            });
        if let Some(op) = op {
            self.i += op.len();
            self.skip_test_blank()?;
            let r = if op == "=~" {
                self.regex_word()?
            } else {
                self.test_word()?
            };
            return Ok(TestExpr::Binary(w, op, r));
        }
        if let Some(op) = unary {
            if !(self.starts("]]")
                || self.starts("&&")
                || self.starts("||")
                || self.peek() == Some(')'))
            {
                let arg = self.test_word()?;
                return Ok(TestExpr::Unary(op, arg));
            }
        }
        Ok(TestExpr::Word(w))
    }

    fn test_word(&mut self) -> R<Word> {
        self.skip_test_blank()?;
        if self.starts("]]") {
            return syntax("missing operand in [[");
        }
        self.word()?
            .ok_or(ParseError::Syntax("expected a word in [[".into()))
    }

    /// The right side of `=~`: raw text up to a blank outside parentheses.
    fn regex_word(&mut self) -> R<Word> {
        let st = self.i;
        let mut depth = 0i32;
        while let Some(c) = self.peek() {
            match c {
                '(' => depth += 1,
                ')' if depth > 0 => depth -= 1,
                ' ' | '\t' | '\n' if depth == 0 => break,
                ')' => break,
                '$' | '\'' | '"' | '\\' | '`' => return unsupported("quoting or expansion in =~"),
                _ => {}
            }
            self.i += 1;
        }
        if self.i == st {
            return syntax("missing regex");
        }
        Ok(vec![Part::Quoted(self.s[st..self.i].iter().collect())])
    }

    fn redirs(&mut self) -> R<Vec<Redir>> {
        let mut v = vec![];
        loop {
            self.skip_blank();
            match self.redir()? {
                Some(r) => v.push(r),
                None => return Ok(v),
            }
        }
    }

    /// A redirection at the cursor, if any.
    fn redir(&mut self) -> R<Option<Redir>> {
        let save = self.i;
        let mut fd = None;
        let mut k = 0;
        while self.peek_at(k).is_some_and(|c| c.is_ascii_digit()) {
            k += 1;
        }
        if k > 0 && matches!(self.peek_at(k), Some('<' | '>')) {
            let n: String = self.s[self.i..self.i + k].iter().collect();
            fd = Some(n.parse::<i32>().unwrap_or(99));
            self.i += k;
        }
        let (op, dfd, len) = if self.starts("&>>") {
            (RedirOp::All { append: true }, 1, 3)
        } else if self.starts("&>") {
            (RedirOp::All { append: false }, 1, 2)
        } else if self.starts(">>") {
            (RedirOp::Append, 1, 2)
        } else if self.starts(">&") {
            (RedirOp::Dup, 1, 2)
        } else if self.starts(">|") {
            (RedirOp::Out, 1, 2)
        } else if self.starts(">") {
            (RedirOp::Out, 1, 1)
        } else if self.starts("<<<") {
            (RedirOp::HereString, 0, 3)
        } else if self.starts("<<") {
            (RedirOp::HereDoc(Arc::new(OnceLock::new())), 0, 2)
        } else if self.starts("<&") {
            (RedirOp::Dup, 0, 2)
        } else if self.starts("<>") {
            return unsupported("<>");
        } else if self.starts("<(") || self.starts(">(") {
            return unsupported("process substitution");
        } else if self.starts("<") {
            (RedirOp::In, 0, 1)
        } else {
            self.i = save;
            return Ok(None);
        };
        if matches!(op, RedirOp::All { .. }) && fd.is_some() {
            return syntax("bad redirection");
        }
        self.i += len;
        let fd = fd.unwrap_or(dfd);
        if fd > 2 {
            return unsupported("file descriptors above 2");
        }
        if let RedirOp::HereDoc(slot) = &op {
            let strip_tabs = self.peek() == Some('-');
            if strip_tabs {
                self.i += 1;
            }
            self.skip_blank();
            let w = self
                .word()?
                .ok_or(ParseError::Syntax("here-doc delimiter".into()))?;
            let mut quoted = false;
            let mut delim = String::new();
            for p in &w {
                match p {
                    Part::Lit(s) => delim.push_str(s),
                    Part::Quoted(s) => {
                        quoted = true;
                        delim.push_str(s)
                    }
                    Part::Dq(ps) => {
                        quoted = true;
                        for q in ps {
                            match q {
                                Part::Quoted(s) => delim.push_str(s),
                                _ => return unsupported("expansion in here-doc delimiter"),
                            }
                        }
                    }
                    _ => return unsupported("expansion in here-doc delimiter"),
                }
            }
            self.pending.push(Pending {
                delim,
                quoted,
                strip_tabs,
                slot: slot.clone(),
            });
            return Ok(Some(Redir {
                fd,
                op,
                target: vec![],
            }));
        }
        self.skip_blank();
        let target = self
            .word()?
            .ok_or(ParseError::Syntax("redirection target".into()))?;
        if matches!(op, RedirOp::Dup) {
            match target.as_slice() {
                [Part::Lit(t)] if t == "1" || t == "2" || t == "0" || t == "-" => {}
                _ => return unsupported("descriptor duplication other than 0-2"),
            }
        }
        Ok(Some(Redir { fd, op, target }))
    }

    fn simple(&mut self) -> R<Cmd> {
        let mut assigns = vec![];
        let mut words: Vec<Word> = vec![];
        let mut redirs = vec![];
        loop {
            self.skip_blank();
            if let Some(r) = self.redir()? {
                redirs.push(r);
                continue;
            }
            match self.peek() {
                None => break,
                Some(c) if is_meta(c) => {
                    if c == '(' && words.len() == 1 && assigns.is_empty() && redirs.is_empty() {
                        return self.funcdef(words.pop().unwrap());
                    }
                    if c == '(' {
                        return unsupported("( after a word");
                    }
                    break;
                }
                _ => {}
            }
            let save = self.i;
            let Some(w) = self.word()? else { break };
            if words.is_empty() {
                if let Some((n, v)) = assignment(&w) {
                    if self.s.get(self.i) == Some(&'(') && v.is_empty() {
                        return unsupported("array assignment");
                    }
                    assigns.push((n, v));
                    continue;
                }
                if let [Part::Lit(name)] = w.as_slice() {
                    if UNSUPPORTED_NAMES.contains(&name.as_str()) {
                        return unsupported(name);
                    }
                    if self.reserved_at(save) && RESERVED.contains(&name.as_str()) {
                        return syntax(&format!("unexpected {name}"));
                    }
                }
            }
            words.push(w);
        }
        if words.is_empty() && assigns.is_empty() && redirs.is_empty() {
            return syntax("empty command");
        }
        if let Some([Part::Lit(name)]) = words.first().map(|w| w.as_slice()) {
            check_builtin_args(name, &words[1..])?;
        }
        Ok(Cmd::Simple {
            assigns,
            words,
            redirs,
        })
    }

    fn reserved_at(&self, _i: usize) -> bool {
        true
    }

    fn funcdef(&mut self, name: Word) -> R<Cmd> {
        let name = match name.as_slice() {
            [Part::Lit(n)] if !n.contains(['$', '*', '?', '[', '=']) => n.clone(),
            _ => return syntax("bad function name"),
        };
        self.i += 1;
        self.skip_blank();
        if self.peek() != Some(')') {
            return syntax("expected )");
        }
        self.i += 1;
        self.skip_newlines()?;
        let body = self.command()?;
        if !matches!(body, Cmd::Compound(..)) {
            return syntax("function body");
        }
        Ok(Cmd::FuncDef(name, Arc::new(body)))
    }

    /// One word at the cursor, or `None` at a metacharacter or the end.
    pub fn word(&mut self) -> R<Option<Word>> {
        let start = self.i;
        let mut parts = vec![];
        let mut lit = String::new();
        let flush = |lit: &mut String, parts: &mut Vec<Part>| {
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(lit)));
            }
        };
        while let Some(c) = self.peek() {
            if is_meta(c) {
                break;
            }
            match c {
                '\'' => {
                    flush(&mut lit, &mut parts);
                    self.i += 1;
                    let st = self.i;
                    while self.peek().is_some_and(|c| c != '\'') {
                        self.i += 1;
                    }
                    if self.peek().is_none() {
                        return syntax("unterminated '");
                    }
                    parts.push(Part::Quoted(self.s[st..self.i].iter().collect()));
                    self.i += 1;
                }
                '"' => {
                    flush(&mut lit, &mut parts);
                    self.i += 1;
                    let ps = self.dq_parts(Some('"'))?;
                    self.i += 1;
                    parts.push(Part::Dq(ps));
                }
                '\\' => {
                    flush(&mut lit, &mut parts);
                    match self.peek_at(1) {
                        Some('\n') => self.i += 2,
                        Some(n) => {
                            parts.push(Part::Quoted(n.to_string()));
                            self.i += 2;
                        }
                        None => {
                            parts.push(Part::Quoted("\\".into()));
                            self.i += 1;
                        }
                    }
                }
                '$' | '`' => {
                    flush(&mut lit, &mut parts);
                    parts.push(self.dollar()?);
                }
                '~' if self.i == start => {
                    self.i += 1;
                    match self.peek() {
                        None | Some('/') => parts.push(Part::Tilde),
                        Some(c) if is_meta(c) => parts.push(Part::Tilde),
                        _ => return unsupported("~user"),
                    }
                }
                '{' if self.i == start && (self.peek_at(1).is_none_or(is_meta)) => {
                    // `{` alone as an argument, not a group (the caller saw no reserved word).
                    lit.push(c);
                    self.i += 1;
                }
                _ => {
                    if matches!(c, '!' | '@' | '+' | '*' | '?') && self.peek_at(1) == Some('(') {
                        return unsupported("extended glob");
                    }
                    lit.push(c);
                    self.i += 1;
                }
            }
        }
        flush(&mut lit, &mut parts);
        if self.i == start {
            return Ok(None);
        }
        // Brace expansion ({a,b}, {1..3}) is not implemented.
        let lits: String = parts
            .iter()
            .filter_map(|p| match p {
                Part::Lit(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        if let Some(o) = lits.find('{') {
            let rest = &lits[o..];
            if rest.contains('}') && (rest.contains(',') || rest.contains("..")) {
                return unsupported("brace expansion");
            }
        }
        Ok(Some(parts))
    }

    /// Parts of double-quoted text up to `end` (not consumed), or to the end of input.
    fn dq_parts(&mut self, end: Option<char>) -> R<Vec<Part>> {
        let mut parts = vec![];
        let mut lit = String::new();
        loop {
            let Some(c) = self.peek() else {
                if end.is_some() {
                    return syntax("unterminated \"");
                }
                break;
            };
            if Some(c) == end {
                break;
            }
            match c {
                '\\' => {
                    let n = self.peek_at(1);
                    let special = match n {
                        Some('$' | '`' | '\\' | '\n') => true,
                        Some('"') => end.is_some(),
                        _ => false,
                    };
                    if special {
                        if n != Some('\n') {
                            lit.push(n.unwrap());
                        }
                        self.i += 2;
                    } else {
                        lit.push('\\');
                        self.i += 1;
                    }
                }
                '$' | '`' => {
                    if !lit.is_empty() {
                        parts.push(Part::Quoted(std::mem::take(&mut lit)));
                    }
                    parts.push(self.dollar()?);
                }
                _ => {
                    lit.push(c);
                    self.i += 1;
                }
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Quoted(lit));
        }
        Ok(parts)
    }

    /// `$…` or a backquoted command at the cursor.
    fn dollar(&mut self) -> R<Part> {
        if self.peek() == Some('`') {
            self.i += 1;
            let mut src = String::new();
            loop {
                match self.peek() {
                    None => return syntax("unterminated `"),
                    Some('`') => break,
                    Some('\\') if matches!(self.peek_at(1), Some('`' | '\\' | '$')) => {
                        src.push(self.peek_at(1).unwrap());
                        self.i += 2;
                    }
                    Some(c) => {
                        src.push(c);
                        self.i += 1;
                    }
                }
            }
            self.i += 1;
            return Ok(Part::CmdSub(Arc::new(parse(&src)?)));
        }
        self.i += 1;
        match self.peek() {
            Some('(') if self.peek_at(1) == Some('(') => {
                self.i += 2;
                // Arithmetic: text up to the matching `))`.
                let mut depth = 0;
                let st = self.i;
                loop {
                    match self.peek() {
                        None => return syntax("unterminated $(("),
                        Some('(') => depth += 1,
                        Some(')') if depth == 0 => {
                            if self.peek_at(1) != Some(')') {
                                return unsupported("$(( ) … )");
                            }
                            break;
                        }
                        Some(')') => depth -= 1,
                        _ => {}
                    }
                    self.i += 1;
                }
                let text: String = self.s[st..self.i].iter().collect();
                self.i += 2;
                let mut sub = Parser {
                    s: text.chars().collect(),
                    i: 0,
                    pending: vec![],
                };
                Ok(Part::Arith(sub.dq_parts(None)?))
            }
            Some('(') => {
                self.i += 1;
                let l = self.list(&[])?;
                self.skip_newlines()?;
                if self.peek() != Some(')') {
                    return syntax("unterminated $(");
                }
                self.i += 1;
                Ok(Part::CmdSub(Arc::new(l)))
            }
            Some('{') => {
                self.i += 1;
                self.brace_param()
            }
            Some('\'') => unsupported("$'…'"),
            Some('"') => unsupported("$\"…\""),
            Some(c) if c.is_ascii_digit() || "?$#@*!-".contains(c) => {
                self.i += 1;
                Ok(param(c.to_string(), ParamOp::Plain))
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let st = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c == '_' || c.is_ascii_alphanumeric())
                {
                    self.i += 1;
                }
                Ok(param(self.s[st..self.i].iter().collect(), ParamOp::Plain))
            }
            _ => Ok(Part::Quoted("$".into())),
        }
    }

    fn brace_param(&mut self) -> R<Part> {
        let mut len = false;
        if self.peek() == Some('#') && self.peek_at(1) != Some('}') {
            len = true;
            self.i += 1;
        }
        let st = self.i;
        match self.peek() {
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                while self
                    .peek()
                    .is_some_and(|c| c == '_' || c.is_ascii_alphanumeric())
                {
                    self.i += 1;
                }
            }
            Some(c) if c.is_ascii_digit() => {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
            }
            Some(c) if "?$#@*-".contains(c) => self.i += 1,
            Some('!') => return unsupported("${!…}"),
            _ => return syntax("bad substitution"),
        }
        let name: String = self.s[st..self.i].iter().collect();
        if len {
            if self.peek() != Some('}') {
                return syntax("bad substitution");
            }
            self.i += 1;
            return Ok(param(name, ParamOp::Len));
        }
        let op = match self.peek() {
            Some('}') => {
                self.i += 1;
                return Ok(param(name, ParamOp::Plain));
            }
            Some(':') if matches!(self.peek_at(1), Some('-' | '=' | '+' | '?')) => {
                let kind = self.peek_at(1).unwrap();
                self.i += 2;
                ParamOp::Test {
                    kind,
                    colon: true,
                    word: self.brace_word()?,
                }
            }
            Some(k @ ('-' | '=' | '+' | '?')) => {
                self.i += 1;
                ParamOp::Test {
                    kind: k,
                    colon: false,
                    word: self.brace_word()?,
                }
            }
            Some(k @ ('#' | '%')) => {
                self.i += 1;
                let longest = self.peek() == Some(k);
                if longest {
                    self.i += 1;
                }
                ParamOp::Trim {
                    suffix: k == '%',
                    longest,
                    pat: self.brace_word()?,
                }
            }
            Some('/') => {
                self.i += 1;
                let all = self.peek() == Some('/');
                if all {
                    self.i += 1;
                }
                if matches!(self.peek(), Some('#' | '%')) {
                    return unsupported("anchored ${x/#…}");
                }
                let pat = self.brace_word_until(true)?;
                let with = if self.s.get(self.i - 1) == Some(&'/') {
                    self.brace_word()?
                } else {
                    vec![]
                };
                ParamOp::Replace { all, pat, with }
            }
            Some(':') => {
                self.i += 1;
                let (off, more) = self.substr_part()?;
                let len = if more {
                    Some(self.substr_part()?.0)
                } else {
                    None
                };
                ParamOp::Substr { off, len }
            }
            Some(k @ ('^' | ',')) => {
                self.i += 1;
                let all = self.peek() == Some(k);
                if all {
                    self.i += 1;
                }
                if self.peek() != Some('}') {
                    return unsupported("case modification with a pattern");
                }
                self.i += 1;
                ParamOp::Case {
                    upper: k == '^',
                    all,
                }
            }
            _ => return unsupported("parameter expansion operator"),
        };
        Ok(param(name, op))
    }

    /// An operand of `${x:off:len}` up to `:` (then `true`) or `}` (consumed).
    fn substr_part(&mut self) -> R<(Word, bool)> {
        let st = self.i;
        while let Some(c) = self.peek() {
            match c {
                ':' | '}' => break,
                '$' | '`' | '\'' | '"' | '\\' | '{' => return unsupported("expansion in ${x:…}"),
                _ => self.i += 1,
            }
        }
        let Some(end) = self.peek() else {
            return syntax("unterminated ${");
        };
        let text: String = self.s[st..self.i].iter().collect();
        self.i += 1;
        Ok((vec![Part::Quoted(text)], end == ':'))
    }

    fn brace_word(&mut self) -> R<Word> {
        self.brace_word_until(false)
    }

    /// The word of `${x…word}` up to `}` (consumed), or up to `/` when `slash`.
    fn brace_word_until(&mut self, slash: bool) -> R<Word> {
        let mut parts = vec![];
        let mut lit = String::new();
        loop {
            let Some(c) = self.peek() else {
                return syntax("unterminated ${");
            };
            if c == '}' || (slash && c == '/') {
                self.i += 1;
                if slash && c == '}' {
                    // No replacement: step back so the caller sees `}` was the end.
                }
                break;
            }
            match c {
                '\'' | '"' | '\\' | '$' | '`' => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    match c {
                        '\'' => {
                            self.i += 1;
                            let st = self.i;
                            while self.peek().is_some_and(|c| c != '\'') {
                                self.i += 1;
                            }
                            if self.peek().is_none() {
                                return syntax("unterminated '");
                            }
                            parts.push(Part::Quoted(self.s[st..self.i].iter().collect()));
                            self.i += 1;
                        }
                        '"' => {
                            self.i += 1;
                            let ps = self.dq_parts(Some('"'))?;
                            self.i += 1;
                            parts.push(Part::Dq(ps));
                        }
                        '\\' => {
                            if let Some(n) = self.peek_at(1) {
                                parts.push(Part::Quoted(n.to_string()));
                            }
                            self.i += 2;
                        }
                        _ => parts.push(self.dollar()?),
                    }
                }
                _ => {
                    lit.push(c);
                    self.i += 1;
                }
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(parts)
    }
}

fn param(name: String, op: ParamOp) -> Part {
    Part::Param(Box::new(Param { name, op }))
}

/// `NAME=value` at the start of a word.
fn assignment(w: &Word) -> Option<(String, Word)> {
    let Part::Lit(first) = w.first()? else {
        return None;
    };
    let eq = first.find('=')?;
    let name = &first[..eq];
    if !is_name(name) {
        return None;
    }
    let mut value = vec![];
    if eq + 1 < first.len() {
        value.push(Part::Lit(first[eq + 1..].to_string()));
    }
    value.extend(w[1..].iter().cloned());
    Some((name.to_string(), value))
}

/// Options of builtins the interpreter implements only in part.
fn check_builtin_args(name: &str, args: &[Word]) -> R<()> {
    let lit = |w: &Word| match w.as_slice() {
        [Part::Lit(s)] => Some(s.clone()),
        _ => None,
    };
    let first = args.first().and_then(lit);
    match name {
        "exec" if args.is_empty() => return unsupported("exec without a command"),
        "read" => {
            for a in args {
                if let Some(s) = lit(a) {
                    if s.starts_with('-') && s != "-r" {
                        return unsupported("read option");
                    }
                }
            }
        }
        "set" => {
            if args.is_empty() {
                return unsupported("set listing");
            }
            for (k, a) in args.iter().enumerate() {
                let Some(s) = lit(a) else { break };
                if s == "--" || !(s.starts_with('-') || s.starts_with('+')) {
                    break;
                }
                if s == "-o" || s == "+o" {
                    let opt = args.get(k + 1).and_then(lit);
                    match opt.as_deref() {
                        Some("errexit" | "nounset" | "pipefail" | "noglob" | "allexport") => {}
                        _ => return unsupported("set -o"),
                    }
                    continue;
                }
                if args
                    .get(k.wrapping_sub(1))
                    .and_then(lit)
                    .is_some_and(|p| p == "-o" || p == "+o")
                {
                    continue;
                }
                if !s[1..].chars().all(|c| "eufa".contains(c)) {
                    return unsupported("set option");
                }
            }
        }
        "export" | "unset" | "local" | "echo" | "printf" | "cd" | "type" | "command" | "pwd"
        | "exit" | "return" | "shift" | "test" | "[" | "eval" => {
            if let Some(f) = first {
                let bad = match name {
                    "export" | "local" => f.starts_with('-'),
                    "unset" => f.starts_with('-') && f != "-v" && f != "-f",
                    "cd" | "pwd" => f.starts_with('-') && f != "-",
                    "type" => f.starts_with('-'),
                    "command" => f.starts_with('-') && f != "-v",
                    "printf" => f == "-v",
                    _ => false,
                };
                if bad {
                    return unsupported(&format!("{name} {f}"));
                }
            }
        }
        _ => {}
    }
    Ok(())
}
