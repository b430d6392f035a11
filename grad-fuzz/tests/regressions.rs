//! Macro bugs that the random programs (scalar and tensor) found, each minimized to a small
//! function.
//!
//! Every case here once failed to *compile*; each test also pins the derivative values the
//! function must give. All are fixed, and the generators produce every one of these shapes
//! again (see the "Formerly avoided" notes in `src/generator.rs`).
#![allow(unused, clippy::all)]

use grad::{NoTangent, Real, differentiable};

fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "got {got}, want {want}"
    );
}

// ---- unparenthesized_constant_arithmetic ----------------------------------------------------
// rustc: error[E0308]: mismatched types: expected `&f64`, found floating-point number
// (in `grad::__private::op::...::fwd` / `jvp_0`). Arithmetic on literals only, unparenthesized,
// beside a differentiated value. `x - (0.5 * 0.5)` and `z /= (1.0 + 2.0)` compile.

#[differentiable]
fn constant_product_subtracted(x: f64) -> f64 {
    x - 0.5 * 0.5
}

#[differentiable]
fn constant_product_first(x: f64) -> f64 {
    0.5 * 0.5 + x
}

#[differentiable]
fn constant_factor_of_product(x: f64) -> f64 {
    x + 0.5 * 2.0 * x
}

#[differentiable]
fn compound_assign_constant_sum(x: f64) -> f64 {
    let mut z = x;
    z /= 1.0 + 2.0;
    z
}

#[test]
fn unparenthesized_constant_arithmetic() {
    // d/dx (x - 0.25) = 1; d/dx (0.25 + x) = 1; d/dx (x + x) = 2; d/dx x/3 = 1/3
    assert_eq!(constant_product_subtracted_grad(2.0), (1.75, 1.0));
    assert_eq!(constant_product_first_grad(2.0), (2.25, 1.0));
    assert_eq!(constant_factor_of_product_grad(2.0), (4.0, 2.0));
    let (v, d) = compound_assign_constant_sum_grad(3.0);
    close(v, 1.0);
    close(d, 1.0 / 3.0);
}

// ---- constant_result --------------------------------------------------------------------------
// rustc: error[E0308]: mismatched types: expected `&_`, found floating-point number
// (in `grad::zero_tangent`). The returned expression is arithmetic on literals.

#[differentiable]
fn constant_result(x: f64) -> f64 {
    0.5 + 0.5
}

#[test]
fn constant_result_has_zero_gradient() {
    assert_eq!(constant_result_grad(3.0), (1.0, 0.0));
}

// ---- constant_receiver_or_cast --------------------------------------------------------------
// `(1.0 + 2.0).powf(x)`: error[E0308] expected `&_`, found floating-point number.
// `x.min(0.1 as f64)`: error[E0308] expected `&f64`, found `f64`, and
// error[E0606]: casting `&{float}` as `f64` is invalid.

#[differentiable]
fn constant_base_powf(x: f64) -> f64 {
    (1.0 + 2.0).powf(x)
}

#[differentiable]
fn min_with_cast_literal(x: f64) -> f64 {
    x.min(0.1 as f64)
}

#[test]
fn constant_receiver_or_cast() {
    // d/dx 3^x = 3^x ln 3
    let (v, d) = constant_base_powf_grad(2.0);
    close(v, 9.0);
    close(d, 9.0 * 3f64.ln());
    assert_eq!(min_with_cast_literal_grad(-1.0), (-1.0, 1.0));
    assert_eq!(min_with_cast_literal_grad(1.0), (0.1, 0.0));
}

// ---- comparison_with_block_operand -----------------------------------------------------------
// error: bitwise and remainder operators have no derivative; they may be used only on
// non-differentiated values (spanned on the comparison operator). A comparison whose
// operand is a block, `if` or `match` expression. Binding the operand to a `let` first works.

#[differentiable]
fn compare_with_block(x: f64) -> f64 {
    if x > ({
        let b = x;
        b * b
    }) {
        x
    } else {
        0.0
    }
}

#[differentiable]
fn compare_with_if(x: f64, y: f64) -> f64 {
    if (if x > 0.0 { x } else { y }) < 1.0 {
        x
    } else {
        y
    }
}

#[differentiable]
fn compare_with_match(x: f64, k: usize) -> f64 {
    if (match k {
        0 => x,
        _ => 1.0,
    }) < 1.0
    {
        x
    } else {
        2.0 * x
    }
}

#[test]
fn comparison_with_block_operand() {
    assert_eq!(compare_with_block_grad(0.5), (0.5, 1.0));
    assert_eq!(compare_with_if_grad(0.5, 3.0), (0.5, (1.0, 0.0)));
    assert_eq!(compare_with_match_grad(0.5, 0), (0.5, 1.0));
    assert_eq!(compare_with_match_grad(0.5, 1), (1.0, 2.0));
}

// ---- while_counter_in_nested_for -------------------------------------------------------------
// error[E0425]: cannot find value `__grad_c_3` in this scope (spanned on `c` in `let mut c`).
// A `for` inside a `while` reads the `while`'s integer counter in differentiated code.

#[differentiable]
fn while_counter_in_nested_for(x: f64) -> f64 {
    let mut c = 0;
    let mut s = x;
    while c < 3 {
        for _ in 0..2 {
            s = s * 0.5 + (c as f64);
        }
        c += 1;
    }
    s
}

#[test]
fn while_counter_read_in_nested_for() {
    // Six halvings of x plus constants: d/dx = 1/64.
    let (_, d) = while_counter_in_nested_for_grad(1.0);
    close(d, 1.0 / 64.0);
}

// ---- slice_element_read_twice ------------------------------------------------------------------
// error[E0716]: temporary value dropped while borrowed (spanned on the first `let`'s name):
// an element bound by `let`, then the same element read again under a method.

#[differentiable]
fn slice_element_read_twice(y: f64, v: &[f64]) -> f64 {
    let t1 = v[0];
    let t2 = t1.cos();
    let t1 = y - v[0].sin();
    t1 + t2
}

