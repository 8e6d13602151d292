//! Word expansion: parameters, command substitution, arithmetic, field splitting, globbing.

use super::ast::*;
use super::{arith, glob, ExpErr, Io, Shell};

enum Chunk {
    /// Unquoted literal text (globs active, never split).
    Lit(String),
    /// Quoted text.
    Quoted(String),
    /// Result of an unquoted expansion: split and globbed.
    Exp(String),
    /// Field boundary (between the elements of `"$@"`).
    Break,
    /// A backslash-escaped character (`Part::Esc`): quoted in fields, `\c` in a string.
    Esc(char),
}

#[derive(Default)]
struct Field {
    pat: String,
    lit: String,
    glob: bool,
}

fn escape_pat(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '(' | ')' | '|') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

impl arith::Vars for Shell {
    fn get(&self, name: &str) -> Option<String> {
        Shell::get(self, name)
    }
    fn set(&mut self, name: &str, v: String) -> Result<(), String> {
        if self.readonly.contains(&self.resolve(name)) {
            return Err(format!("{name}: readonly variable"));
        }
        self.set_var(name, v);
        Ok(())
    }
    fn elem(&mut self, name: &str, index: &str) -> Result<Option<String>, String> {
        if let Some(m) = self.assoc(name) {
            return Ok(m.get(index).cloned());
        }
        let i = arith::eval(index, self)?;
        let vals = self.slots(name);
        let k = if i < 0 { vals.len() as i64 + i } else { i };
        Ok(usize::try_from(k)
            .ok()
            .and_then(|k| vals.get(k).cloned().flatten()))
    }
}

impl Shell {
    /// Expands words into fields (split, globbed).
    pub(super) fn fields(&mut self, ws: &[Word], io: &Io) -> Result<Vec<String>, ExpErr> {
        let mut out = vec![];
        for w in ws {
            match super::braces::expand(w) {
                Ok(Some(bws)) => {
                    for bw in &bws {
                        out.extend(self.fields_one(bw, io)?);
                    }
                }
                Ok(None) => out.extend(self.fields_one(w, io)?),
                Err(m) => return Err(ExpErr::Fatal(m)),
            }
        }
        Ok(out)
    }

    /// The text of an arithmetic expression with its parameters expanded.
    pub(super) fn arith_text(&mut self, ps: &[Part], io: &Io) -> Result<String, ExpErr> {
        let mut cs = vec![];
        self.chunks(ps, false, io, &mut cs)?;
        Ok(cs
            .into_iter()
            .map(|c| match c {
                Chunk::Lit(t) | Chunk::Quoted(t) => t,
                // An expansion's text is one operand, never parsed as an expression.
                Chunk::Exp(t) => format!("{}{t}{}", arith::OPEN, arith::CLOSE),
                Chunk::Break => " ".into(),
                Chunk::Esc(c) => format!("\\{c}"),
            })
            .collect())
    }

    /// An operand of `let` as arithmetic text: mvdan parses it as an expression where
    /// quoted text is an operand word, never an expression (`let "x=1"` is 0, status 1).
    pub(super) fn let_text(&mut self, w: &Word, io: &Io) -> Result<String, ExpErr> {
        let mut cs = vec![];
        self.chunks(w, false, io, &mut cs)?;
        let wrap = |t: String| format!("{}{t}{}", arith::OPEN, arith::CLOSE);
        Ok(cs
            .into_iter()
            .map(|c| match c {
                Chunk::Lit(t) => t,
                Chunk::Quoted(t) | Chunk::Exp(t) => wrap(t),
                Chunk::Esc(c) => wrap(c.to_string()),
                Chunk::Break => " ".into(),
            })
            .collect())
    }

