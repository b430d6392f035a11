//! The small helpers generated code calls around the rules: accumulating adjoints, zero
//! tangents, shapes, and reversing loop ranges.

use super::{ShapeOf, Shaped};
use crate::differentiable::{Differentiable, FlatMut, NoTangent, Tangent};
use crate::real::Real;
use core::ops::RangeBounds;
use core::slice::SliceIndex;

/// `dst += contribution`, for adjoint accumulation in generated code.
#[diagnostic::on_unimplemented(
    message = "a gradient of type `{C}` cannot be added to an adjoint of type `{Self}`",
    label = "an active value reaches a parameter that is not differentiated",
    note = "add the parameter to the callee's `wrt(...)`, or pass `grad::stop_gradient(value)` \
            to say that no gradient should flow"
)]
pub trait Accumulate<C> {
    /// `self += contribution`.
    fn accumulate(&mut self, contribution: C);
}

impl<T: Tangent> Accumulate<T> for T {
    #[inline(always)]
    fn accumulate(&mut self, contribution: T) {
        self.add_assign(contribution);
    }
}

/// A slice view of a parameter's adjoint receives a whole cotangent (from a call).
impl<T: Tangent> Accumulate<Vec<T>> for &mut [T] {
    fn accumulate(&mut self, contribution: Vec<T>) {
        assert_eq!(
            self.len(),
            contribution.len(),
            "accumulate: a cotangent of length {} added to an adjoint of length {}",
            contribution.len(),
            self.len()
        );
        for (a, b) in self.iter_mut().zip(contribution) {
            a.add_assign(b);
        }
    }
}

/// `*dst += contribution`: adds a later contribution to an adjoint.
#[inline(always)]
pub fn accumulate<T: Accumulate<C> + ?Sized, C>(dst: &mut T, contribution: C) {
    dst.accumulate(contribution);
}

/// `stack.push(x)` for a loop's saved values. Where they take no space (every shape a
/// scalar's), only the length moves: no call that could grow the stack stays in the loop,
/// so the optimizer keeps the length in a register instead of storing and reloading it
/// every iteration (a loop-carried trip through memory). Nor does a branch to a panic: the
/// length wraps where it would pass `usize::MAX` (2^64 pushes, centuries of iterations), as
/// a branch out of the loop keeps the optimizer from interleaving it.
#[inline(always)]
pub fn stack_push<T>(stack: &mut Vec<T>, x: T) {
    if size_of::<T>() == 0 {
        let n = stack.len().wrapping_add(1);
        core::mem::forget(x);
        // SAFETY: a `Vec` of a zero-sized type has capacity `usize::MAX` (so `n` is within
        // it) and no storage to initialize; `x`, forgotten above, is the value the new slot
        // holds, exactly as `Vec::push` would have moved it there, and `Vec::pop` reads it
        // back with `ptr::read` of zero bytes. Where `n` wrapped to 0 the values are
        // forgotten, which leaks at most (a zero-sized value owns nothing to free).
        unsafe { stack.set_len(n) };
    } else {
        stack.push(x);
    }
}

/// [`stack_push`] in a loop whose room [`stack_reserve`] made before it: a `for` over a
/// range, pushing once per iteration at most. No call that could grow the stack stays in
/// the loop. Such a call, though never taken, makes the optimizer keep the loop's carried
/// values in memory across it (every vector register is the caller's to save), which puts
/// a store and a reload on each iteration's dependency chain; the branch to a panic that
/// replaces it returns nowhere, so nothing need survive it.
///
/// # Panics
/// Where the stack is full: the loop pushed more than it reserved (a bug in the generated
/// code).
#[inline(always)]
pub fn stack_push_reserved<T>(stack: &mut Vec<T>, x: T) {
    if size_of::<T>() != 0 && stack.len() == stack.capacity() {
        overran_reservation();
    }
    stack_push(stack, x);
}

#[cold]
#[inline(never)]
fn overran_reservation() -> ! {
    panic!("grad: a loop saved more values than it reserved room for (a bug in grad)")
}

/// `stack.reserve(n)`, a no-op (and no call) for values that take no space.
#[inline(always)]
pub fn stack_reserve<T>(stack: &mut Vec<T>, n: usize) {
    if size_of::<T>() != 0 {
        stack.reserve(n);
    }
}

/// The values iteration `k` saved, from a loop's tape (see [`stack_tail`]). Values that
/// take no space are all alike, so those are the first one's: the one check that the tape
/// is not empty is the same in every iteration, and the optimizer takes it out of the loop
/// instead of a bounds check per iteration, each of which makes the loop dearer to
/// vectorize and unroll.
///
/// # Panics
/// Where `k` is past the tape's end (a bug in the generated code).
#[inline(always)]
pub fn saved_at<T: Clone>(tape: &[T], k: usize) -> T {
    if size_of::<T>() == 0
        && let Some(first) = tape.first()
    {
        return first.clone();
    }
    tape[k].clone()
}

