//! The checker: runs a program's primal and its three generated derivatives at random points
//! and holds them to each other (exactly, up to rounding) and to finite differences.
//!
//! Every program is reached through one flat calling convention, [`Case`]: its scalar
//! parameters come from `Input::x` in declaration order, its slice (if any) from `Input::v`,
//! its tensors (if any) from `Input::t` in declaration order, its `usize` (if any) from
//! `Input::k`. Gradients and tangents are flat too: the scalars' components first, then the
//! slice's, then each tensor's elements in row-major order.

use crate::generator::{MAX_INDEX, MAX_LEN, MIN_LEN, PARAM_BOUND};
use crate::rng::Rng;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A test point.
#[derive(Clone, Debug)]
pub struct Input {
    pub x: Vec<f64>,
    pub v: Vec<f64>,
    /// Each tensor parameter's elements, row-major (its shape is the case's).
    pub t: Vec<Vec<f64>>,
    pub k: usize,
}

impl Input {
    /// The number of differentiated coordinates.
    fn dim(&self) -> usize {
        self.x.len() + self.v.len() + self.t.iter().map(Vec::len).sum::<usize>()
    }

    /// The flat coordinate `i`, as a place.
    fn coord_mut(&mut self, mut i: usize) -> &mut f64 {
        if i < self.x.len() {
            return &mut self.x[i];
        }
        i -= self.x.len();
        if i < self.v.len() {
            return &mut self.v[i];
        }
        i -= self.v.len();
        for t in &mut self.t {
            if i < t.len() {
                return &mut t[i];
            }
            i -= t.len();
        }
        panic!("coordinate out of range")
    }

    fn coord(&self, i: usize) -> f64 {
        *self.clone().coord_mut(i)
    }

    fn with_coord(&self, i: usize, value: f64) -> Input {
        let mut p = self.clone();
        *p.coord_mut(i) = value;
        p
    }
}

/// A tensor of `shape` holding `data` (for the generated adapters).
pub fn tensor(data: &[f64], shape: &[usize]) -> grad::Tensor<f64> {
    grad::Tensor::from_vec(data.to_vec(), shape).expect("data of the shape's size")
}

/// A program's `_hvp` behind the flat calling convention: value, gradient and `H d` for a
/// flat direction `d`.
pub type Hvp = fn(&Input, &[f64]) -> (f64, Vec<f64>, Vec<f64>);

/// One generated program behind the flat calling convention.
pub struct Case {
    pub name: &'static str,
    /// The program's source and that of every program it calls.
    pub source: &'static str,
    pub scalars: usize,
    pub slice: bool,
    /// The shapes of the tensor parameters, in declaration order.
    pub tensors: &'static [&'static [usize]],
    pub index: bool,
    /// Rounds a differentiated value through `f32`: checked with [`RELAXED`].
    pub relaxed: bool,
    /// Calls `grad::stop_gradient`: not compared with finite differences, which see through it.
    pub stops: bool,
    pub primal: fn(&Input) -> f64,
    pub grad: fn(&Input) -> (f64, Vec<f64>),
    /// Value and the pullback applied to the cotangent `w`.
    pub vjp: fn(&Input, f64) -> (f64, Vec<f64>),
    /// Value and the directional derivative along a flat tangent.
    pub jvp: fn(&Input, &[f64]) -> (f64, f64),
    /// For programs under `#[differentiable(order = 2)]`: value, gradient and the Hessian
    /// times a flat direction, from `_hvp`.
    pub hvp: Option<Hvp>,
}

/// How close is close enough, and the finite-difference step.
#[derive(Clone, Copy, Debug)]
pub struct Tolerances {
    /// Forward against reverse mode, relative: both are exact derivatives of the same
    /// floating-point program, differing only in the order of rounding.
    pub consistency: f64,
    /// Relative step `h` (times `max(1, |x|)`) of the central difference; `h / 4` is the second.
    pub step: f64,
    /// The two differences must agree this closely (relative) for the point to be trusted.
    pub agree: f64,
    /// The gradient must match the extrapolated difference this closely (relative).
    pub fd: f64,
}

