//! ad_trait: reverse mode (`adr` through `FunctionEngine` with `ReverseAD`), the scalar
//! cases.
//!
//! Written as its users write it: each case a `DifferentiableFunctionTrait<T>` generic over
//! `T: AD`, constants lifted with `T::constant`. The engine holds the function at `f64`
//! (the primal: plain f64 evaluation, `FunctionEngine::call`) and at `adr` (the gradient:
//! `FunctionEngine::derivative`, recorded on ad_trait's thread-local graph, reset per call).

use std::f64::consts::FRAC_1_SQRT_2;
use std::hint::black_box;

use ad_trait::AD;
use ad_trait::differentiable_function::{DifferentiableFunctionTrait, ReverseAD};
use ad_trait::function_engine::FunctionEngine;
use ad_trait::reverse_ad::adr::adr;

use super::scalars;
use crate::cases::scalar::S5_LINKS;
use crate::check::Computed;
use crate::run::Runner;

/// Implements the trait for a case with no parameters: `$body` maps the inputs `$v` to
/// the value.
macro_rules! case {
    ($name:ident, $inputs:expr, |$v:ident| $body:expr) => {
        #[derive(Clone, Copy)]
        struct $name;

        impl<T: AD> DifferentiableFunctionTrait<T> for $name {
            const NAME: &'static str = stringify!($name);

            fn call(&self, $v: &[T], _freeze: bool) -> Vec<T> {
                vec![$body]
            }

            fn num_inputs(&self) -> usize {
                $inputs
            }

            fn num_outputs(&self) -> usize {
                1
            }
        }
    };
}

case!(S1, 1, |v| v[0] * T::constant(5.0));
case!(S2, 2, |v| s2(v[0], v[1]));
case!(S3, 1000, |v| s3(v));
case!(S4, 5, |v| s4(v[0], v[1], v[2], v[3], v[4]));
case!(S5, 6, |v| s5(v));

/// A constant, as ad_trait lifts one: `T::constant`.
fn c<T: AD>(value: f64) -> T {
    T::constant(value)
}

fn s2<T: AD>(x: T, y: T) -> T {
    (c::<T>(1.0) - x).powi(2) + c::<T>(100.0) * (y - x.powi(2)).powi(2)
}

fn s3<T: AD>(x: &[T]) -> T {
    let mut sum = c::<T>(0.0);
    for i in 1..x.len() {
        sum += (c::<T>(1.0) - x[i - 1]).powi(2) + c::<T>(100.0) * (x[i] - x[i - 1].powi(2)).powi(2);
    }
    sum
}

/// Abramowitz-Stegun 7.1.26 with the odd extension; `adr` compares by value.
fn erf<T: AD>(x: T) -> T {
    let z = if x < c::<T>(0.0) { -x } else { x };
    let t = c::<T>(1.0) / (c::<T>(1.0) + c::<T>(0.3275911) * z);
    let poly = t
        * (c::<T>(0.254829592)
            + t * (c::<T>(-0.284496736)
                + t * (c::<T>(1.421413741)
                    + t * (c::<T>(-1.453152027) + t * c::<T>(1.061405429)))));
    let e = c::<T>(1.0) - poly * (-(z * z)).exp();
    if x < c::<T>(0.0) { -e } else { e }
}

fn norm_cdf<T: AD>(x: T) -> T {
    c::<T>(0.5) * (c::<T>(1.0) + erf(x * c::<T>(FRAC_1_SQRT_2)))
}

fn s4<T: AD>(s: T, k: T, r: T, sigma: T, t: T) -> T {
    let vol = sigma * t.sqrt();
    let d1 = ((s / k).ln() + (r + c::<T>(0.5) * sigma * sigma) * t) / vol;
    let d2 = d1 - vol;
    s * norm_cdf(d1) - k * (-r * t).exp() * norm_cdf(d2)
}

fn s5<T: AD>(theta: &[T]) -> T {
    let (mut phi, mut x, mut y) = (c::<T>(0.0), c::<T>(0.0), c::<T>(0.0));
    for k in 0..6 {
        phi += theta[k];
        x += c::<T>(S5_LINKS[k]) * phi.cos();
        y += c::<T>(S5_LINKS[k]) * phi.sin();
    }
    (x - c::<T>(1.5)).powi(2) + (y - c::<T>(1.2)).powi(2)
}

/// Checks and times one case through its engine.
fn measure<F>(r: &Runner, name: &str, inputs: &[&str], f: F)
where
    F: DifferentiableFunctionTrait<f64> + DifferentiableFunctionTrait<adr> + Copy,
{
    let Some(case) = r.case(name) else { return };
    let x: Vec<f64> = (inputs.iter())
        .flat_map(|n| case.input(n).values.iter().copied())
        .collect();
    let engine = FunctionEngine::new(f, f, ReverseAD::new());
    let vector = case.inputs[0].values.len() > 1;
    r.measure(
        case,
        || engine.call(black_box(&x)),
        || engine.derivative(black_box(&x)),
        |(v, d)| {
            let g: Vec<f64> = d.iter().copied().collect();
            if vector {
                Computed::new(v[0], vec![g])
            } else {
                scalars(v[0], &g)
            }
        },
    );
}

pub fn run(r: &Runner) {
    measure(r, "S1", &["a"], S1);
    measure(r, "S2", &["x", "y"], S2);
    measure(r, "S3", &["x"], S3);
    measure(r, "S4", &["s", "k", "r", "sigma", "t"], S4);
    measure(r, "S5", &["theta"], S5);
}
