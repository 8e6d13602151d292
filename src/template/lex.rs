//! The lexer of Go's `text/template/parse`, state for state, so that the
//! parser sees the same tokens (and errors) as Go's.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum It {
    Error,
    Bool,
    Char,
    CharConstant,
    Comment,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // keywords
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl It {
    pub fn is_keyword(self) -> bool {
        matches!(
            self,
            It::Block
                | It::Break
                | It::Continue
                | It::Dot
                | It::Define
                | It::Else
                | It::End
                | It::If
                | It::Nil
                | It::Range
                | It::Template
                | It::With
        )
    }
}

#[derive(Clone, Debug)]
pub struct Item<'a> {
    pub typ: It,
    pub pos: usize,
    pub val: ItemVal<'a>,
    pub line: usize,
}

/// Most items are slices of the input; errors carry a formatted message.
#[derive(Clone, Debug)]
pub enum ItemVal<'a> {
    Src(&'a str),
    Msg(String),
}

impl<'a> Item<'a> {
    pub fn val(&self) -> &str {
        match &self.val {
            ItemVal::Src(s) => s,
            ItemVal::Msg(s) => s,
        }
    }

    pub fn src(&self) -> &'a str {
        match &self.val {
            ItemVal::Src(s) => s,
            ItemVal::Msg(_) => "",
        }
    }
}

impl std::fmt::Display for Item<'_> {
    /// Go's `item.String()`, used in "unexpected X" errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.typ {
            It::Eof => write!(f, "EOF"),
            It::Error => write!(f, "{}", self.val()),
            t if t.is_keyword() => write!(f, "<{}>", self.val()),
            _ => {
                let v = self.val();
                if v.chars().count() > 10 {
                    // %.10q: quote the first ten runes.
                    let s: String = v.chars().take(10).collect();
                    write!(f, "{}...", super::strconv::quote(&s))
                } else {
                    write!(f, "{}", super::strconv::quote(v))
                }
            }
        }
    }
}

fn keyword(word: &str) -> Option<It> {
    Some(match word {
        "." => It::Dot,
        "block" => It::Block,
        "break" => It::Break,
        "continue" => It::Continue,
        "define" => It::Define,
        "else" => It::Else,
        "end" => It::End,
        "if" => It::If,
        "range" => It::Range,
        "nil" => It::Nil,
        "template" => It::Template,
        "with" => It::With,
        _ => return None,
    })
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";
const TRIM_MARKER_LEN: usize = 2;

#[derive(Clone, Copy)]
enum State {
    Text,
    LeftDelim,
    Comment,
    RightDelim,
    InsideAction,
    Space,
    Identifier,
    Field,
    Variable,
    Char,
    Number,
    Quote,
    RawQuote,
}

pub struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    at_eof: bool,
    paren_depth: i32,
    line: usize,
    start_line: usize,
    item: Option<Item<'a>>,
    inside_action: bool,
    pub break_ok: bool,
    pub continue_ok: bool,
    dead: bool,
}

const EOF: i32 = -1;

fn is_space(r: i32) -> bool {
    r == ' ' as i32 || r == '\t' as i32 || r == '\r' as i32 || r == '\n' as i32
}

fn is_alnum(r: i32) -> bool {
    if r < 0 {
        return false;
    }
    match char::from_u32(r as u32) {
        Some(c) => c == '_' || c.is_alphabetic() || c.is_numeric(),
        None => false,
    }
}

fn has_left_trim(s: &[u8]) -> bool {
    s.len() >= 2 && s[0] == b'-' && is_space(s[1] as i32)
}

fn has_right_trim(s: &[u8]) -> bool {
    s.len() >= 2 && is_space(s[0] as i32) && s[1] == b'-'
}

fn right_trim_len(s: &str) -> usize {
    s.len() - s.trim_end_matches([' ', '\t', '\r', '\n']).len()
}

fn left_trim_len(s: &str) -> usize {
    s.len() - s.trim_start_matches([' ', '\t', '\r', '\n']).len()
}

