//! The timing method of the protocol, the same on the Python side: warm up, choose a batch
//! of at least 2 ms, sample batches, report the median time per call.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Measurement time per measured function: `PEERS_SECONDS`, 1 s by default.
pub fn seconds() -> f64 {
    std::env::var("PEERS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// Runs `f` `k` times, each output consumed, and returns the elapsed time.
#[inline(never)]
fn batch<R>(f: &mut impl FnMut() -> R, k: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..k {
        black_box(f());
    }
    start.elapsed()
}

/// The median time of one call of `f` in nanoseconds, and the cores it kept busy: the
/// process's CPU time over the wall time of the sampling phase (`None` where
/// `/proc/self/stat` cannot be read).
///
/// Warm-up: at least 3 calls and 0.2 s. Batch size k: 1, doubled until one batch takes at
/// least 2 ms. Samples (one batch each) until both 20 samples and `seconds` are reached,
/// or 200 samples; the result is the median over samples of batch time / k.
pub fn time<R>(mut f: impl FnMut() -> R, seconds: f64) -> (f64, Option<f64>) {
    let warm = Instant::now();
    let mut calls = 0;
    while calls < 3 || warm.elapsed() < Duration::from_millis(200) {
        black_box(f());
        calls += 1;
    }
    let mut k = 1;
    while batch(&mut f, k) < Duration::from_millis(2) {
        k *= 2;
    }
    let start = Instant::now();
    let cpu = cpu_seconds();
    let mut samples = Vec::new();
    while samples.len() < 200 && (samples.len() < 20 || start.elapsed().as_secs_f64() < seconds) {
        samples.push(batch(&mut f, k).as_secs_f64() * 1e9 / k as f64);
    }
    let wall = start.elapsed().as_secs_f64();
    let cores = cpu.zip(cpu_seconds()).map(|(a, b)| (b - a) / wall);
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let median = if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    };
    (median, cores)
}

/// The CPU time of this process, all its threads, user and system, in seconds: fields 14
/// and 15 of `/proc/self/stat`, in clock ticks of 1/100 s (Linux's `USER_HZ` on every
/// architecture it runs on). Over a sampling phase of a second or more the tick is within
/// 1% of the result.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}
