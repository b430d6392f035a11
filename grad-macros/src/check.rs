//! The rules of the differentiable subset that reject a construct outright, one function
//! each, with the rule in a comment above it.

use crate::ctxt::Ctxt;
use crate::diag;
use syn::Expr;

/// Reports an expression outside the subset, spanned on the token the user must change.
pub fn unsupported_expr(cx: &mut Ctxt, e: &Expr) {
    match e {
        Expr::Closure(c) => no_closures(cx, c),
        Expr::Loop(l) => no_loop(cx, l),
        Expr::Break(b) => cx.error(b.break_token.span, diag::BREAK),
        Expr::Continue(c) => cx.error(c.continue_token.span, diag::CONTINUE),
        Expr::Unsafe(u) => cx.error(u.unsafe_token.span, diag::UNSAFE),
        Expr::Async(a) => cx.error(a.async_token.span, diag::ASYNC_EXPR),
        Expr::Await(a) => cx.error_at(&a.await_token, diag::ASYNC_EXPR),
        Expr::Try(t) => no_try(cx, t),
        Expr::Return(r) => cx.error(r.return_token.span, diag::RETURN_EARLY),
        Expr::Macro(m) => cx.error_at(&m.mac.path, diag::MACRO_EXPR),
        Expr::Range(r) => cx.error_at(r, diag::RANGE_EXPR),
        Expr::Struct(s) => cx.error_at(&s.path, diag::STRUCT_LIT),
        Expr::Let(l) => cx.error(l.let_token.span, diag::IF_LET),
        Expr::Const(c) => cx.error(c.const_token.span, diag::CONST_BLOCK),
        other => cx.error_at(other, diag::UNSUPPORTED_EXPR),
    }
}

// Closures capture and may be called any number of times; their derivative would need a
// tape. A closure is rejected; a separate #[differentiable] function is the way.
fn no_closures(cx: &mut Ctxt, c: &syn::ExprClosure) {
    // The head `|a, b|`, from its first to its last token: `Span::join` is nightly-only
    // and gives `None` on stable, which left only the first `|` underlined.
    let (or1, or2) = (&c.or1_token, &c.or2_token);
    let head = quote::quote!(#or1 #or2);
    cx.error_at(&head, diag::CLOSURE);
}

// `loop` has no condition the reverse sweep could replay without `break`; `while` does.
fn no_loop(cx: &mut Ctxt, l: &syn::ExprLoop) {
    cx.error(l.loop_token.span, diag::LOOP);
}

// `?` leaves the function early with an error, which has no derivative.
fn no_try(cx: &mut Ctxt, t: &syn::ExprTry) {
    cx.error_at(&t.question_token, diag::TRY);
}
