//! The tensor bench cases T1-T4: generated, hand-written and tape gradients agree with each
//! other, and with central finite differences where those are affordable.

#[path = "../benches/alloc.rs"]
#[allow(dead_code, reason = "`peak_of` is the memory table's, unused here")]
mod alloc;
#[path = "../benches/tensor/cases.rs"]
mod cases;
#[path = "../benches/tensor/tape.rs"]
mod tape;

use alloc::{Allocations, allocations_of};
use cases::*;
use grad::check::gradcheck;

/// Counts the allocations of each thread, for `t1_generated_allocates_less_than_handwritten`.
#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

#[track_caller]
fn close(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        // Same kernels, different association orders: agreement to rounding.
        let scale = x.abs().max(y.abs()).max(1e-3);
        assert!((x - y).abs() <= 1e-10 * scale, "{what}[{i}]: {x} vs {y}");
    }
}

/// The quick start's gradient allocates `a * 5` and makes the cotangent in its buffer
/// (the sum's reverse is handed the dead temporary); the hand-written gradient drops the
/// product and allocates `Tensor::full`.
#[test]
fn t1_generated_allocates_less_than_handwritten() {
    let a = t1_input();
    let _ = (t1_quickstart_grad(&a), t1_handwritten(&a));
    let generated = allocations_of(|| t1_quickstart_grad(&a));
    let handwritten = allocations_of(|| t1_handwritten(&a));
    let one = Allocations {
        count: 1,
        bytes: size_of::<f64>(),
    };
    assert_eq!(generated, one, "generated");
    assert_eq!(
        handwritten,
        Allocations {
            count: 2,
            bytes: 2 * size_of::<f64>()
        },
        "handwritten"
    );
}

#[test]
fn t1_gradients_agree() {
    let a = t1_input();
    let (v, g) = t1_quickstart_grad(&a);
    let (hv, h) = t1_handwritten(&a);
    let (tv, t) = t1_tape(&a);
    // sum(5 A) at A = [5]: value 25, gradient [5].
    close("T1 value", &[v, hv, tv], &[25.0, 25.0, 25.0]);
    close("T1 grad", &g.to_vec(), &[5.0]);
    close("T1 grad hand", &h.to_vec(), &[5.0]);
    close("T1 grad tape", &t.to_vec(), &[5.0]);
    gradcheck(t1_quickstart, &a, &g, 1e-8, 1e-6).unwrap();
}

#[test]
fn t2_gradients_agree() {
    let (w, b, x, y) = t2_input();
    let (v, (gw, gb)) = t2_logistic_grad(&w, b, &x, &y);
    let (hv, (hw, hb)) = t2_handwritten(&w, b, &x, &y);
    let (tv, (tw, tb)) = t2_tape(&w, b, &x, &y);
    close("T2 value", &[v, tv], &[hv, hv]);
    close("T2 dw", &gw.to_vec(), &hw.to_vec());
    close("T2 dw tape", &tw.to_vec(), &hw.to_vec());
    close("T2 db", &[gb, tb], &[hb, hb]);
    gradcheck(|w: &T64| t2_logistic(w, b, &x, &y), &w, &gw, 1e-8, 1e-6).unwrap();
}

#[test]
fn t3_gradients_agree() {
    let (p, x, labels) = t3_input();
    let (v, g) = t3_mlp_grad(&p.0, &p.1, &p.2, &p.3, &x, &labels);
    let (hv, h) = t3_handwritten(&p, &x, &labels);
    let (tv, t) = t3_tape(&p, &x, &labels);
    close("T3 value", &[v, tv], &[hv, hv]);
    for (name, a, b, c) in [
        ("dW1", &g.0, &h.0, &t.0),
        ("db1", &g.1, &h.1, &t.1),
        ("dW2", &g.2, &h.2, &t.2),
        ("db2", &g.3, &h.3, &t.3),
    ] {
        close(name, &a.to_vec(), &b.to_vec());
        close(name, &c.to_vec(), &b.to_vec());
    }
    // Finite differences on the small parameters (the 200k-entry W1 is covered above).
    gradcheck(
        |b: &T64| t3_mlp(&p.0, &p.1, &p.2, b, &x, &labels),
        &p.3,
        &g.3,
        1e-8,
        1e-6,
    )
    .unwrap();
}

#[test]
fn t4_gradients_agree() {
    let x = t4_input();
    let (v, g) = t4_elementwise_grad(&x);
    let (hv, h) = t4_handwritten(&x);
    let (tv, t) = t4_tape(&x);
    close("T4 value", &[v, tv], &[hv, hv]);
    close("T4 grad", &g.to_vec(), &h.to_vec());
    close("T4 grad tape", &t.to_vec(), &h.to_vec());
    let small = grad::Tensor::from([0.3, -1.2, 2.0]);
    let (_, gs) = t4_elementwise_grad(&small);
    gradcheck(t4_elementwise, &small, &gs, 1e-8, 1e-6).unwrap();
}
