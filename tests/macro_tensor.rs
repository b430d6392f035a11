//! Tensor code in differentiable functions: the quick start's tensor form, broadcasting of
//! scalar and row biases, matmul, reductions, activations and `grad::nn` losses, against
//! finite differences and between modes.

use grad::check::gradcheck;
use grad::{Tensor, differentiable};

type T64 = Tensor<f64>;

#[differentiable]
fn quick(a: &Tensor) -> f32 {
    (a * 5.0).sum()
}

#[test]
fn quick_start_tensor_form() {
    // A = [5.0], loss = sum(A * 5) = 25, dloss/dA = [5.0] (raw, unscaled).
    let a = Tensor::from([5.0f32]);
    let (loss, g) = quick_grad(&a);
    assert_eq!(loss, 25.0);
    assert_eq!(g.to_vec(), vec![5.0]);
    let (_, t) = quick_jvp(&a, &Tensor::from([1.0f32]));
    assert_eq!(t, 5.0);
}

#[differentiable(wrt(w, b))]
fn logistic(w: &T64, b: f64, x: &T64, y: &T64) -> f64 {
    let z = x.matmul(w) + b;
    grad::nn::binary_cross_entropy_with_logits(&z, y)
}

#[differentiable(wrt(w1, b1, w2, b2))]
fn mlp(w1: &T64, b1: &T64, w2: &T64, b2: &T64, x: &T64, labels: &[usize]) -> f64 {
    let h = (x.matmul(w1) + b1).relu();
    let logits = h.matmul(w2) + b2;
    grad::nn::cross_entropy(&logits, labels)
}

#[differentiable]
fn elementwise(x: &T64) -> f64 {
    let t = x.tanh();
    (&t * &t * (-x).exp()).sum()
}

#[differentiable]
fn reductions(x: &T64, v: &T64) -> f64 {
    let s = x.softmax(1);
    let m = x.max_axis(1);
    let r = x.sum_axis(0) * v + x.mean_axis(1).dot(&m);
    let l = x.log_softmax(1).mean();
    (s * x).sum() + r.sum() + l + x.t().reshape(&[6]).dot(&x.reshape(&[6]))
}

/// A tensor times itself in a loop (where nothing fuses): one value as both factors.
#[differentiable]
fn squares(x: &T64) -> f64 {
    let mut h = x.clone();
    for _ in 0..2 {
        let g = h.clone() * 0.5;
        h = &g * &g + x;
    }
    h.sum()
}

#[differentiable]
fn carried_clone(x: &T64, w: &T64) -> f64 {
    // `x.clone()` of a reference is an owned tensor, reassigned in the loop.
    let mut h = x.clone();
    for _ in 0..3 {
        h = (h.matmul(w)).tanh();
    }
    h.sum()
}

#[differentiable(wrt(w))]
fn layer(w: &T64, x: &T64) -> f64 {
    x.matmul(w).tanh().sum()
}

#[differentiable(wrt(w))]
fn batch(w: &T64, xs: &[T64]) -> f64 {
    // `layer`'s `x` slot is `NoTangent`; `&xs[k]` is a reference already, not borrowed again.
    let mut s = 0.0;
    for k in 0..xs.len() {
        s += layer(w, &xs[k]) + (w.t().matmul(&xs[k]) * &xs[k]).sum();
    }
    s
}

fn rand(shape: &[usize], seed: u64) -> T64 {
    Tensor::rand_uniform(shape, -1.0, 1.0, seed)
}

#[test]
fn logistic_regression_gradient() {
    let (x, w) = (rand(&[8, 3], 1), rand(&[3], 2));
    let y = Tensor::from_vec((0..8).map(|i| (i % 2) as f64).collect(), &[8]).unwrap();
    let b = 0.3;
    let (v, (gw, gb)) = logistic_grad(&w, b, &x, &y);
    assert_eq!(v, logistic(&w, b, &x, &y));
    gradcheck(|w: &T64| logistic(w, b, &x, &y), &w, &gw, 1e-7, 1e-6).unwrap();
    gradcheck(|b: &f64| logistic(&w, *b, &x, &y), &b, &gb, 1e-7, 1e-6).unwrap();
    // Forward mode along the gradient gives |g|².
    let (_, t) = logistic_jvp(&w, b, &x, &y, &gw, gb, grad::NoTangent, grad::NoTangent);
    let norm2 = gw.to_vec().iter().map(|g| g * g).sum::<f64>() + gb * gb;
    assert!(
        (t - norm2).abs() <= 1e-12 * norm2.max(1.0),
        "{t} vs {norm2}"
    );
}

