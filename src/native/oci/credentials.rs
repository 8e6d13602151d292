//! Registry credentials: Helm's registry config (Docker's `config.json` format), Docker's
//! own config, `docker-credential-*` helpers and `GITHUB_TOKEN` for ghcr.io.
//!
//! Reading order for a host: Helm's file (its `credHelpers`, `credsStore`, then `auths`), then
//! Docker's file (same order), then `GITHUB_TOKEN` when the host is `ghcr.io`.
//! Writes (login/logout) only ever touch Helm's file (or the helper it names).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use serde_json::{Map, Value};

/// A credential for one registry. `Debug` never shows secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub password: String,
    /// OAuth2 refresh token (`identitytoken`).
    pub identity_token: String,
    /// Bearer access token used as-is (`registrytoken`).
    pub registry_token: String,
}

impl Credential {
    pub fn basic(username: &str, password: &str) -> Credential {
        Credential {
            username: username.into(),
            password: password.into(),
            ..Default::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.username.is_empty()
            && self.password.is_empty()
            && self.identity_token.is_empty()
            && self.registry_token.is_empty()
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .field("identity_token", &!self.identity_token.is_empty())
            .field("registry_token", &!self.registry_token.is_empty())
            .finish()
    }
}

/// Errors of the credential store. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("bad credential format: colons(:) are not allowed in username")]
    ColonInUsername,
    #[error("unable to parse credentials file {path}: {msg}")]
    Parse { path: PathBuf, msg: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("credential helper docker-credential-{helper}: {msg}")]
    Helper { helper: String, msg: String },
}

/// Helm's registry config path: `$HELM_REGISTRY_CONFIG`, `$HELM_CONFIG_HOME/registry/config.json`,
/// `$XDG_CONFIG_HOME/helm/registry/config.json`, else the OS default.
pub fn helm_registry_config_path() -> PathBuf {
    helm_registry_config_path_with(|k| std::env::var_os(k).filter(|v| !v.is_empty()))
}

pub fn helm_registry_config_path_with(env: impl Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    if let Some(p) = env("HELM_REGISTRY_CONFIG") {
        return PathBuf::from(p);
    }
    if let Some(p) = env("HELM_CONFIG_HOME") {
        return PathBuf::from(p).join("registry").join("config.json");
    }
    let base = if let Some(x) = env("XDG_CONFIG_HOME") {
        PathBuf::from(x)
    } else {
        let home = env("HOME").map(PathBuf::from).unwrap_or_default();
        if cfg!(target_os = "macos") {
            home.join("Library").join("Preferences")
        } else if cfg!(windows) {
            env("APPDATA").map(PathBuf::from).unwrap_or(home)
        } else {
            home.join(".config")
        }
    };
    base.join("helm").join("registry").join("config.json")
}

/// Docker's config: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(d).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// The key a host is stored under (Docker Hub uses its legacy index URL).
pub fn server_key(host: &str) -> String {
    match host {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => {
            "https://index.docker.io/v1/".to_string()
        }
        h => h.to_string(),
    }
}

