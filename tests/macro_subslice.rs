//! Sub-slices in differentiable code: `x[a..b]` and `&x[a..b]` for every kind of range, of
//! slice, `Vec` and array parameters and of locals, iterated, indexed, bound by `let`, passed
//! to other differentiable functions, inside loops, with `wrt` and under `order = 2`. Each
//! form against central differences in f64, forward mode against reverse mode, and `_vjp`
//! against `_grad`; out-of-range bounds panic as Rust's indexing does.

// `&x[..]` is one of the forms tested.
#![allow(clippy::redundant_slicing)]

mod common;

use common::{check, check_hvp, close, close_all, fd_slice};
use grad::differentiable;

#[differentiable]
fn tail_sum(x: &[f64]) -> f64 {
    x[1..].iter().map(|v| v * v).sum::<f64>() * x[0]
}

#[differentiable]
fn running_max(x: &[f64]) -> f64 {
    let mut m = x[0];
    for &v in &x[1..] {
        if v > m {
            m = v;
        }
    }
    m
}

#[differentiable]
fn bound_head(x: &[f64]) -> f64 {
    let s = &x[..2];
    s[0] * s[1] + s.len() as f64
}

#[differentiable]
fn sliding(x: &[f64], k: usize) -> f64 {
    // A window cut per iteration, read by an inner loop and indexed.
    let mut t = 0.0;
    for i in 0..x.len() - k {
        let w = &x[i..i + k];
        t += w.iter().map(|v| v * v).sum::<f64>() * w[0].sin();
    }
    t
}

#[differentiable]
fn sines(a: &[f64]) -> f64 {
    a.iter().map(|v| v.sin()).sum()
}

#[differentiable]
fn every_range(x: &[f64]) -> f64 {
    // a..b, a..=b, ..b, ..=b, a.., .. ; passed to another function, and a window of a
    // window.
    let n = x.len();
    sines(&x[1..3]) * 2.0
        + sines(&x[1..=2])
        + sines(&x[..2]) * x[n - 1]
        + sines(&x[..=0])
        + sines(&x[2..])
        + sines(&x[..])
        + x[1..][1..].iter().sum::<f64>()
}

#[differentiable]
fn of_a_vec(x: Vec<f64>) -> f64 {
    let v: Vec<f64> = x.iter().map(|e| e * 3.0).collect();
    sines(&v[1..]) * x[..2].iter().product::<f64>()
}

#[differentiable]
fn of_an_array(x: [f64; 4]) -> f64 {
    sines(&x[2..]) + x[..3].iter().sum::<f64>() * x[3]
}

#[differentiable(wrt(x))]
fn with_data(x: &[f64], d: &[f64]) -> f64 {
    sines(&x[1..]) * d[1..].iter().sum::<f64>() + d[..1][0]
}

#[differentiable(order = 2)]
fn second_order(x: &[f64]) -> f64 {
    let h = &x[1..];
    h.iter().map(|v| v * v * x[0]).sum::<f64>() + x[..2].iter().map(|v| v.exp()).sum::<f64>()
}

/// Points of length `n`, away from the kinks of `running_max`.
fn points(n: usize) -> Vec<Vec<f64>> {
    let mut rng = common::Rng::new(n as u64 + 40);
    (0..3).map(|_| rng.vec(n, -2.0, 2.0)).collect()
}

#[test]
fn sub_slices_of_parameters() {
    for n in [2, 3, 5] {
        for x in points(n) {
            check(&x, tail_sum, tail_sum_grad, tail_sum_jvp);
            check(&x, running_max, running_max_grad, running_max_jvp);
            check(&x, bound_head, bound_head_grad, bound_head_jvp);
            let (v, g) = tail_sum_grad(&x);
            let (v2, pb) = tail_sum_vjp(&x);
            assert_eq!(v2, v);
            assert_eq!(pb(1.0), g);
        }
    }
    for x in points(6) {
        check(&x, every_range, every_range_grad, every_range_jvp);
    }
}

#[test]
fn windows_cut_in_a_loop() {
    for (n, k) in [(4, 2), (6, 3), (5, 1), (3, 3)] {
        for x in points(n) {
            let f = |x: &[f64]| sliding(x, k);
            check(
                &x,
                f,
                |x| sliding_grad(x, k),
                |x, d| sliding_jvp(x, k, d, grad::NoTangent),
            );
            // `_grad` runs this loop's reverse inside its forward sweep, rising, and `_vjp`
            // after it, falling: overlapping windows add into `dx` in the other order.
            let (_, pb) = sliding_vjp(&x, k);
            close_all(&pb(1.0).0, &sliding_grad(&x, k).1, 1e-15);
        }
    }
}

