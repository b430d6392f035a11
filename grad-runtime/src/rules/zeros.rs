//! Zero adjoints without the values they belong to.
//!
//! The reverse sweep of a loop starts some adjoints at zero: the state an iteration only
//! reads (`c` in `next[i] = c[i - 1] + c[i + 1]`), a carried value the iteration's adjoint
//! did not reach. A zero needs the value's layout, not its contents, so an iteration keeps
//! [`Layout::layout`]: nothing for a scalar, a length for a `Vec<f64>` (a `Vec<()>` does
//! not allocate), dims for a tensor. Types without a [`Layout`] (a hand-written
//! `Differentiable` struct) keep their zero tangent instead; generated code picks between
//! the two with [`KeepZeros`] at compile time.
//!
//! A loop that builds a new row each iteration (`let mut next = vec![0.0; n]; ...; c =
//! next;`) lets go of one row's adjoint per reverse iteration and makes another's zero:
//! generated code keeps the first ([`recycle`]) and zeroes it in place for the second
//! ([`zeros_reusing`]) where it can, instead of a free and an allocation.

use crate::differentiable::Differentiable;
use crate::real::Real;
use crate::tensor::{Dims, Tensor};

/// What a zero tangent is made from without the value.
pub trait Layout: Differentiable {
    /// The layout: `()` for a scalar, one per element for a `Vec` or an array.
    type Layout: Clone;
    /// This value's layout.
    fn layout(&self) -> Self::Layout;
    /// The zero tangent of any value with this layout.
    fn zeros(layout: &Self::Layout) -> Self::Tangent;

    /// Makes `t` the zero tangent of this layout in place, keeping its buffers, where it
    /// can (a tensor of the layout's shape, a `Vec` of any length); `false`, with `t` left
    /// in any state, where it cannot. The default makes nothing in place.
    fn zero_in(layout: &Self::Layout, t: &mut Self::Tangent) -> bool {
        let _ = (layout, t);
        false
    }
}

macro_rules! scalar_layout {
    ($($t:ty),*) => {$(
        impl Layout for $t {
            type Layout = ();
            #[inline(always)]
            fn layout(&self) {}
            #[inline(always)]
            fn zeros(_: &()) -> Self::Tangent {
                <$t as Differentiable>::zero_tangent(&Default::default())
            }
            #[inline(always)]
            fn zero_in(layout: &(), t: &mut Self::Tangent) -> bool {
                *t = Self::zeros(layout);
                true
            }
        }
    )*};
}
scalar_layout!(
    f32,
    f64,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    bool,
    ()
);

impl<T: Layout> Layout for Vec<T> {
    type Layout = Vec<T::Layout>;
    fn layout(&self) -> Vec<T::Layout> {
        self.iter().map(T::layout).collect()
    }
    fn zeros(layout: &Vec<T::Layout>) -> Self::Tangent {
        layout.iter().map(T::zeros).collect()
    }
    /// Any `Vec` will do: it is cut or extended to the layout's length, its elements zeroed
    /// in place where they fit and replaced where not, so its buffer is kept.
    #[inline]
    fn zero_in(layout: &Vec<T::Layout>, t: &mut Self::Tangent) -> bool {
        t.truncate(layout.len());
        for (t, l) in t.iter_mut().zip(layout) {
            if !T::zero_in(l, t) {
                *t = T::zeros(l);
            }
        }
        let kept = t.len();
        t.extend(layout[kept..].iter().map(T::zeros));
        true
    }
}

impl<T: Layout, const N: usize> Layout for [T; N] {
    type Layout = [T::Layout; N];
    fn layout(&self) -> [T::Layout; N] {
        std::array::from_fn(|i| self[i].layout())
    }
    fn zeros(layout: &[T::Layout; N]) -> Self::Tangent {
        std::array::from_fn(|i| T::zeros(&layout[i]))
    }
    fn zero_in(layout: &[T::Layout; N], t: &mut Self::Tangent) -> bool {
        t.iter_mut().zip(layout).all(|(t, l)| T::zero_in(l, t))
    }
}

macro_rules! tuple_layout {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<$($t: Layout),+> Layout for ($($t,)+) {
            type Layout = ($($t::Layout,)+);
            fn layout(&self) -> Self::Layout {
                ($(self.$i.layout(),)+)
            }
            fn zeros(layout: &Self::Layout) -> Self::Tangent {
                ($($t::zeros(&layout.$i),)+)
            }
            fn zero_in(layout: &Self::Layout, t: &mut Self::Tangent) -> bool {
                $($t::zero_in(&layout.$i, &mut t.$i))&&+
            }
        }
    )*};
}
tuple_layout! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
}

