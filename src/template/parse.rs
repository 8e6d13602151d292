//! Parser of Go's `text/template/parse`: same grammar, same error texts.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use super::funcs::{self, FuncId};
use super::lex::{It, Item, Lexer};
use super::strconv::{self as sc, NumErr};
use super::value::Value;

pub type List = Vec<Node>;

#[derive(Debug)]
pub enum Node {
    Text(String),
    Action { pos: usize, pipe: Pipe },
    If(Branch),
    Range(Branch),
    With(Branch),
    Template(TemplateNode),
    Break(usize),
    Continue(usize),
}

#[derive(Debug)]
pub struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

#[derive(Debug)]
pub struct TemplateNode {
    pub pos: usize,
    pub name: String,
    pub pipe: Option<Pipe>,
}

#[derive(Debug)]
pub struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<VarNode>,
    pub cmds: Vec<Cmd>,
}

#[derive(Debug)]
pub struct VarNode {
    pub pos: usize,
    pub ident: Vec<String>,
}

#[derive(Debug)]
pub struct Cmd {
    pub pos: usize,
    pub args: Vec<Arg>,
}

#[derive(Debug)]
pub struct NumberNode {
    pub pos: usize,
    pub is_int: bool,
    pub is_uint: bool,
    pub is_float: bool,
    pub is_complex: bool,
    pub int64: i64,
    pub uint64: u64,
    pub float64: f64,
    pub complex: (f64, f64),
    pub text: String,
}

#[derive(Debug)]
pub enum Arg {
    Field {
        pos: usize,
        ident: Vec<String>,
    },
    Chain {
        pos: usize,
        node: Box<Arg>,
        field: Vec<String>,
    },
    Ident {
        pos: usize,
        name: String,
        func: FuncId,
    },
    Dot(usize),
    Nil(usize),
    Var(VarNode),
    Bool {
        pos: usize,
        val: bool,
    },
    Number(Box<NumberNode>),
    Str {
        pos: usize,
        quoted: String,
        val: Value,
    },
    Pipe(Box<Pipe>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Ident { pos, .. }
            | Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Bool { pos, .. }
            | Arg::Str { pos, .. } => *pos,
            Arg::Var(v) => v.pos,
            Arg::Number(n) => n.pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

// ---- String() of nodes, as Go writes them in error contexts ----

impl fmt::Display for VarNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ident.join("."))
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { ident, .. } => {
                for i in ident {
                    write!(f, ".{}", i)?;
                }
                Ok(())
            }
            Arg::Chain { node, field, .. } => {
                if let Arg::Pipe(p) = node.as_ref() {
                    write!(f, "({})", p)?;
                } else {
                    write!(f, "{}", node)?;
                }
                for i in field {
                    write!(f, ".{}", i)?;
                }
                Ok(())
            }
            Arg::Ident { name, .. } => f.write_str(name),
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Var(v) => write!(f, "{}", v),
            Arg::Bool { val, .. } => f.write_str(if *val { "true" } else { "false" }),
            Arg::Number(n) => f.write_str(&n.text),
            Arg::Str { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "{}", p),
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({})", p)?;
            } else {
                write!(f, "{}", a)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, v) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}", v)?;
            }
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{}", c)?;
        }
        Ok(())
    }
}

pub fn write_list(f: &mut fmt::Formatter<'_>, l: &List) -> fmt::Result {
    for n in l {
        write!(f, "{}", n)?;
    }
    Ok(())
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text(t) => f.write_str(t),
            Node::Action { pipe, .. } => write!(f, "{{{{{}}}}}", pipe),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                let name = match self {
                    Node::If(_) => "if",
                    Node::Range(_) => "range",
                    _ => "with",
                };
                write!(f, "{{{{{} {}}}}}", name, b.pipe)?;
                write_list(f, &b.list)?;
                if let Some(e) = &b.else_list {
                    f.write_str("{{else}}")?;
                    write_list(f, e)?;
                }
                f.write_str("{{end}}")
            }
            Node::Template(t) => write!(f, "{}", t),
            Node::Break(_) => f.write_str("{{break}}"),
            Node::Continue(_) => f.write_str("{{continue}}"),
        }
    }
}