/// For programs computed entirely in `f64`.
///
/// - `consistency = 1e-10`: a derivative is a sum of products of partials; the two modes
///   round in different orders, so they differ by a few ulp of the largest term. Terms stay
///   below ~10^3 here (bounded programs), so 1e-10 leaves a factor of ~10^3 above that while
///   any real error (a dropped or doubled term) is of the order of the derivative itself.
/// - `step = 1e-5`: a central difference `D(h)` errs by `h² |f'''| / 6` (truncation) plus
///   about `eps |f| / h` (rounding). At `h = 1e-5` and `h/4` the rounding part is below
///   `1e-10 |f|` and truncation below `2e-11 |f'''|`.
/// - `agree = 1e-7`: `D(h) - D(h/4)` is `15/16` of `D(h)`'s truncation error plus both
///   rounding errors. When it is below 1e-7 (relative), the Richardson value
///   `D(h/4) + (D(h/4) - D(h)) / 15` is within about 1e-8 of the derivative. Across a kink
///   or a jump (a branch, `abs`, `max`, `relu`, `clamp`, a rounding) the two differ by far
///   more, and the point is skipped for that coordinate: a difference there is no derivative.
/// - `fd = 1e-6`: ten times the worst error of a trusted difference; a wrong derivative
///   rule, a lost adjoint contribution or a wrong branch is off by O(1) relative.
pub const EXACT: Tolerances = Tolerances {
    consistency: 1e-10,
    step: 1e-5,
    agree: 1e-7,
    fd: 1e-6,
};

/// For programs that round a differentiated value through `f32` (`e as f32 ...`).
///
/// Their primal is piecewise constant at the scale of `f32`'s ulp (`6e-8` relative), and
/// their derivative is computed partly in `f32`. The two modes then agree only to `f32`
/// rounding (`consistency = 1e-5`); differences need a large step (`1e-2`) for that noise,
/// about `1e-7 / 2.5e-3 = 4e-5` relative, to stay small, and are held to `1e-3`/`1e-2`:
/// coarse, but a wrong rule is still off by O(1).
pub const RELAXED: Tolerances = Tolerances {
    consistency: 1e-5,
    step: 1e-2,
    agree: 1e-3,
    fd: 1e-2,
};

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    pub programs: usize,
    pub relaxed_programs: usize,
    /// Programs with `stop_gradient`, checked only for forward/reverse consistency.
    pub stopped_programs: usize,
    pub points: usize,
    /// Coordinates compared against a trusted finite difference.
    pub fd_checked: usize,
    /// Coordinates where the two differences disagreed (a kink or jump nearby): not compared.
    pub fd_skipped: usize,
    /// Programs whose `_hvp` is checked (`order = 2`).
    pub hvp_programs: usize,
    /// Components of `H v` compared against a trusted difference of the gradient along `v`.
    pub hvp_checked: usize,
    /// Components where the two differences of the gradient disagreed: not compared.
    pub hvp_skipped: usize,
    pub failures: Vec<String>,
}

impl Report {
    /// The fraction of finite-difference comparisons skipped.
    pub fn skipped_fraction(&self) -> f64 {
        self.fd_skipped as f64 / (self.fd_checked + self.fd_skipped).max(1) as f64
    }

    /// The fraction of `H v` components not compared with differences of the gradient.
    pub fn hvp_skipped_fraction(&self) -> f64 {
        self.hvp_skipped as f64 / (self.hvp_checked + self.hvp_skipped).max(1) as f64
    }
}

