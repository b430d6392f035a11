//! Gradients computed concurrently from several threads agree with the single-threaded
//! result, and the values and tangents users share between threads are `Send + Sync`.

use grad::{Differentiable, Tensor, differentiable};
use std::thread;

#[derive(Differentiable, Clone, Debug)]
struct Model {
    w: Tensor<f64>,
    b: f64,
}

impl Model {
    #[differentiable(wrt(self))]
    fn loss(&self, x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
        let z = x.matmul(&self.w) + self.b;
        grad::nn::mse(&z.tanh(), y)
    }
}

#[differentiable]
fn scalar_loop(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] * s + 1.0).sin();
    }
    s
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn shared_types_are_send_and_sync() {
    assert_send_sync::<Tensor<f32>>();
    assert_send_sync::<Tensor<f64>>();
    assert_send_sync::<Model>();
    assert_send_sync::<ModelTangent>();
    assert_send_sync::<grad::NoTangent>();
    assert_send_sync::<grad::optim::Adam>();
}

#[test]
fn concurrent_gradients_agree_with_sequential_ones() {
    let model = Model {
        w: Tensor::rand_uniform(&[16, 4], -1.0, 1.0, 1),
        b: 0.1,
    };
    // Large enough that the kernels split work over threads inside each call too.
    let x = Tensor::rand_uniform(&[4096, 16], -1.0, 1.0, 2);
    let y = Tensor::rand_uniform(&[4096, 4], -1.0, 1.0, 3);
    let (v0, g0) = model.loss_grad(&x, &y);
    let xs: Vec<f64> = (0..200).map(|i| (i as f64 * 0.37).sin()).collect();
    let (s0, h0) = scalar_loop_grad(&xs);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    for _ in 0..5 {
                        out.push((model.loss_grad(&x, &y), scalar_loop_grad(&xs)));
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            for ((v, g), (s, hh)) in h.join().unwrap() {
                // Exactly equal: the same operations in the same order on every thread.
                assert_eq!(v, v0);
                assert_eq!(g.w.to_vec(), g0.w.to_vec());
                assert_eq!(g.b, g0.b);
                assert_eq!((s, hh), (s0, h0.clone()));
            }
        }
    });
}
