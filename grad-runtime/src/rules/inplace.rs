//! In-place methods of a local `Vec` or array in differentiable code: `v.reverse()`,
//! `v.swap(i, j)`, `v.fill(e)` and `v.copy_from_slice(src)` each make a new version of `v`
//! (as a write `v[i] = e` does), through these functions and their derivatives; so does
//! `v.sort_by(cmp)`, as the permutation that sorts `v` (not differentiated) and `permuted`;
//! and, of a `Vec`, `extend_from_slice`, `truncate`, `clear`, `insert`, `remove`,
//! `swap_remove` and `resize`, and `retain` and `dedup` (the positions kept, not
//! differentiated, and `gathered`).

use super::support::SliceBase;
use crate::differentiable::NoTangent;
use crate::real::Real;

/// `v` reversed.
pub fn reversed<T: Real, X: Clone + AsMut<[T]>>(v: &X) -> X {
    let mut w = v.clone();
    w.as_mut().reverse();
    w
}

/// [`reversed`]'s value and pullback: the cotangent reversed.
///
/// ```
/// use grad::__private::reversed_vjp;
/// let (w, back) = reversed_vjp(&vec![1.0, 2.0, 3.0]);
/// assert_eq!((w, back(vec![4.0, 5.0, 6.0])), (vec![3.0, 2.0, 1.0], vec![6.0, 5.0, 4.0]));
/// ```
pub fn reversed_vjp<T: Real, X: Clone + AsMut<[T]>>(v: &X) -> (X, impl FnOnce(X) -> X + use<T, X>) {
    (reversed(v), |mut d: X| {
        d.as_mut().reverse();
        d
    })
}

/// [`reversed`]'s value and tangent: the tangent reversed.
pub fn reversed_jvp<T: Real, X: Clone + AsMut<[T]>>(v: &X, dv: &X) -> (X, X) {
    (reversed(v), reversed(dv))
}

/// `v` with elements `i` and `j` swapped; panics as `swap` does.
pub fn swapped<T: Real, X: Clone + AsMut<[T]>>(v: &X, i: usize, j: usize) -> X {
    let mut w = v.clone();
    w.as_mut().swap(i, j);
    w
}

/// [`swapped`]'s value and pullback: the cotangent's `i` and `j` swapped back.
///
/// ```
/// use grad::NoTangent;
/// use grad::__private::swapped_vjp;
/// let (w, back) = swapped_vjp(&[1.0, 2.0, 3.0], 0, 2);
/// assert_eq!(w, [3.0, 2.0, 1.0]);
/// assert_eq!(back([4.0, 5.0, 6.0]), ([6.0, 5.0, 4.0], NoTangent, NoTangent));
/// ```
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
pub fn swapped_vjp<T: Real, X: Clone + AsMut<[T]>>(
    v: &X,
    i: usize,
    j: usize,
) -> (X, impl FnOnce(X) -> (X, NoTangent, NoTangent) + use<T, X>) {
    (swapped(v, i, j), move |mut d: X| {
        d.as_mut().swap(i, j);
        (d, NoTangent, NoTangent)
    })
}

/// [`swapped`]'s value and tangent: the tangent swapped.
pub fn swapped_jvp<T: Real, X: Clone + AsMut<[T]>>(
    v: &X,
    i: usize,
    j: usize,
    dv: &X,
    _: NoTangent,
    _: NoTangent,
) -> (X, X) {
    (swapped(v, i, j), swapped(dv, i, j))
}

/// `v` with every element `e`.
pub fn filled<T: Real, X: Clone + AsMut<[T]>>(v: &X, e: T) -> X {
    let mut w = v.clone();
    w.as_mut().fill(e);
    w
}

/// [`filled`]'s value and pullback: nothing goes back to the old `v`; `e` gets the sum of
/// the cotangent.
///
/// ```
/// use grad::__private::filled_vjp;
/// let (w, back) = filled_vjp(&vec![1.0, 2.0], 7.0);
/// assert_eq!((w, back(vec![0.5, 0.25])), (vec![7.0, 7.0], (vec![0.0, 0.0], 0.75)));
/// ```
pub fn filled_vjp<T: Real, X: Clone + AsMut<[T]> + AsRef<[T]> + SliceBase<T, Cotangent = X>>(
    v: &X,
    e: T,
) -> (X, impl FnOnce(X) -> (X, T) + use<T, X>) {
    let n = v.as_ref().len();
    (filled(v, e), move |d: X| {
        let de = d.as_ref().iter().fold(-T::ZERO, |s, &x| s + x);
        (X::zeros(n), de)
    })
}

