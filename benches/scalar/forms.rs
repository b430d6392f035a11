//! The forms users write for S3, S4 and S5 (issue #12): each case again in the spellings a
//! user would choose, every one a `#[differentiable]` function with the case's value, so
//! that the bench can set each generated gradient beside the one hand-written adjoint.
//!
//! S3's forms are the product of four choices, named `s3_<loop>_<bound>_<square>_<term>`:
//!
//! | part     | choice  | the loop or term as written                                    |
//! |----------|---------|----------------------------------------------------------------|
//! | `loop`   | `up`    | `for i in 0..len - 1`, reading `x[i]` and `x[i + 1]`             |
//! |          | `down`  | `for i in 1..len`, reading `x[i - 1]` and `x[i]`                 |
//! | `bound`  | `n`     | `let n = x.len();` before the loop, `n` in the range             |
//! |          | `len`   | `x.len()` in the range                                          |
//! | `square` | `powi`  | squares as `.powi(2)`                                           |
//! |          | `mul`   | squares as `a * a`                                              |
//! | `term`   | `expr`  | the term in one expression                                      |
//! |          | `lets`  | `let a = 1 - x_i; let b = x_{i+1} - x_i^2;`, then the term of them |
//!
//! `s3_down_n_powi_expr` is `s3_rosenbrock` itself and the iterator forms are S3w, S3z and
//! S3m, so they are not written again here; [`S3_FORMS`] lists all of them. The `up` forms
//! are the README's: like it they need `x` not empty (`x.len() - 1` underflows at 0).
//! `powi(2)` is a multiplication of the value by itself, so `powi` and `mul` forms with the
//! same grouping agree to the bit; `100.0 * b * b` groups as `(100 b) b` and may differ
//! from `100 b^2` in the last place.
//!
//! S4's forms differ in how erf gets its sign: as an `if`/`else` expression (`s4_erf`, the
//! case itself) or as an early `return`. S5's differ in the cumulative angle: carried from
//! joint to joint (`s5_arm`) or recomputed as a sum for each joint, in the same order, so
//! the angles agree to the bit.

use grad::differentiable;

use super::cases::*;

/// One form of a case: its name in bench ids and test messages, its primal and its
/// generated value and gradient.
pub struct Form<P, G> {
    pub name: &'static str,
    #[allow(
        dead_code,
        reason = "the bench times each case's primal once; the test reads each form's"
    )]
    pub primal: P,
    pub generated: G,
}

/// A form of S3: a function of a slice.
pub type S3Form = Form<fn(&[f64]) -> f64, fn(&[f64]) -> (f64, Vec<f64>)>;

/// A form of S4: a function of spot, strike, rate, volatility and time.
pub type S4Form = Form<
    fn(f64, f64, f64, f64, f64) -> f64,
    fn(f64, f64, f64, f64, f64) -> (f64, (f64, f64, f64, f64, f64)),
>;

/// A form of S5: a function of six joint angles.
pub type S5Form = Form<fn(&[f64; 6]) -> f64, fn(&[f64; 6]) -> (f64, [f64; 6])>;

/// Every form of S3: the index loops of the table above, then the iterator forms.
pub const S3_FORMS: [S3Form; 19] = [
    Form {
        name: "up_n_powi_expr",
        primal: s3_up_n_powi_expr,
        generated: s3_up_n_powi_expr_grad,
    },
    Form {
        name: "up_n_powi_lets",
        primal: s3_up_n_powi_lets,
        generated: s3_up_n_powi_lets_grad,
    },
    Form {
        name: "up_n_mul_expr",
        primal: s3_up_n_mul_expr,
        generated: s3_up_n_mul_expr_grad,
    },
    Form {
        name: "up_n_mul_lets",
        primal: s3_up_n_mul_lets,
        generated: s3_up_n_mul_lets_grad,
    },
    Form {
        name: "up_len_powi_expr",
        primal: s3_up_len_powi_expr,
        generated: s3_up_len_powi_expr_grad,
    },
    Form {
        name: "up_len_powi_lets",
        primal: s3_up_len_powi_lets,
        generated: s3_up_len_powi_lets_grad,
    },
    Form {
        name: "up_len_mul_expr",
        primal: s3_up_len_mul_expr,
        generated: s3_up_len_mul_expr_grad,
    },
    Form {
        name: "up_len_mul_lets",
        primal: s3_up_len_mul_lets,
        generated: s3_up_len_mul_lets_grad,
    },
    Form {
        name: "down_n_powi_expr",
        primal: s3_rosenbrock,
        generated: s3_rosenbrock_grad,
    },
    Form {
        name: "down_n_powi_lets",
        primal: s3_down_n_powi_lets,
        generated: s3_down_n_powi_lets_grad,
    },
    Form {
        name: "down_n_mul_expr",
        primal: s3_down_n_mul_expr,
        generated: s3_down_n_mul_expr_grad,
    },
    Form {
        name: "down_n_mul_lets",
        primal: s3_down_n_mul_lets,
        generated: s3_down_n_mul_lets_grad,
    },
    Form {
        name: "down_len_powi_expr",
        primal: s3_down_len_powi_expr,
        generated: s3_down_len_powi_expr_grad,
    },
    Form {
        name: "down_len_powi_lets",
        primal: s3_down_len_powi_lets,
        generated: s3_down_len_powi_lets_grad,
    },
    Form {
        name: "down_len_mul_expr",
        primal: s3_down_len_mul_expr,
        generated: s3_down_len_mul_expr_grad,
    },
    Form {
        name: "down_len_mul_lets",
        primal: s3_down_len_mul_lets,
        generated: s3_down_len_mul_lets_grad,
    },
    Form {
        name: "iter_windows",
        primal: s3w_rosenbrock_windows,
        generated: s3w_rosenbrock_windows_grad,
    },
    Form {
        name: "iter_zip_skip",
        primal: s3z_rosenbrock_zip,
        generated: s3z_rosenbrock_zip_grad,
    },
    Form {
        name: "iter_map_sum",
        primal: s3m_rosenbrock_chain,
        generated: s3m_rosenbrock_chain_grad,
    },
];