#[test]
fn slice_element_read_twice_gradient() {
    // f = y - sin v0 + cos v0: ∂y = 1, ∂v0 = -cos v0 - sin v0, ∂v1 = 0
    let v = [0.3, 0.7];
    let (_, (dy, dv)) = slice_element_read_twice_grad(2.0, &v);
    close(dy, 1.0);
    close(dv[0], -(0.3f64.cos()) - 0.3f64.sin());
    close(dv[1], 0.0);
}

// ---- tuple_field_in_branch -------------------------------------------------------------------
// error[E0596]: cannot borrow value as mutable, as it is not declared as mutable (spanned on
// the attribute). A tuple bound whole, one of its fields read in differentiated code
// inside an `if`.

#[differentiable]
fn tuple_field_in_branch(y: f64, x: f64) -> f64 {
    let p6 = (x * x, 2.0f64.powf(y));
    if p6.0 > 0.0 {
        let t = p6.1 * x;
    }
    x
}

#[test]
fn tuple_field_in_branch_gradient() {
    // The branch's value is unused: f = x.
    assert_eq!(tuple_field_in_branch_grad(1.0, 2.0), (2.0, (0.0, 1.0)));
}

// ---- constant_call_argument ------------------------------------------------------------------
// error[E0308]: mismatched types: expected `&_`, found `f64` (in
// `grad::__private::inactive_tangent`). Arithmetic on literals as an argument of a call of a
// differentiable function; a bare literal (`product(x, 0.5)`) compiles.

#[differentiable]
fn product(x: f64, y: f64) -> f64 {
    x * y
}

#[differentiable]
fn constant_call_argument(x: f64) -> f64 {
    product(x, 1.0 / 2.0)
}

#[test]
fn constant_call_argument_gradient() {
    assert_eq!(constant_call_argument_grad(3.0), (1.5, 0.5));
}

// ---- dead_value_in_loop ----------------------------------------------------------------------
// error[E0596]: cannot borrow value as mutable, as it is not declared as mutable (spanned on
// the attribute). A value computed in a loop from a product or quotient of differentiated
// values, and never used. Returning it compiles, and so does the same dead value in
// straight-line code, or with a one-input primitive (`m += x.sin()`). Random programs also
// hit E0596 with dead values in branches, not minimized yet.

#[differentiable]
fn dead_accumulator(y: f64, x: f64) -> f64 {
    let mut m = x;
    for _ in 0..2 {
        m += y * x;
    }
    y
}

#[differentiable]
fn dead_local_in_loop(w: f64, x: f64) -> f64 {
    let t1 = x * w;
    for _ in 0..4 {
        let m = t1 / (2.0 + w.sin());
    }
    w
}

#[test]
fn dead_values_have_no_effect() {
    assert_eq!(dead_accumulator_grad(2.0, 3.0), (2.0, (1.0, 0.0)));
    assert_eq!(dead_local_in_loop_grad(2.0, 3.0), (2.0, (1.0, 0.0)));
}

// ---- local_of_branch_read_in_loop --------------------------------------------------------------
// error[E0425]: cannot find value `__grad_t1_3` in this scope (spanned on the `let`'s name).
// A constant `let` inside an `if`, read in differentiated code in a `for` nested in the
// same branch. Without the `if` it compiles.

#[differentiable]
fn local_of_branch_read_in_loop(w: f64, x: f64) -> f64 {
    if x > 0.5 {
        let t1: f64 = 0.75;
        for _ in 0..2 {
            let t3 = (w + t1).tanh();
        }
    }
    x
}

#[test]
fn local_of_branch_read_in_loop_gradient() {
    assert_eq!(
        local_of_branch_read_in_loop_grad(0.1, 1.0),
        (1.0, (0.0, 1.0))
    );
}

// ---- call_borrowing_a_local -----------------------------------------------------------------
// error[E0505]: cannot move out of value because it is borrowed (in `_vjp`), and
// error[E0716]: temporary value dropped while borrowed (in a loop of `_grad`). A call of a
// differentiable function with a borrowed local tensor (`a1(&q, ..)`, `a1(&(w * 0.5), ..)`,
// `a1(&h, ..)` in a loop): the callee's pullback borrows the local, and was kept where it
// outlives it. Found while writing the tensor generator; parameters passed on (`a1(w, ..)`)
// compiled.

type T64 = grad::Tensor<f64>;

#[differentiable]
fn scaled_sum(x: &T64, w: &T64, s: f64) -> f64 {
    (x * s).sum() + w.sum()
}

#[differentiable]
fn call_with_borrowed_local(x: &T64, w: &T64) -> f64 {
    let q = x.t();
    scaled_sum(&q, &(w * 0.5), 2.0) + q.sum()
}

#[differentiable]
fn call_with_borrowed_carried(x: &T64, w: &T64) -> f64 {
    let mut h = x.clone();
    let mut s = 0.0;
    for _ in 0..3 {
        s += scaled_sum(&h, w, 2.0);
        h = h.tanh();
    }
    s
}

#[test]
fn call_borrowing_a_local() {
    let x = T64::from_vec(vec![0.3, -0.7, 1.1, 0.2, -0.4, 0.9], &[2, 3]).unwrap();
    let w = T64::from_vec(vec![0.5, -1.0, 0.25], &[3]).unwrap();
    let (ones_x, ones_w) = (vec![1.0; 6], vec![1.0; 3]);
    // f = 2 Σ xᵀ + 0.5 Σ w + Σ xᵀ: ∂x = 3, ∂w = 0.5
    let (v, (gx, gw)) = call_with_borrowed_local_grad(&x, &w);
    assert_eq!(v, call_with_borrowed_local(&x, &w));
    for g in gx.to_vec() {
        close(g, 3.0);
    }
    for g in gw.to_vec() {
        close(g, 0.5);
    }
    let (_, pb) = call_with_borrowed_local_vjp(&x, &w);
    let (px, pw) = pb(1.0);
    assert_eq!((px.to_vec(), pw.to_vec()), (gx.to_vec(), gw.to_vec()));
    // f = 2 Σ (x + tanh x + tanh tanh x) + 3 Σ w:
    // ∂x = 2 (1 + sech² x + sech²(tanh x) sech² x), ∂w = 3
    let sech2 = |a: f64| 1.0 - a.tanh() * a.tanh();
    let (v, (gx, gw)) = call_with_borrowed_carried_grad(&x, &w);
    assert_eq!(v, call_with_borrowed_carried(&x, &w));
    for (g, a) in gx.to_vec().into_iter().zip(x.to_vec()) {
        close(g, 2.0 * (1.0 + sech2(a) + sech2(a.tanh()) * sech2(a)));
    }
    for g in gw.to_vec() {
        close(g, 3.0);
    }
    let (_, pb) = call_with_borrowed_carried_vjp(&x, &w);
    let (px, pw) = pb(1.0);
    assert_eq!((px.to_vec(), pw.to_vec()), (gx.to_vec(), gw.to_vec()));
    let t = T64::from_vec(ones_x, &[2, 3]).unwrap();
    let u = T64::from_vec(ones_w, &[3]).unwrap();
    let (_, d) = call_with_borrowed_carried_jvp(&x, &w, &t, &u);
    let want: f64 = gx.to_vec().iter().sum::<f64>() + gw.to_vec().iter().sum::<f64>();
    close(d, want);
}