impl fmt::Display for TemplateNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{template {}", sc::quote(&self.name))?;
        if let Some(p) = &self.pipe {
            write!(f, " {}", p)?;
        }
        f.write_str("}}")
    }
}

pub(crate) fn is_empty_tree(l: &List) -> bool {
    l.iter().all(|n| match n {
        Node::Text(t) => t.trim_matches(|c: char| c.is_whitespace()).is_empty(),
        _ => false,
    })
}

/// Named trees of one parse (`define`/`block` plus the main one under "").
#[derive(Debug, Default)]
pub struct TreeSet {
    pub trees: HashMap<String, List>,
}

impl TreeSet {
    fn add(&mut self, name: &str, root: List) -> Result<(), String> {
        match self.trees.get(name) {
            Some(old) if !is_empty_tree(old) => {
                if !is_empty_tree(&root) {
                    return Err(format!(
                        "template: multiple definition of template {}",
                        sc::quote(name)
                    ));
                }
                Ok(())
            }
            _ => {
                self.trees.insert(name.to_string(), root);
                Ok(())
            }
        }
    }
}

pub type PResult<T> = Result<T, String>;

pub struct Parser<'a> {
    name: &'a str,
    lex: Lexer<'a>,
    token: [Item<'a>; 3],
    peek_count: usize,
    vars: Vec<String>,
    action_line: usize,
    range_depth: usize,
    /// Open parenthesized pipelines (Go's `stackDepth`).
    paren_depth: usize,
    /// Helm's function map instead of go-task's.
    helm: bool,
}

/// Go's text/template/parse `maxStackDepth`: 10,000 nested parenthesized pipelines parse,
/// one more is "max expression depth exceeded". Parsing, executing and dropping such a
/// tree recurses that deep, so those paths grow the stack on the heap ([`grow`]) and work
/// on 2 MiB worker threads as on the main thread.
pub const MAX_PAREN_DEPTH: usize = 10_000;

// Trees nest as deep as templates do (parentheses, `{{if}}` in `{{if}}`): their drop glue
// recurses as deep, so it goes through [`grow`] too.
impl Drop for Branch {
    fn drop(&mut self) {
        let list = std::mem::take(&mut self.list);
        let else_list = self.else_list.take();
        grow(move || drop((list, else_list)));
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        let cmds = std::mem::take(&mut self.cmds);
        grow(move || drop(cmds));
    }
}

/// Runs `f` with at least 64 KiB of stack left, growing it by 1 MiB on the heap if not.
pub fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

fn eof_item<'a>() -> Item<'a> {
    Item {
        typ: It::Eof,
        pos: 0,
        val: super::lex::ItemVal::Src(""),
        line: 1,
    }
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Item<'a> {
        if self.peek_count > 0 {
            self.peek_count -= 1;
        } else {
            self.token[0] = self.lex.next_item();
        }
        self.token[self.peek_count].clone()
    }

    fn backup(&mut self) {
        self.peek_count += 1;
    }

    fn backup2(&mut self, t1: Item<'a>) {
        self.token[1] = t1;
        self.peek_count = 2;
    }

    fn backup3(&mut self, t2: Item<'a>, t1: Item<'a>) {
        self.token[1] = t1;
        self.token[2] = t2;
        self.peek_count = 3;
    }

    fn peek(&mut self) -> Item<'a> {
        if self.peek_count > 0 {
            return self.token[self.peek_count - 1].clone();
        }
        self.peek_count = 1;
        self.token[0] = self.lex.next_item();
        self.token[0].clone()
    }

    fn next_non_space(&mut self) -> Item<'a> {
        loop {
            let t = self.next();
            if t.typ != It::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item<'a> {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn errorf(&self, msg: impl fmt::Display) -> String {
        format!("template: {}:{}: {}", self.name, self.token[0].line, msg)
    }

    fn unexpected(&self, token: &Item<'a>, context: &str) -> String {
        if token.typ == It::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(" in action started at {}:{}", self.name, self.action_line);
                if token.val().ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format_args!("{}{}", token, extra));
        }
        self.errorf(format_args!("unexpected {} in {}", token, context))
    }

    fn expect(&mut self, expected: It, context: &str) -> PResult<Item<'a>> {
        let t = self.next_non_space();
        if t.typ != expected {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }
}

