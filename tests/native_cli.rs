//! The native tools' own command line: `--help` texts, `version`, unknown flags, the
//! plain-HTTP error, and the flags the docs promise. Every run uses a PATH without a real
//! helm or cosign, so nothing falls through.
//!
//! The plain-HTTP test needs `docker-registry` (skipped with a message when missing, failing
//! under CI=true; see tests/support/registry.rs and .ci/install-helm.sh).

#[path = "support/registry.rs"]
mod registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A directory with `helm` and `cosign` links to the built binary.
fn shims(base: &Path) -> PathBuf {
    let d = base.join("shims");
    std::fs::create_dir_all(&d).unwrap();
    for t in ["helm", "cosign"] {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), d.join(t)).unwrap();
    }
    d
}

struct Tools {
    dir: tempfile::TempDir,
    shims: PathBuf,
}

impl Tools {
    fn new() -> Tools {
        let dir = tempfile::tempdir().unwrap();
        let shims = shims(dir.path());
        Tools { dir, shims }
    }

    /// Runs `tool args…` in a scratch directory (HOME too), empty stdin.
    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Command::new(self.shims.join(tool))
            .args(args)
            .current_dir(&home)
            .env("HOME", &home)
            .env("HELM_CONFIG_HOME", home.join(".helmcfg"))
            .env_remove("HELM_REGISTRY_CONFIG")
            .env_remove("DOCKER_CONFIG")
            .env_remove("OXTASK_NATIVE")
            .env("PATH", format!("{}:/usr/bin:/bin", self.shims.display()))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A real helm/cosign on the machine would be taken for the fall-through; these tests pin
/// PATH to the shims plus /usr/bin:/bin, so refuse to run if the tools live there.
fn no_real_tools() -> bool {
    for t in ["helm", "cosign"] {
        for d in ["/usr/bin", "/bin"] {
            if Path::new(d).join(t).exists() {
                eprintln!("skipped: a real {t} in {d} would take over");
                return false;
            }
        }
    }
    true
}

/// The flag names (`--x`, `-x`) of a pflag table section (`Flags:` / `Global Flags:`).
fn section_flags(help: &str, section: &str) -> Vec<String> {
    let Some(start) = help.find(&format!("\n{section}:\n")) else {
        return vec![];
    };
    let body = &help[start + section.len() + 3..];
    let mut names = vec![];
    for line in body.lines() {
        if line.is_empty() {
            break;
        }
        for tok in line.split_whitespace().take(2) {
            let tok = tok.trim_end_matches(',');
            if tok.starts_with('-') {
                names.push(tok.to_string());
            }
        }
    }
    names
}

#[test]
fn helm_root_help() {
    let t = Tools::new();
    for args in [
        &["--help"][..],
        &["-h"],
        &[],
        &["help"],
        &["--debug", "--help"],
    ] {
        let o = t.run("helm", args);
        assert_eq!(o.status.code(), Some(0), "helm {args:?}: {}", err(&o));
        let h = out(&o);
        assert!(h.contains("\nUsage:\n  helm [command]\n"), "{h}");
        assert!(h.contains("\nAvailable Commands:\n"), "{h}");
        for c in [
            "package", "push", "pull", "show", "verify", "registry", "version",
        ] {
            assert!(h.contains(&format!("\n  {c} ")), "{c} missing: {h}");
        }
        let flags = section_flags(&h, "Flags");
        for f in [
            "--registry-config",
            "--debug",
            "-n",
            "--namespace",
            "-h",
            "--help",
        ] {
            assert!(flags.contains(&f.to_string()), "{f} missing: {flags:?}");
        }
        assert!(
            h.ends_with("Use \"helm [command] --help\" for more information about a command.\n")
        );
        assert!(!err(&o).contains("not implement"));
    }
}

/// (command words, flags its help must list).
const HELM_COMMANDS: &[(&str, &[&str])] = &[
    (
        "package",
        &[
            "--app-version",
            "-u",
            "--dependency-update",
            "-d",
            "--destination",
            "--key",
            "--keyring",
            "--passphrase-file",
            "--sign",
            "--version",
            "--plain-http",
            "--ca-file",
            "--reproducible",
        ],
    ),
    (
        "push",
        &[
            "--plain-http",
            "--insecure-skip-tls-verify",
            "--ca-file",
            "--cert-file",
            "--key-file",
            "--username",
            "--password",
            "-o",
            "--output",
        ],
    ),
    (
        "pull",
        &[
            "--version",
            "-d",
            "--destination",
            "--untar",
            "--untardir",
            "--verify",
            "--keyring",
            "--prov",
            "--devel",
            "--plain-http",
            "--verify-cosign",
            "--certificate-identity",
            "--certificate-oidc-issuer",
            "--cosign-key",
            "--trusted-root",
            "--insecure-ignore-tlog",
        ],
    ),
    (
        "show chart",
        &["--version", "--devel", "--plain-http", "--ca-file"],
    ),
    ("show values", &["--version", "--plain-http"]),
    ("show readme", &["--version", "--plain-http"]),
    ("verify", &["--keyring"]),
    (
        "registry login",
        &[
            "-u",
            "--username",
            "-p",
            "--password",
            "--password-stdin",
            "--insecure",
            "--plain-http",
            "--ca-file",
            "--cert-file",
            "--key-file",
        ],
    ),
    ("registry logout", &[]),
    ("version", &["--short", "--template"]),
];

#[test]
fn helm_subcommand_help() {
    let t = Tools::new();
    for (cmd, flags) in HELM_COMMANDS {
        let words: Vec<&str> = cmd.split(' ').collect();
        let last = words[words.len() - 1];
        let mut forms: Vec<Vec<&str>> = vec![];
        for h in ["--help", "-h"] {
            let mut a = words.clone();
            a.push(h);
            forms.push(a);
        }
        forms.push([&["help"][..], &words].concat());
        // cobra takes --help anywhere, even among other flags and arguments
        forms.push([&words[..], &["x", "--debug", "--help"]].concat());
        for args in forms {
            let o = t.run("helm", &args);
            assert_eq!(o.status.code(), Some(0), "helm {args:?}: {}", err(&o));
            let h = out(&o);
            assert!(
                h.contains(&format!("\nUsage:\n  helm {cmd}")),
                "helm {args:?}:\n{h}"
            );
            let own = section_flags(&h, "Flags");
            for f in flags.iter().chain(&["-h", "--help"]) {
                assert!(
                    own.contains(&f.to_string()),
                    "helm {args:?}: {f} missing in {own:?}"
                );
            }
            assert!(h.contains(&format!("-h, --help   ")), "{h}");
            assert!(h.contains(&format!("help for {last}")), "{h}");
            let global = section_flags(&h, "Global Flags");
            for f in ["--registry-config", "--debug", "--kube-context", "-n"] {
                assert!(
                    global.contains(&f.to_string()),
                    "helm {args:?}: {f} not global"
                );
            }
        }
    }
    // Aliases and parents.
    let h = out(&t.run("helm", &["fetch", "--help"]));
    assert!(h.contains("\nAliases:\n  pull, fetch\n"), "{h}");
    let h = out(&t.run("helm", &["registry", "--help"]));
    assert!(h.contains("\nAvailable Commands:\n  login "), "{h}");
    assert!(h.contains("\n  logout "), "{h}");
    let h = out(&t.run("helm", &["show", "-h"]));
    for c in ["chart", "values", "readme"] {
        assert!(h.contains(&format!("\n  {c} ")), "{h}");
    }
}

#[test]
fn helm_version_shapes() {
    let t = Tools::new();
    let o = t.run("helm", &["version"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let full = out(&o);
    let re = regex_lite::Regex::new(
        r#"^version\.BuildInfo\{Version:"v4\.2\.3", GitCommit:"([0-9a-f]{40})?", GitTreeState:"(clean|dirty)?", GoVersion:"none \(oxtask [0-9][^"]*, Rust\)", KubeClientVersion:""\}\n$"#,
    )
    .unwrap();
    let caps = re.captures(&full).unwrap_or_else(|| panic!("{full:?}"));
    let commit = caps.get(1).map(|m| m.as_str()).unwrap_or("");

    let short = out(&t.run("helm", &["version", "--short"]));
    if commit.is_empty() {
        assert_eq!(short, "v4.2.3\n");
    } else {
        assert_eq!(short, format!("v4.2.3+g{}\n", &commit[..7]));
    }

    let o = t.run(
        "helm",
        &[
            "version",
            "--template",
            "{{.Version}}|{{.GoVersion}}|{{.GitCommit}}",
        ],
    );
    assert_eq!(
        out(&o),
        format!(
            "v4.2.3|none (oxtask {}, Rust)|{commit}",
            env!("CARGO_PKG_VERSION")
        )
    );
    let o = t.run("helm", &["version", "--template={{.KubeClientVersion}}x"]);
    assert_eq!(out(&o), "x");
    // global flags are accepted before and after
    let o = t.run("helm", &["--debug", "version", "--short", "-n", "x"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), short);
}

#[test]
fn cosign_version_shapes() {
    let t = Tools::new();
    let o = t.run("cosign", &["version"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    let name = lines
        .iter()
        .position(|l| l.starts_with("cosign (oxtask native):"))
        .unwrap_or_else(|| panic!("no name line: {text}"));
    assert!(name >= 3, "a banner comes first: {text}");
    assert!(lines[name].contains("v3.1.1"), "{text}");
    assert_eq!(lines[name + 1], "");
    let table = &lines[name + 2..];
    let labels = [
        "GitVersion",
        "GitCommit",
        "GitTreeState",
        "BuildDate",
        "GoVersion",
        "Compiler",
        "Platform",
    ];
    assert_eq!(table.len(), labels.len(), "{text}");
    let mut values = vec![];
    for (line, label) in table.iter().zip(labels) {
        // tabwriter, padding 2 after the widest label ("GitTreeState:")
        let head = format!("{:15}", format!("{label}:"));
        assert!(line.starts_with(&head), "{line:?}");
        values.push(line[15..].to_string());
    }
    assert_eq!(values[0], "v3.1.1");
    assert!(
        values[1].is_empty() || values[1].len() == 40,
        "{}",
        values[1]
    );
    assert_eq!(values[3], "unknown");
    assert_eq!(
        values[4],
        format!("none (oxtask {}, Rust)", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(values[5], "rustc");
    assert!(values[6].starts_with(std::env::consts::OS) && values[6].contains('/'));

    let o = t.run("cosign", &["version", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let obj = j.as_object().unwrap();
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "gitVersion",
            "gitCommit",
            "gitTreeState",
            "buildDate",
            "goVersion",
            "compiler",
            "platform"
        ]
    );
    for (k, v) in keys.iter().zip(&values) {
        assert_eq!(obj[*k].as_str().unwrap(), v, "{k}");
    }
    assert!(out(&o).starts_with("{\n  \"gitVersion\": \"v3.1.1\",\n"));
}

#[test]
fn unknown_flags_are_named() {
    if !no_real_tools() {
        return;
    }
    let t = Tools::new();
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "helm",
            &["push", "--foo", "a.tgz", "oci://x/y"],
            "Error: unknown flag: --foo\n",
        ),
        (
            "helm",
            &["pull", "oci://x/y/z", "--bar=1"],
            "Error: unknown flag: --bar\n",
        ),
        (
            "helm",
            &["package", "-Z", "."],
            "Error: unknown shorthand flag: 'Z' in -Z\n",
        ),
        (
            "helm",
            &["registry", "login", "--nope", "h"],
            "Error: unknown flag: --nope\n",
        ),
        (
            "helm",
            &["version", "--long"],
            "Error: unknown flag: --long\n",
        ),
        ("helm", &["--foo"], "Error: unknown flag: --foo\n"),
        (
            "cosign",
            &["sign", "--foo", "img"],
            "Error: unknown flag: --foo\n",
        ),
        (
            "cosign",
            &["verify", "--bogus=1", "img"],
            "Error: unknown flag: --bogus\n",
        ),
        (
            "cosign",
            &["verify", "-Z", "img"],
            "Error: unknown shorthand flag: 'Z' in -Z\n",
        ),
        (
            "cosign",
            &["version", "--short"],
            "Error: unknown flag: --short\n",
        ),
    ];
    for (tool, args, want) in cases {
        let o = t.run(tool, args);
        assert_eq!(err(&o), *want, "{tool} {args:?}");
        assert_eq!(o.status.code(), Some(1), "{tool} {args:?}");
        assert!(o.stdout.is_empty(), "{tool} {args:?}");
    }
    // A subcommand that is not native still names the subcommand.
    let o = t.run("cosign", &["triangulate", "img"]);
    assert!(
        err(&o).contains("does not implement \"triangulate\""),
        "{}",
        err(&o)
    );
}

#[test]
fn plain_http_registry_without_plain_http_flag() {
    let Some(reg) = registry::start_registry(None) else {
        return;
    };
    let t = Tools::new();
    let home = t.dir.path().join("home");
    std::fs::create_dir_all(home.join("c")).unwrap();
    std::fs::write(
        home.join("c/Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    let o = t.run("helm", &["package", "c"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let remote = format!("oci://{}/ns", reg.host());
    let msg = "http: server gave HTTP response to HTTPS client";
    let o = t.run("helm", &["push", "c-0.1.0.tgz", &remote]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(
        e.starts_with("Error: ") && e.trim_end().ends_with(msg),
        "{e}"
    );
    assert!(e.contains(&format!("\"https://{}/v2/", reg.host())), "{e}");
    assert!(!e.contains("InvalidContentType"), "{e}");
    let o = t.run(
        "helm",
        &["pull", &format!("{remote}/c"), "--version", "0.1.0"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).trim_end().ends_with(msg), "{}", err(&o));
    // The same registry with --plain-http works.
    let o = t.run("helm", &["push", "c-0.1.0.tgz", &remote, "--plain-http"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).starts_with(&format!("Pushed: {}/ns/c:0.1.0\n", reg.host())));
}

/// Flag tokens (`--x`, `-x`) in `text`.
fn flag_tokens(text: &str) -> Vec<String> {
    let re = regex_lite::Regex::new(r"(?:^|[\s\[|(])(--?[a-zA-Z][a-zA-Z0-9-]*)").unwrap();
    let mut v: Vec<String> = re.captures_iter(text).map(|c| c[1].to_string()).collect();
    v.dedup();
    v
}

/// (command words, flags) from docs/helm.md's "What runs natively" table.
fn helm_doc_flags() -> Vec<(String, Vec<String>)> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/helm.md"))
        .unwrap();
    let mut out = vec![];
    for line in doc.lines() {
        let Some(cell) = line.strip_prefix("| `helm ") else {
            continue;
        };
        // The synopsis is the cell's first code span; the rest of the row is prose.
        let cell = cell.split('`').next().unwrap();
        let words: Vec<&str> = cell
            .split_whitespace()
            .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase()))
            .collect();
        let cmd = match words.first().copied() {
            Some("show") => "show chart".to_string(),
            Some("registry") | Some("repo") | Some("search") => words[..2].join(" "),
            Some("dependency") => "dependency update".to_string(),
            Some(w) => w.to_string(),
            None => continue,
        };
        out.push((cmd, flag_tokens(cell)));
    }
    out
}

#[test]
fn every_documented_helm_flag_is_accepted() {
    if !no_real_tools() {
        return;
    }
    let t = Tools::new();
    let docs = helm_doc_flags();
    let cmds: Vec<&str> = docs.iter().map(|(c, _)| c.as_str()).collect();
    for c in [
        "package",
        "push",
        "registry login",
        "registry logout",
        "pull",
        "show chart",
        "verify",
        "version",
    ] {
        assert!(
            cmds.contains(&c),
            "docs/helm.md has no row for helm {c}: {cmds:?}"
        );
    }
    let mut checked = 0;
    for (cmd, flags) in &docs {
        let words: Vec<&str> = cmd.split(' ').collect();
        let help = out(&t.run("helm", &[&words[..], &["--help"]].concat()));
        // Helm's global flags (-n/--namespace, --debug, …) count for every command.
        let listed = [
            section_flags(&help, "Flags"),
            section_flags(&help, "Global Flags"),
        ]
        .concat();
        for f in flags {
            if f == "-h" || f == "--help" {
                continue;
            }
            assert!(
                listed.contains(f),
                "helm {cmd}: documented {f} not in its --help"
            );
            // pflag's line: `-x, --name type   usage` or `--name type   usage`.
            let takes_value = help
                .lines()
                .filter_map(|l| {
                    let toks: Vec<&str> = l.split_whitespace().collect();
                    let (names, ty) = match toks.first() {
                        Some(s) if s.ends_with(',') => {
                            (vec![s.trim_end_matches(','), toks[1]], toks.get(2))
                        }
                        Some(s) if s.starts_with('-') => (vec![*s], toks.get(1)),
                        _ => return None,
                    };
                    names.contains(&f.as_str()).then(|| {
                        ty.is_some_and(|t| ["string", "int", "stringArray", "float32"].contains(t))
                    })
                })
                .next()
                .unwrap();
            let mut args: Vec<&str> = words.clone();
            args.push(f);
            if takes_value {
                args.push("v");
            }
            // No positional arguments: the command stops at its argument check, after
            // the flags were parsed.
            let o = t.run("helm", &args);
            let e = err(&o);
            assert!(
                !e.contains("unknown flag")
                    && !e.contains("unknown shorthand")
                    && !e.contains("does not implement"),
                "helm {args:?} rejected a documented flag: {e}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} documented helm flags found");
}

/// (subcommand, flags) from the command synopsis block of docs/cosign.md.
fn cosign_doc_flags() -> Vec<(String, Vec<String>)> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cosign.md"))
        .unwrap();
    let start = doc.find("## Commands").unwrap();
    let block = &doc[start..];
    let block = &block[block.find("```\n").unwrap() + 4..];
    let block = &block[..block.find("```").unwrap()];
    let mut out: Vec<(String, Vec<String>)> = vec![];
    for line in block.lines() {
        if let Some(rest) = line.strip_prefix("cosign ") {
            let sub = rest.split_whitespace().next().unwrap().to_string();
            out.push((sub, flag_tokens(rest)));
        } else if let Some(last) = out.last_mut() {
            last.1.extend(flag_tokens(line));
        }
    }
    out
}

#[test]
fn every_documented_cosign_flag_is_accepted() {
    if !no_real_tools() {
        return;
    }
    let t = Tools::new();
    let docs = cosign_doc_flags();
    let subs: Vec<&str> = docs.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        subs,
        [
            "generate-key-pair",
            "sign",
            "verify",
            "sign-blob",
            "verify-blob",
            "attest-blob",
            "verify-blob-attestation",
            "attest",
            "verify-attestation",
            "initialize",
            "version"
        ]
    );
    let mut checked = 0;
    for (sub, flags) in &docs {
        let help = out(&t.run("cosign", &[sub, "--help"]));
        for f in flags {
            let line = help
                .lines()
                .find(|l| l.trim_start().split([' ', ',', '[']).any(|w| w == f))
                .unwrap_or_else(|| {
                    panic!("cosign {sub}: documented {f} not in its --help:\n{help}")
                });
            let takes_value = line.contains(&format!("{f} <"))
                || (f.len() == 2
                    && line.contains(", --")
                    && line
                        .split_once(", --")
                        .unwrap()
                        .1
                        .split_whitespace()
                        .nth(1)
                        .is_some_and(|w| w.starts_with('<')));
            let mut args = vec![sub.as_str(), f.as_str()];
            if takes_value {
                args.push("v");
            }
            // --help after the flag: clap rejects an unknown flag before it shows help.
            args.push("--help");
            let o = t.run("cosign", &args);
            assert_eq!(o.status.code(), Some(0), "cosign {args:?}: {}", err(&o));
            assert!(out(&o).contains("Usage: cosign"), "cosign {args:?}");
            checked += 1;
        }
    }
    assert!(
        checked >= 30,
        "only {checked} documented cosign flags found"
    );
}
