//! The grad side of the README's "Coming from PyTorch or JAX": every `rust` block of that
//! section is here, line for line, as a test (the MPI one compiled with `--features mpi`
//! only), and `readme_blocks_are_these_tests` fails when the README and this file drift
//! apart.

use grad::optim::Adam;
use grad::{Differentiable, Tangent, Tensor, differentiable, nn};

#[test]
fn seed_case() {
    #[differentiable]
    fn loss(a: &Tensor) -> f32 {
        (a * 5.0).sum()
    }

    let a = Tensor::from([5.0]);
    let (value, grad_a) = loss_grad(&a); // a new value: nothing is stored on `a`
    assert_eq!((value, grad_a.to_vec()), (25.0, vec![5.0]));
}

#[test]
fn autograd_grad() {
    #[differentiable]
    fn f(x: f64, y: f64) -> f64 {
        x * x * y
    }

    let (value, (dx, dy)) = f_grad(2.0, 3.0); // every float parameter, in order
    assert_eq!((value, dx, dy), (12.0, 12.0, 4.0));
}

#[test]
fn jax_grad_argnums() {
    #[differentiable(wrt(x))] // argnums=0
    fn f(x: f64, y: f64) -> f64 {
        x.sin() * y
    }

    #[differentiable] // argnums=(0, 1): every float parameter
    fn g(x: f64, y: f64) -> f64 {
        x.sin() * y
    }

    let (_, dx) = f_grad(0.0, 2.0);
    let (_, (gx, gy)) = g_grad(0.0, 2.0);
    assert_eq!((dx, gx, gy), (2.0, 2.0, 0.0));
}

#[test]
fn value_and_grad() {
    #[differentiable]
    fn loss(w: &Tensor<f64>) -> f64 {
        w.powi(2).sum()
    }

    let (value, g) = loss_grad(&Tensor::from([1.0, 2.0]));
    assert_eq!((value, g.to_vec()), (5.0, vec![2.0, 4.0]));
}

#[test]
fn jvp_and_vjp() {
    #[differentiable]
    fn to_xy(r: f64, t: f64) -> [f64; 2] {
        [r * t.cos(), r * t.sin()]
    }

    // jax.jvp: the derivative along (dr, dt) = (0, 1), one tangent per parameter.
    let (xy, dxy) = to_xy_jvp(2.0, 0.0, 0.0, 1.0);
    assert_eq!((xy, dxy), ([2.0, 0.0], [0.0, 2.0]));
    // jax.vjp: the pullback of the cotangent [0, 1], one cotangent per parameter.
    let (_, pullback) = to_xy_vjp(2.0, 0.0);
    assert_eq!(pullback([0.0, 1.0]), (0.0, 2.0));
}

#[test]
fn hessian_vector_product() {
    #[differentiable(order = 2)]
    fn f(x: &[f64]) -> f64 {
        x[0] * x[0] * x[1] // H = [[2 x1, 2 x0], [2 x0, 0]]
    }

    // jax.jvp(jax.grad(f), (x,), (v,)): the value, the gradient and H·v, one call.
    let (value, g, hv) = f_hvp(&[1.0, 2.0], &[1.0, 0.0]);
    assert_eq!((value, g, hv), (2.0, vec![4.0, 1.0], vec![4.0, 2.0])); // H·v = [4, 2]
}

#[test]
fn stop_gradient() {
    #[differentiable]
    fn f(x: f64) -> f64 {
        x * grad::stop_gradient(x) // lax.stop_gradient, torch's .detach()
    }

    assert_eq!(f(3.0), 9.0); // torch.no_grad(): the plain function records nothing
    assert_eq!(f_grad(3.0), (9.0, 3.0)); // d/dx (x·c) = c, c = x held constant
}

#[derive(Differentiable, Clone)]
struct Model {
    w: Tensor<f64>,
}

impl Model {
    #[differentiable(wrt(self))]
    fn loss(&self, x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
        nn::mse(&x.matmul(&self.w), y)
    }
}

