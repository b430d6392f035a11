//! Temporaries handed to the reduction that ends them.
//!
//! ```text
//! (a * 5.0).sum()
//! ```
//!
//! The reverse of `Σ t` makes `∂t`, a tensor of `t`'s shape, from the scalar cotangent, and
//! reads nothing of `t` but its shape. Where `t` is a temporary that nothing else reads,
//! forward or backward, it is dead by then, and its buffer is the size `∂t` needs: the
//! reverse passes `t` itself (the runtime's `Linear::bwd_from`), which fills it, so the
//! gradient makes one allocation fewer than a hand-written one that calls `Tensor::full`.

use crate::activity::{Analysis, Form, op_inputs, stmt_reads};
use crate::ir::*;

/// The reductions whose reverse may be given their input.
const REDUCTIONS: &[&str] = &["Sum", "Mean"];

/// The `Σ t` and `mean(t)` at the top of the function body whose input `t` may be handed
/// to their reverse: `t` is a top-level operation's owned result, read by this reduction
/// alone (once) and not returned, and the reverse sweep needs only its shape.
pub fn donors(an: &Analysis) -> Vec<VarId> {
    let func = an.func;
    let mut reads = Vec::new();
    for s in &func.body.stmts {
        stmt_reads(s, op_inputs, &mut reads);
    }
    reads.extend(func.ret.var());
    let needs = an.block_needs(&func.body);
    let owned_temporary = |t: VarId| {
        !func.vars[t].is_ref
            && func
                .body
                .stmts
                .iter()
                .any(|s| matches!(s, Stmt::Let { var, op: Op::Prim { .. } } if *var == t))
    };
    func.body
        .stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Let {
                var,
                op: Op::Prim { prim, args, .. },
            } if prim.kind == PrimKind::Linear && REDUCTIONS.contains(&prim.marker) => {
                let [Operand::Var(t)] = args[..] else {
                    return None;
                };
                let only_read = reads.iter().filter(|&&r| r == t).count() == 1;
                let shape_only = needs.0.iter().all(|&(v, f)| v != t || f == Form::Shape);
                (owned_temporary(t) && only_read && shape_only).then_some(*var)
            }
            _ => None,
        })
        .collect()
}
