//! reverse: a tape of `Var`s (`Tape`, `Var::grad`), the scalar cases.
//!
//! Written as its users write it: functions of `Var<'a>`, with `f64` constants on either
//! side of an operator, exactly the primal's formulas. The crate has no plain evaluation of
//! such a function, so the primal is the recorded forward pass without the backward sweep.
//!
//! Its S4 gradient is wrong, and the crate is at fault: `f64 / Var` records the derivative
//! of `c / x` as `-1 / x` where it is `-c / x^2` (reverse 0.2.2, `impl Div<Var> for f64`).
//! The erf's `1.0 / (1.0 + 0.3275911 * z)` goes through it. `tests::c_over_x` shows the
//! bug against a finite difference, and that `Var / Var` is right; with that one line
//! written `(1.0 + 0.3275911 * z).recip()` the S4 gradient agrees with grad's (3e-15).

use std::f64::consts::FRAC_1_SQRT_2;
use std::hint::black_box;

use reverse::{Gradient, Tape, Var};

use super::scalars;
use crate::cases::scalar::S5_LINKS;
use crate::check::Computed;
use crate::run::Runner;

fn s1<'a>(a: Var<'a>) -> Var<'a> {
    a * 5.0
}

fn s2<'a>(x: Var<'a>, y: Var<'a>) -> Var<'a> {
    (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2)
}

fn s3<'a>(x: &[Var<'a>]) -> Var<'a> {
    (1..x.len())
        .map(|i| (1.0 - x[i - 1]).powi(2) + 100.0 * (x[i] - x[i - 1].powi(2)).powi(2))
        .sum()
}

/// Abramowitz-Stegun 7.1.26 with the odd extension; `Var` compares by value.
fn erf<'a>(x: Var<'a>) -> Var<'a> {
    let z = if x < 0.0 { -x } else { x };
    let t = 1.0 / (1.0 + 0.3275911 * z);
    let poly = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let e = 1.0 - poly * (-(z * z)).exp();
    if x < 0.0 { -e } else { e }
}

fn norm_cdf<'a>(x: Var<'a>) -> Var<'a> {
    0.5 * (1.0 + erf(x * FRAC_1_SQRT_2))
}

fn s4<'a>(s: Var<'a>, k: Var<'a>, r: Var<'a>, sigma: Var<'a>, t: Var<'a>) -> Var<'a> {
    let vol = sigma * t.sqrt();
    let d1 = ((s / k).ln() + (r + 0.5 * sigma * sigma) * t) / vol;
    let d2 = d1 - vol;
    s * norm_cdf(d1) - k * (-r * t).exp() * norm_cdf(d2)
}

/// `Var` has no constructor for a constant, so the sums start from the first joint.
fn s5<'a>(theta: &[Var<'a>]) -> Var<'a> {
    let mut phi = theta[0];
    let mut x = S5_LINKS[0] * phi.cos();
    let mut y = S5_LINKS[0] * phi.sin();
    for k in 1..6 {
        phi = phi + theta[k];
        x = x + S5_LINKS[k] * phi.cos();
        y = y + S5_LINKS[k] * phi.sin();
    }
    (x - 1.5).powi(2) + (y - 1.2).powi(2)
}

pub fn run(r: &Runner) {
    if let Some(c) = r.case("S1") {
        let a = c.input("a").item();
        r.measure(
            c,
            || {
                let tape = Tape::new();
                s1(tape.add_var(black_box(a))).val()
            },
            || {
                let tape = Tape::new();
                let a = tape.add_var(black_box(a));
                let f = s1(a);
                (f.val(), f.grad().wrt(&a))
            },
            |g| scalars(g.0, &[g.1]),
        );
    }
    if let Some(c) = r.case("S2") {
        let (x, y) = (c.input("x").item(), c.input("y").item());
        r.measure(
            c,
            || {
                let tape = Tape::new();
                s2(tape.add_var(black_box(x)), tape.add_var(black_box(y))).val()
            },
            || {
                let tape = Tape::new();
                let (x, y) = (tape.add_var(black_box(x)), tape.add_var(black_box(y)));
                let f = s2(x, y);
                let g = f.grad();
                (f.val(), [g.wrt(&x), g.wrt(&y)])
            },
            |g| scalars(g.0, &g.1),
        );
    }
    if let Some(c) = r.case("S3") {
        let x = &c.input("x").values;
        r.measure(
            c,
            || {
                let tape = Tape::new();
                s3(&tape.add_vars(black_box(x))).val()
            },
            || {
                let tape = Tape::new();
                let x = tape.add_vars(black_box(x));
                let f = s3(&x);
                (f.val(), f.grad().wrt(&x))
            },
            |g| Computed::new(g.0, vec![g.1.clone()]),
        );
    }
    if let Some(c) = r.case("S4") {
        let args = ["s", "k", "r", "sigma", "t"].map(|n| c.input(n).item());
        r.measure(
            c,
            || {
                let tape = Tape::new();
                let v = black_box(args).map(|a| tape.add_var(a));
                s4(v[0], v[1], v[2], v[3], v[4]).val()
            },
            || {
                let tape = Tape::new();
                let v = black_box(args).map(|a| tape.add_var(a));
                let f = s4(v[0], v[1], v[2], v[3], v[4]);
                let g = f.grad();
                (f.val(), v.map(|x| g.wrt(&x)))
            },
            |g| scalars(g.0, &g.1),
        );
    }
    if let Some(c) = r.case("S5") {
        let theta: [f64; 6] = c.input("theta").values[..].try_into().expect("6 angles");
        r.measure(
            c,
            || {
                let tape = Tape::new();
                s5(&black_box(theta).map(|a| tape.add_var(a))).val()
            },
            || {
                let tape = Tape::new();
                let theta = black_box(theta).map(|a| tape.add_var(a));
                let f = s5(&theta);
                (f.val(), f.grad().wrt(&theta))
            },
            |g| Computed::new(g.0, vec![g.1.clone()]),
        );
    }
}

#[cfg(test)]
mod tests {
    use reverse::{Gradient, Tape};

    /// d/dx (c / x) = -c / x^2: at c = 2, x = 4 that is -0.125. A central difference
    /// agrees; reverse's `f64 / Var` gives -1 / x = -0.25, its `Var / Var` is right.
    #[test]
    fn c_over_x() {
        let (c, x, h): (f64, f64, f64) = (2.0, 4.0, 1e-6);
        let fd = (c / (x + h) - c / (x - h)) / (2.0 * h);
        assert!((fd - -0.125).abs() < 1e-9);
        let tape = Tape::new();
        let xv = tape.add_var(x);
        assert_eq!(
            (c / xv).grad().wrt(&xv),
            -0.25,
            "f64 / Var: the crate's bug"
        );
        let cv = tape.add_var(c);
        assert!(
            ((cv / xv).grad().wrt(&xv) - fd).abs() < 1e-9,
            "Var / Var is right"
        );
    }
}