    fn fields_one(&mut self, w: &Word, io: &Io) -> Result<Vec<String>, ExpErr> {
        let mut out = vec![];
        {
            let mut cs = vec![];
            self.chunks(w, false, io, &mut cs)?;
            let ifs = self.get("IFS").unwrap_or_else(|| " \t\n".into());
            let mut fields: Vec<Field> = vec![];
            let mut cur: Option<Field> = None;
            for c in cs {
                match c {
                    Chunk::Lit(s) => {
                        if !self.opts.extglob
                            && ["@(", "!(", "+(", "*(", "?("].iter().any(|p| s.contains(p))
                        {
                            return Err(ExpErr::Skip(
                                "extended globbing operator used without the \"extglob\" option set"
                                    .into(),
                            ));
                        }
                        let f = cur.get_or_insert_with(Field::default);
                        f.glob |= glob::has_meta(&s);
                        f.pat.push_str(&s);
                        f.lit.push_str(&s);
                    }
                    Chunk::Esc(c) => {
                        let f = cur.get_or_insert_with(Field::default);
                        f.pat.push_str(&escape_pat(&c.to_string()));
                        f.lit.push(c);
                    }
                    Chunk::Quoted(s) => {
                        let f = cur.get_or_insert_with(Field::default);
                        f.pat.push_str(&escape_pat(&s));
                        f.lit.push_str(&s);
                    }
                    Chunk::Break => {
                        if let Some(f) = cur.take() {
                            fields.push(f);
                        }
                    }
                    Chunk::Exp(s) => {
                        for ch in s.chars() {
                            if ifs.contains(ch) {
                                // mvdan's wordFields: any IFS character ends the field in
                                // progress; empty fields are never made (unlike POSIX's
                                // non-whitespace IFS)
                                if let Some(f) = cur.take() {
                                    fields.push(f);
                                }
                                continue;
                            }
                            let f = cur.get_or_insert_with(Field::default);
                            if matches!(ch, '*' | '?' | '[') {
                                f.glob = true;
                                f.pat.push(ch);
                            } else if matches!(ch, '(' | ')' | '|' | ']') {
                                // An expansion's classes and extended operators are active
                                // (mvdan).
                                f.pat.push(ch);
                            } else {
                                f.pat.push_str(&escape_pat(&ch.to_string()));
                            }
                            f.lit.push(ch);
                        }
                    }
                }
            }
            if let Some(f) = cur.take() {
                fields.push(f);
            }
            for f in fields {
                if f.glob && !self.opts.noglob && self.opts.extglob {
                    // mvdan's limits on `!(…)`: an error, and the command is skipped.
                    for comp in f.pat.split('/').filter(|c| glob::has_meta(c)) {
                        glob::neg_check(comp).map_err(ExpErr::Skip)?;
                    }
                }
                if f.glob && !self.opts.noglob {
                    let m = glob::expand(&f.pat, &self.cwd, self.glob_opts());
                    if !m.is_empty() {
                        out.extend(m);
                        continue;
                    }
                    if self.opts.nullglob {
                        continue;
                    }
                }
                out.push(f.lit);
            }
        }
        Ok(out)
    }

    /// Expands a word to one string (assignments, redirection targets, here-documents).
    pub(super) fn expand_str(&mut self, w: &Word, io: &Io) -> Result<String, ExpErr> {
        let mut cs = vec![];
        self.chunks(w, false, io, &mut cs)?;
        let mut s = String::new();
        for c in cs {
            match c {
                Chunk::Lit(t) | Chunk::Quoted(t) | Chunk::Exp(t) => s.push_str(&t),
                Chunk::Break => s.push(' '),
                Chunk::Esc(c) => {
                    s.push('\\');
                    s.push(c);
                }
            }
        }
        Ok(s)
    }

    /// Expands a word to a pattern: quoted parts escaped.
    pub(super) fn expand_pattern(&mut self, w: &Word, io: &Io) -> Result<String, ExpErr> {
        let mut cs = vec![];
        self.chunks(w, false, io, &mut cs)?;
        let mut s = String::new();
        for c in cs {
            match c {
                Chunk::Lit(t) | Chunk::Exp(t) => s.push_str(&t),
                Chunk::Quoted(t) => s.push_str(&escape_pat(&t)),
                Chunk::Break => s.push(' '),
                Chunk::Esc(c) => {
                    s.push('\\');
                    s.push(c);
                }
            }
        }
        Ok(s)
    }

