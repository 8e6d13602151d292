//! `host[:port]/repo[:tag][@digest]` references (the ORAS/distribution grammar).

use std::fmt;

/// A parsed reference. `reference` is the tag or digest (empty when neither was given).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]` as written.
    pub registry: String,
    /// Repository path inside the registry, e.g. `charts/nginx`.
    pub repository: String,
    /// Tag (`1.0.0`), digest (`sha256:…`) or empty.
    pub reference: String,
}

impl Reference {
    /// Parses `host/repo[:tag|@digest]`, validating like ORAS (`invalid reference: …`).
    pub fn parse(s: &str) -> Result<Reference, String> {
        let (registry, rest) = s
            .split_once('/')
            .ok_or_else(|| format!("invalid reference: missing repository: {s:?}"))?;
        if let Some((_, host)) = registry.rsplit_once('@') {
            // `user:password@host`: never echo the credential back
            return Err(format!(
                "invalid reference: credentials in a reference are not supported (\"{}@{host}\"); use --username/--password or a registry login",
                registry.split(':').next().unwrap_or("").split('@').next().unwrap_or("")
            ));
        }
        if registry.is_empty() || !valid_registry(registry) {
            return Err(format!("invalid reference: invalid registry {registry:?}"));
        }
        let (repo, reference) = if let Some((repo, dig)) = rest.split_once('@') {
            // repo may still carry a tag in `name:tag@digest`; the digest wins.
            let repo = match repo.rsplit_once(':') {
                Some((r, t)) if !t.contains('/') => r,
                _ => repo,
            };
            if !valid_digest(dig) {
                return Err(format!("invalid reference: invalid digest {dig:?}"));
            }
            (repo, dig.to_string())
        } else if let Some((repo, tag)) = rest.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
            if !valid_tag(tag) {
                return Err(format!("invalid reference: invalid tag {tag:?}"));
            }
            (repo, tag.to_string())
        } else {
            (rest, String::new())
        };
        if !valid_repository(repo) {
            return Err(format!("invalid reference: invalid repository {repo:?}"));
        }
        Ok(Reference {
            registry: registry.to_string(),
            repository: repo.to_string(),
            reference,
        })
    }

    /// True when the reference part is a digest.
    pub fn is_digest(&self) -> bool {
        self.reference.contains(':')
    }

    /// The same repository with another tag or digest.
    pub fn with_reference(&self, r: &str) -> Reference {
        Reference {
            reference: r.to_string(),
            ..self.clone()
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if self.reference.is_empty() {
            Ok(())
        } else if self.is_digest() {
            write!(f, "@{}", self.reference)
        } else {
            write!(f, ":{}", self.reference)
        }
    }
}

fn valid_registry(s: &str) -> bool {
    // host[:port]; IPv6 literals in brackets are accepted as-is.
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
pub fn valid_repository(s: &str) -> bool {
    !s.is_empty() && s.split('/').all(valid_component)
}

fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() {
        return false;
    }
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // separator: ".", "_", "__" or "-+"
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i >= b.len() || !alnum(b[i]) || i == start {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`
pub fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.' || *c == b'-')
}

/// `algorithm:hex`; sha256/sha512 lengths are checked.
pub fn valid_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let len_ok = match alg {
        "sha256" => hex.len() == 64,
        "sha512" => hex.len() == 128,
        _ => !hex.is_empty(),
    };
    len_ok
        && hex
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_refs() {
        let r = Reference::parse("localhost:5000/a/b:1.0_x").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "a/b");
        assert_eq!(r.reference, "1.0_x");
        assert_eq!(r.to_string(), "localhost:5000/a/b:1.0_x");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("h/x@{d}")).unwrap();
        assert!(r.is_digest());
        assert_eq!(r.to_string(), format!("h/x@{d}"));
        assert!(Reference::parse("h/Upper:1").is_err());
        assert!(Reference::parse("h/x:1+2").is_err());
        assert!(Reference::parse("nohost").is_err());
        assert!(valid_repository("a__b/c-d.e"));
        assert!(!valid_repository("a___b"));
        assert!(!valid_repository("-a"));
    }
}
