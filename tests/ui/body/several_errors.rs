// Several problems in one function are all reported in one build: a closure that escapes
// and an unsupported iterator adaptor, each on its own token (the element write and the
// `vec!` beside them are supported).
use grad::differentiable;

#[differentiable]
fn f(x: [f64; 2]) -> f64 {
    let g = |t: f64| t;
    let h = g;
    let mut y = x;
    y[1] = 3.0;
    let s: f64 = x.iter().scan(0.0, |acc, v| Some(*acc + v)).sum();
    let v = vec![1.0];
    h(y[0]) + v[0] + s
}

fn main() {}
