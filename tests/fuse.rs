//! Fused elementwise regions (`grad-macros/src/fuse.rs`, the runtime's `fuse`) against
//! analytic derivatives and against the same operations unfused: values have the primal's
//! bits (the fused sum adds in the unfused sum's order), gradients agree with the unfused
//! forward mode (`_jvp` does not fuse) to rounding.

use grad::{Real, Tensor, differentiable};

#[differentiable]
fn t4(x: &Tensor<f64>) -> f64 {
    let t = x.tanh();
    (&t * &t * (-x).exp()).sum()
}

#[test]
fn t4_matches_its_analytic_gradient() {
    for n in [
        0usize, 1, 7, 8, 9, 15, 16, 17, 255, 256, 257, 1000, 4095, 4096, 4097, 70_001,
    ] {
        let data: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 2.0).collect();
        let x = Tensor::from_vec(data.clone(), &[n]).unwrap();
        let (v, g) = t4_grad(&x);
        // The fused sum adds in the unfused sum's order: the primal's bits.
        assert_eq!(v.to_bits(), t4(&x).to_bits(), "n={n}");
        let want: f64 = data.iter().map(|&a| a.tanh().powi(2) * (-a).exp()).sum();
        assert!(
            (v - want).abs() <= 1e-12 * want.abs().max(1.0),
            "n={n}: {v} vs {want}"
        );
        for (i, (&a, &gi)) in data.iter().zip(g.as_slice()).enumerate() {
            let t = a.tanh();
            let d = (-a).exp() * (2.0 * t * (1.0 - t * t) - t * t);
            assert!(
                (gi - d).abs() <= 1e-13 * d.abs().max(1.0),
                "n={n} i={i}: {gi} vs {d}"
            );
        }
    }
}

type T64 = Tensor<f64>;

/// Distance in units in the last place (0 for equal values, both NaN, or equal infinities).
fn ulps(a: f64, b: f64) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_nan() || b.is_nan() || a.signum() != b.signum() {
        return u64::MAX;
    }
    a.to_bits().abs_diff(b.to_bits())
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

fn data(shape: &[usize], seed: u64) -> T64 {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| ((i as f64 + 1.0) * 0.7 + seed as f64 * 1.3).sin() * 1.7)
        .collect();
    Tensor::from_vec(v, shape).unwrap()
}

fn one_hot(shape: &[usize], k: usize) -> T64 {
    let mut t = Tensor::zeros(shape);
    t.as_mut_slice()[k] = 1.0;
    t
}

/// Each entry of a fused gradient against the unfused forward mode (`_jvp` does not fuse)
/// along the entry's basis direction.
fn agrees_with_forward_mode(what: &str, grad: &T64, jvp: impl Fn(&T64) -> f64) {
    for k in 0..grad.len() {
        let d = jvp(&one_hot(grad.shape(), k));
        let g = grad.as_slice()[k];
        assert!(
            close(g, d, 1e-13),
            "{what}[{k}]: fused {g} vs forward mode {d}"
        );
    }
}

// Broadcasting a row over a matrix, a constant, and a trailing sum.
#[differentiable]
fn bias_relu(x: &T64, b: &T64) -> f64 {
    ((x + b).relu() * 2.0).sum()
}

// A differentiated scalar (its cotangent a sum over the elements) and a trailing mean.
#[differentiable]
fn scaled(x: &T64, s: f64) -> f64 {
    (x.exp() * s - x / s).mean()
}

// A column against a row: both broadcast, both reduced back.
#[differentiable]
fn outer(c: &T64, r: &T64) -> f64 {
    (c.sigmoid() * r.tanh() + c.powi(3)).sum()
}

// Every other pointwise function the kernels have.
#[differentiable]
fn zoo(x: &T64, y: &T64) -> f64 {
    let a = (x * x + 1.0).sqrt().ln();
    let b = (y.sin() - x.cos()).abs() / (y * y + 2.0);
    (a * b + 2.0 / (x * x + 3.0) - y.powi(2)).sum()
}

#[test]
fn broadcasting_in_each_direction_matches_forward_mode() {
    for (xs, bs) in [
        (vec![3, 4], vec![4]),
        (vec![4], vec![3, 4]),
        (vec![2, 3, 4], vec![3, 1]),
        (vec![], vec![5]),
        (vec![1], vec![2, 1, 3]),
        (vec![9], vec![9]),
        (vec![17], vec![1]),
    ] {
        let (x, b) = (data(&xs, 1), data(&bs, 2));
        let (v, (gx, gb)) = bias_relu_grad(&x, &b);
        assert_eq!(
            v.to_bits(),
            bias_relu(&x, &b).to_bits(),
            "{xs:?} {bs:?}: {v}"
        );
        let zb = Tensor::zeros(b.shape());
        let zx = Tensor::zeros(x.shape());
        agrees_with_forward_mode("bias_relu x", &gx, |d| bias_relu_jvp(&x, &b, d, &zb).1);
        agrees_with_forward_mode("bias_relu b", &gb, |d| bias_relu_jvp(&x, &b, &zx, d).1);
    }
}

