//! The orchestrator, the one command: exports the data, runs every system at 1 then 2
//! threads in a process of its own, and prints the table (also written to
//! `target/results.md`).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::Result;
use crate::cases::{self, is_scalar};
use crate::data;
use crate::systems::RUST;

/// The Python systems of `python/suite.py`, each with the module it needs.
const PYTHON: [(&str, &str); 2] = [("torch", "torch"), ("jax", "jax")];

/// One line of a runner's output.
struct Row {
    case: String,
    system: String,
    threads: usize,
    primal_ns: Option<f64>,
    grad_ns: Option<f64>,
    /// CPU time over wall time while the gradient was timed: the cores it kept busy.
    grad_cores: Option<f64>,
    agree: bool,
    detail: String,
}

impl Row {
    fn parse(line: &str) -> Result<Row> {
        let v: Value = serde_json::from_str(line)?;
        let text = |k: &str| v[k].as_str().map(str::to_string).ok_or(format!("no {k}"));
        Ok(Row {
            case: text("case")?,
            system: text("system")?,
            threads: v["threads"].as_u64().ok_or("no threads")? as usize,
            primal_ns: v["primal_ns"].as_f64(),
            grad_ns: v["grad_ns"].as_f64(),
            grad_cores: v["grad_cores"].as_f64(),
            agree: v["agree"].as_bool().ok_or("no agree")?,
            detail: text("detail").unwrap_or_default(),
        })
    }
}

/// A comma-separated list from the environment, if set.
fn env_list(name: &str) -> Option<Vec<String>> {
    let v = std::env::var(name).ok()?;
    Some(v.split(',').map(|s| s.trim().to_string()).collect())
}

/// Runs one runner process with the thread variables of the protocol set to `threads`;
/// returns its rows, or why there are none.
fn spawn(mut cmd: Command, threads: usize) -> std::result::Result<Vec<Row>, String> {
    for var in [
        "RAYON_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        // matrixmultiply's own pool (burn's ndarray matmul); it defaults to the core count.
        "MATMUL_NUM_THREADS",
    ] {
        cmd.env(var, threads.to_string());
    }
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut rows = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        rows.push(Row::parse(line).map_err(|e| format!("bad line {line:?}: {e}"))?);
    }
    if !out.status.success() {
        return Err(format!("{} (after {} rows)", out.status, rows.len()));
    }
    Ok(rows)
}

/// The Python interpreter: `$PEERS_PYTHON`, else `python3` on PATH.
fn python() -> String {
    std::env::var("PEERS_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// `Ok` if `python` can import `module`, else why not.
fn importable(python: &str, module: &str) -> std::result::Result<(), String> {
    let status = Command::new(python)
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(_) => Err(format!("{python} cannot import {module}")),
        Err(_) => Err(format!("no {python}")),
    }
}

pub fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target").join("data");
    eprintln!("exporting the data to {}", dir.display());
    data::export(&dir)?;
    let exe = std::env::current_exe()?;
    let only_systems = env_list("PEERS_SYSTEMS");
    let only_cases = env_list("PEERS_CASES");
    let wanted = |s: &str| {
        only_systems
            .as_ref()
            .is_none_or(|o| o.iter().any(|x| x == s))
    };

    let python = python();
    let suite = root.join("python").join("suite.py");
    let mut missing = Vec::new();
    let mut python_systems = Vec::new();
    for (system, module) in PYTHON.into_iter().filter(|(s, _)| wanted(s)) {
        let why = if suite.exists() {
            importable(&python, module).err()
        } else {
            Some(format!("{} is missing", suite.display()))
        };
        match why {
            None => python_systems.push(system),
            Some(why) => missing.push(format!("{system} ({why})")),
        }
    }

    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for threads in [1, 2] {
        let mut runs: Vec<(&str, Command)> = Vec::new();
        for (system, tensor) in RUST {
            if wanted(system) && (threads == 1 || tensor) {
                let mut cmd = Command::new(&exe);
                cmd.args(["run", "--system", system, "--threads", &threads.to_string()])
                    .arg("--data")
                    .arg(&dir);
                runs.push((system, cmd));
            }
        }
        for &system in &python_systems {
            let mut cmd = Command::new(&python);
            cmd.arg(&suite)
                .args(["--system", system, "--threads", &threads.to_string()])
                .arg("--data")
                .arg(&dir);
            if let Some(cases) = &only_cases {
                cmd.args(["--cases", &cases.join(",")]);
            }
            runs.push((system, cmd));
        }
        for (system, cmd) in runs {
            eprintln!("running {system} at {threads} thread(s)");
            match spawn(cmd, threads) {
                Ok(r) => rows.extend(r),
                Err(e) => failures.push(format!("{system} at {threads} thread(s) failed: {e}")),
            }
        }
    }

    rows.retain(|r| {
        only_cases.as_ref().is_none_or(|o| o.contains(&r.case))
            && (r.threads == 1 || !is_scalar(&r.case))
    });
    let table = render(rows, &missing, &failures);
    print!("{table}");
    let results = root.join("target").join("results.md");
    fs::write(&results, &table)?;
    eprintln!("written to {}", results.display());
    Ok(())
}

