// The attribute on a trait method without a body: there is nothing to differentiate.
// Recorded to show the message, which says the attribute "applies to a function, a method
// or an `impl` block" although this is a method declaration, with no body to read.
use grad::differentiable;

trait Loss {
    #[differentiable]
    fn loss(&self, x: f64) -> f64;
}

fn main() {}