impl<T: Real> Layout for Tensor<T> {
    type Layout = Dims;
    fn layout(&self) -> Dims {
        self.dims_owned()
    }
    fn zeros(layout: &Dims) -> Tensor<T> {
        Tensor::zeros(layout)
    }
    fn zero_in(layout: &Dims, t: &mut Tensor<T>) -> bool {
        if t.shape() != &layout[..] {
            return false;
        }
        t.as_mut_slice().fill(T::ZERO);
        true
    }
}

/// A value, asked what to keep for its zero adjoint: `(&KeepZeros(&v)).keep()` is its
/// [`Layout`] where it has one ([`ByLayout`]), else its zero tangent ([`ByZeros`]).
pub struct KeepZeros<'a, T: ?Sized>(pub &'a T);

/// The kept layout of a `T`.
pub struct ZerosOf<T: Layout>(pub T::Layout);

impl<T: Layout> Clone for ZerosOf<T> {
    fn clone(&self) -> Self {
        ZerosOf(self.0.clone())
    }
}

/// A kept zero tangent, of a type without a [`Layout`].
#[derive(Clone)]
pub struct ZeroTangent<G>(pub G);

/// The preferred keep: the layout.
pub trait ByLayout {
    /// What is kept.
    type Kept;
    /// Keeps it.
    fn keep(&self) -> Self::Kept;
}

impl<T: Layout> ByLayout for KeepZeros<'_, T> {
    type Kept = ZerosOf<T>;
    #[inline(always)]
    fn keep(&self) -> ZerosOf<T> {
        ZerosOf(self.0.layout())
    }
}

/// The fallback keep, one auto-reference further: the zero tangent itself.
pub trait ByZeros {
    /// What is kept.
    type Kept;
    /// Keeps it.
    fn keep(&self) -> Self::Kept;
}

impl<T: Differentiable + ?Sized> ByZeros for &KeepZeros<'_, T> {
    type Kept = ZeroTangent<T::Tangent>;
    #[inline(always)]
    fn keep(&self) -> ZeroTangent<T::Tangent> {
        ZeroTangent(self.0.zero_tangent())
    }
}

/// What a kept zero is rebuilt from.
pub trait KeptZeros {
    /// The zero tangent's type.
    type Tangent;
    /// A fresh zero tangent.
    fn zeros(&self) -> Self::Tangent;

    /// Makes `t` this zero tangent in place where it can (see [`Layout::zero_in`]).
    fn zero_in(&self, t: &mut Self::Tangent) -> bool {
        let _ = t;
        false
    }
}

impl<T: Layout> KeptZeros for ZerosOf<T> {
    type Tangent = T::Tangent;
    #[inline(always)]
    fn zeros(&self) -> T::Tangent {
        T::zeros(&self.0)
    }
    #[inline(always)]
    fn zero_in(&self, t: &mut T::Tangent) -> bool {
        T::zero_in(&self.0, t)
    }
}

impl<G: Clone> KeptZeros for ZeroTangent<G> {
    type Tangent = G;
    #[inline(always)]
    fn zeros(&self) -> G {
        self.0.clone()
    }
}

/// A fresh zero tangent from what [`KeepZeros`] kept.
#[inline(always)]
pub fn zeros_from<K: KeptZeros>(kept: &K) -> K::Tangent {
    kept.zeros()
}

/// A zero tangent from what [`KeepZeros`] kept, made in the adjoint `spare` holds where
/// that can take it (its buffers zeroed, not freed and allocated again), else fresh.
/// `spare` is left empty.
#[inline(always)]
pub fn zeros_reusing<K: KeptZeros>(kept: &K, spare: &mut Option<K::Tangent>) -> K::Tangent {
    if let Some(mut t) = spare.take()
        && kept.zero_in(&mut t)
    {
        return t;
    }
    kept.zeros()
}

/// Keeps an adjoint that the reverse sweep lets go of for [`zeros_reusing`].
#[inline(always)]
pub fn recycle<T>(spare: &mut Option<T>, dead: T) {
    *spare = Some(dead);
}