/// `https://host/path` → `host` (how Docker matches legacy keys).
fn to_hostname(key: &str) -> &str {
    let k = key
        .strip_prefix("http://")
        .or_else(|| key.strip_prefix("https://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// Looks up credentials for `host` in every store oxtask reads (see the module doc).
/// Cosign and helm both call this. Unreadable files are ignored here (None).
pub fn credentials_for(host: &str) -> Option<Credential> {
    let helm = helm_registry_config_path();
    if let Ok(Some(c)) = ConfigFile::load(&helm).and_then(|f| f.get(host)) {
        return Some(c);
    }
    if let Some(docker) = docker_config_path() {
        if let Ok(Some(c)) = ConfigFile::load(&docker).and_then(|f| f.get(host)) {
            return Some(c);
        }
    }
    if host == "ghcr.io" {
        if let Ok(tok) = std::env::var("GITHUB_TOKEN") {
            if !tok.is_empty() {
                let user = std::env::var("GITHUB_ACTOR")
                    .ok()
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| "oxtask".into());
                return Some(Credential::basic(&user, &tok));
            }
        }
    }
    None
}

/// One Docker-format config file (`{"auths":{…},"credsStore":…,"credHelpers":{…}}`).
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// Top-level keys, kept so unknown ones survive a rewrite.
    content: Map<String, Value>,
}

impl ConfigFile {
    /// Loads `path`; a missing or empty file is an empty config.
    pub fn load(path: &Path) -> Result<ConfigFile, CredentialError> {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(CredentialError::Io {
                    path: path.into(),
                    source: e,
                })
            }
        };
        let content = if data.iter().all(|b| b.is_ascii_whitespace()) {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(&data) {
                Ok(Value::Object(m)) => m,
                Ok(_) => {
                    return Err(CredentialError::Parse {
                        path: path.into(),
                        msg: "not a JSON object".into(),
                    })
                }
                Err(e) => {
                    return Err(CredentialError::Parse {
                        path: path.into(),
                        msg: e.to_string(),
                    })
                }
            }
        };
        Ok(ConfigFile {
            path: path.into(),
            content,
        })
    }

    fn helper_for(&self, host: &str) -> Option<String> {
        let key = server_key(host);
        if let Some(Value::Object(h)) = self.content.get("credHelpers") {
            if let Some(Value::String(s)) = h.get(&key).or_else(|| h.get(host)) {
                if !s.is_empty() {
                    return Some(s.clone());
                }
            }
        }
        match self.content.get("credsStore") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    }

    /// The credential for `host`, if this file (or the helper it names) has one.
    pub fn get(&self, host: &str) -> Result<Option<Credential>, CredentialError> {
        if let Some(helper) = self.helper_for(host) {
            return helper_get(&helper, &server_key(host));
        }
        let key = server_key(host);
        let Some(Value::Object(auths)) = self.content.get("auths") else {
            return Ok(None);
        };
        let entry = auths.get(&key).or_else(|| {
            auths
                .iter()
                .find(|(k, _)| to_hostname(k) == to_hostname(&key))
                .map(|(_, v)| v)
        });
        let Some(Value::Object(e)) = entry else {
            return Ok(None);
        };
        let s = |k: &str| match e.get(k) {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let mut c = Credential {
            username: s("username"),
            password: s("password"),
            identity_token: s("identitytoken"),
            registry_token: s("registrytoken"),
        };
        let auth = s("auth");
        if !auth.is_empty() {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|e| CredentialError::Parse {
                    path: self.path.clone(),
                    msg: format!("invalid auth for {key}: {e}"),
                })?;
            let raw = String::from_utf8_lossy(&raw).into_owned();
            let (u, p) = raw.split_once(':').ok_or_else(|| CredentialError::Parse {
                path: self.path.clone(),
                msg: format!("invalid auth for {key}: missing colon"),
            })?;
            c.username = u.to_string();
            c.password = p.to_string();
        }
        Ok(if c.is_empty() { None } else { Some(c) })
    }

    /// Stores `cred` for `host` (plaintext `auth`, or the configured helper) and saves the file.
    pub fn put(&mut self, host: &str, cred: &Credential) -> Result<(), CredentialError> {
        if cred.username.contains(':') {
            return Err(CredentialError::ColonInUsername);
        }
        if let Some(helper) = self.helper_for(host) {
            return helper_store(&helper, &server_key(host), cred);
        }
        let mut entry = Map::new();
        if !cred.username.is_empty() || !cred.password.is_empty() {
            let auth = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", cred.username, cred.password));
            entry.insert("auth".into(), Value::String(auth));
        }
        if !cred.identity_token.is_empty() {
            entry.insert(
                "identitytoken".into(),
                Value::String(cred.identity_token.clone()),
            );
        }
        if !cred.registry_token.is_empty() {
            entry.insert(
                "registrytoken".into(),
                Value::String(cred.registry_token.clone()),
            );
        }
        let auths = self
            .content
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !auths.is_object() {
            *auths = Value::Object(Map::new());
        }
        if let Value::Object(a) = auths {
            a.insert(server_key(host), Value::Object(entry));
        }
        self.save()
    }

    /// Removes `host` (a no-op when absent) and saves the file.
    pub fn delete(&mut self, host: &str) -> Result<(), CredentialError> {
        if let Some(helper) = self.helper_for(host) {
            return helper_erase(&helper, &server_key(host));
        }
        let auths = self
            .content
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(a) = auths {
            a.shift_remove(&server_key(host));
        }
        self.save()
    }

    /// Writes the file like Go's `json.MarshalIndent(m, "", "\t")` (sorted top-level and
    /// `auths` keys, no trailing newline), mode 0600, via temp file + rename.
    pub fn save(&self) -> Result<(), CredentialError> {
        let sorted: BTreeMap<&String, Value> = self
            .content
            .iter()
            .map(|(k, v)| {
                let v = match (k.as_str(), v) {
                    ("auths", Value::Object(a)) => {
                        let s: BTreeMap<&String, &Value> = a.iter().collect();
                        serde_json::to_value(s).unwrap_or(Value::Null)
                    }
                    _ => v.clone(),
                };
                (k, v)
            })
            .collect();
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        serde::Serialize::serialize(&sorted, &mut ser).map_err(|e| CredentialError::Parse {
            path: self.path.clone(),
            msg: e.to_string(),
        })?;
        write_private(&self.path, &buf).map_err(|e| CredentialError::Io {
            path: self.path.clone(),
            source: e,
        })
    }
}

