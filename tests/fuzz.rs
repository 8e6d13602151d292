//! Coverage-free mutation fuzzing on stable Rust, run by `cargo test`: every parser that
//! reads untrusted input (Taskfile YAML + decoder, templates, dotenv, chart YAML, chart
//! archives, OCI references, OCI image layouts, Sigstore bundles and trusted roots, X.509
//! DER, public keys) gets seeds
//! from the repository and mutated variants of them. A panic, or a case running longer
//! than the watchdog allows, fails the test and prints the input (also written under
//! target/fuzz-crashes/ for replay). Every file in tests/fuzz/corpus/TARGET/ (crashers
//! found so far) is replayed on each run.
//!
//! CI runs a fixed seed and a small budget. Long runs: `FUZZ_SECONDS=600 cargo test
//! --release --test fuzz -- --test-threads 1` (per target), `FUZZ_SEED=N` for another seed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens that matter to the targets, spliced in by the mutator.
const DICT: &[&[u8]] = &[
    b"{{",
    b"}}",
    b"(",
    b")",
    b"|",
    b"$x",
    b":=",
    b"range",
    b"end",
    b"if",
    b"else",
    b"with",
    b"define",
    b"template",
    b"block",
    b".",
    b"\"",
    b"'",
    b"`",
    b"\\",
    b"\n",
    b"\t",
    b" ",
    b": ",
    b"- ",
    b"[",
    b"]",
    b"{",
    b"}",
    b"&a",
    b"*a",
    b"<<: *a",
    b"!!str",
    b"!!binary",
    b"---",
    b"...",
    b"#",
    b"%YAML 1.1",
    b"? ",
    b"|-",
    b">+",
    b"=",
    b"export ",
    b"${X}",
    b"\xc3\xa9",
    b"\xff",
    b"\0",
    b"0x",
    b"1e999",
    b"-9223372036854775808",
    b"tasks:",
    b"vars:",
    b"includes:",
    b"cmds:",
    b"sh:",
    b"ref:",
    b"version: '3'",
    b"deps:",
    b"for:",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut d = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(d.len() + 1);
        match rng.below(8) {
            0 if !d.is_empty() => {
                let n = 1 + rng.below(16.min(d.len() - at.min(d.len() - 1)));
                let at = at.min(d.len() - 1);
                d.drain(at..(at + n).min(d.len()));
            }
            1 => {
                let t = DICT[rng.below(DICT.len())];
                d.splice(at..at, t.iter().copied());
            }
            2 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] = rng.next() as u8;
            }
            3 if !d.is_empty() => {
                // Duplicate a chunk (nesting, repetition).
                let s = rng.below(d.len());
                let e = (s + 1 + rng.below(64)).min(d.len());
                let chunk = d[s..e].to_vec();
                d.splice(at..at, chunk);
            }
            4 => {
                // Splice in part of another seed.
                let o = &seeds[rng.below(seeds.len())];
                if !o.is_empty() {
                    let s = rng.below(o.len());
                    let e = (s + 1 + rng.below(128)).min(o.len());
                    d.splice(at..at, o[s..e].iter().copied());
                }
            }
            5 => {
                let t = DICT[rng.below(DICT.len())];
                for _ in 0..1 + rng.below(200) {
                    d.splice(at..at, t.iter().copied());
                }
            }
            6 if !d.is_empty() => d.truncate(rng.below(d.len())),
            _ => {
                let b = rng.next() as u8;
                d.insert(at, b);
            }
        }
    }
    d.truncate(64 * 1024);
    d
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, pred: &dyn Fn(&Path) -> bool, out: &mut Vec<Vec<u8>>, max: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if out.len() >= max {
            return;
        }
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n == "node_modules" || n == "target")
            {
                continue;
            }
            files_under(&p, pred, out, max);
        } else if pred(&p) {
            if let Ok(b) = std::fs::read(&p) {
                if b.len() <= 64 * 1024 {
                    out.push(b);
                }
            }
        }
    }
}

fn replay_corpus(target: &str) -> Vec<Vec<u8>> {
    let mut out = vec![];
    files_under(
        &root().join("tests/fuzz/corpus").join(target),
        &|_| true,
        &mut out,
        10_000,
    );
    out
}