/// Parses `text` into its named trees.
pub fn parse<'a>(name: &'a str, text: &'a str) -> PResult<TreeSet> {
    parse_flavor(name, text, false)
}

/// Parses with go-task's (`helm == false`) or Helm's function map.
pub fn parse_flavor<'a>(name: &'a str, text: &'a str, helm: bool) -> PResult<TreeSet> {
    let mut p = Parser {
        helm,
        name,
        lex: Lexer::new(text),
        token: [eof_item(), eof_item(), eof_item()],
        peek_count: 0,
        vars: vec!["$".to_string()],
        action_line: 0,
        range_depth: 0,
        paren_depth: 0,
    };
    let mut set = TreeSet::default();
    let root = p.parse_top(&mut set)?;
    set.add(name, root).map_err(|m| p.errorf(m))?;
    Ok(set)
}

impl<'a> Parser<'a> {
    fn parse_top(&mut self, set: &mut TreeSet) -> PResult<List> {
        let mut root = Vec::new();
        while self.peek().typ != It::Eof {
            if self.peek().typ == It::LeftDelim {
                let delim = self.next();
                if self.next_non_space().typ == It::Define {
                    self.parse_definition(set)?;
                    continue;
                }
                self.backup2(delim);
            }
            match self.text_or_action(set)? {
                Parsed::End => return Err(self.errorf("unexpected {{end}}")),
                Parsed::Else => return Err(self.errorf("unexpected {{else}}")),
                Parsed::Node(n) => root.push(n),
            }
        }
        Ok(root)
    }

