//! Local state written in place: element writes `c[i] = e` and `c[i] op= e` on local
//! arrays and `Vec`s (in loops and branches, over elements read before, at indices computed
//! at run time), field writes on local structs, `Vec::new()` / `with_capacity` with `push`,
//! and `collect`, against central finite differences in f64 and forward against reverse.

// `Vec::with_capacity` then `push` is what is tested, not a `vec![..]`.
#![allow(clippy::vec_init_then_push)]

mod common;

use common::{Rng, check, check_hvp, close, close_all, fd};
use grad::{Differentiable, differentiable};

#[differentiable]
fn overwrites(x: f64, y: f64) -> f64 {
    let mut c = [x, y, 0.0];
    c[2] = c[0] * c[1];
    c[0] += y;
    c[1] = 5.0;
    c[2] *= c[0];
    c[1] -= x;
    c[0] /= y;
    c[0] * c[1] + c[2]
}

#[test]
fn writes_over_elements_read_before() {
    // c = [(x + y)/y, 5 - x, xy(x + y)]: f = (x + y)(5 - x)/y + xy(x + y).
    let f = |x: f64, y: f64| (x + y) * (5.0 - x) / y + x * y * (x + y);
    for (x, y) in [(2.0, 3.0), (-1.0, 0.5)] {
        let (v, (gx, gy)) = overwrites_grad(x, y);
        close(v, f(x, y), 1e-14);
        close(gx, fd(|x| f(x, y), x), 1e-6);
        close(gy, fd(|y| f(x, y), y), 1e-6);
        close(overwrites_jvp(x, y, 1.0, -1.0).1, gx - gy, 1e-12);
    }
}

/// An explicit 1-d heat equation: a new row of cells per step, written element by element.
#[differentiable]
fn heat(u0: &[f64], k: f64) -> f64 {
    let n = u0.len();
    let mut c = u0.to_vec();
    for _ in 0..20 {
        let mut next = vec![0.0; n];
        next[0] = c[0];
        next[n - 1] = c[n - 1];
        for i in 1..n - 1 {
            next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]);
        }
        c = next;
    }
    let mut s = 0.0;
    for (i, v) in c.iter().enumerate() {
        s += v * v * (i as f64 + 1.0);
    }
    s
}