/// Every form of S4.
pub const S4_FORMS: [S4Form; 2] = [
    Form {
        name: "sign_if_else",
        primal: s4_black_scholes,
        generated: s4_black_scholes_grad,
    },
    Form {
        name: "sign_early_return",
        primal: s4_sign_return,
        generated: s4_sign_return_grad,
    },
];

/// Every form of S5.
pub const S5_FORMS: [S5Form; 2] = [
    Form {
        name: "phi_carried",
        primal: s5_arm,
        generated: s5_arm_grad,
    },
    Form {
        name: "phi_recomputed",
        primal: s5_phi_recomputed,
        generated: s5_phi_recomputed_grad,
    },
];

// ---------------------------------------------------------------------------------------
// S3, `up`: for i in 0..len - 1, reading x[i] and x[i + 1] (the README's loop).

/// S3 `up`, `let n`, `powi`, one expression.
#[differentiable]
pub fn s3_up_n_powi_expr(x: &[f64]) -> f64 {
    let n = x.len();
    let mut sum = 0.0;
    for i in 0..n - 1 {
        sum += (1.0 - x[i]).powi(2) + 100.0 * (x[i + 1] - x[i].powi(2)).powi(2);
    }
    sum
}

/// S3 `up`, `let n`, `powi`, named lets.
#[differentiable]
pub fn s3_up_n_powi_lets(x: &[f64]) -> f64 {
    let n = x.len();
    let mut sum = 0.0;
    for i in 0..n - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i].powi(2);
        sum += a.powi(2) + 100.0 * b.powi(2);
    }
    sum
}

/// S3 `up`, `let n`, `a * a`, one expression.
#[differentiable]
pub fn s3_up_n_mul_expr(x: &[f64]) -> f64 {
    let n = x.len();
    let mut sum = 0.0;
    for i in 0..n - 1 {
        sum += (1.0 - x[i]) * (1.0 - x[i])
            + 100.0 * (x[i + 1] - x[i] * x[i]) * (x[i + 1] - x[i] * x[i]);
    }
    sum
}

/// S3 `up`, `let n`, `a * a`, named lets.
#[differentiable]
pub fn s3_up_n_mul_lets(x: &[f64]) -> f64 {
    let n = x.len();
    let mut sum = 0.0;
    for i in 0..n - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        sum += a * a + 100.0 * b * b;
    }
    sum
}

/// S3 `up`, `x.len()` in the range, `powi`, one expression: the README's form.
#[differentiable]
pub fn s3_up_len_powi_expr(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for i in 0..x.len() - 1 {
        sum += (1.0 - x[i]).powi(2) + 100.0 * (x[i + 1] - x[i].powi(2)).powi(2);
    }
    sum
}

/// S3 `up`, `x.len()` in the range, `powi`, named lets.
#[differentiable]
pub fn s3_up_len_powi_lets(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i].powi(2);
        sum += a.powi(2) + 100.0 * b.powi(2);
    }
    sum
}

/// S3 `up`, `x.len()` in the range, `a * a`, one expression.
#[differentiable]
pub fn s3_up_len_mul_expr(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for i in 0..x.len() - 1 {
        sum += (1.0 - x[i]) * (1.0 - x[i])
            + 100.0 * (x[i + 1] - x[i] * x[i]) * (x[i + 1] - x[i] * x[i]);
    }
    sum
}

/// S3 `up`, `x.len()` in the range, `a * a`, named lets.
#[differentiable]
pub fn s3_up_len_mul_lets(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        sum += a * a + 100.0 * b * b;
    }
    sum
}

// ---------------------------------------------------------------------------------------
// S3, `down`: for i in 1..len, reading x[i - 1] and x[i] (`down_n_powi_expr` is
// `s3_rosenbrock`).