/// The last `n` values a loop saved, in the order they were pushed, taken off the stack:
/// for a reverse sweep that runs a loop's iterations rising. Free where the values take no
/// space.
///
/// # Panics
/// Where the stack holds fewer than `n` values (a bug in the generated code).
pub fn stack_tail<T>(stack: &mut Vec<T>, n: usize) -> Vec<T> {
    let at = stack.len().checked_sub(n).unwrap_or_else(|| {
        panic!(
            "a loop's saved-value stack holds {} values, not its {n} iterations'",
            stack.len()
        )
    });
    stack.split_off(at)
}

/// A cotangent returned by a pullback for an argument that the caller differentiates.
#[diagnostic::on_unimplemented(
    message = "an active value is passed to a parameter that the callee does not differentiate",
    label = "the callee returns `{Self}` for this argument",
    note = "add the parameter to the callee's `wrt(...)`, or pass `grad::stop_gradient(value)` \
            to say that no gradient should flow"
)]
pub trait ActiveSlot {}

#[diagnostic::do_not_recommend]
impl<T: Tangent> ActiveSlot for T {}

/// Checks that a pullback slot carries a gradient (is not [`NoTangent`]).
#[inline(always)]
pub fn slot<C: ActiveSlot>(cotangent: C) -> C {
    cotangent
}

/// A copy of a `#[differentiable(checkpoint)]` function's by-value argument, for the run of
/// its body that gives the value: the pullback keeps the argument itself, to run the forward
/// sweep again. So a checkpointed function's by-value parameters must be `Clone` (or be
/// taken by reference).
#[inline(always)]
pub fn checkpoint_argument<T: Clone>(kept: &T) -> T {
    kept.clone()
}

/// The zero tangent at `x`.
#[inline(always)]
pub fn zero_tangent<T: Differentiable + ?Sized>(x: &T) -> T::Tangent {
    x.zero_tangent()
}

/// The zero cotangent of a slice of scalars, as `vec![0; n]` so that the optimizer knows
/// its length equals the slice's (and can drop bounds checks on both).
#[inline(always)]
pub fn zeros_like_slice<T: Real>(x: &[T]) -> Vec<T> {
    vec![T::ZERO; x.len()]
}

/// The shape of `x`, which linear rules read.
#[inline(always)]
pub fn shape_of<T: Shaped + ?Sized>(x: &T) -> ShapeOf<T> {
    ShapeOf(x.shape_of())
}

/// Sets a tangent to zero in place (a carried adjoint that an iteration did not reach).
pub fn set_zero<T: Tangent>(t: &mut T) {
    t.visit_mut(&mut |flat| match flat {
        FlatMut::F32(s) => s.fill(0.0),
        FlatMut::F64(s) => s.fill(0.0),
    });
}

/// `a + b` for tangents: forward mode's sum of the parts of several active inputs.
#[inline(always)]
pub fn tangent_sum<T: Tangent>(mut a: T, b: T) -> T {
    a.add_assign(b);
    a
}

/// The seed of a scalar output's adjoint in `_grad`.
#[inline(always)]
pub fn one<T: Real>() -> T {
    T::ONE
}

/// Where a desugared `chain.sum()` of floats starts, as [`Iterator::sum`] starts it: at
/// `-0.0`, the identity of addition, so that a sum of nothing or of negative zeros only is
/// `-0.0` in generated code as in the primal.
#[inline(always)]
pub fn sum_start<T: Real>() -> T {
    -T::ZERO
}

/// The tangent passed for an argument that is not active: `NoTangent` for a parameter that
/// the callee does not differentiate, a zero tangent for one that it does.
pub trait InactiveTangent<A: ?Sized> {
    /// The tangent of the constant `a`.
    fn of(a: &A) -> Self;
}

impl<A: ?Sized> InactiveTangent<A> for NoTangent {
    #[inline(always)]
    fn of(_: &A) -> Self {
        NoTangent
    }
}

impl<T: Real> InactiveTangent<T> for T {
    #[inline(always)]
    fn of(_: &T) -> Self {
        T::ZERO
    }
}

impl<T: Differentiable> InactiveTangent<Vec<T>> for Vec<T::Tangent> {
    fn of(a: &Vec<T>) -> Self {
        a.zero_tangent()
    }
}

impl<T: Differentiable, const N: usize> InactiveTangent<[T; N]> for [T::Tangent; N] {
    fn of(a: &[T; N]) -> Self {
        a.zero_tangent()
    }
}

/// The tangent of a constant argument, typed by the callee's parameter.
#[inline(always)]
pub fn inactive_tangent<S: InactiveTangent<A>, A: ?Sized>(a: &A) -> S {
    S::of(a)
}

