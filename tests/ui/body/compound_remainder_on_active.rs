// `y %= k` on a differentiated `y` has no derivative, like `%`: rejected on the operator.
// (It used to panic inside the macro: an empty rule name reached `Ident::new`.)
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x;
    y %= 2.0;
    y * x
}

fn main() {}