/// A random point: scalars, slice and tensor elements in `[-PARAM_BOUND, PARAM_BOUND]`, a slice of
/// `MIN_LEN..=MAX_LEN` elements, `k` in `0..=MAX_INDEX`.
pub fn random_input(case: &Case, rng: &mut Rng) -> Input {
    let x = (0..case.scalars)
        .map(|_| rng.uniform(-PARAM_BOUND, PARAM_BOUND))
        .collect();
    let v = if case.slice {
        let n = rng.between(MIN_LEN, MAX_LEN);
        (0..n)
            .map(|_| rng.uniform(-PARAM_BOUND, PARAM_BOUND))
            .collect()
    } else {
        Vec::new()
    };
    let t = case
        .tensors
        .iter()
        .map(|shape| {
            (0..shape.iter().product::<usize>())
                .map(|_| rng.uniform(-PARAM_BOUND, PARAM_BOUND))
                .collect()
        })
        .collect();
    let k = if case.index {
        rng.between(0, MAX_INDEX)
    } else {
        0
    };
    Input { x, v, t, k }
}

/// Checks every case at `points` random points each, derived from `seed`.
pub fn check_all(cases: &[Case], seed: u64, points: usize) -> Report {
    let mut report = Report::default();
    for (i, case) in cases.iter().enumerate() {
        report.programs += 1;
        report.relaxed_programs += usize::from(case.relaxed);
        report.stopped_programs += usize::from(case.stops);
        report.hvp_programs += usize::from(case.hvp.is_some());
        let mut rng = Rng::new(seed ^ (i as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
        // The directions of `_hvp`'s checks come from a stream of their own, so that the
        // points and the first-order checks are those of a run without `order = 2`.
        let mut hvp_rng = Rng::new(seed ^ (i as u64 + 1).wrapping_mul(0x9FB2_1C65_1E98_DF25));
        for p in 0..points {
            let input = random_input(case, &mut rng);
            report.points += 1;
            let mut problems = Vec::new();
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                check_point(case, &input, &mut rng, &mut report, &mut problems);
                if let Some(hvp) = case.hvp {
                    check_hvp(case, hvp, &input, &mut hvp_rng, &mut report, &mut problems);
                }
            }));
            if let Err(panic) = outcome {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                problems.push(format!("panicked: {msg}"));
            }
            if !problems.is_empty() {
                report
                    .failures
                    .push(describe(case, &input, p, seed, &problems));
            }
        }
    }
    report
}

/// The failure text: what went wrong, where, and the program, ready to become a regression test.
fn describe(case: &Case, input: &Input, point: usize, seed: u64, problems: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "==== {} (GRAD_FUZZ_SEED={seed:#x}, point {point}{})",
        case.name,
        if case.relaxed { ", relaxed" } else { "" }
    );
    let _ = writeln!(
        s,
        "point: scalars {:?} (in declaration order), v = {:?}, tensors {:?} (row-major, \
         shapes {:?}), k = {}",
        input.x, input.v, input.t, case.tensors, input.k
    );
    for p in problems {
        let _ = writeln!(s, "  - {p}");
    }
    let _ = writeln!(s, "source:\n{}", case.source);
    s
}

fn rel_err(a: f64, b: f64, scale: f64) -> f64 {
    (a - b).abs() / scale.max(1.0)
}

