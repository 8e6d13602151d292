//! Executor with Go's `text/template/exec.go` semantics and error texts.

use std::borrow::Cow;
use std::rc::Rc;

use super::funcs::{self, Ctx, FuncDef, Special, Ty};
use super::gofmt;
use super::parse::{Arg, Branch, Cmd, List, Node, NumberNode, Pipe, TemplateNode, VarNode};
use super::patch::{self, Patches};
use super::strconv as sc;
use super::val::Val;
use super::value::{Kind, Map, Value};
use super::Template;

const MAX_EXEC_DEPTH: usize = 100_000;

/// Where the executor is, for error messages (Go's `s.at(node)`).
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Arg(&'t Arg),
    Cmd(&'t Cmd),
    Pipe(&'t Pipe),
    Var(&'t VarNode),
    Tmpl(&'t TemplateNode),
    Node(&'t Node),
}

impl At<'_> {
    fn pos(&self) -> usize {
        match self {
            At::None => 0,
            At::Arg(a) => a.pos(),
            At::Cmd(c) => c.pos,
            At::Pipe(p) => p.pos,
            At::Var(v) => v.pos,
            At::Tmpl(t) => t.pos,
            At::Node(n) => match n {
                Node::Action { pos, .. } => *pos,
                Node::If(b) | Node::Range(b) | Node::With(b) => b.pos,
                Node::Template(t) => t.pos,
                Node::Break(p) | Node::Continue(p) => *p,
                Node::Text(_) => 0,
            },
        }
    }

    fn text(&self) -> String {
        match self {
            At::None => String::new(),
            At::Arg(a) => a.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Pipe(p) => p.to_string(),
            At::Var(v) => v.to_string(),
            At::Tmpl(t) => t.to_string(),
            At::Node(n) => n.to_string(),
        }
    }
}

pub(crate) enum Flow {
    Err(String),
    Break,
    Continue,
}

type R<T> = Result<T, Flow>;

pub(crate) struct State<'t, 'a, 'o> {
    tmpl: &'t Template,
    name: &'t str,
    vars: Vec<(&'t str, Val<'a>)>,
    depth: usize,
    at: At<'t>,
    out: Option<&'o mut Vec<u8>>,
    /// `set`/`unset` per map (keyed by its address; `None` = unset), applied over the map
    /// so that the maps inside it keep their identity (Go maps are references).
    patches: Patches<'a>,
    /// Further template sets searched for a name (Helm's `tpl` sees its parent's).
    sets: Vec<&'t Template>,
    /// The file the running tree was parsed from (error positions): name, text.
    cur: (&'t str, &'t str),
    /// Helm's `includedNames`: nesting count per included name.
    includes: std::collections::HashMap<String, usize>,
}

impl<'t, 'a, 'o> State<'t, 'a, 'o> {
    pub(crate) fn new(tmpl: &'t Template, data: &'a Map, out: Option<&'o mut Vec<u8>>) -> Self {
        State {
            tmpl,
            name: tmpl.name.as_str(),
            vars: vec![("$", Val::Data(data))],
            depth: 0,
            at: At::None,
            out,
            patches: Patches::new(data),
            sets: Vec::new(),
            cur: (tmpl.name.as_str(), tmpl.src.as_str()),
            includes: std::collections::HashMap::new(),
        }
    }

    pub(crate) fn swap_patches(&mut self, p: &mut Patches<'a>) {
        std::mem::swap(&mut self.patches, p);
    }

    /// Makes `name` (a tree of the set) the running template.
    pub(crate) fn enter(&mut self, name: &str) {
        if let Some((k, _)) = self.tmpl.trees.get_key_value(name) {
            self.name = k.as_str();
            self.cur = origin(self.tmpl, k);
        }
    }

    /// A tree by name in this set or the ones behind it, with its file.
    fn find_tree(&self, name: &str) -> Option<(&'t str, &'t List, (&'t str, &'t str))> {
        std::iter::once(self.tmpl)
            .chain(self.sets.iter().copied())
            .find_map(|t| {
                t.trees
                    .get_key_value(name)
                    .map(|(k, l)| (k.as_str(), l, origin(t, k)))
            })
    }

    fn errorf(&self, msg: impl std::fmt::Display) -> Flow {
        Flow::Err(self.error_text(msg))
    }

    fn error_text(&self, msg: impl std::fmt::Display) -> String {
        if let At::None = self.at {
            return format!("template: {}: {}", self.name, msg);
        }
        let pos = self.at.pos();
        let text = &self.cur.1[..pos.min(self.cur.1.len())];
        let (line, col) = match text.rfind('\n') {
            None => (1, pos),
            Some(i) => (1 + text.matches('\n').count(), pos - (i + 1)),
        };
        format!(
            "template: {}:{}:{}: executing {} at <{}>: {}",
            self.cur.0,
            line,
            col,
            sc::quote(self.name),
            self.at.text(),
            msg
        )
    }

    pub(crate) fn run(&mut self, root: &'t List, dot: Val<'a>) -> Result<(), String> {
        match self.walk_list(&dot, root) {
            Ok(()) => Ok(()),
            Err(Flow::Err(e)) => Err(e),
            Err(_) => Ok(()),
        }
    }

    /// Go's `Template.Resolve`: the value of a single-action template.
    pub(crate) fn resolve(&mut self, root: &'t List, dot: Val<'a>) -> Result<Val<'a>, String> {
        let r = (|| {
            let nodes: Vec<&Node> = root
                .iter()
                .filter(|n| !matches!(n, Node::Text(t) if t.is_empty()))
                .collect();
            if nodes.is_empty() {
                return Ok(Val::Missing);
            }
            if nodes.len() > 1 {
                return Err(
                    self.errorf("template can only contain one action node when resolving a value")
                );
            }
            match nodes[0] {
                Node::Action { pipe, .. } => self.eval_pipeline(&dot, Some(pipe)),
                n => {
                    self.at = At::Node(n);
                    Err(self.errorf(format_args!("unknown node: {}", n)))
                }
            }
        })();
        match r {
            Ok(v) => Ok(v),
            Err(Flow::Err(e)) => Err(e),
            Err(_) => Ok(Val::Missing),
        }
    }

    fn write(&mut self, b: &[u8]) {
        if let Some(o) = self.out.as_mut() {
            o.extend_from_slice(b);
        }
    }

    // ---- walking ----

    fn walk_list(&mut self, dot: &Val<'a>, list: &'t List) -> R<()> {
        for n in list {
            self.walk(dot, n)?;
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Val<'a>, node: &'t Node) -> R<()> {
        self.at = At::Node(node);
        match node {
            Node::Text(t) => {
                self.write(t.as_bytes());
                Ok(())
            }
            Node::Action { pipe, .. } => {
                let val = self.eval_pipeline(dot, Some(pipe))?;
                if pipe.decl.is_empty() {
                    self.print_value(node, &val);
                }
                Ok(())
            }
            Node::Break(_) => Err(Flow::Break),
            Node::Continue(_) => Err(Flow::Continue),
            Node::If(b) => super::parse::grow(|| self.walk_if_or_with(false, dot, b)),
            Node::With(b) => super::parse::grow(|| self.walk_if_or_with(true, dot, b)),
            Node::Range(b) => super::parse::grow(|| self.walk_range(dot, node, b)),
            Node::Template(t) => {
                stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || self.walk_template(dot, t))
            }
        }
    }

    fn print_value(&mut self, node: &'t Node, v: &Val<'a>) {
        self.at = At::Node(node);
        let v = &self.mat(v.clone());
        let Some(out) = self.out.as_mut() else { return };
        match v {
            Val::Missing => out.extend_from_slice(b"<no value>"),
            Val::Ref(Value::Str(s), _) => out.extend_from_slice(s.as_bytes()),
            Val::Own(x, _) if matches!(x.as_ref(), Value::Str(_)) => {
                if let Value::Str(s) = x.as_ref() {
                    out.extend_from_slice(s.as_bytes());
                }
            }
            other => {
                let val = other.to_value();
                gofmt::sprint(out, &[&val]);
            }
        }
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Val<'a>, b: &'t Branch) -> R<()> {
        let mark = self.vars.len();
        let r = (|| {
            let val = self.eval_pipeline(dot, Some(&b.pipe))?;
            let truth = self.truth(&val);
            if truth {
                if with {
                    self.walk_list(&val, &b.list)
                } else {
                    self.walk_list(dot, &b.list)
                }
            } else if let Some(e) = &b.else_list {
                self.walk_list(dot, e)
            } else {
                Ok(())
            }
        })();
        self.vars.truncate(mark);
        r
    }

    fn walk_range(&mut self, dot: &Val<'a>, node: &'t Node, r: &'t Branch) -> R<()> {
        self.at = At::Node(node);
        let mark0 = self.vars.len();
        let res = self.walk_range_inner(dot, r);
        self.vars.truncate(mark0);
        match res {
            Err(Flow::Break) => Ok(()),
            other => other,
        }
    }

    fn one_iteration(
        &mut self,
        r: &'t Branch,
        mark: usize,
        index: Val<'a>,
        elem: Val<'a>,
    ) -> R<()> {
        let decl = &r.pipe.decl;
        if !decl.is_empty() {
            if r.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(&decl[0].ident[0], index.clone())?;
                } else {
                    self.set_var(&decl[0].ident[0], elem.clone())?;
                }
            } else {
                let n = self.vars.len();
                self.vars[n - 1].1 = elem.clone();
            }
        }
        if decl.len() > 1 {
            if r.pipe.is_assign {
                self.set_var(&decl[1].ident[0], elem.clone())?;
            } else {
                let n = self.vars.len();
                self.vars[n - 2].1 = index;
            }
        }
        let res = self.walk_list(&elem, &r.list);
        self.vars.truncate(mark);
        match res {
            Err(Flow::Continue) => Ok(()),
            other => other,
        }
    }

    fn walk_range_inner(&mut self, dot: &Val<'a>, r: &'t Branch) -> R<()> {
        let val = self.eval_pipeline(dot, Some(&r.pipe))?;
        let mark = self.vars.len();
        let ran = match val.kind() {
            Kind::Int | Kind::Int64 | Kind::Uint64 | Kind::Uint8 => {
                if r.pipe.decl.len() > 1 {
                    let s = val.to_value();
                    return Err(self.errorf(format_args!(
                        "can't use {} to iterate over more than one variable",
                        funcs::sprint(&s)
                    )));
                }
                let v = val.to_value();
                let n: i128 = match v {
                    Value::Int(i) | Value::Int64(i) => i as i128,
                    Value::Uint(u) => u as i128,
                    Value::Uint8(u) => u as i128,
                    _ => 0,
                };
                let mut i: i128 = 0;
                while i < n {
                    let e = match v {
                        Value::Int(_) => Value::Int(i as i64),
                        Value::Int64(_) => Value::Int64(i as i64),
                        Value::Uint(_) => Value::Uint(i as u64),
                        _ => Value::Uint8(i as u8),
                    };
                    self.one_iteration(r, mark, Val::Missing, Val::own(e))?;
                    i += 1;
                }
                n > 0
            }
            Kind::Slice => {
                let len = val.as_ref().and_then(|v| v.len()).unwrap_or(0);
                for i in 0..len {
                    let e = self.list_elem(&val, i).unwrap_or(Val::Missing);
                    self.one_iteration(r, mark, Val::own(Value::Int(i as i64)), e)?;
                }
                len > 0
            }
            Kind::Map => {
                let entries = self.range_entries(&val);
                let n = entries.len();
                for (k, v) in entries {
                    self.one_iteration(r, mark, k, v)?;
                }
                n > 0
            }
            Kind::Invalid => false,
            _ => {
                let s = val.to_value();
                return Err(self.errorf(format_args!(
                    "range can't iterate over {}",
                    funcs::sprint(&s)
                )));
            }
        };
        if ran {
            return Ok(());
        }
        if let Some(e) = &r.else_list {
            self.walk_list(dot, e)?;
        }
        Ok(())
    }

    /// The entries `range` visits: through the map's patches when it has any.
    fn range_entries(&self, val: &Val<'a>) -> Vec<(Val<'a>, Val<'a>)> {
        let keys = {
            let m = match val {
                Val::Data(m) => Some(*m),
                _ => match val.as_ref() {
                    Some(Value::Map(m)) => Some(&**m),
                    _ => None,
                },
            };
            match (m, patch::addr(val)) {
                (Some(m), Some(a)) => self.patches.keys(a, m),
                _ => return sorted_entries(val),
            }
        };
        let mut keys = keys;
        keys.sort();
        // each element through `map_field`: the map it stands for, with its patches
        keys.into_iter()
            .map(|k| {
                let v = self.map_field(val, &k).unwrap_or(Val::Missing);
                (Val::own(Value::Str(k)), v)
            })
            .collect()
    }

    /// Element `i` of a list; a map or list inside a computed list keeps its identity.
    fn list_elem(&self, val: &Val<'a>, i: usize) -> Option<Val<'a>> {
        if let Val::Own(rc, _) = val {
            if let Some(v) = self.patches.own_child(rc, &patch::elem_key(i)) {
                return Some(v);
            }
        }
        val.index(i)
    }

    fn walk_template(&mut self, dot: &Val<'a>, t: &'t TemplateNode) -> R<()> {
        self.at = At::Tmpl(t);
        let Some((tname, root, file)) = self.find_tree(&t.name) else {
            return Err(self.errorf(format_args!("template {} not defined", sc::quote(&t.name))));
        };
        if self.depth == MAX_EXEC_DEPTH {
            return Err(self.errorf(format_args!(
                "exceeded maximum template depth ({})",
                MAX_EXEC_DEPTH
            )));
        }
        let newdot = self.eval_pipeline(dot, t.pipe.as_ref())?;
        let saved_vars = std::mem::replace(&mut self.vars, vec![("$", newdot.clone())]);
        let saved_name = std::mem::replace(&mut self.name, tname);
        let saved_cur = std::mem::replace(&mut self.cur, file);
        self.depth += 1;
        let r = self.walk_list(&newdot, root);
        self.depth -= 1;
        self.name = saved_name;
        self.cur = saved_cur;
        self.vars = saved_vars;
        r
    }

    /// `v` with the patches at or below it applied, when it has any (a copy).
    fn mat(&self, v: Val<'a>) -> Val<'a> {
        match self.patches.materialize(&v) {
            Some(x) => Val::Own(Rc::new(x), v.iface()),
            None => v,
        }
    }

    /// Go's `isTrue` of `v`, seeing `unset` on a map.
    fn truth(&self, v: &Val<'a>) -> bool {
        if patch::addr(v).is_some_and(|a| self.patches.is_patched(a)) {
            return is_true(&self.mat(v.clone()));
        }
        is_true(v)
    }

    /// Field `name` of the map `m`, through its patches (keeps the identity of the map found).
    fn map_field(&self, m: &Val<'a>, name: &str) -> Option<Val<'a>> {
        if let Some(a) = patch::addr(m) {
            if let Some(v) = self.patches.get(a, name) {
                return Some(v);
            }
        }
        if let Val::Own(rc, _) = m {
            if let Some(v) = self.patches.own_child(rc, name) {
                return Some(v);
            }
        }
        m.map_get(name)
    }

    /// `set`, `unset`, and `index`/`get` of patched maps, done on the map's identity (Go
    /// maps are references); `None` when the call is left to the function itself.
    fn patched_call(&mut self, def: &FuncDef, argv: &[Val<'a>]) -> Option<Val<'a>> {
        let is_map =
            |v: &Val| matches!(v, Val::Data(_)) || matches!(v.as_ref(), Some(Value::Map(_)));
        let key = |v: &Val| match v.as_ref() {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        };
        match (def.name, argv.len()) {
            ("set", 3) | ("unset", 2) if is_map(&argv[0]) => {
                let k = key(&argv[1])?;
                let v = (argv.len() == 3).then(|| match &argv[2] {
                    Val::Missing => Val::nil(),
                    Val::Ref(x, _) => Val::Ref(x, true),
                    Val::Own(rc, _) => Val::Own(rc.clone(), true),
                    d @ Val::Data(_) => d.clone(),
                });
                self.patches.patch(&argv[0], k, v);
                Some(argv[0].clone().indirect())
            }
            ("index", n) | ("get", n) if n >= 2 && !self.patches.is_empty() => {
                if def.name == "get" && n != 2 {
                    return None;
                }
                let mut cur = argv[0].clone().indirect();
                for a in &argv[1..] {
                    if !is_map(&cur) {
                        return None;
                    }
                    cur = self.map_field(&cur, &key(a)?)?;
                    if cur.is_missing() {
                        return None;
                    }
                }
                Some(cur)
            }
            ("dig", n) if n >= 3 && !self.patches.is_empty() => {
                let mut cur = argv[n - 1].clone().indirect();
                for a in &argv[..n - 2] {
                    if !is_map(&cur) {
                        return None;
                    }
                    cur = self.map_field(&cur, &key(a)?)?;
                    if cur.is_missing() {
                        return Some(argv[n - 2].clone());
                    }
                }
                Some(cur)
            }
            _ => None,
        }
    }

    /// `merge` changed `dst` in place into `new`: each key whose value changed is patched,
    /// inside the maps that both hold (mergo merges into them in place).
    fn patch_all(&mut self, dst: &Val<'a>, new: &Value, depth: usize) {
        let old = self.mat(dst.clone());
        let (Some(Value::Map(old)), Value::Map(new)) = (old.value().map(|c| c.into_owned()), new)
        else {
            return;
        };
        for (k, v) in new {
            match old.get(k) {
                Some(o) if o == v => continue,
                Some(Value::Map(_)) if matches!(v, Value::Map(_)) && depth < 100 => {
                    if let Some(child) = self.map_field(dst, k) {
                        if matches!(child.as_ref(), Some(Value::Map(_))) {
                            self.patch_all(&child, v, depth + 1);
                            continue;
                        }
                    }
                }
                _ => {}
            }
            self.patches
                .patch(dst, k.clone(), Some(Val::own_iface(v.clone())));
        }
        for k in old.keys() {
            if !new.contains_key(k) {
                self.patches.patch(dst, k.clone(), None);
            }
        }
    }

    // ---- variables ----

    fn push(&mut self, name: &'t str, v: Val<'a>) {
        self.vars.push((name, v));
    }

    fn set_var(&mut self, name: &str, v: Val<'a>) -> R<()> {
        for i in (0..self.vars.len()).rev() {
            if self.vars[i].0 == name {
                self.vars[i].1 = v;
                return Ok(());
            }
        }
        Err(self.errorf(format_args!("undefined variable: {}", name)))
    }

    fn var_value(&self, name: &str) -> R<Val<'a>> {
        for i in (0..self.vars.len()).rev() {
            if self.vars[i].0 == name {
                return Ok(self.vars[i].1.clone());
            }
        }
        Err(self.errorf(format_args!("undefined variable: {}", name)))
    }

    // ---- evaluation ----

    fn eval_pipeline(&mut self, dot: &Val<'a>, pipe: Option<&'t Pipe>) -> R<Val<'a>> {
        let Some(pipe) = pipe else {
            return Ok(Val::Missing);
        };
        self.at = At::Pipe(pipe);
        let mut value: Option<Val<'a>> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            // An interface value is replaced by what it holds.
            value = Some(if v.iface() { v.indirect() } else { v });
        }
        let value = value.unwrap_or(Val::Missing);
        for var in &pipe.decl {
            if pipe.is_assign {
                self.set_var(&var.ident[0], value.clone())?;
            } else {
                self.push(var.ident[0].as_str(), value.clone());
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &'t [Arg], final_: &Option<Val<'a>>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            return Err(self.errorf(format_args!(
                "can't give argument to non-function {}",
                args[0]
            )));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Val<'a>, cmd: &'t Cmd, final_: Option<Val<'a>>) -> R<Val<'a>> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { ident, .. } => {
                return self.eval_field_node(dot, first, ident, &cmd.args, final_)
            }
            Arg::Chain { .. } => return self.eval_chain_node(dot, first, &cmd.args, final_),
            Arg::Ident { .. } => {
                return self.eval_function(dot, first, At::Cmd(cmd), Some(&cmd.args), final_)
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                return super::parse::grow(|| self.eval_pipeline(dot, Some(p)));
            }
            Arg::Var(v) => return self.eval_variable_node(dot, v, Some(&cmd.args), final_),
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool { val, .. } => Ok(Val::own(Value::Bool(*val))),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Err(self.errorf("nil is not a command")),
            Arg::Number(n) => self.ideal_constant(first, n),
            Arg::Str { val, .. } => Ok(Val::own(val.clone())),
            _ => Err(self.errorf(format_args!(
                "can't evaluate command {}",
                sc::quote(&first.to_string())
            ))),
        }
    }

    fn ideal_constant(&mut self, node: &'t Arg, n: &NumberNode) -> R<Val<'a>> {
        self.at = At::Arg(node);
        let t = n.text.as_str();
        let is_hex_int = t.len() > 2
            && t.as_bytes()[0] == b'0'
            && matches!(t.as_bytes()[1], b'x' | b'X')
            && !t.contains(['p', 'P']);
        let is_rune = t.starts_with('\'');
        if n.is_complex {
            return Ok(Val::own(Value::Complex(n.complex.0, n.complex.1)));
        }
        if n.is_float && !is_hex_int && !is_rune && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Val::own(Value::Float(n.float64)));
        }
        if n.is_int {
            return Ok(Val::own(Value::Int(n.int64)));
        }
        if n.is_uint {
            return Err(self.errorf(format_args!("{} overflows int", t)));
        }
        Ok(Val::Missing)
    }

    fn eval_field_node(
        &mut self,
        dot: &Val<'a>,
        node: &'t Arg,
        ident: &'t [String],
        args: &'t [Arg],
        final_: Option<Val<'a>>,
    ) -> R<Val<'a>> {
        self.at = At::Arg(node);
        self.eval_field_chain(dot, dot.clone(), ident, args, final_)
    }

    fn eval_chain_node(
        &mut self,
        dot: &Val<'a>,
        node: &'t Arg,
        args: &'t [Arg],
        final_: Option<Val<'a>>,
    ) -> R<Val<'a>> {
        self.at = At::Arg(node);
        let Arg::Chain {
            node: inner, field, ..
        } = node
        else {
            unreachable!()
        };
        if let Arg::Nil(_) = inner.as_ref() {
            return Err(self.errorf(format_args!("indirection through explicit nil in {}", node)));
        }
        let pipe = self.eval_arg_untyped(dot, inner)?;
        self.eval_field_chain(dot, pipe, field, args, final_)
    }

    fn eval_variable_node(
        &mut self,
        dot: &Val<'a>,
        v: &'t VarNode,
        args: Option<&'t [Arg]>,
        final_: Option<Val<'a>>,
    ) -> R<Val<'a>> {
        self.at = At::Var(v);
        let value = self.var_value(&v.ident[0])?;
        if v.ident.len() == 1 {
            if let Some(args) = args {
                self.not_a_function(args, &final_)?;
            } else if final_.is_some() {
                return Err(self.errorf(format_args!("can't give argument to non-function {}", v)));
            }
            return Ok(value);
        }
        self.eval_field_chain(dot, value, &v.ident[1..], args.unwrap_or(&[]), final_)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Val<'a>,
        mut receiver: Val<'a>,
        ident: &'t [String],
        args: &'t [Arg],
        final_: Option<Val<'a>>,
    ) -> R<Val<'a>> {
        let n = ident.len();
        for name in &ident[..n - 1] {
            receiver = self.eval_field(dot, name, &[], None, receiver)?;
        }
        self.eval_field(dot, &ident[n - 1], args, final_, receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Val<'a>,
        name: &str,
        args: &'t [Arg],
        final_: Option<Val<'a>>,
        receiver: Val<'a>,
    ) -> R<Val<'a>> {
        if receiver.is_missing() {
            return Ok(Val::Missing);
        }
        let typ = receiver.type_name();
        if receiver.is_nil_iface() {
            return Err(self.errorf(format_args!("nil pointer evaluating {}.{}", typ, name)));
        }
        if let Some(Value::Time(t)) = receiver.as_ref() {
            if let Some(r) = self.time_method(dot, t, name, args, final_.clone())? {
                return Ok(r);
            }
        }
        let has_args = args.len() > 1 || final_.is_some();
        if self.tmpl.helm {
            if let Some(r) = self.helm_method(dot, &receiver, name, args, final_.clone())? {
                return Ok(r);
            }
        }
        if receiver.kind() == Kind::Map {
            if has_args {
                return Err(self.errorf(format_args!("{} is not a method but has arguments", name)));
            }
            if let Some(v) = self.map_field(&receiver, name) {
                if self.tmpl.helm && v.is_missing() {
                    // Helm runs with missingkey=zero: the element type's zero value
                    if let Some(Value::StrMap(_)) = receiver.as_ref() {
                        return Ok(Val::own(Value::Str(String::new())));
                    }
                    return Ok(Val::nil());
                }
                return Ok(v);
            }
        }
        Err(self.errorf(format_args!(
            "can't evaluate field {} in type {}",
            name, typ
        )))
    }

    /// The methods of `time.Time` that take no arguments or a layout.
    fn time_method(
        &mut self,
        dot: &Val<'a>,
        t: &super::gotime::GoTime,
        name: &str,
        args: &'t [Arg],
        final_: Option<Val<'a>>,
    ) -> R<Option<Val<'a>>> {
        let nargs = args.len().saturating_sub(1) + final_.is_some() as usize;
        let want = match name {
            "Format" => 1,
            "Unix" | "UnixMilli" | "UnixNano" | "Year" | "Day" | "Hour" | "Minute" | "Second"
            | "Nanosecond" | "YearDay" | "UTC" | "Local" | "String" | "IsZero" | "Month"
            | "Weekday" => 0,
            _ => return Ok(None),
        };
        if nargs != want {
            return Err(self.errorf(format_args!(
                "wrong number of args for {}: want {} got {}",
                name, want, nargs
            )));
        }
        let c = t.format("2006 1 2 15 4 5 002 January Monday");
        let parts: Vec<&str> = c.split(' ').collect();
        let num = |i: usize| Value::Int(parts[i].parse().unwrap_or(0));
        let v = match name {
            "Format" => {
                let layout = match final_ {
                    Some(f) => self.validate_type(f, Ty::Str)?,
                    None => self.eval_arg(dot, Ty::Str, &args[1])?,
                };
                Value::Str(t.format(&funcs::a_str(&layout)))
            }
            "Unix" => Value::Int64(t.unix),
            "UnixMilli" => Value::Int64(t.unix * 1000 + (t.nanos / 1_000_000) as i64),
            "UnixNano" => Value::Int64(t.unix.wrapping_mul(1_000_000_000) + t.nanos as i64),
            "Year" => num(0),
            "Day" => num(2),
            "Hour" => num(3),
            "Minute" => num(4),
            "Second" => num(5),
            "YearDay" => num(6),
            "Nanosecond" => Value::Int(t.nanos as i64),
            "Month" => Value::Str(parts[7].to_string()),
            "Weekday" => Value::Str(parts[8].to_string()),
            "UTC" => Value::Time(t.in_loc(super::gotime::Loc::Utc)),
            "Local" => Value::Time(t.in_loc(super::gotime::Loc::Local)),
            "String" => Value::Str(t.go_string()),
            "IsZero" => Value::Bool(t.unix == super::gotime::GoTime::zero().unix && t.nanos == 0),
            _ => return Ok(None),
        };
        Ok(Some(Val::own(v)))
    }

    fn eval_function(
        &mut self,
        dot: &Val<'a>,
        node: &'t Arg,
        cmd: At<'t>,
        args: Option<&'t [Arg]>,
        final_: Option<Val<'a>>,
    ) -> R<Val<'a>> {
        self.at = At::Arg(node);
        let Arg::Ident { name, func, .. } = node else {
            unreachable!()
        };
        let def = funcs::get(*func);
        self.eval_call(
            dot,
            def,
            cmd,
            name,
            args.map(|a| &a[1..]).unwrap_or(&[]),
            final_,
        )
    }

    fn eval_call(
        &mut self,
        dot: &Val<'a>,
        def: &'static FuncDef,
        node: At<'t>,
        name: &str,
        args: &'t [Arg],
        final_: Option<Val<'a>>,
    ) -> R<Val<'a>> {
        let num_in = args.len() + final_.is_some() as usize;
        let nparams = def.params.len();
        let mut num_fixed = args.len();
        if def.variadic.is_some() {
            num_fixed = nparams;
            if num_in < num_fixed {
                return Err(self.errorf(format_args!(
                    "wrong number of args for {}: want at least {} got {}",
                    name,
                    nparams,
                    args.len()
                )));
            }
        } else if num_in != nparams {
            return Err(self.errorf(format_args!(
                "wrong number of args for {}: want {} got {}",
                name, nparams, num_in
            )));
        }

        if def.special == Special::And || def.special == Special::Or {
            let is_or = def.special == Special::Or;
            let mut v = Val::Missing;
            for a in args {
                v = self.eval_arg(dot, Ty::RV, a)?;
                if self.truth(&v) == is_or {
                    return Ok(v);
                }
            }
            if let Some(f) = final_ {
                v = self.validate_type(f, Ty::RV)?;
            }
            return Ok(v);
        }

        let mut argv: Vec<Val<'a>> = Vec::with_capacity(num_in);
        let mut i = 0;
        while i < num_fixed && i < args.len() {
            let v = self.eval_arg(dot, def.params[i], &args[i])?;
            argv.push(v);
            i += 1;
        }
        if let Some(vt) = def.variadic {
            while i < args.len() {
                let v = self.eval_arg(dot, vt, &args[i])?;
                argv.push(v);
                i += 1;
            }
        }
        if let Some(f) = final_ {
            let t = match def.variadic {
                Some(vt) => {
                    if num_in - 1 < num_fixed {
                        def.params[num_in - 1]
                    } else {
                        vt
                    }
                }
                None => def.params[nparams - 1],
            };
            let v = self.validate_type(f, t)?;
            argv.push(v);
        }

        if def.special == Special::Call {
            let callee = if args.is_empty() {
                // Go uses the reflect.Value's String(): the text of a string,
                // "<T Value>" otherwise.
                match argv[0].as_ref() {
                    Some(v) => match v.go_str() {
                        Some(t) => t.into_owned(),
                        None => format!("<{} Value>", v.go_type()),
                    },
                    None => "<invalid Value>".to_string(),
                }
            } else {
                args[0].to_string()
            };
            let f = argv[0].clone().indirect();
            let msg = match f.value() {
                None => "call of nil".to_string(),
                Some(v) => format!("non-function {} of type {}", callee, v.go_type()),
            };
            self.at = node;
            return Err(self.errorf(format_args!("error calling {}: {}", name, msg)));
        }

        if def.special == Special::Include || def.special == Special::Tpl {
            let r = if def.special == Special::Include {
                self.include(&argv)
            } else {
                self.tpl(&argv)
            };
            return match r {
                Ok(s) => Ok(Val::own(Value::Str(s))),
                Err(e) => {
                    self.at = node;
                    Err(self.errorf(format_args!("error calling {}: {}", name, e)))
                }
            };
        }

        if let Some(v) = self.patched_call(def, &argv) {
            return Ok(v);
        }
        let ident0 = argv.first().cloned();
        // arguments as copies with their patches applied; one returned as it is (`default`,
        // `ternary`, `coalesce`…) is given back as the map it stands for
        let mut copies: Vec<(usize, Val<'a>)> = Vec::new();
        if !self.patches.is_empty() {
            argv = argv
                .into_iter()
                .map(|v| {
                    let m = self.mat(v.clone());
                    if let Val::Own(rc, _) = &m {
                        if patch::addr(&v) != Some(Rc::as_ptr(rc) as usize) {
                            copies.push((Rc::as_ptr(rc) as usize, v));
                        }
                    }
                    m
                })
                .collect();
        }
        let mut ctx = Ctx::default();
        let res = (def.imp)(&mut ctx, argv).map(|v| match &v {
            Val::Own(rc, i) if !copies.is_empty() => {
                let at = Rc::as_ptr(rc) as usize;
                match copies.iter().find(|(a, _)| *a == at) {
                    Some((_, orig)) => match orig.clone() {
                        Val::Ref(x, _) => Val::Ref(x, *i),
                        Val::Own(o, _) => Val::Own(o, *i),
                        other => other,
                    },
                    None => v,
                }
            }
            _ => v,
        });
        match res {
            Ok(v) => match (ctx.rebind.take(), ident0) {
                // `merge` changed its first argument in place
                (Some((_, new)), Some(dst)) => {
                    self.patch_all(&dst, &new, 0);
                    Ok(dst.indirect())
                }
                _ => Ok(v),
            },
            Err(e) => {
                self.at = node;
                Err(self.errorf(format_args!("error calling {}: {}", name, e)))
            }
        }
    }

    /// Go's `validateType`: checks a computed value against a parameter type.
    fn validate_type(&mut self, v: Val<'a>, ty: Ty) -> R<Val<'a>> {
        if v.is_missing() {
            return match ty {
                Ty::Any => Ok(Val::nil()),
                Ty::RV => Ok(Val::Missing),
                Ty::MapSI => Ok(Val::own(Value::Map(Map::new().into()))),
                _ => Err(self.errorf(format_args!("invalid value; expected {}", ty.name()))),
            };
        }
        if ty == Ty::RV || ty == Ty::Any {
            return Ok(v);
        }
        if let Val::Data(_) = v {
            if ty == Ty::MapSI {
                return Ok(v);
            }
        }
        let accepted = v.as_ref().map(|x| ty.accepts(x)).unwrap_or(false);
        if accepted && !v.is_nil_iface() {
            return Ok(v);
        }
        let got: Cow<str> = if v.is_nil_iface() {
            Cow::Borrowed("interface {}")
        } else {
            match &v {
                Val::Data(_) => Cow::Borrowed("map[string]interface {}"),
                _ => Cow::Borrowed(v.as_ref().map(|x| x.go_type()).unwrap_or("<nil>")),
            }
        };
        Err(self.errorf(format_args!(
            "wrong type for value; expected {}; got {}",
            ty.name(),
            got
        )))
    }

    /// `evalArg` with no expected type (chains): the value as is.
    fn eval_arg_untyped(&mut self, dot: &Val<'a>, n: &'t Arg) -> R<Val<'a>> {
        self.at = At::Arg(n);
        match n {
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Field { ident, .. } => {
                self.eval_field_node(dot, n, ident, std::slice::from_ref(n), None)
            }
            Arg::Var(v) => self.eval_variable_node(dot, v, None, None),
            Arg::Pipe(p) => super::parse::grow(|| self.eval_pipeline(dot, Some(p))),
            Arg::Ident { .. } => self.eval_function(dot, n, At::Arg(n), None, None),
            Arg::Chain { .. } => self.eval_chain_node(dot, n, &[], None),
            _ => self.eval_empty_interface(dot, n),
        }
    }

    fn eval_arg(&mut self, dot: &Val<'a>, ty: Ty, n: &'t Arg) -> R<Val<'a>> {
        self.at = At::Arg(n);
        let v = match n {
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) => {
                if ty.can_be_nil() {
                    return self.validate_type(Val::Missing, ty);
                }
                return Err(self.errorf(format_args!("cannot assign nil to {}", ty.name())));
            }
            Arg::Field { ident, .. } => {
                self.eval_field_node(dot, n, ident, std::slice::from_ref(n), None)?
            }
            Arg::Var(v) => self.eval_variable_node(dot, v, None, None)?,
            Arg::Pipe(p) => super::parse::grow(|| self.eval_pipeline(dot, Some(p)))?,
            Arg::Ident { .. } => self.eval_function(dot, n, At::Arg(n), None, None)?,
            Arg::Chain { .. } => self.eval_chain_node(dot, n, &[], None)?,
            _ => {
                return match ty {
                    Ty::Bool => match n {
                        Arg::Bool { val, .. } => Ok(Val::own(Value::Bool(*val))),
                        _ => Err(self.errorf(format_args!("expected bool; found {}", n))),
                    },
                    Ty::Float => match n {
                        Arg::Number(num) if num.is_float => Ok(Val::own(Value::Float(num.float64))),
                        _ => Err(self.errorf(format_args!("expected float; found {}", n))),
                    },
                    Ty::Int => match n {
                        Arg::Number(num) if num.is_int => Ok(Val::own(Value::Int(num.int64))),
                        _ => Err(self.errorf(format_args!("expected integer; found {}", n))),
                    },
                    Ty::Str => match n {
                        Arg::Str { val, .. } => Ok(Val::own(val.clone())),
                        _ => Err(self.errorf(format_args!("expected string; found {}", n))),
                    },
                    Ty::Any | Ty::RV => self.eval_empty_interface(dot, n),
                    Ty::MapSI | Ty::Time => Err(self.errorf(format_args!(
                        "can't handle {} for arg of type {}",
                        n,
                        ty.name()
                    ))),
                };
            }
        };
        self.validate_type(v, ty)
    }

    fn eval_empty_interface(&mut self, dot: &Val<'a>, n: &'t Arg) -> R<Val<'a>> {
        self.at = At::Arg(n);
        match n {
            Arg::Bool { val, .. } => Ok(Val::own(Value::Bool(*val))),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Number(num) => self.ideal_constant(n, num),
            Arg::Str { val, .. } => Ok(Val::own(val.clone())),
            Arg::Nil(_) => Err(self.errorf("evalEmptyInterface: nil (can't happen)")),
            _ => self.eval_arg_untyped(dot, n),
        }
    }
}

