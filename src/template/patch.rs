//! Go maps are references: `set`, `unset` and `merge` change a map in place, and the change
//! shows wherever that map is reached, also inside the maps that hold it (`toYaml` of a parent
//! prints it). The data here is borrowed and immutable, so a change is recorded as a patch of
//! keys over the map's address; a map keeps its identity (its address) while its parent or its
//! own keys are patched, and readers either step through patches (field access, `index`, `get`)
//! or take a copy with every patch below it applied (function arguments, printing).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::{Rc, Weak};

use indexmap::IndexMap;

use super::val::Val;
use super::value::{Map, Value};

/// Deeper than any real chart's values; a map set into itself stops here.
const MAX_DEPTH: usize = 1000;

#[derive(Default)]
pub(crate) struct Patches<'a> {
    /// The data the executions start with (the maps whose parents can be known).
    roots: Vec<&'a Map>,
    /// Per map address, its changed keys (`None`: unset).
    by_addr: HashMap<usize, IndexMap<String, Option<Val<'a>>>>,
    /// Addresses of the data's maps and lists that hold a patched map somewhere below.
    dirty: HashSet<usize>,
    /// Child address to parent address over the data, built at the first patch.
    parents: Option<HashMap<usize, Vec<usize>>>,
    /// Computed maps that were patched, kept alive so that no other value reuses the address.
    keep: Vec<Rc<Value>>,
    /// The maps and lists inside computed values, handed out once per (parent, key) so that
    /// they keep an identity too (`$d := dict "a" (dict)` then `set $d.a "k" 1`).
    /// The parent is held weakly: while the entry lives its address cannot be reused, and
    /// entries of parents gone are swept once the cache has doubled.
    children: RefCell<HashMap<(usize, String), (Weak<Value>, Rc<Value>)>>,
    /// Cache size after the last sweep.
    swept: std::cell::Cell<usize>,
    /// Parent of a computed value: the map it was set into, or the value it was taken from.
    links: RefCell<HashMap<usize, usize>>,
}

/// The identity of a value: the address of the map (or value) it stands for.
pub(crate) fn addr(v: &Val) -> Option<usize> {
    match v {
        Val::Own(rc, _) => Some(Rc::as_ptr(rc) as usize),
        Val::Ref(v, _) => Some(*v as *const Value as usize),
        Val::Data(m) => Some(*m as *const Map as usize),
        Val::Missing => None,
    }
}

/// The key `own_child` files element `i` of a list under (lists and maps never share an
/// address, so it cannot meet a map key).
pub(crate) fn elem_key(i: usize) -> String {
    format!("\0{i}")
}

fn elem_index(key: &str) -> Option<usize> {
    key.strip_prefix('\0')?.parse().ok()
}

/// Child address to parent addresses over the data. Maps are shared between values (a
/// subchart's `.Values` is its parent's `.Values.<name>`, as in Helm), so a map can have
/// several parents; a shared map is walked once.
fn parent_map(root: &Map, out: &mut HashMap<usize, Vec<usize>>) {
    fn walk(v: &Value, me: usize, out: &mut HashMap<usize, Vec<usize>>) {
        match v {
            Value::Map(m) => {
                for c in m.values() {
                    add(c, me, out);
                }
            }
            Value::List(l) => {
                for c in l {
                    add(c, me, out);
                }
            }
            _ => {}
        }
    }
    fn add(c: &Value, parent: usize, out: &mut HashMap<usize, Vec<usize>>) {
        if matches!(c, Value::Map(_) | Value::List(_)) {
            let a = c as *const Value as usize;
            let ps = out.entry(a).or_default();
            let seen = !ps.is_empty();
            if !ps.contains(&parent) {
                ps.push(parent);
            }
            if !seen {
                walk(c, a, out);
            }
        }
    }
    let me = root as *const Map as usize;
    for c in root.values() {
        add(c, me, out);
    }
}

impl<'a> Patches<'a> {
    pub fn new(root: &'a Map) -> Self {
        Patches::with_roots(vec![root])
    }

    /// Patches shared by several executions over these data maps (Helm renders every
    /// template of a chart with the same values: a change made by one is seen by the next).
    pub fn with_roots(roots: Vec<&'a Map>) -> Self {
        Patches {
            roots,
            ..Default::default()
        }
    }

