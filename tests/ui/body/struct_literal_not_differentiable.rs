// A struct literal of differentiated values needs the struct to derive `Differentiable`:
// without it rustc finds no tangent struct `PTangent` for the literal, and the runtime's
// trait says to implement `grad::Differentiable`.
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