// ---- branch_value_also_saved ----------------------------------------------------------------
// error[E0382]: borrow of moved value (spanned on the attribute, the move on the `*`). A tensor
// made in a branch is both the branch's value and read by its own reverse (a product's rule
// reads its output): the branch moved it out before keeping it for the reverse.

#[differentiable]
fn branch_value_also_saved(x: &T64, s: f64) -> f64 {
    let t = if s > 0.0 { x * s } else { x.clone() };
    t.sum()
}

#[test]
fn branch_value_also_saved_gradient() {
    let x = T64::from_vec(vec![0.5, -1.5, 2.0], &[3]).unwrap();
    // s > 0: f = s Σx, ∂x = s, ∂s = Σx; s <= 0: f = Σx, ∂x = 1, ∂s = 0.
    let (v, (gx, gs)) = branch_value_also_saved_grad(&x, 2.0);
    close(v, 2.0);
    assert_eq!(gx.to_vec(), vec![2.0; 3]);
    close(gs, 1.0);
    let (_, pb) = branch_value_also_saved_vjp(&x, -1.0);
    let (gx, gs) = pb(1.0);
    assert_eq!(gx.to_vec(), vec![1.0; 3]);
    close(gs, 0.0);
}

// ---- borrowed_stop_gradient -------------------------------------------------------------------
// error[E0716]: temporary value dropped while borrowed (spanned on the `&`). A borrowed
// non-differentiated value that is not a place (`&grad::stop_gradient(x.tanh())`) was kept as
// a reference to a temporary of its statement, which `_vjp`'s pullback and a loop's stack
// outlive.

#[differentiable]
fn borrowed_stop_gradient(x: &T64) -> f64 {
    x.tanh().dot(&grad::stop_gradient(x.tanh()))
}

#[differentiable]
fn borrowed_stop_gradient_in_loop(x: &T64) -> f64 {
    let mut s = 0.0;
    for _ in 0..2 {
        s += x.tanh().dot(&grad::stop_gradient(x.tanh()));
    }
    s
}

#[test]
fn borrowed_stop_gradient_gradient() {
    let x = T64::from_vec(vec![0.5, -1.5, 2.0], &[3]).unwrap();
    // f = Σ tanh(x) c with c = tanh(x) held constant: ∂x = sech²(x) tanh(x) (twice in the loop).
    let want: Vec<f64> = x
        .to_vec()
        .iter()
        .map(|a| (1.0 - a.tanh() * a.tanh()) * a.tanh())
        .collect();
    let (_, pb) = borrowed_stop_gradient_vjp(&x);
    for (g, w) in pb(1.0).to_vec().into_iter().zip(&want) {
        close(g, *w);
    }
    let (_, g) = borrowed_stop_gradient_in_loop_grad(&x);
    for (g, w) in g.to_vec().into_iter().zip(&want) {
        close(g, 2.0 * w);
    }
}

// ---- clone_of_tuple_field ---------------------------------------------------------------------
// error[E0505]: cannot move out of value because it is borrowed (in `_vjp`). `p.0.clone()` of a
// tuple's tensor field was an alias of `&p.0`, not an owned copy, so a callee's pullback that
// borrows the clone borrowed `p`, which the returned closure also moves.

#[differentiable]
fn clone_of_tuple_field(x: &T64) -> f64 {
    let p = (x.exp(), x.clone());
    let h = p.0.clone();
    scaled_sum(&h, x, 2.0)
}

#[differentiable]
fn clone_of_tuple_field_in_branch(x: &T64, s: f64) -> f64 {
    let p = (x.exp(), x.clone());
    let mut r = 0.0;
    if s > 0.0 {
        r = scaled_sum(&(if s > 1.0 { p.1.clone() } else { p.0.clone() }), x, 1.0);
    }
    r
}

#[test]
fn clone_of_tuple_field_gradient() {
    let x = T64::from_vec(vec![0.5, -1.5, 2.0], &[3]).unwrap();
    // f = 2 Σ e^x + Σ x: ∂x = 2 e^x + 1
    let (_, pb) = clone_of_tuple_field_vjp(&x);
    for (g, a) in pb(1.0).to_vec().into_iter().zip(x.to_vec()) {
        close(g, 2.0 * a.exp() + 1.0);
    }
    // 0 < s <= 1: f = Σ e^x + Σ x; s > 1: f = 2 Σ x.
    let (_, pb) = clone_of_tuple_field_in_branch_vjp(&x, 0.5);
    let (g, _) = pb(1.0);
    for (g, a) in g.to_vec().into_iter().zip(x.to_vec()) {
        close(g, a.exp() + 1.0);
    }
    let (_, (g, _)) = clone_of_tuple_field_in_branch_grad(&x, 2.0);
    assert_eq!(g.to_vec(), vec![2.0; 3]);
}

// ---- field_read_in_nested_branch --------------------------------------------------------------
// error[E0505]: cannot move out of value because it is borrowed (in `_vjp`). A tuple field
// borrowed in a branch (`p.0.sin()` makes `&p.0`) whose adjoint a nested branch adds to: the
// outer branch's record kept the reference `&p.0` (to zero that adjoint from), so the
// returned closure both borrowed and moved `p`. It now keeps `p` and re-borrows.

