use grad::differentiable;

#[differentiable(order = 2)]
fn cube(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        s += x * x * (i as f64);
    }
    s * x + 2.0 * x.sin()
}

#[test]
fn smoke() {
    let (y, g, hv) = cube_hvp(1.5, 2.0);
    println!("{y} {g} {hv}");
}