/// [`filled`]'s value and tangent: every element `de`.
pub fn filled_jvp<T: Real, X: Clone + AsMut<[T]>>(v: &X, e: T, _: &X, de: T) -> (X, X) {
    (filled(v, e), filled(v, de))
}

/// `v` with the elements of `src`; panics as `copy_from_slice` does where the lengths
/// differ.
pub fn copied_from<T: Real, X: Clone + AsMut<[T]>, S: SliceBase<T> + ?Sized>(v: &X, src: &S) -> X {
    let mut w = v.clone();
    w.as_mut().copy_from_slice(src.elems());
    w
}

/// [`copied_from`]'s value and pullback: nothing goes back to the old `v`; `src` gets the
/// cotangent.
///
/// ```
/// use grad::__private::copied_from_vjp;
/// let (w, back) = copied_from_vjp(&[0.0, 0.0], &vec![1.0, 2.0]);
/// assert_eq!(w, [1.0, 2.0]);
/// assert_eq!(back([3.0, 4.0]), ([0.0, 0.0], vec![3.0, 4.0]));
/// ```
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
pub fn copied_from_vjp<T, X, S>(
    v: &X,
    src: &S,
) -> (X, impl FnOnce(X) -> (X, S::Cotangent) + use<T, X, S>)
where
    T: Real,
    X: Clone + AsMut<[T]> + AsRef<[T]> + SliceBase<T, Cotangent = X>,
    S: SliceBase<T> + ?Sized,
{
    let n = v.as_ref().len();
    (copied_from(v, src), move |d: X| {
        (X::zeros(n), cotangent_of::<T, S>(d.as_ref()))
    })
}

/// [`copied_from`]'s value and tangent: the source's tangent.
pub fn copied_from_jvp<T, X, S>(v: &X, src: &S, _: &X, dsrc: &[T]) -> (X, X)
where
    T: Real,
    X: Clone + AsMut<[T]>,
    S: SliceBase<T> + ?Sized,
{
    (copied_from(v, src), copied_from(v, dsrc))
}

/// `v` followed by the elements of `src`: `v.extend_from_slice(src)` of a `Vec`.
pub fn extended_from<T: Real, S: SliceBase<T> + ?Sized>(v: &[T], src: &S) -> Vec<T> {
    let mut w = Vec::with_capacity(v.len() + src.elems().len());
    w.extend_from_slice(v);
    w.extend_from_slice(src.elems());
    w
}

/// [`extended_from`]'s value and pullback: the cotangent cut at `v`'s length, the head to
/// `v` and the tail to `src`.
///
/// ```
/// use grad::__private::extended_from_vjp;
/// let (w, back) = extended_from_vjp(&[1.0], &[2.0, 3.0]);
/// assert_eq!(w, vec![1.0, 2.0, 3.0]);
/// assert_eq!(back(vec![4.0, 5.0, 6.0]), (vec![4.0], [5.0, 6.0]));
/// ```
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
pub fn extended_from_vjp<T: Real, S: SliceBase<T> + ?Sized>(
    v: &[T],
    src: &S,
) -> (
    Vec<T>,
    impl FnOnce(Vec<T>) -> (Vec<T>, S::Cotangent) + use<T, S>,
) {
    let (n, m) = (v.len(), src.elems().len());
    (extended_from(v, src), move |mut d: Vec<T>| {
        assert_eq!(
            d.len(),
            n + m,
            "extend_from_slice backward: a cotangent of {} elements for {n} + {m}",
            d.len()
        );
        let ds = cotangent_of::<T, S>(&d[n..]);
        d.truncate(n);
        (d, ds)
    })
}

/// [`extended_from`]'s value and tangent: the two tangents joined.
pub fn extended_from_jvp<T: Real, S: SliceBase<T> + ?Sized>(
    v: &[T],
    src: &S,
    dv: &[T],
    dsrc: &[T],
) -> (Vec<T>, Vec<T>) {
    (extended_from(v, src), extended_from(dv, dsrc))
}

/// `v`'s first `n` elements (all of them if it has fewer): `v.truncate(n)` of a `Vec`.
pub fn truncated<T: Real>(v: &[T], n: usize) -> Vec<T> {
    v[..n.min(v.len())].to_vec()
}

