// `map` outside an iterator chain is an array's or a nalgebra matrix's; of anything else (here
// a struct's own `map`) rustc names the receiver and what to do instead.
use grad::{Differentiable, differentiable};

#[derive(Differentiable, Clone)]
struct Pair {
    a: f64,
    b: f64,
}

impl Pair {
    fn map(&self, f: impl Fn(f64) -> f64) -> Pair {
        Pair { a: f(self.a), b: f(self.b) }
    }
}

#[differentiable]
fn f(p: &Pair) -> f64 {
    let q = p.map(|v| v * 2.0);
    q.a + q.b
}

fn main() {}
