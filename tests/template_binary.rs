//! The template vectors through the binary: each case becomes a task whose only command
//! is the template, and `task --dry NAME` must print `task: [NAME] <expected>` (the same
//! observation channel as tests/templates/run_vectors.py). One test per case.

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value as J;
use std::path::Path;
use std::process::Command;

fn y_str(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        let o = ch as u32;
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            _ if o < 0x20 || o == 0x7f || (0x80..0xa0).contains(&o) => {
                out.push_str(&format!("\\x{o:02x}"))
            }
            _ if o == 0xfeff || o == 0xfffe || o == 0xffff => out.push_str(&format!("\\u{o:04x}")),
            _ => out.push(ch),
        }
    }
    out.push('"');
    out
}

fn y_val(v: &J) -> String {
    match v {
        J::Null => "null".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| !n.is_i64() && !n.is_u64()) {
                // Python's repr keeps a float a float (1.0, 1e+20).
                let s = format!("{f:?}");
                if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
                    s
                } else {
                    format!("{s}.0")
                }
            } else {
                n.to_string()
            }
        }
        J::String(s) => y_str(s),
        J::Array(a) => format!("[{}]", a.iter().map(y_val).collect::<Vec<_>>().join(", ")),
        J::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, x)| format!("{}: {}", y_str(k), y_val(x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn taskfile(case: &J) -> String {
    let name = case["name"].as_str().unwrap();
    let mut lines = vec![
        "version: '3'".to_string(),
        String::new(),
        "tasks:".into(),
        format!("  {name}:"),
    ];
    let mut vb = vec![];
    if let Some(y) = case.get("vars_yaml").and_then(J::as_str) {
        for ln in y.lines() {
            vb.push(format!("      {ln}"));
        }
    } else if let Some(J::Object(vars)) = case.get("vars") {
        for (k, v) in vars {
            let val = if v.is_object() {
                format!("{{\"map\": {}}}", y_val(v))
            } else {
                y_val(v)
            };
            vb.push(format!("      {k}: {val}"));
        }
    }
    if !vb.is_empty() {
        lines.push("    vars:".into());
        lines.extend(vb);
    }
    lines.push("    cmds:".into());
    lines.push(format!(
        "      - cmd: {}",
        y_str(case["template"].as_str().unwrap())
    ));
    lines.join("\n") + "\n"
}

fn run(case: &J) -> Result<(), Failed> {
    let name = case["name"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Taskfile.yml"), taskfile(case)).unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_task"))
        .args(["--dry", name])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("TZ", "UTC")
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .output()
        .map_err(|e| format!("spawn: {e}"))?;
    let code = out.status.code().unwrap_or(-1);
    let stderr = out.stderr.clone();
    let text = String::from_utf8_lossy(&stderr).into_owned();
    let prefix = format!("task: [{name}] ");
    let rendered: Option<Vec<u8>> = if code != 0 {
        None
    } else if stderr.is_empty() {
        Some(vec![])
    } else if stderr.starts_with(prefix.as_bytes()) && stderr.ends_with(b"\n") {
        Some(stderr[prefix.len()..stderr.len() - 1].to_vec())
    } else {
        return Err(format!("unexpected stderr: {text:?}").into());
    };
    if let Some(exp) = case.get("output").and_then(J::as_str) {
        let got = rendered.ok_or_else(|| format!("exit {code}: {text}"))?;
        if got != exp.as_bytes() {
            return Err(
                format!("got {:?}, expected {exp:?}", String::from_utf8_lossy(&got)).into(),
            );
        }
    } else if let Some(hex) = case.get("output_hex").and_then(J::as_str) {
        let got = rendered.ok_or_else(|| format!("exit {code}: {text}"))?;
        let exp: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        if got != exp {
            return Err(format!("got {got:?}, expected {exp:?}").into());
        }
    } else if let Some(err) = case.get("error") {
        let want_exit = err["exit"].as_i64().unwrap_or(1) as i32;
        if code != want_exit {
            return Err(format!("exit {code}, expected {want_exit}: {text}").into());
        }
        let want = err["stderr_contains"].as_str().unwrap_or("");
        if !text.contains(want) {
            return Err(format!("stderr {text:?} lacks {want:?}").into());
        }
    } else if let Some(x) = case.get("exit_code_only") {
        let want = x
            .as_i64()
            .or_else(|| x.get("exit").and_then(J::as_i64))
            .unwrap_or(0) as i32;
        if code != want {
            return Err(format!("exit {code}, expected {want}: {text}").into());
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/templates/vectors.json");
    let doc: J = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let trials = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let c = c.clone();
            Trial::test(
                format!("binary::{}", c["name"].as_str().unwrap()),
                move || run(&c),
            )
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