/// The same in place: one buffer, each cell overwritten after its old value was kept.
#[differentiable]
fn heat_in_place(u0: &[f64], k: f64) -> f64 {
    let n = u0.len();
    let mut c = u0.to_vec();
    for _ in 0..20 {
        let mut left = c[0];
        for i in 1..n - 1 {
            let here = c[i];
            c[i] = here + k * (left - 2.0 * here + c[i + 1]);
            left = here;
        }
    }
    c.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn heat_equations() {
    let u0 = Rng::new(5).vec(9, 0.0, 2.0);
    check(
        &u0,
        |u| heat(u, 0.2),
        |u| {
            let (v, (g, _)) = heat_grad(u, 0.2);
            (v, g)
        },
        |u, d| heat_jvp(u, 0.2, d, 0.0),
    );
    check(
        &u0,
        |u| heat_in_place(u, 0.2),
        |u| {
            let (v, (g, _)) = heat_in_place_grad(u, 0.2);
            (v, g)
        },
        |u, d| heat_in_place_jvp(u, 0.2, d, 0.0),
    );
    let (_, (_, gk)) = heat_grad(&u0, 0.2);
    close(gk, fd(|k| heat(&u0, k), 0.2), 1e-6);
    let (_, pb) = heat_in_place_vjp(&u0, 0.2);
    let (gu, gk) = pb(2.0);
    let (_, (gu1, gk1)) = heat_in_place_grad(&u0, 0.2);
    close_all(&gu, &gu1.iter().map(|g| 2.0 * g).collect::<Vec<_>>(), 1e-14);
    close(gk, 2.0 * gk1, 1e-14);
}

#[differentiable]
fn branches_and_runtime_indices(x: &[f64], k: usize) -> f64 {
    let mut c = vec![0.0; x.len()];
    for i in 0..x.len() {
        let j = (i * k + 1) % x.len();
        if x[i] > 0.0 {
            c[j] += x[i] * x[i];
        } else {
            c[j] = c[i] - x[i];
        }
    }
    let mut s = 0.0;
    for v in &c {
        s += v * 1.5;
    }
    s + c[k % c.len()] * x[0]
}

#[test]
fn writes_in_branches_at_computed_indices() {
    for k in [1, 2, 3] {
        for x in [vec![0.5, -1.0, 2.0, 0.3], vec![-0.2, 1.1, -0.7, 0.9, 1.4]] {
            check(
                &x,
                |x| branches_and_runtime_indices(x, k),
                |x| branches_and_runtime_indices_grad(x, k),
                |x, d| branches_and_runtime_indices_jvp(x, k, d, grad::NoTangent),
            );
        }
    }
}

#[differentiable]
fn pushes(x: &[f64]) -> f64 {
    let mut v = Vec::new();
    for i in 0..x.len() {
        v.push(x[i] * x[i]);
    }
    let mut w = Vec::with_capacity(2);
    w.push(x[0]);
    w.push(3.0);
    if x[0] > 0.0 {
        v[0] = 3.0 * x[0];
    }
    let doubled: Vec<f64> = x.iter().map(|a| a * 2.0).collect();
    let evens = x.iter().filter(|a| **a > 0.0).copied().collect::<Vec<_>>();
    let mut t = 0.0;
    for e in evens {
        t += e * e * e;
    }
    v[0] + v[v.len() - 1] * w[0] + doubled[1] * w[1] + t
}

#[test]
fn push_and_collect() {
    // v = [x0², x1², x2²] with v0 = 3 x0 where x0 > 0; w = [x0, 3]; doubled = 2x.
    let (v, g) = pushes_grad(&[1.0, 2.0, -3.0]);
    assert_eq!(v, 3.0 + 9.0 * 1.0 + 4.0 * 3.0 + 1.0 + 8.0);
    // d/dx0 = 3 + x2² + 3x0²; d/dx1 = 6 + 3x1²; d/dx2 = 2 x2 x0.
    assert_eq!(g, vec![3.0 + 9.0 + 3.0, 6.0 + 12.0, -6.0]);
    for x in [vec![0.4, -1.2, 0.8], vec![-0.5, 0.7, 1.3, -2.0]] {
        check(&x, pushes, pushes_grad, pushes_jvp);
    }
}

#[derive(Differentiable, Clone)]
struct State {
    pos: f64,
    vel: f64,
}

#[differentiable]
fn fields(x: f64, y: f64) -> f64 {
    let mut s = State { pos: x, vel: y };
    for _ in 0..4 {
        s.pos += 0.1 * s.vel;
        s.vel -= 0.1 * s.pos;
    }
    let mut grid = vec![vec![0.0; 2]; 2];
    grid[1][0] = s.pos * s.vel;
    grid[0][1] = x;
    s.pos + grid[1][0] + grid[0][1] * grid[1][1]
}

#[test]
fn field_and_nested_writes() {
    for (x, y) in [(1.0, 0.5), (-0.3, 2.0)] {
        let (v, (gx, gy)) = fields_grad(x, y);
        assert_eq!(v, fields(x, y));
        close(gx, fd(|x| fields(x, y), x), 1e-6);
        close(gy, fd(|y| fields(x, y), y), 1e-6);
        close(fields_jvp(x, y, 0.5, 1.0).1, 0.5 * gx + gy, 1e-12);
    }
}

// ---- in-place methods: `reverse`, `swap`, `fill`, `copy_from_slice` --------------------------

#[differentiable(order = 2)]
fn reordered(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.reverse();
    v.swap(0, 2);
    v[0] * 2.0 + v[1] * v[2].sin() + v[3]
}

#[differentiable(wrt(x))]
fn copied_and_filled(x: &[f64], d: &[f64]) -> f64 {
    // A constant buffer takes differentiated values (`copy_from_slice`), a differentiated one
    // takes constants (its adjoint stops there), and an array is filled with one value.
    let mut y = vec![0.0; x.len()];
    y.copy_from_slice(x);
    let mut w = x.to_vec();
    w.copy_from_slice(d);
    let mut z = [0.0; 3];
    z.fill(x[1] * x[2]);
    z.swap(0, 1);
    y[0] * z[0] + y[2].exp() * z[2] + w[1] * x[0]
}

#[differentiable]
fn buffer_in_loop(x: &[f64], n: usize) -> f64 {
    let mut buf = vec![0.0; x.len()];
    let mut s = 0.0;
    for i in 0..n {
        buf.fill(x[i % 2]);
        buf[1] *= x[2];
        buf.swap(0, i % 3);
        buf.reverse();
        s += buf[0] * buf[1] + buf[2];
    }
    s
}

#[differentiable]
fn reversed_in_loop(x: &[f64], n: usize) -> f64 {
    // The loop's only change of `v` is a method: `v` is carried all the same.
    let mut v = x.to_vec();
    let mut z = [0.0; 2];
    z.fill(1.5);
    for _ in 0..n {
        v.reverse();
    }
    v[0] * z[1] + v[1] * v[1]
}

// ---- sorting: `sort_by`, `sort_unstable_by` ------------------------------------------------

#[differentiable(order = 2)]
fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[differentiable]
fn trimmed_squares(x: &[f64]) -> f64 {
    // Sorted twice (descending the second time), a closure parameter named as a local.
    let mut v: Vec<f64> = x.iter().map(|a| a * a.sin()).collect();
    v.sort_unstable_by(f64::total_cmp);
    let a = v[0];
    v.sort_by(|a, b| b.total_cmp(a));
    v[1..v.len() - 1].iter().sum::<f64>() + a
}

#[differentiable]
fn sorted_each_step(x: [f64; 3], n: usize) -> f64 {
    // An array sorted in a loop, then changed so the next sort moves it again.
    let mut v = x;
    let mut s = 0.0;
    for _ in 0..n {
        v.sort_by(|a, b| a.total_cmp(b));
        s += v[0] * 2.0 + v[2];
        v[0] = v[2].cos() + 1.0;
    }
    s
}

// ---- growing and shrinking a `Vec`: `extend`, `extend_from_slice`, `pop`, `truncate`,
// `clear` -----------------------------------------------------------------------------------

#[differentiable(order = 2)]
fn grown_and_shrunk(x: &[f64]) -> f64 {
    let mut v = Vec::new();
    v.extend_from_slice(x);
    v.extend(x.iter().map(|a| a.sin()));
    v.extend(&x[1..]);
    let last = v.pop().unwrap();
    v.pop();
    let mut s = last * v.iter().sum::<f64>();
    v.truncate(2);
    s += v[0] * v[1] + v.len() as f64;
    v.clear();
    v.push(x[0].exp());
    s + v[0]
}

#[differentiable]
fn stack_in_loop(x: &[f64], n: usize) -> f64 {
    // A stack: pushed and popped in a loop, its length carried.
    let mut st = vec![x[0]];
    let mut s = 0.0;
    for i in 0..n {
        st.push(x[i % x.len()] * st[st.len() - 1]);
        if i % 3 == 2 {
            let top = st.pop().expect("the stack has one element at least");
            s += top.tanh();
        }
    }
    s + st.iter().sum::<f64>()
}

#[differentiable]
fn worklist(x: &[f64]) -> f64 {
    // `while let Some(v) = stack.pop()`, pushing new work while it runs.
    let mut stack = x.to_vec();
    let mut s = 0.0;
    while let Some(v) = stack.pop() {
        s = s * 0.5 + v.sin();
        if v > 1.0 && stack.len() < 10 {
            stack.push(v * 0.25);
        }
    }
    s
}

#[differentiable(order = 2)]
fn edited(x: &[f64]) -> f64 {
    // `insert`, `remove` and `swap_remove` (whose values are the elements they take out),
    // `resize` growing with a differentiated value and shrinking.
    let mut v = x.to_vec();
    v.insert(1, x[0] * x[2]);
    let first = v.remove(0);
    let moved = v.swap_remove(0);
    v.resize(v.len() + 2, first.sin());
    v.insert(v.len(), moved.cos());
    let mut s = moved * first;
    for (i, e) in v.iter().enumerate() {
        s += e * e * (i as f64 + 1.0);
    }
    v.resize(2, 0.0);
    s + v[0] * v[1]
}

#[differentiable]
fn removed_in_loop(x: &[f64], n: usize) -> f64 {
    // Removed from the front and the middle while the loop runs, the positions removed
    // (not differentiated) inserted into a `Vec` of their own.
    let mut v = x.to_vec();
    let mut taken: Vec<usize> = Vec::new();
    let mut s = 0.0;
    for i in 0..n {
        if v.len() > 1 {
            let k = i % v.len();
            let e = if i % 2 == 0 { v.remove(0) } else { v.remove(k) };
            s += e * (i as f64 + 1.0);
            taken.insert(0, k);
        }
    }
    s + v.iter().map(|e| e.exp()).sum::<f64>() + taken.len() as f64
}

#[test]
fn vecs_grow_and_shrink() {
    let mut rng = Rng::new(5);
    for n in [2, 3, 5] {
        for _ in 0..3 {
            let x = rng.vec(n, -1.5, 1.5);
            check(
                &x,
                grown_and_shrunk,
                grown_and_shrunk_grad,
                grown_and_shrunk_jvp,
            );
            let v = rng.vec(n, -1.0, 1.0);
            let (_, _, hv) = grown_and_shrunk_hvp(&x, &v);
            check_hvp(&x, &v, &hv, |y| grown_and_shrunk_grad(y).1);
            check(&x, worklist, worklist_grad, worklist_jvp);
            check(&x, filtered, filtered_grad, filtered_jvp);
            let (value, g, hv) = filtered_hvp(&x, &v);
            assert_eq!((value, g), filtered_grad(&x));
            check_hvp(&x, &v, &hv, |y| filtered_grad(y).1);
            if n >= 3 {
                check(&x, edited, edited_grad, edited_jvp);
                let (value, g, hv) = edited_hvp(&x, &v);
                assert_eq!((value, g), edited_grad(&x));
                check_hvp(&x, &v, &hv, |y| edited_grad(y).1);
            }
            for steps in [0, 1, 4] {
                check(
                    &x,
                    |x| removed_in_loop(x, steps),
                    |x| removed_in_loop_grad(x, steps),
                    |x, d| removed_in_loop_jvp(x, steps, d, grad::NoTangent),
                );
            }
            for steps in [0, 2, 7] {
                check(
                    &x,
                    |x| stack_in_loop(x, steps),
                    |x| stack_in_loop_grad(x, steps),
                    |x, d| stack_in_loop_jvp(x, steps, d, grad::NoTangent),
                );
            }
        }
    }
}

#[differentiable(order = 2)]
fn filtered(x: &[f64]) -> f64 {
    // `retain` by a differentiated threshold (not differentiated itself: which elements stay
    // is), `dedup` of repeats, then the survivors weighted.
    let mut v: Vec<f64> = x.iter().map(|e| e * e).collect();
    v.retain(|e| *e > x[0] * 0.5);
    let mut w = vec![x[0], x[0], x[1], x[1], x[1], x[0]];
    w.dedup();
    let mut s = w.len() as f64;
    for (i, e) in v.iter().enumerate() {
        s += e.sin() * (i as f64 + 1.0);
    }
    for (i, e) in w.iter().enumerate() {
        s += e.cos() * (i as f64 + 2.0);
    }
    s
}

#[differentiable]
fn inserted_at(x: &[f64], i: usize) -> f64 {
    let mut v = x.to_vec();
    v.insert(i, x[0] * 2.0);
    v.iter().sum::<f64>()
}

#[test]
#[should_panic(expected = "insertion index (is 3) should be <= len (is 2)")]
fn insert_past_the_end_panics_as_vec_insert() {
    assert_eq!(inserted_at_grad(&[1.0, 2.0], 2), (5.0, vec![3.0, 1.0]));
    let _ = inserted_at_grad(&[1.0, 2.0], 3);
}

#[test]
fn sorting_moves_the_adjoint_with_the_elements() {
    let mut rng = Rng::new(17);
    for n in [1, 2, 5] {
        for _ in 0..3 {
            let x = rng.vec(n, -2.0, 2.0);
            check(&x, median, median_grad, median_jvp);
            if n >= 2 {
                check(
                    &x,
                    trimmed_squares,
                    trimmed_squares_grad,
                    trimmed_squares_jvp,
                );
            }
        }
    }
    // The median's gradient picks the middle element: x = [3, 1, 2] has median x[2].
    assert_eq!(median_grad(&[3.0, 1.0, 2.0]), (2.0, vec![0.0, 0.0, 1.0]));
    let (_, _, hv) = median_hvp(&[3.0, 1.0, 2.0], &[1.0, 1.0, 1.0]);
    assert_eq!(hv, vec![0.0, 0.0, 0.0]);
    for n in [0, 1, 3] {
        let x = rng.vec(3, -2.0, 2.0);
        check(
            &x,
            |x| sorted_each_step([x[0], x[1], x[2]], n),
            |x| {
                let (v, g) = sorted_each_step_grad([x[0], x[1], x[2]], n);
                (v, g.to_vec())
            },
            |x, d| sorted_each_step_jvp([x[0], x[1], x[2]], n, [d[0], d[1], d[2]], grad::NoTangent),
        );
    }
}

#[test]
fn in_place_methods_move_the_adjoint_with_the_elements() {
    for n in [0, 1, 2, 3] {
        let x = [0.3, -0.9, 1.4];
        // Reversed an odd number of times: v = [x2, x1, x0].
        let first = if n % 2 == 1 { x[2] } else { x[0] };
        assert_eq!(reversed_in_loop_grad(&x, n).0, first * 1.5 + x[1] * x[1]);
        check(
            &x,
            |x| reversed_in_loop(x, n),
            |x| reversed_in_loop_grad(x, n),
            |x, dx| reversed_in_loop_jvp(x, n, dx, grad::NoTangent),
        );
    }
    let mut rng = Rng::new(91);
    for _ in 0..3 {
        let x = rng.vec(4, -1.5, 1.5);
        check(&x, reordered, reordered_grad, reordered_jvp);
        let (_, g) = reordered_grad(&x);
        let (_, pb) = reordered_vjp(&x);
        assert_eq!(pb(1.0), g);
        // H v against differences of the gradient along v.
        let v = rng.vec(4, -1.0, 1.0);
        let (_, _, hv) = reordered_hvp(&x, &v);
        check_hvp(&x, &v, &hv, |y| reordered_grad(y).1);

        let d = rng.vec(4, -1.0, 1.0);
        check(
            &x,
            |x| copied_and_filled(x, &d),
            |x| copied_and_filled_grad(x, &d),
            |x, dx| copied_and_filled_jvp(x, &d, dx, grad::NoTangent),
        );
        let x3 = rng.vec(3, -1.5, 1.5);
        for n in [0, 1, 4] {
            check(
                &x3,
                |x| buffer_in_loop(x, n),
                |x| buffer_in_loop_grad(x, n),
                |x, dx| buffer_in_loop_jvp(x, n, dx, grad::NoTangent),
            );
        }
    }
}

#[test]
#[should_panic(expected = "source slice length (4) does not match destination slice length (3)")]
fn copy_from_a_slice_of_another_length_panics_as_std_does() {
    #[differentiable]
    fn three(x: &[f64]) -> f64 {
        // One shorter than `x`.
        let mut y = vec![0.0; x.len() - 1];
        y.copy_from_slice(x);
        y[0]
    }
    three_grad(&[1.0, 2.0, 3.0, 4.0]);
}