/// Writes `data` to `path` with mode 0600 through a temp file in the same directory
/// (directory created 0700), then renames it into place.
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        if !dir.exists() {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(dir)?;
        }
    }
    let dir = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let tmp = dir.join(format!(
        ".oxtask_credstore_temp_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let res = (|| {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let mut f = o.open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

fn run_helper(helper: &str, verb: &str, input: &[u8]) -> Result<(bool, Vec<u8>), CredentialError> {
    let herr = |msg: String| CredentialError::Helper {
        helper: helper.to_string(),
        msg,
    };
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| herr(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    let out = child.wait_with_output().map_err(|e| herr(e.to_string()))?;
    Ok((out.status.success(), out.stdout))
}

fn helper_get(helper: &str, server: &str) -> Result<Option<Credential>, CredentialError> {
    let (ok, out) = run_helper(helper, "get", server.as_bytes())?;
    if !ok {
        // "credentials not found in native keychain" and friends: no credential.
        return Ok(None);
    }
    let v: Value = serde_json::from_slice(&out).map_err(|e| CredentialError::Helper {
        helper: helper.into(),
        msg: format!("invalid output: {e}"),
    })?;
    let user = v["Username"].as_str().unwrap_or_default().to_string();
    let secret = v["Secret"].as_str().unwrap_or_default().to_string();
    if user == "<token>" {
        return Ok(Some(Credential {
            identity_token: secret,
            ..Default::default()
        }));
    }
    Ok(Some(Credential::basic(&user, &secret)))
}

fn helper_store(helper: &str, server: &str, cred: &Credential) -> Result<(), CredentialError> {
    let (user, secret) = if cred.identity_token.is_empty() {
        (cred.username.as_str(), cred.password.as_str())
    } else {
        ("<token>", cred.identity_token.as_str())
    };
    let body = serde_json::json!({"ServerURL": server, "Username": user, "Secret": secret});
    let (ok, _) = run_helper(helper, "store", body.to_string().as_bytes())?;
    if ok {
        Ok(())
    } else {
        Err(CredentialError::Helper {
            helper: helper.into(),
            msg: "store failed".into(),
        })
    }
}

fn helper_erase(helper: &str, server: &str) -> Result<(), CredentialError> {
    let _ = run_helper(helper, "erase", server.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_format() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/config.json");
        let mut f = ConfigFile::load(&p).unwrap();
        f.put("127.0.0.1:5000", &Credential::basic("user", "pass"))
            .unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "{\n\t\"auths\": {\n\t\t\"127.0.0.1:5000\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\"\n\t\t}\n\t}\n}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let f = ConfigFile::load(&p).unwrap();
        assert_eq!(
            f.get("127.0.0.1:5000").unwrap(),
            Some(Credential::basic("user", "pass"))
        );
        let mut f = f;
        f.delete("127.0.0.1:5000").unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\n\t\"auths\": {}\n}"
        );
        assert!(matches!(
            f.put("h", &Credential::basic("a:b", "c")),
            Err(CredentialError::ColonInUsername)
        ));
    }

    #[test]
    fn legacy_keys_match() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.json");
        std::fs::write(
            &p,
            r#"{"auths":{"https://reg.example:443/v2/":{"username":"u","password":"p"}}}"#,
        )
        .unwrap();
        let f = ConfigFile::load(&p).unwrap();
        assert_eq!(
            f.get("reg.example:443").unwrap(),
            Some(Credential::basic("u", "p"))
        );
        let dbg = format!("{:?}", Credential::basic("u", "secretpw"));
        assert!(!dbg.contains("secretpw"));
    }

    #[test]
    fn config_paths() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        assert_eq!(
            helm_registry_config_path_with(env(&[("HELM_REGISTRY_CONFIG", "/a/b.json")])),
            PathBuf::from("/a/b.json")
        );
        assert_eq!(
            helm_registry_config_path_with(env(&[("HELM_CONFIG_HOME", "/h")])),
            PathBuf::from("/h/registry/config.json")
        );
        assert_eq!(
            helm_registry_config_path_with(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/home/u")])),
            PathBuf::from("/x/helm/registry/config.json")
        );
    }
}
