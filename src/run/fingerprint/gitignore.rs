//! `use_gitignore`: drops sources that git would ignore, with the rules go-task applies
//! (go-git's gitignore matcher):
//! - the repository root is the nearest ancestor of the task dir holding a `.git` entry;
//!   without one nothing is filtered;
//! - every `.gitignore` from the root down to each candidate's directory is read, the
//!   shallow ones first, so deeper files (and later lines) take precedence, and a `!rule`
//!   can re-include what a shallower file ignored;
//! - a file under an ignored directory stays ignored whatever deeper rules say.
//!
//! Patterns are matched per path element with Go's `filepath.Match`; `**` spans
//! directories; a trailing `/` restricts to directories; a rule with a `/` is anchored to
//! its `.gitignore`'s directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::pattern::go_match;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    NoMatch,
    Exclude,
    Include,
}

#[derive(Debug, Clone)]
struct Rule {
    domain: Vec<String>,
    pattern: Vec<String>,
    inclusion: bool,
    dir_only: bool,
    anchored: bool,
}

impl Rule {
    fn parse(line: &str, domain: &[String]) -> Rule {
        let mut p = line;
        let mut inclusion = false;
        if let Some(rest) = p.strip_prefix('!') {
            inclusion = true;
            p = rest;
        }
        if !p.ends_with("\\ ") {
            p = p.trim_end_matches(' ');
        }
        let mut dir_only = false;
        if let Some(rest) = p.strip_suffix('/') {
            dir_only = true;
            p = rest;
        }
        Rule {
            domain: domain.to_vec(),
            anchored: p.contains('/'),
            pattern: p.split('/').map(str::to_string).collect(),
            inclusion,
            dir_only,
        }
    }

    fn verdict(&self, path: &[&str], is_dir: bool) -> Verdict {
        if path.len() <= self.domain.len() {
            return Verdict::NoMatch;
        }
        if self.domain.iter().zip(path).any(|(d, p)| d != p) {
            return Verdict::NoMatch;
        }
        let path = &path[self.domain.len()..];
        let hit = if self.anchored {
            self.glob_match(path, is_dir)
        } else {
            self.name_match(path, is_dir)
        };
        match (hit, self.inclusion) {
            (false, _) => Verdict::NoMatch,
            (true, true) => Verdict::Include,
            (true, false) => Verdict::Exclude,
        }
    }

    /// A rule without `/` matches any element of the path.
    fn name_match(&self, path: &[&str], is_dir: bool) -> bool {
        for (i, name) in path.iter().enumerate() {
            match go_match(&self.pattern[0], name) {
                Err(_) => return false,
                Ok(false) => continue,
                Ok(true) => {}
            }
            if self.dir_only && !is_dir && i == path.len() - 1 {
                return false;
            }
            return true;
        }
        false
    }

    fn glob_match(&self, mut path: &[&str], is_dir: bool) -> bool {
        let mut matched = false;
        let mut can_traverse = false;
        for (i, pat) in self.pattern.iter().enumerate() {
            if pat.is_empty() {
                can_traverse = false;
                continue;
            }
            if pat == "**" {
                if i == self.pattern.len() - 1 {
                    break;
                }
                can_traverse = true;
                continue;
            }
            if pat.contains("**") {
                return false;
            }
            if path.is_empty() {
                return false;
            }
            if can_traverse {
                can_traverse = false;
                while let Some((first, rest)) = path.split_first() {
                    path = rest;
                    match go_match(pat, first) {
                        Err(_) => return false,
                        Ok(true) => {
                            matched = true;
                            break;
                        }
                        Ok(false) if path.is_empty() => matched = false,
                        Ok(false) => {}
                    }
                }
            } else {
                match go_match(pat, path[0]) {
                    Ok(true) => {}
                    _ => return false,
                }
                matched = true;
                path = &path[1..];
            }
        }
        if matched && self.dir_only && !is_dir && path.is_empty() {
            matched = false;
        }
        matched
    }
}

/// The last rule with an opinion decides.
fn is_excluded(rules: &[Rule], path: &[&str], is_dir: bool) -> bool {
    for r in rules.iter().rev() {
        match r.verdict(path, is_dir) {
            Verdict::NoMatch => continue,
            v => return v == Verdict::Exclude,
        }
    }
    false
}

fn is_ignored(rules: &[Rule], segments: &[&str]) -> bool {
    (1..segments.len()).any(|i| is_excluded(rules, &segments[..i], true))
        || is_excluded(rules, segments, false)
}

