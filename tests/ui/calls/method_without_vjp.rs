// A user method `m` with no `m_vjp` beside it, called on a differentiated value: rustc's
// "no method `scale_vjp`" should land on the user's `scale`.
use grad::differentiable;

trait Scale {
    fn scale(&self, k: f64) -> f64;
}

impl Scale for f64 {
    fn scale(&self, k: f64) -> f64 {
        self * k
    }
}

#[differentiable(reverse)]
fn f(x: f64) -> f64 {
    x.scale(2.0)
}

fn main() {}
