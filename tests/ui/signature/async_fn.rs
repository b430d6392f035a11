// `async fn` cannot be differentiated: the error sits on the `async` keyword and
// suggests a synchronous function.
use grad::differentiable;

#[differentiable]
async fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
