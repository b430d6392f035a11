// `grad::checkpoint` other than as a top-level `for` loop's iterable: bound to a local, with
// the wrong number of arguments, inside another loop, or around a loop of its own.
use grad::differentiable;

#[differentiable(wrt(x))]
fn stray(x: f64, n: usize) -> f64 {
    let steps = grad::checkpoint(0..n, 4);
    let mut y = x;
    for _ in steps {
        y = y * x;
    }
    y
}

#[differentiable(wrt(x))]
fn arity(x: f64, n: usize) -> f64 {
    let mut y = x;
    for _ in grad::checkpoint(0..n) {
        y = y * x;
    }
    y
}

#[differentiable(wrt(x))]
fn inside(x: f64, n: usize) -> f64 {
    let mut y = x;
    for _ in 0..3 {
        for _ in grad::checkpoint(0..n, 4) {
            y = y * x;
        }
    }
    y
}

#[differentiable(wrt(x))]
fn around(x: f64, n: usize) -> f64 {
    let mut y = x;
    for _ in grad::checkpoint(0..n, 4) {
        for _ in 0..3 {
            y = y * x;
        }
    }
    y
}

fn main() {}
