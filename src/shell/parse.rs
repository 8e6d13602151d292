//! Parser for the shell subset. Anything outside the subset is reported as
//! [`ParseError::Unsupported`] before a single command runs, so the caller can hand the
//! whole script to bash instead.

use super::ast::*;
use std::sync::{Arc, OnceLock};

#[derive(Debug)]
pub enum ParseError {
    /// A construct the interpreter does not implement.
    Unsupported(String),
    /// Not valid shell: mvdan's message and where (a char index into the source).
    Syntax(usize, String),
}

impl ParseError {
    /// mvdan's `line:col: message` for a syntax error in `src` (col counts bytes).
    pub fn render(&self, src: &str) -> String {
        match self {
            ParseError::Unsupported(w) => w.clone(),
            ParseError::Syntax(pos, m) => {
                let (mut line, mut col) = (1, 1);
                for c in src.chars().take(*pos) {
                    if c == '\n' {
                        line += 1;
                        col = 1;
                    } else {
                        col += c.len_utf8();
                    }
                }
                format!("{line}:{col}: {m}")
            }
        }
    }
}

type R<T> = Result<T, ParseError>;

fn unsupported<T>(what: &str) -> R<T> {
    Err(ParseError::Unsupported(what.to_string()))
}

fn syntax_at<T>(pos: usize, what: impl Into<String>) -> R<T> {
    Err(ParseError::Syntax(pos, what.into()))
}

/// The binary operators of `[[ ]]` that are words (mvdan's testBinaryOp).
const TEST_BINARY: &[&str] = &[
    "==", "=", "!=", "=~", "-nt", "-ot", "-ef", "-eq", "-ne", "-le", "-ge", "-lt", "-gt",
];

/// Go's `%#q` of a string: backquoted when it can be.
fn go_q_str(s: &str) -> String {
    super::builtins::go_quote(s)
}

/// Go's `%#q` of one character: backquoted when it can be.
fn go_q(c: char) -> String {
    if c == '`' || c.is_control() {
        format!("{:?}", c.to_string())
    } else {
        format!("`{c}`")
    }
}

/// Builtins and keywords the interpreter does not implement: a script naming one of them
/// literally runs in bash.
const UNSUPPORTED_NAMES: &[&str] = &[];

const RESERVED: &[&str] = &[
    "if", "then", "elif", "else", "fi", "while", "until", "do", "done", "for", "select", "coproc",
    "in", "case", "esac", "{", "}", "!", "function",
];

struct Pending {
    delim: String,
    quoted: bool,
    strip_tabs: bool,
    slot: Arc<OnceLock<Word>>,
    /// Where the `<<` operator is (mvdan reports an unclosed body there).
    pos: usize,
}

pub struct Parser {
    s: Vec<char>,
    i: usize,
    pending: Vec<Pending>,
    /// Open `(` / `$(` around the cursor: a `)` closes one of them.
    parens: u32,
    /// Open `case` arms: `;;` ends one.
    cases: u32,
    /// Where the innermost open `${` is.
    brace_at: usize,
    /// An extended glob pattern was seen.
    extglob: bool,
}

pub fn parse(src: &str) -> R<List> {
    parse_full(src).map(|(l, _)| l)
}

/// The script and whether it has extended glob patterns (`@(a|b)`).
pub fn parse_full(src: &str) -> R<(List, bool)> {
    let mut p = Parser::new(src);
    let list = p.list(&[])?;
    p.skip_blank();
    if p.i < p.s.len() {
        return syntax_at(
            p.i,
            format!("{} is not a valid start for a statement", go_q(p.s[p.i])),
        );
    }
    if !p.pending.is_empty() {
        p.read_heredocs()?;
    }
    Ok((list, p.extglob))
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')'
    )
}

pub(super) fn is_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