    fn chunks(
        &mut self,
        w: &[Part],
        dq: bool,
        io: &Io,
        out: &mut Vec<Chunk>,
    ) -> Result<(), ExpErr> {
        let val = |s: String| if dq { Chunk::Quoted(s) } else { Chunk::Exp(s) };
        for p in w {
            match p {
                Part::Lit(s) => out.push(if dq {
                    Chunk::Quoted(s.clone())
                } else {
                    Chunk::Lit(s.clone())
                }),
                Part::Quoted(s) => out.push(Chunk::Quoted(s.clone())),
                Part::Esc(c) => out.push(Chunk::Esc(*c)),
                Part::Tilde => out.push(Chunk::Quoted(self.get("HOME").unwrap_or_default())),
                Part::TildeUser(u) => out.push(Chunk::Quoted(
                    super::user_home(u).unwrap_or_else(|| format!("~{u}")),
                )),
                Part::Dq(ps) => {
                    // Only a list expansion alone in its quotes makes a field per element
                    // (mvdan's quotedElemFields); with other parts it is joined by spaces.
                    let alone = ps.len() == 1;
                    let has_at = alone && ps.iter().any(|q| {
                        // A list expansion, plain or with a per-element operator (mvdan's
                        // quotedElemFields): zero elements make zero fields.
                        matches!(q, Part::Param(b) if matches!(b.op, ParamOp::Plain | ParamOp::Keys
                                | ParamOp::Trim { .. } | ParamOp::Replace { .. } | ParamOp::Case { .. }
                                | ParamOp::Substr { .. } | ParamOp::Test { .. })
                            && (b.name == "@" && b.index.is_none()
                                || matches!(b.index.as_deref(), Some(Index::All(true)))
                                || matches!(b.op, ParamOp::Keys)))
                    });
                    if !has_at {
                        // Marks the field as present even when empty ("").
                        out.push(Chunk::Quoted(String::new()));
                    }
                    let saved = std::mem::replace(&mut self.dq_alone, alone);
                    let start = out.len();
                    let r = self.chunks(ps, true, io, out);
                    self.dq_alone = saved;
                    r?;
                    if !alone {
                        for c in &mut out[start..] {
                            if let Chunk::Break = c {
                                *c = Chunk::Quoted(" ".into());
                            }
                        }
                    }
                }
                Part::CmdSub(l) => {
                    let s = self.capture(l, io);
                    out.push(val(s));
                }
                Part::Arith(ps) => {
                    let e = self.arith_text(ps, io)?;
                    let n = arith::eval(&e, self).map_err(arith_err)?;
                    out.push(val(n.to_string()));
                }
                Part::Param(pm) => self.param(pm, dq, io, out)?,
                Part::ProcSubst(write, l) => {
                    let path = self.proc_subst(*write, l, io)?;
                    out.push(val(path));
                }
                // Taken apart by the declaration builtins before expansion.
                Part::Array(_) => {}
            }
        }
        Ok(())
    }

