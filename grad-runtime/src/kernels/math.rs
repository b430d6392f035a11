//! Branch-free `exp`, `ln`, `tanh` and `sigmoid` for `f32` and `f64`, written so that the
//! compiler vectorizes them inside the kernel loops; each states its maximum error.
//!
//! Errors are in ulp of the correctly rounded result, measured by `tests/kernels.rs` over
//! a dense sweep and at the edges (zero, denormals, ±large, ±inf, NaN), which asserts them:
//!
//! | function | bound asserted (`f32`, `f64`) | measured max, 2^20-point sweep + edges, every path (`f32`, `f64`) |
//! |---|---|---|
//! | `exp` | ≤ 2 ulp | 1, 1 |
//! | `ln` | ≤ 2 ulp | 1, 1 |
//! | `tanh` | ≤ 4 ulp | 1, 3 (also over `1e-320 ≤ |x| ≤ 1` log-spaced, and to ±40) |
//! | `sigmoid` | ≤ 4 ulp | 2, 3 |
//!
//! `f32` errors are against the f64 function rounded to f32; `f64` errors against std's f64
//! functions (themselves within about 1 ulp), so the `f64` column includes the reference's
//! own error.
//!
//! Special values follow IEEE and `std`: `exp(-inf) = 0`, `exp(+inf) = inf`, `ln(0) = -inf`,
//! `ln(x < 0) = NaN`, `tanh(±inf) = ±1`, `sigmoid(-inf) = 0`; NaN propagates. Results in the
//! denormal range are produced with a single rounding.
//!
//! ```
//! use grad::kernels::{self, math::MathFn};
//!
//! let mut x = [0.0f64, 1.0, -1.0];
//! kernels::math_in_place(MathFn::Sigmoid, &mut x);
//! assert_eq!(x[0], 0.5);
//! // Within the stated few ulp of the correctly rounded value.
//! assert!((x[1] - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-15);
//! assert!((x[1] + x[2] - 1.0).abs() < 1e-15);
//! ```

// The polynomial coefficients are quoted as their sources (Cephes, fdlibm) publish them.
#![allow(clippy::excessive_precision)]

/// A function the vectorized kernels compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MathFn {
    /// `e^x`.
    Exp,
    /// `ln x`.
    Ln,
    /// `tanh x`.
    Tanh,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
}

/// The vectorizable math of one float type; `FMA` says whether `mul_add` is a hardware
/// instruction on the path being compiled (else a separate multiply and add are used).
pub trait VecMath: Copy + Send + Sync + 'static {
    /// `e^x` (see the module table for the error bound).
    fn vexp<const FMA: bool>(self) -> Self;
    /// `ln x`.
    fn vln<const FMA: bool>(self) -> Self;
    /// `tanh x`.
    fn vtanh<const FMA: bool>(self) -> Self;
    /// `1 / (1 + e^-x)`, never overflowing.
    fn vsigmoid<const FMA: bool>(self) -> Self;
}

macro_rules! fma_fn {
    ($name:ident, $t:ty) => {
        #[inline(always)]
        fn $name<const FMA: bool>(a: $t, b: $t, c: $t) -> $t {
            if FMA { a.mul_add(b, c) } else { a * b + c }
        }
    };
}
fma_fn!(fma32, f32);
fma_fn!(fma64, f64);

/// Horner's scheme over coefficients given highest degree first.
macro_rules! horner {
    ($fma:ident, $x:expr; $c0:expr $(, $c:expr)*) => {{
        let x = $x;
        let p = $c0;
        $(let p = $fma::<FMA>(p, x, $c);)*
        p
    }};
}

impl VecMath for f32 {
    /// Cody–Waite reduction `x = n ln2 + r`, `|r| <= ln2/2`, Cephes' degree-7 polynomial for
    /// `e^r`, and `2^n` applied in two exact halves so denormal results round once.
    /// Error ≤ 2 ulp.
    #[inline(always)]
    fn vexp<const FMA: bool>(self) -> f32 {
        const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer.
        let x = self.clamp(-104.0, 89.0);
        let t = fma32::<FMA>(x, core::f32::consts::LOG2_E, MAGIC);
        let n = t - MAGIC;
        let r = fma32::<FMA>(-n, 0.693_359_4, x);
        let r = fma32::<FMA>(-n, -2.121_944_4e-4, r);
        let p = horner!(fma32, r; 1.987_569_1e-4, 1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2,
            1.666_666_5e-1, 5.000_000_1e-1);
        let y = fma32::<FMA>(p, r * r, r) + 1.0;
        let n = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
        let n1 = n >> 1;
        let s1 = f32::from_bits(((n1 + 127) as u32) << 23);
        let s2 = f32::from_bits(((n - n1 + 127) as u32) << 23);
        y * s1 * s2
    }

