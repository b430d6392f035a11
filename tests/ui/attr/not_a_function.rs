// The attribute on a struct: it applies to functions and methods only.
use grad::differentiable;

#[differentiable]
struct Params {
    w: f64,
}

fn main() {}
