//! easy-ml: reverse mode on a Wengert list (`Record`, `WengertList`), the scalar cases.
//!
//! Written as its users write it: functions of `Record<'a, f64>`. easy-ml has no
//! `f64 - Record` or `f64 / Record` operator (Rust's orphan rule), so a constant on the
//! left goes through `sub_swapped`/`div_swapped`; it has no `powi`, so squares are
//! products. The primal is the same function on constant records, which carry no list
//! and so record nothing: easy-ml's plain evaluation.

use std::f64::consts::FRAC_1_SQRT_2;
use std::hint::black_box;

use easy_ml::differentiation::record_operations::SwappedOperations;
use easy_ml::differentiation::{Record, WengertList};
use easy_ml::numeric::extra::{Cos, Exp, Ln, Sin, Sqrt};

use super::scalars;
use crate::cases::scalar::S5_LINKS;
use crate::check::Computed;
use crate::run::Runner;

type R<'a> = Record<'a, f64>;

fn s1<'a>(a: R<'a>) -> R<'a> {
    a * 5.0
}

fn s2<'a>(x: R<'a>, y: R<'a>) -> R<'a> {
    let a = x.sub_swapped(1.0);
    let b = y - x * x;
    a * a + b * b * 100.0
}

fn s3<'a>(x: &[R<'a>]) -> R<'a> {
    let mut sum = R::constant(0.0);
    for i in 1..x.len() {
        let a = x[i - 1].sub_swapped(1.0);
        let b = x[i] - x[i - 1] * x[i - 1];
        sum = sum + a * a + b * b * 100.0;
    }
    sum
}

/// Abramowitz-Stegun 7.1.26 with the odd extension; the branch compares the value.
fn erf<'a>(x: R<'a>) -> R<'a> {
    let z = if x.number < 0.0 { -x } else { x };
    let t = (z * 0.3275911 + 1.0).div_swapped(1.0);
    let poly = t
        * (t * (t * (t * (t * 1.061405429 - 1.453152027) + 1.421413741) - 0.284496736)
            + 0.254829592);
    let e = (poly * (-(z * z)).exp()).sub_swapped(1.0);
    if x.number < 0.0 { -e } else { e }
}

fn norm_cdf<'a>(x: R<'a>) -> R<'a> {
    (erf(x * FRAC_1_SQRT_2) + 1.0) * 0.5
}

fn s4<'a>(s: R<'a>, k: R<'a>, r: R<'a>, sigma: R<'a>, t: R<'a>) -> R<'a> {
    let vol = sigma * t.sqrt();
    let d1 = ((s / k).ln() + (r + sigma * sigma * 0.5) * t) / vol;
    let d2 = d1 - vol;
    s * norm_cdf(d1) - k * (-r * t).exp() * norm_cdf(d2)
}

fn s5<'a>(theta: &[R<'a>; 6]) -> R<'a> {
    let (mut phi, mut x, mut y) = (R::constant(0.0), R::constant(0.0), R::constant(0.0));
    for k in 0..6 {
        phi = phi + theta[k];
        x = x + phi.cos() * S5_LINKS[k];
        y = y + phi.sin() * S5_LINKS[k];
    }
    let (ex, ey) = (x - 1.5, y - 1.2);
    ex * ex + ey * ey
}

pub fn run(r: &Runner) {
    if let Some(c) = r.case("S1") {
        let a = c.input("a").item();
        r.measure(
            c,
            || s1(R::constant(black_box(a))).number,
            || {
                let list = WengertList::new();
                let a = Record::variable(black_box(a), &list);
                let y = s1(a);
                (y.number, y.derivatives()[&a])
            },
            |g| scalars(g.0, &[g.1]),
        );
    }
    if let Some(c) = r.case("S2") {
        let (x, y) = (c.input("x").item(), c.input("y").item());
        r.measure(
            c,
            || s2(R::constant(black_box(x)), R::constant(black_box(y))).number,
            || {
                let list = WengertList::new();
                let (x, y) = (
                    Record::variable(black_box(x), &list),
                    Record::variable(y, &list),
                );
                let f = s2(x, y);
                let d = f.derivatives();
                (f.number, [d[&x], d[&y]])
            },
            |g| scalars(g.0, &g.1),
        );
    }
    if let Some(c) = r.case("S3") {
        let x = &c.input("x").values;
        r.measure(
            c,
            || {
                let x: Vec<R<'_>> = black_box(x).iter().map(|&v| R::constant(v)).collect();
                s3(&x).number
            },
            || {
                let list = WengertList::new();
                let x: Vec<R<'_>> = (black_box(x).iter())
                    .map(|&v| Record::variable(v, &list))
                    .collect();
                let f = s3(&x);
                let d = f.derivatives();
                (f.number, x.iter().map(|v| d[v]).collect::<Vec<f64>>())
            },
            |g| Computed::new(g.0, vec![g.1.clone()]),
        );
    }
    if let Some(c) = r.case("S4") {
        let args = ["s", "k", "r", "sigma", "t"].map(|n| c.input(n).item());
        r.measure(
            c,
            || {
                let [s, k, rate, sigma, t] = black_box(args).map(R::constant);
                s4(s, k, rate, sigma, t).number
            },
            || {
                let list = WengertList::new();
                let v = black_box(args).map(|a| Record::variable(a, &list));
                let f = s4(v[0], v[1], v[2], v[3], v[4]);
                let d = f.derivatives();
                (f.number, v.map(|x| d[&x]))
            },
            |g| scalars(g.0, &g.1),
        );
    }
    if let Some(c) = r.case("S5") {
        let theta: [f64; 6] = c.input("theta").values[..].try_into().expect("6 angles");
        r.measure(
            c,
            || s5(&black_box(theta).map(R::constant)).number,
            || {
                let list = WengertList::new();
                let theta = black_box(theta).map(|a| Record::variable(a, &list));
                let f = s5(&theta);
                let d = f.derivatives();
                (f.number, theta.map(|x| d[&x]))
            },
            |g| Computed::new(g.0, vec![g.1.to_vec()]),
        );
    }
}