    /// A sub-tree (define/block) gets fresh parse state, as in Go.
    fn with_fresh_state<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let depth = std::mem::replace(&mut self.range_depth, 0);
        let r = f(self);
        self.vars = vars;
        self.range_depth = depth;
        r
    }

    fn parse_definition(&mut self, set: &mut TreeSet) -> PResult<()> {
        self.with_fresh_state(|p| {
            let context = "define clause";
            let name = p.next_non_space();
            if name.typ != It::String && name.typ != It::RawString {
                return Err(p.unexpected(&name, context));
            }
            let name = match sc::unquote(name.val()) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(_) => return Err(p.errorf("invalid syntax")),
            };
            p.expect(It::RightDelim, context)?;
            let (root, end) = p.item_list(set)?;
            if end != Parsed::End {
                return Err(p.errorf(format_args!("unexpected {} in {}", end, context)));
            }
            set.add(&name, root).map_err(|m| p.errorf(m))
        })
    }

    fn item_list(&mut self, set: &mut TreeSet) -> PResult<(List, Parsed)> {
        let mut list = Vec::new();
        while self.peek_non_space().typ != It::Eof {
            match self.text_or_action(set)? {
                Parsed::Node(n) => list.push(n),
                other => return Ok((list, other)),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self, set: &mut TreeSet) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            It::Text => Ok(Parsed::Node(Node::Text(token.src().to_string()))),
            It::LeftDelim => {
                self.action_line = token.line;
                let r = self.action(set);
                self.action_line = 0;
                r
            }
            It::Comment => Ok(Parsed::Node(Node::Text(String::new()))),
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    fn action(&mut self, set: &mut TreeSet) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            It::Block => return self.block_control(set).map(Parsed::Node),
            It::Break | It::Continue => {
                let what = if token.typ == It::Break {
                    "{{break}}"
                } else {
                    "{{continue}}"
                };
                let t = self.next_non_space();
                if t.typ != It::RightDelim {
                    return Err(self.unexpected(&t, what));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format_args!("{} outside {{{{range}}}}", what)));
                }
                return Ok(Parsed::Node(if token.typ == It::Break {
                    Node::Break(token.pos)
                } else {
                    Node::Continue(token.pos)
                }));
            }
            It::Else => return self.else_control(),
            It::End => {
                self.expect(It::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            It::If => {
                let b = self.parse_control("if", set)?;
                return Ok(Parsed::Node(Node::If(b)));
            }
            It::Range => {
                let b = self.parse_control("range", set)?;
                return Ok(Parsed::Node(Node::Range(b)));
            }
            It::Template => return self.template_control().map(Parsed::Node),
            It::With => {
                let b = self.parse_control("with", set)?;
                return Ok(Parsed::Node(Node::With(b)));
            }
            _ => {}
        }
        self.backup();
        let token = self.peek();
        let pipe = self.pipeline("command", It::RightDelim)?;
        Ok(Parsed::Node(Node::Action {
            pos: token.pos,
            pipe,
        }))
    }

    fn pipeline(&mut self, context: &str, end: It) -> PResult<Pipe> {
        let token = self.peek_non_space();
        let mut pipe = Pipe {
            pos: token.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        'decls: loop {
            let v = self.peek_non_space();
            if v.typ != It::Variable {
                break;
            }
            self.next();
            let token_after = self.peek();
            let next = self.peek_non_space();
            if next.typ == It::Assign || next.typ == It::Declare {
                pipe.is_assign = next.typ == It::Assign;
                self.next_non_space();
                pipe.decl.push(new_var(v.pos, v.val()));
                self.vars.push(v.val().to_string());
            } else if next.typ == It::Char && next.val() == "," {
                self.next_non_space();
                pipe.decl.push(new_var(v.pos, v.val()));
                self.vars.push(v.val().to_string());
                if context == "range" && pipe.decl.len() < 2 {
                    match self.peek_non_space().typ {
                        It::Variable | It::RightDelim | It::RightParen => continue 'decls,
                        _ => return Err(self.errorf("range can only initialize variables")),
                    }
                }
                return Err(self.errorf(format_args!("too many declarations in {}", context)));
            } else if token_after.typ == It::Space {
                self.backup3(v, token_after);
            } else {
                self.backup2(v);
            }
            break;
        }
        loop {
            let token = self.next_non_space();
            match token.typ {
                t if t == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                It::Bool
                | It::CharConstant
                | It::Complex
                | It::Dot
                | It::Field
                | It::Identifier
                | It::Number
                | It::Nil
                | It::RawString
                | It::String
                | It::Variable
                | It::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format_args!("missing value for {}", context)));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool { .. } | Arg::Dot(_) | Arg::Nil(_) | Arg::Number(_) | Arg::Str { .. }
            ) {
                return Err(self.errorf(format_args!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn parse_control(&mut self, context: &str, set: &mut TreeSet) -> PResult<Branch> {
        let nvars = self.vars.len();
        // `{{if}}` inside `{{if}}` … has no depth limit in Go: grow the stack instead.
        let r = grow(|| self.parse_control_inner(context, set));
        self.vars.truncate(nvars);
        r
    }

    fn parse_control_inner(&mut self, context: &str, set: &mut TreeSet) -> PResult<Branch> {
        let pipe = self.pipeline(context, It::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let r = self.item_list(set);
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = r?;
        let mut else_list = None;
        if let Parsed::Else = next {
            if context == "if" && self.peek().typ == It::If {
                self.next();
                let b = self.parse_control("if", set)?;
                else_list = Some(vec![Node::If(b)]);
            } else if context == "with" && self.peek().typ == It::With {
                self.next();
                let b = self.parse_control("with", set)?;
                else_list = Some(vec![Node::With(b)]);
            } else {
                let (l, next) = self.item_list(set)?;
                if next != Parsed::End {
                    return Err(self.errorf(format_args!("expected end; found {}", next)));
                }
                else_list = Some(l);
            }
        }
        Ok(Branch {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    fn else_control(&mut self) -> PResult<Parsed> {
        let peek = self.peek_non_space();
        if peek.typ == It::If || peek.typ == It::With {
            return Ok(Parsed::Else);
        }
        self.expect(It::RightDelim, "else")?;
        Ok(Parsed::Else)
    }

    fn block_control(&mut self, set: &mut TreeSet) -> PResult<Node> {
        let context = "block clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, context)?;
        let pipe = self.pipeline(context, It::RightDelim)?;
        let root = self.with_fresh_state(|p| {
            let (root, end) = p.item_list(set)?;
            if end != Parsed::End {
                return Err(p.errorf(format_args!("unexpected {} in {}", end, context)));
            }
            Ok(root)
        })?;
        set.add(&name, root).map_err(|m| self.errorf(m))?;
        Ok(Node::Template(TemplateNode {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        }))
    }

    fn template_control(&mut self) -> PResult<Node> {
        let context = "template clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, context)?;
        let mut pipe = None;
        if self.next_non_space().typ != It::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(context, It::RightDelim)?);
        }
        Ok(Node::Template(TemplateNode {
            pos: token.pos,
            name,
            pipe,
        }))
    }

    fn parse_template_name(&self, token: &Item<'a>, context: &str) -> PResult<String> {
        match token.typ {
            It::String | It::RawString => match sc::unquote(token.val()) {
                Ok(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
                Err(_) => Err(self.errorf("invalid syntax")),
            },
            _ => Err(self.unexpected(token, context)),
        }
    }

    fn command(&mut self) -> PResult<Cmd> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Cmd {
            pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let token = self.next();
            match token.typ {
                It::Space => continue,
                It::RightDelim | It::RightParen => self.backup(),
                It::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ == It::Field {
            let pos = self.peek().pos;
            let mut fields = Vec::new();
            while self.peek().typ == It::Field {
                let f = self.next();
                fields.push(f.val()[1..].to_string());
            }
            return Ok(Some(match node {
                Arg::Field { ident, .. } => {
                    let mut ident = ident;
                    ident.extend(fields);
                    Arg::Field { pos, ident }
                }
                Arg::Var(v) => {
                    let mut ident = v.ident;
                    ident.extend(fields);
                    Arg::Var(VarNode { pos, ident })
                }
                Arg::Bool { .. } | Arg::Str { .. } | Arg::Number(_) | Arg::Nil(_) | Arg::Dot(_) => {
                    return Err(self.errorf(format_args!(
                        "unexpected . after term {}",
                        sc::quote(&node.to_string())
                    )));
                }
                other => Arg::Chain {
                    pos,
                    node: Box::new(other),
                    field: fields,
                },
            }));
        }
        Ok(Some(node))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let token = self.next_non_space();
        let pos = token.pos;
        Ok(Some(match token.typ {
            It::Identifier => {
                let name = token.val();
                let Some(func) = funcs::lookup_in(name, self.helm) else {
                    return Err(
                        self.errorf(format_args!("function {} not defined", sc::quote(name)))
                    );
                };
                Arg::Ident {
                    pos,
                    name: name.to_string(),
                    func,
                }
            }
            It::Dot => Arg::Dot(pos),
            It::Nil => Arg::Nil(pos),
            It::Variable => {
                let v = new_var(pos, token.val());
                if !self.vars.iter().any(|n| *n == v.ident[0]) {
                    return Err(self.errorf(format_args!(
                        "undefined variable {}",
                        sc::quote(&v.ident[0])
                    )));
                }
                Arg::Var(v)
            }
            It::Field => {
                let v = token.val();
                Arg::Field {
                    pos,
                    ident: v[1..].split('.').map(str::to_string).collect(),
                }
            }
            It::Bool => Arg::Bool {
                pos,
                val: token.val() == "true",
            },
            It::CharConstant | It::Complex | It::Number => {
                let n = new_number(pos, token.val(), token.typ).map_err(|e| self.errorf(e))?;
                Arg::Number(Box::new(n))
            }
            It::LeftParen => {
                if self.paren_depth >= MAX_PAREN_DEPTH {
                    return Err(self.errorf("max expression depth exceeded"));
                }
                self.paren_depth += 1;
                let pipe = grow(|| self.pipeline("parenthesized pipeline", It::RightParen));
                self.paren_depth -= 1;
                Arg::Pipe(Box::new(pipe?))
            }
            It::String | It::RawString => {
                let b = sc::unquote(token.val()).map_err(|_| self.errorf("invalid syntax"))?;
                Arg::Str {
                    pos,
                    quoted: token.val().to_string(),
                    val: Value::from_bytes(b),
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    Node(Node),
    End,
    Else,
}

impl PartialEq for Node {
    fn eq(&self, _: &Node) -> bool {
        false
    }
}
impl Eq for Node {}

impl fmt::Display for Parsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Parsed::End => f.write_str("{{end}}"),
            Parsed::Else => f.write_str("{{else}}"),
            Parsed::Node(n) => write!(f, "{}", n),
        }
    }
}

fn new_var(pos: usize, ident: &str) -> VarNode {
    VarNode {
        pos,
        ident: ident.split('.').map(str::to_string).collect(),
    }
}

fn new_number(pos: usize, text: &str, typ: It) -> Result<NumberNode, String> {
    let mut n = NumberNode {
        pos,
        is_int: false,
        is_uint: false,
        is_float: false,
        is_complex: false,
        int64: 0,
        uint64: 0,
        float64: 0.0,
        complex: (0.0, 0.0),
        text: text.to_string(),
    };
    match typ {
        It::CharConstant => {
            let b = text.as_bytes();
            let (r, _, tail) =
                sc::unquote_char(&b[1..], b[0]).map_err(|_| "invalid syntax".to_string())?;
            if tail != b"'" {
                return Err(format!("malformed character constant: {}", text));
            }
            n.int64 = r as i64;
            n.is_int = true;
            n.uint64 = r as u64;
            n.is_uint = true;
            n.float64 = r as f64;
            n.is_float = true;
            return Ok(n);
        }
        It::Complex => {
            let c = parse_complex(text).ok_or_else(|| "expected integer".to_string())?;
            n.is_complex = true;
            n.complex = c;
            n.simplify_complex();
            return Ok(n);
        }
        _ => {}
    }
    if let Some(body) = text.strip_suffix('i') {
        if let Ok(f) = sc::parse_float(body) {
            n.is_complex = true;
            n.complex = (0.0, f);
            n.simplify_complex();
            return Ok(n);
        }
    }
    let u = sc::parse_uint(text, true);
    if let Ok(u) = u {
        n.is_uint = true;
        n.uint64 = u;
    }
    if let Ok(i) = sc::parse_int(text, true) {
        n.is_int = true;
        n.int64 = i;
        if i == 0 {
            n.is_uint = true;
            n.uint64 = 0;
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float64 = n.int64 as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float64 = n.uint64 as f64;
    } else {
        match sc::parse_float(text) {
            Ok(f) => {
                if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                    return Err(format!("integer overflow: {}", sc::quote(text)));
                }
                n.is_float = true;
                n.float64 = f;
                if !n.is_int && (f as i64) as f64 == f && f.fract() == 0.0 && f.abs() < 9.3e18 {
                    n.is_int = true;
                    n.int64 = f as i64;
                }
                if !n.is_uint && (f as u64) as f64 == f && (0.0..1.85e19).contains(&f) {
                    n.is_uint = true;
                    n.uint64 = f as u64;
                }
            }
            Err(NumErr::Syntax) | Err(NumErr::Range) => {}
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!("illegal number syntax: {}", sc::quote(text)));
    }
    Ok(n)
}

impl NumberNode {
    fn simplify_complex(&mut self) {
        self.is_float = self.complex.1 == 0.0;
        if self.is_float {
            let f = self.complex.0;
            self.float64 = f;
            self.is_int = f.fract() == 0.0 && f.abs() < 9.3e18;
            if self.is_int {
                self.int64 = f as i64;
            }
            self.is_uint = f.fract() == 0.0 && (0.0..1.85e19).contains(&f);
            if self.is_uint {
                self.uint64 = f as u64;
            }
        }
    }
}

/// `fmt.Sscan` of a complex literal such as `1+2i`.
fn parse_complex(text: &str) -> Option<(f64, f64)> {
    let body = text.strip_suffix('i')?;
    let b = body.as_bytes();
    // Split at the sign that starts the imaginary part (not an exponent sign).
    let mut split = None;
    for i in (1..b.len()).rev() {
        if (b[i] == b'+' || b[i] == b'-') && !matches!(b[i - 1], b'e' | b'E' | b'p' | b'P') {
            split = Some(i);
            break;
        }
    }
    let i = split?;
    let re = sc::parse_float(&body[..i]).ok()?;
    let im = sc::parse_float(&body[i..]).ok()?;
    Some((re, im))
}
