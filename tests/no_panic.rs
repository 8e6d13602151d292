//! Bad input never panics: random strings over the characters that matter to each
//! parser (dotenv, shell words, both wildcard dialects, gitignore rules).

use std::path::Path;

use oxtask::run::fingerprint::{for_items, GlobSpec};
use oxtask::taskfile::dotenv;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn string(&mut self, alphabet: &[&str], max: usize) -> String {
        let n = (self.next() % max as u64) as usize;
        (0..n)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize])
            .collect()
    }
}

#[test]
fn dotenv_parser_never_panics() {
    let alphabet = [
        "A", "b", "_", ".", "=", ":", " ", "\t", "\n", "\r", "#", "'", "\"", "\\", "$", "{", "}",
        "(", ")", "export ", "é", "\u{a0}", "\u{85}", "-", "x",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let s = rng.string(&alphabet, 40);
        if let Err(e) = dotenv::parse(s.as_bytes()) {
            assert!(
                e.line >= 1 && e.line <= s.lines().count().max(1) + 1,
                "{s:?}: {e:?}"
            );
        }
    }
    // Invalid UTF-8 too.
    for _ in 0..2_000 {
        let n = (rng.next() % 30) as usize;
        let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        let _ = dotenv::parse(&bytes);
    }
}

#[test]
fn glob_expansion_never_panics() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    for p in ["a/b.txt", "a/.c", "d/e/f", "g h/i"] {
        std::fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
        std::fs::write(root.join(p), p).unwrap();
    }
    let alphabet = [
        "a",
        "b",
        "/",
        "*",
        "**",
        "?",
        "[",
        "]",
        "!",
        "^",
        "-",
        "{",
        "}",
        ",",
        ".",
        "\\",
        "'",
        "\"",
        "$",
        "$X",
        "${",
        "(",
        ")",
        " ",
        ";",
        "|",
        "&",
        "[:alpha:]",
        "[:x",
        "[.",
        "~",
        "#",
        "é",
    ];
    let mut rng = Rng(42);
    for _ in 0..3_000 {
        // Relative and without `..`, so no pattern can walk the whole filesystem.
        let s = format!("a{}", rng.string(&alphabet, 12));
        if s.contains("..") {
            continue;
        }
        let specs = [GlobSpec::include(s.clone())];
        let _ = for_items(root, &specs, false);
        let _ = for_items(root, &specs, true);
    }
}

#[test]
fn gitignore_rules_never_panic() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("s/t")).unwrap();
    for p in ["x.txt", "s/y.txt", "s/t/z.txt"] {
        std::fs::write(root.join(p), p).unwrap();
    }
    let alphabet = [
        "*", "**", "/", "!", "\\", " ", "\\ ", "[", "]", "x", "s", "t", ".txt", "?", "#", "\n",
    ];
    let mut rng = Rng(7);
    for _ in 0..2_000 {
        std::fs::write(root.join(".gitignore"), rng.string(&alphabet, 10)).unwrap();
        std::fs::write(root.join("s/.gitignore"), rng.string(&alphabet, 10)).unwrap();
        let _ = for_items(Path::new(root), &[GlobSpec::include("**/*.txt")], true);
    }
}