/// The `.gitignore` lines of `dir` that are rules (no blanks, no comments).
fn read_rules_lines(dir: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read(dir.join(".gitignore")) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&text)
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The nearest ancestor of `dir` (itself included) holding `.git`.
pub fn find_repo_root(dir: &Path) -> Option<PathBuf> {
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if std::fs::metadata(d.join(".git")).is_ok() {
            return Some(d.to_path_buf());
        }
        cur = d.parent();
    }
    None
}

/// Segments of `path` below `root`, when it is inside.
fn rel_segments<'a>(root: &Path, path: &'a Path) -> Option<Vec<&'a str>> {
    let rel = path.strip_prefix(root).ok()?;
    rel.iter().map(|s| s.to_str()).collect()
}

/// Keeps the entries of `files` (absolute, clean paths) that git would not ignore.
/// `keep[i]` is cleared for ignored files. `abs_dir` is the task's directory.
pub fn filter(abs_dir: &Path, files: &[&Path], keep: &mut [bool]) {
    let Some(root) = find_repo_root(abs_dir) else {
        return;
    };
    let mut dirs: BTreeSet<(usize, PathBuf)> = BTreeSet::new();
    for (i, f) in files.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        let mut d = f.parent();
        while let Some(dir) = d {
            if !dir.starts_with(&root) {
                break;
            }
            if !dirs.insert((dir.components().count(), dir.to_path_buf())) {
                break;
            }
            if dir == root {
                break;
            }
            d = dir.parent();
        }
    }
    let mut rules = Vec::new();
    for (_, d) in &dirs {
        let lines = read_rules_lines(d);
        if lines.is_empty() {
            continue;
        }
        let domain: Vec<String> = match rel_segments(&root, d) {
            Some(s) => s.into_iter().map(str::to_string).collect(),
            None => continue,
        };
        for l in &lines {
            rules.push(Rule::parse(l, &domain));
        }
    }
    if rules.is_empty() {
        return;
    }
    for (i, f) in files.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        if let Some(segs) = rel_segments(&root, f) {
            if !segs.is_empty() && is_ignored(&rules, &segs) {
                keep[i] = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lines: &[(&str, &[&str])]) -> Vec<Rule> {
        lines
            .iter()
            .map(|(l, d)| Rule::parse(l, &d.iter().map(|s| s.to_string()).collect::<Vec<_>>()))
            .collect()
    }

    fn ignored(r: &[Rule], p: &str) -> bool {
        is_ignored(r, &p.split('/').collect::<Vec<_>>())
    }

    #[test]
    fn simple_names_match_anywhere() {
        let r = rules(&[("*.log", &[]), ("build/", &[])]);
        assert!(ignored(&r, "a.log"));
        assert!(ignored(&r, "x/y/a.log"));
        assert!(ignored(&r, "build/out.txt"));
        assert!(!ignored(&r, "build"), "dir-only rule does not hit a file");
        assert!(!ignored(&r, "src/main.rs"));
    }

    #[test]
    fn negation_across_files_and_domains() {
        // gitignore_negation: root ignores *.log, sub/.gitignore re-includes debug.log.
        let r = rules(&[("*.log", &[]), ("!debug.log", &["sub"])]);
        assert!(!ignored(&r, "sub/debug.log"));
        assert!(ignored(&r, "sub/other.log"));
        assert!(
            ignored(&r, "debug.log"),
            "the negation only applies under sub/"
        );
    }

    #[test]
    fn ignored_dir_cannot_be_reincluded() {
        let r = rules(&[("out/", &[]), ("!out/keep.txt", &[])]);
        assert!(ignored(&r, "out/keep.txt"));
    }

    #[test]
    fn anchored_and_double_star() {
        let r = rules(&[("/top.txt", &[]), ("docs/**/*.md", &[]), ("a/**", &[])]);
        assert!(ignored(&r, "top.txt"));
        assert!(!ignored(&r, "x/top.txt"));
        assert!(ignored(&r, "docs/x/y/z.md"));
        assert!(ignored(&r, "docs/z.md"));
        assert!(ignored(&r, "a/b/c"));
    }

    #[test]
    fn filter_uses_repo_root_and_nested_files() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join(".gitignore"), "ignored.txt\n# comment\n\n").unwrap();
        std::fs::write(root.join("sub/.gitignore"), "secret.dat\n").unwrap();
        let files = [
            root.join("source.txt"),
            root.join("ignored.txt"),
            root.join("sub/secret.dat"),
            root.join("sub/keep.txt"),
        ];
        let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
        let mut keep = vec![true; 4];
        filter(&root, &refs, &mut keep);
        assert_eq!(keep, vec![true, false, false, true]);

        std::fs::remove_dir(root.join(".git")).unwrap();
        let mut keep = vec![true; 4];
        filter(&root, &refs, &mut keep);
        assert_eq!(keep, vec![true; 4], "no repository, no filtering");
    }
}