#[test]
fn mlp_gradient() {
    let x = rand(&[5, 4], 3);
    let (w1, b1, w2, b2) = (
        rand(&[4, 6], 4),
        rand(&[6], 5),
        rand(&[6, 3], 6),
        rand(&[3], 7),
    );
    let labels = [0, 2, 1, 1, 0];
    let (v, (g1, gb1, g2, gb2)) = mlp_grad(&w1, &b1, &w2, &b2, &x, &labels);
    assert_eq!(v, mlp(&w1, &b1, &w2, &b2, &x, &labels));
    gradcheck(
        |w: &T64| mlp(w, &b1, &w2, &b2, &x, &labels),
        &w1,
        &g1,
        1e-7,
        1e-6,
    )
    .unwrap();
    gradcheck(
        |b: &T64| mlp(&w1, b, &w2, &b2, &x, &labels),
        &b1,
        &gb1,
        1e-7,
        1e-6,
    )
    .unwrap();
    gradcheck(
        |w: &T64| mlp(&w1, &b1, w, &b2, &x, &labels),
        &w2,
        &g2,
        1e-7,
        1e-6,
    )
    .unwrap();
    gradcheck(
        |b: &T64| mlp(&w1, &b1, &w2, b, &x, &labels),
        &b2,
        &gb2,
        1e-7,
        1e-6,
    )
    .unwrap();
}

#[test]
fn elementwise_and_reductions() {
    let x = rand(&[2, 3], 8);
    let (_, g) = elementwise_grad(&x);
    gradcheck(elementwise, &x, &g, 1e-8, 1e-6).unwrap();
    let v = rand(&[3], 9);
    let (val, (gx, gv)) = reductions_grad(&x, &v);
    assert_eq!(val, reductions(&x, &v));
    gradcheck(|x: &T64| reductions(x, &v), &x, &gx, 1e-7, 1e-6).unwrap();
    gradcheck(|v: &T64| reductions(&x, v), &v, &gv, 1e-7, 1e-6).unwrap();
    let (_, pb) = reductions_vjp(&x, &v);
    let (px, pv) = pb(1.0);
    assert_eq!((px.to_vec(), pv.to_vec()), (gx.to_vec(), gv.to_vec()));
}