/// The tangent passed by reference for a constant argument that is a reference: the zero
/// tangent `t` where the callee differentiates that parameter, `NoTangent` where it does not.
pub trait InactiveRef<'a, T: ?Sized> {
    /// `t` or `NoTangent`, as the callee's parameter asks.
    fn of(t: &'a T) -> Self;
}

impl<'a, T: ?Sized> InactiveRef<'a, T> for &'a T {
    #[inline(always)]
    fn of(t: &'a T) -> Self {
        t
    }
}

/// A slice parameter's tangent is a slice, where the zero tangent of the constant argument is
/// a `Vec` (`[T]`'s tangent type): the callee reads it as the slice it holds.
impl<'a, T> InactiveRef<'a, Vec<T>> for &'a [T] {
    #[inline(always)]
    fn of(t: &'a Vec<T>) -> Self {
        t
    }
}

impl<'a, T: ?Sized> InactiveRef<'a, T> for NoTangent {
    #[inline(always)]
    fn of(_: &'a T) -> Self {
        NoTangent
    }
}

/// The tangent of a constant reference argument, typed by the callee's parameter.
#[inline(always)]
pub fn inactive_ref<'a, S: InactiveRef<'a, T>, T: ?Sized>(t: &'a T) -> S {
    S::of(t)
}

/// The integer types a differentiated `for` loop may count with.
pub trait LoopIndex: Copy {
    /// The value, widened.
    fn to_i128(self) -> i128;
    /// The value back from a widened one that is known to fit.
    fn from_i128(v: i128) -> Self;
}

macro_rules! loop_index {
    ($($t:ident)*) => {$(
        impl LoopIndex for $t {
            #[inline(always)]
            fn to_i128(self) -> i128 {
                self as i128
            }
            #[inline(always)]
            fn from_i128(v: i128) -> Self {
                v as $t
            }
        }
    )*};
}
loop_index!(u8 u16 u32 u64 usize i8 i16 i32 i64 isize);

/// The number of iterations of `lo..hi` (`lo..=hi` when `inclusive`), for reserving stacks.
#[inline(always)]
pub fn range_len<I: LoopIndex>(lo: I, hi: I, inclusive: bool) -> usize {
    let n = hi.to_i128() - lo.to_i128() + i128::from(inclusive);
    n.clamp(0, isize::MAX as i128) as usize
}

/// An arithmetic sequence of loop indices with the semantics of std's ranges with `rev()`
/// and `step_by(k)` applied in the written order; it iterates in both directions, which is
/// how the reverse sweep of a `step_by` loop visits its indices backwards.
#[derive(Clone, Copy, Debug)]
pub struct Steps<I> {
    first: i128,
    stride: i128,
    count: i128,
    ty: core::marker::PhantomData<I>,
}

impl<I: LoopIndex> Steps<I> {
    /// `lo..hi`.
    pub fn range(lo: I, hi: I) -> Self {
        Self::make(lo.to_i128(), 1, (hi.to_i128() - lo.to_i128()).max(0))
    }

    /// `lo..=hi`.
    pub fn range_inclusive(lo: I, hi: I) -> Self {
        Self::make(lo.to_i128(), 1, (hi.to_i128() - lo.to_i128() + 1).max(0))
    }

    fn make(first: i128, stride: i128, count: i128) -> Self {
        Steps {
            first,
            stride,
            count,
            ty: core::marker::PhantomData,
        }
    }

    /// The sequence backwards, as `Iterator::rev`.
    #[allow(clippy::should_implement_trait)]
    pub fn rev(self) -> Self {
        Self::make(
            self.first + (self.count - 1).max(0) * self.stride,
            -self.stride,
            self.count,
        )
    }

    /// Every `k`-th element, as `Iterator::step_by` (which panics on `k = 0`, as this does).
    pub fn step_by(self, k: usize) -> Self {
        assert!(k != 0, "step_by: the step must be positive");
        let k = k as i128;
        Self::make(self.first, self.stride * k, (self.count + k - 1) / k)
    }
}