#[differentiable]
fn field_read_in_nested_branch(x: &T64, s: f64) -> f64 {
    let p = (x.exp(), x.clone());
    let mut r = 0.0;
    if s > 0.0 {
        let q = p.0.sin();
        let h = if s > 1.0 { p.1.clone() } else { p.0.clone() };
        r = h.sum() + q.sum();
    }
    r
}

#[test]
fn field_read_in_nested_branch_gradient() {
    let x = T64::from_vec(vec![0.5, -1.5, 0.25], &[3]).unwrap();
    // 0 < s <= 1: f = Σ e^x + Σ sin e^x, ∂x = e^x + cos(e^x) e^x;
    // s > 1: f = Σ x + Σ sin e^x, ∂x = 1 + cos(e^x) e^x.
    let (_, pb) = field_read_in_nested_branch_vjp(&x, 0.5);
    let (g, _) = pb(1.0);
    for (g, a) in g.to_vec().into_iter().zip(x.to_vec()) {
        close(g, a.exp() + a.exp().cos() * a.exp());
    }
    let (_, (g, _)) = field_read_in_nested_branch_grad(&x, 2.0);
    for (g, a) in g.to_vec().into_iter().zip(x.to_vec()) {
        close(g, 1.0 + a.exp().cos() * a.exp());
    }
}

// ---- stopped_reference ------------------------------------------------------------------------
// error[E0277]: the primitive `Mul` is not defined for `&Tensor<f64>` and `_` (on the
// attribute): `grad::stop_gradient(y)` of a `&Tensor` parameter was taken for an owned value
// and borrowed again. Then error[E0716] for `grad::stop_gradient(&a)` of a local: the alias of
// the borrow was kept by the pullback instead of `a`.

#[differentiable]
fn stopped_reference(x: &T64, y: &T64) -> f64 {
    let a = y.exp();
    (grad::stop_gradient(y) * x.abs() + grad::stop_gradient(&a) * x).sum()
}

#[test]
fn stopped_reference_gradient() {
    let x = T64::from_vec(vec![0.5, -1.5, 0.25], &[3]).unwrap();
    let y = T64::from_vec(vec![-0.5, 1.0, 2.0], &[3]).unwrap();
    // f = Σ (y |x| + e^y x) with y held constant: ∂x = y sign(x) + e^y, ∂y = 0.
    let (_, pb) = stopped_reference_vjp(&x, &y);
    let (gx, gy) = pb(1.0);
    for ((g, a), b) in gx.to_vec().into_iter().zip(x.to_vec()).zip(y.to_vec()) {
        close(g, b * a.signum() + b.exp());
    }
    assert_eq!(gy.to_vec(), vec![0.0; 3]);
}

// ---- stopped_value_of_branch_or_loop ----------------------------------------------------------
// error[E0382]: borrow of moved value (spanned on `grad::stop_gradient`, in `_jvp`). A branch's
// or a loop's new value that is not differentiated (a `stop_gradient` of a tensor): forward
// mode moved it out, then read it for its zero tangent.

#[differentiable]
fn stopped_value_of_branch(x: &T64, s: f64) -> f64 {
    let t = x * s;
    let u = if s > 0.0 {
        grad::stop_gradient((&t * 0.5) * x)
    } else {
        t.clone()
    };
    u.sum()
}

#[differentiable]
fn stopped_value_of_loop(x: &T64) -> f64 {
    let mut h = x.clone();
    for _ in 0..2 {
        h = grad::stop_gradient(&h * 0.5);
    }
    h.sum() + x.sum()
}

#[test]
fn stopped_value_of_branch_or_loop() {
    let x = T64::from_vec(vec![0.5, -1.5, 0.25], &[3]).unwrap();
    let d = T64::from_vec(vec![1.0, 2.0, -1.0], &[3]).unwrap();
    // s > 0: the value is held constant, so its tangent is 0.
    assert_eq!(stopped_value_of_branch_jvp(&x, 2.0, &d, 1.0).1, 0.0);
    // s <= 0: f = s Σx, df = s Σdx + ds Σx.
    let (_, t) = stopped_value_of_branch_jvp(&x, -2.0, &d, 1.0);
    close(t, -2.0 * 2.0 + (-0.75));
    // f = Σ h (constant) + Σ x: df = Σ dx.
    let (_, t) = stopped_value_of_loop_jvp(&x, &d);
    close(t, 2.0);
}

// ---- tuple_field_in_nested_loop ---------------------------------------------------------------
// error[E0716]: temporary value dropped while borrowed (spanned on the tuple's `let`), and in
// other random programs E0425 (cannot find value). A tuple's field read in a branch and again
// in a loop nested there (`let t = p.1 as f64;`): the loop's reverse recomputes the read from
// `&p.1`, which the branch's record kept as a reference (and, where it was not kept, could
// not name). It now keeps `p` and takes `&p.1` again. The generator had avoided reading a
// tuple's fields below the block of its `let`; it no longer does.

#[differentiable]
fn tuple_field_in_nested_loop(x: f64, y: f64) -> f64 {
    let mut s = 0.0;
    let p = (y * 2.0, x.cbrt());
    if s > -1.5 {
        s = p.1.atan();
        for _ in 0..1 {
            let t = p.1 as f64;
            s += t.sin();
        }
    }
    s
}

#[test]
fn tuple_field_in_nested_loop_gradient() {
    // f = atan c + sin c with c = ∛x: ∂x = (1 / (1 + c²) + cos c) / (3 x^(2/3)), ∂y = 0.
    // At x = 8, c = 2: ∂x = (0.2 + cos 2) / 12.
    let want = (0.2 + 2f64.cos()) / 12.0;
    let (v, (dx, dy)) = tuple_field_in_nested_loop_grad(8.0, 1.0);
    close(v, 2f64.atan() + 2f64.sin());
    close(dx, want);
    assert_eq!(dy, 0.0);
    let (_, pb) = tuple_field_in_nested_loop_vjp(8.0, 1.0);
    let (px, _) = pb(1.0);
    close(px, want);
    close(tuple_field_in_nested_loop_jvp(8.0, 1.0, 1.0, 0.0).1, want);
}

// ---- closure_called_in_match_guard ----------------------------------------------------------
// Found by the scalar generator at GRAD_FUZZ_SEED=11 (300 programs, `f124`), minimized.
// rustc: error[E0425]: cannot find function `__grad_g_N` in this scope. A guard was emitted as
// written, and the closure it calls had been inlined away. Fixed: a guard that calls a closure
// (and reads none of the arm's bindings) is lowered before the `match`.

