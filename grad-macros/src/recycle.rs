//! Recycled adjoint rows: a loop that builds a new value each iteration and carries it.
//!
//! ```text
//! for _ in 0..steps {
//!     let mut next = vec![0.0; n];
//!     for i in 1..n - 1 { next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]); }
//!     c = next;
//! }
//! ```
//!
//! Each reverse iteration makes a zero adjoint for `c` as the iteration found it, and lets
//! go of `next`'s: once the element writes have taken their pieces, what is left of it
//! belongs to `vec![0.0; n]`, which nothing differentiates. The two are adjoints of one
//! type (`c = next`), so the reverse keeps the one it lets go of in a slot and makes the
//! next iteration's zero adjoint in it (the runtime's `recycle` and `zeros_reusing`: a
//! `Vec` of another length is cut or extended, a tensor of another shape replaced): a
//! buffer zeroed where there was a free and an allocation, as a hand-written adjoint swaps
//! two rows. A row built by pushes is let go of empty, after the pushing loop's reverse has
//! popped it, and keeps its capacity.

use crate::ir::*;

/// The value whose adjoint an iteration of the loop lets go of, where it has the type of
/// the carried value `c`'s: walking back from the iteration's last value of `c` through
/// element writes, copies and inner loops' carried values, the first inactive value, where
/// it is the base of a write or an inner loop's starting value (whose reverse hands the
/// adjoint to it, and so drops it). None where the walk leaves the body or meets anything
/// else.
pub fn dropped(body: &Block, c: &Carried, active: &dyn Fn(VarId) -> bool) -> Option<VarId> {
    let Operand::Var(mut v) = c.next else {
        return None;
    };
    let mut handed = false;
    while active(v) {
        (v, handed) = body.stmts.iter().find_map(|s| match s {
            Stmt::Let { var, op } if *var == v => match op {
                Op::Write { base, .. } => Some((*base, true)),
                Op::Use(Operand::Var(x)) => Some((*x, false)),
                _ => None,
            },
            Stmt::For { carried, .. } | Stmt::While { carried, .. } => carried
                .iter()
                .find(|ic| ic.out == v)
                .and_then(|ic| match ic.init {
                    Operand::Var(x) => Some((x, true)),
                    Operand::Const(_) => None,
                }),
            _ => None,
        })?;
    }
    let defined_here = body
        .stmts
        .iter()
        .any(|s| matches!(s, Stmt::Let { var, .. } if *var == v));
    (handed && defined_here).then_some(v)
}
