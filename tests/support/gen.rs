//! Random Taskfile programs drawn from go-task's schema, for the differential generator
//! (tests/gen_diff.rs). Everything is a pure function of the seed: `program(seed)` always
//! yields the same files and the same invocations.
//!
//! Variables are named after their kind so that kind-specific templates stay type-correct
//! whichever scope wins: `S`/`T` strings (static, `sh:`, templated), `N` numbers, `F` bools,
//! `L` lists, `M` maps (`map:`), `R` a `ref:` to one of the others. Tasks only call tasks
//! that come later in their own file or live in a file they include, so no program has a
//! cycle. Commands use a POSIX userland only.
//!
//! Constructs left out on purpose point to docs/semantics.md ("Known differences").
#![allow(dead_code)]

use std::fmt::Write as _;

/// SplitMix64: small, seedable, the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `pct` percent.
    pub fn pct(&mut self, pct: u32) -> bool {
        (self.next() % 100) < pct as u64
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
}

/// A YAML node, emitted in block style. `S` is double-quoted, `R` is written raw.
#[derive(Clone, Debug)]
pub enum Y {
    S(String),
    R(String),
    L(Vec<Y>),
    M(Vec<(String, Y)>),
}

fn s(x: impl Into<String>) -> Y {
    Y::S(x.into())
}
fn r(x: impl Into<String>) -> Y {
    Y::R(x.into())
}

fn scalar(y: &Y) -> Option<String> {
    match y {
        Y::S(v) => Some(serde_json::to_string(v).unwrap()),
        Y::R(v) => Some(v.clone()),
        Y::L(v) if v.is_empty() => Some("[]".into()),
        Y::M(v) if v.is_empty() => Some("{}".into()),
        _ => None,
    }
}

pub fn emit(y: &Y, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match y {
        Y::M(kv) => {
            for (k, v) in kv {
                match scalar(v) {
                    Some(sc) => writeln!(out, "{pad}{k}: {sc}").unwrap(),
                    None => {
                        writeln!(out, "{pad}{k}:").unwrap();
                        emit(v, indent + 2, out);
                    }
                }
            }
        }
        Y::L(items) => {
            for it in items {
                match scalar(it) {
                    Some(sc) => writeln!(out, "{pad}- {sc}").unwrap(),
                    None => {
                        let mut inner = String::new();
                        emit(it, indent + 2, &mut inner);
                        out.push_str(&pad);
                        out.push_str("- ");
                        out.push_str(&inner[indent + 2..]);
                    }
                }
            }
        }
        _ => writeln!(out, "{pad}{}", scalar(y).unwrap()).unwrap(),
    }
}

/// One generated program: its files and what to run against it.
#[derive(Clone, Debug)]
pub struct Program {
    pub seed: u64,
    pub files: Vec<(String, String)>,
    /// Task (with CLI arguments) for `--summary`, `--dry` and the real run.
    pub summary: String,
    pub run: Vec<String>,
    /// Output order depends on goroutine scheduling (parallel deps): compare sorted lines.
    pub unordered: bool,
}

impl Program {
    pub fn text(&self) -> String {
        let mut t = String::new();
        for (p, c) in &self.files {
            writeln!(t, "=== {p}").unwrap();
            t.push_str(c);
        }
        writeln!(
            t,
            "=== summary: {}   run: {}   unordered: {}",
            self.summary,
            self.run.join(" "),
            self.unordered
        )
        .unwrap();
        t
    }
}

const KINDS: &[&str] = &["S", "T", "N", "F", "L", "M", "R"];

/// A Taskfile being generated.
struct File {
    /// Directory relative to the root ("" for the root Taskfile).
    dir: String,
    /// Task names defined here, in order (callers only call later ones).
    tasks: Vec<String>,
    /// (name as seen from this file's tasks, callable from the CLI of the root)
    reachable: Vec<(String, bool)>,
}

struct Gen {
    rng: Rng,
    n: usize,
    files: Vec<(String, String)>,
    /// Whether a task has two or more deps (parallel: order undefined).
    unordered: bool,
    uses_output_group: bool,
    /// Variable names `vars()` may use, and whether values may reference other variables.
    names: &'static [&'static str],
    noref: bool,
    /// With two sibling includes, no included file declares `vars:`. go-task merges
    /// sibling includes in a random order (graph.TopologicalSort over a map,
    /// taskfile/ast/graph.go), and each included task keeps a snapshot of its includer's
    /// vars taken at its merge (IncludedTaskfileVars, taskfile/ast/tasks.go), so which
    /// value wins, and the order the summary lists them in, is random
    /// (docs/semantics.md, "Sibling includes").
    no_file_vars: bool,
}

