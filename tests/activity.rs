//! Activity analysis, verified by allocation: an input that is not differentiated costs no
//! backward work. Differentiating X·w with respect to `w` only must never build the
//! 800 KB cotangent of the data matrix X, and broadcasting works in every direction.

#[path = "../benches/alloc.rs"]
mod alloc;

use grad::check::gradcheck;
use grad::{Tensor, differentiable};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

type T64 = Tensor<f64>;

/// The allocation counters are global: tests in this file take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[differentiable(wrt(w))]
fn data_fit(w: &T64, x: &T64, y: &T64) -> f64 {
    let r = x.matmul(w) - y;
    (&r * &r).mean()
}

#[test]
fn no_cotangent_of_the_data_matrix() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let x = Tensor::randn(&[1000, 100], 1);
    let w = Tensor::randn(&[100], 2);
    let y = Tensor::randn(&[1000], 3);
    let x_bytes = 1000 * 100 * 8;
    let peak = alloc::peak_of(|| data_fit_grad(&w, &x, &y));
    // The gradient needs a few vectors of 1000 and 100 entries; dX would be 800 KB.
    assert!(
        peak < x_bytes / 4,
        "peak heap {peak} bytes: a data-sized buffer was built"
    );
    let (_, g) = data_fit_grad(&w, &x, &y);
    gradcheck(|w: &T64| data_fit(w, &x, &y), &w, &g, 1e-8, 1e-6).unwrap();
}

#[differentiable]
fn broadcasts(col: &T64, row: &T64, s: f64, m: &T64) -> f64 {
    // [2, 1] + [3] -> [2, 3]; [3] * [2, 3]; scalar - tensor and tensor / scalar; [2, 3] + [2, 1].
    let a = col + row;
    let b = row * &a;
    let c = s - &b;
    let d = &c / s + m;
    let e = m + col;
    (d * e).sum()
}

#[test]
fn broadcasting_in_every_direction() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let col = Tensor::from_vec(vec![0.5, -0.3], &[2, 1]).unwrap();
    let row = Tensor::from([0.2, 0.7, -1.1]);
    let m = Tensor::rand_uniform(&[2, 3], -1.0, 1.0, 4);
    let s = 1.7;
    let (_, (gc, gr, gs, gm)) = broadcasts_grad(&col, &row, s, &m);
    assert_eq!(gc.shape(), &[2, 1]);
    assert_eq!(gr.shape(), &[3]);
    gradcheck(|c: &T64| broadcasts(c, &row, s, &m), &col, &gc, 1e-8, 1e-6).unwrap();
    gradcheck(|r: &T64| broadcasts(&col, r, s, &m), &row, &gr, 1e-8, 1e-6).unwrap();
    gradcheck(
        |s: &f64| broadcasts(&col, &row, *s, &m),
        &s,
        &gs,
        1e-8,
        1e-6,
    )
    .unwrap();
    gradcheck(|m: &T64| broadcasts(&col, &row, s, m), &m, &gm, 1e-8, 1e-6).unwrap();
    // Forward mode agrees: the directional derivative along the gradient is |g|².
    let (_, t) = broadcasts_jvp(&col, &row, s, &m, &gc, &gr, gs, &gm);
    let n2: f64 = [gc.to_vec(), gr.to_vec(), vec![gs], gm.to_vec()]
        .iter()
        .flatten()
        .map(|g| g * g)
        .sum();
    assert!((t - n2).abs() <= 1e-10 * n2, "{t} vs {n2}");
}

#[differentiable]
fn t4(x: &T64) -> f64 {
    let t = x.tanh();
    (&t * &t * (-x).exp()).sum()
}

/// The fused T4 gradient holds no per-operation buffer: its peak heap is the gradient it
/// returns plus a constant (the loops' per-block sums), whatever the length.
#[test]
fn the_fused_t4_gradient_peaks_at_its_gradient() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for n in [100_000usize, 1_000_000] {
        let x = Tensor::randn(&[n], 4);
        let _ = t4_grad(&x); // rayon's pool and its threads, before measuring
        let peak = alloc::peak_of(|| t4_grad(&x));
        let gradient = n * 8;
        println!("n = {n}: peak {peak} bytes, gradient {gradient}");
        assert!(
            peak >= gradient && peak <= gradient + 64 * 1024,
            "n = {n}: peak {peak} bytes, gradient {gradient}"
        );
    }
}
