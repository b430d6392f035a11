// The `?` operator is rejected on the `?` token.
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