    pub(super) fn lookup(&self, name: &str) -> Option<String> {
        match name {
            "?" => Some(self.status.to_string()),
            "$" => Some(std::process::id().to_string()),
            "#" => Some(self.pos.len().to_string()),
            "0" => Some(self.name0.clone()),
            "!" => (!self.jobs.is_empty()).then(|| format!("g{}", self.jobs.len())),
            "PPID" => Some(std::os::unix::process::parent_id().to_string()),
            // mvdan: math/rand's IntN(32767), and four bytes from crypto/rand.
            "RANDOM" => Some(rand::Rng::gen_range(&mut rand::thread_rng(), 0..32767).to_string()),
            "SRANDOM" => Some(rand::random::<u32>().to_string()),
            "-" => {
                let mut s = String::new();
                if self.opts.allexport {
                    s.push('a');
                }
                if self.opts.errexit {
                    s.push('e');
                }
                if self.opts.noglob {
                    s.push('f');
                }
                if self.opts.noexec {
                    s.push('n');
                }
                if self.opts.nounset {
                    s.push('u');
                }
                if self.opts.xtrace {
                    s.push('x');
                }
                Some(s)
            }
            "@" | "*" => {
                if self.pos.is_empty() {
                    None
                } else {
                    Some(self.pos.join(" "))
                }
            }
            // Only `$1`…`$9` are positional in mvdan: `${10}` is a variable named "10".
            n if n.len() == 1 && n.as_bytes()[0].is_ascii_digit() => {
                let k: usize = n.parse().ok()?;
                self.pos.get(k.checked_sub(1)?).cloned()
            }
            n => self.get(n),
        }
    }

    /// What joins the elements of `"$*"`: IFS's first character (none when IFS is empty),
    /// a space when IFS is unset.
    fn star_sep(&self) -> String {
        self.get("IFS")
            .map(|s| s.chars().next().map(String::from).unwrap_or_default())
            .unwrap_or_else(|| " ".into())
    }

    /// A list of values as `"$@"` (`at`) or `"$*"` expand.
    fn push_list(&self, vals: &[String], at: bool, dq: bool, out: &mut Vec<Chunk>) {
        if dq && !at {
            out.push(Chunk::Quoted(vals.join(&self.star_sep())));
        } else {
            for (k, p) in vals.iter().enumerate() {
                if k > 0 {
                    out.push(Chunk::Break);
                }
                out.push(if dq {
                    Chunk::Quoted(p.clone())
                } else {
                    Chunk::Exp(p.clone())
                });
            }
        }
    }

