//! Gradient checking: central finite differences of any scalar function of one
//! differentiable argument, and a comparison against a computed gradient.
//!
//! ```
//! use grad::check::{finite_difference, gradcheck};
//!
//! let f = |x: &[f64; 2]| x[0] * x[0] * x[1];
//! let x = [3.0, 2.0];
//! let fd = finite_difference(f, &x);
//! assert!((fd[0] - 12.0).abs() < 1e-6 && (fd[1] - 9.0).abs() < 1e-6);
//! gradcheck(f, &x, &[12.0, 9.0], 1e-6, 1e-6).unwrap();
//! ```

use crate::Real;
use crate::differentiable::{Differentiable, FlatMut, Tangent, flatten};

/// The number of differentiable components of `x`.
fn count<P: Differentiable + Clone>(x: &P) -> usize {
    let mut n = 0;
    x.clone().visit_params_mut(&mut |flat| match flat {
        FlatMut::F32(s) => n += s.len(),
        FlatMut::F64(s) => n += s.len(),
    });
    n
}

/// `x` with its `j`-th component moved by `h`.
fn nudged<P: Differentiable + Clone>(x: &P, j: usize, h: f64) -> (P, f64) {
    let mut y = x.clone();
    let mut i = 0;
    let mut at = 0.0;
    y.visit_params_mut(&mut |flat| match flat {
        FlatMut::F32(s) => {
            for v in s {
                if i == j {
                    at = f64::from(*v);
                    *v = (at + h) as f32;
                }
                i += 1;
            }
        }
        FlatMut::F64(s) => {
            for v in s {
                if i == j {
                    at = *v;
                    *v += h;
                }
                i += 1;
            }
        }
    });
    (y, at)
}

/// The central-difference gradient of `f` at `x`, in `x`'s tangent type: component `j` is
/// `(f(x + h e_j) - f(x - h e_j)) / 2h`, with `h = 1e-6 · max(1, |x_j|)` (f64 arithmetic;
/// `f32` components use `h = 1e-3 · max(1, |x_j|)`).
pub fn finite_difference<P, R>(f: impl Fn(&P) -> R, x: &P) -> P::Tangent
where
    P: Differentiable + Clone,
    R: Real,
{
    let n = count(x);
    let mut fd = vec![0.0; n];
    let mut is_f32 = Vec::with_capacity(n);
    x.clone().visit_params_mut(&mut |flat| match flat {
        FlatMut::F32(s) => is_f32.extend(std::iter::repeat_n(true, s.len())),
        FlatMut::F64(s) => is_f32.extend(std::iter::repeat_n(false, s.len())),
    });
    for j in 0..n {
        let (_, at) = nudged(x, j, 0.0);
        let step = if is_f32[j] { 1e-3 } else { 1e-6 };
        let h = step * at.abs().max(1.0);
        let (plus, _) = nudged(x, j, h);
        let (minus, _) = nudged(x, j, -h);
        fd[j] = (f(&plus).to_f64() - f(&minus).to_f64()) / (2.0 * h);
    }
    let mut t = x.zero_tangent();
    let mut i = 0;
    t.visit_mut(&mut |flat| match flat {
        FlatMut::F32(s) => {
            for v in s {
                *v = fd[i] as f32;
                i += 1;
            }
        }
        FlatMut::F64(s) => {
            for v in s {
                *v = fd[i];
                i += 1;
            }
        }
    });
    t
}

/// A component where a gradient and its finite-difference estimate disagree.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckError {
    /// The component's index in visiting order.
    pub index: usize,
    /// The computed gradient's value.
    pub computed: f64,
    /// The finite-difference estimate.
    pub estimate: f64,
}

impl std::fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gradient component {} is {}, but finite differences give {}",
            self.index, self.computed, self.estimate
        )
    }
}

impl std::error::Error for GradcheckError {}

/// Checks `grad` against central differences of `f` at `x`: every component must satisfy
/// `|computed - estimate| <= atol + rtol · |estimate|` (PyTorch's `gradcheck` rule).
pub fn gradcheck<P, R>(
    f: impl Fn(&P) -> R,
    x: &P,
    grad: &P::Tangent,
    atol: f64,
    rtol: f64,
) -> Result<(), GradcheckError>
where
    P: Differentiable + Clone,
    R: Real,
{
    let estimate = flatten(&finite_difference(f, x));
    let computed = flatten(grad);
    assert_eq!(
        computed.len(),
        estimate.len(),
        "gradcheck: the gradient has {} components, the argument {}",
        computed.len(),
        estimate.len()
    );
    for (index, (&c, &e)) in computed.iter().zip(&estimate).enumerate() {
        // Written so that a NaN on either side fails the check.
        let within = (c - e).abs() <= atol + rtol * e.abs();
        if !within {
            return Err(GradcheckError {
                index,
                computed: c,
                estimate: e,
            });
        }
    }
    Ok(())
}
