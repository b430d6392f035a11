//! Shared test helpers: central finite differences in f64 and a seeded generator.
#![allow(dead_code)]

/// Central difference of a scalar function, step scaled by the point's size.
pub fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

/// Central-difference gradient of a function of a slice.
pub fn fd_slice(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            fd(
                |v| {
                    let mut y = x.to_vec();
                    y[i] = v;
                    f(&y)
                },
                x[i],
            )
        })
        .collect()
}

/// Asserts `got` agrees with `want` to a relative tolerance (absolute near zero).
///
/// Central differences with h = 1e-6 have truncation error O(h² f''') and rounding error
/// O(eps |f| / h) ≈ 1e-10 |f|: 1e-6 relative leaves room for both on smooth test functions.
#[track_caller]
pub fn close(got: f64, want: f64, tol: f64) {
    let scale = want.abs().max(got.abs()).max(1.0);
    assert!(
        (got - want).abs() <= tol * scale,
        "got {got}, want {want} (tolerance {tol} relative to {scale})"
    );
}

#[track_caller]
pub fn close_all(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let scale = w.abs().max(g.abs()).max(1.0);
        assert!(
            (g - w).abs() <= tol * scale,
            "component {i}: got {g}, want {w} (tolerance {tol}); got {got:?}, want {want:?}"
        );
    }
}

/// `f_grad` (here `grad`) agrees with central differences of `f` at `x`, and `f_jvp` (`jvp`)
/// along random directions with the gradient's inner product.
#[track_caller]
pub fn check(
    x: &[f64],
    f: impl Fn(&[f64]) -> f64,
    grad: impl Fn(&[f64]) -> (f64, Vec<f64>),
    jvp: impl Fn(&[f64], &[f64]) -> (f64, f64),
) {
    let (v, g) = grad(x);
    assert_eq!(v, f(x), "the gradient's value is the function's");
    close_all(&g, &fd_slice(&f, x), 1e-6);
    let mut rng = Rng::new(x.len() as u64 + 7);
    for _ in 0..3 {
        let dir = rng.vec(x.len(), -1.0, 1.0);
        let (v2, d) = jvp(x, &dir);
        assert_eq!(v2, v);
        let want: f64 = g.iter().zip(&dir).map(|(a, b)| a * b).sum();
        close(d, want, 1e-10);
    }
}

/// `hv`, an `_hvp`'s `H v`, against central differences along `v` of the gradient `grad` at
/// `x`, component by component.
#[track_caller]
pub fn check_hvp(x: &[f64], v: &[f64], hv: &[f64], grad: impl Fn(&[f64]) -> Vec<f64>) {
    assert_eq!(hv.len(), x.len(), "H v has one component per input");
    for (i, h) in hv.iter().enumerate() {
        let along = |s: f64| {
            let y: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + s * b).collect();
            grad(&y)[i]
        };
        close(*h, fd(along, 0.0), 1e-6);
    }
}

/// `f_hvp` (here `hvp`) at `x` along `v`: its value and gradient are `f_grad`'s (`grad`)
/// bit for bit, and its H v agrees with central differences of the gradient along `v`.
pub fn check_second_order(
    x: &[f64],
    v: &[f64],
    grad: impl Fn(&[f64]) -> (f64, Vec<f64>),
    hvp: impl Fn(&[f64], &[f64]) -> (f64, Vec<f64>, Vec<f64>),
) {
    let (value, g, hv) = hvp(x, v);
    assert_eq!((value, g), grad(x), "_hvp's value and gradient are _grad's");
    check_hvp(x, v, &hv, |y| grad(y).1);
}

/// A small seeded generator (xorshift64*), so tests are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
}

/// `a ≈ b` componentwise, relative to the largest component of `b` (at least 1).
pub fn assert_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * scale,
            "{what}[{i}]: {x} against {y} (scale {scale}, tolerance {tol})"
        );
    }
}

/// `<a, b>`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// The Hessian's symmetry: `<u, H v>` against `<v, H u>` (given `hv = H v`, `hu = H u`),
/// relative to the products' size.
pub fn assert_symmetric(what: &str, u: &[f64], hv: &[f64], v: &[f64], hu: &[f64]) {
    let (a, b) = (dot(u, hv), dot(v, hu));
    let scale = 1.0f64.max(a.abs()).max(b.abs());
    assert!(
        (a - b).abs() <= 1e-12 * scale,
        "{what}: <u, Hv> = {a} and <v, Hu> = {b}"
    );
}

/// A tangent's components in order, as `f64`.
pub fn floats<T: grad::Tangent>(t: &T) -> Vec<f64> {
    let mut out = Vec::new();
    t.visit(&mut |run| match run {
        grad::Flat::F32(s) => out.extend(s.iter().map(|&x| f64::from(x))),
        grad::Flat::F64(s) => out.extend_from_slice(s),
    });
    out
}
