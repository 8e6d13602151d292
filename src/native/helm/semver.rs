//! The two SemVer parsers Helm uses (Masterminds/semver v3): lenient `NewVersion` and
//! `StrictNewVersion`, plus ordering and simple constraints for `pull --version`.

use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub build: String,
    pub original: String,
}

fn num(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

fn ident_list_ok(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

fn split_pre_build(rest: &str) -> Result<(String, String), &'static str> {
    let (core_pre, build) = match rest.split_once('+') {
        Some((a, b)) => {
            if !ident_list_ok(b) {
                return Err("invalid semantic version");
            }
            (a, b.to_string())
        }
        None => (rest, String::new()),
    };
    let pre = match core_pre.strip_prefix('-') {
        Some(p) => {
            if !ident_list_ok(p) {
                return Err("invalid semantic version");
            }
            for id in p.split('.') {
                if id.bytes().all(|b| b.is_ascii_digit()) && id.len() > 1 && id.starts_with('0') {
                    return Err("version segment starts with 0");
                }
            }
            p.to_string()
        }
        None if core_pre.is_empty() => String::new(),
        None => return Err("invalid semantic version"),
    };
    Ok((pre, build))
}

/// `semver.NewVersion`: `v?` prefix, optional minor/patch.
pub fn parse_lenient(v: &str) -> Result<Version, &'static str> {
    let s = v.strip_prefix('v').unwrap_or(v);
    let end = s.find(['-', '+']).unwrap_or(s.len());
    let (core, rest) = s.split_at(end);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return Err("invalid semantic version");
    }
    let mut nums = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        nums[i] = num(p).ok_or("invalid semantic version")?;
    }
    let (pre, build) = split_pre_build(rest)?;
    Ok(Version {
        major: nums[0],
        minor: nums[1],
        patch: nums[2],
        pre,
        build,
        original: v.to_string(),
    })
}

/// `semver.StrictNewVersion`: exactly `X.Y.Z[-pre][+build]`.
pub fn parse_strict(v: &str) -> Result<Version, &'static str> {
    let end = v.find(['-', '+']).unwrap_or(v.len());
    let (core, rest) = v.split_at(end);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 {
        return Err("invalid semantic version");
    }
    let mut nums = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        nums[i] = num(p).ok_or("invalid semantic version")?;
    }
    let (pre, build) = split_pre_build(rest)?;
    Ok(Version {
        major: nums[0],
        minor: nums[1],
        patch: nums[2],
        pre,
        build,
        original: v.to_string(),
    })
}

