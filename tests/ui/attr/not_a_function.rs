// The attribute on a struct: it applies to functions and methods only. The item is
// emitted unchanged, so nothing else is reported.
use grad::differentiable;

#[differentiable]
struct Params {
    w: f64,
}

fn main() {}
