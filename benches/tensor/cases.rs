//! The tensor cases T1..T4: each primal as a user writes it for `#[differentiable]`, its
//! hand-written gradient over the same kernels and rules, the same on the tape, and inputs.

use super::tape::Tape;
use grad::__private::{op, shape_of};
use grad::{Tensor, differentiable};

pub type T64 = Tensor<f64>;

// ---- T1: the quick start, A = [5.0], sum(A * 5): the cost of one call ---------------------

#[differentiable]
pub fn t1_quickstart(a: &T64) -> f64 {
    (a * 5.0).sum()
}

/// d/dA Σ 5A = 5 in every entry.
pub fn t1_handwritten(a: &T64) -> (f64, T64) {
    let value = op::Sum.fwd(&op::Mul.fwd(a, &5.0));
    (value, Tensor::full(a.shape(), 5.0))
}

pub fn t1_tape(a: &T64) -> (f64, T64) {
    let tape = Tape::new();
    let (av, five) = (tape.var(a.clone()), tape.var(Tensor::scalar(5.0)));
    let loss = av.mul(five).sum();
    let g = tape.backward(loss);
    (loss.value().item(), g[av.index()].clone().expect("reached"))
}

/// A = [5.0] (value 25, gradient [5.0]).
pub fn t1_input() -> T64 {
    Tensor::from_vec(vec![5.0], &[1]).expect("one value")
}

// ---- T2: logistic regression, X 1024x100, mean BCE of sigmoid(Xw + b) ----------------------

/// With `order = 2` (so `t2_logistic_hvp` too), its parameters spell out `Tensor<f64>`: the
/// copy `order = 2` differentiates turns the `f64` it sees into duals, and `T64` hides it.
#[differentiable(order = 2, wrt(w, b))]
pub fn t2_logistic(w: &Tensor<f64>, b: f64, x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
    let z = x.matmul(w) + b;
    grad::nn::binary_cross_entropy_with_logits(&z, y)
}

/// dz = (σ(z) - y) / n; dw = Xᵀ dz; db = Σ dz.
pub fn t2_handwritten(w: &T64, b: f64, x: &T64, y: &T64) -> (f64, (T64, f64)) {
    let xw = op::Matmul.fwd(x, w);
    let z = op::Add.fwd(&xw, &b);
    let (loss, pb) = grad::nn::binary_cross_entropy_with_logits_vjp(&z, y);
    let (dz, _) = pb(1.0);
    let db = op::Sum.fwd(&dz);
    let dw = op::Matmul.bwd_1(x, w, &xw, dz);
    (loss, (dw, db))
}

pub fn t2_tape(w: &T64, b: f64, x: &T64, y: &T64) -> (f64, (T64, f64)) {
    let tape = Tape::new();
    let (wv, bv, xv) = (
        tape.var(w.clone()),
        tape.var(Tensor::scalar(b)),
        tape.var(x.clone()),
    );
    let loss = xv.matmul(wv).add(bv).bce_with_logits(y);
    let g = tape.backward(loss);
    let take = |v: super::tape::Var<'_>| g[v.index()].clone().expect("reached");
    (loss.value().item(), (take(wv), take(bv).item()))
}

pub fn t2_input() -> (T64, f64, T64, T64) {
    let x = Tensor::randn(&[1024, 100], 1);
    let w = Tensor::randn(&[100], 2) * 0.1;
    let y = Tensor::from_vec(
        (0..1024).map(|i| ((i * 7) % 3 == 0) as u8 as f64).collect(),
        &[1024],
    )
    .expect("1024 labels");
    (w, 0.1, x, y)
}

// ---- T3: MLP 784-256 relu 256-10, softmax cross-entropy, X 128x784 -------------------------

#[differentiable(wrt(w1, b1, w2, b2))]
pub fn t3_mlp(w1: &T64, b1: &T64, w2: &T64, b2: &T64, x: &T64, labels: &[usize]) -> f64 {
    let h = (x.matmul(w1) + b1).relu();
    let logits = h.matmul(w2) + b2;
    grad::nn::cross_entropy(&logits, labels)
}

pub type Mlp = (T64, T64, T64, T64);