#[differentiable]
fn closure_called_in_match_guard(x: f64, y: f64, k: usize) -> f64 {
    let mut s = 0.0;
    let g = |u: f64| y * u;
    match k {
        1 | 2 if g(x) > 0.0 => {
            s += x;
        }
        _ => {
            s += y;
        }
    }
    s
}

#[test]
fn closure_called_in_match_guard_compiles() {
    // k = 1, x y > 0: s = x (ds/dx = 1, ds/dy = 0); k = 0, or x y < 0: s = y.
    for (x, y, k, want, gx, gy) in [
        (1.5, 2.0, 1, 1.5, 1.0, 0.0),
        (1.5, 2.0, 0, 2.0, 0.0, 1.0),
        (-1.5, 2.0, 2, 2.0, 0.0, 1.0),
    ] {
        let (v, (dx, dy)) = closure_called_in_match_guard_grad(x, y, k);
        close(v, want);
        close(dx, gx);
        close(dy, gy);
        let (v, t) = closure_called_in_match_guard_jvp(x, y, k, 1.0, 1.0, NoTangent);
        close(v, want);
        close(t, gx + gy);
    }
}

// ---- local arrays and Vecs ----------------------------------------------------------------
// Found by the scalar generator with `GRAD_FUZZ_BUILDS=1` (local arrays, `Vec`s, element
// writes, a vector-valued helper), at the default seed, 120 and 300 programs, minimized.
// All four are fixed.

// Was: rustc error[E0597]: `s[_]` does not live long enough. A method call on an element of
// an array parameter. Fixed: a borrowed element of a parameter the function owns is taken
// again from the parameter, not kept as a reference the pullback captures.
#[differentiable]
fn method_on_array_parameter_element(s: [f64; 2], a: f64) -> [f64; 2] {
    [s[0].atan(), a]
}

// Was: the macro's "an iterator ... must be consumed where it is made" inside `vec![..]`.
// Fixed: the iterator pass rewrites the values of a `vec!` too.
#[differentiable]
fn reduction_in_vec_literal(x: f64, v: &[f64]) -> f64 {
    let r = vec![x, v.iter().map(|e| e * x).sum::<f64>()];
    r[1]
}

#[test]
fn array_parameter_elements_and_vec_values() {
    // [atan(s0), a]: d/ds0 of the first output is 1 / (1 + s0²).
    let (r, pb) = method_on_array_parameter_element_vjp([1.0, 2.0], 3.0);
    close(r[0], 1f64.atan());
    let (gs, ga) = pb([1.0, 0.0]);
    close(gs[0], 0.5);
    close(ga, 0.0);
    let (_, t) = method_on_array_parameter_element_jvp([1.0, 2.0], 3.0, [1.0, 0.0], 1.0);
    close(t[0], 0.5);
    close(t[1], 1.0);
    // r[1] = x Σv.
    let (v, (gx, gv)) = reduction_in_vec_literal_grad(2.0, &[1.0, 2.0]);
    close(v, 6.0);
    close(gx, 3.0);
    close(gv[1], 2.0);
}

// Was: rustc error[E0425]: cannot find value `__grad_r_N` in this scope. A `Vec` built in a
// branch inside a loop, its element overwritten from itself, never read afterwards: the
// reverse sweep makes the dead version's zero adjoint from its value, which the loop did not
// keep. Fixed: a write's version that nothing reads is needed by its reverse (`activity`).
#[differentiable]
fn dead_vec_in_branch_in_loop(x: f64, y: f64) -> f64 {
    let mut s = 0.0;
    for _ in 0..2 {
        if x > 0.0 {
            let mut r: Vec<f64> = Vec::new();
            r.push(x);
            r[0] = 0.5 * r[0] + y;
        }
        s += x;
    }
    s
}

// Was: rustc error[E0382]: borrow of moved value (the `Vec`). Pushes in a `for` inside
// another loop, then a push: the outer loop keeps the inner loop's result for its reverse
// (at the end of the iteration), which the push had moved into its new version. Fixed: a
// write of a value that a loop or branch keeps copies it (`reverse`).
#[differentiable]
fn push_in_loop_in_loop(x: f64, v: &[f64]) -> f64 {
    let mut s = 0.0;
    for c in v.chunks(2) {
        let mut r: Vec<f64> = Vec::with_capacity(2);
        for _ in 0..1 {
            r.push(c[0] * x);
        }
        r.push(x);
        s += r[1];
    }
    s
}

/// Central difference of `f` at `x`.
fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn dead_vec_in_branch_in_loop_gradient() {
    for (x, y) in [(1.5, 2.0), (-0.5, 3.0)] {
        // r is dead: s = 2x whatever the branch.
        let (v, (gx, gy)) = dead_vec_in_branch_in_loop_grad(x, y);
        close(v, 2.0 * x);
        close(gx, 2.0);
        close(gy, 0.0);
        let fx = fd(|x| dead_vec_in_branch_in_loop(x, y), x);
        assert!((gx - fx).abs() <= 1e-6, "{gx} vs {fx}");
        let (_, pb) = dead_vec_in_branch_in_loop_vjp(x, y);
        let (px, py) = pb(1.0);
        close(px, 2.0);
        close(py, 0.0);
        let (_, t) = dead_vec_in_branch_in_loop_jvp(x, y, 1.0, 1.0);
        close(t, 2.0);
    }
}

#[test]
fn push_in_loop_in_loop_gradient() {
    // r = [c[0] x, x] per chunk, s = Σ r[1] = x per chunk: 2 chunks of [1, 2, 3].
    let v = [1.0, 2.0, 3.0];
    let (s, (gx, gv)) = push_in_loop_in_loop_grad(0.5, &v);
    close(s, 1.0);
    close(gx, 2.0);
    assert_eq!(gv, vec![0.0; 3]);
    let fx = fd(|x| push_in_loop_in_loop(x, &v), 0.5);
    assert!((gx - fx).abs() <= 1e-6, "{gx} vs {fx}");
    let (_, pb) = push_in_loop_in_loop_vjp(0.5, &v);
    let (px, pv) = pb(1.0);
    close(px, 2.0);
    assert_eq!(pv, vec![0.0; 3]);
    let (_, t) = push_in_loop_in_loop_jvp(0.5, &v, 1.0, &[1.0, 1.0, 1.0]);
    close(t, 2.0);
}

