//! `helm env [NAME]` and Helm's directories (pkg/helmpath, pkg/cli/environment.go): each
//! of cache/config/data is `$HELM_*_HOME`, else `$XDG_*_HOME/helm`, else the XDG default
//! under the home directory.

use std::path::PathBuf;

use super::args::Parsed;
use super::{parse_flags, CmdResult};

fn var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

fn home() -> PathBuf {
    var("HOME").map(PathBuf::from).unwrap_or_default()
}

fn base(helm_var: &str, xdg_var: &str, default: &str) -> PathBuf {
    if let Some(b) = var(helm_var) {
        return PathBuf::from(b);
    }
    let root = var(xdg_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(default));
    root.join("helm")
}

pub fn cache_home() -> PathBuf {
    base("HELM_CACHE_HOME", "XDG_CACHE_HOME", ".cache")
}
pub fn config_home() -> PathBuf {
    base("HELM_CONFIG_HOME", "XDG_CONFIG_HOME", ".config")
}
pub fn data_home() -> PathBuf {
    base("HELM_DATA_HOME", "XDG_DATA_HOME", ".local/share")
}

/// A setting: its flag (when given), else its variable, else the default.
fn setting(p: &Parsed, flag: &str, env: &str, default: impl FnOnce() -> String) -> String {
    if let Some(v) = p.get(flag) {
        return v.to_string();
    }
    var(env).unwrap_or_else(default)
}

fn path_str(p: PathBuf) -> String {
    p.to_string_lossy().into_owned()
}

/// repositories.yaml (`--repository-config`, `$HELM_REPOSITORY_CONFIG`, config home).
pub fn repository_config(p: &Parsed) -> PathBuf {
    PathBuf::from(setting(
        p,
        "repository-config",
        "HELM_REPOSITORY_CONFIG",
        || path_str(config_home().join("repositories.yaml")),
    ))
}

/// `settings.EnvVars()` with the global flags applied.
pub fn env_vars(p: &Parsed) -> Vec<(&'static str, String)> {
    let bool_of = |flag: &str, env: &str| {
        let v = setting(p, flag, env, || "false".into());
        let b = matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True")
            || (p.has(flag) && v.is_empty());
        b.to_string()
    };
    let bin = std::env::args().next().unwrap_or_else(|| "helm".into());
    let qps: f32 = setting(p, "qps", "HELM_QPS", || "0".into())
        .parse()
        .unwrap_or(0.0);
    let mut v = vec![
        ("HELM_BIN", bin),
        (
            "HELM_BURST_LIMIT",
            setting(p, "burst-limit", "HELM_BURST_LIMIT", || "100".into()),
        ),
        ("HELM_CACHE_HOME", path_str(cache_home())),
        ("HELM_CONFIG_HOME", path_str(config_home())),
        (
            "HELM_CONTENT_CACHE",
            setting(p, "content-cache", "HELM_CONTENT_CACHE", || {
                path_str(cache_home().join("content"))
            }),
        ),
        ("HELM_DATA_HOME", path_str(data_home())),
        ("HELM_DEBUG", bool_of("debug", "HELM_DEBUG")),
        (
            "HELM_KUBEAPISERVER",
            setting(p, "kube-apiserver", "HELM_KUBEAPISERVER", String::new),
        ),
        (
            "HELM_KUBEASGROUPS",
            if p.has("kube-as-group") {
                p.all("kube-as-group").join(",")
            } else {
                var("HELM_KUBEASGROUPS").unwrap_or_default()
            },
        ),
        (
            "HELM_KUBEASUSER",
            setting(p, "kube-as-user", "HELM_KUBEASUSER", String::new),
        ),
        (
            "HELM_KUBECAFILE",
            setting(p, "kube-ca-file", "HELM_KUBECAFILE", String::new),
        ),
        (
            "HELM_KUBECONTEXT",
            setting(p, "kube-context", "HELM_KUBECONTEXT", String::new),
        ),
        (
            "HELM_KUBEINSECURE_SKIP_TLS_VERIFY",
            bool_of(
                "kube-insecure-skip-tls-verify",
                "HELM_KUBEINSECURE_SKIP_TLS_VERIFY",
            ),
        ),
        (
            "HELM_KUBETLS_SERVER_NAME",
            setting(
                p,
                "kube-tls-server-name",
                "HELM_KUBETLS_SERVER_NAME",
                String::new,
            ),
        ),
        (
            "HELM_KUBETOKEN",
            setting(p, "kube-token", "HELM_KUBETOKEN", String::new),
        ),
        (
            "HELM_MAX_HISTORY",
            var("HELM_MAX_HISTORY")
                .filter(|h| h.parse::<i64>().is_ok())
                .unwrap_or_else(|| "10".into()),
        ),
        (
            "HELM_NAMESPACE",
            setting(p, "namespace", "HELM_NAMESPACE", || "default".into()),
        ),
        (
            "HELM_PLUGINS",
            var("HELM_PLUGINS").unwrap_or_else(|| path_str(data_home().join("plugins"))),
        ),
        ("HELM_QPS", format!("{qps:.2}")),
        (
            "HELM_REGISTRY_CONFIG",
            setting(p, "registry-config", "HELM_REGISTRY_CONFIG", || {
                path_str(config_home().join("registry/config.json"))
            }),
        ),
        (
            "HELM_REPOSITORY_CACHE",
            setting(p, "repository-cache", "HELM_REPOSITORY_CACHE", || {
                path_str(cache_home().join("repository"))
            }),
        ),
        ("HELM_REPOSITORY_CONFIG", path_str(repository_config(p))),
    ];
    let kubeconfig = setting(p, "kubeconfig", "KUBECONFIG", String::new);
    if !kubeconfig.is_empty() {
        v.push(("KUBECONFIG", kubeconfig));
    }
    v.sort_by_key(|(k, _)| *k);
    v
}

/// `helm env`: every variable as `K="V"` in name order; `helm env NAME`: its value.
pub fn run(args: &[String]) -> CmdResult {
    let p = parse_flags("env", args, &[])?;
    if p.positional.len() > 1 {
        return Err("\"helm env\" accepts at most 1 argument\n\nUsage:  helm env [flags]".into());
    }
    let vars = env_vars(&p);
    match p.positional.first() {
        None => {
            for (k, v) in vars {
                println!("{k}=\"{v}\"");
            }
        }
        Some(name) => {
            let v = vars
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str());
            println!("{}", v.unwrap_or(""));
        }
    }
    Ok(())
}
