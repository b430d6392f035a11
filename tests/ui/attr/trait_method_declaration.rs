// The attribute on a trait method without a body: there is nothing to differentiate.
// Recorded to show the message, which says the attribute "applies to a function or a
// method" although this is a method (see the report).
use grad::differentiable;

trait Loss {
    #[differentiable]
    fn loss(&self, x: f64) -> f64;
}

fn main() {}
