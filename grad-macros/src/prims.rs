//! The macro's one table of primitives: which method, operator or function maps to which
//! runtime rule, and which methods have non-differentiated results.

use crate::ir::PrimKind;

/// A primitive reached by a method call `x.m(...)` (or `f64::m(x, ...)`).
pub struct MethodPrim {
    pub method: &'static str,
    pub marker: &'static str,
    pub kind: PrimKind,
    /// Non-differentiated arguments after the receiver, given to the marker (`Powi(n)`).
    pub extra: usize,
    /// What the non-differentiated arguments are, for messages.
    pub extra_what: &'static str,
}

macro_rules! method_prims {
    ($($method:literal => $marker:literal $kind:ident $(($extra:literal, $what:literal))?;)*) => {
        pub const METHOD_PRIMS: &[MethodPrim] = &[$(MethodPrim {
            method: $method,
            marker: $marker,
            kind: PrimKind::$kind,
            extra: method_prims!(@or 0 $(, $extra)?),
            extra_what: method_prims!(@or "" $(, $what)?),
        }),*];
    };
    (@or $default:literal) => { $default };
    (@or $default:literal, $given:literal) => { $given };
}

method_prims! {
    "exp" => "Exp" Unary;
    "ln" => "Ln" Unary;
    "sqrt" => "Sqrt" Unary;
    "sin" => "Sin" Unary;
    "cos" => "Cos" Unary;
    "tan" => "Tan" Unary;
    "tanh" => "Tanh" Unary;
    "abs" => "Abs" Unary;
    "sigmoid" => "Sigmoid" Unary;
    "relu" => "Relu" Unary;
    "recip" => "Recip" Unary;
    "exp2" => "Exp2" Unary;
    "log2" => "Log2" Unary;
    "log10" => "Log10" Unary;
    "sinh" => "Sinh" Unary;
    "cosh" => "Cosh" Unary;
    "asin" => "Asin" Unary;
    "acos" => "Acos" Unary;
    "atan" => "Atan" Unary;
    "cbrt" => "Cbrt" Unary;
    "ln_1p" => "Ln1p" Unary;
    "exp_m1" => "ExpM1" Unary;
    "floor" => "Floor" Unary;
    "ceil" => "Ceil" Unary;
    "round" => "Round" Unary;
    "trunc" => "Trunc" Unary;
    "signum" => "Signum" Unary;
    "powi" => "Powi" Unary (1, "integer exponent");
    "clamp" => "Clamp" Unary (2, "bounds");
    "powf" => "Powf" Binary;
    "max" => "Max" Binary;
    "min" => "Min" Binary;
    "atan2" => "Atan2" Binary;
    "hypot" => "Hypot" Binary;
    // Tensors (and, where nalgebra has them, its matrices).
    "sum" => "Sum" Linear;
    "mean" => "Mean" Linear;
    "sum_axis" => "SumAxis" Linear (1, "axis");
    "mean_axis" => "MeanAxis" Linear (1, "axis");
    "max_axis" => "MaxAxis" Unary (1, "axis");
    "softmax" => "Softmax" Unary (1, "axis");
    "log_softmax" => "LogSoftmax" Unary (1, "axis");
    "matmul" => "Matmul" Binary;
    "dot" => "Dot" Binary;
    "t" => "Transpose" Linear;
    "transpose" => "Transpose" Linear;
    "reshape" => "Reshape" Linear (1, "shape");
    "get" => "Get" Linear (1, "index");
    "narrow" => "Narrow" Linear (3, "axis, start and length");
    "index_select" => "IndexSelect" Linear (2, "axis and indices");
    // nalgebra's matrices and vectors only.
    "norm" => "Norm" Unary;
    "norm_squared" => "NormSquared" Unary;
    "cross" => "Cross" Binary;
    "component_mul" => "ComponentMul" Binary;
}

pub fn method_prim(name: &str) -> Option<&'static MethodPrim> {
    METHOD_PRIMS.iter().find(|p| p.method == name)
}

/// Methods whose result is not differentiated (integers, booleans, shapes).
pub const NONDIFF_METHODS: &[&str] = &[
    "len",
    "is_empty",
    "shape",
    "ndim",
    "nrows",
    "ncols",
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_normal",
    "is_subnormal",
    "is_sign_positive",
    "is_sign_negative",
    "argmax",
    "argmin",
    "to_bits",
    "partial_cmp",
    "total_cmp",
    "classify",
    // Iterator questions whose answers are integers or booleans.
    "count",
    "any",
    "all",
    "position",
    "rposition",
];

/// Methods that change a `Vec` or slice in place with no rewrite in differentiable code: each
/// is refused by name, with the ones that work.
pub const UNSUPPORTED_MUTATORS: &[&str] = &[
    "retain_mut",
    "dedup_by",
    "dedup_by_key",
    "drain",
    "split_off",
    "resize_with",
    "append",
    "rotate_left",
    "rotate_right",
    "sort",
    "sort_unstable",
    "sort_by_key",
    "sort_unstable_by_key",
    "sort_by_cached_key",
    "pop",
    "extend",
];

/// Methods that make an iterator: in differentiable code an iterator is rewritten where it
/// is consumed (a `for`, or a chain ending in `sum`, `product` or `fold`), so one left over
/// is an iterator the body keeps, which the macro names.
pub const ITER_METHODS: &[&str] = &[
    "iter",
    "into_iter",
    "iter_mut",
    "windows",
    "chunks",
    "map",
    "filter",
    "zip",
    "enumerate",
    "skip",
    "take",
    "rev",
    "step_by",
    "copied",
    "cloned",
    "collect",
];

/// Float methods that exist but have no rule: calling one on a differentiated value is an error
/// the macro can name, rather than a missing `_vjp`.
pub const NO_RULE_METHODS: &[&str] = &[
    "to_degrees",
    "to_radians",
    "rem_euclid",
    "div_euclid",
    "fract",
    "copysign",
    "log",
    "sin_cos",
    "asinh",
    "acosh",
    "atanh",
    "powi_checked",
];

/// The free function that stops gradients.
pub const STOP_GRADIENT: &str = "stop_gradient";

/// Statement macros that run in the forward pass only.
pub const EFFECT_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "println",
    "print",
    "eprintln",
    "eprint",
];

pub fn is_integer_type(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.get_ident().is_some_and(|id| {
        matches!(id.to_string().as_str(),
            "u8" | "u16" | "u32" | "u64" | "u128" | "usize"
            | "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "bool" | "char")
    }))
}

pub fn is_float_type(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.get_ident().is_some_and(|id| id == "f32" || id == "f64"))
}
