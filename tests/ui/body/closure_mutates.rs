// A closure that assigns to a variable it captures (an `FnMut`) is rejected on its body,
// suggesting to return the new value instead.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut total = 0.0;
    let mut add = |t: f64| total += t;
    add(x);
    add(x * x);
    total
}

fn main() {}