/// Runs `f` over the corpus, the seeds and mutated seeds; panics with the input on a
/// panic or a hang.
fn fuzz(target: &str, seeds: Vec<Vec<u8>>, f: fn(&[u8])) {
    assert!(!seeds.is_empty(), "{target}: no seeds");
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    let secs: Option<u64> = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());
    let iters: u64 = std::env::var("FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let current: Arc<Mutex<Vec<u8>>> = Arc::default();
    let progress = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let (cur, prog, fin) = (current.clone(), progress.clone(), done.clone());
    let corpus = replay_corpus(target);
    let target: &'static str = Box::leak(target.to_string().into_boxed_str());
    let worker = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || -> Result<(), Vec<u8>> {
            let mut rng = Rng(seed ^ target_hash(target));
            let start = Instant::now();
            let mut n: u64 = 0;
            let run = |input: Vec<u8>| -> Result<(), Vec<u8>> {
                *cur.lock().unwrap() = input.clone();
                let r = std::panic::catch_unwind(|| f(&input));
                prog.fetch_add(1, Ordering::Relaxed);
                r.map_err(|_| input)
            };
            for c in corpus.into_iter().chain(seeds.iter().cloned()) {
                run(c)?;
            }
            loop {
                let more = match secs {
                    Some(s) => start.elapsed() < Duration::from_secs(s),
                    None => n < iters,
                };
                if !more {
                    break;
                }
                run(mutate(&mut rng, &seeds))?;
                n += 1;
            }
            fin.store(n, Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
    // Watchdog: a case that makes no progress for this long is a hang.
    let limit = Duration::from_secs(20);
    let mut last = (progress.load(Ordering::Relaxed), Instant::now());
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        let p = progress.load(Ordering::Relaxed);
        if p != last.0 {
            last = (p, Instant::now());
        } else if last.1.elapsed() > limit {
            let input = current.lock().unwrap().clone();
            save(target, "hang", &input);
            panic!(
                "{target}: no progress for {limit:?} on input {:?}",
                shown(&input)
            );
        }
    }
    match worker.join().unwrap() {
        Ok(()) => eprintln!(
            "{target}: {} mutated inputs, no panic, no hang",
            done.load(Ordering::Relaxed)
        ),
        Err(input) => {
            save(target, "panic", &input);
            panic!("{target}: panic on input {:?}", shown(&input));
        }
    }
}

/// The first 2 KiB of an input, for the failure message (the whole one is saved).
fn shown(input: &[u8]) -> String {
    String::from_utf8_lossy(&input[..input.len().min(2048)]).into_owned()
}

fn target_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn save(target: &str, kind: &str, input: &[u8]) {
    let dir = root().join("target/fuzz-crashes");
    let _ = std::fs::create_dir_all(&dir);
    let name = format!(
        "{target}-{kind}-{:016x}",
        target_hash(&String::from_utf8_lossy(input))
    );
    let _ = std::fs::write(dir.join(&name), input);
    eprintln!("saved {}", dir.join(name).display());
}

fn taskfile_seeds() -> Vec<Vec<u8>> {
    let mut s = vec![];
    let is_tf = |p: &Path| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("Taskfile"))
    };
    files_under(
        &root().join("tests/conformance/corpus"),
        &is_tf,
        &mut s,
        400,
    );
    files_under(&root().join("examples"), &is_tf, &mut s, 420);
    s
}

#[test]
fn taskfile_reader_and_decoder() {
    fuzz("taskfile", taskfile_seeds(), |b| {
        let src = String::from_utf8_lossy(b);
        let _ = oxtask::taskfile::parse(&src, Path::new("/fuzz/Taskfile.yml"), "Taskfile.yml");
    });
}

