//! Syntax tree of the shell subset the embedded interpreter runs.

use std::sync::{Arc, OnceLock};

pub type Word = Vec<Part>;

#[derive(Debug, Clone)]
pub enum Part {
    /// Unquoted literal text: glob characters are active.
    Lit(String),
    /// Quoted text: taken as is.
    Quoted(String),
    /// A character escaped by a backslash outside quotes. mvdan keeps the backslash where
    /// it expands a word to one string (expand.Literal: assignments, redirections, the word
    /// of `${x:-word}`, `case` and `[[ ]]` operands) and drops it when it makes fields.
    Esc(char),
    /// Double-quoted parts: expanded, never split or globbed.
    Dq(Vec<Part>),
    Param(Box<Param>),
    CmdSub(Arc<List>),
    Arith(Vec<Part>),
    /// `~` at the start of a word.
    Tilde,
    /// `~name`: that user's home directory.
    TildeUser(String),
    /// `<(list)` (false) / `>(list)` (true): a named pipe's path, the list on its other end.
    ProcSubst(bool, Arc<List>),
    /// `(…)` after `name=` in a declaration (`declare -a a=(1 2)`): the array's elements.
    Array(Vec<Word>),
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub op: ParamOp,
    /// `${a[@]}`, `${a[*]}`, `${a[i]}`.
    pub index: Option<Box<Index>>,
    /// The script line the expansion is on: `$LINENO`'s value (mvdan's curParam.Pos()).
    pub line: u32,
}

#[derive(Debug, Clone)]
pub enum Index {
    /// `[@]` (true) or `[*]`.
    All(bool),
    /// An arithmetic index, and the same text as a word (an associative array's key).
    Expr(Vec<Part>, Vec<Part>),
}

/// `name=word`, `name+=word`, `name[i]=word`, `name=(words)`.
#[derive(Debug, Clone)]
pub struct Assign {
    pub name: String,
    pub index: Option<Vec<Part>>,
    pub append: bool,
    pub value: Word,
    pub array: Option<Vec<Word>>,
}

#[derive(Debug, Clone)]
pub enum ParamOp {
    Plain,
    Len,
    /// `-`, `=`, `+`, `?` with or without `:`.
    Test {
        kind: char,
        colon: bool,
        word: Word,
    },
    /// `#`, `##`, `%`, `%%`.
    Trim {
        suffix: bool,
        longest: bool,
        pat: Word,
    },
    Replace {
        all: bool,
        pat: Word,
        with: Word,
    },
    /// `${x:off}` / `${x:off:len}`: arithmetic operands.
    Substr {
        off: Word,
        len: Option<Word>,
    },
    /// `${x^pat}` `${x^^pat}` `${x,pat}` `${x,,pat}`: the characters matching `pat`
    /// (any, when empty) of the first one or all.
    Case {
        upper: bool,
        all: bool,
        pat: Word,
    },
    /// `${!a[@]}`: the indices of an array.
    Keys,
    /// `${!x}` (any operator after it is parsed and ignored, as mvdan).
    Indirect,
    /// `${x@Q}` and the other `@` operators (one of `QEaAPUuLKk`).
    At(char),
    /// `${!prefix@}` (true) / `${!prefix*}`: the names of the variables beginning so.
    Names(bool),
}

#[derive(Debug, Clone)]
pub enum RedirOp {
    Out,
    Append,
    In,
    /// `N>&M` / `N<&M`.
    Dup,
    /// `&>` / `&>>`: stdout and stderr to one file.
    All {
        append: bool,
    },
    HereDoc(Arc<OnceLock<Word>>),
    HereString,
    /// `<>`: mvdan does not handle it (an error when run).
    ReadWrite,
}

#[derive(Debug, Clone)]
pub struct Redir {
    pub fd: i32,
    pub op: RedirOp,
    pub target: Word,
}

#[derive(Debug, Clone)]
pub enum Cmd {
    Simple {
        assigns: Vec<Assign>,
        words: Vec<Word>,
        redirs: Vec<Redir>,
        /// Line and column of the first word (mvdan's `pos` in builtins' messages).
        pos: (u32, u32),
    },
    Compound(Box<Compound>, Vec<Redir>),
    FuncDef(String, Arc<Cmd>),
}

#[derive(Debug, Clone)]
pub enum Compound {
    Subshell(List),
    Group(List),
    If(Vec<(List, List)>, Option<List>),
    Loop {
        until: bool,
        cond: List,
        body: List,
    },
    /// `for` or (`select`) `select`, mvdan's numbered menu on stderr read from stdin.
    For {
        var: String,
        items: Option<Vec<Word>>,
        body: List,
        select: bool,
        /// `for NAME in WORDS` as xtrace prints it (the words' source text).
        trace: String,
    },
    /// A construct mvdan parses but does not run (`coproc`): its runtime message.
    Unhandled(String),
    /// The word, its arms, and `case WORD in` as xtrace prints it (the word's source).
    Case(Word, Vec<(Vec<Word>, List, CaseTerm)>, String),
    /// `for ((init; cond; post))`.
    CFor {
        init: Vec<Part>,
        cond: Vec<Part>,
        post: Vec<Part>,
        body: List,
    },
    /// `(( … ))`: status 0 when the value is not zero.
    Arith(Vec<Part>),
    /// `[[ … ]]`.
    Test(TestExpr),
}

#[derive(Debug, Clone)]
pub enum TestExpr {
    Word(Word),
    Unary(String, Word),
    /// Operator and operands; the right side of `==`, `!=` is a pattern, of `=~` a regex.
    Binary(Word, String, Word),
    Not(Box<TestExpr>),
    And(Box<TestExpr>, Box<TestExpr>),
    Or(Box<TestExpr>, Box<TestExpr>),
}

/// How a case arm ends: `;;`, `;&` (run the next body too), `;;&` (test the next patterns).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CaseTerm {
    Break,
    Fall,
    Resume,
}

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub bang: bool,
    pub cmds: Vec<Cmd>,
    /// `time` (Some(false)) or `time -p` (Some(true)) before it.
    pub time: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AndOrOp {
    And,
    Or,
}

#[derive(Debug, Clone)]
pub struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(AndOrOp, Pipeline)>,
    /// Ends with `&`: runs in the background.
    pub bg: bool,
}

pub type List = Vec<AndOr>;
