// A struct literal is rejected on the struct's path, suggesting to pass the fields as
// separate values.
use grad::differentiable;

struct P {
    a: f64,
}

#[differentiable]
fn f(x: f64) -> f64 {
    let p = P { a: x };
    p.a * x
}

fn main() {}
