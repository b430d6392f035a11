// `order = 2` on a function of a nalgebra vector: not supported yet, said on the parameter's
// type (with the forms that are); the first-order derivatives and a stub `f_hvp` are still
// written, so the call below reports nothing more.
use grad::differentiable;
use nalgebra::Vector3;

#[differentiable(order = 2)]
fn f(x: &Vector3<f64>, y: f64) -> f64 {
    x.dot(x) * y
}

fn main() {
    let x = Vector3::new(1.0, 2.0, 3.0);
    let _ = f_hvp(&x, 2.0, &x, 1.0);
}
