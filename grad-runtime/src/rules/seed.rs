//! Unit seeds for gathered loop reverses.
//!
//! A loop that writes `next[i] = f(c[i - 1], c[i], c[i + 1])` has a reverse that is
//! linear in the one cotangent it reads, `dnext[i]`: each contribution it makes is
//! `J_k(i) * dnext[i]`, with `J_k(i)` the partial of `f` by its `k`-th read. Where the
//! macro runs such a reverse as a gather (each element of `dc` summing what the
//! iterations that reach it contribute, one copy of the body per offset), it runs the body
//! on a cotangent of one and scales what comes out by the real one. Where `J_k` does not
//! depend on the iteration (a linear stencil with loop-invariant coefficients), the
//! compiler hoists it out of the loop, and each element costs what a hand-written adjoint
//! costs: a multiplication per offset and the additions.
//!
//! The choice is made on the cotangent's type, by auto-reference: a real scalar
//! ([`ByUnit`]) is replaced by one, anything else ([`ByPiece`]) is passed through whole and
//! nothing is scaled. `(&SeedOf(&piece)).seed()` returns the cotangent the body runs on
//! and the [`Factor`] its results are scaled by.

use crate::Tangent;
use crate::real::Real;

/// A cotangent, asked what a gathered body should run on.
pub struct SeedOf<'a, T: ?Sized>(pub &'a T);

/// Results computed on the cotangent itself: nothing to scale.
#[derive(Clone, Copy, Debug)]
pub struct Unscaled;

/// What the results of a body run on a seed are multiplied by.
pub trait Factor {
    /// `w` times the factor.
    fn apply<W: Tangent>(&self, w: W) -> W;
}

impl Factor for Unscaled {
    #[inline(always)]
    fn apply<W: Tangent>(&self, w: W) -> W {
        w
    }
}

/// The real cotangent a body run on one is scaled by.
#[derive(Clone, Copy, Debug)]
pub struct Scaled(pub f64);

impl Factor for Scaled {
    #[inline(always)]
    fn apply<W: Tangent>(&self, mut w: W) -> W {
        w.scale(self.0);
        w
    }
}

/// The preferred seed: a real scalar cotangent is replaced by one.
pub trait ByUnit {
    /// The seed's type.
    type Seed;
    /// The seed, and what results are scaled by.
    fn seed(&self) -> (Self::Seed, Scaled);
}

impl<T: Real> ByUnit for SeedOf<'_, T> {
    type Seed = T;
    #[inline(always)]
    fn seed(&self) -> (T, Scaled) {
        (T::ONE, Scaled(self.0.to_f64()))
    }
}

/// The fallback seed, one auto-reference further: the cotangent itself.
pub trait ByPiece {
    /// The seed's type.
    type Seed;
    /// The seed, and what results are scaled by.
    fn seed(&self) -> (Self::Seed, Unscaled);
}

impl<T: Clone> ByPiece for &SeedOf<'_, T> {
    type Seed = T;
    #[inline(always)]
    fn seed(&self) -> (T, Unscaled) {
        (self.0.clone(), Unscaled)
    }
}

// Written as generated code writes them: the extra `&` is what makes the choice.
#[cfg(test)]
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[test]
    fn real_cotangents_seed_one_and_scale_by_themselves() {
        let (s, f) = (&SeedOf(&-2.5f64)).seed();
        assert_eq!(s, 1.0);
        assert_eq!(f.apply(3.0f64), -7.5);
        assert_eq!(f.apply(vec![1.0f64, -4.0]), vec![-2.5, 10.0]);
        let (s, f) = (&SeedOf(&0.5f32)).seed();
        assert_eq!(s, 1.0f32);
        assert_eq!(f.apply(3.0f32), 1.5);
        // A zero cotangent scales an infinite partial to NaN, as the chain rule's product
        // `0 * inf` does.
        let (_, f) = (&SeedOf(&0.0f64)).seed();
        assert!(f.apply(f64::INFINITY).is_nan());
    }

    #[test]
    fn other_cotangents_pass_through_unscaled() {
        let piece = vec![1.0f64, 2.0];
        let (s, f) = (&SeedOf(&piece)).seed();
        assert_eq!(s, piece);
        assert_eq!(f.apply(vec![3.0f64]), vec![3.0]);
        let (s, f) = (&SeedOf(&[4.0f64, 5.0])).seed();
        assert_eq!(s, [4.0, 5.0]);
        assert_eq!(f.apply(6.0f64), 6.0);
    }
}