/// Go's `isTrue` after `indirectInterface`.
pub(crate) fn is_true(v: &Val) -> bool {
    match v {
        Val::Missing => false,
        Val::Data(m) => !m.is_empty(),
        _ => v.as_ref().map(|x| x.truthy()).unwrap_or(false),
    }
}

/// Map entries in Go's `fmtsort` order, as (key, value) pairs.
fn sorted_entries<'a>(val: &Val<'a>) -> Vec<(Val<'a>, Val<'a>)> {
    let key = |k: &String| Val::own(Value::Str(k.clone()));
    match val {
        Val::Data(m) => {
            let mut e: Vec<(&String, &'a Value)> = m.iter().collect();
            e.sort_by(|a, b| a.0.cmp(b.0));
            e.into_iter()
                .map(|(k, v)| (key(k), Val::Ref(v, true)))
                .collect()
        }
        Val::Ref(Value::Map(m), _) => {
            let mut e: Vec<(&String, &'a Value)> = m.iter().collect();
            e.sort_by(|a, b| a.0.cmp(b.0));
            e.into_iter()
                .map(|(k, v)| (key(k), Val::Ref(v, true)))
                .collect()
        }
        _ => match val.as_ref() {
            Some(Value::Map(m)) => {
                let mut e: Vec<(&String, &Value)> = m.iter().collect();
                e.sort_by(|a, b| a.0.cmp(b.0));
                e.into_iter()
                    .map(|(k, v)| (key(k), Val::own_iface(v.clone())))
                    .collect()
            }
            Some(Value::StrMap(m)) => {
                let mut e: Vec<(&String, &String)> = m.iter().collect();
                e.sort_by(|a, b| a.0.cmp(b.0));
                e.into_iter()
                    .map(|(k, v)| (key(k), Val::own(Value::Str(v.clone()))))
                    .collect()
            }
            Some(Value::AnyMap(m)) => {
                let mut e: Vec<&(Value, Value)> = m.iter().collect();
                e.sort_by(|a, b| gofmt::compare_keys(&a.0, &b.0));
                e.into_iter()
                    .map(|(k, v)| (Val::own_iface(k.clone()), Val::own_iface(v.clone())))
                    .collect()
            }
            _ => Vec::new(),
        },
    }
}

/// The file a tree of `t` was parsed from.
fn origin<'t>(t: &'t Template, name: &str) -> (&'t str, &'t str) {
    match t.origins.get(name).and_then(|i| t.files.get(*i)) {
        Some((n, src)) => (n.as_str(), src.as_str()),
        None => (t.name.as_str(), t.src.as_str()),
    }
}

/// Helm's recursion limit for `include` of one name.
const INCLUDE_MAX: usize = 1000;

impl<'t, 'a, 'o> State<'t, 'a, 'o> {
    /// Runs `root` as template `name` with `dot` in a fresh state that shares this one's
    /// template sets, `set` overlay and include counts; returns the output.
    fn sub_run<'t2>(
        &mut self,
        tmpl: &'t2 Template,
        sets: Vec<&'t2 Template>,
        name: &'t2 str,
        cur: (&'t2 str, &'t2 str),
        root: &'t2 List,
        dot: Val<'a>,
    ) -> Result<Vec<u8>, String>
    where
        't: 't2,
    {
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            ));
        }
        let mut buf = Vec::new();
        let mut st: State<'t2, 'a, '_> = State {
            tmpl,
            name,
            vars: vec![("$", dot.clone())],
            depth: self.depth + 1,
            at: At::None,
            out: Some(&mut buf),
            patches: std::mem::take(&mut self.patches),
            sets,
            cur,
            includes: std::mem::take(&mut self.includes),
        };
        let r = super::parse::grow(|| st.walk_list(&dot, root));
        self.patches = std::mem::take(&mut st.patches);
        self.includes = std::mem::take(&mut st.includes);
        drop(st);
        match r {
            Ok(()) | Err(Flow::Break) | Err(Flow::Continue) => Ok(buf),
            Err(Flow::Err(e)) => Err(e),
        }
    }

    fn include(&mut self, argv: &[Val<'a>]) -> Result<String, String> {
        let name = funcs::a_str(&argv[0]).into_owned();
        let n = self.includes.entry(name.clone()).or_insert(0);
        if *n > INCLUDE_MAX {
            return Err(format!(
                "rendering template has a nested reference name: {name}: unable to execute template"
            ));
        }
        *n += 1;
        let r = match self.find_tree(&name) {
            None => Err(format!(
                "template: no template {} associated with template {}",
                sc::quote(&name),
                sc::quote("gotpl")
            )),
            Some((tname, root, file)) => {
                let sets = self.sets.clone();
                let tmpl = self.tmpl;
                self.sub_run(tmpl, sets, tname, file, root, argv[1].clone())
            }
        };
        if let Some(n) = self.includes.get_mut(&name) {
            *n -= 1;
        }
        r.map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn tpl(&mut self, argv: &[Val<'a>]) -> Result<String, String> {
        let text = funcs::a_str(&argv[0]).into_owned();
        let mut t = Template::new_helm_set();
        t.add_file("gotpl", &text)
            .map_err(|e| format!("cannot parse template {}: {}", sc::quote(&text), e))?;
        let mut sets = vec![self.tmpl];
        sets.extend(self.sets.iter().copied());
        let Some(root) = t.trees.get("gotpl") else {
            return Ok(String::new());
        };
        let cur = origin(&t, "gotpl");
        let out = self
            .sub_run(&t, sets, "gotpl", cur, root, argv[1].clone())
            .map_err(|e| {
                format!(
                    "error during tpl function execution for {}: {}",
                    sc::quote(&text),
                    e
                )
            })?;
        let s = String::from_utf8_lossy(&out).into_owned();
        Ok(s.replace("<no value>", ""))
    }

    /// Methods of Helm's objects: `.Files` (a map of `[]byte`), `.Capabilities.APIVersions`
    /// (a `[]string`), `.Capabilities.KubeVersion` (a map with `Version`, `Major`, `Minor`).
    fn helm_method(
        &mut self,
        dot: &Val<'a>,
        receiver: &Val<'a>,
        name: &str,
        args: &'t [Arg],
        final_: Option<Val<'a>>,
    ) -> R<Option<Val<'a>>> {
        // Most field lookups are not these methods: decide that before anything else, and
        // look at the receiver in place (the root data map holds none of them).
        if !matches!(
            name,
            "Has"
                | "GitVersion"
                | "String"
                | "Get"
                | "GetBytes"
                | "Glob"
                | "Lines"
                | "AsConfig"
                | "AsSecrets"
        ) {
            return Ok(None);
        }
        let Some(rv) = receiver.as_ref() else {
            return Ok(None);
        };
        let mut argv: Vec<Val<'a>> = Vec::new();
        for a in args.iter().skip(1) {
            argv.push(self.eval_arg(dot, Ty::Any, a)?);
        }
        if let Some(f) = final_ {
            argv.push(f);
        }
        let want = |st: &Self, n: usize| -> R<()> {
            if argv.len() != n {
                return Err(st.errorf(format_args!(
                    "wrong number of args for {}: want {} got {}",
                    name,
                    n,
                    argv.len()
                )));
            }
            Ok(())
        };
        let arg_str = |i: usize| -> String { funcs::a_str(&argv[i]).into_owned() };
        match (rv, name) {
            (Value::StrList(l), "Has") => {
                want(self, 1)?;
                let x = arg_str(0);
                Ok(Some(Val::own(Value::Bool(l.contains(&x)))))
            }
            (Value::Map(m), "GitVersion" | "String")
                if m.len() == 3 && m.contains_key("Version") && m.contains_key("Major") =>
            {
                want(self, 0)?;
                Ok(Some(Val::own(m["Version"].clone())))
            }
            (Value::Map(m), "Get" | "GetBytes" | "Glob" | "Lines" | "AsConfig" | "AsSecrets")
                if m.values().all(|v| matches!(v, Value::Bytes(_))) && !m.contains_key(name) =>
            {
                let files: Vec<(&String, &[u8])> = m
                    .iter()
                    .map(|(k, v)| match v {
                        Value::Bytes(b) => (k, b.as_slice()),
                        _ => (k, &b""[..]),
                    })
                    .collect();
                let v = match name {
                    "Get" | "GetBytes" | "Lines" | "Glob" => {
                        want(self, 1)?;
                        let p = arg_str(0);
                        let data = files.iter().find(|(k, _)| **k == p).map(|(_, d)| *d);
                        match name {
                            "Get" => Value::Str(
                                String::from_utf8_lossy(data.unwrap_or(b"")).into_owned(),
                            ),
                            "GetBytes" => Value::List(
                                data.unwrap_or(b"")
                                    .iter()
                                    .map(|b| Value::Uint8(*b))
                                    .collect(),
                            ),
                            "Lines" => match data {
                                None => Value::StrList(vec![]),
                                Some(d) => {
                                    let s = String::from_utf8_lossy(d);
                                    let s = s.strip_suffix('\n').unwrap_or(&s);
                                    Value::StrList(s.split('\n').map(String::from).collect())
                                }
                            },
                            _ => {
                                let mut out = Map::new();
                                for (k, d) in &files {
                                    if crate::native::helm::render::glob_match(&p, k) {
                                        out.insert((*k).clone(), Value::Bytes(d.to_vec()));
                                    }
                                }
                                Value::Map(out.into())
                            }
                        }
                    }
                    _ => {
                        want(self, 0)?;
                        let mut keys: Vec<&(&String, &[u8])> = files.iter().collect();
                        keys.sort_by(|a, b| a.0.cmp(b.0));
                        let mut out = Map::new();
                        for (k, d) in keys {
                            let base = k.rsplit('/').next().unwrap_or(k).to_string();
                            let v = if name == "AsConfig" {
                                String::from_utf8_lossy(d).into_owned()
                            } else {
                                funcs::b64_encode_pub(d)
                            };
                            out.insert(base, Value::Str(v));
                        }
                        let y = crate::native::helm::values::to_yaml(&Value::Map(out.into()))
                            .unwrap_or_default();
                        Value::Str(y.trim_end_matches('\n').to_string())
                    }
                };
                Ok(Some(Val::own(v)))
            }
            _ => Ok(None),
        }
    }
}