    /// `x = m 2^e` with `m` in `[√½, √2)`, Cephes' degree-9 polynomial for `ln(m)`.
    /// Error ≤ 2 ulp.
    #[inline(always)]
    fn vln<const FMA: bool>(self) -> f32 {
        let x = self;
        let tiny = x < f32::MIN_POSITIVE;
        let xs = if tiny { x * 8_388_608.0 } else { x }; // 2^23 lifts denormals.
        let bits = xs.to_bits();
        let mut e = ((bits >> 23) & 0xff) as i32 - 126 - if tiny { 23 } else { 0 };
        let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000); // in [0.5, 1)
        let low = m < core::f32::consts::FRAC_1_SQRT_2;
        e -= i32::from(low);
        let f = if low { m + m - 1.0 } else { m - 1.0 };
        let ef = e as f32;
        let z = f * f;
        let p = horner!(fma32, f; 7.037_683_6e-2, -1.151_461e-1, 1.167_699_9e-1, -1.242_014_1e-1,
            1.424_932_3e-1, -1.666_805_8e-1, 2.000_071_4e-1, -2.499_999_4e-1, 3.333_333e-1);
        let y = p * f * z;
        let y = fma32::<FMA>(ef, -2.121_944_4e-4, y);
        let y = fma32::<FMA>(-0.5, z, y);
        let r = fma32::<FMA>(ef, 0.693_359_4, f + y);
        if x == f32::INFINITY {
            x
        } else if x == 0.0 {
            f32::NEG_INFINITY
        } else if x < 0.0 || x.is_nan() {
            f32::NAN
        } else {
            r
        }
    }

    /// `x + x³P(x²)` (Cephes) below `|x| = 0.625`, `1 - 2/(e^{2|x|} + 1)` above.
    /// Error ≤ 4 ulp.
    #[inline(always)]
    fn vtanh<const FMA: bool>(self) -> f32 {
        let x = self;
        let a = x.abs();
        let z = x * x;
        let p = horner!(fma32, z; -5.704_988_7e-3, 2.063_908_9e-2, -5.373_971_6e-2,
            1.333_144_2e-1, -3.333_328_2e-1);
        let small = fma32::<FMA>(x * z, p, x);
        let e = (a + a).vexp::<FMA>();
        let large = (1.0 - 2.0 / (e + 1.0)).copysign(x);
        if a < 0.625 { small } else { large }
    }

    /// `1/(1 + e)` or `e/(1 + e)` with `e = e^{-|x|}`, which never overflows.
    /// Error ≤ 4 ulp.
    #[inline(always)]
    fn vsigmoid<const FMA: bool>(self) -> f32 {
        let e = (-self.abs()).vexp::<FMA>();
        let r = 1.0 / (1.0 + e);
        if self >= 0.0 { r } else { e * r }
    }
}

/// `1.5 · 2^52`: adding it to a float below 2^51 in magnitude rounds to an integer, which
/// then sits in the low bits of the sum.
const MAGIC64: f64 = 6_755_399_441_055_744.0;

/// The first half of the `f64` `exp`, shared with `tanh`: for `y` clamped to
/// `[-746, 710]`, Cody–Waite reduction `y = n ln2 + r`, `|r| <= ln2/2`, and
/// `q = e^r - 1` from the degree-13 Taylor polynomial (truncation below 1e-17 relative),
/// evaluated by Estrin's scheme.
/// Returns `n + MAGIC64` (its low bits are `n`) and `q`.
///
/// `exp(-x)` and `tanh(x)` both call it on `-x`, with the same instructions: in a fused
/// region that computes both (`tanh(x)² e^{-x}`), the compiler evaluates it once.
#[inline(always)]
fn exp_reduce<const FMA: bool>(y: f64) -> (f64, f64) {
    let x = y.clamp(-746.0, 710.0);
    let t = fma64::<FMA>(x, core::f64::consts::LOG2_E, MAGIC64);
    let n = t - MAGIC64;
    let r = fma64::<FMA>(-n, 6.931_457_519_531_25e-1, x);
    let r = fma64::<FMA>(-n, 1.428_606_820_309_417_2e-6, r);
    // p(r) = Σ_{k<12} r^k / (k + 2)!, by Estrin's scheme: pairs, then pairs of pairs in r²,
    // then r⁴: 4 multiply-adds deep instead of Horner's 11, for one multiplication more
    // (T4's fused gradient, a long loop body, ran a few per cent faster).
    let f = |a: f64, b: f64, x: f64| fma64::<FMA>(b, x, a);
    let r2 = r * r;
    let r4 = r2 * r2;
    let a0 = f(0.5, 1.0 / 6.0, r);
    let a1 = f(1.0 / 24.0, 1.0 / 120.0, r);
    let a2 = f(1.0 / 720.0, 1.0 / 5_040.0, r);
    let a3 = f(1.0 / 40_320.0, 1.0 / 362_880.0, r);
    let a4 = f(1.0 / 3_628_800.0, 1.0 / 39_916_800.0, r);
    let a5 = f(1.0 / 479_001_600.0, 1.0 / 6_227_020_800.0, r);
    let b0 = f(a0, a1, r2);
    let b1 = f(a2, a3, r2);
    let b2 = f(a4, a5, r2);
    let p = f(b0, f(b1, b2, r4), r4);
    (t, fma64::<FMA>(p, r2, r))
}

