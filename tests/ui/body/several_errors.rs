// Several problems in one function are all reported in one build: a closure, a `loop`,
// an unknown macro and an element assignment, each on its own token.
use grad::differentiable;

#[differentiable]
fn f(x: [f64; 2]) -> f64 {
    let g = |t: f64| t;
    let mut y = x;
    y[1] = 3.0;
    loop {}
    let v = vec![1.0];
    g(y[0]) + v[0]
}

fn main() {}