// ---- more local arrays and Vecs (a 300-program `GRAD_FUZZ_BUILDS=1` run) -------------------
// Found at the default seed with the two fixes above, minimized. Each is checked against
// central differences in every differentiated argument, and forward mode against reverse.

/// Checks `grad` against central differences of `f` in each argument, the pullback against
/// `grad`, and the tangent along each unit direction against the gradient's component.
fn check_scalars<const N: usize>(
    x: [f64; N],
    f: impl Fn([f64; N]) -> f64,
    grad: impl Fn([f64; N]) -> (f64, [f64; N]),
    pullback: impl Fn([f64; N]) -> [f64; N],
    jvp: impl Fn([f64; N], [f64; N]) -> (f64, f64),
) {
    let (v, g) = grad(x);
    assert_eq!(v, f(x));
    assert_eq!(pullback(x), g);
    for i in 0..N {
        let want = fd(
            |t| {
                let mut y = x;
                y[i] = t;
                f(y)
            },
            x[i],
        );
        assert!(
            (g[i] - want).abs() <= 1e-6 * want.abs().max(1.0),
            "d/dx{i}: {} vs {want}",
            g[i]
        );
        let mut dir = [0.0; N];
        dir[i] = 1.0;
        let (v2, t) = jvp(x, dir);
        assert_eq!(v2, v);
        close(t, g[i]);
    }
}

// Was: E0425 `__grad_r6_N`: a `Vec` written in an `else if` inside a `match` arm and read only
// by the branch's merge, whose result nothing reads: no adjoint reaches the written version,
// whose value its reverse then needed. Fixed: "reached" follows adjoints through merges.
#[differentiable]
fn write_in_else_if_in_match(k: usize, y: f64, z: f64) -> f64 {
    let mut s1: f64 = 0.0;
    match k {
        0 => {
            s1 -= y;
        }
        1 | 2 => {
            let mut r6 = vec![y, y, f64::min(0.1, y).abs()];
            if k != 1 || s1 < 0.5 {
                s1 += 1.0;
            } else if (r6[k % 3] + z) <= 1.0 && z >= (-0.25) {
                r6[k % 3] = z.sin().tan() * (2.0 + s1.sin()).powi(-1);
                s1 += z.sin();
            } else {
                s1 += y * 0.5;
            }
        }
        _ => {}
    }
    s1.atan() + y * z
}

// Was: E0425 `__grad_r4_N`: the same through a `continue` (the rest of the body in a branch).
#[differentiable]
fn write_after_continue(z: f64, x: f64) -> f64 {
    let mut s1 = 0.0;
    for i in 1..3 {
        let mut r4 = vec![x, x * z, x];
        if r4[i % 3] > 5.0 {
            continue;
        }
        r4[i] = -z;
        s1 += 0.1 * x;
    }
    s1
}

// Was: E0425 `__grad_t_N`: `[e; n]` after an early return (so in a branch): the copies'
// adjoints are added into the part's, zeroed from its value, which the branch did not keep.
#[differentiable]
fn repeat_after_return(z: f64, y: f64) -> f64 {
    let mut s1: f64 = 0.0;
    if z > 1.0 {
        return z;
    }
    let r3 = [(z + y.tanh()); 2];
    let r4 = vec![z * y; 3];
    s1 += -z;
    r3[1].tanh() + s1 * 0.75 + r4[2]
}

// Was: E0425 `w3`: a window of a `for` over `v.windows(2)` read inside `vec![..]`, where the
// loop's view substitution did not look.
#[differentiable]
fn window_in_vec_literal(v: &[f64], x: f64) -> f64 {
    let mut s1: f64 = 0.0;
    for w3 in v.windows(2) {
        let r4 = vec![x, w3[0] * x];
        s1 += w3[1] * 0.5;
        s1 += r4[1] * 0.5;
    }
    s1
}

// Was: E0596, cannot borrow as mutable: a `collect` of constants (the closure reads no
// differentiated value) pushed into its accumulator as written, on a binding that the
// generated code does not make `mut`. Fixed: every push on a local is a write.
#[differentiable]
fn collect_of_constants(w: f64, v: &[f64], x: f64) -> f64 {
    let mut s1: f64 = 0.0;
    let m2: f64 = 0.5;
    let r3 = v
        .iter()
        .skip(1)
        .map(|e4| m2.floor().min(e4 * 2.0))
        .collect::<Vec<_>>();
    if (s1 + x) < r3[r3.len() - 1].atan2(w) {
        s1 += x * w;
    }
    let mut idx: Vec<usize> = Vec::new();
    idx.push(1);
    s1 * 0.1 + r3[idx[0] - 1] + x
}

#[test]
fn written_versions_no_adjoint_reaches() {
    for k in [0, 1, 2, 3] {
        for (y, z) in [(0.3, 0.2), (-0.4, 0.9)] {
            check_scalars(
                [y, z],
                |[y, z]| write_in_else_if_in_match(k, y, z),
                |[y, z]| {
                    let (v, (gy, gz)) = write_in_else_if_in_match_grad(k, y, z);
                    (v, [gy, gz])
                },
                |[y, z]| {
                    let (_, gy, gz) = write_in_else_if_in_match_vjp(k, y, z).1(1.0);
                    [gy, gz]
                },
                |[y, z], [dy, dz]| write_in_else_if_in_match_jvp(k, y, z, NoTangent, dy, dz),
            );
        }
    }
    for (z, x) in [(0.5, 0.7), (2.0, 6.0)] {
        check_scalars(
            [z, x],
            |[z, x]| write_after_continue(z, x),
            |[z, x]| {
                let (v, (gz, gx)) = write_after_continue_grad(z, x);
                (v, [gz, gx])
            },
            |[z, x]| {
                let (gz, gx) = write_after_continue_vjp(z, x).1(1.0);
                [gz, gx]
            },
            |[z, x], [dz, dx]| write_after_continue_jvp(z, x, dz, dx),
        );
    }
    // s1 = 0.1 x per iteration that does not continue: both do at (0.5, 0.7).
    close(write_after_continue_grad(0.5, 0.7).1.1, 0.2);
}

