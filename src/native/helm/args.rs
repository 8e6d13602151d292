//! A small flag parser with Helm's (cobra/pflag) conventions: `--f v`, `--f=v`, `-f v`,
//! `-fv`, bool flags with optional `=true|false`, `--` ends flags.

use std::collections::HashMap;

#[derive(Clone, Copy)]
pub struct FlagSpec {
    pub long: &'static str,
    pub short: Option<char>,
    pub takes_value: bool,
}

pub const fn flag(long: &'static str, short: Option<char>, takes_value: bool) -> FlagSpec {
    FlagSpec {
        long,
        short,
        takes_value,
    }
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub values: HashMap<&'static str, String>,
    /// Every value of each flag, in order (repeatable flags).
    pub multi: HashMap<&'static str, Vec<String>>,
    pub positional: Vec<String>,
}

impl Parsed {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.values.get(k).map(String::as_str)
    }
    pub fn str(&self, k: &str) -> String {
        self.get(k).unwrap_or_default().to_string()
    }
    pub fn bool(&self, k: &str) -> bool {
        matches!(
            self.get(k),
            Some("true") | Some("1") | Some("t") | Some("T") | Some("TRUE") | Some("True")
        )
    }
    /// All values given for a repeatable flag.
    pub fn all(&self, k: &str) -> Vec<String> {
        self.multi.get(k).cloned().unwrap_or_default()
    }
    pub fn has(&self, k: &str) -> bool {
        self.values.contains_key(k)
    }
}

/// Why parsing stopped: an unknown flag (the caller falls through to a real helm) or a
/// usage error (printed as `Error: …`).
#[derive(Debug)]
pub enum ArgError {
    Unknown(String),
    Usage(String),
}

pub fn parse(args: &[String], specs: &[FlagSpec]) -> Result<Parsed, ArgError> {
    let mut p = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            p.positional.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let spec = specs
                .iter()
                .find(|s| s.long == name)
                .ok_or_else(|| ArgError::Unknown(format!("--{name}")))?;
            let v = take_value(spec, inline, args, &mut i, &format!("--{name}"))?;
            p.multi.entry(spec.long).or_default().push(v.clone());
            p.values.insert(spec.long, v);
        } else if a.len() > 1 && a.starts_with('-') {
            let body = &a[1..];
            let chars = body.char_indices();
            for (ci, c) in chars {
                let spec = specs
                    .iter()
                    .find(|s| s.short == Some(c))
                    .ok_or_else(|| ArgError::Unknown(format!("-{c}")))?;
                if spec.takes_value {
                    let rest = &body[ci + c.len_utf8()..];
                    let inline = if rest.is_empty() {
                        None
                    } else {
                        Some(rest.strip_prefix('=').unwrap_or(rest).to_string())
                    };
                    let v = take_value(spec, inline, args, &mut i, &format!("-{c}"))?;
                    p.multi.entry(spec.long).or_default().push(v.clone());
                    p.values.insert(spec.long, v);
                    break;
                }
                p.values.insert(spec.long, "true".into());
            }
        } else {
            p.positional.push(a.clone());
        }
    }
    Ok(p)
}

fn take_value(
    spec: &FlagSpec,
    inline: Option<String>,
    args: &[String],
    i: &mut usize,
    shown: &str,
) -> Result<String, ArgError> {
    if !spec.takes_value {
        return Ok(inline.unwrap_or_else(|| "true".into()));
    }
    if let Some(v) = inline {
        return Ok(v);
    }
    if *i < args.len() {
        *i += 1;
        return Ok(args[*i - 1].clone());
    }
    Err(ArgError::Usage(format!("flag needs an argument: {shown}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let specs = [
            flag("destination", Some('d'), true),
            flag("sign", None, true),
            flag("x", Some('x'), false),
        ];
        let specs = [specs[0], flag("sign", None, false), specs[2]];
        let a: Vec<String> = ["pkg", "-d", "out", "--sign", "-x", "--destination=o2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let p = parse(&a, &specs).unwrap();
        assert_eq!(p.get("destination"), Some("o2"));
        assert!(p.bool("sign"));
        assert!(p.bool("x"));
        assert_eq!(p.positional, vec!["pkg"]);
        assert!(matches!(
            parse(&["--nope".into()], &specs),
            Err(ArgError::Unknown(_))
        ));
        let p = parse(&["-dfoo".into()], &specs).unwrap();
        assert_eq!(p.get("destination"), Some("foo"));
    }
}