fn template_seeds() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(root().join("tests/templates/vectors.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["template"].as_str().map(|t| t.as_bytes().to_vec()))
        .take(1500)
        .collect()
}

#[test]
fn template_parser_and_executor() {
    fuzz("template", template_seeds(), |b| {
        let src = String::from_utf8_lossy(b);
        if let Ok(t) = oxtask::template::Template::parse(&src) {
            // Execution is bounded only by the template itself (`until 1e9` runs as long as
            // in Go); run those with small numbers only.
            let big = src
                .split(|c: char| !c.is_ascii_digit())
                .any(|d| d.len() > 4);
            let loops = src.matches("range").count() + src.matches("until").count();
            if !big && loops < 4 && !src.contains("repeat") {
                let _ = t.execute(&oxtask::template::Map::new());
            }
        }
    });
}

#[test]
fn dotenv_parser() {
    let seeds = vec![
        b"A=1\nB='two'\nC=\"th\\nree\"\nexport D=${A}x\n# c\nE=`e`\n".to_vec(),
        b"KEY=value # comment\nMULTI=\"a\nb\"\nEMPTY=\n".to_vec(),
    ];
    fuzz("dotenv", seeds, |b| {
        let _ = oxtask::taskfile::dotenv::parse(b);
    });
}

fn chart_files() -> Vec<(String, Vec<u8>)> {
    let dir = root().join("examples/signed-helm-chart/signed-helm-chart");
    let mut out = vec![];
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(&dir).unwrap().display().to_string();
                out.push((format!("mychart/{rel}"), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn chart_yaml() {
    let seeds: Vec<Vec<u8>> = chart_files()
        .into_iter()
        .filter(|(n, _)| n.ends_with(".yaml"))
        .map(|(_, d)| d)
        .collect();
    fuzz("chart_yaml", seeds, |b| {
        let src = String::from_utf8_lossy(b);
        let _ = oxtask::native::helm::yaml::parse(&src);
        let _ = oxtask::native::helm::chart::Metadata::from_yaml(b);
    });
}

/// A gzipped tar of `files`, written with the tar crate (the fuzzer mutates the result).
fn tgz(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    let raw = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &raw).unwrap();
    gz.finish().unwrap()
}

#[test]
fn chart_archive() {
    // Mutating compressed bytes mostly yields gzip errors, so the seeds are the *tar*
    // streams; each case is gzipped before it reaches the loader.
    let files = chart_files();
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in &files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    let raw = b.into_inner().unwrap();
    assert!(!tgz(&files).is_empty());
    fuzz("chart_archive", vec![raw], |t| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, t).unwrap();
        let data = gz.finish().unwrap();
        if let Ok(files) = oxtask::native::helm::loader::archive_files(&data) {
            let _ = oxtask::native::helm::loader::load_files(files, &mut |_| {});
        }
    });
}

#[test]
fn oci_reference() {
    let seeds = [
        "ghcr.io/owner/chart:0.1.0",
        "localhost:5000/a/b/c@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "oci://registry.example.com/charts/app",
        "user:pw@host:1/x:tag",
        "[::1]:5000/x",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    fuzz("oci_reference", seeds, |b| {
        let _ = oxtask::native::oci::reference::Reference::parse(&String::from_utf8_lossy(b));
    });
}

#[test]
fn sigstore_trusted_root_and_keys() {
    let root_json = br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{"baseUrl":"https://rekor.example","hashAlgorithm":"SHA2_256","publicKey":{"rawBytes":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwrkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==","keyDetails":"PKIX_ECDSA_P256_SHA_256","validFor":{"start":"2021-01-12T11:53:27.000Z"}},"logId":{"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="}}],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}"#.to_vec();
    let tuf_root =
        std::fs::read(root().join("src/native/cosign/tuf_public_good_root.json")).unwrap();
    fuzz("sigstore_json", vec![root_json, tuf_root], |b| {
        let _ = oxtask::native::cosign::trust::TrustedRoot::from_json(b);
    });
    // DER: a P-256 SPKI (from the trusted root above) as seed for keys and certificates.
    let spki = base64_decode("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwrkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==");
    fuzz("der", vec![spki], |b| {
        let _ = oxtask::native::cosign::pki::PublicKey::from_spki_der(b);
        let _ = oxtask::native::cosign::pki::Cert::from_der(b);
        let _ = oxtask::native::cosign::pki::Cert::from_pem_chain(b);
    });
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn oci_layout_index_and_manifests() {
    // An OCI image layout as `oci-layout:` references and `--layout` read it: index.json and
    // a manifest blob come from the directory (another's tarball, a shared cache).
    let index = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"annotations":{"org.opencontainers.image.ref.name":"0.1.0"}}]}"#.to_vec();
    let manifest = br#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:00","size":1},"layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"sha256:11","size":3}]}"#.to_vec();
    fuzz("oci_layout", vec![index, manifest], |b| {
        thread_local! {
            static DIR: tempfile::TempDir = tempfile::tempdir().unwrap();
        }
        DIR.with(|d| {
            let root = d.path();
            let _ = std::fs::write(
                root.join("oci-layout"),
                br#"{"imageLayoutVersion":"1.0.0"}"#,
            );
            let _ = std::fs::write(root.join("index.json"), b);
            // The same bytes as the manifest blob the index names.
            let blobs = root.join("blobs/sha256");
            let _ = std::fs::create_dir_all(&blobs);
            let _ = std::fs::write(
                blobs.join("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
                b,
            );
            if let Ok(l) = oxtask::native::oci::Layout::open(root) {
                let _ = l.list_tags();
                let _ = l.get_manifest("0.1.0");
                let _ = l.resolve("0.1.0");
                let _ = l.get_manifest(
                    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                );
            }
        });
    });
}

#[test]
fn cosign_bundle() {
    // A Sigstore bundle as `verify-blob --bundle` and `verify` read it (the parser of
    // sigstore-verify, oxtask's verification core): JSON from the user or the registry.
    let bundle = std::fs::read_dir(root().join("tests/sigstore-conformance/bundle-verify"))
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|e| {
            std::fs::read_dir(e.path())
                .ok()
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n == "bundle.sigstore.json"))
        .take(8)
        .filter_map(|p| std::fs::read(p).ok())
        .collect::<Vec<_>>();
    assert!(
        !bundle.is_empty(),
        "no conformance bundles under tests/sigstore-conformance"
    );
    let seeds = bundle;
    fuzz("cosign_bundle", seeds, |b| {
        let _ = sigstore_verify::types::Bundle::from_json(&String::from_utf8_lossy(b));
    });
}