#[test]
fn repeated_parts_in_a_branch() {
    for (z, y) in [(0.5, -0.3), (1.5, 0.2)] {
        check_scalars(
            [z, y],
            |[z, y]| repeat_after_return(z, y),
            |[z, y]| {
                let (v, (gz, gy)) = repeat_after_return_grad(z, y);
                (v, [gz, gy])
            },
            |[z, y]| {
                let (gz, gy) = repeat_after_return_vjp(z, y).1(1.0);
                [gz, gy]
            },
            |[z, y], [dz, dy]| repeat_after_return_jvp(z, y, dz, dy),
        );
    }
    // Past the return: the result is z.
    assert_eq!(repeat_after_return_grad(1.5, 0.2).1, (1.0, 0.0));
}

#[test]
fn views_in_vec_literals_and_constant_collects() {
    let v = [0.5, -1.0, 2.0];
    // s1 = Σ over windows of 0.5 w[1] + 0.5 w[0] x: d/dx = 0.5 (v0 + v1) = -0.25.
    let (s, (gv, gx)) = window_in_vec_literal_grad(&v, 1.5);
    close(s, window_in_vec_literal(&v, 1.5));
    close(gx, -0.25);
    let want_v = [0.5 * 1.5, 0.5 + 0.5 * 1.5, 0.5];
    for i in 0..3 {
        close(gv[i], want_v[i]);
    }
    let (_, t) = window_in_vec_literal_jvp(&v, 1.5, &[0.0; 3], 1.0);
    close(t, -0.25);
    for (w, x) in [(0.3, -2.0), (-0.5, 0.4)] {
        check_scalars(
            [w, x],
            |[w, x]| collect_of_constants(w, &v, x),
            |[w, x]| {
                let (s, (gw, _, gx)) = collect_of_constants_grad(w, &v, x);
                (s, [gw, gx])
            },
            |[w, x]| {
                let (gw, _, gx) = collect_of_constants_vjp(w, &v, x).1(1.0);
                [gw, gx]
            },
            |[w, x], [dw, dx]| collect_of_constants_jvp(w, &v, x, dw, &[0.0; 3], dx),
        );
    }
}

// Was: E0597, `s[_]` does not live long enough: a method call on an element of an array
// parameter inside a branch. The branch's record kept `&s[0]`, since activity took a
// borrowed element of an owned parameter for a value of its own, where the emitter reads
// the place again. Fixed: both treat a parameter the function owns as they treat a local.
#[differentiable]
fn method_on_array_parameter_element_in_branch(s: [f64; 2], a: f64) -> [f64; 2] {
    [if a > 0.0 { s[0].tanh() } else { a }, a * s[1]]
}

#[test]
fn array_parameter_element_in_branch() {
    for a in [0.5, -0.5] {
        let s = [0.3, -1.2];
        let (r, pb) = method_on_array_parameter_element_in_branch_vjp(s, a);
        assert_eq!(r, method_on_array_parameter_element_in_branch(s, a));
        // First output: tanh(s0) where a > 0 (d/ds0 = 1 - tanh²), else a (d/da = 1).
        let (gs, ga) = pb([1.0, 0.0]);
        let th = 0.3f64.tanh();
        if a > 0.0 {
            close(gs[0], 1.0 - th * th);
            close(ga, 0.0);
        } else {
            close(gs[0], 0.0);
            close(ga, 1.0);
        }
        close(gs[1], 0.0);
        // Second output: a s1.
        let (gs, ga) = method_on_array_parameter_element_in_branch_vjp(s, a).1([0.0, 1.0]);
        assert_eq!(gs, [0.0, a]);
        close(ga, s[1]);
        let (_, t) = method_on_array_parameter_element_in_branch_jvp(s, a, [1.0, 1.0], 0.0);
        close(t[0], if a > 0.0 { 1.0 - th * th } else { 0.0 });
        close(t[1], a);
    }
}

/// Seed 77: a cast used first inside `vec![e; n]` and then bound by `let` was renamed after
/// the user's name although the `vec!` tokens already spelled its first name (E0425).
#[differentiable]
fn repeat_of_a_value_named_later(x: f64) -> f64 {
    let mut s = 0.0;
    let mut c = 0;
    while c < 2 {
        let r = vec![(c as f64); 1];
        let t = (c as f64);
        s += t + x * r[0];
        c += 1;
    }
    s
}

#[test]
fn a_value_spelled_in_tokens_keeps_its_name() {
    // s = (0 + 0x) + (1 + 1x) = 1 + x.
    for x in [-0.5, 2.0] {
        let (v, g) = repeat_of_a_value_named_later_grad(x);
        close(v, 1.0 + x);
        close(g, 1.0);
        close(repeat_of_a_value_named_later_jvp(x, 1.0).1, 1.0);
    }
}

// ---- order = 2 --------------------------------------------------------------------------------
// The scalar programs under `#[differentiable(order = 2)]`, whose dual copy is generic over its
// float type `__GradT`.

/// Default seed, first run with `order = 2`: a float cast to the float type (`e as f64`, the
/// identity) is `lift(e)` in the copy, whose cotangent `<__GradT as Cast<__GradT>>::Cotangent`
/// the generic reverse pass could neither add to an adjoint nor pass on (E0277, E0308; 80 of
/// the run's 85 errors). `Order2` now says that this cotangent is the scalar itself.
#[differentiable(order = 2)]
fn float_cast_in_copy(x: f64, y: f64) -> f64 {
    let t = (x * y) as f64;
    t * x + (y.sin() as f64)
}

#[test]
fn float_cast_under_order2() {
    // f = x² y + sin y: ∇f = (2xy, x² + cos y), H = [[2y, 2x], [2x, -sin y]].
    let (x, y) = (0.7, -1.3);
    let (f, (gx, gy), (hx, hy)) = float_cast_in_copy_hvp(x, y, 1.0, 0.5);
    close(f, x * x * y + y.sin());
    close(gx, 2.0 * x * y);
    close(gy, x * x + y.cos());
    close(hx, 2.0 * y + 0.5 * 2.0 * x);
    close(hy, 2.0 * x - 0.5 * y.sin());
}

