//! Random differentiable programs of tensors (written by `build.rs` from
//! `src/tensor_generator.rs`), each checked at random points like the scalar ones: derivative
//! values against the primal, forward against reverse mode, and both against central finite
//! differences in every tensor element; for those under `order = 2`, `_hvp` against `_grad`
//! and against central differences of `_grad`. `GRAD_FUZZ_TENSOR_PROGRAMS` and `GRAD_FUZZ_SEED`
//! choose the programs.

/// The generated programs. Random code has unused variables, redundant parentheses and
/// casts, `x - x` and the like: those lints say nothing about the macro here.
#[allow(unused, unused_comparisons, clippy::all, clippy::pedantic)]
mod programs {
    include!(concat!(env!("OUT_DIR"), "/random_tensor_programs.rs"));
}

/// Points per program.
const POINTS: usize = 3;

/// Kinks and jumps (branches, `abs`, `max`, `relu`, `clamp`, `max_axis`, `while` conditions)
/// make a central difference meaningless within a step of them; such points are skipped.
/// Random points are rarely that close to one, so skipping more than this says the
/// finite-difference check has gone blind, which must not pass silently.
const MAX_SKIPPED_FRACTION: f64 = 0.02;

#[test]
fn generated_tensor_derivatives_agree() {
    let cases = programs::cases();
    let report = grad_fuzz::check::check_all(&cases, programs::SEED, POINTS);
    eprintln!(
        "{} tensor programs ({} with stop_gradient: no finite differences), {} points; \
         finite differences: {} compared, {} skipped ({:.3}%); {} failing points; {} \
         programs under order = 2, H v against differences of the gradient: {} compared, {} \
         skipped ({:.3}%)",
        report.programs,
        report.stopped_programs,
        report.points,
        report.fd_checked,
        report.fd_skipped,
        100.0 * report.skipped_fraction(),
        report.failures.len(),
        report.hvp_programs,
        report.hvp_checked,
        report.hvp_skipped,
        100.0 * report.hvp_skipped_fraction(),
    );
    for f in &report.failures {
        eprintln!("{f}");
    }
    assert!(
        report.failures.is_empty(),
        "{} failing points (above)",
        report.failures.len()
    );
    assert!(
        report.skipped_fraction() <= MAX_SKIPPED_FRACTION,
        "{:.2}% of finite-difference comparisons skipped",
        100.0 * report.skipped_fraction()
    );
    assert!(
        report.hvp_skipped_fraction() <= MAX_SKIPPED_FRACTION,
        "{:.2}% of H v comparisons with differences of the gradient skipped",
        100.0 * report.hvp_skipped_fraction()
    );
}