fn check_point(
    case: &Case,
    input: &Input,
    rng: &mut Rng,
    report: &mut Report,
    problems: &mut Vec<String>,
) {
    let tol = if case.relaxed { RELAXED } else { EXACT };
    let n = input.dim();

    // (1) Every derivative's value is the primal's, bit for bit.
    let y = (case.primal)(input);
    if !y.is_finite() {
        problems.push(format!("primal is not finite ({y}): a generator bug"));
        return;
    }
    let (yg, g) = (case.grad)(input);
    if yg.to_bits() != y.to_bits() {
        problems.push(format!("_grad value {yg:?} != primal {y:?}"));
    }
    if g.len() != n {
        problems.push(format!("_grad has {} components, want {n}", g.len()));
        return;
    }
    let (yv, pulled) = (case.vjp)(input, 1.0);
    if yv.to_bits() != y.to_bits() {
        problems.push(format!("_vjp value {yv:?} != primal {y:?}"));
    }

    // (2) Forward against reverse: unit tangents give the gradient's components; the
    // pullback of 1 gives the gradient; <jvp(d), w> = <d, vjp(w)> for a random d and w.
    for i in 0..n {
        let scale = g[i].abs().max(pulled[i].abs());
        if rel_err(pulled[i], g[i], scale) > tol.consistency {
            problems.push(format!(
                "component {i}: _vjp(1) gives {:?}, _grad gives {:?}",
                pulled[i], g[i]
            ));
        }
        let mut e = vec![0.0; n];
        e[i] = 1.0;
        let (yj, t) = (case.jvp)(input, &e);
        if yj.to_bits() != y.to_bits() {
            problems.push(format!("_jvp value {yj:?} != primal {y:?}"));
        }
        if rel_err(t, g[i], t.abs().max(g[i].abs())) > tol.consistency {
            problems.push(format!(
                "component {i}: _jvp with a unit tangent gives {t:?}, _grad gives {:?}",
                g[i]
            ));
        }
    }
    let d: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let w = rng.uniform(0.5, 2.0) * if rng.chance(0.5) { -1.0 } else { 1.0 };
    let (_, t) = (case.jvp)(input, &d);
    let (_, wg) = (case.vjp)(input, w);
    let lhs = t * w;
    let rhs: f64 = d.iter().zip(&wg).map(|(a, b)| a * b).sum();
    let scale = w.abs() * d.iter().zip(&g).map(|(a, b)| (a * b).abs()).sum::<f64>();
    if rel_err(lhs, rhs, scale) > tol.consistency {
        problems.push(format!(
            "<jvp(d), w> = {lhs:?} but <d, vjp(w)> = {rhs:?} (d = {d:?}, w = {w:?})"
        ));
    }

    // (3) Against central differences, where two step sizes agree.
    if case.stops {
        return;
    }
    let f = |p: &Input| (case.primal)(p);
    for (i, &gi) in g.iter().enumerate() {
        let z = input.coord(i);
        let h = tol.step * z.abs().max(1.0);
        let diff = |h: f64| {
            let (zp, zm) = (z + h, z - h);
            (f(&input.with_coord(i, zp)) - f(&input.with_coord(i, zm))) / (zp - zm)
        };
        let (d1, d2) = (diff(h), diff(h / 4.0));
        if !(d1.is_finite() && d2.is_finite()) || rel_err(d1, d2, d2.abs()) > tol.agree {
            report.fd_skipped += 1;
            continue;
        }
        report.fd_checked += 1;
        let richardson = d2 + (d2 - d1) / 15.0;
        if rel_err(gi, richardson, gi.abs().max(richardson.abs())) > tol.fd {
            problems.push(format!(
                "component {i}: gradient {gi:?}, finite difference {richardson:?} \
                 (D(h) = {d1:?}, D(h/4) = {d2:?}, h = {h:e})"
            ));
        }
    }
}

