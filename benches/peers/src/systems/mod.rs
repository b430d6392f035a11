//! The systems of the comparison, each in its own module, and the one place that names
//! them. A system's `run` measures every case it supports through the runner.

use crate::Result;
use crate::check::Computed;
use crate::run::Runner;

mod ad_trait;
mod burn;
mod candle;
mod easy_ml;
mod grad;
mod num_dual;
mod reverse;

/// The Rust systems in table order, and whether each has tensor cases (only those run at
/// more than one thread).
pub const RUST: [(&str, bool); 8] = [
    ("grad", true),
    ("hand", true),
    ("candle", true),
    ("burn", true),
    ("easy-ml", false),
    ("reverse", false),
    ("ad_trait", false),
    ("num-dual", false),
];

/// Measures `system`'s cases.
pub fn run(system: &str, r: &Runner) -> Result<()> {
    match system {
        "grad" => grad::run::<grad::Generated>(r),
        "hand" => grad::run::<grad::Handwritten>(r),
        "candle" => candle::run(r)?,
        "burn" => burn::run(r)?,
        "easy-ml" => easy_ml::run(r),
        "reverse" => reverse::run(r),
        "ad_trait" => ad_trait::run(r),
        "num-dual" => num_dual::run(r),
        _ => return Err(format!("unknown system {system}").into()),
    }
    Ok(())
}

/// A value with scalar gradients, one per differentiated input.
fn scalars(value: f64, grads: &[f64]) -> Computed {
    Computed::new(value, grads.iter().map(|&g| vec![g]).collect())
}
