use grad::differentiable;

#[differentiable]
fn loss(a: f64) -> f64 {
    a * 5.0
}

#[differentiable]
fn rosen(x: f64, y: f64) -> f64 {
    let a = 1.0 - x;
    let b = y - x * x;
    a * a + 100.0 * b * b
}

#[differentiable]
fn rosen_n(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

#[differentiable]
fn prod(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p = p * x[i].sin();
    }
    p
}

#[differentiable]
fn branchy(x: f64, k: usize) -> f64 {
    let y = if x > 0.0 { x.exp() } else { x * x };
    let mut z = y;
    if k > 2 {
        z = z * 3.0;
    }
    z
}

#[test]
fn smoke() {
    assert_eq!(loss_grad(5.0), (25.0, 5.0));
    let (v, (dx, dy)) = rosen_grad(-1.2, 1.0);
    assert!((v - 24.2).abs() < 1e-12);
    assert!((dx + 215.6).abs() < 1e-9, "{dx}");
    assert!((dy + 88.0).abs() < 1e-9, "{dy}");
    let (_, t) = rosen_jvp(-1.2, 1.0, 1.0, 0.0);
    assert!((t + 215.6).abs() < 1e-9);
    let (_, pb) = rosen_vjp(-1.2, 1.0);
    let (a, b) = pb(2.0);
    assert!((a + 431.2).abs() < 1e-9 && (b + 176.0).abs() < 1e-9);
    let x: Vec<f64> = (0..5).map(|i| 0.5 + 0.1 * i as f64).collect();
    let (v, g) = rosen_n_grad(&x);
    let (v2, pb) = rosen_n_vjp(&x);
    let g2 = pb(1.0);
    assert_eq!(v, v2);
    for i in 0..5 { assert!((g[i] - g2[i]).abs() < 1e-12); }
    let (_, g) = prod_grad(&x);
    let (_, pb) = prod_vjp(&x);
    let g3 = pb(1.0);
    for i in 0..5 { assert!((g[i]-g3[i]).abs() < 1e-12); }
    let (_, d) = branchy_grad(0.5, 3);
    assert!((d - 3.0 * 0.5f64.exp()).abs() < 1e-12);
    let (_, d) = branchy_grad(-0.5, 1);
    assert!((d + 1.0).abs() < 1e-12);
}