/// An `order = 2` program's `_hvp` at `input`: its value is the primal's and its gradient
/// `_grad`'s, bit for bit (`f_hvp` promises exactly those; to rounding with tensors); `H d`
/// matches central differences of `_grad` along a random direction `d`, where two steps
/// agree (as in `check_point`, with the gradient in place of the value); and, without
/// `stop_gradient`, `<u, H d> = <d, H u>` for another random `u` (the Hessian is symmetric;
/// both sides are exact derivatives, so [`Tolerances::consistency`]). With `stop_gradient`
/// the differences still apply: it is the identity on the dual numbers `_hvp` runs on, so
/// `H d` is the derivative of `_grad` itself.
fn check_hvp(
    case: &Case,
    hvp: Hvp,
    input: &Input,
    rng: &mut Rng,
    report: &mut Report,
    problems: &mut Vec<String>,
) {
    let tol = if case.relaxed { RELAXED } else { EXACT };
    let n = input.dim();
    let y = (case.primal)(input);
    let (_, g) = (case.grad)(input);
    let d: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let (yh, gh, hd) = hvp(input, &d);
    // Exactly `_grad`'s, except with tensors: the float kernels are vectorized (their own
    // `exp`, `tanh`, blocked products) and the dual ones scalar, so the two agree to
    // rounding, as two modes do (`consistency`).
    // (Two NaNs are the same value: IEEE 754 leaves a NaN's sign and payload to the order
    // of the operations, `0 * inf` in one and `-(inf * 0)` in the other.)
    let same = |a: f64, b: f64| {
        if a.is_nan() && b.is_nan() {
            true
        } else if case.tensors.is_empty() {
            a.to_bits() == b.to_bits()
        } else {
            rel_err(a, b, a.abs().max(b.abs())) <= tol.consistency
        }
    };
    if !same(yh, y) {
        problems.push(format!("_hvp value {yh:?} != primal {y:?}"));
    }
    if gh.len() != n || hd.len() != n {
        problems.push(format!(
            "_hvp has {} gradient and {} H v components, want {n}",
            gh.len(),
            hd.len()
        ));
        return;
    }
    for i in 0..n {
        if !same(gh[i], g[i]) {
            problems.push(format!(
                "component {i}: _hvp's gradient {:?}, _grad's {:?}",
                gh[i], g[i]
            ));
        }
    }

    // <u, H d> against <d, H u>. Not where `stop_gradient` is called: `_grad` is then not
    // the gradient of any function (`x * stop_gradient(x)` has `_grad` = x), so its
    // derivative need not be symmetric; `H d` is still its derivative along `d`, below.
    let u: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let (_, _, hu) = hvp(input, &u);
    let lhs: f64 = u.iter().zip(&hd).map(|(a, b)| a * b).sum();
    let rhs: f64 = d.iter().zip(&hu).map(|(a, b)| a * b).sum();
    let scale = u.iter().zip(&hd).map(|(a, b)| (a * b).abs()).sum::<f64>()
        + d.iter().zip(&hu).map(|(a, b)| (a * b).abs()).sum::<f64>();
    if !case.stops && rel_err(lhs, rhs, scale) > tol.consistency {
        problems.push(format!(
            "<u, H d> = {lhs:?} but <d, H u> = {rhs:?} (d = {d:?}, u = {u:?})"
        ));
    }

    // Central differences of the gradient along d: (g(x + h d) - g(x - h d)) / 2h.
    let largest = (0..n).fold(1.0f64, |m, i| m.max(input.coord(i).abs()));
    let h = tol.step * largest;
    let along = |t: f64| {
        let mut p = input.clone();
        for (i, di) in d.iter().enumerate() {
            *p.coord_mut(i) += t * di;
        }
        (case.grad)(&p).1
    };
    let diff = |h: f64| -> Vec<f64> {
        let (gp, gm) = (along(h), along(-h));
        gp.iter()
            .zip(&gm)
            .map(|(p, m)| (p - m) / (2.0 * h))
            .collect()
    };
    let (d1, d2) = (diff(h), diff(h / 4.0));
    for i in 0..n {
        let (a, b) = (d1[i], d2[i]);
        if !(a.is_finite() && b.is_finite()) || rel_err(a, b, b.abs()) > tol.agree {
            report.hvp_skipped += 1;
            continue;
        }
        report.hvp_checked += 1;
        let richardson = b + (b - a) / 15.0;
        if rel_err(hd[i], richardson, hd[i].abs().max(richardson.abs())) > tol.fd {
            problems.push(format!(
                "component {i}: H d {:?}, difference of the gradient {richardson:?} \
                 (D(h) = {a:?}, D(h/4) = {b:?}, h = {h:e}, d = {d:?})",
                hd[i]
            ));
        }
    }
}