/// S3 `down`, `let n`, `powi`, named lets.
#[differentiable]
pub fn s3_down_n_powi_lets(x: &[f64]) -> f64 {
    let n = x.len();
    let mut sum = 0.0;
    for i in 1..n {
        let a = 1.0 - x[i - 1];
        let b = x[i] - x[i - 1].powi(2);
        sum += a.powi(2) + 100.0 * b.powi(2);
    }
    sum
}

/// S3 `down`, `let n`, `a * a`, one expression.
#[differentiable]
pub fn s3_down_n_mul_expr(x: &[f64]) -> f64 {
    let n = x.len();
    let mut sum = 0.0;
    for i in 1..n {
        sum += (1.0 - x[i - 1]) * (1.0 - x[i - 1])
            + 100.0 * (x[i] - x[i - 1] * x[i - 1]) * (x[i] - x[i - 1] * x[i - 1]);
    }
    sum
}

/// S3 `down`, `let n`, `a * a`, named lets.
#[differentiable]
pub fn s3_down_n_mul_lets(x: &[f64]) -> f64 {
    let n = x.len();
    let mut sum = 0.0;
    for i in 1..n {
        let a = 1.0 - x[i - 1];
        let b = x[i] - x[i - 1] * x[i - 1];
        sum += a * a + 100.0 * b * b;
    }
    sum
}

/// S3 `down`, `x.len()` in the range, `powi`, one expression.
#[differentiable]
pub fn s3_down_len_powi_expr(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for i in 1..x.len() {
        sum += (1.0 - x[i - 1]).powi(2) + 100.0 * (x[i] - x[i - 1].powi(2)).powi(2);
    }
    sum
}

/// S3 `down`, `x.len()` in the range, `powi`, named lets.
#[differentiable]
pub fn s3_down_len_powi_lets(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for i in 1..x.len() {
        let a = 1.0 - x[i - 1];
        let b = x[i] - x[i - 1].powi(2);
        sum += a.powi(2) + 100.0 * b.powi(2);
    }
    sum
}

/// S3 `down`, `x.len()` in the range, `a * a`, one expression.
#[differentiable]
pub fn s3_down_len_mul_expr(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for i in 1..x.len() {
        sum += (1.0 - x[i - 1]) * (1.0 - x[i - 1])
            + 100.0 * (x[i] - x[i - 1] * x[i - 1]) * (x[i] - x[i - 1] * x[i - 1]);
    }
    sum
}

/// S3 `down`, `x.len()` in the range, `a * a`, named lets.
#[differentiable]
pub fn s3_down_len_mul_lets(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for i in 1..x.len() {
        let a = 1.0 - x[i - 1];
        let b = x[i] - x[i - 1] * x[i - 1];
        sum += a * a + 100.0 * b * b;
    }
    sum
}

// ---------------------------------------------------------------------------------------
// S4: the sign of erf as an early `return` (`s4_erf` has it as an `if`/`else` expression).

/// `s4_erf` with its sign as an early `return` for negative arguments.
#[differentiable]
pub fn s4_sign_return_erf(x: f64) -> f64 {
    let z = if x < 0.0 { -x } else { x };
    let t = 1.0 / (1.0 + 0.3275911 * z);
    let poly = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let e = 1.0 - poly * (-(z * z)).exp();
    if x < 0.0 {
        return -e;
    }
    e
}

/// `s4_norm_cdf` over `s4_sign_return_erf`.
#[differentiable]
pub fn s4_sign_return_norm_cdf(x: f64) -> f64 {
    0.5 * (1.0 + s4_sign_return_erf(x * std::f64::consts::FRAC_1_SQRT_2))
}

/// S4 with erf's sign as an early `return`.
#[differentiable]
pub fn s4_sign_return(s: f64, k: f64, r: f64, sigma: f64, t: f64) -> f64 {
    let vol = sigma * t.sqrt();
    let d1 = ((s / k).ln() + (r + 0.5 * sigma * sigma) * t) / vol;
    let d2 = d1 - vol;
    s * s4_sign_return_norm_cdf(d1) - k * (-r * t).exp() * s4_sign_return_norm_cdf(d2)
}

// ---------------------------------------------------------------------------------------
// S5: the cumulative angle recomputed for each joint (`s5_arm` carries it).

/// S5 with phi_k = theta_0 + ... + theta_k summed afresh for each joint k.
#[differentiable]
pub fn s5_phi_recomputed(theta: &[f64; 6]) -> f64 {
    let mut x = 0.0;
    let mut y = 0.0;
    for k in 0..6 {
        let mut phi = 0.0;
        for j in 0..=k {
            phi += theta[j];
        }
        x += S5_LINKS[k] * phi.cos();
        y += S5_LINKS[k] * phi.sin();
    }
    (x - 1.5).powi(2) + (y - 1.2).powi(2)
}