/// `%#U` of a rune, as in Go's "bad character U+0041 'A'".
pub fn sharp_u(r: i32) -> String {
    let u = if r < 0 { 0xfffd } else { r as u32 };
    let mut s = format!("U+{:04X}", u);
    if let Some(c) = char::from_u32(u) {
        if super::strconv::is_print(c) {
            s.push_str(&format!(" '{}'", c));
        }
    }
    s
}

impl<'a> Lexer<'a> {
    pub fn new(input: &'a str) -> Self {
        Lexer {
            input,
            pos: 0,
            start: 0,
            at_eof: false,
            paren_depth: 0,
            line: 1,
            start_line: 1,
            item: None,
            inside_action: false,
            break_ok: true,
            continue_ok: true,
            dead: false,
        }
    }

    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn next(&mut self) -> i32 {
        if self.pos >= self.input.len() {
            self.at_eof = true;
            return EOF;
        }
        let c = self.input[self.pos..].chars().next().unwrap();
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        c as i32
    }

    fn peek(&mut self) -> i32 {
        let r = self.next();
        self.backup();
        r
    }

    fn backup(&mut self) {
        if !self.at_eof && self.pos > 0 {
            let c = self.input[..self.pos].chars().next_back().unwrap();
            self.pos -= c.len_utf8();
            if c == '\n' {
                self.line -= 1;
            }
        }
    }

