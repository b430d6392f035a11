//! Losses for training (`cross_entropy`, `mse`, `binary_cross_entropy_with_logits`), each
//! with its hand-written `_vjp` and `_jvp` in the shape `#[differentiable]` code calls.
//!
//! ```
//! use grad::{Tensor, differentiable, nn};
//!
//! #[differentiable(wrt(logits))]
//! fn classify(logits: &Tensor<f64>, labels: &[usize]) -> f64 {
//!     nn::cross_entropy(logits, labels)
//! }
//!
//! // One row of logits [0, ln 3], probabilities [1/4, 3/4], label 1: the loss is -ln(3/4)
//! // and its gradient softmax - onehot = [1/4, -1/4].
//! let logits = Tensor::from_vec(vec![0.0, 3.0f64.ln()], &[1, 2]).unwrap();
//! let (loss, g) = classify_grad(&logits, &[1]);
//! assert!((loss + 0.75f64.ln()).abs() < 1e-15);
//! assert!((g.get(&[0, 0]) - 0.25).abs() < 1e-15 && (g.get(&[0, 1]) + 0.25).abs() < 1e-15);
//!
//! #[differentiable(wrt(pred))]
//! fn fit(pred: &Tensor<f64>, target: &Tensor<f64>) -> f64 {
//!     nn::mse(pred, target)
//! }
//!
//! // mean(1², 3²) = 5; d/dpred = 2 (pred - target) / n = [1, 3].
//! let (loss, g) = fit_grad(&Tensor::from([1.0, 3.0]), &Tensor::from([0.0, 0.0]));
//! assert_eq!((loss, g.to_vec()), (5.0, vec![1.0, 3.0]));
//! ```

use crate::differentiable::NoTangent;
use crate::fuse;
use crate::real::Real;
use crate::tensor::Tensor;
use crate::tensor::shape::same_shape;

/// `(rows, classes)` of logits for `cross_entropy`, checking the labels.
fn rows_and_classes<T: Real>(logits: &Tensor<T>, labels: &[usize]) -> (usize, usize) {
    let (rows, classes) = match *logits.shape() {
        [c] => (1, c),
        [r, c] => (r, c),
        _ => panic!(
            "cross_entropy: logits of shape {:?} are not 1-d or 2-d",
            logits.shape()
        ),
    };
    assert!(
        labels.len() == rows,
        "cross_entropy: logits of shape {:?} need {rows} labels, got {}",
        logits.shape(),
        labels.len()
    );
    if let Some(&bad) = labels.iter().find(|&&l| l >= classes) {
        panic!("cross_entropy: label {bad} is out of range for {classes} classes");
    }
    (rows, classes)
}

/// The mean over rows of `-log_softmax(logits)[row, label]`: the cross-entropy of integer
/// labels (PyTorch's `cross_entropy` with `reduction="mean"`). A 1-d `logits` is one row.
///
/// `logits` is `(rows, classes)` and `labels` holds one class index per row; the result is
/// in nats.
///
/// # Panics
/// If `logits` is not 1-d or 2-d, `labels` has not one entry per row, or a label is not
/// below the number of classes.
pub fn cross_entropy<T: Real>(logits: &Tensor<T>, labels: &[usize]) -> T {
    cross_entropy_with_lsm(logits, labels).0
}

fn cross_entropy_with_lsm<T: Real>(logits: &Tensor<T>, labels: &[usize]) -> (T, Tensor<T>) {
    let (rows, classes) = rows_and_classes(logits, labels);
    let lsm = logits.log_softmax(logits.ndim() - 1);
    let l = lsm.as_slice();
    let total = labels
        .iter()
        .enumerate()
        .fold(T::ZERO, |acc, (r, &c)| acc - l[r * classes + c]);
    (total / T::from_f64(rows as f64), lsm)
}