    fn param(&mut self, pm: &Param, dq: bool, io: &Io, out: &mut Vec<Chunk>) -> Result<(), ExpErr> {
        let name = pm.name.as_str();
        let push = |out: &mut Vec<Chunk>, s: String| {
            out.push(if dq { Chunk::Quoted(s) } else { Chunk::Exp(s) })
        };
        if let ParamOp::Keys = pm.op {
            if let Some(m) = self.assoc(name) {
                // mvdan: sorted unquoted; quoted in Go's random map order (sorted here).
                let keys: Vec<String> = m.keys().cloned().collect();
                self.push_list(&keys, true, dq, out);
                return Ok(());
            }
            let keys: Vec<String> = self
                .slots(name)
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_some())
                .map(|(i, _)| i.to_string())
                .collect();
            self.push_list(&keys, true, dq, out);
            return Ok(());
        }
        if let ParamOp::Names(at) = pm.op {
            let mut names: Vec<String> = self
                .vars
                .keys()
                .filter(|k| k.starts_with(name))
                .cloned()
                .collect();
            names.sort();
            self.push_list(&names, at, dq, out);
            return Ok(());
        }
        // An operator on a list (`${a[@]#x}`, `${@:2}`) applies to each element.
        let list = match pm.index.as_deref() {
            Some(Index::All(at)) => Some(*at),
            None if name == "@" || name == "*" => Some(name == "@"),
            _ => None,
        };
        if let (
            Some(at),
            ParamOp::Trim { .. }
            | ParamOp::Replace { .. }
            | ParamOp::Case { .. }
            | ParamOp::Substr { .. },
        ) = (list, &pm.op)
        {
            let vals = self.list_op(pm, io)?;
            self.push_list(&vals, at, dq, out);
            return Ok(());
        }
        // `@` operators: quoted alone, a list's elements are left as they are (mvdan's
        // perElemOps); otherwise the operator applies to the joined list.
        if let (Some(at), ParamOp::At(op)) = (list, &pm.op) {
            let vals = self.list_op(pm, io)?;
            if dq && self.dq_alone {
                self.push_list(&vals, at, dq, out);
            } else {
                let sep = if at { " ".to_string() } else { self.star_sep() };
                let v = self.at_op(*op, name, vals.join(&sep));
                push(out, v);
            }
            return Ok(());
        }
        // A test on a list (`${a[@]-w}`, `${a[@]:=w}`, …), as mvdan: quoted, a list that
        // is an array or `$@` keeps its elements as they are (the word is still expanded,
        // for its side effects), an unset `"${x[@]}"` makes no field; otherwise the list
        // joined (IFS's first character for `*`) is the value the operator tests, and
        // `=` assigns its word to element 0 (key "0" of an associative array).
        if let (Some(at), ParamOp::Test { kind, colon, word }) = (list, &pm.op) {
            let vals = self.list_op(pm, io)?;
            // `$@` and `$*` are always set in mvdan.
            let positional = pm.index.is_none();
            let set = positional || self.var(name).is_some();
            if dq && self.dq_alone {
                // An empty associative array is a nil list in mvdan: not one of these.
                let is_list = positional
                    || self.var(name).is_some_and(|v| {
                        v.arr.is_some() || v.map.as_ref().is_some_and(|m| !m.is_empty())
                    });
                if is_list {
                    self.expand_str(word, io)?;
                    self.push_list(&vals, at, dq, out);
                    return Ok(());
                }
                if at && !set {
                    return Ok(());
                }
            }
            let sep = if at { " ".to_string() } else { self.star_sep() };
            let joined = vals.join(&sep);
            let missing = !set || (*colon && joined.is_empty());
            match kind {
                '-' if missing => {
                    let v = self.expand_str(word, io)?;
                    push(out, v);
                }
                '+' if !missing => {
                    let v = self.expand_str(word, io)?;
                    push(out, v);
                }
                '+' => {}
                '=' if missing => {
                    let v = self.expand_str(word, io)?;
                    if !positional {
                        self.set_elem0(name, v.clone());
                    }
                    push(out, v);
                }
                '?' if missing => {
                    let m = self.expand_str(word, io)?;
                    return Err(ExpErr::Fatal(format!("{name}: {m}")));
                }
                _ => push(out, joined),
            }
            return Ok(());
        }
        let val = match pm.index.as_deref() {
            // The only parameter the environment cannot give (mvdan's paramExp).
            None if name == "LINENO" => Some(pm.line.to_string()),
            None => self.lookup(name),
            Some(Index::All(at)) => {
                let vals = self.elements(name);
                if let ParamOp::Len = pm.op {
                    // mvdan counts an associative array's `@` as one joined string.
                    let n = if self.assoc(name).is_some() {
                        1
                    } else {
                        vals.len()
                    };
                    push(out, n.to_string());
                } else {
                    self.push_list(&vals, *at, dq, out);
                }
                return Ok(());
            }
            Some(Index::Expr(_, key)) if self.assoc(name).is_some() => {
                let k = self.expand_str(key, io)?;
                self.assoc(name).and_then(|m| m.get(&k).cloned())
            }
            Some(Index::Expr(ps, _)) => {
                let e = self.arith_text(ps, io)?;
                let i = arith::eval(&e, self).map_err(ExpErr::Skip)?;
                let vals = self.slots(name);
                let k = if i < 0 { vals.len() as i64 + i } else { i };
                usize::try_from(k)
                    .ok()
                    .and_then(|k| vals.get(k).cloned().flatten())
            }
        };
        match &pm.op {
            ParamOp::Keys | ParamOp::Names(_) => {}
            ParamOp::At(op) => {
                let v = self.at_op(*op, name, val.unwrap_or_default());
                push(out, v);
            }
            ParamOp::Indirect => {
                // mvdan: a nameref gives the name it refers to, an unset name is an error,
                // an empty value gives nothing; otherwise the value names a variable or a
                // special parameter (`x='#'`, `n=2`), a list giving its first element.
                if let Some(v) = self.vars.get(name).filter(|v| v.nameref) {
                    push(out, v.value.clone());
                    return Ok(());
                }
                let target = match val {
                    None => return Err(ExpErr::Fatal("invalid indirect expansion".into())),
                    Some(t) => t,
                };
                let v = match target.as_str() {
                    "" => None,
                    "@" | "*" => self.pos.first().cloned(),
                    t => self.lookup(t),
                };
                push(out, v.unwrap_or_default());
            }
            ParamOp::Plain if name == "@" || name == "*" => {
                let pos = self.pos.clone();
                self.push_list(&pos, name == "@", dq, out);
            }
            ParamOp::Plain => match val {
                Some(v) => push(out, v),
                None if self.opts.nounset && name != "!" => {
                    return Err(ExpErr::Fatal(format!("{name}: unbound variable")))
                }
                None => push(out, String::new()),
            },
            ParamOp::Len => match val {
                None if self.opts.nounset && name != "@" && name != "*" => {
                    return Err(ExpErr::Fatal(format!("{name}: unbound variable")))
                }
                v => {
                    let n = if name == "@" || name == "*" {
                        self.pos.len()
                    } else {
                        v.unwrap_or_default().chars().count()
                    };
                    push(out, n.to_string())
                }
            },
            ParamOp::Test { kind, colon, word } => {
                let unset = match &val {
                    None => true,
                    Some(v) => *colon && v.is_empty(),
                };
                match kind {
                    // The word is expanded to one string (expand.Literal) that is then
                    // split and globbed like the parameter's own value.
                    '-' => {
                        if unset {
                            let v = self.expand_str(word, io)?;
                            push(out, v);
                        } else {
                            push(out, val.unwrap());
                        }
                    }
                    '=' => {
                        if unset {
                            let v = self.expand_str(word, io)?;
                            self.set_var(name, v.clone());
                            push(out, v);
                        } else {
                            push(out, val.unwrap());
                        }
                    }
                    '+' => {
                        if !unset {
                            let v = self.expand_str(word, io)?;
                            push(out, v);
                        }
                    }
                    _ => {
                        if unset {
                            let m = self.expand_str(word, io)?;
                            return Err(ExpErr::Fatal(format!("{name}: {m}")));
                        }
                        push(out, val.unwrap());
                    }
                }
            }
            ParamOp::Trim {
                suffix,
                longest,
                pat,
            } => {
                let v = match val {
                    None if self.opts.nounset => {
                        return Err(ExpErr::Fatal(format!("{name}: unbound variable")))
                    }
                    v => v.unwrap_or_default(),
                };
                // mvdan expands the pattern of `#`, `%`, `^` and `,` with expand.Literal: quotes
                // are removed, not escaped (`${v#'*'}` trims as `*` does).
                let p = self.expand_str(pat, io)?;
                push(out, glob::trim(&v, &p, *suffix, *longest));
            }
            ParamOp::Substr { off, len } => {
                let v = val.unwrap_or_default();
                let o = self.expand_str(off, io)?;
                let o = arith::eval(&o, self).map_err(ExpErr::Skip)?;
                let l = match len {
                    Some(l) => {
                        let l = self.expand_str(l, io)?;
                        Some(arith::eval(&l, self).map_err(ExpErr::Skip)?)
                    }
                    None => None,
                };
                // mvdan's slicePos: a negative position counts from the end, and one before
                // the start is the end; the length is taken of what the offset left
                let pos = |n: i64, len: usize| -> usize {
                    let len = len as i64;
                    let p = if n < 0 {
                        if len + n < 0 {
                            len
                        } else {
                            len + n
                        }
                    } else {
                        n.min(len)
                    };
                    p as usize
                };
                let chars: Vec<char> = v.chars().collect();
                let rest = &chars[pos(o, chars.len())..];
                let rest = match l {
                    Some(l) => &rest[..pos(l, rest.len())],
                    None => rest,
                };
                push(out, rest.iter().collect());
            }
            ParamOp::Case { upper, all, pat } => {
                let v = val.unwrap_or_default();
                let p = self.expand_str(pat, io)?;
                push(out, case_conv(&v, *upper, *all, &p));
            }
            ParamOp::Replace { all, pat, with } => {
                let v = match val {
                    None if self.opts.nounset => {
                        return Err(ExpErr::Fatal(format!("{name}: unbound variable")))
                    }
                    v => v.unwrap_or_default(),
                };
                let p = self.expand_pattern(pat, io)?;
                let w = self.expand_str(with, io)?;
                push(out, glob::replace(&v, &p, &w, *all));
            }
        }
        Ok(())
    }

    /// `${name@op}` of the value `v`, as mvdan's paramExp (`P`, `K` and `k` are no-ops
    /// there).
    fn at_op(&self, op: char, name: &str, v: String) -> String {
        // The attributes of the variable itself, before any nameref is followed.
        let flags = || {
            let var = self.vars.get(name);
            let mut f = String::new();
            match var {
                Some(v) if v.nameref => f.push('n'),
                Some(v) if v.map.is_some() => f.push('A'),
                Some(v) if v.arr.is_some() => f.push('a'),
                _ => {}
            }
            if self.readonly.contains(name) {
                f.push('r');
            }
            if var.is_some_and(|v| v.exported) {
                f.push('x');
            }
            f
        };
        match op {
            'Q' => super::quote(&v),
            'E' => unquote_chars(&v),
            'a' => flags(),
            'A' => match flags() {
                f if f.is_empty() => format!("{name}={}", super::quote(&v)),
                f => format!("declare -{f} {name}={}", super::quote(&v)),
            },
            'U' => v.to_uppercase(),
            'L' => v.to_lowercase(),
            'u' => {
                let mut cs = v.chars();
                match cs.next() {
                    Some(c) => c.to_uppercase().chain(cs).collect(),
                    None => v,
                }
            }
            _ => v,
        }
    }

    /// The elements of a list expansion after its per-element operator, as mvdan's
    /// perElemOps and sliceElems: `${a[@]:off:len}` slices the list (by index in a sparse
    /// array; `$0` comes first for `$@`), the others apply to every element.
    fn list_op(&mut self, pm: &Param, io: &Io) -> Result<Vec<String>, ExpErr> {
        let name = pm.name.as_str();
        let positional = name == "@" || name == "*";
        // (index, value) of each set element.
        let mut elems: Vec<(i64, String)> = if positional {
            self.pos
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, v)| (i as i64, v))
                .collect()
        } else if let Some(m) = self.assoc(name) {
            let mut v: Vec<String> = m.values().cloned().collect();
            v.sort();
            v.into_iter()
                .enumerate()
                .map(|(i, v)| (i as i64, v))
                .collect()
        } else {
            self.slots(name)
                .into_iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i as i64, v)))
                .collect()
        };
        Ok(match &pm.op {
            ParamOp::Substr { off, len } => {
                if positional {
                    elems.insert(0, (-1, self.name0.clone()));
                    for (k, e) in elems.iter_mut().enumerate() {
                        e.0 = k as i64;
                    }
                }
                let o = self.expand_str(off, io)?;
                let o = arith::eval(&o, self).map_err(ExpErr::Skip)?;
                let top = elems.last().map_or(0, |e| e.0 + 1);
                let o = if o < 0 {
                    if o + top < 0 {
                        top
                    } else {
                        o + top
                    }
                } else {
                    o
                };
                let mut vals: Vec<String> = elems
                    .into_iter()
                    .filter(|e| e.0 >= o)
                    .map(|e| e.1)
                    .collect();
                if let Some(l) = len {
                    let l = self.expand_str(l, io)?;
                    let l = arith::eval(&l, self).map_err(ExpErr::Skip)?;
                    let n = vals.len() as i64;
                    let l = if l < 0 {
                        if n + l < 0 {
                            n
                        } else {
                            n + l
                        }
                    } else {
                        l.min(n)
                    };
                    vals.truncate(l as usize);
                }
                vals
            }
            ParamOp::Trim {
                suffix,
                longest,
                pat,
            } => {
                let p = self.expand_str(pat, io)?;
                elems
                    .into_iter()
                    .map(|e| glob::trim(&e.1, &p, *suffix, *longest))
                    .collect()
            }
            ParamOp::Replace { all, pat, with } => {
                let p = self.expand_pattern(pat, io)?;
                let w = self.expand_str(with, io)?;
                elems
                    .into_iter()
                    .map(|e| glob::replace(&e.1, &p, &w, *all))
                    .collect()
            }
            ParamOp::Case { upper, all, pat } => {
                let p = self.expand_str(pat, io)?;
                elems
                    .into_iter()
                    .map(|e| case_conv(&e.1, *upper, *all, &p))
                    .collect()
            }
            _ => elems.into_iter().map(|e| e.1).collect(),
        })
    }
}