#[test]
fn sub_slices_of_vecs_and_arrays() {
    let x = vec![0.3, -0.8, 1.2, 0.5];
    let (v, g) = of_a_vec_grad(x.clone());
    assert_eq!(v, of_a_vec(x.clone()));
    close_all(&g, &fd_slice(|y| of_a_vec(y.to_vec()), &x), 1e-6);
    let (_, t) = of_a_vec_jvp(x.clone(), vec![1.0, 0.0, -1.0, 2.0]);
    close(t, g[0] - g[2] + 2.0 * g[3], 1e-10);

    let a = [0.3, -0.8, 1.2, 0.5];
    let (v, g) = of_an_array_grad(a);
    assert_eq!(v, of_an_array(a));
    let want = fd_slice(|y| of_an_array([y[0], y[1], y[2], y[3]]), &a);
    close_all(&g, &want, 1e-6);
    let (_, t) = of_an_array_jvp(a, [0.0, 1.0, 0.0, 0.0]);
    close(t, g[1], 1e-10);
}

#[test]
fn sub_slices_of_data_and_second_order() {
    let (x, d) = ([0.4, -0.3, 0.9], [2.0, -1.0, 0.5]);
    let (v, g) = with_data_grad(&x, &d);
    assert_eq!(v, with_data(&x, &d));
    close_all(&g, &fd_slice(|y| with_data(y, &d), &x), 1e-6);

    // H v against differences of the gradient along v.
    let v = [0.5, -1.0, 0.25];
    let (value, gx, hv) = second_order_hvp(&x, &v);
    let (want_value, want_g) = second_order_grad(&x);
    assert_eq!(value, want_value);
    assert_eq!(gx, want_g);
    check_hvp(&x, &v, &hv, |y| second_order_grad(y).1);
}

#[test]
#[should_panic(expected = "range end index 2 out of range for slice of length 1")]
fn a_range_past_the_end_panics_as_indexing_does() {
    let _ = bound_head_grad(&[1.0]);
}

#[differentiable]
fn borrowed_local_in_inner_loop(x: &[f64], n: usize) -> f64 {
    // A borrow of a local Vec, read by an inner loop in an outer one: the reverse sweep reads
    // the local again (it once named the borrow, which it does not have).
    let mut t = 0.0;
    for i in 0..n {
        let v = vec![x[0] * i as f64, x[1]];
        let w = &v;
        for k in 0..2 {
            t += w[k] * w[k];
        }
    }
    t
}

#[test]
fn a_borrowed_local_read_by_an_inner_loop() {
    for x in points(2) {
        check(
            &x,
            |x| borrowed_local_in_inner_loop(x, 3),
            |x| borrowed_local_in_inner_loop_grad(x, 3),
            |x, d| borrowed_local_in_inner_loop_jvp(x, 3, d, grad::NoTangent),
        );
        let (_, pb) = borrowed_local_in_inner_loop_vjp(&x, 3);
        close_all(
            &pb(1.0).0,
            &borrowed_local_in_inner_loop_grad(&x, 3).1,
            1e-15,
        );
    }
}

// ---- `first()`, `last()` and `split_at` --------------------------------------------------

#[differentiable]
fn ends(x: &[f64]) -> f64 {
    let m = x.last().expect("a non-empty x").sin();
    let f = *x.first().unwrap();
    let l = x.last().copied().unwrap();
    f * l + m + x.first().cloned().expect("a non-empty x") * 0.5
}

#[differentiable]
fn halves(x: &[f64]) -> f64 {
    let (a, b) = x.split_at(x.len() / 2);
    let s: f64 = a.iter().map(|v| v * v).sum();
    let t: f64 = b.iter().map(|v| v.sin()).sum();
    s * t + b[0]
}

#[differentiable]
fn ends_of_a_local(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().map(|e| e.exp()).collect();
    let l = v.last().unwrap();
    let (head, _) = v.split_at(1);
    l * head[0] + *v.first().unwrap()
}

#[test]
fn first_last_and_split_at() {
    for n in [1, 2, 5] {
        for x in points(n) {
            check(&x, ends, ends_grad, ends_jvp);
            check(
                &x,
                ends_of_a_local,
                ends_of_a_local_grad,
                ends_of_a_local_jvp,
            );
            if n >= 2 {
                check(&x, halves, halves_grad, halves_jvp);
            }
        }
    }
}

#[test]
#[should_panic(expected = "a non-empty x")]
fn expect_on_an_empty_slice_panics_with_its_message() {
    let _ = ends_grad(&[]);
}