/// `n` from the first value `exp_reduce` returns.
#[inline(always)]
fn reduced_n(t: f64) -> i64 {
    (t.to_bits() as i64).wrapping_sub(MAGIC64.to_bits() as i64)
}

impl VecMath for f64 {
    /// `exp_reduce`, then `e^x = (1 + q) 2^n` with `2^n` applied in two exact halves so
    /// denormal results round once. Error ≤ 2 ulp.
    #[inline(always)]
    fn vexp<const FMA: bool>(self) -> f64 {
        let (t, q) = exp_reduce::<FMA>(self);
        let y = q + 1.0;
        let n = reduced_n(t);
        let n1 = n >> 1;
        let s1 = f64::from_bits(((n1 + 1023) as u64) << 52);
        let s2 = f64::from_bits(((n - n1 + 1023) as u64) << 52);
        y * s1 * s2
    }

    /// `x = (1 + f) 2^e` with `1 + f` in `[√½, √2)`, `s = f/(2+f)` and fdlibm's degree-14
    /// polynomial in `s`. Error ≤ 2 ulp.
    #[inline(always)]
    fn vln<const FMA: bool>(self) -> f64 {
        let x = self;
        let tiny = x < f64::MIN_POSITIVE;
        let xs = if tiny {
            x * 18_014_398_509_481_984.0
        } else {
            x
        }; // 2^54
        let bits = xs.to_bits();
        let mut e = ((bits >> 52) & 0x7ff) as i64 - 1022 - if tiny { 54 } else { 0 };
        let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3fe0_0000_0000_0000);
        let low = m < core::f64::consts::FRAC_1_SQRT_2;
        e -= i64::from(low);
        let f = if low { m + m - 1.0 } else { m - 1.0 };
        let ef = e as f64;
        let s = f / (2.0 + f);
        let z = s * s;
        let r = z * horner!(fma64, z; 1.479_819_860_511_658_6e-1, 1.531_383_769_920_937_3e-1,
            1.818_357_216_161_805e-1, 2.222_219_843_214_978_4e-1, 2.857_142_874_366_239e-1,
            3.999_999_999_940_942e-1, 6.666_666_666_666_735e-1);
        let hfsq = 0.5 * f * f;
        let y = ef * 6.931_471_803_691_238e-1
            - ((hfsq - fma64::<FMA>(s, hfsq + r, ef * 1.908_214_929_270_587_7e-10)) - f);
        if x == f64::INFINITY {
            x
        } else if x == 0.0 {
            f64::NEG_INFINITY
        } else if x < 0.0 || x.is_nan() {
            f64::NAN
        } else {
            y
        }
    }

    /// From `m = e^{-x} - 1`, one division: `tanh x = -M / (M + 2)` with
    /// `M = e^{-2x} - 1 = m (m + 2)`, rounded once as `fma(m, m, 2m)`. `m = 2^n q + (2^n - 1)`
    /// from `exp_reduce` of `-x` (the same work as `exp(-x)`, which a fused region shares);
    /// near 0 it is `q` itself, so `tanh x ≈ x` keeps its relative accuracy down to the
    /// denormals. Above `|x| = 20` the result is `±1` (`tanh 20 = 1 - 8e-18` rounds to 1).
    /// Error ≤ 4 ulp.
    #[inline(always)]
    fn vtanh<const FMA: bool>(self) -> f64 {
        let x = self;
        let (t, q) = exp_reduce::<FMA>(-x);
        // |x| <= 20 where the result is used, so |n| <= 29 and 2^n is a normal number.
        let s = f64::from_bits((reduced_n(t).wrapping_add(1023) as u64) << 52);
        let m = fma64::<FMA>(s, q, s - 1.0);
        let big = fma64::<FMA>(m, m, m + m);
        // The quotient's sign is x's except at ±0, where copysign restores it.
        let r = (-big / (big + 2.0)).copysign(x);
        if x.abs() > 20.0 {
            1.0f64.copysign(x)
        } else {
            r
        }
    }

    /// `1/(1 + e)` or `e/(1 + e)` with `e = e^{-|x|}`, which never overflows.
    /// Error ≤ 4 ulp.
    #[inline(always)]
    fn vsigmoid<const FMA: bool>(self) -> f64 {
        let e = (-self.abs()).vexp::<FMA>();
        let r = 1.0 / (1.0 + e);
        if self >= 0.0 { r } else { e * r }
    }
}