impl<I: LoopIndex> Iterator for Steps<I> {
    type Item = I;
    #[inline]
    fn next(&mut self) -> Option<I> {
        if self.count <= 0 {
            return None;
        }
        let v = self.first;
        self.first += self.stride;
        self.count -= 1;
        Some(I::from_i128(v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.count as usize;
        (n, Some(n))
    }
}

impl<I: LoopIndex> DoubleEndedIterator for Steps<I> {
    #[inline]
    fn next_back(&mut self) -> Option<I> {
        if self.count <= 0 {
            return None;
        }
        self.count -= 1;
        Some(I::from_i128(self.first + self.count * self.stride))
    }
}

impl<I: LoopIndex> ExactSizeIterator for Steps<I> {}

// ---- iterator index arithmetic ------------------------------------------------------------
//
// The attribute rewrites a `for` over an iterator, and an iterator chain ending in `sum`,
// `product` or `fold`, as a loop over `0..len` that indexes the collection; these give the
// length and the element of each adaptor the way `core::iter` defines them.

/// The length of `lo..`: unbounded, as long as a `zip` or `take` bounds it.
#[inline(always)]
pub fn range_from_len<I: LoopIndex>(_lo: I) -> usize {
    usize::MAX
}

/// The `k`-th value of a range starting at `lo`.
#[inline(always)]
pub fn range_at<I: LoopIndex>(lo: I, k: usize) -> I {
    I::from_i128(lo.to_i128() + k as i128)
}

/// The length of `step_by(step)` over `len` items.
#[inline(always)]
pub fn step_len(len: usize, step: usize) -> usize {
    assert!(step != 0, "assertion failed: step != 0");
    if len == 0 { 0 } else { (len - 1) / step + 1 }
}

/// The number of `windows(size)` of `len` items.
#[inline(always)]
pub fn windows_len(len: usize, size: usize) -> usize {
    assert!(size != 0, "window size must be non-zero");
    (len + 1).saturating_sub(size)
}

/// The number of `chunks(size)` of `len` items.
#[inline(always)]
pub fn chunks_len(len: usize, size: usize) -> usize {
    assert!(size != 0, "chunk size must be non-zero");
    len.div_ceil(size)
}

/// The number of `chunks_exact(size)` of `len` items (the rest is left out).
#[inline(always)]
pub fn chunks_exact_len(len: usize, size: usize) -> usize {
    assert!(size != 0, "chunk size must be non-zero");
    len / size
}

/// The index `first()` reads, `0`, for `x.first().unwrap()` (or `.expect(msg)`) of a
/// collection of `len` items; empty, it panics as the `unwrap` would, with `msg`.
#[inline(always)]
#[track_caller]
pub fn first_index(len: usize, msg: &str) -> usize {
    if len == 0 {
        panic!("{msg}");
    }
    0
}

/// The index `last()` reads, `len - 1`; empty, it panics with `msg` as [`first_index`] does.
#[inline(always)]
#[track_caller]
pub fn last_index(len: usize, msg: &str) -> usize {
    if len == 0 {
        panic!("{msg}");
    }
    len - 1
}

/// The index `get(i)` reads, `i`, for `x.get(i).unwrap()` (or `.expect(msg)`) of a
/// collection of `len` items; past the end, it panics with `msg` as the `unwrap` would.
#[inline(always)]
#[track_caller]
pub fn get_index(i: usize, len: usize, msg: &str) -> usize {
    if i >= len {
        panic!("{msg}");
    }
    i
}

/// The position `chain.max_by(cmp).unwrap()` selects among the positions `lo..hi`: the last
/// of the greatest, as `Iterator::max_by` selects, with `cmp(i, j)` comparing the items at
/// positions `i` and `j`. Not differentiated (it is a position); the item read there is.
/// No position (`hi <= lo`), it panics with `msg`, as the unwrap would.
///
/// ```
/// use grad::__private::max_position;
/// let x = [1.0f64, 3.0, 0.5, 3.0];
/// assert_eq!(max_position(0, 4, "empty", |i, j| x[i].total_cmp(&x[j])), 3);
/// ```
#[track_caller]
pub fn max_position(
    lo: usize,
    hi: usize,
    msg: &str,
    cmp: impl FnMut(usize, usize) -> core::cmp::Ordering,
) -> usize {
    // The later item unless the one so far is greater.
    select_position(lo, hi, msg, cmp, |o| o != core::cmp::Ordering::Greater)
}

/// The position `chain.min_by(cmp).unwrap()` selects: the first of the least, as
/// `Iterator::min_by` selects; otherwise as [`max_position`].
///
/// ```
/// use grad::__private::min_position;
/// let x = [1.0f64, 0.5, 3.0, 0.5];
/// assert_eq!(min_position(0, 4, "empty", |i, j| x[i].total_cmp(&x[j])), 1);
/// ```
#[track_caller]
pub fn min_position(
    lo: usize,
    hi: usize,
    msg: &str,
    cmp: impl FnMut(usize, usize) -> core::cmp::Ordering,
) -> usize {
    // The later item only where the one so far is greater.
    select_position(lo, hi, msg, cmp, |o| o == core::cmp::Ordering::Greater)
}

/// The position `chain.find(pred).unwrap()` selects among `lo..hi`: the first whose item
/// `found(i)` accepts. Not differentiated; none found, it panics with `msg`.
///
/// ```
/// use grad::__private::find_position;
/// let x = [1.0f64, 3.0, 0.5, 3.0];
/// assert_eq!(find_position(1, 4, "none", |i| x[i] < 1.0), 2);
/// ```
#[track_caller]
pub fn find_position(lo: usize, hi: usize, msg: &str, found: impl FnMut(usize) -> bool) -> usize {
    let at = find_position_or_end(lo, hi, found);
    if at == hi {
        panic!("{msg}");
    }
    at
}

/// The position `chain.find(pred)` selects among `lo..hi` where its `Option` is not
/// unwrapped (`unwrap_or`, `if let`, `match`): the first whose item `found(i)` accepts, or
/// `hi` where none is. Not differentiated.
///
/// ```
/// use grad::__private::find_position_or_end;
/// let x = [0.5, 2.0, 3.0];
/// assert_eq!(find_position_or_end(0, 3, |i| x[i] > 1.0), 1);
/// assert_eq!(find_position_or_end(0, 3, |i| x[i] > 5.0), 3);
/// assert_eq!(find_position_or_end(2, 2, |_| true), 2);
/// ```
pub fn find_position_or_end(lo: usize, hi: usize, mut found: impl FnMut(usize) -> bool) -> usize {
    (lo..hi).find(|&i| found(i)).unwrap_or(hi)
}

/// The position `chain.nth(k).unwrap()` reads among `lo..hi`, `lo + k` (and `last()`'s, the
/// final one); past the end, it panics with `msg`.
#[track_caller]
pub fn nth_position(lo: usize, hi: usize, k: usize, msg: &str) -> usize {
    if k >= hi.saturating_sub(lo) {
        panic!("{msg}");
    }
    lo + k
}

/// The position a fold over `lo..hi` ends at, moving from the one so far, `at`, to the next,
/// `j`, where `later(cmp(at, j))`.
#[track_caller]
fn select_position(
    lo: usize,
    hi: usize,
    msg: &str,
    mut cmp: impl FnMut(usize, usize) -> core::cmp::Ordering,
    later: impl Fn(core::cmp::Ordering) -> bool,
) -> usize {
    if hi <= lo {
        panic!("{msg}");
    }
    (lo + 1..hi).fold(lo, |at, j| if later(cmp(at, j)) { j } else { at })
}

/// The `mid` of `x.split_at(mid)` for `x` of `len` items, which panics past the end as
/// `split_at` does.
#[inline(always)]
#[track_caller]
pub fn split_mid(len: usize, mid: usize) -> usize {
    assert!(mid <= len, "mid > len");
    mid
}

// ---- values built from parts ----------------------------------------------------------------
//
// The adjoint of a value built from parts (`vec![a, b]`, `Vector3::new(x, y, z)`) is cut back
// into one piece per part, in the order the parts were written.

/// A `Vec`'s `N` elements as an array (the `Vec` was built from `N` parts).
pub fn vec_parts<T, const N: usize>(v: Vec<T>) -> [T; N] {
    match <[T; N]>::try_from(v) {
        Ok(parts) => parts,
        Err(v) => panic!(
            "the cotangent of a `vec!` of {N} parts has {} elements",
            v.len()
        ),
    }
}

/// The `N` pieces of an array literal's adjoint. It is an array where the array was used as
/// one, and a `Vec` where a callee took it as a slice (`Tensor::cat(&[&a, &b], 0)`'s pullback
/// gives one cotangent per tensor in a `Vec`).
pub fn array_parts<T, const N: usize>(adjoint: impl ArrayParts<T, N>) -> [T; N] {
    adjoint.parts()
}

/// What [`array_parts`] takes: an array's adjoint, as the array or as a `Vec`.
pub trait ArrayParts<T, const N: usize> {
    /// The `N` pieces.
    ///
    /// # Panics
    /// If a `Vec` has not `N` elements.
    fn parts(self) -> [T; N];
}

impl<T, const N: usize> ArrayParts<T, N> for [T; N] {
    #[inline(always)]
    fn parts(self) -> [T; N] {
        self
    }
}

impl<T, const N: usize> ArrayParts<T, N> for Vec<T> {
    fn parts(self) -> [T; N] {
        match <[T; N]>::try_from(self) {
            Ok(parts) => parts,
            Err(v) => panic!(
                "the cotangent of an array of {N} parts has {} elements",
                v.len()
            ),
        }
    }
}

/// The adjoint at a written place, taken out of the local's adjoint (which keeps zero there:
/// the value written over did not reach the result).
pub fn take_piece<T: Tangent>(place: &mut T) -> T {
    place.take()
}

/// A zero adjoint shaped like `like`, of negative zeros: where each iteration of a windowed
/// reverse loop that runs rising starts its contributions to one offset. `-0.0` is the
/// identity of addition (`-0.0 + x == x` for every `x`, `+0.0` and `-0.0` included, which
/// `+0.0` is not), so starting from it changes no bit of a sum, and the compiler drops
/// the addition.
#[inline(always)]
pub fn zero_piece<T: Tangent>(like: &T) -> T {
    like.negative_zero()
}

/// The adjoint of the value a `push` appended: the last element of the `Vec`'s adjoint.
pub fn pop_piece<T>(v: &mut Vec<T>) -> T {
    match v.pop() {
        Some(piece) => piece,
        None => panic!("the adjoint of a pushed-to `Vec` is empty"),
    }
}

/// `x.to_vec()` in differentiable code: an owned copy of a slice, to write in place.
pub fn to_vec<T: Clone>(x: &[T]) -> Vec<T> {
    x.to_vec()
}

/// [`to_vec`]'s value and pullback: the identity on the cotangent.
pub fn to_vec_vjp<T: Clone, C>(x: &[T]) -> (Vec<T>, impl FnOnce(Vec<C>) -> Vec<C>) {
    (x.to_vec(), |d| d)
}

/// [`to_vec`]'s value and tangent: the tangent copied.
pub fn to_vec_jvp<T: Clone, C: Clone>(x: &[T], dx: &[C]) -> (Vec<T>, Vec<C>) {
    (x.to_vec(), dx.to_vec())
}

/// An element a sub-slice can be cut from a slice of: a fixed-shape value that is its own
/// tangent, with a zero: a real, an array of such (`[f64; 3]`, `[[f32; 2]; 2]`), or a
/// fixed-size nalgebra matrix or vector of reals.
pub trait SliceElem: Clone {
    /// The zero element, the cotangent of an element outside the range.
    fn zero_elem() -> Self;
}

impl<T: Real> SliceElem for T {
    fn zero_elem() -> T {
        T::ZERO
    }
}

impl<E: SliceElem, const M: usize> SliceElem for [E; M] {
    fn zero_elem() -> Self {
        core::array::from_fn(|_| E::zero_elem())
    }
}

impl<T, R, C> SliceElem for nalgebra::OMatrix<T, R, C>
where
    T: Real + nalgebra::Scalar,
    R: nalgebra::DimName,
    C: nalgebra::DimName,
    nalgebra::DefaultAllocator: nalgebra::allocator::Allocator<R, C>,
{
    fn zero_elem() -> Self {
        Self::from_element(T::ZERO)
    }
}

/// What a sub-slice is cut from: a slice, a `Vec` or an array of [`SliceElem`]s (or a
/// reference to one), with the cotangent its caller accumulates (a `Vec`, or the array).
pub trait SliceBase<T> {
    /// The cotangent of the whole.
    type Cotangent: AsMut<[T]>;
    /// The elements.
    fn elems(&self) -> &[T];
    /// The whole's zero cotangent, `len` long.
    fn zeros(len: usize) -> Self::Cotangent;
}

impl<T: SliceElem> SliceBase<T> for [T] {
    type Cotangent = Vec<T>;
    fn elems(&self) -> &[T] {
        self
    }
    fn zeros(len: usize) -> Vec<T> {
        vec![T::zero_elem(); len]
    }
}

impl<T: SliceElem> SliceBase<T> for Vec<T> {
    type Cotangent = Vec<T>;
    fn elems(&self) -> &[T] {
        self
    }
    fn zeros(len: usize) -> Vec<T> {
        vec![T::zero_elem(); len]
    }
}

impl<T: SliceElem, const N: usize> SliceBase<T> for [T; N] {
    type Cotangent = [T; N];
    fn elems(&self) -> &[T] {
        self
    }
    fn zeros(_: usize) -> [T; N] {
        core::array::from_fn(|_| T::zero_elem())
    }
}

impl<T, X: SliceBase<T> + ?Sized> SliceBase<T> for &X {
    type Cotangent = X::Cotangent;
    fn elems(&self) -> &[T] {
        (**self).elems()
    }
    fn zeros(len: usize) -> X::Cotangent {
        X::zeros(len)
    }
}

/// `x[range]` in differentiable code, for any range (`a..b`, `a..`, `..b`, `..`, `a..=b`,
/// `..=b`) of a slice, `Vec` or array: an owned copy of those elements. Out-of-range bounds
/// panic as indexing does.
pub fn sub_slice<T, X, R>(x: &X, range: R) -> Vec<T>
where
    T: SliceElem,
    X: SliceBase<T> + ?Sized,
    R: SliceIndex<[T], Output = [T]>,
{
    x.elems()[range].to_vec()
}

/// The start and end of `range` over a slice of `len` elements (not checked: indexing
/// checks them).
fn range_bounds<R: RangeBounds<usize>>(range: &R, len: usize) -> (usize, usize) {
    use core::ops::Bound::*;
    let start = match range.start_bound() {
        Included(&s) => s,
        Excluded(&s) => s.saturating_add(1),
        Unbounded => 0,
    };
    let end = match range.end_bound() {
        Included(&e) => e.saturating_add(1),
        Excluded(&e) => e,
        Unbounded => len,
    };
    (start, end)
}

/// [`sub_slice`]'s value and pullback: the cotangent put back at the range's place in a
/// zero cotangent of the whole (and none for the range).
///
/// ```
/// use grad::NoTangent;
/// use grad::__private::sub_slice_vjp;
/// let x = vec![1.0, 2.0, 3.0, 4.0];
/// let (y, back) = sub_slice_vjp(&x, 1..3);
/// assert_eq!(y, vec![2.0, 3.0]);
/// let (d, NoTangent) = back(vec![5.0, 6.0]);
/// assert_eq!(d, vec![0.0, 5.0, 6.0, 0.0]);
/// // Of an array, an array.
/// let (_, back) = sub_slice_vjp(&[1.0, 2.0, 3.0], ..=0);
/// assert_eq!(back(vec![7.0]).0, [7.0, 0.0, 0.0]);
/// ```
///
/// # Panics
/// As [`sub_slice`]; the pullback, if the cotangent's length is not the range's.
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
pub fn sub_slice_vjp<T, X, R>(
    x: &X,
    range: R,
) -> (
    Vec<T>,
    impl FnOnce(Vec<T>) -> (X::Cotangent, NoTangent) + use<T, X, R>,
)
where
    T: SliceElem,
    X: SliceBase<T> + ?Sized,
    R: SliceIndex<[T], Output = [T]> + RangeBounds<usize>,
{
    let x = x.elems();
    let (len, (start, end)) = (x.len(), range_bounds(&range, x.len()));
    let y = x[range].to_vec();
    (y, move |dy: Vec<T>| {
        assert!(
            dy.len() == end - start,
            "sub-slice backward: the cotangent has {} elements but the range {start}..{end} has {}",
            dy.len(),
            end - start
        );
        let mut dx = X::zeros(len);
        for (d, v) in dx.as_mut()[start..end].iter_mut().zip(dy) {
            *d = v;
        }
        (dx, NoTangent)
    })
}

/// [`sub_slice`]'s value and tangent: the tangent's elements in the range.
///
/// # Panics
/// As [`sub_slice`]; also if the tangent's length is not the whole's.
pub fn sub_slice_jvp<T, X, R>(x: &X, range: R, dx: &[T], _: NoTangent) -> (Vec<T>, Vec<T>)
where
    T: SliceElem,
    X: SliceBase<T> + ?Sized,
    R: SliceIndex<[T], Output = [T]> + Clone,
{
    let x = x.elems();
    assert!(
        dx.len() == x.len(),
        "sub-slice tangent: the tangent has {} elements but the slice has {}",
        dx.len(),
        x.len()
    );
    (x[range.clone()].to_vec(), dx[range].to_vec())
}

/// `DVector::from_vec(v)` in differentiable code.
pub fn dvector_from_vec<T: nalgebra::Scalar>(v: Vec<T>) -> nalgebra::DVector<T> {
    nalgebra::DVector::from_vec(v)
}

/// [`dvector_from_vec`]'s value and pullback: the vector's entries, moved back into a `Vec`.
pub fn dvector_from_vec_vjp<T: nalgebra::Scalar, C: nalgebra::Scalar>(
    v: Vec<T>,
) -> (
    nalgebra::DVector<T>,
    impl FnOnce(nalgebra::DVector<C>) -> Vec<C>,
) {
    (nalgebra::DVector::from_vec(v), |d: nalgebra::DVector<C>| {
        d.data.into()
    })
}

/// [`dvector_from_vec`]'s value and tangent.
pub fn dvector_from_vec_jvp<T: nalgebra::Scalar, C: nalgebra::Scalar>(
    v: Vec<T>,
    dv: Vec<C>,
) -> (nalgebra::DVector<T>, nalgebra::DVector<C>) {
    (
        nalgebra::DVector::from_vec(v),
        nalgebra::DVector::from_vec(dv),
    )
}

/// A matrix's entries in row-major order: the parts of `MatrixN::new(..)`.
pub fn row_major_parts<T, R, C, S, const N: usize>(m: &nalgebra::Matrix<T, R, C, S>) -> [T; N]
where
    T: nalgebra::Scalar + Copy,
    R: nalgebra::Dim,
    C: nalgebra::Dim,
    S: nalgebra::RawStorage<T, R, C>,
{
    matrix_parts(m, |k, _, cols| (k / cols, k % cols))
}

/// A matrix's entries in column-major order: the parts of `from_column_slice(&[..])`.
pub fn column_major_parts<T, R, C, S, const N: usize>(m: &nalgebra::Matrix<T, R, C, S>) -> [T; N]
where
    T: nalgebra::Scalar + Copy,
    R: nalgebra::Dim,
    C: nalgebra::Dim,
    S: nalgebra::RawStorage<T, R, C>,
{
    matrix_parts(m, |k, rows, _| (k % rows, k / rows))
}

/// The `N` entries of a matrix, the `k`-th at `at(k, rows, cols)`.
fn matrix_parts<T, R, C, S, const N: usize>(
    m: &nalgebra::Matrix<T, R, C, S>,
    at: impl Fn(usize, usize, usize) -> (usize, usize),
) -> [T; N]
where
    T: nalgebra::Scalar + Copy,
    R: nalgebra::Dim,
    C: nalgebra::Dim,
    S: nalgebra::RawStorage<T, R, C>,
{
    let (rows, cols) = m.shape();
    assert_eq!(
        rows * cols,
        N,
        "a matrix built from {N} parts is {rows}x{cols}"
    );
    core::array::from_fn(|k| m[at(k, rows, cols)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::marker::PhantomData;

    thread_local!(static DROPS: Cell<usize> = const { Cell::new(0) });

    /// A zero-sized value that counts its drops: each pushed one is dropped exactly once.
    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.with(|d| d.set(d.get() + 1));
        }
    }

    #[test]
    fn zero_sized_stacks_count_and_drop_what_they_hold() {
        for n in [0, 1, 2, 7, 8, 9, 1000] {
            DROPS.with(|d| d.set(0));
            let mut s: Vec<Counted> = Vec::new();
            stack_reserve(&mut s, n);
            (0..n).for_each(|_| stack_push(&mut s, Counted));
            assert_eq!(s.len(), n);
            assert_eq!(DROPS.with(Cell::get), 0, "pushing drops nothing");
            // Half popped (and dropped as they are), the rest dropped with the stack.
            for _ in 0..n / 2 {
                assert!(s.pop().is_some());
            }
            assert_eq!(DROPS.with(Cell::get), n / 2);
            drop(s);
            assert_eq!(DROPS.with(Cell::get), n);
        }
        let mut shapes: Vec<(PhantomData<f64>, ())> = Vec::new();
        stack_push(&mut shapes, (PhantomData, ()));
        assert!(shapes.pop().is_some() && shapes.pop().is_none());
    }

    #[test]
    fn sized_stacks_are_plain_vecs() {
        for n in [0, 1, 3, 4, 5, 100] {
            let mut s = Vec::new();
            stack_reserve(&mut s, n);
            assert!(s.capacity() >= n);
            (0..n).for_each(|i| stack_push(&mut s, vec![i as f64; i % 3]));
            for i in (0..n).rev() {
                assert_eq!(s.pop(), Some(vec![i as f64; i % 3]));
            }
            assert_eq!(s.pop(), None);
        }
    }

    /// A reserved push is a push while the reservation holds, for sized and zero-sized
    /// values, on a stack that already holds values (a loop run again inside another), and
    /// refuses (rather than grows) past it.
    #[test]
    fn reserved_pushes_fill_what_was_reserved() {
        for n in [0, 1, 3, 4, 5, 100] {
            let mut s = vec![-1.0f64; n % 3];
            let before = s.len();
            stack_reserve(&mut s, n);
            (0..n).for_each(|i| stack_push_reserved(&mut s, i as f64));
            assert_eq!(s.len(), before + n);
            assert!(s[before..].iter().copied().eq((0..n).map(|i| i as f64)));
            let mut z: Vec<()> = Vec::new();
            (0..n).for_each(|_| stack_push_reserved(&mut z, ()));
            assert_eq!(z.len(), n);
        }
        let mut full = Vec::with_capacity(2);
        full.extend([1.0f64, 2.0]);
        let overran = std::panic::catch_unwind(move || stack_push_reserved(&mut full, 3.0));
        let message = *overran.unwrap_err().downcast::<&str>().unwrap();
        assert!(
            message.contains("more values than it reserved"),
            "{message}"
        );
    }

    /// A window register starts at `-0.0` in every component, whatever the adjoint's form:
    /// floats through their own constant, the rest through the visiting default.
    #[test]
    fn zero_pieces_are_negative_zeros_of_the_same_shape() {
        let negative = |v: f64| v == 0.0 && v.is_sign_negative();
        assert!(negative(zero_piece(&3.5f64)));
        assert!(zero_piece(&-2.0f32).is_sign_negative() && zero_piece(&-2.0f32) == 0.0);
        let row = zero_piece(&vec![1.0f64, -2.0, f64::NAN]);
        assert_eq!(row.len(), 3);
        assert!(row.iter().all(|&v| negative(v)));
        let pair = zero_piece(&[[1.0f64, 2.0], [3.0, 4.0]]);
        assert!(pair.iter().flatten().all(|&v| negative(v)));
        // The identity of addition: `-0.0 + x` is `x` to the bit, signed zeros included.
        for x in [0.0, -0.0, 1.5, f64::INFINITY] {
            assert_eq!((zero_piece(&x) + x).to_bits(), x.to_bits());
        }
    }
}
