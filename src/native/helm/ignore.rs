//! `.helmignore` with Helm's own semantics (not gitignore's): rules are tried in order, the
//! first decisive one wins, and a negated rule ignores every path it does NOT match.

/// Go's `filepath.ErrBadPattern` text.
pub const BAD_PATTERN: &str = "syntax error in pattern";

#[derive(Debug, Clone)]
struct Pattern {
    raw: String,
    rule: String,
    negate: bool,
    must_dir: bool,
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Rooted,
    Path,
    Base,
}

/// A parsed `.helmignore`.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

impl Rules {
    /// Parses the file contents (BOM stripped from the first line).
    pub fn parse(text: &[u8]) -> Result<Rules, String> {
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        let text = String::from_utf8_lossy(text);
        let mut r = Rules::default();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.len() > 64 * 1024 {
                return Err("bufio.Scanner: token too long".into());
            }
            r.add(line)?;
        }
        Ok(r)
    }

    /// Appends Helm's default rule (`templates/.?*`).
    pub fn add_defaults(&mut self) {
        let _ = self.add("templates/.?*");
    }

    fn add(&mut self, rule: &str) -> Result<(), String> {
        let rule = rule.trim_matches(|c: char| c.is_whitespace());
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err("double-star (**) syntax is not supported".into());
        }
        go_match(rule, "abc")?;
        let raw = rule.to_string();
        let mut rule = rule;
        let negate = rule.starts_with('!');
        if negate {
            rule = &rule[1..];
        }
        let must_dir = rule.ends_with('/');
        if must_dir {
            rule = &rule[..rule.len() - 1];
        }
        let (kind, rule) = if let Some(r) = rule.strip_prefix('/') {
            (Kind::Rooted, r)
        } else if rule.contains('/') {
            (Kind::Path, rule)
        } else {
            (Kind::Base, rule)
        };
        self.patterns.push(Pattern {
            raw,
            rule: rule.to_string(),
            negate,
            must_dir,
            kind,
        });
        Ok(())
    }

    /// The raw rule texts, in order.
    pub fn raw_patterns(&self) -> Vec<String> {
        self.patterns.iter().map(|p| p.raw.clone()).collect()
    }

    /// Whether `path` (relative, `/`-separated) is ignored.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for p in &self.patterns {
            let matched = || {
                let name = match p.kind {
                    Kind::Rooted | Kind::Path => path.to_string(),
                    Kind::Base => go_base(path),
                };
                go_match(&p.rule, &name).unwrap_or(false)
            };
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !matched() {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if matched() {
                return true;
            }
        }
        false
    }
}

/// Go `filepath.Base` for `/`-separated paths.
fn go_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// Go `filepath.Match` on Unix, with Go's error text.
pub fn go_match(pattern: &str, name: &str) -> Result<bool, String> {
    crate::gomatch::go_match(pattern, name).map_err(|_| BAD_PATTERN.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_match_basics() {
        assert!(go_match("*.txt", "a.txt").unwrap());
        assert!(!go_match("*.txt", "d/a.txt").unwrap());
        assert!(go_match("a/*/c", "a/b/c").unwrap());
        assert!(go_match("[a-c]x", "bx").unwrap());
        assert!(go_match("[^a-c]x", "dx").unwrap());
        assert!(go_match("\\*", "*").unwrap());
        assert!(go_match("[z-", "abc").is_err());
        assert!(go_match("a?c", "abc").unwrap());
        assert!(!go_match("a?c", "a/c").unwrap());
    }
}