#[test]
#[should_panic(expected = "called `Option::unwrap()` on a `None` value")]
fn unwrap_on_an_empty_slice_panics_as_unwrap_does() {
    let _ = ends_of_a_local_grad(&[]);
}

#[differentiable(wrt(x))]
fn split_difference(x: &[f64], m: usize) -> f64 {
    let (a, b) = x.split_at(m);
    a.iter().sum::<f64>() - b.iter().sum::<f64>()
}

#[test]
#[should_panic(expected = "mid > len")]
fn split_at_past_the_end_panics_as_split_at_does() {
    let x = [1.0, 2.0];
    assert_eq!(split_difference_grad(&x, 1), (-1.0, vec![1.0, -1.0]));
    let _ = split_difference_grad(&x, 3);
}

// ---- `get(i)`, `first()` and `last()` that may find nothing --------------------------------

/// Each neighbour product, the last with a default: `get` past the end gives `0.5`.
#[differentiable]
fn neighbours(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x.get(i + 1).copied().unwrap_or(0.5);
    }
    s
}

/// The same loop with the bounds test written out, and the neighbour read only inside it.
#[differentiable]
fn neighbours_guarded(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let next = if i + 1 < x.len() { x[i + 1] } else { 0.5 };
        s += x[i] * next;
    }
    s
}

/// `if let`, `match` (either arm first, `_` or `None`) and `let ... else` on optional reads,
/// by reference, through `copied()`, and with a `&v` pattern.
#[differentiable]
#[allow(
    clippy::useless_vec,
    reason = "the reads inside `vec![..]` are what is tested"
)]
fn optional_reads(x: &[f64]) -> f64 {
    let Some(&first) = x.first() else {
        return 0.0;
    };
    let Some(l) = x.last() else { return 1.0 };
    let a = if let Some(v) = x.get(2) {
        v * v
    } else {
        first.cos()
    };
    let b = match x.get(3) {
        Some(&v) => v.sin(),
        None => x[0],
    };
    let c = match x.last().copied() {
        None => 0.0,
        Some(v) => v * 3.0,
    };
    let d = match x.get(1).cloned() {
        Some(v) => v.exp(),
        _ => 2.0,
    };
    // In a `vec![..]`, whose values are expressions too.
    let w = vec![x.get(1).copied().unwrap_or(0.25), *x.first().unwrap()];
    first * l
        + a
        + b
        + c
        + d
        + x.get(x.len() / 2).unwrap() * x.get((x.len() - 1) / 2).copied().expect("n > 0")
        + w[0] * w[1]
}

#[test]
fn optional_reads_at_every_length() {
    for n in [1, 2, 3, 4, 6] {
        for x in points(n) {
            check(&x, neighbours, neighbours_grad, neighbours_jvp);
            check(
                &x,
                neighbours_guarded,
                neighbours_guarded_grad,
                neighbours_guarded_jvp,
            );
            check(&x, optional_reads, optional_reads_grad, optional_reads_jvp);
            // The neighbour's default weighs the last element by 0.5, so both forms agree.
            assert_eq!(neighbours_grad(&x), neighbours_guarded_grad(&x));
        }
    }
    // Nothing to read: `let ... else` returns its value with a zero gradient.
    assert_eq!(optional_reads_grad(&[]), (0.0, vec![]));
    assert_eq!(neighbours_grad(&[]), (0.0, vec![]));
}

/// `split_first` and `split_last`: unwrapped in a `let`, in `let ... else` and in `if let`.
#[differentiable]
fn split_ends(x: &[f64]) -> f64 {
    let (h, t) = x.split_first().unwrap();
    let (&l, init) = x.split_last().expect("a non-empty x");
    let z = if let Some((m, _)) = x.split_last() {
        m.exp()
    } else {
        1.0
    };
    let Some((&a, rest)) = x.split_first() else {
        return 0.0;
    };
    h * t.iter().sum::<f64>() + l * init.iter().map(|v| v * v).sum::<f64>() + z * a
        - rest.len() as f64
}

#[test]
fn split_first_and_split_last() {
    for n in [1, 2, 5] {
        for x in points(n) {
            check(&x, split_ends, split_ends_grad, split_ends_jvp);
        }
    }
}

#[test]
#[should_panic(expected = "called `Option::unwrap()` on a `None` value")]
fn split_first_unwrap_of_an_empty_slice_panics_as_unwrap_does() {
    let _ = split_ends_grad(&[]);
}

/// `let ... else` of values that are not differentiated: an `Option` and a `Result`
/// parameter, and a position found in `x`.
#[differentiable(wrt(x))]
fn let_else_values(x: &[f64], k: Option<usize>, r: Result<usize, String>) -> f64 {
    let Some(n) = k else {
        return x[0].sin();
    };
    let Ok(m) = r else { return 2.0 * x[0] };
    let Some(i) = x.iter().position(|v| *v > 0.5) else {
        return x[0] * n as f64;
    };
    x[0] * n as f64 + x[i] * x[i] * m as f64
}

