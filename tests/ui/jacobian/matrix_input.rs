// `jacobian` with respect to an nalgebra matrix, and of a tuple result: neither is a
// vector. Each is reported on its type.
use grad::differentiable;
use grad::nalgebra::{Matrix2, Vector2};

#[differentiable(jacobian)]
fn f(m: Matrix2<f64>) -> (f64, Vector2<f64>) {
    (m[(0, 0)], m * Vector2::new(1.0, 2.0))
}

fn main() {}