/// The textbook backward pass: dlogits from the loss; dW2 = hᵀ dlogits, db2 = Σ_rows;
/// dh = dlogits W2ᵀ; dpre = dh ∘ [pre > 0]; dW1 = Xᵀ dpre, db1 = Σ_rows.
pub fn t3_handwritten(p: &Mlp, x: &T64, labels: &[usize]) -> (f64, Mlp) {
    let (w1, b1, w2, b2) = p;
    let xw = op::Matmul.fwd(x, w1);
    let pre = op::Add.fwd(&xw, b1);
    let h = op::Relu.fwd(&pre);
    let hw = op::Matmul.fwd(&h, w2);
    let logits = op::Add.fwd(&hw, b2);
    let (loss, pb) = grad::nn::cross_entropy_vjp(&logits, labels);
    let (dlogits, _) = pb(1.0);
    let db2 = op::Add.bwd_1(&shape_of(&hw), &shape_of(b2), dlogits.clone());
    let dh = op::Matmul.bwd_0(&h, w2, &hw, dlogits.clone());
    let dw2 = op::Matmul.bwd_1(&h, w2, &hw, dlogits);
    let dpre = op::Relu.bwd(&pre, &h, dh);
    let db1 = op::Add.bwd_1(&shape_of(&xw), &shape_of(b1), dpre.clone());
    let dw1 = op::Matmul.bwd_1(x, w1, &xw, dpre);
    (loss, (dw1, db1, dw2, db2))
}

pub fn t3_tape(p: &Mlp, x: &T64, labels: &[usize]) -> (f64, Mlp) {
    let tape = Tape::new();
    let (w1, b1, w2, b2) = p;
    let vars = [w1, b1, w2, b2].map(|t| tape.var(t.clone()));
    let xv = tape.var(x.clone());
    let h = xv.matmul(vars[0]).add(vars[1]).relu();
    let loss = h.matmul(vars[2]).add(vars[3]).cross_entropy(labels);
    let g = tape.backward(loss);
    let take = |i: usize| g[vars[i].index()].clone().expect("reached");
    (loss.value().item(), (take(0), take(1), take(2), take(3)))
}

pub fn t3_input() -> (Mlp, T64, Vec<usize>) {
    let x = Tensor::rand_uniform(&[128, 784], 0.0, 1.0, 3);
    let w1 = Tensor::randn(&[784, 256], 4) * (2.0 / 784.0f64).sqrt();
    let w2 = Tensor::randn(&[256, 10], 5) * (2.0 / 256.0f64).sqrt();
    let (b1, b2) = (Tensor::zeros(&[256]), Tensor::zeros(&[10]));
    let labels = (0..128).map(|i| (i * 3) % 10).collect();
    ((w1, b1, w2, b2), x, labels)
}

// ---- T4: elementwise, x of 1e6 values, f(x) = Σ tanh(x)² e^{-x} ----------------------------

#[differentiable]
pub fn t4_elementwise(x: &T64) -> f64 {
    let t = x.tanh();
    (&t * &t * (-x).exp()).sum()
}

/// f' = e^{-x} (2 t (1 - t²) - t²), t = tanh x: one pass over the data after t and e^{-x}.
pub fn t4_handwritten(x: &T64) -> (f64, T64) {
    let t = op::Tanh.fwd(x);
    let e = op::Exp.fwd(&op::Neg.fwd(x));
    let tt = op::Mul.fwd(&t, &t);
    let f = op::Mul.fwd(&tt, &e);
    let value = op::Sum.fwd(&f);
    let grad = &e * &(&(&t * 2.0) * &(1.0 - &tt) - &tt);
    (value, grad)
}

pub fn t4_tape(x: &T64) -> (f64, T64) {
    let tape = Tape::new();
    let xv = tape.var(x.clone());
    let t = xv.tanh();
    let loss = t.mul(t).mul(xv.neg().exp()).sum();
    let g = tape.backward(loss);
    (loss.value().item(), g[xv.index()].clone().expect("reached"))
}

pub fn t4_input() -> T64 {
    Tensor::rand_uniform(&[1_000_000], -2.0, 2.0, 6)
}
