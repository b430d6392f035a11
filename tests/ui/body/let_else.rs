// `let ... else` with a pattern other than `Some(p)` or `Ok(p)` (here an enum's variant) is
// rejected on `else`, naming the forms that work and suggesting `match` on a
// non-differentiated value.
use grad::differentiable;

pub enum Shape {
    Circle(usize),
    Square,
}

#[differentiable(wrt(x))]
fn f(x: f64, s: Shape) -> f64 {
    let Shape::Circle(n) = s else { panic!() };
    x * n as f64
}

fn main() {}