/// Default seed, first run with `order = 2`: an element update that reads the same local `Vec`
/// (`r[2] += r[0] * r[1]`) did not compile in the copy (E0502; 3 of the run's 85 errors): on
/// the generic float `+=` is `AddAssign`, and `IndexMut` borrows `r` mutably before the operand
/// is evaluated. The copy now writes `r[2] = r[2] + (r[0] * r[1])`.
#[differentiable(order = 2)]
fn element_update_reading_its_array(x: f64, y: f64) -> f64 {
    let mut r = vec![x, y, 0.0];
    r[2] += r[0] * r[1];
    r[0] -= r[2].sin();
    r[1] *= r[0];
    r[1] /= 2.0 + r[2].cos();
    r[0] + r[2] + 0.1 * r[1]
}

#[test]
fn element_update_under_order2() {
    // With p = xy, a = x - sin p, b = y a / (2 + cos p): f = a + p + b / 10.
    let f = |x: f64, y: f64| {
        let p = x * y;
        let a = x - p.sin();
        a + p + 0.1 * y * a / (2.0 + p.cos())
    };
    let (x, y) = (0.6, 0.9);
    let grad = |x: f64, y: f64| {
        let (_, (gx, gy)) = element_update_reading_its_array_grad(x, y);
        [gx, gy]
    };
    let (v, (gx, gy), (hx, hy)) = element_update_reading_its_array_hvp(x, y, 1.0, -0.5);
    close(v, f(x, y));
    assert_eq!([gx, gy], grad(x, y));
    // H v against central differences of the gradient along v = (1, -0.5).
    let h = 1e-5;
    let (p, m) = (grad(x + h, y - 0.5 * h), grad(x - h, y + 0.5 * h));
    for (hv, (p, m)) in [hx, hy].into_iter().zip(p.into_iter().zip(m)) {
        let fd = (p - m) / (2.0 * h);
        assert!(
            (hv - fd).abs() <= 1e-8 * fd.abs().max(1.0),
            "{hv} against {fd}"
        );
    }
}

// ---- fused_division_rounds_as_its_rule ------------------------------------------------------
// Found by the scalar generator at the default seed (60 programs, `f38`), minimized. `_hvp`'s
// gradient was `_grad`'s but for the last bit (0.10489501902742888 against
// 0.1048950190274289). `_grad` fuses the scalar chain, and its fused division took the
// denominator's partial as `-y / b`; the order-2 copy differentiates through the rule, which
// rounds it as `-y * (1 / b)`. Fixed: the fused kernel rounds each partial as the rule does.

#[differentiable(order = 2)]
fn fused_division(x: f64, y: f64, s: f64) -> f64 {
    let t = s.atan() * x.sin() + y;
    let u = (1.5 + y.sin()).powf(1.5).atan();
    s + u.tanh() + x / (2.0 + t.sin()) * 0.5 + 0.75
}

#[test]
fn fused_division_rounds_as_its_rule() {
    let (x, y, s) = (
        0.45822776982711066,
        -0.002273046528901368,
        0.16232036809705216,
    );
    let (v, g) = fused_division_grad(x, y, s);
    let (vh, gh, _) = fused_division_hvp(x, y, s, 1.0, 0.0, 0.0);
    assert_eq!(v.to_bits(), vh.to_bits());
    for (a, b) in [(g.0, gh.0), (g.1, gh.1), (g.2, gh.2)] {
        assert_eq!(a.to_bits(), b.to_bits(), "{a:?} against {b:?}");
    }
    // And the gradient is the gradient: central differences in f64.
    let f = |x: f64, y: f64| fused_division(x, y, s);
    let h = 1e-6;
    let fd = [
        (f(x + h, y) - f(x - h, y)) / (2.0 * h),
        (f(x, y + h) - f(x, y - h)) / (2.0 * h),
    ];
    for (a, b) in [g.0, g.1].into_iter().zip(fd) {
        assert!((a - b).abs() <= 1e-8, "{a} against differences {b}");
    }
}

// ---- a_cast_squared_rounds_as_the_first_order_copy ------------------------------------------
// Found by the scalar generator at the default seed (300 programs, `f256`), minimized. `_hvp`'s
// gradient was `_grad`'s but for the last bit (0.7299319488984874 against
// 0.7299319488984872). The first-order copy reads `(y as f64) * (y as f64)` as one cast
// squared (its adjoint `2 y d`, added once); the order-2 copy writes each cast as a
// `lift(y)` call, and two calls were two values: their adjoints were added one after the
// other into a sum running over the loop. Fixed: lowering takes `lift` of one value once.

#[differentiable(order = 2)]
fn cast_squared(x: f64, y: f64) -> f64 {
    let mut s1 = 0.0;
    for _ in 1..=3 {
        let t =
            ((x.clamp(-0.5, 0.5) - (y * 0.3)) - 0.1) * (1.0 + ((y as f64) * (y as f64))).ln().sin();
        s1 += t * 0.5;
    }
    s1.sin()
}

#[test]
fn a_cast_squared_rounds_as_the_first_order_copy() {
    // 579 of these 2000 points differed in the last bit before the fix.
    for k in 0..2000 {
        let x = -0.36 + 0.001 * k as f64;
        let y = -0.5589312872870679 + 0.00037 * k as f64;
        let (v, g) = cast_squared_grad(x, y);
        let (vh, gh, _) = cast_squared_hvp(x, y, 1.0, 0.5);
        assert_eq!(v.to_bits(), vh.to_bits());
        for (a, b) in [(g.0, gh.0), (g.1, gh.1)] {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "at ({x}, {y}): {a:?} against {b:?}"
            );
        }
    }
    // And the gradient is the gradient: central differences in f64.
    let (x, y) = (0.2, -0.55);
    let (_, g) = cast_squared_grad(x, y);
    let h = 1e-6;
    let fd = [
        (cast_squared(x + h, y) - cast_squared(x - h, y)) / (2.0 * h),
        (cast_squared(x, y + h) - cast_squared(x, y - h)) / (2.0 * h),
    ];
    for (a, b) in [g.0, g.1].into_iter().zip(fd) {
        assert!((a - b).abs() <= 1e-8, "{a} against differences {b}");
    }
}