impl Gen {
    fn fresh(&mut self) -> usize {
        self.n += 1;
        self.n
    }

    /// A template expression over the variables, valid whatever scope defined them.
    fn expr(&mut self) -> String {
        let n = self.fresh();
        match self.rng.below(24) {
            0 => "{{.S}}".into(),
            1 => "{{.T}}".into(),
            2 => "{{.N}}".into(),
            3 => "{{.F}}".into(),
            4 => "{{.L}}".into(),
            5 => "{{.M}}".into(),
            6 => "{{.R}}".into(),
            7 => "{{.S | upper}}".into(),
            8 => format!("{{{{default \"d{n}\" .T}}}}"),
            9 => "{{printf \"%v/%v\" .N .F}}".into(),
            10 => "{{if .F}}yes{{else}}no{{end}}".into(),
            11 => "{{range .L}}<{{.}}>{{end}}".into(),
            12 => "{{.M.k}}".into(),
            13 => "{{len .L}}".into(),
            14 => "{{.TASK}}".into(),
            15 => "{{kindOf .R}}".into(),
            16 => "{{list .S .T | join \",\"}}".into(),
            17 => "{{.S | replace \"s\" \"z\" | title}}".into(),
            18 => "{{toJson .M}}".into(),
            19 => "{{add .N 1}}".into(),
            20 => "{{.S | trimPrefix \"s\" | quote}}".into(),
            21 => "{{.ALIAS}}{{.TASK_DIR | base}}".into(),
            22 => "{{splitList \"-\" .T | first}}".into(),
            _ => "{{ternary \"on\" \"off\" (eq .S \"x\")}}".into(),
        }
    }

    /// A variable of kind `k` for scope `tag`.
    fn var(&mut self, k: &str, tag: &str) -> Y {
        let n = self.fresh();
        match k {
            "S" | "T" => match self.rng.below(if self.noref { 3 } else { 5 }) {
                0 | 1 => s(format!("{}{tag}{n}", k.to_lowercase())),
                2 => Y::M(vec![("sh".into(), s(format!("echo sh-{tag}{n}")))]),
                3 => Y::M(vec![(
                    "sh".into(),
                    s(format!(
                        "printf '%s' \"{}-sh{n}\"",
                        if k == "S" { "{{.T}}" } else { "{{.S}}" }
                    )),
                )]),
                _ => s(format!(
                    "{}-{tag}{n}",
                    if k == "S" { "{{.T}}" } else { "{{.S | lower}}" }
                )),
            },
            "N" => match self.rng.below(3) {
                0 => r(format!("{n}")),
                1 => r(format!("{n}.5")),
                _ => s(format!("{{{{add {n} 1}}}}")),
            },
            "F" => r(*self.rng.pick(&["true", "false"])),
            "L" => match self.rng.below(3) {
                0 => Y::L(vec![s(format!("a{n}")), s(format!("b{tag}"))]),
                1 => Y::L(vec![r(format!("{n}")), r("true")]),
                _ => Y::L(vec![]),
            },
            "M" => Y::M(vec![(
                "map".into(),
                // One key: go-task's summary prints a map var in Go's random map order
                // (summary.go formatMap; docs/semantics.md).
                Y::M(vec![("k".into(), s(format!("mv{tag}{n}")))]),
            )]),
            _ => {
                let target = *self.rng.pick(&["S", "L", "M", "N"]);
                let e = match self.rng.below(3) {
                    0 => format!(".{target}"),
                    1 => format!("index .L 0"),
                    _ => format!("splitList \",\" \"x,y{n}\""),
                };
                Y::M(vec![("ref".into(), s(e))])
            }
        }
    }

    fn vars(&mut self, tag: &str, max: usize) -> Option<Y> {
        let k = self.rng.range(0, max);
        if k == 0 {
            return None;
        }
        let mut kv: Vec<(String, Y)> = vec![];
        for _ in 0..k {
            let name = *self.rng.pick(self.names);
            if self.noref && name == "R" {
                continue;
            }
            if kv.iter().any(|(n, _)| n == name) {
                continue;
            }
            let v = self.var(name, tag);
            kv.push((name.to_string(), v));
        }
        Some(Y::M(kv))
    }

