// An item of `iter_mut()` used other than as `*v` or `v.method()` (here passed on as a
// reference) is named, with the forms that work.
use grad::differentiable;

fn bump(v: &mut f64) {
    *v += 1.0;
}

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let mut c = x.to_vec();
    for v in c.iter_mut() {
        bump(v);
    }
    c.iter().sum()
}

fn main() {}