/// [`truncated`]'s value and pullback: the cotangent, with zeros for the elements cut off.
///
/// ```
/// use grad::NoTangent;
/// use grad::__private::truncated_vjp;
/// let (w, back) = truncated_vjp(&[1.0, 2.0, 3.0], 1);
/// assert_eq!(w, vec![1.0]);
/// assert_eq!(back(vec![4.0]), (vec![4.0, 0.0, 0.0], NoTangent));
/// ```
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
pub fn truncated_vjp<T: Real>(
    v: &[T],
    n: usize,
) -> (Vec<T>, impl FnOnce(Vec<T>) -> (Vec<T>, NoTangent) + use<T>) {
    let len = v.len();
    (truncated(v, n), move |mut d: Vec<T>| {
        d.resize(len, T::ZERO);
        (d, NoTangent)
    })
}

/// [`truncated`]'s value and tangent.
pub fn truncated_jvp<T: Real>(v: &[T], n: usize, dv: &[T], _: NoTangent) -> (Vec<T>, Vec<T>) {
    (truncated(v, n), truncated(dv, n))
}

/// No elements: `v.clear()` of a `Vec`, which is `truncate(0)`.
pub fn cleared<T: Real>(v: &[T]) -> Vec<T> {
    truncated(v, 0)
}

/// [`cleared`]'s value and pullback: zeros for every element `v` had.
pub fn cleared_vjp<T: Real>(v: &[T]) -> (Vec<T>, impl FnOnce(Vec<T>) -> Vec<T> + use<T>) {
    let (w, back) = truncated_vjp(v, 0);
    (w, move |d: Vec<T>| back(d).0)
}

/// [`cleared`]'s value and tangent.
pub fn cleared_jvp<T: Real>(v: &[T], dv: &[T]) -> (Vec<T>, Vec<T>) {
    truncated_jvp(v, 0, dv, NoTangent)
}

/// `v` with `e` inserted at `i`: `v.insert(i, e)` of a `Vec`, which panics past the end as
/// `Vec::insert` does. (Of any `Clone` elements: a `Vec` of indices is written so too, not
/// differentiated.)
#[track_caller]
pub fn inserted<T: Clone>(v: &[T], i: usize, e: T) -> Vec<T> {
    let mut w = Vec::with_capacity(v.len() + 1);
    w.extend_from_slice(v);
    w.insert(i, e);
    w
}

/// [`inserted`]'s value and pullback: the cotangent at `i` is the element's, the rest the
/// `Vec`'s.
///
/// ```
/// use grad::NoTangent;
/// use grad::__private::inserted_vjp;
/// let (w, back) = inserted_vjp(&[1.0, 2.0], 1, 5.0);
/// assert_eq!(w, vec![1.0, 5.0, 2.0]);
/// assert_eq!(back(vec![3.0, 4.0, 6.0]), (vec![3.0, 6.0], NoTangent, 4.0));
/// ```
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
#[track_caller]
pub fn inserted_vjp<T: Real>(
    v: &[T],
    i: usize,
    e: T,
) -> (
    Vec<T>,
    impl FnOnce(Vec<T>) -> (Vec<T>, NoTangent, T) + use<T>,
) {
    (inserted(v, i, e), move |mut d: Vec<T>| {
        let de = d.remove(i);
        (d, NoTangent, de)
    })
}

/// [`inserted`]'s value and tangent.
#[track_caller]
pub fn inserted_jvp<T: Real>(
    v: &[T],
    i: usize,
    e: T,
    dv: &[T],
    _: NoTangent,
    de: T,
) -> (Vec<T>, Vec<T>) {
    (inserted(v, i, e), inserted(dv, i, de))
}

/// `v` without its element `i`: the `Vec` that `v.remove(i)` leaves (its value is read
/// before, as `v[i]`), which panics past the end as `Vec::remove` does.
#[track_caller]
pub fn removed<T: Clone>(v: &[T], i: usize) -> Vec<T> {
    let mut w = v.to_vec();
    w.remove(i);
    w
}

/// [`removed`]'s value and pullback: the cotangent, with a zero where the element was.
///
/// ```
/// use grad::NoTangent;
/// use grad::__private::removed_vjp;
/// let (w, back) = removed_vjp(&[1.0, 2.0, 3.0], 0);
/// assert_eq!(w, vec![2.0, 3.0]);
/// assert_eq!(back(vec![4.0, 5.0]), (vec![0.0, 4.0, 5.0], NoTangent));
/// ```
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
#[track_caller]
pub fn removed_vjp<T: Real>(
    v: &[T],
    i: usize,
) -> (Vec<T>, impl FnOnce(Vec<T>) -> (Vec<T>, NoTangent) + use<T>) {
    (removed(v, i), move |mut d: Vec<T>| {
        d.insert(i, T::ZERO);
        (d, NoTangent)
    })
}

/// [`removed`]'s value and tangent.
#[track_caller]
pub fn removed_jvp<T: Real>(v: &[T], i: usize, dv: &[T], _: NoTangent) -> (Vec<T>, Vec<T>) {
    (removed(v, i), removed(dv, i))
}