    /// Sets `key` of the data map `root` without counting it as a change of the map's
    /// parents (Helm's per-template `.Template`).
    pub fn set_root_key(&mut self, root: &'a Map, key: &str, v: Value) {
        let a = root as *const Map as usize;
        self.by_addr
            .entry(a)
            .or_default()
            .insert(key.to_string(), Some(Val::own(v)));
    }

    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }

    /// The patched value of `key` in the map at `a` (`Missing` when unset); `None` when the
    /// key is not patched.
    pub fn get(&self, a: usize, key: &str) -> Option<Val<'a>> {
        self.by_addr
            .get(&a)?
            .get(key)
            .map(|v| v.clone().unwrap_or(Val::Missing))
    }

    pub fn is_patched(&self, a: usize) -> bool {
        self.by_addr.contains_key(&a)
    }

    fn touched(&self, a: usize) -> bool {
        self.by_addr.contains_key(&a) || self.dirty.contains(&a)
    }

    /// Records `target[key] = val` (`None`: delete).
    pub fn patch(&mut self, target: &Val<'a>, key: String, val: Option<Val<'a>>) {
        let Some(a) = addr(target) else { return };
        if let Val::Own(rc, _) = target {
            self.keep.push(rc.clone());
        }
        if let Some(Val::Own(rc, _)) = &val {
            self.links.borrow_mut().insert(Rc::as_ptr(rc) as usize, a);
        }
        let fresh = !self.by_addr.contains_key(&a);
        self.by_addr.entry(a).or_default().insert(key, val);
        if fresh {
            self.mark_ancestors(a);
        }
    }

    fn mark_ancestors(&mut self, a: usize) {
        let roots = &self.roots;
        let parents = self.parents.get_or_insert_with(|| {
            let mut out = HashMap::new();
            for r in roots {
                parent_map(r, &mut out);
            }
            out
        });
        let links = self.links.borrow();
        let mut todo = vec![a];
        while let Some(cur) = todo.pop() {
            let up = parents
                .get(&cur)
                .map(|v| v.as_slice())
                .unwrap_or_default()
                .iter()
                .chain(links.get(&cur));
            for &p in up {
                if self.dirty.insert(p) {
                    todo.push(p);
                }
            }
        }
    }

    /// Field `key` of the computed map `rc` (`None`: not a map, or no such key): a map or list
    /// is the same value each time it is asked for.
    pub fn own_child(&self, rc: &Rc<Value>, key: &str) -> Option<Val<'a>> {
        let c = match rc.as_ref() {
            Value::Map(m) => m.get(key)?,
            Value::List(l) => l.get(elem_index(key)?)?,
            _ => return None,
        };
        if !matches!(c, Value::Map(_) | Value::List(_)) {
            return None;
        }
        let pa = Rc::as_ptr(rc) as usize;
        let mut children = self.children.borrow_mut();
        if children.len() > 2 * self.swept.get() + 64 {
            children.retain(|_, (p, _)| p.strong_count() > 0);
            self.swept.set(children.len());
        }
        let k = (pa, key.to_string());
        if let Some((p, child)) = children.get(&k) {
            if p.upgrade().is_some_and(|p| Rc::ptr_eq(&p, rc)) {
                return Some(Val::Own(child.clone(), true));
            }
        }
        let child = Rc::new(c.clone());
        self.links
            .borrow_mut()
            .insert(Rc::as_ptr(&child) as usize, pa);
        children.insert(k, (Rc::downgrade(rc), child.clone()));
        Some(Val::Own(child, true))
    }

    fn cached_child(&self, parent: usize, key: &str) -> Option<Rc<Value>> {
        let children = self.children.borrow();
        if children.is_empty() {
            return None;
        }
        children
            .get(&(parent, key.to_string()))
            .filter(|(p, _)| p.strong_count() > 0)
            .map(|(_, c)| c.clone())
    }

    /// A copy of `v` with every patch at or below it applied; `None` when nothing of it is
    /// patched (use `v` as it is).
    pub fn materialize(&self, v: &Val<'a>) -> Option<Value> {
        if self.by_addr.is_empty() {
            return None;
        }
        let a = addr(v)?;
        if !self.touched(a) {
            return None;
        }
        Some(match v {
            Val::Data(m) => self.map(a, m, 0),
            Val::Ref(x, _) => self.value(x, 0),
            Val::Own(rc, _) => self.value(rc, 0),
            Val::Missing => return None,
        })
    }

    fn value(&self, v: &Value, depth: usize) -> Value {
        let a = v as *const Value as usize;
        if depth > MAX_DEPTH || !self.touched(a) {
            return v.clone();
        }
        match v {
            Value::Map(m) => self.map(a, m, depth),
            Value::List(l) => Value::List(
                l.iter()
                    .enumerate()
                    .map(|(i, c)| match self.cached_child(a, &elem_key(i)) {
                        Some(rc) => self.value(&rc, depth + 1),
                        None => self.value(c, depth + 1),
                    })
                    .collect(),
            ),
            _ => v.clone(),
        }
    }

    fn of_val(&self, v: &Val<'a>, depth: usize) -> Value {
        match v {
            Val::Missing => Value::Nil,
            Val::Data(m) => self.map(*m as *const Map as usize, m, depth),
            Val::Ref(x, _) => self.value(x, depth),
            Val::Own(rc, _) => self.value(rc, depth),
        }
    }

    fn map(&self, a: usize, m: &Map, depth: usize) -> Value {
        let p = self.by_addr.get(&a);
        let mut out = Map::with_capacity(m.len());
        for (k, c) in m {
            match p.and_then(|p| p.get(k)) {
                Some(Some(v)) => {
                    out.insert(k.clone(), self.of_val(v, depth + 1));
                }
                Some(None) => {}
                None => match self.cached_child(a, k) {
                    Some(rc) => {
                        out.insert(k.clone(), self.value(&rc, depth + 1));
                    }
                    None => {
                        out.insert(k.clone(), self.value(c, depth + 1));
                    }
                },
            }
        }
        if let Some(p) = p {
            for (k, v) in p {
                if let (false, Some(v)) = (m.contains_key(k), v) {
                    out.insert(k.clone(), self.of_val(v, depth + 1));
                }
            }
        }
        Value::Map(out.into())
    }

    /// The keys of the patched map `m` (at `a`) after its patches, unsorted.
    pub fn keys(&self, a: usize, m: &Map) -> Vec<String> {
        let p = self.by_addr.get(&a);
        let mut keys: Vec<String> = m
            .keys()
            .filter(|k| !matches!(p.and_then(|p| p.get(*k)), Some(None)))
            .cloned()
            .collect();
        if let Some(p) = p {
            for (k, v) in p {
                if v.is_some() && !m.contains_key(k) {
                    keys.push(k.clone());
                }
            }
        }
        keys
    }
}
