//! Desugaring: surface syntax that lowering does not know, rewritten into syntax it does,
//! before lowering. `first()`, `last()`, `split_at` and `mem::swap` become element reads,
//! sub-slices and assignments (`shorthands.rs`); iterators become index loops (`iter.rs`);
//! `break`, `continue`, `loop` and early `return` become flags and `while` loops
//! (`exits.rs`). The rewrites keep the user's tokens and spans, so every later error still
//! points at what the user wrote; the function itself is emitted as written, only its
//! derivatives see the rewritten body.

mod exits;
mod iter;
pub mod revolve;
mod shorthands;

pub use exits::first_return;

use crate::ast::Function;
use crate::ctxt::Ctxt;
use proc_macro2::Span;
use syn::Ident;

/// The body that lowering reads.
pub fn body(cx: &mut Ctxt, f: &Function) -> syn::Block {
    let mut block = (*f.item.block).clone();
    let mut fresh = Fresh(0);
    revolve::check(cx, &block);
    shorthands::rewrite(&mut fresh, &mut block);
    iter::rewrite(cx, f, &mut fresh, &mut block);
    exits::rewrite(cx, f, &mut fresh, &mut block);
    block
}

/// Names for the locals the rewrites introduce. They are ordinary (unhygienic) names, since
/// lowering renames every local anyway; the `__grad_` prefix keeps them from meeting a
/// user's.
pub struct Fresh(usize);

impl Fresh {
    pub fn name(&mut self, what: &str) -> Ident {
        self.0 += 1;
        Ident::new(&format!("__grad_{what}{}", self.0), Span::call_site())
    }
}
