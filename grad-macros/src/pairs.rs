//! `sin` and `cos` of the same value in one block: the forward sweep computes both with one
//! `sin_cos` (at the first of the two), and each one's backward rule reads the other's value
//! instead of evaluating the other function again (`d sin x = cos x dx`).

use crate::ir::*;
use std::collections::HashMap;

/// The pairs of a function, each value with its partner.
#[derive(Clone, Debug, Default)]
pub struct Pairs {
    partner: HashMap<VarId, VarId>,
    /// The first of each pair in its block, whose `let` computes both.
    first: Vec<VarId>,
}

impl Pairs {
    pub fn of(func: &Func) -> Self {
        let mut p = Pairs::default();
        p.block(func, &func.body);
        p
    }

    fn block(&mut self, func: &Func, b: &Block) {
        let mut seen: HashMap<(&'static str, VarId), VarId> = HashMap::new();
        for s in &b.stmts {
            match s {
                Stmt::Let {
                    var,
                    op: Op::Prim { prim, args, .. },
                } if func.vars[*var].active
                    && prim.generic.is_none()
                    && matches!(prim.marker, "Sin" | "Cos") =>
                {
                    let Some(Operand::Var(x)) = args.first() else {
                        continue;
                    };
                    let other = if prim.marker == "Sin" { "Cos" } else { "Sin" };
                    match seen.remove(&(other, *x)) {
                        Some(first) if !self.partner.contains_key(&first) => {
                            self.partner.insert(first, *var);
                            self.partner.insert(*var, first);
                            self.first.push(first);
                        }
                        _ => {
                            seen.entry((prim.marker, *x)).or_insert(*var);
                        }
                    }
                }
                Stmt::Let { .. } | Stmt::Effect { .. } => {}
                Stmt::If { arms, .. } => arms.iter().for_each(|a| self.block(func, a)),
                Stmt::Match { arms, .. } => arms.iter().for_each(|a| self.block(func, &a.body)),
                Stmt::For { body, .. } => self.block(func, body),
                Stmt::While {
                    cond_block, body, ..
                } => {
                    self.block(func, cond_block);
                    self.block(func, body);
                }
            }
        }
    }

    /// The value computed with `v` (`cos x` for `sin x`, and back).
    pub fn partner(&self, v: VarId) -> Option<VarId> {
        self.partner.get(&v).copied()
    }

    /// Whether `v`'s `let` computes its partner as well.
    pub fn is_first(&self, v: VarId) -> bool {
        self.first.contains(&v)
    }
}
