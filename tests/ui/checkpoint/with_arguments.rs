// `checkpoint` takes no arguments (a number of snapshots, as some libraries take, is not
// one of them): the error is spanned on what follows `checkpoint`.
use grad::differentiable;

#[differentiable(checkpoint(4))]
fn f(x: f64) -> f64 {
    x.sin() * x
}

fn main() {
    let _ = f_grad(1.0);
}