#[test]
fn a_scalar_input_gets_the_sum_of_its_cotangents() {
    for n in [1usize, 7, 8, 9, 31, 255, 256, 257, 300] {
        let x = data(&[n], 3);
        let s = 1.3;
        let (v, (gx, gs)) = scaled_grad(&x, s);
        assert_eq!(v.to_bits(), scaled(&x, s).to_bits(), "n={n}");
        let z = Tensor::zeros(&[n]);
        agrees_with_forward_mode("scaled x", &gx, |d| scaled_jvp(&x, s, d, 0.0).1);
        let ds = scaled_jvp(&x, s, &z, 1.0).1;
        assert!(
            close(gs, ds, 1e-13),
            "n={n}: d/ds fused {gs} vs forward mode {ds}"
        );
    }
}

/// A scalar's cotangent summed over many inner blocks and over rayon's blocks, against
/// its analytic value: d/ds mean(e^x s - x/s) = mean(e^x + x/s²).
#[test]
fn a_scalar_input_sums_across_blocks_and_threads() {
    for n in [511usize, 513, 70_001] {
        let x = data(&[n], 4);
        let s = 0.9;
        let (_, (gx, gs)) = scaled_grad(&x, s);
        let want: f64 = x
            .as_slice()
            .iter()
            .map(|&a| a.exp() + a / (s * s))
            .sum::<f64>()
            / n as f64;
        assert!(close(gs, want, 1e-12), "n={n}: d/ds {gs} vs {want}");
        for (k, (&a, &g)) in x.as_slice().iter().zip(gx.as_slice()).enumerate() {
            // Against the terms' size: the two cancel where e^x s = 1/s.
            let (want, size) = (
                (a.exp() * s - 1.0 / s) / n as f64,
                (a.exp() * s + 1.0 / s) / n as f64,
            );
            assert!(
                (g - want).abs() <= 1e-13 * size,
                "n={n} [{k}]: {g} vs {want}"
            );
        }
    }
}

#[test]
fn a_column_and_a_row_broadcast_together() {
    let (c, r) = (data(&[5, 1], 4), data(&[1, 6], 5));
    let (v, (gc, gr)) = outer_grad(&c, &r);
    assert_eq!(v.to_bits(), outer(&c, &r).to_bits());
    assert_eq!((gc.shape(), gr.shape()), (&[5, 1][..], &[1, 6][..]));
    let (zc, zr) = (Tensor::zeros(&[5, 1]), Tensor::zeros(&[1, 6]));
    agrees_with_forward_mode("outer c", &gc, |d| outer_jvp(&c, &r, d, &zr).1);
    agrees_with_forward_mode("outer r", &gr, |d| outer_jvp(&c, &r, &zc, d).1);
}

#[test]
fn every_pointwise_function_matches_forward_mode() {
    for n in [1usize, 15, 16, 17, 33] {
        let (x, y) = (data(&[n], 6), data(&[n], 7));
        let (v, (gx, gy)) = zoo_grad(&x, &y);
        assert!(
            close(v, zoo(&x, &y), 1e-13),
            "n={n}: {v} vs {}",
            zoo(&x, &y)
        );
        let z = Tensor::zeros(&[n]);
        agrees_with_forward_mode("zoo x", &gx, |d| zoo_jvp(&x, &y, d, &z).1);
        agrees_with_forward_mode("zoo y", &gy, |d| zoo_jvp(&x, &y, &z, d).1);
    }
}

// A tensor result: the region's value itself, and a pullback of any cotangent.
#[differentiable]
fn activation(x: &T64, b: &T64) -> T64 {
    (x + b).tanh() * 0.5 + x.sigmoid()
}

#[test]
fn a_tensor_result_equals_the_unfused_one_and_pulls_back_as_forward_mode_pushes() {
    for n in [0usize, 1, 7, 8, 9, 15, 16, 17, 255, 256, 257] {
        let (x, b) = (data(&[n], 8), data(&[n], 9));
        let (y, pb) = activation_vjp(&x, &b);
        let want = activation(&x, &b);
        for (a, w) in y.as_slice().iter().zip(want.as_slice()) {
            assert!(ulps(*a, *w) <= 2, "n={n}: fused {a} vs unfused {w}");
        }
        let ct = data(&[n], 10);
        let (gx, gb) = pb(ct.clone());
        let z = Tensor::zeros(&[n]);
        let dot = |t: &T64| -> f64 {
            t.as_slice()
                .iter()
                .zip(ct.as_slice())
                .map(|(a, b)| a * b)
                .sum()
        };
        agrees_with_forward_mode("activation x", &gx, |d| {
            dot(&activation_jvp(&x, &b, d, &z).1)
        });
        agrees_with_forward_mode("activation b", &gb, |d| {
            dot(&activation_jvp(&x, &b, &z, d).1)
        });
    }
}