/// Value and pullback of [`cross_entropy`]: `dlogits = dy (softmax(logits) - onehot) / rows`.
pub fn cross_entropy_vjp<T: Real>(
    logits: &Tensor<T>,
    labels: &[usize],
) -> (T, impl FnOnce(T) -> (Tensor<T>, NoTangent) + use<T>) {
    let (loss, lsm) = cross_entropy_with_lsm(logits, labels);
    let labels = labels.to_vec();
    (loss, move |dy: T| {
        let classes = lsm.shape()[lsm.ndim() - 1];
        let scale = dy / T::from_f64(labels.len() as f64);
        let mut d = lsm;
        d.as_mut_slice().iter_mut().for_each(|v| *v = v.exp());
        for (r, &c) in labels.iter().enumerate() {
            d.as_mut_slice()[r * classes + c] -= T::ONE;
        }
        (d * scale, NoTangent)
    })
}

/// Value and tangent of [`cross_entropy`]:
/// `dy = Σ_rows (Σ_j softmax_j dlogits_j - dlogits_label) / rows`.
pub fn cross_entropy_jvp<T: Real>(
    logits: &Tensor<T>,
    labels: &[usize],
    dlogits: &Tensor<T>,
    _: NoTangent,
) -> (T, T) {
    assert!(
        same_shape(dlogits.shape(), logits.shape()),
        "cross_entropy_jvp: tangent of shape {:?} for logits of shape {:?}",
        dlogits.shape(),
        logits.shape()
    );
    let (loss, lsm) = cross_entropy_with_lsm(logits, labels);
    let classes = lsm.shape()[lsm.ndim() - 1];
    let (l, d) = (lsm.as_slice(), dlogits.as_slice());
    let mut total = T::ZERO;
    for (r, &c) in labels.iter().enumerate() {
        let row = r * classes..(r + 1) * classes;
        let expected = l[row.clone()]
            .iter()
            .zip(&d[row])
            .fold(T::ZERO, |a, (&lv, &dv)| a + lv.exp() * dv);
        total += expected - d[r * classes + c];
    }
    (loss, total / T::from_f64(labels.len() as f64))
}

fn check_same<T: Real>(op: &str, a: &Tensor<T>, b: &Tensor<T>) {
    assert!(
        same_shape(a.shape(), b.shape()),
        "{op}: shapes {:?} and {:?} differ",
        a.shape(),
        b.shape()
    );
}

/// The mean squared error `mean((pred - target)²)`.
///
/// # Panics
/// If the shapes of `pred` and `target` differ.
pub fn mse<T: Real>(pred: &Tensor<T>, target: &Tensor<T>) -> T {
    check_same("mse", pred, target);
    let diff = pred - target;
    crate::kernels::dot(diff.as_slice(), diff.as_slice()) / T::from_f64(pred.len() as f64)
}

/// Value and pullback of [`mse`]: `dpred = 2 dy (pred - target) / n`, `dtarget = -dpred`.
pub fn mse_vjp<T: Real>(
    pred: &Tensor<T>,
    target: &Tensor<T>,
) -> (T, impl FnOnce(T) -> (Tensor<T>, Tensor<T>) + use<T>) {
    check_same("mse", pred, target);
    let diff = pred - target;
    let n = T::from_f64(pred.len() as f64);
    let loss = crate::kernels::dot(diff.as_slice(), diff.as_slice()) / n;
    (loss, move |dy: T| {
        let dpred = diff * (T::from_f64(2.0) * dy / n);
        let dtarget = -&dpred;
        (dpred, dtarget)
    })
}

/// Value and tangent of [`mse`]: `dy = 2 <pred - target, dpred - dtarget> / n`.
pub fn mse_jvp<T: Real>(
    pred: &Tensor<T>,
    target: &Tensor<T>,
    dpred: &Tensor<T>,
    dtarget: &Tensor<T>,
) -> (T, T) {
    check_same("mse_jvp", pred, dpred);
    check_same("mse_jvp", target, dtarget);
    let (loss, back) = mse_vjp(pred, target);
    let (g, _) = back(T::ONE);
    let tangent = crate::kernels::dot(g.as_slice(), dpred.as_slice())
        - crate::kernels::dot(g.as_slice(), dtarget.as_slice());
    (loss, tangent)
}