/// The table order: threads, then case, then system (Rust systems first, then Python).
fn order(rows: &mut [Row]) {
    let case_rank = |c: &str| {
        cases::ALL
            .iter()
            .position(|&x| x == c)
            .unwrap_or(usize::MAX)
    };
    let system_rank = |s: &str| {
        let names = RUST.iter().map(|r| r.0).chain(PYTHON.iter().map(|p| p.0));
        names.into_iter().position(|x| x == s).unwrap_or(usize::MAX)
    };
    rows.sort_by_key(|r| (r.threads, case_rank(&r.case), system_rank(&r.system)));
}

/// A time in nanoseconds with three significant digits and a unit.
fn time(ns: f64) -> String {
    let (v, unit) = match ns {
        n if n < 1e3 => (n, "ns"),
        n if n < 1e6 => (n / 1e3, "us"),
        n if n < 1e9 => (n / 1e6, "ms"),
        n => (n / 1e9, "s"),
    };
    match v {
        v if v < 10.0 => format!("{v:.2} {unit}"),
        v if v < 100.0 => format!("{v:.1} {unit}"),
        v => format!("{v:.0} {unit}"),
    }
}

/// The markdown table, then the machine, the date and what did not run.
fn render(mut rows: Vec<Row>, missing: &[String], failures: &[String]) -> String {
    order(&mut rows);
    let grad_of = |case: &str, threads: usize| {
        rows.iter()
            .find(|r| r.system == "grad" && r.case == case && r.threads == threads)
            .and_then(|r| r.grad_ns)
    };
    let header = [
        "case",
        "system",
        "threads",
        "primal",
        "gradient",
        "gradient/primal",
        "gradient vs grad",
        "cores busy",
    ];
    let mut cells: Vec<[String; 8]> = Vec::new();
    for r in &rows {
        let (primal, gradient, ratio, vs) = match (r.agree, r.primal_ns, r.grad_ns) {
            (true, Some(p), Some(g)) => (
                time(p),
                time(g),
                format!("{:.2}", g / p),
                grad_of(&r.case, r.threads).map_or("-".to_string(), |b| format!("{:.2}x", g / b)),
            ),
            _ => (
                format!("WRONG GRADIENT: {}", r.detail),
                String::new(),
                String::new(),
                String::new(),
            ),
        };
        cells.push([
            r.case.clone(),
            r.system.clone(),
            r.threads.to_string(),
            primal,
            gradient,
            ratio,
            vs,
            r.grad_cores.map_or(String::new(), |c| format!("{c:.2}")),
        ]);
    }
    let mut width = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = (cells.iter().zip(&width))
            .map(|(c, &w)| format!("{c:<w$}"))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(&header.map(String::from));
    out += &line(&width.map(|w| "-".repeat(w)));
    for row in &cells {
        out += &line(row);
    }
    let _ = writeln!(out, "\n{}", machine());
    if !missing.is_empty() {
        let _ = writeln!(out, "\nNot installed: {}.", missing.join("; "));
    }
    for f in failures {
        let _ = writeln!(out, "\nFailed: {f}.");
    }
    out
}

/// The CPU model, the number of cores, the OS and the date (UTC).
fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = (cpuinfo.lines())
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let os_release = fs::read_to_string("/etc/os-release").unwrap_or_default();
    let os = (os_release.lines())
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map_or(std::env::consts::OS.to_string(), |s| {
            s.trim_matches('"').to_string()
        });
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "Machine: {model}, {cores} cores, {os} (Linux {}); {}.",
        kernel.trim(),
        today()
    )
}

/// Today's date and time in UTC, `YYYY-MM-DD HH:MM UTC`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}