    fn echo(&mut self) -> String {
        let n = self.fresh();
        match self.rng.below(6) {
            0 => format!("echo \"c{n} {}\"", self.expr()),
            1 => format!("printf '%s|%s\\n' \"{}\" p{n}", self.expr()),
            2 => format!("echo \"{}\" > out{n}.txt", self.expr()),
            3 => format!("echo e{n} >> log.txt && cat log.txt"),
            4 => format!("test -f out.txt && echo have{n} || echo none{n}"),
            _ => format!("echo \"{} {}\"", self.expr(), self.expr()),
        }
    }

    /// One `cmds:` entry for a task in `file`, which may call `callees`.
    fn cmd(&mut self, callees: &[String]) -> Y {
        let n = self.fresh();
        let roll = self.rng.below(100);
        if roll < 40 {
            return s(self.echo());
        }
        if roll < 50 {
            let mut kv = vec![("cmd".into(), s(self.echo()))];
            if self.rng.pct(50) {
                kv.push(("silent".into(), r("true")));
            }
            if self.rng.pct(30) {
                kv[0].1 = s(format!("echo f{n}; exit {}", self.rng.range(1, 3)));
                kv.push(("ignore_error".into(), r("true")));
            }
            if self.rng.pct(15) {
                kv.push((
                    "platforms".into(),
                    Y::L(vec![s(*self.rng.pick(&[
                        "linux",
                        "windows",
                        "darwin/arm64",
                        "amd64",
                    ]))]),
                ));
            }
            return Y::M(kv);
        }
        if roll < 65 && !callees.is_empty() {
            let t = self.rng.pick(callees).clone();
            let mut kv = vec![("task".into(), s(t))];
            if self.rng.pct(60) {
                if let Some(v) = self.vars("c", 2) {
                    kv.push(("vars".into(), v));
                }
            }
            if self.rng.pct(15) {
                kv.push(("silent".into(), r("true")));
            }
            return Y::M(kv);
        }
        if roll < 73 {
            let body = if !callees.is_empty() && self.rng.pct(30) {
                Y::M(vec![("task".into(), s(self.rng.pick(callees).clone()))])
            } else {
                // Templates whose raw text (what runs when templating fails) is still a
                // harmless word list: shell error messages differ (docs/semantics.md).
                let e = *self.rng.pick(&[
                    "{{.TASK}}",
                    "{{.M}}",
                    "{{len .L}}",
                    "{{.N}}",
                    "{{.EXIT_CODE}}",
                    "{{.S}}",
                    "{{.F}}",
                ]);
                s(format!("echo deferred{n} {e}"))
            };
            return Y::M(vec![("defer".into(), body)]);
        }
        if roll < 88 {
            let (f, item) = match self.rng.below(5) {
                0 => (
                    Y::L(vec![s(format!("i{n}")), r("2"), s("x y")]),
                    "{{.ITEM}}",
                ),
                1 => (Y::M(vec![("var".into(), s("L"))]), "{{.ITEM}}"),
                2 => (
                    Y::M(vec![
                        ("var".into(), s("T")),
                        ("split".into(), s("-")),
                        ("as".into(), s("P")),
                    ]),
                    "{{.P}}",
                ),
                3 => (s("sources"), "{{.ITEM}}"),
                _ => (
                    Y::M(vec![(
                        "matrix".into(),
                        Y::M(vec![
                            ("OS".into(), Y::L(vec![s("linux"), s("darwin")])),
                            ("ARCH".into(), Y::L(vec![s("a"), s("b")])),
                        ]),
                    )]),
                    "{{.ITEM.OS}}-{{.ITEM.ARCH}}",
                ),
            };
            let mut kv = vec![("for".into(), f)];
            if !callees.is_empty() && self.rng.pct(30) {
                kv.push(("task".into(), s(self.rng.pick(callees).clone())));
                kv.push(("vars".into(), Y::M(vec![("S".into(), s(item))])));
            } else {
                kv.push(("cmd".into(), s(format!("echo it{n}={item}"))));
            }
            return Y::M(kv);
        }
        if roll < 94 {
            return s(format!("exit {}", self.rng.range(0, 2)));
        }
        s(format!("echo \"$GE $FE {}\"", self.expr()))
    }

