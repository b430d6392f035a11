//! The build-time probe for grad: T2's logistic-regression loss and its gradient.

use grad::{Tensor, differentiable};

#[differentiable(wrt(w, b))]
fn loss(w: &Tensor<f64>, b: f64, x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
    let z = x.matmul(w) + b;
    grad::nn::binary_cross_entropy_with_logits(&z, y)
}

fn main() {
    let x = Tensor::from_vec(vec![1.0, 2.0, -1.0, 0.5, 0.0, 3.0], &[3, 2]).expect("3x2");
    let y = Tensor::from_vec(vec![1.0, 0.0, 1.0], &[3]).expect("3 labels");
    let w = Tensor::from_vec(vec![0.1, -0.2], &[2]).expect("2 weights");
    let (value, (dw, db)) = loss_grad(&w, 0.3, &x, &y);
    println!("loss {value:.6}, dw {:?}, db {db:.6}", dw.as_slice());
}