#[differentiable(wrt(x))]
fn mse(x: &T64, y: &T64) -> f64 {
    let r = x - y;
    (&r * &r).mean()
}

#[test]
fn data_inputs_get_no_cotangent_and_large_inputs_split_over_threads() {
    // Above the runtime's split (2^16 elements) the blocks go over rayon's threads.
    for n in [10usize, 70_001, 200_000] {
        let (x, y) = (data(&[n], 11), data(&[n], 12));
        let (v, g) = mse_grad(&x, &y);
        assert!(
            close(v, mse(&x, &y), 1e-12),
            "n={n}: {v} vs {}",
            mse(&x, &y)
        );
        for (k, ((&a, &b), &gk)) in x
            .as_slice()
            .iter()
            .zip(y.as_slice())
            .zip(g.as_slice())
            .enumerate()
        {
            let want = 2.0 * (a - b) / n as f64;
            assert!(close(gk, want, 1e-14), "n={n} [{k}]: {gk} vs {want}");
        }
    }
}

#[test]
fn the_same_bits_on_one_and_two_threads() {
    let x = data(&[300_000], 13);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let (v1, g1) = one.install(|| t4_grad(&x));
    let (v2, g2) = two.install(|| t4_grad(&x));
    assert_eq!(v1.to_bits(), v2.to_bits());
    assert!(
        g1.as_slice()
            .iter()
            .zip(g2.as_slice())
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

#[test]
fn nan_and_infinity_go_through_as_unfused() {
    let x = Tensor::from_vec(
        vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            1e-310,
            750.0,
            -750.0,
            1.0,
        ],
        &[9],
    )
    .unwrap();
    let b = Tensor::zeros(&[9]);
    let (y, pb) = activation_vjp(&x, &b);
    let want = activation(&x, &b);
    for (a, w) in y.as_slice().iter().zip(want.as_slice()) {
        assert!(ulps(*a, *w) <= 2, "fused {a} vs unfused {w}");
    }
    let (gx, _) = pb(Tensor::ones(&[9]));
    let z = Tensor::zeros(&[9]);
    for k in 0..9 {
        // Elementwise: the pullback of ones is the Jacobian's diagonal.
        let d = activation_jvp(&x, &b, &one_hot(&[9], k), &z).1.as_slice()[k];
        let g = gx.as_slice()[k];
        assert!(
            close(g, d, 1e-13),
            "[{k}] x={}: fused {g} vs forward mode {d}",
            x.as_slice()[k]
        );
    }
}

#[test]
#[should_panic(expected = "do not broadcast")]
fn shapes_that_do_not_broadcast_panic_naming_them() {
    let _ = bias_relu_grad(&data(&[3, 4], 1), &data(&[3], 2));
}

#[differentiable]
fn t4_f32(x: &Tensor<f32>) -> f32 {
    let t = x.tanh();
    (&t * &t * (-x).exp()).sum()
}

#[test]
fn f32_regions_use_their_own_block_width() {
    for n in [1usize, 15, 16, 17, 1000] {
        let data: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
        let x = Tensor::from_vec(data.clone(), &[n]).unwrap();
        let (v, g) = t4_f32_grad(&x);
        let want: f64 = data
            .iter()
            .map(|&a| (a as f64).tanh().powi(2) * (-(a as f64)).exp())
            .sum();
        assert!(
            (v as f64 - want).abs() <= 1e-5 * want.abs().max(1.0),
            "n={n}: {v} vs {want}"
        );
        for (&a, &gi) in data.iter().zip(g.as_slice()) {
            let (a, t) = (a as f64, (a as f64).tanh());
            let d = (-a).exp() * (2.0 * t * (1.0 - t * t) - t * t);
            assert!(
                (gi as f64 - d).abs() <= 1e-5 * d.abs().max(1.0),
                "n={n}: {gi} vs {d}"
            );
        }
    }
}

// `_grad` of a returned fused sum or mean runs one loop for its value and its gradient
// (`fuse::fwd_bwd_sum`); `_vjp` runs one loop forward and one in the pullback. The two
// agree: values to the bit (both add in the unfused sum's order), a tensor's gradient to
// the bit (the same element code), a scalar's (a sum over elements, split differently) to
// rounding. Lengths cross the inner block (256), the sum's block (4096, the one-block path
// up to it) and the split over threads (2^16); the scalar input and the row broadcast over
// a matrix take the other sinks.
#[differentiable]
fn row_scaled(x: &T64, b: &T64, s: f64) -> f64 {
    ((x + b).tanh() * s + x.exp() / s).sum()
}

#[differentiable]
fn row_scaled_mean(x: &T64, b: &T64, s: f64) -> f64 {
    ((x + b).tanh() * s + x.exp() / s).mean()
}

#[test]
fn one_loop_grad_equals_the_two_loop_pullback() {
    type F = fn(&T64, &T64, f64) -> f64;
    type G = fn(&T64, &T64, f64) -> (f64, (T64, T64, f64));
    type P = fn(&T64, &T64, f64) -> (T64, T64, f64);
    fn sum_pb(x: &T64, b: &T64, s: f64) -> (T64, T64, f64) {
        row_scaled_vjp(x, b, s).1(1.0)
    }
    fn mean_pb(x: &T64, b: &T64, s: f64) -> (T64, T64, f64) {
        row_scaled_mean_vjp(x, b, s).1(1.0)
    }
    let cases: [(&str, F, G, P); 2] = [
        ("sum", row_scaled, row_scaled_grad, sum_pb),
        ("mean", row_scaled_mean, row_scaled_mean_grad, mean_pb),
    ];
    for rows in [0usize, 1, 3, 17, 64, 65, 129, 1025] {
        for (what, f, grad, pullback) in cases {
            let (x, b, s) = (data(&[rows, 64], 21), data(&[64], 22), 1.3);
            let (v, (gx, gb, gs)) = grad(&x, &b, s);
            let (px, pb, ps) = pullback(&x, &b, s);
            assert_eq!(v.to_bits(), f(&x, &b, s).to_bits(), "{what} rows={rows}");
            let bits = |t: &T64| t.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(gx.shape(), px.shape(), "{what} rows={rows}");
            assert_eq!(bits(&gx), bits(&px), "{what} rows={rows}: x's gradient");
            assert_eq!(gb.shape(), &[64], "{what} rows={rows}");
            for (k, (&g, &p)) in gb.as_slice().iter().zip(pb.as_slice()).enumerate() {
                assert!(close(g, p, 1e-12), "{what} rows={rows}: b[{k}] {g} vs {p}");
            }
            assert!(close(gs, ps, 1e-12), "{what} rows={rows}: s {gs} vs {ps}");
        }
    }
}

// A float parameter's `sigmoid` beside a tensor (found by the random tensor programs): the
// primal computes it with the scalar `sigmoid`, and so does the fused gradient, which
// takes it as an input of the region instead of evaluating it per element with the lane
// function (which rounds differently): the values keep the primal's bits.
#[differentiable]
fn scalar_beside_tensor(s: f64, t: &T64) -> f64 {
    let b = t.cos();
    b.mean() + (s.sigmoid() * &b).mean()
}

#[test]
fn scalar_operations_stay_scalar_code_in_a_region() {
    for (k, s) in [0.684_610_470_897_343_5, -0.096, 3.7, -12.5]
        .into_iter()
        .enumerate()
    {
        let t = data(&[4, 2], k as u64);
        let (v, (gs, gt)) = scalar_beside_tensor_grad(s, &t);
        assert_eq!(
            v.to_bits(),
            scalar_beside_tensor(s, &t).to_bits(),
            "s = {s}"
        );
        let (_, ds) = scalar_beside_tensor_jvp(s, &t, 1.0, &Tensor::zeros(&[4, 2]));
        assert!(close(gs, ds, 1e-13), "s = {s}: {gs} vs {ds}");
        agrees_with_forward_mode("t", &gt, |dt| scalar_beside_tensor_jvp(s, &t, 0.0, dt).1);
    }
}

// Past `REDUCE_PAR_THRESHOLD` (2^24) the unfused sum adds segments pairwise: the folded
// sums, in two loops and in one, follow it there too.
#[differentiable]
fn affine_sum(x: &T64) -> f64 {
    (x.exp() * 0.5 + 0.25).sum()
}

#[test]
fn sums_over_several_segments_keep_the_primal_bits() {
    let n = (1 << 24) + 4097;
    let x = Tensor::from_vec((0..n).map(|i| ((i % 1000) as f64).sin()).collect(), &[n]).unwrap();
    let primal = affine_sum(&x);
    let (v, g) = affine_sum_grad(&x);
    assert_eq!(v.to_bits(), primal.to_bits());
    let (v2, _) = affine_sum_vjp(&x);
    assert_eq!(v2.to_bits(), primal.to_bits());
    for (k, (&a, &d)) in x
        .as_slice()
        .iter()
        .zip(g.as_slice())
        .enumerate()
        .step_by(997)
    {
        assert!(
            close(d, 0.5 * a.exp(), 1e-15),
            "[{k}]: {d} vs {}",
            0.5 * a.exp()
        );
    }
}