#[test]
fn a_clone_of_a_reference_is_carried_through_a_loop() {
    let (x, w) = (rand(&[2, 3], 10), rand(&[3, 3], 11));
    let (val, g) = squares_grad(&x);
    assert_eq!(val, squares(&x));
    gradcheck(squares, &x, &g, 1e-7, 1e-6).unwrap();
    let (_, (gx, gw)) = carried_clone_grad(&x, &w);
    gradcheck(|x: &T64| carried_clone(x, &w), &x, &gx, 1e-7, 1e-6).unwrap();
    gradcheck(|w: &T64| carried_clone(&x, w), &w, &gw, 1e-7, 1e-6).unwrap();
    let (_, t) = carried_clone_jvp(&x, &w, &x, &w);
    let expected: f64 = [(&gx, &x), (&gw, &w)]
        .iter()
        .map(|(g, d)| {
            g.to_vec()
                .iter()
                .zip(d.to_vec())
                .map(|(a, b)| a * b)
                .sum::<f64>()
        })
        .sum();
    assert!(
        (t - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "{t} vs {expected}"
    );
}

#[test]
fn constant_reference_arguments_in_both_modes() {
    let w = rand(&[3, 3], 12);
    let xs = vec![rand(&[3], 13), rand(&[3], 14)];
    let (_, g) = batch_grad(&w, &xs);
    gradcheck(|w: &T64| batch(w, &xs), &w, &g, 1e-7, 1e-6).unwrap();
    let (_, t) = batch_jvp(&w, &xs, &w, grad::NoTangent);
    let expected: f64 = g.to_vec().iter().zip(w.to_vec()).map(|(a, b)| a * b).sum();
    assert!(
        (t - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "{t} vs {expected}"
    );
}

#[differentiable(wrt(w))]
fn lin(w: &T64, x: &T64) -> T64 {
    x.matmul(w)
}

#[differentiable(wrt(w))]
fn through_lin(w: &T64, x: &T64) -> f64 {
    lin(w, x).sum()
}

#[differentiable(reverse)]
fn pair_of(x: f64, y: f64) -> (f64, f64) {
    (x * y, x + y)
}

#[test]
fn calls_pass_data_tensors_in_both_modes() {
    // through_lin = Σ X w: ∂w = column sums of X; forward along v gives Σ X v.
    let x = rand(&[4, 3], 11);
    let w = rand(&[3], 12);
    let (_, g) = through_lin_grad(&w, &x);
    let (_, t) = through_lin_jvp(&w, &x, &g, grad::NoTangent);
    let n2: f64 = g.to_vec().iter().map(|v| v * v).sum();
    assert!((t - n2).abs() <= 1e-12 * n2.max(1.0));
    gradcheck(|w: &T64| through_lin(w, &x), &w, &g, 1e-8, 1e-6).unwrap();
    // `reverse` on a non-scalar result writes `_vjp` (and no `_grad`).
    let (v, pb) = pair_of_vjp(2.0, 3.0);
    assert_eq!(v, (6.0, 5.0));
    assert_eq!(pb((1.0, 1.0)), (3.0 + 1.0, 2.0 + 1.0));
}

// Element reads, slices and gathers: `get`, `narrow`, `index_select` are linear primitives,
// their index arguments not differentiated.

#[differentiable]
fn pick(t: &T64) -> f64 {
    t.narrow(0, 1, 2).index_select(0, &[1, 1, 0]).get(&[2]) * 3.0
}

#[differentiable]
fn embed(table: &T64, w: &T64, ids: &[usize]) -> f64 {
    // Rows of an embedding table, a repeated id among them, through a nonlinearity.
    let rows = table.index_select(0, ids);
    let h = rows.matmul(w).tanh();
    let window = h.narrow(1, 1, 2);
    (&window * &window).sum() + h.get(&[0, 0]) * table.get(&[1, 2])
}

// Index arrays built from loop variables (`&[i, j]`): the marker keeps the array itself, so
// the reverse sweep has it in every iteration (it once kept a reference to a temporary).
#[differentiable]
fn read_in_loop(t: &T64, k: usize) -> f64 {
    // `get` with loop-dependent indices; `narrow` with a computed start; a computed shape.
    let mut s = 0.0;
    for i in 0..3 {
        for j in 0..2 {
            s += t.get(&[i, j]) * t.get(&[i, j + 1]);
        }
    }
    s + t.narrow(1, 3 - 2, 2).exp().sum() + t.reshape(&[k, 9 / k]).sum_axis(1).get(&[k - 1])
}

/// `<g, v>` of two tensors of one shape.
fn inner(g: &T64, v: &T64) -> f64 {
    g.to_vec().iter().zip(v.to_vec()).map(|(a, b)| a * b).sum()
}

#[test]
fn get_narrow_index_select_by_hand() {
    // t = [t0, t1, t2, t3]; narrow(0, 1, 2) = [t1, t2]; index_select [1, 1, 0] = [t2, t2, t1];
    // get(2) = t1, so f = 3 t1 and df/dt = [0, 3, 0, 0].
    let t = Tensor::from([0.5, -1.5, 2.0, 4.0]);
    let (v, g) = pick_grad(&t);
    assert_eq!(v, -4.5);
    assert_eq!(g.to_vec(), vec![0.0, 3.0, 0.0, 0.0]);
    let (_, pb) = pick_vjp(&t);
    assert_eq!(pb(2.0).to_vec(), vec![0.0, 6.0, 0.0, 0.0]);
    let (_, d) = pick_jvp(&t, &Tensor::from([1.0, 10.0, 100.0, 1000.0]));
    assert_eq!(d, 30.0);
}

#[test]
fn embedding_lookup_against_finite_differences_in_both_modes() {
    let (table, w) = (rand(&[4, 3], 20), rand(&[3, 5], 21));
    let ids = [2, 0, 2, 3];
    let (v, (gt, gw)) = embed_grad(&table, &w, &ids);
    assert_eq!(v, embed(&table, &w, &ids));
    gradcheck(|t: &T64| embed(t, &w, &ids), &table, &gt, 1e-7, 1e-6).unwrap();
    gradcheck(|w: &T64| embed(&table, w, &ids), &w, &gw, 1e-7, 1e-6).unwrap();
    // Row 1 is never looked up: its gradient comes from `table.get(&[1, 2])` alone.
    assert_eq!(gt.get(&[1, 0]), 0.0);
    assert_ne!(gt.get(&[1, 2]), 0.0);
    // Forward mode along random directions agrees with the gradient.
    let (dt, dw) = (rand(&[4, 3], 22), rand(&[3, 5], 23));
    let (_, tan) = embed_jvp(&table, &w, &ids, &dt, &dw, grad::NoTangent);
    let want = inner(&gt, &dt) + inner(&gw, &dw);
    assert!(
        (tan - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{tan} vs {want}"
    );
}

#[test]
fn reads_with_loop_indices_in_both_modes() {
    let t = rand(&[3, 3], 24);
    let (v, g) = read_in_loop_grad(&t, 3);
    assert_eq!(v, read_in_loop(&t, 3));
    gradcheck(|t: &T64| read_in_loop(t, 3), &t, &g, 1e-7, 1e-6).unwrap();
    let (_, pb) = read_in_loop_vjp(&t, 3);
    let (g2, _) = pb(1.0);
    assert_eq!(g2.to_vec(), g.to_vec());
    let h = 1e-6;
    for seed in 25..28 {
        let d = rand(&[3, 3], seed);
        let (v, tan) = read_in_loop_jvp(&t, 3, &d, grad::NoTangent);
        assert_eq!(v, read_in_loop(&t, 3));
        let fd =
            (read_in_loop(&(&t + &(&d * h)), 3) - read_in_loop(&(&t - &(&d * h)), 3)) / (2.0 * h);
        assert!(
            (tan - fd).abs() <= 1e-6 * fd.abs().max(1.0),
            "{tan} vs {fd}"
        );
        let want = inner(&g, &d);
        assert!(
            (tan - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{tan} vs {want}"
        );
    }
}

// Joins: `Tensor::cat` and `Tensor::stack` take an array of references, whose adjoint the
// pullback gives as a `Vec` (one cotangent per tensor) and whose tangent holds the parts'
// tangents by reference.

#[differentiable]
fn cat_weighted(a: &T64, b: &T64) -> f64 {
    let w = Tensor::from([10.0, 20.0, 30.0]);
    (Tensor::cat(&[a, b], 0) * w).sum()
}

#[differentiable]
fn stack_square(a: &T64) -> f64 {
    let twice = a * 2.0;
    let s = Tensor::stack(&[a, &twice], 1);
    (&s * &s).sum()
}

#[differentiable]
fn joins(a: &T64, b: &T64) -> f64 {
    // a: [2, 3], b: [2, 1]. Columns joined, then the result and its square stacked, a
    // tensor joined with itself, and references of locals and parameters mixed.
    let c = Tensor::cat(&[a, b, &a.exp()], 1);
    let sq = &c * &c;
    let s = Tensor::stack(&[&c, &sq], 0).tanh();
    let rows = Tensor::cat(&[&c, &c, &sq], 0);
    s.sum_axis(0).sum() + rows.sin().mean() + Tensor::stack(&[b, b], 2).sum()
}

#[differentiable]
fn joins_in_loop_and_branch(a: &T64, b: &T64, n: usize) -> f64 {
    // a: [2], b: [1]. A loop-carried tensor rebuilt by `cat` of a window of itself and `b`
    // every iteration; a branch picking `stack` along one axis or the other.
    let mut h = a.clone();
    for i in 0..n {
        let head = h.narrow(0, 1, 1).tanh();
        h = Tensor::cat(&[b, &head], 0) * (1.0 + 0.1 * i as f64);
        if i % 2 == 0 {
            h = Tensor::stack(&[&h, a], 0).sum_axis(0);
        } else {
            let s = Tensor::stack(&[a, &h], 1);
            h = s.sum_axis(1) * 0.5;
        }
    }
    (&h * &h).sum()
}

#[differentiable(wrt(a))]
fn cat_with_data(a: &T64, data: &T64) -> f64 {
    // Only `a` is differentiated: `data`'s part gets no gradient, its tangent is zero.
    let d = data * 3.0;
    Tensor::cat(&[&d, a, data], 0).exp().sum()
}

#[test]
fn cat_and_stack_by_hand() {
    // cat([a, b]) = [a0, a1, b0], times w = [10, 20, 30]: f = 10 a0 + 20 a1 + 30 b0.
    let (a, b) = (Tensor::from([1.0, 2.0]), Tensor::from([3.0]));
    let (v, (ga, gb)) = cat_weighted_grad(&a, &b);
    assert_eq!(v, 10.0 + 40.0 + 90.0);
    assert_eq!((ga.to_vec(), gb.to_vec()), (vec![10.0, 20.0], vec![30.0]));
    let (_, pb) = cat_weighted_vjp(&a, &b);
    let (ga, gb) = pb(0.5);
    assert_eq!((ga.to_vec(), gb.to_vec()), (vec![5.0, 10.0], vec![15.0]));
    let (da, db) = (Tensor::from([1.0, -1.0]), Tensor::from([2.0]));
    let (_, d) = cat_weighted_jvp(&a, &b, &da, &db);
    assert_eq!(d, 10.0 - 20.0 + 60.0);
    // stack([a, 2a], 1) squared and summed is a0² + 4a0² + a1² + 4a1² = 5 |a|²: the
    // gradient is 10 a, the tangent along da is 10 <a, da>.
    let (v, g) = stack_square_grad(&a);
    assert_eq!(v, 25.0);
    assert_eq!(g.to_vec(), vec![10.0, 20.0]);
    let (_, d) = stack_square_jvp(&a, &da);
    assert_eq!(d, 10.0 * (1.0 - 2.0));
}

/// `f_grad` against central differences, its pullback's and its tangents' agreement with it.
fn check_two(
    a: &T64,
    b: &T64,
    f: impl Fn(&T64, &T64) -> f64,
    grad: impl Fn(&T64, &T64) -> (f64, (T64, T64)),
    pullback: impl Fn(&T64, &T64) -> (T64, T64),
    jvp: impl Fn(&T64, &T64, &T64, &T64) -> (f64, f64),
    seed: u64,
) {
    let (v, (ga, gb)) = grad(a, b);
    assert_eq!(v, f(a, b));
    gradcheck(|a: &T64| f(a, b), a, &ga, 1e-7, 1e-6).unwrap();
    gradcheck(|b: &T64| f(a, b), b, &gb, 1e-7, 1e-6).unwrap();
    let (pa, pb) = pullback(a, b);
    assert_eq!((pa.to_vec(), pb.to_vec()), (ga.to_vec(), gb.to_vec()));
    for s in seed..seed + 3 {
        let (da, db) = (rand(a.shape(), s), rand(b.shape(), s + 100));
        let (v2, tan) = jvp(a, b, &da, &db);
        assert_eq!(v2, v);
        let want = inner(&ga, &da) + inner(&gb, &db);
        assert!(
            (tan - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{tan} vs {want}"
        );
    }
}

#[test]
fn cat_and_stack_against_finite_differences_in_both_modes() {
    check_two(
        &rand(&[2, 3], 30),
        &rand(&[2, 1], 31),
        joins,
        joins_grad,
        |a, b| joins_vjp(a, b).1(1.0),
        joins_jvp,
        32,
    );
}

#[test]
fn cat_and_stack_in_loops_and_branches_in_both_modes() {
    for n in [0, 1, 2, 5] {
        check_two(
            &rand(&[2], 40 + n as u64),
            &rand(&[1], 50 + n as u64),
            |a, b| joins_in_loop_and_branch(a, b, n),
            |a, b| joins_in_loop_and_branch_grad(a, b, n),
            |a, b| {
                let (ga, gb, _) = joins_in_loop_and_branch_vjp(a, b, n).1(1.0);
                (ga, gb)
            },
            |a, b, da, db| joins_in_loop_and_branch_jvp(a, b, n, da, db, grad::NoTangent),
            60,
        );
    }
}

#[test]
fn cat_of_a_differentiated_and_a_constant_part() {
    let (a, data) = (rand(&[3], 70), rand(&[2], 71));
    let (v, g) = cat_with_data_grad(&a, &data);
    assert_eq!(v, cat_with_data(&a, &data));
    // d/da sum(exp([3 data, a, data])) = exp(a).
    assert_eq!(g.to_vec(), a.exp().to_vec());
    gradcheck(|a: &T64| cat_with_data(a, &data), &a, &g, 1e-7, 1e-6).unwrap();
    let da = rand(&[3], 72);
    let (_, tan) = cat_with_data_jvp(&a, &data, &da, grad::NoTangent);
    let want = inner(&g, &da);
    assert!((tan - want).abs() <= 1e-12 * want.abs().max(1.0));
}

#[differentiable]
fn stack_pair(a: &T64, b: &T64) -> f64 {
    Tensor::stack(&[a, b], 0).sum()
}

#[test]
#[should_panic(expected = "cat: shapes [2, 3] and [3, 1] differ outside axis 1")]
fn cat_of_mismatched_shapes_in_a_gradient_names_both() {
    joins_grad(&rand(&[2, 3], 80), &rand(&[3, 1], 81));
}

#[test]
#[should_panic(expected = "cat: shapes [2, 3] and [3, 1] differ outside axis 1")]
fn cat_of_mismatched_shapes_in_a_pullback_names_both() {
    let _ = joins_vjp(&rand(&[2, 3], 84), &rand(&[3, 1], 85));
}

#[test]
#[should_panic(expected = "stack: shapes [2] and [3] differ")]
fn stack_of_mismatched_shapes_in_a_tangent_names_both() {
    let (a, b) = (rand(&[2], 82), rand(&[3], 83));
    stack_pair_jvp(&a, &b, &a, &b);
}

// Tensors built from differentiated scalars: `Tensor::from_vec(..).unwrap()`,
// `Tensor::from_slice(..).expect(..)`, `Tensor::from` of an array or a `Vec`, and
// `Tensor::scalar(x)`. The data's cotangent is the
// output's, moved back into a `Vec`; its tangent is laid out in the tensor's shape.

#[differentiable(order = 2)]
fn built(a: f64, b: f64) -> f64 {
    let t = Tensor::from_vec(vec![a, a * b, b.sin()], &[3]).unwrap();
    let w = Tensor::from([1.0, -2.0, 0.5]);
    let pair = Tensor::from([a, b]) * Tensor::from(vec![b, 1.0]);
    (t.exp() * w).sum() + (Tensor::scalar(a) * Tensor::scalar(b)).sum() + pair.tanh().sum()
}

#[differentiable]
fn built_from_slice(x: &[f64], k: f64) -> f64 {
    let v: Vec<f64> = x.iter().map(|e| e * k).collect();
    let t = Tensor::from_slice(&v, &[2, 2]).expect("four values");
    let s = Tensor::scalar(k);
    let col = Tensor::from_vec(vec![x[0], k], &[2, 1]).unwrap();
    ((&t * &s).tanh().matmul(&col)).sum()
}

#[differentiable]
fn built_in_loop(x: f64, n: usize) -> f64 {
    // A tensor rebuilt every iteration from the previous one's entries and `x`, and built
    // in one branch only.
    let mut h = Tensor::from_vec(vec![x, 1.0], &[2]).unwrap();
    for i in 0..n {
        let (p, q) = (h.get(&[0]), h.get(&[1]));
        h = Tensor::from_vec(vec![q * x, (p + i as f64).sin()], &[2]).unwrap();
        if i % 2 == 1 {
            h *= Tensor::from_vec(vec![x, 2.0], &[2]).unwrap();
        }
    }
    h.sum()
}

/// Central difference in f64 of a function of one scalar.
fn diff(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn tensors_built_from_differentiated_scalars() {
    for (a, b) in [(0.3, -0.7), (1.1, 0.4), (-0.5, 2.0)] {
        let (v, (ga, gb)) = built_grad(a, b);
        assert_eq!(v, built(a, b));
        let (fa, fb) = (diff(|a| built(a, b), a), diff(|b| built(a, b), b));
        assert!(
            (ga - fa).abs() <= 1e-7 * fa.abs().max(1.0),
            "{ga} against {fa}"
        );
        assert!(
            (gb - fb).abs() <= 1e-7 * fb.abs().max(1.0),
            "{gb} against {fb}"
        );
        let (_, pb) = built_vjp(a, b);
        assert_eq!(pb(1.0), (ga, gb));
        let (v2, tan) = built_jvp(a, b, 0.25, -1.5);
        assert_eq!(v2, v);
        let want = 0.25 * ga - 1.5 * gb;
        assert!((tan - want).abs() <= 1e-13 * want.abs().max(1.0));
        // Second order: H v against differences of the gradient along v.
        // (Its value and gradient equal `f_grad`'s to rounding: the dual kernels are scalar,
        // the float ones vectorized.)
        let (vh, (gha, ghb), (ha, hb)) = built_hvp(a, b, 0.25, -1.5);
        assert!((vh - v).abs() <= 1e-14 * v.abs().max(1.0));
        assert!((gha - ga).abs() <= 1e-14 * ga.abs().max(1.0));
        assert!((ghb - gb).abs() <= 1e-14 * gb.abs().max(1.0));
        let s = 1e-5;
        let (_, (pa, pb)) = built_grad(a + 0.25 * s, b - 1.5 * s);
        let (_, (ma, mb)) = built_grad(a - 0.25 * s, b + 1.5 * s);
        let (fa, fb) = ((pa - ma) / (2.0 * s), (pb - mb) / (2.0 * s));
        assert!(
            (ha - fa).abs() <= 1e-6 * fa.abs().max(1.0),
            "{ha} against {fa}"
        );
        assert!(
            (hb - fb).abs() <= 1e-6 * fb.abs().max(1.0),
            "{hb} against {fb}"
        );
    }
}

#[test]
fn tensors_built_from_a_slice_and_in_loops() {
    let x = [0.3, -0.2, 0.8, 0.5];
    let k = 0.7;
    let (v, (gx, gk)) = built_from_slice_grad(&x, k);
    assert_eq!(v, built_from_slice(&x, k));
    for i in 0..4 {
        let fx = diff(
            |e| {
                let mut y = x;
                y[i] = e;
                built_from_slice(&y, k)
            },
            x[i],
        );
        assert!((gx[i] - fx).abs() <= 1e-7 * fx.abs().max(1.0), "x[{i}]");
    }
    let fk = diff(|k| built_from_slice(&x, k), k);
    assert!((gk - fk).abs() <= 1e-7 * fk.abs().max(1.0));
    let dx = [0.1, 0.2, -0.3, 0.4];
    let (_, tan) = built_from_slice_jvp(&x, k, &dx, 0.5);
    let want: f64 = gx.iter().zip(&dx).map(|(g, d)| g * d).sum::<f64>() + 0.5 * gk;
    assert!((tan - want).abs() <= 1e-13 * want.abs().max(1.0));

    for n in [0, 1, 4, 5] {
        for x in [0.4, -1.2] {
            let (v, g) = built_in_loop_grad(x, n);
            assert_eq!(v, built_in_loop(x, n));
            let f = diff(|x| built_in_loop(x, n), x);
            assert!(
                (g - f).abs() <= 1e-7 * f.abs().max(1.0),
                "n = {n}: {g} against {f}"
            );
            let (_, tan) = built_in_loop_jvp(x, n, 1.0, grad::NoTangent);
            assert!((tan - g).abs() <= 1e-13 * g.abs().max(1.0));
        }
    }
}

#[test]
#[should_panic(expected = "four values: from_slice")]
fn a_tensor_built_from_too_few_values_panics_with_the_expect_message() {
    built_from_slice_grad(&[1.0, 2.0, 3.0], 0.5);
}

#[differentiable]
fn pair_sum(x: &[f64]) -> f64 {
    Tensor::from_vec(x.to_vec(), &[2]).unwrap().exp().sum()
}

#[test]
#[should_panic(expected = "called `Result::unwrap()` on an `Err` value: from_vec")]
fn a_tensor_built_with_unwrap_panics_as_unwrap_does() {
    let _ = pair_sum_vjp(&[1.0, 2.0, 3.0]);
}