/// An arithmetic error: an assignment to a read-only variable fails the command and so
/// stops the script under errexit (mvdan's setVar sets status 1); the others (`1/0`, a
/// negative exponent) only skip the command.
fn arith_err(m: String) -> ExpErr {
    if m.ends_with(": readonly variable") {
        ExpErr::Fatal(m)
    } else {
        ExpErr::Skip(m)
    }
}

/// `${x@E}`: Go's strconv.UnquoteChar over the string, as mvdan calls it; at the first
/// invalid escape (`\q`, `\'`, a short `\x`) the character so far (NUL) ends the string.
fn unquote_chars(s: &str) -> String {
    let mut out = String::new();
    let mut cs = s.chars().peekable();
    while let Some(c) = cs.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let digits = |cs: &mut std::iter::Peekable<std::str::Chars>, n: usize, radix: u32| {
            let mut v = 0u32;
            for _ in 0..n {
                v = v * radix + cs.next()?.to_digit(radix)?;
            }
            Some(v)
        };
        let r = match cs.next() {
            Some('a') => Some(7),
            Some('b') => Some(8),
            Some('f') => Some(12),
            Some('n') => Some(10),
            Some('r') => Some(13),
            Some('t') => Some(9),
            Some('v') => Some(11),
            Some('\\') => Some(92),
            Some('x') => digits(&mut cs, 2, 16),
            Some('u') => digits(&mut cs, 4, 16).filter(|v| char::from_u32(*v).is_some()),
            Some('U') => digits(&mut cs, 8, 16).filter(|v| char::from_u32(*v).is_some()),
            Some(d @ '0'..='7') => digits(&mut cs, 2, 8)
                .map(|v| (d as u32 - 48) * 64 + v)
                .filter(|v| *v <= 255),
            _ => None,
        };
        match r.and_then(char::from_u32) {
            Some(c) => out.push(c),
            None => {
                out.push('\0');
                break;
            }
        }
    }
    out
}

/// `${x^pat}` and kin: the first character (or every one, `all`) that matches `pat` — a
/// pattern for one character, any character when empty — changes case. mvdan matches
/// the pattern unanchored against the character, so one that matches "" matches all.
fn case_conv(v: &str, upper: bool, all: bool, pat: &str) -> String {
    let hit = |c: char| {
        pat.is_empty() || glob::matches(pat, "") || glob::matches(pat, c.encode_utf8(&mut [0; 4]))
    };
    let mut out = String::with_capacity(v.len());
    for (k, c) in v.chars().enumerate() {
        if (all || k == 0) && hit(c) {
            if upper {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            out.push(c);
        }
    }
    out
}
