//! `grad-peers`: grad against other automatic-differentiation systems, on the same cases,
//! the same data and the same timing (README.md; the protocol shared with python/suite.py).
//!
//! - `grad-peers`: the orchestrator, the one command; prints the table.
//! - `grad-peers export DIR`: writes the data directory.
//! - `grad-peers run --system NAME --threads N --data DIR`: one runner, JSON lines.

use std::path::PathBuf;
use std::process::ExitCode;

mod cases;
mod check;
mod data;
mod measure;
mod orchestrate;
mod run;
mod systems;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage: grad-peers [export DIR | run --system NAME --threads N --data DIR]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None => orchestrate::main(),
        Some("export") if args.len() == 2 => data::export(&PathBuf::from(&args[1])),
        Some("run") => parse_run(&args[1..])
            .and_then(|(system, threads, dir)| run::main(&system, threads, &dir)),
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("grad-peers: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--system NAME --threads N --data DIR`, in any order, all required.
fn parse_run(args: &[String]) -> Result<(String, usize, PathBuf)> {
    let (mut system, mut threads, mut dir) = (None, None, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(USAGE)?;
        match flag.as_str() {
            "--system" => system = Some(value.clone()),
            "--threads" => threads = Some(value.parse()?),
            "--data" => dir = Some(PathBuf::from(value)),
            _ => return Err(USAGE.into()),
        }
    }
    match (system, threads, dir) {
        (Some(s), Some(t), Some(d)) => Ok((s, t, d)),
        _ => Err(USAGE.into()),
    }
}