    fn this_item(&mut self, t: It) -> Item<'a> {
        let i = Item {
            typ: t,
            pos: self.start,
            val: ItemVal::Src(&self.input[self.start..self.pos]),
            line: self.start_line,
        };
        self.start = self.pos;
        self.start_line = self.line;
        i
    }

    fn emit(&mut self, t: It) -> Option<State> {
        let i = self.this_item(t);
        self.item = Some(i);
        None
    }

    fn ignore(&mut self) {
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn accept(&mut self, valid: &str) -> bool {
        let r = self.next();
        if r >= 0 && valid.contains(char::from_u32(r as u32).unwrap_or('\0')) {
            return true;
        }
        self.backup();
        false
    }

    fn accept_run(&mut self, valid: &str) {
        loop {
            let r = self.next();
            if !(r >= 0 && valid.contains(char::from_u32(r as u32).unwrap_or('\0'))) {
                break;
            }
        }
        self.backup();
    }

    fn errorf(&mut self, msg: String) -> Option<State> {
        self.item = Some(Item {
            typ: It::Error,
            pos: self.start,
            val: ItemVal::Msg(msg),
            line: self.start_line,
        });
        self.dead = true;
        None
    }

    pub fn next_item(&mut self) -> Item<'a> {
        if self.dead {
            return Item {
                typ: It::Eof,
                pos: self.pos,
                val: ItemVal::Src("EOF"),
                line: self.start_line,
            };
        }
        self.item = Some(Item {
            typ: It::Eof,
            pos: self.pos,
            val: ItemVal::Src("EOF"),
            line: self.start_line,
        });
        let mut state = if self.inside_action {
            State::InsideAction
        } else {
            State::Text
        };
        loop {
            match self.step(state) {
                Some(s) => state = s,
                None => return self.item.take().unwrap(),
            }
        }
    }

    fn step(&mut self, s: State) -> Option<State> {
        match s {
            State::Text => self.lex_text(),
            State::LeftDelim => self.lex_left_delim(),
            State::Comment => self.lex_comment(),
            State::RightDelim => self.lex_right_delim(),
            State::InsideAction => self.lex_inside_action(),
            State::Space => self.lex_space(),
            State::Identifier => self.lex_identifier(),
            State::Field => self.lex_field_or_variable(It::Field),
            State::Variable => {
                if self.at_terminator() {
                    return self.emit(It::Variable);
                }
                self.lex_field_or_variable(It::Variable)
            }
            State::Char => self.lex_char(),
            State::Number => self.lex_number(),
            State::Quote => self.lex_quote(),
            State::RawQuote => self.lex_raw_quote(),
        }
    }

    fn lex_text(&mut self) -> Option<State> {
        if let Some(x) = self.rest().find(LEFT) {
            if x > 0 {
                self.pos += x;
                let mut trim = 0;
                let delim_end = self.pos + LEFT.len();
                if has_left_trim(&self.input.as_bytes()[delim_end..]) {
                    trim = right_trim_len(&self.input[self.start..self.pos]);
                }
                self.pos -= trim;
                self.line += self.input[self.start..self.pos].matches('\n').count();
                let i = self.this_item(It::Text);
                self.pos += trim;
                self.ignore();
                if !i.src().is_empty() {
                    self.item = Some(i);
                    return None;
                }
            }
            return Some(State::LeftDelim);
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.line += self.input[self.start..self.pos].matches('\n').count();
            return self.emit(It::Text);
        }
        self.emit(It::Eof)
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let b = self.rest().as_bytes();
        if has_right_trim(b) && self.input[self.pos + TRIM_MARKER_LEN..].starts_with(RIGHT) {
            return (true, true);
        }
        if self.rest().starts_with(RIGHT) {
            return (true, false);
        }
        (false, false)
    }

    fn lex_left_delim(&mut self) -> Option<State> {
        self.pos += LEFT.len();
        let trim = has_left_trim(self.rest().as_bytes());
        let after = if trim { TRIM_MARKER_LEN } else { 0 };
        if self.input[self.pos + after..].starts_with(LEFT_COMMENT) {
            self.pos += after;
            self.ignore();
            return Some(State::Comment);
        }
        let i = self.this_item(It::LeftDelim);
        self.inside_action = true;
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        self.item = Some(i);
        None
    }

    fn lex_comment(&mut self) -> Option<State> {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.rest().find(RIGHT_COMMENT) else {
            return self.errorf("unclosed comment".into());
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.errorf("comment ends before closing delimiter".into());
        }
        self.line += self.input[self.start..self.pos].matches('\n').count();
        let _ = self.this_item(It::Comment);
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += RIGHT.len();
        if trim {
            self.pos += left_trim_len(self.rest());
        }
        self.ignore();
        Some(State::Text)
    }

    fn lex_right_delim(&mut self) -> Option<State> {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += TRIM_MARKER_LEN;
            self.ignore();
        }
        self.pos += RIGHT.len();
        let i = self.this_item(It::RightDelim);
        if trim {
            self.pos += left_trim_len(self.rest());
            self.ignore();
        }
        self.inside_action = false;
        self.item = Some(i);
        None
    }

    fn lex_inside_action(&mut self) -> Option<State> {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return Some(State::RightDelim);
            }
            return self.errorf("unclosed left paren".into());
        }
        let r = self.next();
        if r == EOF {
            return self.errorf("unclosed action".into());
        }
        if is_space(r) {
            self.backup();
            return Some(State::Space);
        }
        let c = char::from_u32(r as u32).unwrap_or('\u{fffd}');
        match c {
            '=' => self.emit(It::Assign),
            ':' => {
                if self.next() != '=' as i32 {
                    return self.errorf("expected :=".into());
                }
                self.emit(It::Declare)
            }
            '|' => self.emit(It::Pipe),
            '"' => Some(State::Quote),
            '`' => Some(State::RawQuote),
            '$' => Some(State::Variable),
            '\'' => Some(State::Char),
            '.' => {
                if self.pos < self.input.len() {
                    let r = self.input.as_bytes()[self.pos];
                    if !r.is_ascii_digit() {
                        return Some(State::Field);
                    }
                }
                self.backup();
                Some(State::Number)
            }
            '+' | '-' | '0'..='9' => {
                self.backup();
                Some(State::Number)
            }
            _ if is_alnum(r) => {
                self.backup();
                Some(State::Identifier)
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(It::LeftParen)
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.errorf("unexpected right paren".into());
                }
                self.emit(It::RightParen)
            }
            _ if r < 0x7f && r >= 0x20 => self.emit(It::Char),
            _ => {
                let m = format!("unrecognized character in action: {}", sharp_u(r));
                self.errorf(m)
            }
        }
    }

    fn lex_space(&mut self) -> Option<State> {
        let mut num = 0;
        loop {
            let r = self.peek();
            if !is_space(r) {
                break;
            }
            self.next();
            num += 1;
        }
        let b = &self.input.as_bytes()[self.pos - 1..];
        if has_right_trim(b) && self.input[self.pos - 1 + TRIM_MARKER_LEN..].starts_with(RIGHT) {
            self.backup();
            if num == 1 {
                return Some(State::RightDelim);
            }
        }
        self.emit(It::Space)
    }

    fn lex_identifier(&mut self) -> Option<State> {
        loop {
            let r = self.next();
            if is_alnum(r) {
                continue;
            }
            self.backup();
            let word = &self.input[self.start..self.pos];
            if !self.at_terminator() {
                let m = format!("bad character {}", sharp_u(r));
                return self.errorf(m);
            }
            if let Some(k) = keyword(word) {
                if (k == It::Break && !self.break_ok) || (k == It::Continue && !self.continue_ok) {
                    return self.emit(It::Identifier);
                }
                return self.emit(k);
            }
            if word.starts_with('.') {
                return self.emit(It::Field);
            }
            if word == "true" || word == "false" {
                return self.emit(It::Bool);
            }
            return self.emit(It::Identifier);
        }
    }

    fn lex_field_or_variable(&mut self, typ: It) -> Option<State> {
        if self.at_terminator() {
            if typ == It::Variable {
                return self.emit(It::Variable);
            }
            return self.emit(It::Dot);
        }
        let mut r;
        loop {
            r = self.next();
            if !is_alnum(r) {
                self.backup();
                break;
            }
        }
        if !self.at_terminator() {
            let m = format!("bad character {}", sharp_u(r));
            return self.errorf(m);
        }
        self.emit(typ)
    }

    fn at_terminator(&mut self) -> bool {
        let r = self.peek();
        if is_space(r) {
            return true;
        }
        if r == EOF {
            return true;
        }
        if let Some(c) = char::from_u32(r as u32) {
            if matches!(c, '.' | ',' | '|' | ':' | ')' | '(') {
                return true;
            }
        }
        self.rest().starts_with(RIGHT)
    }

    fn lex_char(&mut self) -> Option<State> {
        loop {
            let r = self.next();
            if r == '\\' as i32 {
                let r2 = self.next();
                if r2 != EOF && r2 != '\n' as i32 {
                    continue;
                }
                return self.errorf("unterminated character constant".into());
            }
            if r == EOF || r == '\n' as i32 {
                return self.errorf("unterminated character constant".into());
            }
            if r == '\'' as i32 {
                break;
            }
        }
        self.emit(It::CharConstant)
    }

    fn lex_number(&mut self) -> Option<State> {
        if !self.scan_number() {
            let m = format!(
                "bad number syntax: {}",
                super::strconv::quote(&self.input[self.start..self.pos])
            );
            return self.errorf(m);
        }
        let sign = self.peek();
        if sign == '+' as i32 || sign == '-' as i32 {
            if !self.scan_number() || self.input.as_bytes()[self.pos - 1] != b'i' {
                let m = format!(
                    "bad number syntax: {}",
                    super::strconv::quote(&self.input[self.start..self.pos])
                );
                return self.errorf(m);
            }
            return self.emit(It::Complex);
        }
        self.emit(It::Number)
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if is_alnum(self.peek()) {
            self.next();
            return false;
        }
        true
    }

    fn lex_quote(&mut self) -> Option<State> {
        loop {
            let r = self.next();
            if r == '\\' as i32 {
                let r2 = self.next();
                if r2 != EOF && r2 != '\n' as i32 {
                    continue;
                }
                return self.errorf("unterminated quoted string".into());
            }
            if r == EOF || r == '\n' as i32 {
                return self.errorf("unterminated quoted string".into());
            }
            if r == '"' as i32 {
                break;
            }
        }
        self.emit(It::String)
    }

    fn lex_raw_quote(&mut self) -> Option<State> {
        loop {
            let r = self.next();
            if r == EOF {
                return self.errorf("unterminated raw quoted string".into());
            }
            if r == '`' as i32 {
                break;
            }
        }
        self.emit(It::RawString)
    }
}
