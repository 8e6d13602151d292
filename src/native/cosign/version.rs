//! `cosign version [--json]` in the layout of sigs.k8s.io/release-utils (a banner, a name
//! line, then the GitVersion…Platform table aligned like Go's tabwriter with padding 2).
//! GitVersion is the cosign release the native cosign follows; GoVersion names oxtask,
//! since no Go toolchain built it; BuildDate is "unknown" (no clock goes into the build).

/// The cosign release whose command line and output the native cosign follows.
pub const COSIGN_VERSION: &str = "v3.1.1";

const BANNER: &str = r"   ___  __  __ _____   _     ___  _  __
  / _ \ \ \/ /|_   _| /_\   / __|| |/ /
 | (_) | >  <   | |  / _ \  \__ \| ' <
  \___/ /_/\_\  |_| /_/ \_\ |___/|_|\_\
";

const NAME: &str = "cosign (oxtask native)";
const DESCRIPTION: &str = "container signing and verification built into oxtask";

/// Go's GOOS/GOARCH spelling of the platform this binary runs on.
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    };
    format!("{}/{arch}", std::env::consts::OS)
}

/// (label, json key, value) in release-utils' order.
pub fn fields() -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("GitVersion", "gitVersion", COSIGN_VERSION.to_string()),
        (
            "GitCommit",
            "gitCommit",
            option_env!("OXTASK_GIT_COMMIT").unwrap_or("").to_string(),
        ),
        (
            "GitTreeState",
            "gitTreeState",
            option_env!("OXTASK_GIT_TREE_STATE")
                .unwrap_or("")
                .to_string(),
        ),
        ("BuildDate", "buildDate", "unknown".to_string()),
        (
            "GoVersion",
            "goVersion",
            format!("none (oxtask {}, Rust)", env!("CARGO_PKG_VERSION")),
        ),
        ("Compiler", "compiler", "rustc".to_string()),
        ("Platform", "platform", platform()),
    ]
}

/// The text `cosign version` prints (or its JSON form).
pub fn render(json: bool) -> String {
    let f = fields();
    if json {
        let mut m = serde_json::Map::new();
        for (_, k, v) in &f {
            m.insert(k.to_string(), serde_json::Value::String(v.clone()));
        }
        return serde_json::to_string_pretty(&serde_json::Value::Object(m)).unwrap_or_default()
            + "\n";
    }
    let width = f.iter().map(|(l, ..)| l.len() + 1).max().unwrap_or(0) + 2;
    let mut out = format!("{BANNER}{NAME}: {DESCRIPTION} (follows cosign {COSIGN_VERSION})\n\n");
    for (label, _, value) in &f {
        out.push_str(&format!("{:width$}{value}\n", format!("{label}:")));
    }
    out
}
