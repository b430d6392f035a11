//! Element cotangents stored instead of added.
//!
//! ```text
//! let dot = w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
//! ```
//!
//! The reverse of a loop that reads `w[i]` at its index adds each iteration's cotangent to
//! `∂w[i]`: a load, an addition and a store per element of a row just zeroed. Where the
//! row is a zero made for this loop, the loop is not inside another (whose reverse would
//! run it again over the same row), and `w[i]` is the body's only read of `w`, each element
//! receives exactly one contribution, into a zero: it is stored. Its bits are those of the
//! sum but for a `-0.0` cotangent, which the sum turned into `0.0`.

use crate::activity::{op_inputs, stmt_reads};
use crate::ir::*;

/// The reads `w[index]` in `body` whose cotangent may be stored in `w`'s adjoint: `w`'s
/// only read in the body, at the loop's own index, with `fresh(w)` (its adjoint a zero row
/// made for this loop, and the loop not inside another).
pub fn stored(body: &Block, index: VarId, fresh: &dyn Fn(VarId) -> bool) -> Vec<VarId> {
    let mut reads = Vec::new();
    for s in &body.stmts {
        stmt_reads(s, op_inputs, &mut reads);
    }
    body.stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Let {
                var,
                op: Op::Project { base, path, .. },
            } if matches!(path.as_slice(), [Proj::Index(Operand::Var(i))] if *i == index)
                && fresh(*base)
                && reads.iter().filter(|&&r| r == *base).count() == 1 =>
            {
                Some(*var)
            }
            _ => None,
        })
        .collect()
}