#[test]
fn let_else_of_values_that_are_not_differentiated() {
    let x = [0.25, 0.75, 1.5];
    // Every exit, and the path through all three.
    assert_eq!(
        let_else_values_grad(&x, None, Ok(2)).1,
        vec![0.25f64.cos(), 0.0, 0.0]
    );
    assert_eq!(
        let_else_values_grad(&x, Some(3), Err("no".into())).1,
        vec![2.0, 0.0, 0.0]
    );
    assert_eq!(let_else_values_grad(&[0.25], Some(3), Ok(2)).1, vec![3.0]);
    let (v, g) = let_else_values_grad(&x, Some(3), Ok(2));
    assert_eq!(v, 0.75 + 0.75 * 0.75 * 2.0);
    close_all(
        &g,
        &fd_slice(|y| let_else_values(y, Some(3), Ok(2)), &x),
        1e-6,
    );
    assert_eq!(g, vec![3.0, 3.0, 0.0]);
}

#[differentiable(wrt(x))]
fn picked(x: &[f64], k: usize) -> f64 {
    x.get(k).copied().expect("k in range").powi(3)
}

#[test]
fn get_unwrap_reads_one_element() {
    let x = [0.5, -1.5, 2.0];
    assert_eq!(picked_grad(&x, 1), (-3.375, vec![0.0, 6.75, 0.0]));
}

#[test]
#[should_panic(expected = "k in range")]
fn get_expect_past_the_end_panics_with_its_message() {
    let _ = picked_grad(&[1.0, 2.0], 2);
}

// ---- sub-slices of points, and `mem::swap` ------------------------------------------------

/// The pair loop of a particle energy, over the points after `i`.
#[differentiable]
fn pair_energy(pos: &[[f64; 3]]) -> f64 {
    let mut e = 0.0;
    for (i, a) in pos.iter().enumerate() {
        for b in &pos[i + 1..] {
            let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
            let r2: f64 = d.iter().map(|v| v * v).sum();
            e += 1.0 / r2.sqrt();
        }
    }
    e
}

#[differentiable]
fn tail_of_vectors(p: &[nalgebra::Vector2<f64>]) -> f64 {
    let rest = &p[1..];
    rest.iter().map(|v| v.norm_squared()).sum::<f64>() * p[0].x
}

#[differentiable]
fn ordered(x: &[f64]) -> f64 {
    let mut a = x[0];
    let mut b = x[1];
    if a > b {
        std::mem::swap(&mut a, &mut b);
    }
    a * 2.0 + b.sin()
}

/// Flattens points for the finite differences, and back.
fn points3(flat: &[f64]) -> Vec<[f64; 3]> {
    flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect()
}

#[test]
fn sub_slices_of_points_and_vectors() {
    for x in points(12) {
        // Four points at least one apart in x, so no pair meets.
        let flat: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, v)| if i % 3 == 0 { v * 0.2 + i as f64 } else { *v })
            .collect();
        let (v, g) = pair_energy_grad(&points3(&flat));
        assert_eq!(v, pair_energy(&points3(&flat)));
        let g: Vec<f64> = g.iter().flatten().copied().collect();
        close_all(&g, &fd_slice(|f| pair_energy(&points3(f)), &flat), 1e-6);
        let dir: Vec<f64> = (0..12).map(|i| (i as f64 * 0.7).cos()).collect();
        let (_, d) = pair_energy_jvp(&points3(&flat), &points3(&dir));
        let want: f64 = g.iter().zip(&dir).map(|(a, b)| a * b).sum();
        close(d, want, 1e-10);
    }
    let vecs = |f: &[f64]| -> Vec<nalgebra::Vector2<f64>> {
        f.chunks_exact(2)
            .map(|c| nalgebra::Vector2::new(c[0], c[1]))
            .collect()
    };
    for x in points(6) {
        let (v, g) = tail_of_vectors_grad(&vecs(&x));
        assert_eq!(v, tail_of_vectors(&vecs(&x)));
        let g: Vec<f64> = g.iter().flat_map(|v| [v.x, v.y]).collect();
        close_all(&g, &fd_slice(|f| tail_of_vectors(&vecs(f)), &x), 1e-6);
    }
}

#[test]
fn mem_swap_of_locals() {
    for x in [[0.3, -0.4], [-0.4, 0.3], [1.5, 2.5]] {
        check(&x, ordered, ordered_grad, ordered_jvp);
    }
}