// `(&KeepZeros(&v)).keep()` is written as generated code writes it: the extra `&` is what
// lets a type without a layout fall back to its zero tangent.
#[cfg(test)]
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[test]
    fn layouts_rebuild_zeros_of_the_same_shape() {
        let v = vec![vec![1.0_f64, 2.0], vec![3.0]];
        let kept = (&KeepZeros(&v)).keep();
        assert_eq!(zeros_from(&kept), vec![vec![0.0, 0.0], vec![0.0]]);
        let t = Tensor::from_vec(vec![1.0_f32; 6], &[2, 3]).unwrap();
        let z = zeros_from(&(&KeepZeros(&t)).keep());
        assert_eq!(z.shape(), &[2, 3]);
        assert!(z.as_slice().iter().all(|&x| x == 0.0));
        let a = ([1.0_f64, 2.0, 3.0], 4.0_f32);
        assert_eq!(zeros_from(&(&KeepZeros(&a)).keep()), ([0.0; 3], 0.0));
    }

    #[test]
    fn a_vec_of_scalars_keeps_no_heap() {
        let v = vec![1.0_f64; 1000];
        let kept = (&KeepZeros(&v)).keep();
        assert_eq!(std::mem::size_of_val(&kept.0[..]), 0);
        assert_eq!(zeros_from(&kept), vec![0.0; 1000]);
    }

    #[test]
    fn a_spare_of_the_same_shape_is_zeroed_in_place() {
        let v = vec![1.0_f64; 5];
        let kept = (&KeepZeros(&v)).keep();
        let mut spare = None;
        recycle(&mut spare, vec![3.0_f64; 5]);
        let at = spare.as_ref().map(|s: &Vec<f64>| s.as_ptr());
        let z = zeros_reusing(&kept, &mut spare);
        assert_eq!(z, vec![0.0; 5]);
        assert_eq!(Some(z.as_ptr()), at, "the spare's buffer is reused");
        assert!(spare.is_none());
        // Other lengths: cut or extended in place.
        for len in [0, 4, 9] {
            recycle(&mut spare, vec![3.0_f64; len]);
            assert_eq!(zeros_reusing(&kept, &mut spare), vec![0.0; 5], "from {len}");
            assert!(spare.is_none());
        }
        // Nothing kept: fresh.
        assert_eq!(zeros_reusing(&kept, &mut None), vec![0.0; 5]);
    }

    #[test]
    fn nested_spares_are_zeroed_only_where_every_part_fits() {
        let v = (vec![[1.0_f64, 2.0]; 3], 4.0_f32);
        let kept = (&KeepZeros(&v)).keep();
        let mut spare = Some((vec![[5.0, -0.0], [f64::NAN, 1.0], [2.0, 3.0]], 7.0_f32));
        assert_eq!(zeros_reusing(&kept, &mut spare), (vec![[0.0; 2]; 3], 0.0));
        let z = zeros_reusing(&kept, &mut Some((vec![[5.0, 6.0]; 2], 7.0)));
        assert_eq!(z, (vec![[0.0; 2]; 3], 0.0));
        // Rows of rows: an inner row of another length is replaced.
        let v = vec![vec![1.0_f64; 2], vec![2.0; 3]];
        let kept = (&KeepZeros(&v)).keep();
        let z = zeros_reusing(
            &kept,
            &mut Some(vec![vec![4.0; 3], vec![5.0; 3], vec![6.0]]),
        );
        assert_eq!(z, vec![vec![0.0; 2], vec![0.0; 3]]);
        let t = Tensor::from_vec(vec![1.0_f64; 6], &[2, 3]).unwrap();
        let kept = (&KeepZeros(&t)).keep();
        let spare = Tensor::from_vec(vec![9.0_f64; 6], &[2, 3]).unwrap();
        let z = zeros_reusing(&kept, &mut Some(spare));
        assert_eq!((z.shape(), z.as_slice()), (&[2, 3][..], &[0.0; 6][..]));
        let spare = Tensor::from_vec(vec![9.0_f64; 6], &[3, 2]).unwrap();
        let z = zeros_reusing(&kept, &mut Some(spare));
        assert_eq!((z.shape(), z.as_slice()), (&[2, 3][..], &[0.0; 6][..]));
    }

    /// A type with no layout keeps its zero tangent.
    #[derive(Clone, Debug, PartialEq)]
    struct Opaque(f64);
    impl Differentiable for Opaque {
        type Tangent = f64;
        fn zero_tangent(&self) -> f64 {
            0.0
        }
        fn move_along(&mut self, d: &f64) {
            self.0 += d;
        }
        fn visit_params_mut(&mut self, f: &mut dyn FnMut(crate::differentiable::FlatMut<'_>)) {
            self.0.visit_params_mut(f);
        }
        fn visit_named(
            &self,
            name: &mut String,
            f: &mut dyn FnMut(&str, &[usize], crate::differentiable::Flat<'_>),
        ) {
            self.0.visit_named(name, f);
        }
    }

    #[test]
    fn types_without_a_layout_keep_their_zero_tangent() {
        let kept = (&KeepZeros(&Opaque(3.0))).keep();
        let ZeroTangent(z) = &kept;
        assert_eq!(*z, 0.0);
        assert_eq!(zeros_from(&kept), 0.0);
        assert_eq!(zeros_reusing(&kept, &mut Some(2.0)), 0.0);
    }
}
