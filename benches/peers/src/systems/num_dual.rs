//! num-dual: forward mode with dual numbers, the scalar cases.
//!
//! Written as its users write it: functions generic over `D: DualNum`, called at `f64` for
//! the primal and through `num_dual::gradient` for the gradient. For a fixed number of
//! inputs that is one pass with a static vector of tangents (`DualSVec64<N>`, N = 2, 5, 6):
//! every operation carries all N partial derivatives.
//!
//! S3 has 1000 inputs. Forward mode then needs either 1000 passes with one tangent each or
//! one pass with a dynamic vector of 1000 tangents (`DualDVec64`, what num-dual offers for
//! a size known at run time, and what is used here): every operation on an active value
//! does O(1000) work on a heap-allocated tangent vector, so the gradient costs O(n^2)
//! where reverse mode costs O(n). A gradient hundreds of times slower than the primal is
//! the honest cost of forward mode here, not an artifact.

use std::f64::consts::FRAC_1_SQRT_2;
use std::hint::black_box;

use nalgebra::{DVector, SVector};
use num_dual::{DualDVec64, DualNum, DualSVec64, gradient};

use super::scalars;
use crate::cases::scalar::S5_LINKS;
use crate::check::Computed;
use crate::run::Runner;

fn s1<D: DualNum<Primitive = f64>>(a: D) -> D {
    a * 5.0
}

fn s2<D: DualNum<Primitive = f64> + Copy>(x: D, y: D) -> D {
    (-x + 1.0).powi(2) + (y - x.powi(2)).powi(2) * 100.0
}

/// Over references: `DualDVec64` is not `Copy`.
fn s3<D: DualNum<Primitive = f64>>(x: &[D]) -> D {
    let mut sum = D::from(0.0);
    for i in 1..x.len() {
        let a = -x[i - 1].clone() + 1.0;
        let b = x[i].clone() - x[i - 1].powi(2);
        sum += a.powi(2) + b.powi(2) * 100.0;
    }
    sum
}

/// Abramowitz-Stegun 7.1.26 with the odd extension; dual numbers compare by value.
fn erf<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    let z = if x < 0.0 { -x } else { x };
    let t = (z * 0.3275911 + 1.0).recip();
    let poly = t
        * (t * (t * (t * (t * 1.061405429 - 1.453152027) + 1.421413741) - 0.284496736)
            + 0.254829592);
    let e = -(poly * (-(z * z)).exp()) + 1.0;
    if x < 0.0 { -e } else { e }
}

fn norm_cdf<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    (erf(x * FRAC_1_SQRT_2) + 1.0) * 0.5
}

fn s4<D: DualNum<Primitive = f64> + Copy>(s: D, k: D, r: D, sigma: D, t: D) -> D {
    let vol = sigma * t.sqrt();
    let d1 = ((s / k).ln() + (r + sigma * sigma * 0.5) * t) / vol;
    let d2 = d1 - vol;
    s * norm_cdf(d1) - k * (-r * t).exp() * norm_cdf(d2)
}

fn s5<D: DualNum<Primitive = f64> + Copy>(theta: &[D; 6]) -> D {
    let (mut phi, mut x, mut y) = (D::from(0.0), D::from(0.0), D::from(0.0));
    for k in 0..6 {
        phi += theta[k];
        x += phi.cos() * S5_LINKS[k];
        y += phi.sin() * S5_LINKS[k];
    }
    (x - 1.5).powi(2) + (y - 1.2).powi(2)
}

pub fn run(r: &Runner) {
    if let Some(c) = r.case("S1") {
        let a = c.input("a").item();
        r.measure(
            c,
            || s1(black_box(a)),
            || num_dual::first_derivative(s1, black_box(a)),
            |g| scalars(g.0, &[g.1]),
        );
    }
    if let Some(c) = r.case("S2") {
        let v = SVector::from([c.input("x").item(), c.input("y").item()]);
        r.measure(
            c,
            || s2(black_box(v[0]), black_box(v[1])),
            || gradient(|v: SVector<DualSVec64<2>, 2>| s2(v[0], v[1]), black_box(&v)),
            |g| scalars(g.0, g.1.as_slice()),
        );
    }
    if let Some(c) = r.case("S3") {
        let x = &c.input("x").values;
        let v = DVector::from_column_slice(x);
        r.measure(
            c,
            || s3(black_box(x.as_slice())),
            || gradient(|v: DVector<DualDVec64>| s3(v.as_slice()), black_box(&v)),
            |g| Computed::new(g.0, vec![g.1.as_slice().to_vec()]),
        );
    }
    if let Some(c) = r.case("S4") {
        let v = SVector::from(["s", "k", "r", "sigma", "t"].map(|n| c.input(n).item()));
        r.measure(
            c,
            || {
                let v = black_box(&v);
                s4(v[0], v[1], v[2], v[3], v[4])
            },
            || {
                gradient(
                    |v: SVector<DualSVec64<5>, 5>| s4(v[0], v[1], v[2], v[3], v[4]),
                    black_box(&v),
                )
            },
            |g| scalars(g.0, g.1.as_slice()),
        );
    }
    if let Some(c) = r.case("S5") {
        let theta: [f64; 6] = c.input("theta").values[..].try_into().expect("6 angles");
        let v = SVector::from(theta);
        r.measure(
            c,
            || s5(black_box(&theta)),
            || gradient(|v: SVector<DualSVec64<6>, 6>| s5(&v.into()), black_box(&v)),
            |g| Computed::new(g.0, vec![g.1.as_slice().to_vec()]),
        );
    }
}
