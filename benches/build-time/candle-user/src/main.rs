//! The build-time probe for candle: T2's logistic-regression loss and its gradient.

use candle_core::{Device, Result, Tensor, Var};

/// Mean of relu(z) - z y + ln(1 + e^{-|z|}), z = X w + b: the same stable form as grad's.
fn loss(w: &Tensor, b: &Tensor, x: &Tensor, y: &Tensor) -> Result<Tensor> {
    let z = x.matmul(&w.unsqueeze(1)?)?.squeeze(1)?.broadcast_add(b)?;
    let softplus = z.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    (z.relu()? - (&z * y)? + softplus)?.mean_all()
}

fn main() -> Result<()> {
    let cpu = &Device::Cpu;
    let x = Tensor::from_vec(vec![1.0f64, 2.0, -1.0, 0.5, 0.0, 3.0], (3, 2), cpu)?;
    let y = Tensor::from_vec(vec![1.0f64, 0.0, 1.0], 3, cpu)?;
    let w = Var::from_vec(vec![0.1f64, -0.2], 2, cpu)?;
    let b = Var::from_vec(vec![0.3f64], 1, cpu)?;
    let value = loss(&w, &b, &x, &y)?;
    let grads = value.backward()?;
    let dw = grads.get(&w).expect("w reached").to_vec1::<f64>()?;
    let db = grads.get(&b).expect("b reached").to_vec1::<f64>()?;
    println!(
        "loss {:.6}, dw {dw:?}, db {:.6}",
        value.to_scalar::<f64>()?,
        db[0]
    );
    Ok(())
}
