//! The runner: one system at one thread count. Each case the system supports is checked
//! against grad's results, then timed, and reported as one JSON line on stdout.

use std::path::Path;

use serde_json::json;

use crate::Result;
use crate::cases::is_scalar;
use crate::check::{Computed, check};
use crate::data::{self, Case};
use crate::measure;
use crate::systems;

/// What the cases of one run share: the data, the thread count, the filters.
pub struct Runner {
    system: String,
    threads: usize,
    seconds: f64,
    only: Option<Vec<String>>,
    cases: Vec<Case>,
}

impl Runner {
    /// The case `name` if this run measures it: present in the data, allowed by
    /// `PEERS_CASES`, and not a scalar case at more than one thread.
    pub fn case(&self, name: &str) -> Option<&Case> {
        if is_scalar(name) && self.threads != 1 {
            return None;
        }
        if let Some(only) = &self.only
            && !only.iter().any(|c| c == name)
        {
            return None;
        }
        self.cases.iter().find(|c| c.name == name)
    }

    /// Checks and times one case: `gradient` is called once and its result, seen through
    /// `view`, is checked against grad's; if it agrees, `primal` and `gradient` are timed.
    pub fn measure<P, G>(
        &self,
        case: &Case,
        primal: impl FnMut() -> P,
        mut gradient: impl FnMut() -> G,
        view: impl Fn(&G) -> Computed,
    ) {
        let got = view(&gradient());
        let line = match check(&got, &case.expected, &case.wrt) {
            Ok(err) => {
                eprintln!("{} {}: agrees ({err:.1e}), timing", self.system, case.name);
                let (primal_ns, _) = measure::time(primal, self.seconds);
                let (grad_ns, grad_cores) = measure::time(gradient, self.seconds);
                json!({
                    "case": case.name, "system": self.system, "threads": self.threads,
                    "primal_ns": primal_ns, "grad_ns": grad_ns, "grad_cores": grad_cores,
                    "agree": true, "detail": format!("max rel err {err:.0e}"),
                })
            }
            Err(detail) => {
                eprintln!("{} {}: DISAGREES: {detail}", self.system, case.name);
                json!({
                    "case": case.name, "system": self.system, "threads": self.threads,
                    "primal_ns": null, "grad_ns": null,
                    "agree": false, "detail": detail,
                })
            }
        };
        println!("{line}");
    }
}

/// `grad-peers run --system NAME --threads N --data DIR`.
pub fn main(system: &str, threads: usize, dir: &Path) -> Result<()> {
    // grad, and candle's matmul, use rayon's global pool.
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()?;
    let only = std::env::var("PEERS_CASES")
        .ok()
        .map(|s| s.split(',').map(|c| c.trim().to_string()).collect());
    let runner = Runner {
        system: system.to_string(),
        threads,
        seconds: measure::seconds(),
        only,
        cases: data::load(dir)?,
    };
    systems::run(system, &runner)
}
