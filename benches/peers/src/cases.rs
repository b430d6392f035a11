//! The cases, defined once in the main repo and included here: the scalar cases S1..S5,
//! the tensor cases T1..T4 with the tape they need, and each case's inputs by name.
//!
//! Not every item of the shared files is used here (the repo's own tape variants are
//! measured by its criterion benches, not in this comparison).

#[allow(dead_code)]
#[path = "../../scalar/cases.rs"]
pub mod scalar;

/// The tensor cases and, beside them, the tape they use (`super::tape`).
pub mod tensor;

/// The case names in the order of the table.
pub const ALL: [&str; 9] = ["S1", "S2", "S3", "S4", "S5", "T1", "T2", "T3", "T4"];

/// Scalar cases run at one thread only.
pub fn is_scalar(case: &str) -> bool {
    case.starts_with('S')
}