    /// A task definition; `callees` are the task names it may reference.
    fn task(&mut self, name: &str, callees: &[String], tag: &str) -> Y {
        let mut kv: Vec<(String, Y)> = vec![];
        let n = self.fresh();
        if self.rng.pct(70) {
            let d = if self.rng.pct(20) {
                format!("Task {name} {}", self.expr())
            } else {
                format!("Does {name} {n}")
            };
            kv.push(("desc".into(), s(d)));
        }
        if self.rng.pct(15) {
            kv.push((
                "summary".into(),
                s(format!("Summary of {name}.\nSecond line {n}.")),
            ));
        }
        if self.rng.pct(20) {
            kv.push(("label".into(), s(format!("lbl-{name}-{}", self.expr()))));
        }
        if self.rng.pct(20) {
            kv.push(("aliases".into(), Y::L(vec![s(format!("{name}a"))])));
        }
        if self.rng.pct(8) {
            kv.push(("internal".into(), r("true")));
        }
        if self.rng.pct(12) {
            kv.push(("silent".into(), r("true")));
        }
        if self.rng.pct(10) {
            kv.push((
                "dir".into(),
                s(*self.rng.pick(&["work", "sub/inner", "{{.S}}"])),
            ));
        }
        if self.rng.pct(8) {
            kv.push((
                "platforms".into(),
                Y::L(vec![s(*self.rng.pick(&[
                    "linux",
                    "windows",
                    "linux/amd64",
                    "darwin",
                ]))]),
            ));
        }
        if self.rng.pct(8) {
            kv.push(("ignore_error".into(), r("true")));
        }
        let maxv = if self.rng.pct(50) { 3 } else { 0 };
        if let Some(v) = self.vars(&format!("{tag}t"), maxv) {
            kv.push(("vars".into(), v));
        }
        if self.rng.pct(20) {
            let mut env = vec![("FE".into(), s(format!("fe{n}-{}", self.expr())))];
            if self.rng.pct(30) {
                env.push(("SE".into(), Y::M(vec![("sh".into(), s("echo shenv"))])));
            }
            kv.push(("env".into(), Y::M(env)));
        }
        if self.rng.pct(12) {
            let mut vars = vec![s(*self.rng.pick(&["S", "N", "Q"]))];
            if self.rng.pct(50) {
                vars.push(Y::M(vec![
                    ("name".into(), s("T")),
                    ("enum".into(), Y::L(vec![s("x"), s("t1"), s("y")])),
                ]));
            }
            kv.push(("requires".into(), Y::M(vec![("vars".into(), Y::L(vars))])));
        }
        if self.rng.pct(12) {
            let p = match self.rng.below(3) {
                0 => s("test 1 = 1"),
                1 => Y::M(vec![
                    ("sh".into(), s("test -f nope.txt")),
                    ("msg".into(), s(format!("need nope {}", self.expr()))),
                ]),
                _ => Y::M(vec![("sh".into(), s("[ \"{{.F}}\" = true ]"))]),
            };
            kv.push(("preconditions".into(), Y::L(vec![p])));
        }
        let sources = self.rng.pct(15);
        if sources {
            kv.push(("sources".into(), Y::L(vec![s("*.txt"), s("src/**/*.c")])));
            if self.rng.pct(60) {
                kv.push(("generates".into(), Y::L(vec![s(format!("gen{n}.out"))])));
            }
            if self.rng.pct(30) {
                kv.push((
                    "method".into(),
                    s(*self.rng.pick(&["timestamp", "checksum", "none"])),
                ));
            }
        }
        if self.rng.pct(10) {
            kv.push((
                "status".into(),
                Y::L(vec![s(*self.rng.pick(&[
                    "test -f out.txt",
                    "false",
                    "test {{.N}} = 1",
                ]))]),
            ));
        }
        if !callees.is_empty() && self.rng.pct(35) {
            let k = self.rng.range(1, 3.min(callees.len()));
            let mut deps = vec![];
            for _ in 0..k {
                let c = self.rng.pick(callees).clone();
                if self.rng.pct(30) {
                    let mut d = vec![("task".into(), s(c))];
                    if let Some(v) = self.vars("d", 2) {
                        d.push(("vars".into(), v));
                    }
                    deps.push(Y::M(d));
                } else {
                    deps.push(s(c));
                }
            }
            if deps.len() > 1 {
                self.unordered = true;
            }
            kv.push(("deps".into(), Y::L(deps)));
        }
        if self.rng.pct(10) {
            kv.push(("prefix".into(), s(format!("px-{name}"))));
        }
        let k = self.rng.range(1, 4);
        let cmds: Vec<Y> = (0..k).map(|_| self.cmd(callees)).collect();
        if sources && self.rng.pct(50) {
            // Make the run produce its generates so a second look is up to date.
        }
        // Short form: a task that is just a string.
        if kv.is_empty() && cmds.len() == 1 {
            if let Y::S(c) = &cmds[0] {
                return s(c.clone());
            }
        }
        kv.push(("cmds".into(), Y::L(cmds)));
        Y::M(kv)
    }