/// `v` without its element `i`, the last element put in its place: the `Vec` that
/// `v.swap_remove(i)` leaves, which panics past the end as `Vec::swap_remove` does.
#[track_caller]
pub fn swap_removed<T: Clone>(v: &[T], i: usize) -> Vec<T> {
    let mut w = v.to_vec();
    w.swap_remove(i);
    w
}

/// [`swap_removed`]'s value and pullback: the cotangent at `i` goes back to the last
/// element, which moved there, and `i`'s own is zero.
///
/// ```
/// use grad::NoTangent;
/// use grad::__private::swap_removed_vjp;
/// let (w, back) = swap_removed_vjp(&[1.0, 2.0, 3.0], 0);
/// assert_eq!(w, vec![3.0, 2.0]);
/// assert_eq!(back(vec![4.0, 5.0]), (vec![0.0, 5.0, 4.0], NoTangent));
/// ```
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
#[track_caller]
pub fn swap_removed_vjp<T: Real>(
    v: &[T],
    i: usize,
) -> (Vec<T>, impl FnOnce(Vec<T>) -> (Vec<T>, NoTangent) + use<T>) {
    (swap_removed(v, i), move |mut d: Vec<T>| {
        // `d` has one element fewer than `v`: the removed one comes back as the last, and
        // what sat at `i` (the last element's cotangent) goes to the end.
        d.push(T::ZERO);
        let last = d.len() - 1;
        d.swap(i, last);
        (d, NoTangent)
    })
}

/// [`swap_removed`]'s value and tangent.
#[track_caller]
pub fn swap_removed_jvp<T: Real>(v: &[T], i: usize, dv: &[T], _: NoTangent) -> (Vec<T>, Vec<T>) {
    (swap_removed(v, i), swap_removed(dv, i))
}

/// `v` cut to `n` elements or grown to `n` with copies of `e`: `v.resize(n, e)` of a `Vec`.
pub fn resized<T: Clone>(v: &[T], n: usize, e: T) -> Vec<T> {
    let mut w = v[..n.min(v.len())].to_vec();
    w.resize(n, e);
    w
}

/// [`resized`]'s value and pullback: the kept elements' cotangents (zeros for the ones cut
/// off) and, for `e`, the sum of its copies'.
///
/// ```
/// use grad::NoTangent;
/// use grad::__private::resized_vjp;
/// let (w, back) = resized_vjp(&[1.0, 2.0], 4, 7.0);
/// assert_eq!(w, vec![1.0, 2.0, 7.0, 7.0]);
/// assert_eq!(back(vec![1.0, 2.0, 3.0, 4.0]), (vec![1.0, 2.0], NoTangent, 7.0));
/// let (w, back) = resized_vjp(&[1.0, 2.0, 3.0], 1, 7.0);
/// assert_eq!(w, vec![1.0]);
/// assert_eq!(back(vec![5.0]), (vec![5.0, 0.0, 0.0], NoTangent, 0.0));
/// ```
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
pub fn resized_vjp<T: Real>(
    v: &[T],
    n: usize,
    e: T,
) -> (
    Vec<T>,
    impl FnOnce(Vec<T>) -> (Vec<T>, NoTangent, T) + use<T>,
) {
    let len = v.len();
    (resized(v, n, e), move |mut d: Vec<T>| {
        let de = d[len.min(n)..].iter().fold(T::ZERO, |s, &g| s + g);
        d.resize(len, T::ZERO);
        (d, NoTangent, de)
    })
}

/// [`resized`]'s value and tangent.
pub fn resized_jvp<T: Real>(
    v: &[T],
    n: usize,
    e: T,
    dv: &[T],
    _: NoTangent,
    de: T,
) -> (Vec<T>, Vec<T>) {
    (resized(v, n, e), resized(dv, n, de))
}

/// `d` as the cotangent of a whole `S` of `d.len()` elements (a `Vec`, or the array).
fn cotangent_of<T: Real, S: SliceBase<T> + ?Sized>(d: &[T]) -> S::Cotangent {
    let mut ds = S::zeros(d.len());
    ds.as_mut().copy_from_slice(d);
    ds
}

/// The permutation that sorts `v` by `cmp`, stably: `sorted[k] = v[perm[k]]`. Not
/// differentiated (it is indices); `v.sort_by(cmp)` in differentiable code is this and
/// [`permuted`].
pub fn sort_permutation<T, F>(v: &[T], mut cmp: F) -> Vec<usize>
where
    F: FnMut(&T, &T) -> core::cmp::Ordering,
{
    let mut perm: Vec<usize> = (0..v.len()).collect();
    perm.sort_by(|&i, &j| cmp(&v[i], &v[j]));
    perm
}