impl Parser {
    fn new(src: &str) -> Parser {
        Parser {
            s: src.chars().collect(),
            i: 0,
            pending: vec![],
            parens: 0,
            cases: 0,
            brace_at: 0,
            extglob: false,
        }
    }
    /// mvdan's line and column (in bytes) of the char index `at`.
    fn line_col(&self, at: usize) -> (u32, u32) {
        let at = at.min(self.s.len());
        let line_start = self.s[..at]
            .iter()
            .rposition(|c| *c == '\n')
            .map_or(0, |k| k + 1);
        let line = 1 + self.s[..line_start].iter().filter(|c| **c == '\n').count();
        let col = 1 + self.s[line_start..at]
            .iter()
            .map(|c| c.len_utf8())
            .sum::<usize>();
        (line as u32, col as u32)
    }
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
            let mut closed = false;
            while self.i < self.s.len() {
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
                    closed = true;
                    break;
                }
                body.push_str(&line);
                body.push('\n');
            }
            if !closed {
                return syntax_at(d.pos, format!("unclosed here-document `{}`", d.delim));
            }
            let word = if d.quoted {
                vec![Part::Quoted(body)]
            } else {
                Parser::new(&body).dq_parts(None, 0)?
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

    /// Consumes the reserved word `w` if it is at the cursor (after newlines).
    fn got_word(&mut self, w: &str) -> R<bool> {
        self.skip_newlines()?;
        if self.reserved() == Some(w) {
            self.i += w.len();
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Whether a statement can start at the cursor (after `&&`, `|`, …).
    fn at_stmt(&self) -> bool {
        match self.peek() {
            None | Some(';' | '&' | '|' | ')') => false,
            _ => !matches!(
                self.reserved(),
                Some("then" | "elif" | "fi" | "do" | "done" | "esac" | "}")
            ),
        }
    }

    /// A list of and-or lists, up to a reserved word in `stop`, a `)` closing an open
    /// parenthesis, `;;` ending a case arm, or the end.
    pub fn list(&mut self, stop: &[&str]) -> R<List> {
        let mut out = vec![];
        loop {
            self.skip_newlines()?;
            let Some(c) = self.peek() else { break };
            if c == ')' {
                if self.parens > 0 {
                    break;
                }
                return syntax_at(self.i, "`)` can only be used to close a subshell");
            }
            if c == ';' && matches!(self.peek_at(1), Some(';' | '&')) {
                if self.cases > 0 {
                    break;
                }
                let t = if self.starts(";;&") {
                    ";;&"
                } else if self.starts(";;") {
                    ";;"
                } else {
                    ";&"
                };
                return syntax_at(self.i, format!("`{t}` can only be used in a case clause"));
            }
            if let Some(w) = self.reserved() {
                if stop.contains(&w) {
                    break;
                }
                let m = match w {
                    "then" | "elif" => Some(format!("`{w}` can only be used in an `if`")),
                    "fi" => Some("`fi` can only be used to end an `if`".to_string()),
                    "do" => Some("`do` can only be used in a loop".to_string()),
                    "done" => Some("`done` can only be used to end a loop".to_string()),
                    "esac" => Some("`esac` can only be used to end a `case`".to_string()),
                    "}" => Some("`}` can only be used to close a block".to_string()),
                    _ => None,
                };
                if let Some(m) = m {
                    return syntax_at(self.i, m);
                }
            }
            for t in ["&&", "||", "|&", "|", ";", "&"] {
                if self.starts(t) {
                    return syntax_at(
                        self.i,
                        format!("`{t}` can only immediately follow a statement"),
                    );
                }
            }
            let mut ao = self.and_or()?;
            self.skip_blank();
            match self.peek() {
                Some(';') if !matches!(self.peek_at(1), Some(';' | '&')) => self.i += 1,
                Some('&') => {
                    self.i += 1;
                    ao.bg = true;
                }
                Some('\n') => self.newline()?,
                None => {}
                Some(')') if self.parens > 0 => {}
                Some(';') => {}
                _ if self.reserved().is_some_and(|w| stop.contains(&w)) => {}
                _ => return syntax_at(self.i, "statements must be separated by &, ; or a newline"),
            }
            out.push(ao);
        }
        Ok(out)
    }

    fn and_or(&mut self) -> R<AndOr> {
        let first = self.pipeline()?;
        let mut rest = vec![];
        loop {
            self.skip_blank();
            let (op, t) = if self.starts("&&") {
                (AndOrOp::And, "&&")
            } else if self.starts("||") {
                (AndOrOp::Or, "||")
            } else {
                break;
            };
            let at = self.i;
            self.i += 2;
            self.skip_newlines()?;
            if !self.at_stmt() {
                return syntax_at(at, format!("`{t}` must be followed by a statement"));
            }
            rest.push((op, self.pipeline()?));
        }
        Ok(AndOr {
            first,
            rest,
            bg: false,
        })
    }

    fn pipeline(&mut self) -> R<Pipeline> {
        self.skip_blank();
        let mut time = None;
        if self.starts("time") && self.peek_at(4).is_none_or(|c| is_meta(c) || c == '#') {
            self.i += 4;
            self.skip_blank();
            let posix = self.starts("-p") && self.peek_at(2).is_none_or(is_meta);
            if posix {
                self.i += 2;
                self.skip_blank();
            }
            time = Some(posix);
            if !self.at_stmt() || self.peek() == Some('\n') {
                return Ok(Pipeline {
                    bang: false,
                    cmds: vec![],
                    time,
                });
            }
        }
        let mut bang = false;
        if self.reserved() == Some("!") {
            let at = self.i;
            self.i += 1;
            bang = true;
            self.skip_blank();
            if !self.at_stmt() || self.peek() == Some('\n') {
                return syntax_at(at, "`!` cannot form a statement alone");
            }
            if self.reserved() == Some("!") {
                return syntax_at(at, "cannot negate a command multiple times");
            }
        }
        let mut cmds = vec![self.command()?];
        loop {
            self.skip_blank();
            if self.peek() == Some('|') && self.peek_at(1) != Some('|') {
                let at = self.i;
                if self.peek_at(1) == Some('&') {
                    // `a |& b` is `a 2>&1 | b`, the duplication done after a's own redirections.
                    self.i += 1;
                    let dup = Redir {
                        fd: 2,
                        op: RedirOp::Dup,
                        target: vec![Part::Lit("1".into())],
                    };
                    match cmds.last_mut() {
                        Some(Cmd::Simple { redirs, .. }) | Some(Cmd::Compound(_, redirs)) => {
                            redirs.push(dup)
                        }
                        _ => return unsupported("|& after a function definition"),
                    }
                }
                self.i += 1;
                self.skip_newlines()?;
                if !self.at_stmt() {
                    let t = if self.s[at + 1] == '&' { "|&" } else { "|" };
                    return syntax_at(at, format!("`{t}` must be followed by a statement"));
                }
                cmds.push(self.command()?);
            } else {
                break;
            }
        }
        Ok(Pipeline { bang, cmds, time })
    }

    /// A list that must not be empty: mvdan's "`what` must be followed by a statement list".
    fn body(&mut self, stop: &[&str], what: &str, at: usize) -> R<List> {
        // `then;`: mvdan finds no statement before the `;`.
        self.skip_blank();
        if self.peek() == Some(';') {
            return syntax_at(at, format!("`{what}` must be followed by a statement list"));
        }
        let l = self.list(stop)?;
        if l.is_empty() {
            return syntax_at(at, format!("`{what}` must be followed by a statement list"));
        }
        Ok(l)
    }

    fn command(&mut self) -> R<Cmd> {
        self.skip_blank();
        let start = self.i;
        if self.starts("((") {
            self.i += 2;
            let text = self.arith_text(start, "((", "))")?;
            let r = self.redirs()?;
            return Ok(Cmd::Compound(Box::new(Compound::Arith(text)), r));
        }
        if self.starts("[[")
            && self
                .peek_at(2)
                .is_some_and(|c| c == ' ' || c == '\t' || c == '\n')
        {
            self.i += 2;
            let Some(e) = self.test_binary(false)? else {
                return syntax_at(start, "`[[` must be followed by an expression");
            };
            self.skip_test_blank()?;
            if !(self.starts("]]") && self.peek_at(2).is_none_or(is_meta)) {
                let tok = self.test_tok_text();
                return syntax_at(
                    start,
                    format!("reached {tok} without matching `[[` with `]]`"),
                );
            }
            self.i += 2;
            let r = self.redirs()?;
            return Ok(Cmd::Compound(Box::new(Compound::Test(e)), r));
        }
        if self.peek() == Some('(') {
            self.i += 1;
            self.parens += 1;
            let l = self.list(&[]);
            self.parens -= 1;
            let l = l?;
            if self.peek() != Some(')') {
                return syntax_at(start, "reached EOF without matching `(` with `)`");
            }
            if l.is_empty() {
                return syntax_at(start, "`(` must be followed by a statement list");
            }
            self.i += 1;
            let r = self.redirs()?;
            return Ok(Cmd::Compound(Box::new(Compound::Subshell(l)), r));
        }
        let c = match self.reserved() {
            Some("{") => {
                self.i += 1;
                let l = self.list(&["}"])?;
                if l.is_empty() {
                    return syntax_at(start, "`{` must be followed by a statement list");
                }
                if !self.got_word("}")? {
                    return syntax_at(start, "reached EOF without matching `{` with `}`");
                }
                Compound::Group(l)
            }
            Some("if") => {
                self.i += 2;
                let mut arms = vec![];
                let mut els = None;
                let (mut kw, mut kw_at) = ("if", start);
                loop {
                    let cond = self.body(&["then"], kw, kw_at)?;
                    let then_at = {
                        self.skip_newlines()?;
                        self.i
                    };
                    if !self.got_word("then")? {
                        return syntax_at(
                            kw_at,
                            format!("`{kw} <cond>` must be followed by `then`"),
                        );
                    }
                    let body = self.body(&["elif", "else", "fi"], "then", then_at)?;
                    arms.push((cond, body));
                    self.skip_newlines()?;
                    let at = self.i;
                    match self.reserved() {
                        Some("elif") => {
                            self.i += 4;
                            (kw, kw_at) = ("elif", at);
                        }
                        Some("else") => {
                            self.i += 4;
                            els = Some(self.body(&["fi"], "else", at)?);
                            if !self.got_word("fi")? {
                                return syntax_at(start, "`if` statement must end with `fi`");
                            }
                            break;
                        }
                        Some("fi") => {
                            self.i += 2;
                            break;
                        }
                        _ => return syntax_at(start, "`if` statement must end with `fi`"),
                    }
                }
                Compound::If(arms, els)
            }
            Some(w @ ("while" | "until")) => {
                self.i += w.len();
                let cond = self.body(&["do"], w, start)?;
                self.skip_newlines()?;
                let do_at = self.i;
                if !self.got_word("do")? {
                    return syntax_at(start, format!("`{w} <cond>` must be followed by `do`"));
                }
                let body = self.body(&["done"], "do", do_at)?;
                if !self.got_word("done")? {
                    return syntax_at(start, format!("`{w}` statement must end with `done`"));
                }
                Compound::Loop {
                    until: w == "until",
                    cond,
                    body,
                }
            }
            Some("coproc") => {
                // mvdan parses it and fails when it runs.
                self.i += 6;
                self.skip_blank();
                // `coproc NAME { …; }`: the name is not a command.
                let save = self.i;
                let named = matches!(self.word()?.as_deref(), Some([Part::Lit(n)]) if is_name(n));
                self.skip_blank();
                if !(named && matches!(self.peek(), Some('{' | '('))) {
                    self.i = save;
                }
                let _ = self.command()?;
                Compound::Unhandled("unhandled command node: *syntax.CoprocClause".into())
            }
            Some(w @ ("for" | "select")) => {
                let select = w == "select";
                self.i += w.len();
                self.skip_blank();
                if !select && self.starts("((") {
                    self.i += 2;
                    let parts = self.arith_text(start, "((", "))")?;
                    // Split at the two top-level `;`: they can only be in literal text
                    // (one inside `$(…)` or `${…}` belongs to that part).
                    let mut segs: Vec<Vec<Part>> = vec![vec![]];
                    for p in parts {
                        match p {
                            Part::Quoted(t) | Part::Lit(t) if t.contains(';') => {
                                let mut pieces = t.split(';');
                                if let Some(first) = pieces.next() {
                                    segs.last_mut().unwrap().push(Part::Quoted(first.into()));
                                }
                                for piece in pieces {
                                    segs.push(vec![Part::Quoted(piece.into())]);
                                }
                            }
                            p => segs.last_mut().unwrap().push(p),
                        }
                    }
                    if segs.len() != 3 {
                        return syntax_at(start, "c-style fors require three parts");
                    }
                    let post = segs.pop().unwrap_or_default();
                    let cond = segs.pop().unwrap_or_default();
                    let init = segs.pop().unwrap_or_default();
                    self.skip_blank();
                    if self.peek() == Some(';') {
                        self.i += 1;
                    }
                    self.skip_newlines()?;
                    let do_at = self.i;
                    if !self.got_word("do")? {
                        return syntax_at(start, "`for ((;;))` must be followed by `do`");
                    }
                    let body = self.body(&["done"], "do", do_at)?;
                    if !self.got_word("done")? {
                        return syntax_at(start, "`for` statement must end with `done`");
                    }
                    let r = self.redirs()?;
                    return Ok(Cmd::Compound(
                        Box::new(Compound::CFor {
                            init,
                            cond,
                            post,
                            body,
                        }),
                        r,
                    ));
                }
                let var = match self.word()? {
                    Some(w) => match w.as_slice() {
                        [Part::Lit(n)] if is_name(n) => n.clone(),
                        _ => return syntax_at(start, "invalid var name"),
                    },
                    None => return syntax_at(start, "`for` must be followed by a literal"),
                };
                self.skip_newlines()?;
                let mut items = None;
                // mvdan prints the words of the header as written (its printer).
                let mut trace = format!("for {var} in");
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
                            None => break,
                            _ => {}
                        }
                        let at = self.i;
                        match self.word()? {
                            Some(w) => v.push(w),
                            None => return syntax_at(self.i, "word list can only contain words"),
                        }
                        trace.push(' ');
                        trace.extend(&self.s[at..self.i]);
                    }
                    items = Some(v);
                } else if self.peek() == Some(';') {
                    self.i += 1;
                }
                self.skip_newlines()?;
                let do_at = self.i;
                if !self.got_word("do")? {
                    return syntax_at(start, "`for foo [in words]` must be followed by `do`");
                }
                let body = self.body(&["done"], "do", do_at)?;
                if !self.got_word("done")? {
                    return syntax_at(start, "`for` statement must end with `done`");
                }
                if items.is_none() {
                    trace.push_str(" \"$@\"");
                }
                Compound::For {
                    var,
                    items,
                    body,
                    select,
                    trace,
                }
            }
            Some("case") => {
                self.i += 4;
                self.skip_blank();
                let at = self.i;
                let Some(w) = self.word()? else {
                    return syntax_at(start, "`case` must be followed by a word");
                };
                let trace = format!("case {} in", self.s[at..self.i].iter().collect::<String>());
                if !self.got_word("in")? {
                    return syntax_at(start, "`case x` must be followed by `in`");
                }
                let mut arms = vec![];
                loop {
                    self.skip_newlines()?;
                    if self.reserved() == Some("esac") {
                        self.i += 4;
                        break;
                    }
                    if self.peek().is_none() {
                        return syntax_at(start, "`case` statement must end with `esac`");
                    }
                    if self.peek() == Some('(') {
                        self.i += 1;
                    }
                    let mut pats = vec![];
                    loop {
                        self.skip_blank();
                        match self.word()? {
                            Some(p) => pats.push(p),
                            None => {
                                return syntax_at(self.i, "case patterns must consist of words")
                            }
                        }
                        self.skip_blank();
                        match self.peek() {
                            Some('|') => self.i += 1,
                            Some(')') => {
                                self.i += 1;
                                break;
                            }
                            _ => {
                                return syntax_at(
                                    self.i,
                                    "case patterns must be separated with `|`",
                                )
                            }
                        }
                    }
                    self.cases += 1;
                    let saved = std::mem::replace(&mut self.parens, 0);
                    let body = self.list(&["esac"]);
                    self.parens = saved;
                    self.cases -= 1;
                    let body = body?;
                    self.skip_newlines()?;
                    let term = if self.starts(";;&") {
                        self.i += 3;
                        CaseTerm::Resume
                    } else if self.starts(";;") {
                        self.i += 2;
                        CaseTerm::Break
                    } else if self.starts(";&") {
                        self.i += 2;
                        CaseTerm::Fall
                    } else if self.reserved() == Some("esac") {
                        CaseTerm::Break
                    } else {
                        return syntax_at(start, "`case` statement must end with `esac`");
                    };
                    arms.push((pats, body, term));
                }
                Compound::Case(w, arms, trace)
            }
            Some("function") => {
                self.i += 8;
                self.skip_blank();
                let name_at = self.i;
                let Some(name) = self.word()? else {
                    return syntax_at(start, "`function` must be followed by a name");
                };
                self.skip_blank();
                if self.peek() == Some('(') {
                    self.i += 1;
                    self.skip_blank();
                    if self.peek() != Some(')') {
                        return syntax_at(self.i, "`(` must be followed by `)`");
                    }
                    self.i += 1;
                }
                return self.func_body(name, name_at);
            }
            Some(w @ ("}" | "then" | "elif" | "fi" | "do" | "done" | "esac")) => {
                return syntax_at(start, format!("`{w}` can only be used in full statements"));
            }
            _ => return self.simple(),
        };
        let r = self.redirs()?;
        Ok(Cmd::Compound(Box::new(c), r))
    }

    /// Raw text of an arithmetic expression up to the `close` matching `open` (consumed),
    /// as parts (parameters and substitutions inside are expanded before evaluation).
    fn arith_text(&mut self, start: usize, open: &str, close: &str) -> R<Vec<Part>> {
        let mut depth = 0;
        let st = self.i;
        loop {
            match self.peek() {
                None => {
                    // mvdan's arithmetic parser meets EOF after a binary operator first.
                    let text: String = self.s[st..self.i].iter().collect();
                    if let Some((off, op)) = arith_dangling_op(&text) {
                        return syntax_at(
                            st + off,
                            format!("`{op}` must be followed by an expression"),
                        );
                    }
                    return syntax_at(
                        start,
                        format!("reached EOF without matching `{open}` with `{close}`"),
                    );
                }
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
        if let Some((off, op)) = arith_dangling_op(&text) {
            return syntax_at(
                st + off,
                format!("`{op}` must be followed by an expression"),
            );
        }
        let parts = Parser::new(&text).dq_parts(None, 0)?;
        Ok(parts)
    }
    fn skip_test_blank(&mut self) -> R<()> {
        self.skip_newlines()
    }

    /// mvdan's testExprBinary: `&&` and `||` bind to everything after them (`a && b || c`
    /// is `a && (b || c)`), a binary operator takes a word on each side.
    fn test_binary(&mut self, past_and_or: bool) -> R<Option<TestExpr>> {
        self.skip_test_blank()?;
        let left = if past_and_or {
            self.test_unary()?
        } else {
            self.test_binary(true)?
        };
        let Some(left) = left else { return Ok(None) };
        self.skip_test_blank()?;
        let op_at = self.i;
        let op = if self.starts("&&") || self.starts("||") {
            self.i += 2;
            self.s[op_at..op_at + 2].iter().collect::<String>()
        } else {
            match self.peek() {
                None | Some(')') => return Ok(Some(left)),
                Some(c @ ('<' | '>')) => {
                    self.i += 1;
                    c.to_string()
                }
                Some(c) if is_meta(c) => {
                    let tok = self.test_tok_text();
                    return syntax_at(op_at, format!("not a valid test operator: {tok}"));
                }
                Some(_) => match self.word()?.as_deref() {
                    Some([Part::Lit(o)]) if o == "]]" => {
                        self.i = op_at;
                        return Ok(Some(left));
                    }
                    Some([Part::Lit(o)]) if TEST_BINARY.contains(&o.as_str()) => o.clone(),
                    Some([Part::Lit(o)]) => {
                        let m = format!("not a valid test operator: {}", go_q_str(o));
                        return syntax_at(op_at, m);
                    }
                    // A word with expansions: mvdan's lexer gave a literal part first, or
                    // the expansion's own token.
                    Some([Part::Lit(_), ..]) => {
                        return syntax_at(
                            op_at,
                            "test operator words must consist of a single literal",
                        )
                    }
                    _ => {
                        let two: String = self.s[op_at..op_at + 2].iter().collect();
                        let tok = if two == "${" || two == "$(" {
                            two
                        } else {
                            self.s[op_at].to_string()
                        };
                        let m = format!("not a valid test operator: {}", go_q_str(&tok));
                        return syntax_at(op_at, m);
                    }
                },
            }
        };
        if op == "&&" || op == "||" {
            let Some(y) = self.test_binary(false)? else {
                return syntax_at(op_at, format!("`{op}` must be followed by an expression"));
            };
            let (l, r) = (Box::new(left), Box::new(y));
            return Ok(Some(if op == "&&" {
                TestExpr::And(l, r)
            } else {
                TestExpr::Or(l, r)
            }));
        }
        let TestExpr::Word(w) = left else {
            return syntax_at(op_at, "expected `&&`, `||` or `]]` after complex expr");
        };
        self.skip_test_blank()?;
        let r = if op == "=~" {
            self.regex_word()?
        } else {
            self.test_follow_word(&op, op_at)?
        };
        Ok(Some(TestExpr::Binary(w, op, r)))
    }

    /// mvdan's testExprUnary: `!` negates everything after it, `( … )`, a unary operator
    /// and its word, or a word.
    fn test_unary(&mut self) -> R<Option<TestExpr>> {
        self.skip_test_blank()?;
        let at = self.i;
        match self.peek() {
            None | Some(')') => return Ok(None),
            Some('!') if self.peek_at(1).is_some_and(|c| c == ' ' || c == '\t') => {
                self.i += 1;
                let Some(x) = self.test_binary(false)? else {
                    return syntax_at(at, "`!` must be followed by an expression");
                };
                return Ok(Some(TestExpr::Not(Box::new(x))));
            }
            Some('(') => {
                self.i += 1;
                let Some(x) = self.test_binary(false)? else {
                    return syntax_at(at, "`(` must be followed by an expression");
                };
                self.skip_test_blank()?;
                if self.peek() != Some(')') {
                    let tok = self.test_tok_text();
                    return syntax_at(at, format!("reached {tok} without matching `(` with `)`"));
                }
                self.i += 1;
                return Ok(Some(x));
            }
            _ => {}
        }
        let Some(w) = self.word()? else {
            return Ok(None);
        };
        let op = match w.as_slice() {
            [Part::Lit(o)] if o == "]]" => {
                self.i = at;
                return Ok(None);
            }
            [Part::Lit(o)] if o == "-a" => "-e",
            [Part::Lit(o)] if o == "-h" => "-L",
            [Part::Lit(o)] => match super::builtins::UNARY_TESTS.iter().find(|u| *u == o) {
                Some(u) => u,
                None => return Ok(Some(TestExpr::Word(w))),
            },
            _ => return Ok(Some(TestExpr::Word(w))),
        };
        self.skip_test_blank()?;
        let x = self.test_follow_word(op, at)?;
        Ok(Some(TestExpr::Unary(op.to_string(), x)))
    }

    /// The word after a test operator (`]]` too, as mvdan's followWordTok).
    fn test_follow_word(&mut self, op: &str, op_at: usize) -> R<Word> {
        match self.peek() {
            Some(c) if !is_meta(c) => match self.word()? {
                Some(w) => Ok(w),
                None => syntax_at(op_at, format!("`{op}` must be followed by a word")),
            },
            _ => syntax_at(op_at, format!("`{op}` must be followed by a word")),
        }
    }

    /// The token at the cursor as mvdan names it in a message: EOF, or quoted.
    fn test_tok_text(&self) -> String {
        match self.peek() {
            None => "EOF".into(),
            Some(c) => {
                let two: String = self.s[self.i..(self.i + 2).min(self.s.len())]
                    .iter()
                    .collect();
                if ["&&", "||", ";;", ">>", "<<", "|&", "&>"].contains(&two.as_str()) {
                    format!("`{two}`")
                } else if is_meta(c) {
                    go_q(c)
                } else {
                    // A word: mvdan names its token type.
                    "LitWord".into()
                }
            }
        }
    }

    /// The right side of `=~`: raw text up to a blank outside parentheses.
    /// Regex text is `Lit`, quoted text `Quoted`, expansions as usual.
    fn regex_word(&mut self) -> R<Word> {
        let st = self.i;
        let mut depth = 0i32;
        let mut parts = vec![];
        let mut lit = String::new();
        let flush = |lit: &mut String, parts: &mut Vec<Part>| {
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(lit)));
            }
        };
        while let Some(c) = self.peek() {
            match c {
                '(' => depth += 1,
                ')' if depth > 0 => depth -= 1,
                ' ' | '\t' | '\n' if depth == 0 => break,
                ')' => break,
                '$' if self.peek_at(1).is_some_and(|n| {
                    n == '_'
                        || n == '{'
                        || n == '('
                        || n.is_ascii_alphanumeric()
                        || "?#@*!-$".contains(n)
                }) =>
                {
                    flush(&mut lit, &mut parts);
                    parts.push(self.dollar()?);
                    continue;
                }
                '`' => {
                    flush(&mut lit, &mut parts);
                    parts.push(self.dollar()?);
                    continue;
                }
                '\'' => {
                    flush(&mut lit, &mut parts);
                    parts.push(Part::Quoted(self.single_quoted()?));
                    continue;
                }
                '"' => {
                    flush(&mut lit, &mut parts);
                    let at = self.i;
                    self.i += 1;
                    let ps = self.dq_parts(Some('"'), at)?;
                    self.i += 1;
                    parts.push(Part::Dq(ps));
                    continue;
                }
                '\\' => {
                    // The escape stays in the regex (`x\$` matches "x$").
                    lit.push('\\');
                    if let Some(n) = self.peek_at(1) {
                        lit.push(n);
                        self.i += 1;
                    }
                    self.i += 1;
                    continue;
                }
                _ => {}
            }
            lit.push(c);
            self.i += 1;
        }
        if self.i == st {
            return syntax_at(self.i, "missing regex");
        }
        flush(&mut lit, &mut parts);
        Ok(parts)
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
        let op_at = self.i;
        let (op, dfd, len) = if self.starts("<(") || self.starts(">(") {
            // A process substitution: a word, not a redirection.
            self.i = save;
            return Ok(None);
        } else if self.starts("&>>") {
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
            (RedirOp::ReadWrite, 0, 2)
        } else if self.starts("<") {
            (RedirOp::In, 0, 1)
        } else {
            self.i = save;
            return Ok(None);
        };
        if matches!(op, RedirOp::All { .. }) && fd.is_some() {
            self.i = save;
            return Ok(None);
        }
        let op_text: String = self.s[op_at..op_at + len].iter().collect();
        self.i += len;
        let fd = fd.unwrap_or(dfd);
        let need_word = |_: &Parser| {
            syntax_at::<Word>(op_at, format!("`{op_text}` must be followed by a word"))
        };
        if let RedirOp::HereDoc(slot) = &op {
            let strip_tabs = self.peek() == Some('-');
            if strip_tabs {
                self.i += 1;
            }
            self.skip_blank();
            let w = match self.word()? {
                Some(w) => w,
                None => need_word(self)?,
            };
            // mvdan's unquotedWordBytes keeps the quotedness of the last part only: `E'OF'`
            // and `E\OF` are quoted, `E"O"F` is not. Unquoted text and escapes next to each
            // other are one part there.
            let mut quoted = false;
            let mut delim = String::new();
            let mut prev_lit = false;
            for p in &w {
                let lit = matches!(p, Part::Lit(_) | Part::Esc(_));
                match p {
                    Part::Lit(s) => {
                        if !prev_lit {
                            quoted = false;
                        }
                        delim.push_str(s)
                    }
                    Part::Quoted(s) => {
                        quoted = true;
                        delim.push_str(s)
                    }
                    Part::Esc(c) => {
                        quoted = true;
                        delim.push(*c)
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
                prev_lit = lit;
            }
            self.pending.push(Pending {
                delim,
                quoted,
                strip_tabs,
                slot: slot.clone(),
                pos: op_at,
            });
            return Ok(Some(Redir {
                fd,
                op,
                target: vec![],
            }));
        }
        self.skip_blank();
        let target = match self.word()? {
            Some(w) => w,
            None => need_word(self)?,
        };
        Ok(Some(Redir { fd, op, target }))
    }

    /// The elements of an array literal, from its `(` to its `)`.
    fn array_items(&mut self) -> R<Vec<Word>> {
        let open = self.i;
        self.i += 1;
        let mut items = vec![];
        loop {
            self.skip_newlines()?;
            match self.peek() {
                Some(')') => {
                    self.i += 1;
                    return Ok(items);
                }
                None => return syntax_at(open, "reached EOF without matching `(` with `)`"),
                _ => {}
            }
            match self.word()? {
                Some(w) => items.push(w),
                None => return syntax_at(self.i, "array element values must be words"),
            }
        }
    }

    fn simple(&mut self) -> R<Cmd> {
        let mut word_at = self.i;
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
                Some(c)
                    if is_meta(c) && !(matches!(c, '<' | '>') && self.peek_at(1) == Some('(')) =>
                {
                    if c == '(' && words.len() == 1 && assigns.is_empty() && redirs.is_empty() {
                        return self.funcdef(words.pop().unwrap(), word_at);
                    }
                    let decl = matches!(words.first().map(|w| w.as_slice()),
                        Some([Part::Lit(n)]) if matches!(n.as_str(), "declare" | "typeset" | "local" | "readonly" | "export"));
                    if c == '(' && decl && words.len() > 1 && self.s[self.i - 1] == '=' {
                        let w = words.last_mut().unwrap();
                        if matches!(assignment(w), Some(a) if a.value.is_empty() && a.index.is_none())
                        {
                            let items = self.array_items()?;
                            w.push(Part::Array(items));
                            continue;
                        }
                    }
                    if c == '(' || (c == ')' && self.parens == 0) {
                        return syntax_at(
                            self.i,
                            format!(
                                "a command can only contain words and redirects; encountered `{c}`"
                            ),
                        );
                    }
                    break;
                }
                _ => {}
            }
            let save = self.i;
            let Some(w) = self.word()? else { break };
            if words.is_empty() {
                word_at = save;
            }
            if words.is_empty() {
                if let Some(mut a) = assignment(&w) {
                    if self.peek() == Some('(') && a.value.is_empty() {
                        if a.index.is_some() {
                            return syntax_at(save, "arrays cannot be nested");
                        }
                        a.array = Some(self.array_items()?);
                    }
                    assigns.push(a);
                    continue;
                }
                if let [Part::Lit(name)] = w.as_slice() {
                    if UNSUPPORTED_NAMES.contains(&name.as_str()) {
                        return unsupported(name);
                    }
                    if name == "let" && assigns.is_empty() {
                        // mvdan parses `let` operands as arithmetic, not as words.
                        words.push(w);
                        continue;
                    }
                }
            }
            let decl = matches!(words.first().map(|w| w.as_slice()),
                Some([Part::Lit(n)]) if matches!(n.as_str(), "declare" | "typeset" | "local" | "readonly" | "export"));
            if decl {
                // mvdan's declClause: a literal `NAME=…` whose name is not valid.
                if let Some(Part::Lit(s)) = w.first() {
                    if let Some(k) = s.find('=').filter(|k| *k > 0) {
                        let n = s[..k].strip_suffix('+').unwrap_or(&s[..k]);
                        if !is_name(n) && !n.contains(['[', '{']) {
                            return syntax_at(save, "invalid var name");
                        }
                    }
                }
                // `export V=~/x`: the value's leading tilde expands as in an assignment
                if let Some(a) = assignment(&w).filter(|a| a.index.is_none()) {
                    if matches!(a.value.first(), Some(Part::Tilde | Part::TildeUser(_))) {
                        let op = if a.append { "+=" } else { "=" };
                        let mut nw = vec![Part::Lit(format!("{}{op}", a.name))];
                        nw.extend(a.value);
                        words.push(nw);
                        continue;
                    }
                }
            }
            words.push(w);
        }
        if words.is_empty() && assigns.is_empty() && redirs.is_empty() {
            return syntax_at(
                word_at,
                match self.peek() {
                    Some(c) => format!("{} is not a valid start for a statement", go_q(c)),
                    None => "empty command".to_string(),
                },
            );
        }
        if let Some([Part::Lit(name)]) = words.first().map(|w| w.as_slice()) {
            if name == "let" && words.len() == 1 {
                return syntax_at(word_at, "`let` must be followed by an expression");
            }
            check_builtin_args(name, &words[1..])?;
        }
        Ok(Cmd::Simple {
            assigns,
            words,
            redirs,
            pos: self.line_col(word_at),
        })
    }

    /// `name (…`: mvdan reads a function declaration when the first word is a plain
    /// literal (and wants `)` next), and refuses any other word before `(` as a name.
    fn funcdef(&mut self, name: Word, at: usize) -> R<Cmd> {
        if !matches!(name.as_slice(), [Part::Lit(_)]) {
            return syntax_at(at, "invalid func name");
        }
        self.i += 1;
        self.skip_blank();
        if self.peek() != Some(')') {
            return syntax_at(at, "`foo(` must be followed by `)`");
        }
        self.i += 1;
        self.func_body(name, at)
    }

    fn func_body(&mut self, name: Word, at: usize) -> R<Cmd> {
        let name = match name.as_slice() {
            [Part::Lit(n)] if !n.contains(['$', '*', '?', '[', '=']) => n.clone(),
            _ => return syntax_at(at, "invalid func name"),
        };
        self.skip_newlines()?;
        if !self.at_stmt() {
            return syntax_at(at, "`foo()` must be followed by a statement");
        }
        let body = self.command()?;
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
            if matches!(c, '<' | '>') && self.peek_at(1) == Some('(') {
                flush(&mut lit, &mut parts);
                parts.push(self.proc_subst()?);
                continue;
            }
            if is_meta(c) {
                break;
            }
            match c {
                '\'' => {
                    flush(&mut lit, &mut parts);
                    parts.push(Part::Quoted(self.single_quoted()?));
                }
                '"' => {
                    flush(&mut lit, &mut parts);
                    let at = self.i;
                    self.i += 1;
                    let ps = self.dq_parts(Some('"'), at)?;
                    self.i += 1;
                    parts.push(Part::Dq(ps));
                }
                '\\' => {
                    flush(&mut lit, &mut parts);
                    match self.peek_at(1) {
                        Some('\n') => self.i += 2,
                        Some(n) => {
                            parts.push(Part::Esc(n));
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
                        _ => {
                            let st = self.i;
                            while self.peek().is_some_and(|c| {
                                c == '_' || c == '-' || c == '.' || c.is_ascii_alphanumeric()
                            }) {
                                self.i += 1;
                            }
                            if self.peek().is_some_and(|c| c != '/' && !is_meta(c)) {
                                return unsupported("~ followed by an expansion");
                            }
                            parts.push(Part::TildeUser(self.s[st..self.i].iter().collect()));
                        }
                    }
                }
                '{' if self.i == start && (self.peek_at(1).is_none_or(is_meta)) => {
                    // `{` alone as an argument, not a group (the caller saw no reserved word).
                    lit.push(c);
                    self.i += 1;
                }
                _ => {
                    if matches!(c, '!' | '@' | '+' | '*' | '?') && self.peek_at(1) == Some('(') {
                        // Kept as literal text: the expansion reports it (extglob is off).
                        let open = self.i;
                        let mut depth = 0;
                        loop {
                            match self.peek() {
                                None => {
                                    return syntax_at(
                                        open + 1,
                                        "reached EOF without matching `(` with `)`",
                                    )
                                }
                                Some('(') => depth += 1,
                                Some(')') => {
                                    depth -= 1;
                                    if depth == 0 {
                                        lit.push(')');
                                        self.i += 1;
                                        break;
                                    }
                                }
                                _ => {}
                            }
                            lit.push(self.s[self.i]);
                            self.i += 1;
                        }
                        self.extglob = true;
                        continue;
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
        Ok(Some(parts))
    }

    /// `'…'` at the cursor (consumed): its text.
    fn single_quoted(&mut self) -> R<String> {
        let at = self.i;
        self.i += 1;
        let st = self.i;
        while self.peek().is_some_and(|c| c != '\'') {
            self.i += 1;
        }
        if self.peek().is_none() {
            return syntax_at(at, "reached EOF without closing quote `'`");
        }
        let t = self.s[st..self.i].iter().collect();
        self.i += 1;
        Ok(t)
    }

    /// `$'…'` with the cursor after `$` (consumed): the text with escapes decoded.
    fn ansi_quoted(&mut self, at: usize) -> R<String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return syntax_at(at, "reached EOF without closing quote `'`");
            };
            self.i += 1;
            match c {
                '\'' => break,
                '\\' => {
                    let Some(n) = self.peek() else { continue };
                    self.i += 1;
                    let hex = |p: &mut Parser, max: usize| {
                        let mut v = 0u32;
                        let mut k = 0;
                        while k < max {
                            match p.peek().and_then(|c| c.to_digit(16)) {
                                Some(d) => {
                                    v = v * 16 + d;
                                    p.i += 1;
                                    k += 1;
                                }
                                None => break,
                            }
                        }
                        (v, k)
                    };
                    match n {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'a' => out.push('\x07'),
                        'b' => out.push('\x08'),
                        'e' | 'E' => out.push('\x1b'),
                        'f' => out.push('\x0c'),
                        'v' => out.push('\x0b'),
                        '\\' | '\'' | '"' | '?' => out.push(n),
                        'x' => {
                            let (v, k) = hex(self, 2);
                            if k == 0 {
                                out.push_str("\\x");
                            } else {
                                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                            }
                        }
                        'u' | 'U' => {
                            let (v, k) = hex(self, if n == 'u' { 4 } else { 8 });
                            if k == 0 {
                                out.push('\\');
                                out.push(n);
                            } else {
                                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                            }
                        }
                        '0'..='7' => {
                            let mut v = n.to_digit(8).unwrap_or(0);
                            let mut k = 1;
                            while k < 3 {
                                match self.peek().and_then(|c| c.to_digit(8)) {
                                    Some(d) => {
                                        v = v * 8 + d;
                                        self.i += 1;
                                        k += 1;
                                    }
                                    None => break,
                                }
                            }
                            out.push(char::from_u32(v & 0xff).unwrap_or('\u{fffd}'));
                        }
                        'c' => match self.peek() {
                            Some(x) => {
                                self.i += 1;
                                out.push(char::from_u32((x as u32) & 0x1f).unwrap_or('\u{fffd}'));
                            }
                            None => out.push_str("\\c"),
                        },
                        _ => {
                            out.push('\\');
                            out.push(n);
                        }
                    }
                }
                _ => out.push(c),
            }
        }
        Ok(out)
    }

    /// Parts of double-quoted text up to `end` (not consumed), or to the end of input;
    /// `open` is where the opening quote is.
    fn dq_parts(&mut self, end: Option<char>, open: usize) -> R<Vec<Part>> {
        let mut parts = vec![];
        let mut lit = String::new();
        loop {
            let Some(c) = self.peek() else {
                if end.is_some() {
                    return syntax_at(open, "reached EOF without closing quote `\"`");
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
                '$' if matches!(self.peek_at(1), Some('"' | '\'')) => {
                    // `$"` and `$'` are not special inside double quotes.
                    lit.push('$');
                    self.i += 1;
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
    /// `<(list)` or `>(list)` at the cursor.
    fn proc_subst(&mut self) -> R<Part> {
        let at = self.i;
        let out = self.peek() == Some('>');
        self.i += 2;
        self.parens += 1;
        let saved = std::mem::replace(&mut self.cases, 0);
        let l = self.list(&[]);
        self.parens -= 1;
        self.cases = saved;
        let l = l?;
        self.skip_newlines()?;
        if self.peek() != Some(')') {
            let op = if out { ">(" } else { "<(" };
            return syntax_at(at, format!("reached EOF without matching `{op}` with `)`"));
        }
        self.i += 1;
        Ok(Part::ProcSubst(out, Arc::new(l)))
    }

    fn dollar(&mut self) -> R<Part> {
        let at = self.i;
        let mut p = self.dollar_in()?;
        if let Part::Param(b) = &mut p {
            if b.name == "LINENO" {
                b.line = 1 + self.s[..at].iter().filter(|c| **c == '\n').count() as u32;
            }
        }
        Ok(p)
    }

    fn dollar_in(&mut self) -> R<Part> {
        let at = self.i;
        if self.peek() == Some('`') {
            self.i += 1;
            let mut src = String::new();
            loop {
                match self.peek() {
                    None => return syntax_at(at, "reached EOF without closing quote \"`\""),
                    Some('`') => break,
                    Some('\\') if matches!(self.peek_at(1), Some('`' | '\\' | '$')) => {
                        src.push(self.peek_at(1).unwrap_or('\\'));
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
                Ok(Part::Arith(self.arith_text(at, "$((", "))")?))
            }
            Some('[') => {
                // `$[…]`: the old form of `$((…))`.
                let st = self.i + 1;
                let mut depth = 0;
                let mut k = st;
                loop {
                    match self.s.get(k) {
                        None => return syntax_at(at, "reached EOF without matching `$[` with `]`"),
                        Some('[') => depth += 1,
                        Some(']') if depth == 0 => break,
                        Some(']') => depth -= 1,
                        _ => {}
                    }
                    k += 1;
                }
                let text: String = self.s[st..k].iter().collect();
                self.i = k + 1;
                Ok(Part::Arith(Parser::new(&text).dq_parts(None, 0)?))
            }
            Some('(') => {
                self.i += 1;
                self.parens += 1;
                let saved = std::mem::replace(&mut self.cases, 0);
                let l = self.list(&[]);
                self.parens -= 1;
                self.cases = saved;
                let l = l?;
                self.skip_newlines()?;
                if self.peek() != Some(')') {
                    return syntax_at(at, "reached EOF without matching `$(` with `)`");
                }
                self.i += 1;
                Ok(Part::CmdSub(Arc::new(l)))
            }
            Some('{') => {
                self.i += 1;
                self.brace_param(at)
            }
            Some('\'') => Ok(Part::Quoted(self.ansi_quoted(at)?)),
            Some('"') => {
                let q = self.i;
                self.i += 1;
                let ps = self.dq_parts(Some('"'), q)?;
                self.i += 1;
                Ok(Part::Dq(ps))
            }
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

    fn brace_param(&mut self, at: usize) -> R<Part> {
        let saved = std::mem::replace(&mut self.brace_at, at);
        let r = self.brace_param_in();
        self.brace_at = saved;
        r
    }

    fn unclosed_brace<T>(&self) -> R<T> {
        match self.peek() {
            None => syntax_at(self.brace_at, "reached EOF without matching `${` with `}`"),
            Some(c) => syntax_at(
                self.i,
                format!("not a valid parameter expansion operator: {}", go_q(c)),
            ),
        }
    }

    fn brace_param_in(&mut self) -> R<Part> {
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
                if self
                    .peek()
                    .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                {
                    return syntax_at(st, "invalid parameter name");
                }
            }
            Some(c) if "?$#@*-".contains(c) => self.i += 1,
            Some('}') => return syntax_at(self.i, "invalid parameter name"),
            Some('!') => {
                // Only `${!a[@]}` / `${!a[*]}` (the indices of an array).
                let st = self.i + 1;
                let mut k = st;
                while self
                    .s
                    .get(k)
                    .is_some_and(|c| *c == '_' || c.is_ascii_alphanumeric())
                {
                    k += 1;
                }
                let mut name: String = self.s[st..k].iter().collect();
                if name.is_empty() && self.s.get(st).is_some_and(|c| "#?$-!".contains(*c)) {
                    name.push(self.s[st]);
                    k += 1;
                }
                let tail: String = self.s[k..(k + 4).min(self.s.len())].iter().collect();
                let param_name = is_name(&name)
                    || name.len() == 1
                    || name.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty();
                if param_name && self.s.get(k) == Some(&'}') {
                    // `${!x}`: the variable named by x's value.
                    self.i = k + 1;
                    return Ok(Part::Param(Box::new(Param {
                        name,
                        op: ParamOp::Indirect,
                        index: None,
                        line: 0,
                    })));
                }
                if is_name(&name) && (tail.starts_with("@}") || tail.starts_with("*}")) {
                    self.i = k + 2;
                    return Ok(param(name, ParamOp::Names(tail.starts_with('@'))));
                }
                if is_name(&name) && self.s.get(k).is_some_and(|c| ":-=+?#%/^,@".contains(*c)) {
                    // mvdan's indirection takes precedence: the operator is only parsed.
                    self.i = k;
                    self.brace_op(name.clone())?;
                    return Ok(param(name, ParamOp::Indirect));
                }
                if !is_name(&name) || !(tail == "[@]}" || tail == "[*]}") {
                    return unsupported("${!…}");
                }
                self.i = k + 4;
                return Ok(Part::Param(Box::new(Param {
                    name,
                    op: ParamOp::Keys,
                    index: None,
                    line: 0,
                })));
            }
            _ => return self.unclosed_brace(),
        }
        let name: String = self.s[st..self.i].iter().collect();
        let mut index = None;
        if self.peek() == Some('[') {
            if !is_name(&name) {
                return syntax_at(self.i, "cannot index a special parameter name");
            }
            let open = self.i;
            self.i += 1;
            let ist = self.i;
            let mut depth = 0;
            loop {
                match self.peek() {
                    None => return syntax_at(open, "reached EOF without matching `[` with `]`"),
                    Some('[') => depth += 1,
                    Some(']') if depth == 0 => break,
                    Some(']') => depth -= 1,
                    _ => {}
                }
                self.i += 1;
            }
            let text: String = self.s[ist..self.i].iter().collect();
            self.i += 1;
            index = Some(Box::new(match text.as_str() {
                "@" => Index::All(true),
                "*" => Index::All(false),
                // An associative array's key is a word (quotes removed), an indexed
                // array's an arithmetic expression.
                _ => Index::Expr(
                    Parser::new(&text).dq_parts(None, 0)?,
                    Parser::new(&text).word().ok().flatten().unwrap_or_default(),
                ),
            }));
        }
        let with_index = |p: Part| match p {
            Part::Param(mut b) => {
                b.index = index.clone();
                Part::Param(b)
            }
            p => p,
        };
        if len {
            if self.peek() != Some('}') {
                return self.unclosed_brace();
            }
            self.i += 1;
            return Ok(with_index(param(name, ParamOp::Len)));
        }
        let r = self.brace_op(name)?;
        Ok(with_index(r))
    }

    fn brace_op(&mut self, name: String) -> R<Part> {
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
                    word: leading_tilde(self.brace_word()?),
                }
            }
            Some(k @ ('-' | '=' | '+' | '?')) => {
                self.i += 1;
                ParamOp::Test {
                    kind: k,
                    colon: false,
                    word: leading_tilde(self.brace_word()?),
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
            Some('@') => {
                self.i += 1;
                let at = self.i;
                let w = self.brace_word()?;
                let op = match w.as_slice() {
                    [Part::Lit(s)] => s.clone(),
                    _ => return syntax_at(at, "@ expansion operator requires a literal"),
                };
                let mut cs = op.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) if "QEaAPUuLKk".contains(c) => ParamOp::At(c),
                    _ => {
                        let q = if op.contains('`') || op.chars().any(char::is_control) {
                            format!("{op:?}")
                        } else {
                            format!("`{op}`")
                        };
                        return syntax_at(at, format!("invalid @ expansion operator {q}"));
                    }
                }
            }
            Some(k @ ('^' | ',')) => {
                self.i += 1;
                let all = self.peek() == Some(k);
                if all {
                    self.i += 1;
                }
                ParamOp::Case {
                    upper: k == '^',
                    all,
                    pat: self.brace_word()?,
                }
            }
            _ => return self.unclosed_brace(),
        };
        Ok(param(name, op))
    }

    /// An operand of `${x:off:len}` up to `:` (then `true`) or `}` (consumed): an
    /// arithmetic expression, which may hold expansions (`${x:$n:$((m-1))}`).
    fn substr_part(&mut self) -> R<(Word, bool)> {
        let st = self.i;
        // Nesting of `(`/`{` opened inside the operand, so that a `:` or `}` of an inner
        // `${…}`, `$(…)` or ternary-free group does not end it.
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                ':' | '}' if depth == 0 => break,
                '(' | '{' => depth += 1,
                ')' | '}' => depth = depth.saturating_sub(1),
                '\\' => self.i += 1,
                '\'' | '"' => {
                    let q = c;
                    self.i += 1;
                    while self.peek().is_some_and(|d| d != q) {
                        if q == '"' && self.peek() == Some('\\') {
                            self.i += 1;
                        }
                        self.i += 1;
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
        let Some(end) = self.peek() else {
            return self.unclosed_brace();
        };
        let text: String = self.s[st..self.i].iter().collect();
        self.i += 1;
        let word = if text.contains(['$', '`', '\'', '"', '\\']) {
            Parser::new(&text).dq_parts(None, 0)?
        } else {
            vec![Part::Quoted(text)]
        };
        Ok((word, end == ':'))
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
                return self.unclosed_brace();
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
                                return syntax_at(st - 1, "reached EOF without closing quote `'`");
                            }
                            parts.push(Part::Quoted(self.s[st..self.i].iter().collect()));
                            self.i += 1;
                        }
                        '"' => {
                            self.i += 1;
                            let ps = self.dq_parts(Some('"'), self.i - 1)?;
                            self.i += 1;
                            parts.push(Part::Dq(ps));
                        }
                        '\\' => {
                            match self.peek_at(1) {
                                // A line continuation.
                                Some('\n') => {}
                                Some(n) => parts.push(Part::Esc(n)),
                                None => parts.push(Part::Quoted("\\".into())),
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

/// mvdan expands a leading `~` (alone or before `/`) of the word of `${x:-word}` and its
/// kin, quoted or not.
fn leading_tilde(mut w: Word) -> Word {
    if let Some(Part::Lit(first)) = w.first() {
        if first == "~" || first.starts_with("~/") {
            let rest = first[1..].to_string();
            w.remove(0);
            if !rest.is_empty() {
                w.insert(0, Part::Lit(rest));
            }
            w.insert(0, Part::Tilde);
        }
    }
    w
}

fn param(name: String, op: ParamOp) -> Part {
    Part::Param(Box::new(Param {
        name,
        op,
        index: None,
        line: 0,
    }))
}

/// The words of an alias's text (`alias l='ls -l'`).
pub(super) fn words(src: &str) -> R<Vec<Word>> {
    let mut p = Parser::new(src);
    let mut out = vec![];
    loop {
        p.skip_blank();
        match p.word()? {
            Some(w) => out.push(w),
            None => return Ok(out),
        }
    }
}

/// `NAME=value`, `NAME+=value`, `NAME[i]=value` at the start of a word.
pub(super) fn assignment(w: &Word) -> Option<Assign> {
    let Part::Lit(first) = w.first()? else {
        return None;
    };
    let name_end = first
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(first.len());
    let name = &first[..name_end];
    if !is_name(name) {
        return None;
    }
    let rest = &first[name_end..];
    let (index, after, k) = if let Some(r) = rest.strip_prefix('[') {
        // The index runs to the `]` followed by `=` or `+=`, maybe across expansions.
        let mut idx: Vec<Part> = vec![];
        let mut cur = r.to_string();
        let mut k = 0;
        loop {
            if let Some(p) = cur.find("]=").or_else(|| cur.find("]+=")) {
                if !cur[..p].is_empty() {
                    idx.push(Part::Lit(cur[..p].to_string()));
                }
                break (Some(idx), cur[p + 1..].to_string(), k);
            }
            if !cur.is_empty() {
                idx.push(Part::Lit(cur.clone()));
            }
            k += 1;
            match w.get(k)? {
                Part::Lit(s) => cur = s.clone(),
                p @ (Part::Param(_)
                | Part::CmdSub(_)
                | Part::Arith(_)
                | Part::Quoted(_)
                | Part::Esc(_)
                | Part::Dq(_)) => {
                    idx.push(p.clone());
                    cur = String::new();
                }
                _ => return None,
            }
        }
    } else {
        (None, rest.to_string(), 0)
    };
    let (append, val) = if let Some(v) = after.strip_prefix("+=") {
        (true, v)
    } else {
        (false, after.strip_prefix('=')?)
    };
    let mut value = vec![];
    // mvdan expands a tilde at the start of an assigned value (`v=~/a`; not after `:`)
    let more = w.len() > k + 1;
    let tilde = val.strip_prefix('~').and_then(|t| {
        let (user, tail) = t.split_at(t.find('/').unwrap_or(t.len()));
        let ok = user
            .chars()
            .all(|c| c == '_' || c == '-' || c == '.' || c.is_ascii_alphanumeric());
        (ok && (!tail.is_empty() || !more || user.is_empty()))
            .then(|| (user.to_string(), tail.to_string()))
    });
    match tilde {
        Some((user, tail)) => {
            value.push(if user.is_empty() {
                Part::Tilde
            } else {
                Part::TildeUser(user)
            });
            if !tail.is_empty() {
                value.push(Part::Lit(tail));
            }
        }
        None if !val.is_empty() => value.push(Part::Lit(val.to_string())),
        None => {}
    }
    value.extend(w[k + 1..].iter().cloned());
    Some(Assign {
        name: name.to_string(),
        index,
        append,
        value,
        array: None,
    })
}

/// Options of builtins the interpreter implements only in part.
/// The reserved words `type` names as keywords.
pub(crate) fn is_keyword(w: &str) -> bool {
    matches!(
        w,
        "!" | "[["
            | "]]"
            | "case"
            | "coproc"
            | "do"
            | "done"
            | "elif"
            | "else"
            | "esac"
            | "fi"
            | "for"
            | "function"
            | "if"
            | "in"
            | "select"
            | "then"
            | "time"
            | "until"
            | "while"
            | "{"
            | "}"
    )
}

fn check_builtin_args(name: &str, args: &[Word]) -> R<()> {
    let lit = |w: &Word| match w.as_slice() {
        [Part::Lit(s)] => Some(s.clone()),
        _ => None,
    };
    let first = args.first().and_then(lit);
    match name {
        "read" => {}
        "declare" | "typeset" | "local" | "readonly" | "export" => {
            // mvdan runs them all (a declaration without arguments lists nothing).
            let _ = args;
        }

        "echo" | "type" | "command" | "pwd" | "exit" | "return" | "shift" | "test" | "["
        | "eval" => {
            if let Some(f) = first {
                let bad = match name {
                    "pwd" | "type" | "command" => false,
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

/// An arithmetic expression ending in a binary operator (`1 +`): where that operator is and
/// its text, as mvdan reports it when parsing. Expressions with substitutions or quotes
/// inside are left to evaluation.
fn arith_dangling_op(text: &str) -> Option<(usize, String)> {
    if text.contains("$(") || text.contains(['`', '\'', '"']) {
        return None;
    }
    const OPS: &[&str] = &[
        "<<=", ">>=", "**", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=",
        "%=", "&=", "|=", "^=", "++", "--", "+", "-", "*", "/", "%", "<", ">", "=", "&", "|", "^",
        "?", ":", ",",
    ];
    let cs: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut last: Option<(usize, &str)> = None;
    while i < cs.len() {
        if cs[i].is_whitespace() {
            i += 1;
            continue;
        }
        let op = OPS.iter().find(|o| {
            o.chars()
                .enumerate()
                .all(|(k, c)| cs.get(i + k) == Some(&c))
        });
        match op {
            Some(o) if *o != "++" && *o != "--" => {
                last = Some((i, o));
                i += o.len();
            }
            Some(o) => {
                last = None;
                i += o.len();
            }
            None => {
                last = None;
                i += 1;
            }
        }
    }
    last.map(|(i, o)| (i, o.to_string()))
}
