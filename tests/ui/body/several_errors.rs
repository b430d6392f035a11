// Several problems in one function are all reported in one build: a closure that escapes,
// an unsupported iterator adaptor, an unknown macro and an element assignment, each on its
// own token.
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
