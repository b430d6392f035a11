// A closure is inlined where it is called, so any other use of it (here, passing it to a
// function) is rejected on the name, saying it may only be called.
use grad::differentiable;

fn apply(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    f(x)
}

#[differentiable]
fn f(x: f64) -> f64 {
    let sq = |t: f64| t * t;
    apply(sq, x)
}

fn main() {}
