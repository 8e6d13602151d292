//! One up-to-date check of a task's sources, as a process: what `task NAME` costs on an
//! up-to-date tree minus the Taskfile handling. Used by bench/bench.py beside go-task.
//!
//! fingerprint_check DIR checksum|timestamp [--loop N]
//!
//! DIR is gen.py's `sources` workload (`src/**/*.txt` → `out-<method>.txt`, state in
//! DIR/.task). Exit 0 when up to date, 1 when not. `--loop N` repeats the check
//! in-process and prints the median in ms.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use oxtask::run::fingerprint::{Fingerprint, GlobSpec, Method};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: fingerprint_check DIR checksum|timestamp [--loop N]");
        return ExitCode::from(2);
    }
    let dir = match std::fs::canonicalize(&args[0]) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{}: {e}", args[0]);
            return ExitCode::from(2);
        }
    };
    let name = args[1].as_str();
    let method = Method::from_name(name);
    let loops: Option<usize> = args
        .iter()
        .position(|a| a == "--loop")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok());
    let sources = vec![GlobSpec::include("src/**/*.txt")];
    let generates = vec![GlobSpec::include(format!("out-{name}.txt"))];
    let temp: PathBuf = dir.join(".task");
    let fp = Fingerprint {
        task: name,
        name,
        dir: &dir,
        sources: &sources,
        generates: &generates,
        method: &method,
        temp_dir: &temp,
        dry: false,
        use_gitignore: false,
    };
    let check = || match fp.is_up_to_date() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Some(n) = loops {
        let mut times: Vec<f64> = (0..n.max(1))
            .map(|_| {
                let t = Instant::now();
                check();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{name}: median {:.2} ms, min {:.2} ms over {} in-process checks",
            times[times.len() / 2],
            times[0],
            times.len()
        );
        return ExitCode::SUCCESS;
    }
    if check() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
