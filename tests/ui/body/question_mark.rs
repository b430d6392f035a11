// The `?` operator is rejected on the `?` token. rustc reports `?` in a function that
// returns `f64` as well: such a function is never valid Rust.
use grad::differentiable;

fn parse(s: &str) -> Result<f64, std::num::ParseFloatError> {
    s.parse()
}

#[differentiable(wrt(x))]
fn f(x: f64, s: &str) -> f64 {
    let k = parse(s)?;
    x * k
}

fn main() {}