impl Version {
    pub fn cmp_precedence(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => cmp_pre(&self.pre, &o.pre),
            })
    }
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(n), Ok(m)) => n.cmp(&m),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    _ => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// A constraint for `pull --version` (`""`/`*` = latest stable; otherwise comma/space
/// separated `op version` terms with `=`, `!=`, `>`, `>=`, `<`, `<=`, `~`, `^`).
pub fn satisfies(constraint: &str, v: &Version) -> Result<bool, String> {
    let c = constraint.trim();
    if c.is_empty() || c == "*" {
        return Ok(v.pre.is_empty());
    }
    for alt in c.split("||") {
        let mut all = true;
        let terms = constraint_terms(alt);
        if terms.is_empty() {
            continue;
        }
        for t in terms {
            let (op, ver) = split_op(&t);
            // `1.2.x`, `1.x`, `*` (Masterminds wildcards): a range for `=`, zeros otherwise
            if let Some((lo, hi)) = wildcard_range(ver) {
                let ok = match op {
                    "" | "=" => {
                        v.cmp_precedence(&lo) != Ordering::Less
                            && hi
                                .as_ref()
                                .is_none_or(|h| v.cmp_precedence(h) == Ordering::Less)
                            && v.pre.is_empty()
                    }
                    _ => satisfies(&format!("{op}{}", lo.original), v)?,
                };
                if !ok {
                    all = false;
                    break;
                }
                continue;
            }
            let want =
                parse_lenient(ver).map_err(|_| format!("improper constraint: {constraint}"))?;
            if !v.pre.is_empty() && want.pre.is_empty() {
                all = false;
                break;
            }
            let o = v.cmp_precedence(&want);
            let ok = match op {
                "" | "=" => o == Ordering::Equal,
                "!=" => o != Ordering::Equal,
                ">" => o == Ordering::Greater,
                ">=" | "=>" => o != Ordering::Less,
                "<" => o == Ordering::Less,
                "<=" | "=<" => o != Ordering::Greater,
                "~" | "~>" => o != Ordering::Less && v.major == want.major && v.minor == want.minor,
                "^" => {
                    o != Ordering::Less
                        && if want.major > 0 {
                            v.major == want.major
                        } else if want.minor > 0 {
                            v.major == 0 && v.minor == want.minor
                        } else {
                            v.major == 0 && v.minor == 0 && v.patch == want.patch
                        }
                }
                _ => return Err(format!("improper constraint: {constraint}")),
            };
            if !ok {
                all = false;
                break;
            }
        }
        if all {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The terms of one `||` alternative: separated by commas or spaces, an operator standing
/// alone (`>= 1.19-0`) joined to the version after it, as Masterminds' parser allows.
fn constraint_terms(alt: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending_op: Option<String> = None;
    for tok in alt.split([',', ' ', '\t']).filter(|t| !t.is_empty()) {
        let is_op = tok
            .chars()
            .all(|c| matches!(c, '<' | '>' | '=' | '!' | '~' | '^'));
        if is_op {
            pending_op = Some(pending_op.unwrap_or_default() + tok);
            continue;
        }
        match pending_op.take() {
            Some(op) => out.push(format!("{op}{tok}")),
            None => out.push(tok.to_string()),
        }
    }
    if let Some(op) = pending_op {
        out.push(op);
    }
    out
}

/// A version with `x`/`X`/`*` parts: (lowest version, first version above the range).
fn wildcard_range(ver: &str) -> Option<(Version, Option<Version>)> {
    let core = ver.strip_prefix('v').unwrap_or(ver);
    let parts: Vec<&str> = core.split('.').collect();
    let wild = |p: &str| matches!(p, "x" | "X" | "*");
    let at = parts.iter().position(|p| wild(p))?;
    if parts.len() > 3 || parts[..at].iter().any(|p| p.parse::<u64>().is_err()) {
        return None;
    }
    let nums: Vec<u64> = parts[..at].iter().map(|p| p.parse().unwrap_or(0)).collect();
    let mk = |m: u64, n: u64, p: u64| parse_lenient(&format!("{m}.{n}.{p}")).ok();
    let lo = mk(
        nums.first().copied().unwrap_or(0),
        nums.get(1).copied().unwrap_or(0),
        0,
    )?;
    let hi = match nums.len() {
        0 => None,
        1 => mk(nums[0] + 1, 0, 0),
        _ => mk(nums[0], nums[1] + 1, 0),
    };
    Some((lo, hi))
}

fn split_op(t: &str) -> (&str, &str) {
    for op in ["!=", ">=", "=>", "<=", "=<", "~>", ">", "<", "=", "~", "^"] {
        if let Some(r) = t.strip_prefix(op) {
            return (op, r.trim());
        }
    }
    ("", t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_and_strict() {
        assert!(parse_lenient("1").is_ok());
        assert!(parse_lenient("1.2").is_ok());
        assert!(parse_lenient("v1.2.3").is_ok());
        assert!(parse_lenient("1.2.3-alpha.1+b.5").is_ok());
        assert!(parse_lenient("1.2.3.4").is_err());
        assert!(parse_lenient("01.2.3").is_err());
        assert!(parse_lenient("1.2.3-01").is_err());
        assert!(parse_strict("1.2").is_err());
        assert!(parse_strict("v1.2.3").is_err());
        let a = parse_strict("1.0.0-alpha").unwrap();
        let b = parse_strict("1.0.0").unwrap();
        assert_eq!(a.cmp_precedence(&b), Ordering::Less);
        assert!(satisfies("^1.0.0", &parse_strict("1.4.0").unwrap()).unwrap());
        assert!(!satisfies("^1.0.0", &parse_strict("2.0.0").unwrap()).unwrap());
        assert!(!satisfies("", &a).unwrap());
        // an operator apart from its version (charts write `>= 1.19-0`)
        let k = parse_strict("1.36.0").unwrap();
        assert!(satisfies(">= 1.19-0", &k).unwrap());
        assert!(!satisfies("< 1.8-0", &k).unwrap());
        assert!(satisfies(">= 1.19.0-0, < 2", &k).unwrap());
        assert!(satisfies("1.x", &parse_strict("1.9.0").unwrap()).unwrap());
        assert!(!satisfies("1.2.x", &parse_strict("1.3.0").unwrap()).unwrap());
    }
}
