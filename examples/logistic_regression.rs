//! Logistic regression on generated data: a derived parameter struct (`w: Tensor<f64>`,
//! `b: f64`), a loss written as ordinary tensor code, its gradient generated at compile
//! time and checked once against finite differences, then trained with Adam, each epoch's
//! gradient summed over four shards of the points on all cores (`grad::parallel::sum`).
//!
//! The data are 2-d points drawn from a seeded normal distribution, labelled by which side
//! of a known line `2 x0 - 3 x1 + 0.5 = 0` they fall on, with label noise near the line
//! (so the classes are only "linearly separable-ish": no model is 100% right).
//!
//! Run with `cargo run --release --example logistic_regression`. Prints the gradient check,
//! the loss every few epochs, the learned line and the final accuracy on the training
//! points and on 500 new points. Set `GRAD_EXAMPLE_QUICK=1` for a shorter run (as CI does).

use grad::check::gradcheck;
use grad::optim::Adam;
use grad::{Differentiable, Tangent, Tensor, differentiable, parallel};

/// Points per shard of the training step's gradient.
const SHARD: usize = 250;

/// The model: `p(label = 1 | x) = sigmoid(x · w + b)`.
#[derive(Differentiable, Clone, Debug)]
struct Logistic {
    w: Tensor<f64>,
    b: f64,
}

impl Logistic {
    /// Mean binary cross-entropy of the model's logits on `x` (rows are points) against
    /// 0/1 labels `y`. `loss_grad` returns it with a `LogisticTangent { w, b }`.
    #[differentiable(wrt(self))]
    fn loss(&self, x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
        let z = x.matmul(&self.w) + self.b;
        grad::nn::binary_cross_entropy_with_logits(&z, y)
    }

    /// The fraction of points on the right side of the learned line.
    fn accuracy(&self, x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
        let z = x.matmul(&self.w) + self.b;
        let right = z
            .as_slice()
            .iter()
            .zip(y.as_slice())
            .filter(|&(&z, &y)| (z > 0.0) == (y > 0.5))
            .count();
        right as f64 / y.len() as f64
    }
}

/// Rows `[start, start + len)` of `x` (rows of 2) and `y`.
fn rows(x: &Tensor<f64>, y: &Tensor<f64>, start: usize, len: usize) -> (Tensor<f64>, Tensor<f64>) {
    let xs = x.as_slice()[2 * start..2 * (start + len)].to_vec();
    let ys = y.as_slice()[start..start + len].to_vec();
    (
        Tensor::from_vec(xs, &[len, 2]).expect("rows of 2"),
        Tensor::from_vec(ys, &[len]).expect("one label a row"),
    )
}

/// `n` points and their labels: the side of the line `2 x0 - 3 x1 + 0.5 = 0`, after noise of
/// standard deviation 0.5 is added to the score, so points near the line may be mislabelled.
fn make_data(n: usize, seed: u64) -> (Tensor<f64>, Tensor<f64>) {
    let x = Tensor::<f64>::randn(&[n, 2], seed);
    let noise = Tensor::<f64>::randn(&[n], seed + 1);
    let labels = (0..n)
        .map(|i| {
            let score = 2.0 * x.get(&[i, 0]) - 3.0 * x.get(&[i, 1]) + 0.5;
            f64::from(u8::from(score + 0.5 * noise.get(&[i]) > 0.0))
        })
        .collect();
    (x, Tensor::from_vec(labels, &[n]).expect("n labels"))
}

fn main() {
    let quick = std::env::var_os("GRAD_EXAMPLE_QUICK").is_some_and(|v| v != "0");
    let (epochs, report_every) = if quick { (60, 20) } else { (300, 50) };

    let (x, y) = make_data(1000, 42);
    let (x_test, y_test) = make_data(500, 7);
    let positives = y.as_slice().iter().filter(|&&v| v > 0.5).count();
    println!(
        "data: {} points in 2-d, {positives} labelled 1, {} labelled 0",
        y.len(),
        y.len() - positives
    );

    let mut model = Logistic {
        w: Tensor::from([0.1, -0.1]),
        b: 0.0,
    };

    // Check the generated gradient once against central finite differences.
    let (loss, g) = model.loss_grad(&x, &y);
    gradcheck(|m: &Logistic| m.loss(&x, &y), &model, &g, 1e-7, 1e-5)
        .expect("the generated gradient disagrees with finite differences");
    println!(
        "gradcheck: the generated gradient agrees with finite differences \
         (loss {loss:.4}, dL/dw = {:.5?}, dL/db = {:.5})",
        g.w.as_slice(),
        g.b
    );

    // Full-batch training: each epoch is one gradient of the loss over all points, computed
    // as four shards of 250 points on rayon's threads. The loss is a mean, so each shard's
    // loss and gradient count for its share of the points; the shards are summed in a fixed
    // order, so the run prints the same numbers on any number of cores.
    let n = y.len();
    let shards: Vec<_> = (0..n)
        .step_by(SHARD)
        .map(|start| rows(&x, &y, start, SHARD.min(n - start)))
        .collect();
    let mut opt = Adam::new(0.05);
    for epoch in 1..=epochs {
        let (loss, g) = parallel::sum(&shards, |(xs, ys)| {
            let share = ys.len() as f64 / n as f64;
            let (loss, mut g) = model.loss_grad(xs, ys);
            g.scale(share);
            (loss * share, g)
        });
        if epoch == 1 || epoch % report_every == 0 {
            println!(
                "epoch {epoch:>4}: loss {loss:.4}, training accuracy {:.1}%",
                100.0 * model.accuracy(&x, &y)
            );
        }
        opt.step(&mut model, &g);
    }

    let (w, b) = (model.w.as_slice(), model.b);
    // The generating line, scaled so that its x0 coefficient is 1, to compare directions.
    println!(
        "learned line: {:.3} x0 {:+.3} x1 {:+.3} = 0, that is x0 {:+.3} x1 {:+.3} = 0 \
         (the data came from x0 -1.500 x1 +0.250 = 0)",
        w[0],
        w[1],
        b,
        w[1] / w[0],
        b / w[0]
    );
    println!("final training loss: {:.4}", model.loss(&x, &y));
    println!(
        "training accuracy: {:.1}%, test accuracy on 500 new points: {:.1}%",
        100.0 * model.accuracy(&x, &y),
        100.0 * model.accuracy(&x_test, &y_test)
    );
}