    /// An included Taskfile at `dir`, with `ntasks` tasks named `{pfx}0..`, maybe
    /// including a second level. Returns the file's callable names (as seen from its
    /// includer, without the namespace) and whether each is internal.
    fn included(&mut self, dir: &str, pfx: &str, depth: usize) -> Vec<String> {
        let mut top: Vec<(String, Y)> = vec![("version".into(), s("3"))];
        if !self.no_file_vars {
            if let Some(v) = self.vars(pfx, 2) {
                top.push(("vars".into(), v));
            }
        }
        let mut sub_names: Vec<String> = vec![];
        if depth < 2 && self.rng.pct(40) {
            let d = format!("{dir}/deep");
            let names = self.included(&d, "w", depth + 1);
            let mut inc = vec![("taskfile".into(), s("./deep"))];
            if self.rng.pct(40) {
                if let Some(v) = self.vars("iv2", 2) {
                    inc.push(("vars".into(), v));
                }
            }
            top.push(("includes".into(), Y::M(vec![("deep".into(), Y::M(inc))])));
            sub_names = names.into_iter().map(|n| format!("deep:{n}")).collect();
        }
        let ntasks = self.rng.range(1, 3);
        let names: Vec<String> = (0..ntasks).map(|i| format!("{pfx}{i}")).collect();
        let mut tasks = vec![];
        for (i, name) in names.iter().enumerate() {
            let mut callees: Vec<String> = names[i + 1..].to_vec();
            callees.extend(sub_names.iter().cloned());
            let t = self.task(name, &callees, pfx);
            tasks.push((name.clone(), t));
        }
        top.push(("tasks".into(), Y::M(tasks)));
        let mut text = String::new();
        emit(&Y::M(top), 0, &mut text);
        self.files.push((format!("{dir}/Taskfile.yml"), text));
        let mut all = names;
        all.extend(sub_names);
        all
    }
}

