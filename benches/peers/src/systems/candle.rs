//! candle: eager tensors with reverse mode (`candle_core::Var`, `Tensor::backward`), the
//! tensor cases, f64 on the CPU.
//!
//! Written as its users write it: parameters are `Var`s made once, each gradient call runs
//! the forward pass on them and `backward()`, which returns fresh gradient tensors. The
//! primal runs the same forward pass on detached tensors, which record nothing. T2's loss
//! is the protocol's stable formula, relu(z) - z y + ln(1 + e^{-|z|}); T3's is
//! `candle_nn::loss::cross_entropy`, i.e. log_softmax, a gather by label, and the mean.

use std::hint::black_box;

use candle_core::{DType, Device, Result, Tensor, Var};

use crate::check::Computed;
use crate::data::{Array, Case};
use crate::run::Runner;

fn t1(p: &[Tensor]) -> Result<Tensor> {
    (&p[0] * 5.0)?.sum_all()
}

/// `p` = [w (100x1), b (scalar)]; x and y are data.
fn t2(p: &[Tensor], x: &Tensor, y: &Tensor) -> Result<Tensor> {
    let z = x.matmul(&p[0])?.broadcast_add(&p[1])?;
    let softplus = z.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    z.relu()?.sub(&z.mul(y)?)?.add(&softplus)?.mean_all()
}

/// `p` = [w1, b1, w2, b2]; x and the labels are data.
fn t3(p: &[Tensor], x: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let h = x.matmul(&p[0])?.broadcast_add(&p[1])?.relu()?;
    let logits = h.matmul(&p[2])?.broadcast_add(&p[3])?;
    candle_nn::loss::cross_entropy(&logits, labels)
}

fn t4(p: &[Tensor]) -> Result<Tensor> {
    let t = p[0].tanh()?;
    t.sqr()?.mul(&p[0].neg()?.exp()?)?.sum_all()
}

/// An input as a candle tensor of its shape (or of `shape`, when given).
fn tensor(a: &Array, shape: Option<&[usize]>) -> Result<Tensor> {
    Tensor::from_slice(&a.values, shape.unwrap_or(&a.shape), &Device::Cpu)
}

/// Checks and times one case: `params` are the differentiated inputs, in `wrt` order.
fn measure(
    r: &Runner,
    case: &Case,
    params: Vec<Tensor>,
    loss: impl Fn(&[Tensor]) -> Result<Tensor>,
) -> Result<()> {
    let vars = (params.iter())
        .map(Var::from_tensor)
        .collect::<Result<Vec<Var>>>()?;
    let tracked: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let detached: Vec<Tensor> = vars.iter().map(Var::as_detached_tensor).collect();
    let view = |(value, grads): &(Tensor, candle_core::backprop::GradStore)| -> Result<Computed> {
        let mut flat = Vec::new();
        for t in &tracked {
            let g = grads
                .get(t)
                .ok_or(candle_core::Error::Msg("no gradient".into()))?;
            flat.push(g.flatten_all()?.to_vec1::<f64>()?);
        }
        Ok(Computed::new(value.to_scalar::<f64>()?, flat))
    };
    r.measure(
        case,
        || loss(black_box(&detached)).expect("candle forward"),
        || {
            let value = loss(black_box(&tracked)).expect("candle forward");
            let grads = value.backward().expect("candle backward");
            (value, grads)
        },
        |g| view(g).expect("candle results"),
    );
    Ok(())
}

pub fn run(r: &Runner) -> crate::Result<()> {
    if let Some(c) = r.case("T1") {
        measure(r, c, vec![tensor(c.input("a"), None)?], t1)?;
    }
    if let Some(c) = r.case("T2") {
        let w = tensor(c.input("w"), Some(&[100, 1]))?;
        let b = tensor(c.input("b"), None)?;
        let x = tensor(c.input("x"), None)?;
        let y = tensor(c.input("y"), Some(&[1024, 1]))?;
        measure(r, c, vec![w, b], |p| t2(p, &x, &y))?;
    }
    if let Some(c) = r.case("T3") {
        let params = (["w1", "b1", "w2", "b2"].iter())
            .map(|n| tensor(c.input(n), None))
            .collect::<Result<Vec<_>>>()?;
        let x = tensor(c.input("x"), None)?;
        let labels = tensor(c.input("labels"), None)?.to_dtype(DType::U32)?;
        measure(r, c, params, |p| t3(p, &x, &labels))?;
    }
    if let Some(c) = r.case("T4") {
        measure(r, c, vec![tensor(c.input("x"), None)?], t4)?;
    }
    Ok(())
}