/// y = x·[2, -1], in 4 batches of 8 rows.
fn batches() -> Vec<(Tensor<f64>, Tensor<f64>)> {
    (0..4)
        .map(|k| {
            let x = Tensor::rand_uniform(&[8, 2], -1.0, 1.0, k);
            let y = x.matmul(&Tensor::from([2.0, -1.0]));
            (x, y)
        })
        .collect()
}

#[test]
fn optimizer_step() {
    let batches = batches();
    let w = Tensor::zeros(&[2]);
    let mut model = Model { w };
    let mut opt = Adam::new(0.05);
    for _epoch in 0..200 {
        for (x, y) in &batches {
            let (_loss, g) = model.loss_grad(x, y); // g: ModelTangent, a new value
            opt.step(&mut model, &g); // no zero_grad(): nothing accumulates
        }
    }
    assert!((model.w.get(&[0]) - 2.0).abs() < 1e-2 && (model.w.get(&[1]) + 1.0).abs() < 1e-2);
}

#[test]
fn data_parallel() {
    let batches = batches();
    let (mut model, mut opt) = (
        Model {
            w: Tensor::zeros(&[2]),
        },
        Adam::new(0.05),
    );
    // One gradient per shard on rayon's threads, summed in a fixed order (the same bits
    // for any thread count); each shard's mean weighs a quarter of the batch's.
    let (loss, mut g) = grad::parallel::sum(&batches, |(x, y)| model.loss_grad(x, y));
    g.scale(0.25);
    // The same as the gradient of the whole batch of 32 rows.
    let x = Tensor::cat(&batches.iter().map(|b| &b.0).collect::<Vec<_>>(), 0);
    let y = Tensor::cat(&batches.iter().map(|b| &b.1).collect::<Vec<_>>(), 0);
    let (whole_loss, whole) = model.loss_grad(&x, &y);
    assert!((loss / 4.0 - whole_loss).abs() < 1e-12);
    assert!((0..2).all(|i| (g.w.get(&[i]) - whole.w.get(&[i])).abs() < 1e-12));
    opt.step(&mut model, &g);
}

/// Compiled with `--features mpi` (clippy does in CI), not run: it needs `mpirun`.
#[cfg(feature = "mpi")]
#[allow(dead_code)]
fn mpi_data_parallel(mut model: Model, x: &Tensor<f64>, y: &Tensor<f64>) {
    let mut opt = Adam::new(0.05);
    let universe = grad::mpi::initialize().expect("MPI is initialized once");
    let world = universe.world();
    grad::mpi::broadcast(&world, 0, &mut model); // every rank starts from rank 0's weights
    let (_, mut g) = model.loss_grad(x, y); // this rank's shard of the batch
    grad::mpi::allreduce_mean(&world, &mut g); // DDP's all-reduce, pmean
    opt.step(&mut model, &g);
}

/// The section's `rust` blocks, each found line for line (trimmed, in order) in this file.
#[test]
fn readme_blocks_are_these_tests() {
    let readme = include_str!("../README.md");
    let here: Vec<&str> = include_str!("readme_pytorch_jax.rs")
        .lines()
        .map(str::trim)
        .collect();
    let start = readme
        .find("\n## Coming from PyTorch or JAX")
        .expect("the README has the section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut blocks = 0;
    let mut rest = section;
    while let Some(open) = rest.find("```rust\n") {
        let body = &rest[open + 8..];
        let close = body.find("```").expect("a closed block");
        let lines: Vec<&str> = body[..close]
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let found = (0..here.len()).any(|i| {
            let mut j = i;
            lines.iter().all(|l| {
                while j < here.len() && here[j].is_empty() {
                    j += 1;
                }
                let ok = j < here.len() && here[j] == *l;
                j += 1;
                ok
            })
        });
        assert!(
            found,
            "README block not in tests/readme_pytorch_jax.rs:\n{}",
            &body[..close]
        );
        blocks += 1;
        rest = &body[close + 3..];
    }
    assert!(blocks >= 9, "only {blocks} rust blocks in the section");
}