pub fn program(seed: u64) -> Program {
    let mut g = Gen {
        rng: Rng::new(seed),
        n: 0,
        files: vec![],
        unordered: false,
        uses_output_group: false,
        names: KINDS,
        noref: false,
        no_file_vars: false,
    };
    let mut top: Vec<(String, Y)> = vec![("version".into(), s("3"))];
    if g.rng.pct(25) {
        let mode = match g.rng.below(4) {
            0 => s("interleaved"),
            1 => s("group"),
            2 => s("prefixed"),
            _ => Y::M(vec![(
                "group".into(),
                Y::M(vec![
                    ("begin".into(), s("::begin {{.TASK}}")),
                    ("end".into(), s("::end {{.TASK}}")),
                ]),
            )]),
        };
        top.push(("output".into(), mode));
    }
    if g.rng.pct(10) {
        top.push(("silent".into(), r("true")));
    }
    if let Some(v) = g.vars("g", 5) {
        top.push(("vars".into(), v));
    }
    if g.rng.pct(25) {
        top.push((
            "env".into(),
            Y::M(vec![("GE".into(), s(format!("ge-{}", g.expr())))]),
        ));
    }
    if g.rng.pct(15) {
        // One key: go-task appends a dotenv file's keys to the env in Go's random map
        // order (godotenv.Read; docs/semantics.md).
        g.files.push((".env".into(), "FE=from-dotenv\n".into()));
        top.push(("dotenv".into(), Y::L(vec![s(".env")])));
    }
    // Includes: each gives names callable from the root (already namespaced).
    let mut callable: Vec<String> = vec![];
    let mut cli_ok: Vec<String> = vec![];
    let mut includes: Vec<(String, Y)> = vec![];
    let nin = g.rng.range(0, 2);
    for (i, ns) in ["lib", "ext"].iter().take(nin).enumerate() {
        let dir = if i == 0 { "lib" } else { "ext" };
        let pfx = if i == 0 { "u" } else { "v" };
        g.no_file_vars = nin == 2;
        let names = g.included(dir, pfx, 1);
        (g.names, g.noref, g.no_file_vars) = (KINDS, false, false);
        let flatten = g.rng.pct(15);
        let internal = g.rng.pct(10);
        let scalar_form = g.rng.pct(25);
        let mut excluded: Vec<String> = vec![];
        let decl = if scalar_form {
            s(if g.rng.pct(50) {
                format!("./{dir}")
            } else {
                format!("./{dir}/Taskfile.yml")
            })
        } else {
            let mut kv = vec![("taskfile".into(), s(format!("./{dir}")))];
            if g.rng.pct(30) {
                kv.push(("dir".into(), s(*g.rng.pick(&["./lib", ".", "./other"]))));
            }
            if g.rng.pct(50) {
                if let Some(v) = g.vars("iv", 3) {
                    kv.push(("vars".into(), v));
                }
            }
            if flatten {
                kv.push(("flatten".into(), r("true")));
            }
            if internal {
                kv.push(("internal".into(), r("true")));
            }
            if g.rng.pct(20) {
                kv.push(("aliases".into(), Y::L(vec![s(&ns[..1])])));
            }
            // Exclude the file's first task, which none of its siblings calls: a call of an
            // excluded task fails with a did-you-mean that go-task picks at random among
            // equally close names (docs/semantics.md).
            if names.len() > 1 && g.rng.pct(15) {
                excluded.push(names[0].clone());
                kv.push(("excludes".into(), Y::L(vec![s(names[0].clone())])));
            }
            Y::M(kv)
        };
        includes.push((ns.to_string(), decl));
        let flatten = flatten && !scalar_form;
        let internal = internal && !scalar_form;
        for n in names.iter().filter(|n| !excluded.contains(n)) {
            let full = if flatten {
                n.clone()
            } else {
                format!("{ns}:{n}")
            };
            callable.push(full.clone());
            if !internal {
                cli_ok.push(full);
            }
        }
    }
    if g.rng.pct(10) {
        includes.push((
            "opt".into(),
            Y::M(vec![
                ("taskfile".into(), s("./missing")),
                ("optional".into(), r("true")),
            ]),
        ));
    }
    if !includes.is_empty() {
        top.push(("includes".into(), Y::M(includes)));
    }
    let ntasks = g.rng.range(2, 5);
    let names: Vec<String> = (0..ntasks).map(|i| format!("t{i}")).collect();
    let mut tasks = vec![];
    for (i, name) in names.iter().enumerate() {
        let mut callees: Vec<String> = names[i + 1..].to_vec();
        callees.extend(callable.iter().cloned());
        let t = g.task(name, &callees, "r");
        tasks.push((name.clone(), t));
    }
    top.push(("tasks".into(), Y::M(tasks)));
    let mut text = String::new();
    emit(&Y::M(top), 0, &mut text);
    g.files.insert(0, ("Taskfile.yml".into(), text));
    g.files.push(("a.txt".into(), "alpha\n".into()));
    g.files.push(("src/x/b.c".into(), "int b;\n".into()));
    if g.rng.pct(30) {
        g.files.push(("out.txt".into(), "present\n".into()));
    }
    let mut pool: Vec<String> = names.clone();
    pool.extend(cli_ok);
    let pick = |g: &mut Gen, pool: &[String]| -> String {
        match g.rng.below(20) {
            0 => "nosuch".into(),
            // A near-miss of an alias ("t0a") is left out: go-task's did-you-mean picks
            // among equally close names in a random order (docs/semantics.md).
            1 => "t9".into(),
            _ => g.rng.pick(pool).clone(),
        }
    };
    let summary = pick(&mut g, &pool);
    let mut run = vec![pick(&mut g, &pool)];
    if g.rng.pct(15) {
        run.push(format!("S=cli{}", g.fresh()));
    }
    if g.unordered {
        // Parallel deps appending to one file interleave at random (in go-task too).
        for (_, text) in g.files.iter_mut() {
            *text = text.replace(" >> log.txt && cat log.txt", "");
        }
    }
    Program {
        seed,
        files: g.files,
        summary,
        run,
        unordered: g.unordered,
    }
}
