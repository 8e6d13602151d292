//! The static dependency graph (petgraph): finds `deps:` cycles before anything runs.
//!
//! go-task discovers a cycle only by calling tasks until one reaches 1000 calls. For a
//! cycle made of plain deps (no templated names, no `if:`, `for:` or platforms, `run:
//! always`), nothing can run before that point, so the outcome is known up front: we
//! report it at once, with go-task's exact error text, instead of recursing 1000 levels.

use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;

use crate::taskfile::{Project, TaskEntry};

/// A task's only dependency when it is a plain, static one.
fn sole_static_dep<'a>(p: &'a Project, e: &TaskEntry) -> Option<&'a str> {
    let t = &e.task;
    if t.if_.is_some() || !t.platforms.is_empty() || t.deps.len() != 1 {
        return None;
    }
    if !matches!(
        t.run
            .as_deref()
            .or(p.root.run.as_deref())
            .unwrap_or("always"),
        "always"
    ) {
        return None;
    }
    let d = &t.deps[0];
    if d.task.contains("{{") || d.for_.is_some() || d.if_.is_some() {
        return None;
    }
    p.tasks
        .get_key_value(d.task.as_str())
        .map(|(k, _)| k.as_str())
}

/// The graph of tasks whose single dep is static.
fn graph(p: &Project) -> DiGraphMap<&str, ()> {
    let mut g = DiGraphMap::new();
    for (name, e) in &p.tasks {
        if let Some(dep) = sole_static_dep(p, e) {
            g.add_edge(name.as_str(), dep, ());
        }
    }
    g
}

/// If calling `start` can only end in go-task's call limit, the error go-task would print
/// (without its `task: ` prefix chain removed) and the cycle, for a verbose note.
pub fn doomed_call(p: &Project, start: &str, limit: u32) -> Option<(String, Vec<String>)> {
    let g = graph(p);
    if !g.contains_node(start) {
        return None;
    }
    let cyclic: Vec<Vec<&str>> = tarjan_scc(&g)
        .into_iter()
        .filter(|c| c.len() > 1 || g.contains_edge(c[0], c[0]))
        .collect();
    if cyclic.is_empty() {
        return None;
    }
    // Follow the single edges from `start`; it must reach a cycle.
    let mut counts = std::collections::HashMap::new();
    let mut chain = String::new();
    let mut cur = start;
    loop {
        let n = counts.entry(cur).or_insert(0u32);
        *n += 1;
        if *n >= limit {
            let cycle = cyclic
                .iter()
                .find(|c| c.contains(&cur))
                .map(|c| c.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            return Some((
                format!("{chain}task: Maximum task call exceeded ({limit}) for task {}: probably an cyclic dep or infinite loop", crate::template::go_quote(cur)),
                cycle,
            ));
        }
        chain.push_str(&format!(
            "task: Failed to run task {}: ",
            crate::template::go_quote(cur)
        ));
        cur = g.neighbors(cur).next()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(yaml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Taskfile.yml");
        std::fs::write(&path, yaml).unwrap();
        crate::taskfile::load(&path, &|s, _| s.to_string()).unwrap()
    }

    #[test]
    fn a_plain_dep_cycle_is_found_with_go_tasks_message() {
        let p = project("version: '3'\ntasks:\n  a:\n    deps: [b]\n  b:\n    deps: [a]\n");
        let (msg, cycle) = doomed_call(&p, "a", 3).unwrap();
        assert_eq!(
            msg,
            "task: Failed to run task \"a\": task: Failed to run task \"b\": task: Failed to run task \"a\": task: Failed to run task \"b\": task: Maximum task call exceeded (3) for task \"a\": probably an cyclic dep or infinite loop"
        );
        assert_eq!(cycle.len(), 2);
    }

    #[test]
    fn guarded_or_acyclic_deps_are_left_to_run() {
        let p = project(
            "version: '3'\ntasks:\n  a:\n    deps: [b]\n  b:\n    deps: [c]\n  c: echo c\n",
        );
        assert!(doomed_call(&p, "a", 1000).is_none());
        let p = project(
            "version: '3'\ntasks:\n  a:\n    deps: [b]\n  b:\n    if: test -f x\n    deps: [a]\n",
        );
        assert!(doomed_call(&p, "a", 1000).is_none());
    }
}
