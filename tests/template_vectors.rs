//! Runs every recorded go-task template vector (tests/templates/vectors.json)
//! against `oxtask::template::render`, one trial per case.

use std::path::PathBuf;

use libtest_mimic::{Arguments, Failed, Trial};
use oxtask::template::{self, Map, Value};
use serde_json::Value as J;

fn to_value(j: &J) -> Value {
    match j {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::Uint(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        J::String(s) => Value::Str(s.clone()),
        J::Array(a) => Value::List(a.iter().map(to_value).collect()),
        J::Object(o) => Value::Map(o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()),
    }
}

/// go-task's special variables as the recording runner saw them.
fn special_vars(name: &str) -> Map {
    let dir = "/tmp/tplvec/chunk";
    let mut m = Map::new();
    for (k, v) in [
        ("TASK", Value::str(name)),
        ("ALIAS", Value::str(name)),
        ("TASK_EXE", Value::str("/usr/local/bin/task")),
        ("ROOT_TASKFILE", Value::str(format!("{}/Taskfile.yml", dir))),
        ("ROOT_DIR", Value::str(dir)),
        ("TASKFILE", Value::str(format!("{}/Taskfile.yml", dir))),
        ("TASKFILE_DIR", Value::str(dir)),
        ("TASK_DIR", Value::str(dir)),
        ("USER_WORKING_DIR", Value::str(dir)),
        ("TASK_VERSION", Value::str("3.54.0")),
        ("CLI_ARGS", Value::str("")),
        ("CLI_ARGS_LIST", Value::StrList(Vec::new())),
        ("CLI_FORCE", Value::Bool(false)),
        ("CLI_SILENT", Value::Bool(false)),
        ("CLI_VERBOSE", Value::Bool(false)),
        ("CLI_OFFLINE", Value::Bool(false)),
        ("CLI_ASSUME_YES", Value::Bool(false)),
        ("MATCH", Value::StrList(Vec::new())),
    ] {
        m.insert(k.to_string(), v);
    }
    m
}

/// The `vars:` block of a Taskfile as go-task reads it: a mapping value is a
/// variable definition (`map:` wraps a literal object), anything else is the
/// value itself. go-task crashes on timestamp values while copying vars; the
/// harness reports that the same way so the recorded case can be checked.
fn vars_from_yaml(src: &str) -> Result<Map, String> {
    let v = template::parse_yaml_value(src)?;
    let Value::Map(m) = v else {
        return Err(format!("vars is not a mapping: {:?}", v));
    };
    let mut out = Map::new();
    for (k, v) in m {
        let val = match v {
            Value::Map(def) => match def.get("map") {
                Some(x) => x.clone(),
                None => def.get("value").cloned().unwrap_or(Value::Nil),
            },
            other => other,
        };
        if matches!(val, Value::Time(_)) {
            return Err(
                "panic: reflect: reflect.Value.Set using value obtained using unexported field"
                    .into(),
            );
        }
        out.insert(k, val);
    }
    Ok(out)
}

/// go-task copies var values with a deep copy that drops map entries whose
/// value is nil (a YAML `null` inside a mapping disappears; list elements
/// stay). The recorded outputs show it, so the harness loads vars that way.
fn drop_nil_map_entries(v: Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(
            m.into_iter()
                .filter(|(_, x)| !matches!(x, Value::Nil))
                .map(|(k, x)| (k, drop_nil_map_entries(x)))
                .collect(),
        ),
        Value::List(l) => Value::List(l.into_iter().map(drop_nil_map_entries).collect()),
        other => other,
    }
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn run_case(case: &J, var_sets: &J) -> Result<(), Failed> {
    let name = case["name"].as_str().unwrap();
    let tpl = case["template"].as_str().unwrap();
    let mut data = special_vars(name);
    let loaded: Result<Map, String> = match case.get("vars_yaml").and_then(|v| v.as_str()) {
        Some(y) => vars_from_yaml(y),
        None => Ok(
            match to_value(match case.get("vars_ref").and_then(|r| r.as_str()) {
                Some(r) => &var_sets[r],
                None => &case["vars"],
            }) {
                Value::Map(m) => m.into_inner(),
                _ => Map::new(),
            },
        ),
    };
    let result: Result<Vec<u8>, String> = match loaded {
        Ok(vars) => {
            data.extend(vars.into_iter().map(|(k, v)| (k, drop_nil_map_entries(v))));
            template::render_bytes(tpl, &data).map_err(|e| e.to_string())
        }
        Err(e) => Err(e),
    };
    if let Some(out) = case.get("output") {
        let want = out.as_str().unwrap();
        let got = result.map_err(|e| format!("expected output {:?}, got error: {}", want, e))?;
        let got_s = String::from_utf8_lossy(&got);
        if got_s != want {
            return Err(format!("output mismatch\n  want: {:?}\n  got:  {:?}", want, got_s).into());
        }
        // The String API must agree with the byte API for valid UTF-8.
        if let Ok(s) = template::render(tpl, &data) {
            if s != want {
                return Err(format!("render() differs from render_bytes(): {:?}", s).into());
            }
        }
    } else if let Some(h) = case.get("output_hex") {
        let want = hex_decode(h.as_str().unwrap());
        let got = result.map_err(|e| format!("expected bytes, got error: {}", e))?;
        if got != want {
            return Err(format!(
                "bytes mismatch\n  want: {:02x?}\n  got:  {:02x?}",
                want, got
            )
            .into());
        }
    } else if let Some(err) = case.get("error") {
        let want = err["stderr_contains"].as_str().unwrap();
        let want = want.strip_prefix("task: ").unwrap_or(want);
        match result {
            Ok(o) => {
                return Err(format!(
                    "expected error {:?}, got output {:?}",
                    want,
                    String::from_utf8_lossy(&o)
                )
                .into())
            }
            Err(e) => {
                if !e.contains(want) {
                    return Err(format!("error mismatch\n  want: {}\n  got:  {}", want, e).into());
                }
            }
        }
    } else if let Some(code) = case.get("exit_code_only") {
        let want_ok = code.as_i64() == Some(0);
        if result.is_ok() != want_ok {
            return Err(format!(
                "exit status mismatch: want ok={}, got {:?}",
                want_ok,
                result.map(|_| ())
            )
            .into());
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    // The recorded go-task vectors plus this module's own recorded cases;
    // TEMPLATE_VECTORS points at another file of the same format instead.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<PathBuf> = match std::env::var_os("TEMPLATE_VECTORS") {
        Some(p) => vec![PathBuf::from(p)],
        None => vec![
            root.join("tests/templates/vectors.json"),
            root.join("src/template/testdata/extra_vectors.json"),
        ],
    };
    let mut trials: Vec<Trial> = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {}", path.display(), e));
        let doc: J = serde_json::from_str(&text).expect("parse vectors");
        // A file recorded through the clock (`htmlDate "a"` is today) names the
        // instant it was recorded at; replay pins the template clock to it.
        if let Some(t) = doc["meta"]["recorded_at_unix"].as_i64() {
            template::set_fixed_now(t);
        }
        let var_sets = std::sync::Arc::new(doc.get("var_sets").cloned().unwrap_or(J::Null));
        for case in doc["cases"].as_array().expect("cases").iter().cloned() {
            let name = case["name"].as_str().unwrap().to_string();
            let sets = var_sets.clone();
            trials.push(Trial::test(name, move || run_case(&case, &sets)));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
