// `wrt(...)` naming something that is not a parameter: the error sits on that name
// (`zz`), and lists the parameters that exist.
use grad::differentiable;

#[differentiable(wrt(x, zz))]
fn f(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {}