/// The positions of the elements of `v` that `keep` keeps, in order: `v.retain(keep)` in
/// differentiable code is [`gathered`] at them. Not differentiated (it is indices).
pub fn retained_positions<T>(v: &[T], mut keep: impl FnMut(&T) -> bool) -> Vec<usize> {
    (0..v.len()).filter(|&i| keep(&v[i])).collect()
}

/// The positions of the elements `v.dedup()` keeps: the first of each run of equal
/// neighbours. Not differentiated.
pub fn dedup_positions<T: PartialEq>(v: &[T]) -> Vec<usize> {
    (0..v.len())
        .filter(|&i| i == 0 || v[i] != v[i - 1])
        .collect()
}

/// `v`'s elements at `idx`, in that order: `w[k] = v[idx[k]]`.
pub fn gathered<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| v[i].clone()).collect()
}

/// [`gathered`]'s value and pullback: each cotangent added back where its element came from
/// (an element read twice gets both).
///
/// ```
/// use grad::NoTangent;
/// use grad::__private::gathered_vjp;
/// let (w, back) = gathered_vjp(&[1.0, 2.0, 3.0], &[2, 0, 2]);
/// assert_eq!(w, vec![3.0, 1.0, 3.0]);
/// assert_eq!(back(vec![1.0, 2.0, 4.0]), (vec![2.0, 0.0, 5.0], NoTangent));
/// ```
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
pub fn gathered_vjp<T: Real>(
    v: &[T],
    idx: &[usize],
) -> (Vec<T>, impl FnOnce(Vec<T>) -> (Vec<T>, NoTangent) + use<T>) {
    let (len, idx) = (v.len(), idx.to_vec());
    (gathered(v, &idx), move |d: Vec<T>| {
        let mut dv = vec![T::ZERO; len];
        for (&g, &i) in d.iter().zip(&idx) {
            dv[i] += g;
        }
        (dv, NoTangent)
    })
}

/// [`gathered`]'s value and tangent.
pub fn gathered_jvp<T: Real>(v: &[T], idx: &[usize], dv: &[T], _: NoTangent) -> (Vec<T>, Vec<T>) {
    (gathered(v, idx), gathered(dv, idx))
}

/// `v`'s elements in the order `perm` gives: `w[k] = v[perm[k]]`. `perm` is a permutation
/// of `v`'s indices.
pub fn permuted<T: Real, X: Clone + AsRef<[T]> + AsMut<[T]>>(v: &X, perm: &[usize]) -> X {
    let mut w = v.clone();
    let (src, dst) = (v.as_ref(), w.as_mut());
    assert_eq!(
        perm.len(),
        src.len(),
        "permuted: a permutation of {} indices for {} elements",
        perm.len(),
        src.len()
    );
    for (d, &p) in dst.iter_mut().zip(perm) {
        *d = src[p];
    }
    w
}

/// [`permuted`]'s value and pullback: the cotangent put back where each element came from,
/// `dv[perm[k]] = d[k]`.
///
/// ```
/// use grad::NoTangent;
/// use grad::__private::{permuted_vjp, sort_permutation};
/// let v = vec![3.0f64, 1.0, 2.0];
/// let perm = sort_permutation(&v, |a, b| a.total_cmp(b));
/// let (w, back) = permuted_vjp(&v, &perm);
/// assert_eq!(w, vec![1.0, 2.0, 3.0]);
/// assert_eq!(back(vec![10.0, 20.0, 30.0]), (vec![30.0, 10.0, 20.0], NoTangent));
/// ```
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
pub fn permuted_vjp<T: Real, X: Clone + AsRef<[T]> + AsMut<[T]>>(
    v: &X,
    perm: &[usize],
) -> (X, impl FnOnce(X) -> (X, NoTangent) + use<T, X>) {
    let perm = perm.to_vec();
    (permuted(v, &perm), move |d: X| {
        let mut dv = d.clone();
        let (src, dst) = (d.as_ref(), dv.as_mut());
        for (&g, &p) in src.iter().zip(&perm) {
            dst[p] = g;
        }
        (dv, NoTangent)
    })
}

/// [`permuted`]'s value and tangent: the tangent permuted alike.
pub fn permuted_jvp<T: Real, X: Clone + AsRef<[T]> + AsMut<[T]>>(
    v: &X,
    perm: &[usize],
    dv: &X,
    _: NoTangent,
) -> (X, X) {
    (permuted(v, perm), permuted(dv, perm))
}