/// The mean of `max(z, 0) - z t + ln(1 + e^{-|z|})` over logits `z` and targets `t`: the
/// binary cross-entropy of `sigmoid(z)` against `t`, computed without overflow.
///
/// ```
/// use grad::{Tensor, nn};
/// // z = 0 is a probability of 1/2 whatever the target: ln 2.
/// let l = nn::binary_cross_entropy_with_logits(&Tensor::from([0.0f64]), &Tensor::from([1.0]));
/// assert!((l - 2.0f64.ln()).abs() < 1e-15);
/// ```
///
/// # Panics
/// If the shapes of `logits` and `targets` differ.
pub fn binary_cross_entropy_with_logits<T: Real>(logits: &Tensor<T>, targets: &Tensor<T>) -> T {
    check_same("binary_cross_entropy_with_logits", logits, targets);
    fuse::fwd_mean(&Bce, "binary_cross_entropy_with_logits", (logits, targets))
}

/// The loss of one logit `z` and target `t`, and its adjoint, as one vectorized loop each
/// (`std`'s `exp` and `ln_1p` per element, in a chain through the sum, took 15 ns an
/// element: 15 of T2's 33 µs primal).
struct Bce;

impl fuse::Kernel<2> for Bce {
    #[inline(always)]
    fn fwd<L: fuse::Lane>(&self, [z, t]: [L; 2]) -> L {
        let e = (-z.map(Real::abs)).exp();
        // ln(1 + e) for e in [0, 1]: ln u with u = 1 + e, less the rounding of u
        // (u - 1 - e, exact) to first order, so that e below u's ulp still counts.
        let u = L::konst(1.0) + e;
        let ln_1p = u.ln() - ((u - L::konst(1.0)) - e) / u;
        z.map(Real::relu) - z * t + ln_1p
    }
    #[inline(always)]
    fn bwd<L: fuse::Lane>(&self, [z, t]: [L; 2], dy: L) -> [L; 2] {
        [(z.sigmoid() - t) * dy, -(z * dy)]
    }
}

/// Value and pullback of [`binary_cross_entropy_with_logits`]:
/// `dlogits = dy (sigmoid(z) - t) / n`, `dtargets = -dy z / n`.
pub fn binary_cross_entropy_with_logits_vjp<T: Real>(
    logits: &Tensor<T>,
    targets: &Tensor<T>,
) -> (T, impl FnOnce(T) -> (Tensor<T>, Tensor<T>) + use<T>) {
    let loss = binary_cross_entropy_with_logits(logits, targets);
    let (z, t) = (logits.clone(), targets.clone());
    (loss, move |dy: T| {
        fuse::bwd_mean(&Bce, "binary_cross_entropy_with_logits", (&z, &t), dy)
    })
}

/// Value and tangent of [`binary_cross_entropy_with_logits`]:
/// `dy = Σ ((sigmoid(z) - t) dz - z dt) / n`.
pub fn binary_cross_entropy_with_logits_jvp<T: Real>(
    logits: &Tensor<T>,
    targets: &Tensor<T>,
    dlogits: &Tensor<T>,
    dtargets: &Tensor<T>,
) -> (T, T) {
    check_same("binary_cross_entropy_with_logits_jvp", logits, dlogits);
    check_same("binary_cross_entropy_with_logits_jvp", targets, dtargets);
    let (loss, back) = binary_cross_entropy_with_logits_vjp(logits, targets);
    let (gz, gt) = back(T::ONE);
    let tangent = crate::kernels::dot(gz.as_slice(), dlogits.as_slice())
        + crate::kernels::dot(gt.as_slice(), dtargets.as_slice());
    (loss, tangent)
}
