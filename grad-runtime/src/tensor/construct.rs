//! Tensor constructors: from user data (checked, returning `ShapeError`), filled, and seeded random.

use super::{Dims, ShapeError, Tensor, pool};
use crate::real::Real;

/// The element count of `shape`, or an error naming `op` if it overflows.
fn element_count(op: &'static str, shape: &[usize]) -> Result<usize, ShapeError> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            ShapeError::new(
                op,
                format!("the element count of shape {shape:?} overflows usize"),
            )
        })
}

/// The element count of `shape`; panics (naming `op`) if it overflows.
fn count_or_panic(op: &'static str, shape: &[usize]) -> usize {
    element_count(op, shape).unwrap_or_else(|e| panic!("{e}"))
}

impl<T: Real> Tensor<T> {
    /// A tensor of shape `shape` holding `data` in row-major order.
    ///
    /// # Errors
    /// If `data.len()` is not the product of `shape`.
    pub fn from_vec(data: Vec<T>, shape: &[usize]) -> Result<Self, ShapeError> {
        let n = element_count("from_vec", shape)?;
        if n != data.len() {
            return Err(ShapeError::new(
                "from_vec",
                format!(
                    "{} elements do not fill shape {shape:?} ({n} elements)",
                    data.len()
                ),
            ));
        }
        Ok(Tensor {
            data,
            shape: Dims::from_slice(shape),
        })
    }

    /// A tensor of shape `shape` holding a copy of `data` in row-major order.
    ///
    /// # Errors
    /// If `data.len()` is not the product of `shape`.
    pub fn from_slice(data: &[T], shape: &[usize]) -> Result<Self, ShapeError> {
        let n = element_count("from_slice", shape)?;
        if n != data.len() {
            return Err(ShapeError::new(
                "from_slice",
                format!(
                    "{} elements do not fill shape {shape:?} ({n} elements)",
                    data.len()
                ),
            ));
        }
        Ok(Tensor {
            data: data.to_vec(),
            shape: Dims::from_slice(shape),
        })
    }

    /// A tensor of shape `shape` with every element `value`.
    ///
    /// # Panics
    /// If the element count overflows `usize`.
    pub fn full(shape: &[usize], value: T) -> Self {
        let n = count_or_panic("full", shape);
        Tensor {
            data: pool::filled(n, value),
            shape: Dims::from_slice(shape),
        }
    }

    /// Zeros of shape `shape` (`&[]` for a 0-d tensor).
    ///
    /// # Panics
    /// If the element count of `shape` overflows `usize`.
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::ZERO)
    }

    /// Ones of shape `shape`.
    ///
    /// # Panics
    /// If the element count of `shape` overflows `usize`.
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::ONE)
    }

    /// Zeros of `other`'s shape.
    pub fn zeros_like(other: &Tensor<T>) -> Self {
        Tensor {
            data: pool::filled(other.len(), T::ZERO),
            shape: other.dims_owned(),
        }
    }

    /// A 0-dimensional tensor holding `value`.
    pub fn scalar(value: T) -> Self {
        Tensor {
            data: vec![value],
            shape: Dims::new(),
        }
    }

    /// Standard normal samples (Box–Muller over SplitMix64), reproducible from `seed`: the
    /// same seed gives the same bits on every machine and run.
    ///
    /// ```
    /// use grad::Tensor;
    /// let a = Tensor::<f64>::randn(&[1000], 7);
    /// assert_eq!(a, Tensor::randn(&[1000], 7));
    /// assert!(a.mean().abs() < 0.1); // mean 0, standard error 1/√1000
    /// ```
    ///
    /// # Panics
    /// If the element count of `shape` overflows `usize`.
    pub fn randn(shape: &[usize], seed: u64) -> Self {
        let n = count_or_panic("randn", shape);
        let mut rng = SplitMix64(seed);
        let mut data = Vec::with_capacity(n);
        while data.len() < n {
            // u1 in (0, 1] so ln(u1) is finite.
            let u1 = 1.0 - rng.unit();
            let u2 = rng.unit();
            let r = (-2.0 * u1.ln()).sqrt();
            let (s, c) = (core::f64::consts::TAU * u2).sin_cos();
            data.push(T::from_f64(r * c));
            if data.len() < n {
                data.push(T::from_f64(r * s));
            }
        }
        Tensor {
            data,
            shape: Dims::from_slice(shape),
        }
    }

    /// Samples uniform in `[lo, hi)`, reproducible from `seed` (drawn in `f64` and rounded
    /// to `T`, so an `f32` sample may round up to `hi`).
    ///
    /// # Panics
    /// If the element count of `shape` overflows `usize`.
    pub fn rand_uniform(shape: &[usize], lo: T, hi: T, seed: u64) -> Self {
        let n = count_or_panic("rand_uniform", shape);
        let mut rng = SplitMix64(seed);
        let (lo, hi) = (lo.to_f64(), hi.to_f64());
        let data = (0..n)
            .map(|_| T::from_f64(lo + (hi - lo) * rng.unit()))
            .collect();
        Tensor {
            data,
            shape: Dims::from_slice(shape),
        }
    }
}

/// Sebastiano Vigna's SplitMix64: small, fast, and good enough for initial weights.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)` with 53 random bits.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

impl<T: Real, const N: usize> From<[T; N]> for Tensor<T> {
    /// A 1-d tensor.
    fn from(data: [T; N]) -> Self {
        Tensor {
            data: data.to_vec(),
            shape: Dims::from_slice(&[N]),
        }
    }
}

impl<T: Real> From<Vec<T>> for Tensor<T> {
    /// A 1-d tensor.
    fn from(data: Vec<T>) -> Self {
        let n = data.len();
        Tensor {
            data,
            shape: Dims::from_slice(&[n]),
        }
    }
}
