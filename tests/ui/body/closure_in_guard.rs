// A closure called in a `match` guard that reads the arm's bindings is rejected on the
// guard: the guard would have to run before the `match`, where the bindings do not exist.
use grad::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, k: usize) -> f64 {
    let g = |u: f64| x * u;
    match k {
        n if g(n as f64) > 1.0 => x,
        _ => x * x,
    }
}

fn main() {}
