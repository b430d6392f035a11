//! The expansion core never panics and always finishes, whatever tokens it is given.
//!
//! Every case calls `crate::expand::differentiable` on a thread of its own (so that a hang
//! fails the test instead of stalling it) under `catch_unwind`, and checks the time it
//! took. Hand-written malformed inputs must also come back as `compile_error!`s. Random
//! cases come from proptest: token soup from a vocabulary of Rust tokens, mutations
//! (truncation, deletion, duplication, swap, insertion) of valid differentiable functions,
//! and functions from a small grammar of the subset and its neighbours. Their
//! number is `GRAD_FUZZ_CASES` (default 256 per strategy: the module runs in a few seconds
//! in debug).

mod inputs;

use inputs::*;
use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use proptest::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The time one expansion may take.
const BUDGET: Duration = Duration::from_secs(1);
/// How long to wait before calling an expansion hung.
const HANG: Duration = Duration::from_secs(20);
/// The stack of the expanding thread: what rustc gives its main thread.
const STACK: usize = 8 << 20;

/// What one expansion did.
#[derive(Debug)]
enum Outcome {
    /// The inputs do not lex as Rust tokens, so rustc could never pass them.
    Unlexable,
    /// The expansion returned these tokens, rendered, after this long.
    Done(String, Duration),
    /// The expansion panicked with this message.
    Panicked(String),
}

/// Expands `#[differentiable(args)] item` from source text.
fn expand(args_text: &str, item_text: &str) -> Outcome {
    let (args, item) = (args_text.to_owned(), item_text.to_owned());
    let (tx, rx) = mpsc::channel();
    // TokenStreams are not Send: lex and expand on the worker, send back text.
    let spawned = std::thread::Builder::new()
        .name("expand".into())
        .stack_size(STACK)
        .spawn(move || {
            let lexed = (args.parse::<TokenStream>(), item.parse::<TokenStream>());
            let (Ok(args), Ok(item)) = lexed else {
                let _ = tx.send(Outcome::Unlexable);
                return;
            };
            let start = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| {
                crate::expand::differentiable(args, item)
            }));
            let outcome = match result {
                Ok(out) => Outcome::Done(out.to_string(), start.elapsed()),
                Err(payload) => Outcome::Panicked(panic_message(&*payload)),
            };
            let _ = tx.send(outcome);
        });
    if let Err(e) = spawned {
        panic!("cannot spawn the expanding thread: {e}");
    }
    match rx.recv_timeout(HANG) {
        Ok(outcome) => outcome,
        Err(_) => panic!(
            "expansion did not finish within {HANG:?}\nargs: {}\nitem: {}",
            truncate(args_text),
            truncate(item_text)
        ),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

fn truncate(s: &str) -> String {
    const MAX: usize = 400;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &s[..end], s.len())
}

/// Expands and fails the test on a panic or on an expansion over budget. Returns the output,
/// or `None` when the input does not lex.
fn check(args: &str, item: &str) -> Option<String> {
    match expand(args, item) {
        Outcome::Unlexable => None,
        Outcome::Panicked(msg) => panic!(
            "expansion panicked: {msg}\nargs: {}\nitem: {}",
            truncate(args),
            truncate(item)
        ),
        Outcome::Done(out, took) => {
            assert!(
                took < BUDGET,
                "expansion took {took:?}\nargs: {}\nitem: {}",
                truncate(args),
                truncate(item)
            );
            Some(out)
        }
    }
}

/// Expands inputs the macro must reject: no panic, and a `compile_error!` in each output.
/// Reports every input that was accepted, not only the first.
fn check_all_rejected<'a>(inputs: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let mut accepted = Vec::new();
    for (args, item) in inputs {
        let Some(out) = check(args, item) else {
            // Unbalanced groups do not lex: rustc never calls the macro with them.
            continue;
        };
        if !out.contains("compile_error") {
            accepted.push(format!("#[differentiable({args})] {item}"));
        }
    }
    assert!(
        accepted.is_empty(),
        "accepted without an error:\n{}",
        accepted.join("\n")
    );
}

// ---- hand-written inputs (in `inputs`) -------------------------------------------------

#[test]
fn not_a_function_is_rejected() {
    check_all_rejected(NOT_A_FUNCTION.iter().map(|item| ("", *item)));
}

/// `impl` blocks the macro must reject: arguments on the block, a marked method that is
/// not differentiable, a trait impl whose parameter the inherent impl could not name.
const REJECTED_IMPLS: &[(&str, &str)] = &[
    (
        "wrt(self)",
        "impl S { #[differentiable] fn f(&self) -> f64 { self.w } }",
    ),
    ("reverse", "impl Tr for S {}"),
    (
        "",
        "impl S { #[differentiable] fn f(&self) -> f64 { let r = 0..3; self.w } }",
    ),
    (
        "",
        "impl Tr for S { #[differentiable(wrt(zz))] fn f(&self) -> f64 { self.w } }",
    ),
    (
        "",
        "impl S { #[differentiable = 1] fn f(&self) -> f64 { self.w } }",
    ),
    (
        "",
        "impl<T: Real> Tr<T> for S { #[differentiable] fn f(&self, x: T) -> T { x } }",
    ),
];

#[test]
fn bad_impl_blocks_are_rejected() {
    check_all_rejected(REJECTED_IMPLS.iter().copied());
}

#[test]
fn trait_impl_derivatives_go_into_an_inherent_impl() {
    let item = "impl<T: Real> Tr for S<T> where T: Copy { \
        #[differentiable(wrt(self))] fn f(&self, x: T) -> T { self.w * x } \
        fn g(&self) {} }";
    let out = check("", item).unwrap_or_default();
    assert!(!out.contains("compile_error"), "{out}");
    let inherent = out
        .find("impl < T : Real > S < T > where T : Copy")
        .expect(&out);
    let trait_impl = out.find("impl < T : Real > Tr for S < T >").expect(&out);
    let (f, f_grad) = (
        out.find("fn f (").expect(&out),
        out.find("fn f_grad").expect(&out),
    );
    assert!(trait_impl < f && f < inherent && inherent < f_grad, "{out}");
    assert!(out.contains("pub fn f_vjp"), "{out}");
    assert!(!out.contains("# [differentiable"), "{out}");
}

#[test]
fn a_lone_method_of_a_trait_impl_is_an_error_without_derivatives() {
    let item: TokenStream = "fn loss(&self, x: f64) -> f64 { self.w * x }"
        .parse()
        .unwrap();
    let args: TokenStream = "wrt(self)".parse().unwrap();
    let out = crate::expand::differentiable_at(args.clone(), item, &|| true).to_string();
    assert!(
        out.contains("compile_error") && out.contains("fn loss"),
        "{out}"
    );
    assert!(!out.contains("loss_grad"), "{out}");
    // A method with a visibility is never in a trait impl: the site is not even asked.
    let item: TokenStream = "pub fn loss(&self, x: f64) -> f64 { self.w * x }"
        .parse()
        .unwrap();
    let out = crate::expand::differentiable_at(args, item, &|| panic!("asked")).to_string();
    assert!(
        out.contains("loss_grad") && !out.contains("compile_error"),
        "{out}"
    );
}

#[test]
fn a_function_that_calls_itself_recurses_through_a_boxed_pullback() {
    let item = "fn fact(x: f64, n: u32) -> f64 { if n == 0 { 1.0 } else { x * fact(x, n - 1) } }";
    let out = check("", item).unwrap_or_default();
    assert!(!out.contains("compile_error"), "{out}");
    // The helper, its recursive call, and `fact_vjp` calling it.
    assert_eq!(out.matches("__grad_fact_vjp_boxed").count(), 3, "{out}");
    assert!(out.contains("__grad_fact_vjp_boxed (x , n)"), "{out}");
    // A method of the same name on another value is another type's: not recursion.
    let item = "fn loss(&self, x: f64) -> f64 { self.inner.loss(x) * x }";
    let out = check("wrt(self)", item).unwrap_or_default();
    assert!(!out.contains("boxed"), "{out}");
    let item =
        "fn loss(&self, x: f64, n: u32) -> f64 { if n == 0 { x } else { self.loss(x, n - 1) } }";
    let out = check("wrt(self)", item).unwrap_or_default();
    assert!(
        out.contains("Self :: __grad_loss_vjp_boxed (self , x , n)"),
        "{out}"
    );
}

#[test]
fn unsupported_functions_are_rejected() {
    check_all_rejected(REJECTED_FUNCTIONS.iter().map(|item| ("", *item)));
}

/// `jacobian` where there is not exactly one differentiated parameter, or on a scalar, a
/// tuple or a matrix, or with respect to `self`.
#[test]
fn misplaced_jacobians_are_rejected() {
    check_all_rejected([
        (
            "jacobian",
            "fn f(x: &[f64], y: &[f64]) -> Vec<f64> { vec![x[0], y[0]] }",
        ),
        ("jacobian", "fn f(x: &[f64]) -> f64 { x[0] }"),
        ("jacobian", "fn f(x: &[f64]) -> (f64, f64) { (x[0], x[1]) }"),
        (
            "jacobian",
            "fn f(m: &DMatrix<f64>) -> Vec<f64> { vec![m[(0, 0)]] }",
        ),
        (
            "jacobian, wrt(self)",
            "fn f(&self) -> Vec<f64> { vec![self.x] }",
        ),
        ("jacobian", "fn f(n: usize) -> Vec<f64> { vec![1.0; n] }"),
    ]);
    let out = check(
        "wrt(x), jacobian",
        "fn f(x: &[f64], y: &[f64]) -> Vec<f64> { vec![x[0] * y[0]] }",
    )
    .unwrap_or_default();
    assert!(
        out.contains("fn f_jacobian") && !out.contains("compile_error"),
        "{out}"
    );
}

/// `order = 2` where `f_hvp` cannot be written yet, or not at all.
#[test]
fn misplaced_second_order_is_rejected() {
    check_all_rejected([
        ("order = 2", "fn f(x: f64) -> Vec<f64> { vec![x] }"),
        (
            "order = 2",
            "fn f(x: &[Option<f64>]) -> f64 { x[0].unwrap() }",
        ),
        ("order = 2", "fn f(p: Mlp<f64>) -> f64 { p.x }"),
        ("order = 2", "fn f(x: Option<f64>) -> f64 { x.unwrap() }"),
        ("order = 2", "fn f<T: Real>(x: T) -> T { x }"),
        ("order = 2, wrt(self)", "fn f(&self, x: f64) -> f64 { x }"),
        ("order = 2", "fn f(x: f64, y: f32) -> f64 { x + y as f64 }"),
    ]);
    let out = check(
        "order = 2, wrt(x)",
        "fn f(x: &[f64], y: &[f64], k: usize) -> f64 { x[k] * y[k] * 2.0 }",
    )
    .unwrap_or_default();
    assert!(!out.contains("compile_error"), "{out}");
    for item in [
        "fn f_hvp",
        "fn __f_order2_grad",
        "fn f_grad_vjp",
        "fn f_grad_jvp",
    ] {
        assert!(out.contains(item), "{item}: {out}");
    }
    // Structs, tuples and aliases go through `Dualize`: the copy names the struct's twin,
    // its literals build it through an alias, and `f_hvp` converts and splits through it.
    let out = check(
        "order = 2",
        "fn f(p: &Pt, t: (f64, Vec<f64>)) -> f64 { let q = Pt { x: p.x * t.0, y: p.y }; q.x * q.y }",
    )
    .unwrap_or_default();
    assert!(!out.contains("compile_error"), "{out}");
    for item in [
        "p : & < Pt as :: grad :: __private :: Dualize > :: Over < __GradT >",
        "type __grad_f_order2_struct0 < __GradU > = < Pt as :: grad :: __private :: Dualize > :: Over < __GradU >",
        "__grad_f_order2_struct0 :: < __GradT > {",
        "__grad_rt :: dualize :: < f64 , _ > (p , vp , \"p\")",
        "__grad_rt :: dualize :: < f64 , _ > (& t , & vt , \"t\")",
        "__grad_rt :: dualize_parts :: < f64 , Pt >",
    ] {
        assert!(out.contains(item), "{item}: {out}");
    }
}

/// `checkpoint` on a method taking `self` by value.
#[test]
fn checkpoints_of_methods_and_recursions() {
    // A method taking `self` by value gets its value by calling itself on clones.
    let out = check(
        "wrt(self), checkpoint",
        "fn f(self, x: f64, v: Vec<f64>) -> f64 { self.k * x + v[0] }",
    )
    .unwrap_or_default();
    assert!(!out.contains("compile_error"), "{out}");
    assert!(
        out.contains("Self :: f (__grad_rt :: checkpoint_argument (& self) , x , v)"),
        "{out}"
    );
    // A function that calls itself reruns through its boxed helper.
    let out = check(
        "wrt(x), checkpoint",
        "fn p(x: f64, n: u32) -> f64 { if n == 0 { 1.0 } else { x * p(x, n - 1) } }",
    )
    .unwrap_or_default();
    assert!(!out.contains("compile_error"), "{out}");
    assert!(out.contains("__grad_p_vjp_boxed (x , n)"), "{out}");
    // `&self` and by-value parameters are kept; the value comes from the body as written.
    let out = check(
        "wrt(self, h), checkpoint",
        "fn f(&self, h: Tensor<f64>, k: usize) -> Tensor<f64> { &h * self.w + k as f64 }",
    )
    .unwrap_or_default();
    assert!(!out.contains("compile_error"), "{out}");
    assert!(
        out.contains("fn f_vjp") && out.contains("fn f_jvp"),
        "{out}"
    );
    assert!(out.contains("checkpoint_argument (& h)"), "{out}");
    // (An integer is used again as it is.)
    assert!(!out.contains("checkpoint_argument (& k)"), "{out}");
}

/// `grad::checkpoint` anywhere but as the iterable of a top-level `for` loop without exits
/// or inner loops, or over something not written as a range.
#[test]
fn misplaced_checkpointed_loops_are_rejected() {
    let body = |b: &str| format!("fn f(x: f64, n: usize) -> f64 {{ let mut y = x; {b} y }}");
    let bad = [
        "for _ in grad::checkpoint((0..n).rev(), 4) { y = y * x; }",
        "for _ in grad::checkpoint(0.., 4) { y = y * x; }",
        "for _ in grad::checkpoint(v.iter(), 4) { y = y * x; }",
        "for _ in grad::checkpoint(0..n) { y = y * x; }",
        "for _ in grad::checkpoint() { y = y * x; }",
        "for _ in grad::checkpoint(0..n, 4, 5) { y = y * x; }",
        "for _ in grad::checkpoint(0..n, 4) { if y > 2.0 { break; } y = y * x; }",
        "for _ in grad::checkpoint(0..n, 4) { if y > 2.0 { return y; } y = y * x; }",
        "'a: for _ in 0..2 { for _ in grad::checkpoint(0..n, 4) { continue 'a; } }",
        "for _ in 0..2 { for _ in grad::checkpoint(0..n, 4) { y = y * x; } }",
        "if x > 0.0 { for _ in grad::checkpoint(0..n, 4) { y = y * x; } }",
        "for _ in grad::checkpoint(0..n, 4) { for _ in 0..2 { y = y * x; } }",
        "for _ in grad::checkpoint(0..n, 4) { while y < 1.0 { y = y * x; } }",
        "let r = grad::checkpoint(0..n, 4); for _ in r { y = y * x; }",
        "y = y * grad::checkpoint(0..n, 4).count() as f64;",
    ]
    .map(body);
    check_all_rejected(bad.iter().map(|b| ("wrt(x)", b.as_str())));
    let out = check(
        "wrt(x)",
        &body("for i in grad::checkpoint(1..=n, 0) { if i == 2 { continue; } y = y * x; }"),
    )
    .unwrap_or_default();
    assert!(!out.contains("compile_error"), "{out}");
    assert!(out.contains("revolve :: Schedule :: new"), "{out}");
}

#[test]
fn bad_arguments_are_rejected() {
    let item = "fn f(x: f64, y: f64, n: usize) -> f64 { x * y }";
    check_all_rejected(REJECTED_ARGS.iter().map(|args| (*args, item)));
}

#[test]
fn odd_inputs_return() {
    for (args, item) in ODD_BUT_NOT_REJECTED {
        check(args, item);
    }
}

/// `x + x + ... + x`, `((( x )))`, `-(-(...))`, `x.sin().sin()...`, nested blocks and
/// branches, a long chain of statements: deep recursion in the parser and the lowering.
#[test]
fn deep_nesting_returns() {
    let depth = 64;
    let sum = vec!["x"; depth].join(" + ");
    let parens = format!("{}x{}", "(".repeat(depth), ")".repeat(depth));
    let negs = format!("{}x{}", "-(".repeat(depth), ")".repeat(depth));
    let methods = format!("x{}", ".sin()".repeat(depth));
    let blocks = format!("{}x{}", "{ ".repeat(depth), " }".repeat(depth));
    let ifs = format!(
        "{}x{}",
        "if x > 0.0 { ".repeat(depth),
        " } else { x }".repeat(depth)
    );
    let lets: String = (0..4 * depth)
        .map(|i| format!("let x = x * {i}.0 + x.sin(); "))
        .collect();
    for body in [sum, parens, negs, methods, blocks, ifs] {
        check("", &format!("fn f(x: f64) -> f64 {{ {body} }}"));
    }
    check("", &format!("fn f(x: f64) -> f64 {{ {lets} x }}"));
    let params: String = (0..depth).map(|i| format!("p{i}: f64, ")).collect();
    check("", &format!("fn f({params}) -> f64 {{ p0 }}"));
}

/// Loops inside loops, a few deep, with carried variables at every level.
#[test]
fn nested_loops_return() {
    for depth in 1..=6 {
        check("", &nested_loops(depth));
    }
}

// ---- random inputs --------------------------------------------------------------------

fn cases() -> u32 {
    std::env::var("GRAD_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

/// Leaf tokens that appear in Rust functions, and some that should not.
const VOCABULARY: &[&str] = &[
    "fn",
    "let",
    "mut",
    "if",
    "else",
    "for",
    "in",
    "while",
    "loop",
    "match",
    "return",
    "break",
    "continue",
    "async",
    "await",
    "unsafe",
    "const",
    "impl",
    "self",
    "Self",
    "struct",
    "pub",
    "move",
    "where",
    "as",
    "ref",
    "dyn",
    "crate",
    "super",
    "static",
    "type",
    "use",
    "x",
    "y",
    "z",
    "f",
    "g",
    "n",
    "i",
    "T",
    "f64",
    "f32",
    "usize",
    "bool",
    "Vec",
    "Tensor",
    "wrt",
    "reverse",
    "forward",
    "jacobian",
    "checkpoint",
    "grad",
    "stop_gradient",
    "exp",
    "sin",
    "powi",
    "clamp",
    "len",
    "sum",
    "_",
    "r#x",
    "__grad_t_0",
    "0",
    "1",
    "2.0",
    "1e308",
    "0usize",
    "1.5f32",
    "340282366920938463463374607431768211455",
    "\"s\"",
    "'c'",
    "b'x'",
    "+",
    "-",
    "*",
    "/",
    "%",
    "=",
    "==",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "&&",
    "||",
    "!",
    "&",
    "|",
    "^",
    "<<",
    ">>",
    "+=",
    "-=",
    "*=",
    "/=",
    "%=",
    ".",
    "..",
    "..=",
    ",",
    ";",
    ":",
    "::",
    "->",
    "=>",
    "?",
    "#",
    "@",
    "$",
    "~",
    "'a",
];

/// A random token tree: a leaf, or a delimited group of trees.
fn token_tree() -> impl Strategy<Value = String> {
    let leaf = proptest::sample::select(VOCABULARY).prop_map(str::to_owned);
    leaf.prop_recursive(4, 48, 8, |inner| {
        (0..3usize, proptest::collection::vec(inner, 0..8)).prop_map(|(d, items)| {
            let (open, close) = [("(", ")"), ("[", "]"), ("{", "}")][d];
            format!("{open} {} {close}", items.join(" "))
        })
    })
}

fn token_soup(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(token_tree(), 0..max).prop_map(|v| v.join(" "))
}

/// Valid differentiable functions, with their attribute arguments: seeds for mutation.
const SEEDS: &[(&str, &str)] = &[
    ("", "fn loss(a: f64) -> f64 { a * 5.0 }"),
    (
        "",
        "fn rosen(x: f64, y: f64) -> f64 { let a = 1.0 - x; let b = y - x * x; a * a + 100.0 * b * b }",
    ),
    (
        "",
        "fn rosen_n(x: &[f64]) -> f64 { let mut s = 0.0; for i in 0..x.len() - 1 { let a = 1.0 - x[i]; let b = x[i + 1] - x[i] * x[i]; s += a * a + 100.0 * b * b; } s }",
    ),
    (
        "",
        "fn prod(x: &[f64]) -> f64 { let mut p = 1.0; for i in (0..x.len()).rev().step_by(2) { p = p * x[i].sin(); } p }",
    ),
    (
        "",
        "fn branchy(x: f64, k: usize) -> f64 { let y = if x > 0.0 { x.exp() } else { x * x }; let mut z = y; if k > 2 { z = z * 3.0; } else if k == 1 { z -= 1.0; } z }",
    ),
    (
        "wrt(x)",
        "fn picks(x: f64, k: usize, w: &[f64]) -> f64 { let r = match k { 0 => x * w[0], 1 | 2 => x.powi(2), _ => { let t = x.tanh(); t * t } }; r }",
    ),
    (
        "reverse",
        "fn wloop(x: f64, n: usize) -> f64 { let mut y = x; let mut k = 0; while k < n && y < 10.0 { y = y * 1.5 + x.max(0.5); k += 1; } assert!(y.is_finite()); y }",
    ),
    (
        "forward",
        "pub fn gen<T: Real>(x: T, y: T) -> T where T: Copy { let (a, b) = (x * y, x / y); a.clamp(T::ZERO, T::ONE) + b.powf(y) - grad::stop_gradient(a) }",
    ),
    (
        "wrt(self)",
        "fn loss(&self, x: &Tensor<f32>) -> f32 { let h = x.matmul(&self.w).relu(); (h * 2.0 + self.b).sum() }",
    ),
    (
        "wrt(x), jacobian",
        "fn lift(x: &[f64], c: f64) -> Vec<f64> { vec![x[0] * c, x[1].sin(), x[0] * x[1]] }",
    ),
    (
        "checkpoint",
        "fn step(h: Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> { if w.sum() > 0.0 { return h; } h.matmul(w).tanh() }",
    ),
    (
        "",
        "fn calls(x: f64, v: (f64, f64)) -> f64 { let y = helper(x, &v.0); let z = x.custom(y); y as f32 as f64 + z * -v.1 }",
    ),
    (
        "wrt(k)",
        "fn osc(k: f64, n: usize) -> f64 { let (mut x, mut v) = (1.0, 0.0); for i in grad::checkpoint(0..n, 8) { if i % 2 == 0 { continue; } let a = -k * x; x += 0.1 * v; v += 0.1 * a; } x }",
    ),
];

/// A token of a flattened function: a leaf with its spacing, or a group's delimiter.
#[derive(Clone, Debug)]
enum Flat {
    Leaf(String, bool),
    Open(char),
    Close(char),
}

fn flatten(ts: TokenStream, out: &mut Vec<Flat>) {
    for tt in ts {
        match tt {
            TokenTree::Group(g) => {
                let (o, c) = match g.delimiter() {
                    Delimiter::Parenthesis => ('(', ')'),
                    Delimiter::Bracket => ('[', ']'),
                    Delimiter::Brace => ('{', '}'),
                    Delimiter::None => (' ', ' '),
                };
                out.push(Flat::Open(o));
                flatten(g.stream(), out);
                out.push(Flat::Close(c));
            }
            TokenTree::Punct(p) => out.push(Flat::Leaf(
                p.as_char().to_string(),
                p.spacing() == Spacing::Joint,
            )),
            other => out.push(Flat::Leaf(other.to_string(), false)),
        }
    }
}

/// Renders flattened tokens, dropping closers with no opener and closing what is open, so
/// that every mutation still lexes and reaches the macro.
fn render(flat: &[Flat]) -> String {
    let mut s = String::new();
    let mut open: Vec<char> = Vec::new();
    for t in flat {
        match t {
            Flat::Leaf(text, joint) => {
                s.push_str(text);
                if !joint {
                    s.push(' ');
                }
            }
            Flat::Open(c) => {
                open.push(*c);
                s.push(*c);
                s.push(' ');
            }
            Flat::Close(c) => {
                let want = match open.last() {
                    Some('(') => ')',
                    Some('[') => ']',
                    Some('{') => '}',
                    _ => continue,
                };
                if *c == want {
                    open.pop();
                    s.push(*c);
                    s.push(' ');
                }
            }
        }
    }
    while let Some(c) = open.pop() {
        s.push(match c {
            '(' => ')',
            '[' => ']',
            _ => '}',
        });
    }
    s
}

fn seed_tokens(i: usize) -> Vec<Flat> {
    let mut flat = Vec::new();
    let item: TokenStream = SEEDS[i].1.parse().unwrap_or_default();
    flatten(item, &mut flat);
    flat
}

/// One edit of a flattened function.
#[derive(Clone, Debug)]
enum Mutation {
    Truncate(usize),
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Insert(usize, &'static str),
}

fn apply(flat: &mut Vec<Flat>, m: &Mutation) {
    let n = flat.len();
    if n == 0 {
        return;
    }
    match *m {
        Mutation::Truncate(at) => flat.truncate(at % (n + 1)),
        Mutation::Delete(at) => {
            flat.remove(at % n);
        }
        Mutation::Duplicate(at) => {
            let t = flat[at % n].clone();
            flat.insert(at % n, t);
        }
        Mutation::Swap(a, b) => flat.swap(a % n, b % n),
        Mutation::Insert(at, text) => flat.insert(at % (n + 1), Flat::Leaf(text.to_owned(), false)),
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (any::<usize>(), proptest::sample::select(VOCABULARY))
            .prop_map(|(a, t)| Mutation::Insert(a, t)),
    ]
}

/// Every seed cut after every token (closed again so that it lexes): not random, so run
/// exhaustively.
#[test]
fn seeds_truncated_everywhere_return() {
    for (i, (args, item)) in SEEDS.iter().enumerate() {
        // The seed itself first.
        check(args, item);
        let flat = seed_tokens(i);
        for at in 0..flat.len() {
            check(args, &render(&flat[..at]));
        }
    }
}

/// Names a generated body may read: parameters of [`GRAMMAR_SIGNATURES`] and locals.
const NAMES: &[&str] = &["x", "y", "n", "v", "t", "a", "b", "self", "r#type"];

/// A random expression of the differentiable subset and just outside it.
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        proptest::sample::select(NAMES).prop_map(str::to_owned),
        proptest::sample::select(&["1.0", "0", "2", "1e308", "-0.5", "3usize", "true"][..])
            .prop_map(str::to_owned),
        Just("v[0]".to_owned()),
        Just("v[n]".to_owned()),
        Just("t.0".to_owned()),
        Just("self.w".to_owned()),
        Just("v.len()".to_owned()),
        Just("v[i]".to_owned()),
        Just("t.1".to_owned()),
        Just("k".to_owned()),
        Just("z".to_owned()),
        Just("self.m(x)".to_owned()),
    ];
    leaf.prop_recursive(5, 40, 3, |e| {
        let binop = proptest::sample::select(
            &[
                "+", "-", "*", "/", "%", "<", ">", "==", "&&", "||", "&", "^", "<<",
            ][..],
        );
        let method = proptest::sample::select(
            &[
                "exp",
                "ln",
                "sin",
                "sqrt",
                "tanh",
                "abs",
                "relu",
                "to_degrees",
                "len",
                "is_nan",
                "floor",
                "user_m",
                "clone",
                "sum",
            ][..],
        );
        let method2 = proptest::sample::select(&["powf", "max", "min", "atan2", "powi", "dot"][..]);
        let ty = proptest::sample::select(&["f64", "f32", "usize", "i32", "Foo", "bool"][..]);
        let func = proptest::sample::select(
            &[
                "g",
                "helper",
                "grad::stop_gradient",
                "f64::exp",
                "f64::max",
                "T::sin",
                "Self::new",
            ][..],
        );
        prop_oneof![
            (e.clone(), binop, e.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            e.clone().prop_map(|a| format!("-{a}")),
            e.clone().prop_map(|a| format!("!{a}")),
            e.clone().prop_map(|a| format!("&{a}")),
            e.clone().prop_map(|a| format!("*{a}")),
            (e.clone(), method).prop_map(|(a, m)| format!("{a}.{m}()")),
            (e.clone(), method2, e.clone()).prop_map(|(a, m, b)| format!("{a}.{m}({b})")),
            (e.clone(), e.clone(), e.clone()).prop_map(|(a, b, c)| format!("{a}.clamp({b}, {c})")),
            (e.clone(), ty).prop_map(|(a, t)| format!("({a} as {t})")),
            (func, proptest::collection::vec(e.clone(), 0..3))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (e.clone(), e.clone()).prop_map(|(a, b)| format!("({a}, {b})")),
            (e.clone(), e.clone()).prop_map(|(a, b)| format!("v[{a} as usize + {b}]")),
            (e.clone(), e.clone(), e.clone())
                .prop_map(|(c, a, b)| format!("if {c} > 0.0 {{ {a} }} else {{ {b} }}")),
            (e.clone(), e.clone(), e.clone())
                .prop_map(|(s, a, b)| format!("match {s} {{ 0 => {a}, _ => {b} }}")),
            e.clone().prop_map(|a| format!("{{ let z = {a}; z }}")),
        ]
    })
}

/// A random statement: bindings, assignments, branches and loops around expressions.
fn stmt() -> impl Strategy<Value = String> {
    let simple = prop_oneof![
        (proptest::sample::select(NAMES), expr()).prop_map(|(n, e)| format!("let {n} = {e};")),
        (proptest::sample::select(NAMES), expr()).prop_map(|(n, e)| format!("let mut {n} = {e};")),
        (proptest::sample::select(NAMES), expr()).prop_map(|(n, e)| format!("{n} = {e};")),
        (
            proptest::sample::select(NAMES),
            proptest::sample::select(&["+=", "-=", "*=", "/=", "%=", "^="][..]),
            expr()
        )
            .prop_map(|(n, op, e)| format!("{n} {op} {e};")),
        expr().prop_map(|e| format!("let (a, b) = ({e}, {e});")),
        expr().prop_map(|e| format!("assert!({e} > 0.0, \"{{x}}\");")),
        expr().prop_map(|e| format!("{e};")),
        expr().prop_map(|e| format!("let z: f64 = {e};")),
        expr().prop_map(|e| format!("let ((a, _), b) = (({e}, 1.0), t.1);")),
        expr().prop_map(|e| format!("println!(\"{{}} {{x:?}}\", {e});")),
        Just("let mut k = 0; while k < n { k += 1; }".to_owned()),
        Just("let t = (y, x);".to_owned()),
        Just("let v = &v;".to_owned()),
        Just("return x;".to_owned()),
    ];
    simple.prop_recursive(3, 24, 4, |s| {
        let block = proptest::collection::vec(s, 0..4).prop_map(|v| v.join(" "));
        prop_oneof![
            (expr(), block.clone(), block.clone())
                .prop_map(|(c, a, b)| format!("if {c} < 1.0 {{ {a} }} else {{ {b} }}")),
            block
                .clone()
                .prop_map(|b| format!("for i in 0..n {{ {b} }}")),
            block
                .clone()
                .prop_map(|b| format!("for j in (0..v.len()).rev().step_by(2) {{ {b} }}")),
            (expr(), block.clone()).prop_map(|(c, b)| format!("while {c} < 1.0 {{ {b} }}")),
            (expr(), block.clone())
                .prop_map(|(c, b)| format!("match n {{ 0 => {{ {b} }}, _ => {c} }};")),
            block.prop_map(|b| format!("{{ {b} }}")),
        ]
    })
}

/// Signatures the grammar's bodies are put under.
const GRAMMAR_SIGNATURES: &[(&str, &str)] = &[
    (
        "",
        "fn f(x: f64, y: f64, n: usize, v: &[f64], t: (f64, f64)) -> f64",
    ),
    (
        "wrt(x, v)",
        "fn f(x: f64, y: f64, n: usize, v: &[f64], t: (f64, f64)) -> f64",
    ),
    ("reverse", "fn f(x: f64, v: Vec<f64>, n: usize) -> f64"),
    ("forward", "fn f<T: Real>(x: T, y: T, n: usize) -> T"),
    (
        "wrt(self, x)",
        "fn f(&self, x: f64, n: usize, v: [f64; 3]) -> f64",
    ),
    ("", "fn f(x: f64, y: &Tensor<f32>, n: usize) -> (f64, f64)"),
    (
        "order = 2",
        "fn f(x: f64, y: f64, n: usize, v: &[f64], w: [f64; 2]) -> f64",
    ),
];

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random token soup as the item, and as the arguments.
    #[test]
    fn token_soup_returns(args in token_soup(4), item in token_soup(12)) {
        check(&args, &item);
        check("", &format!("fn {item}"));
    }

    /// Random token soup in a function body and in a parameter list.
    #[test]
    fn soup_in_a_function_returns(body in token_soup(12), params in token_soup(3)) {
        check("", &format!("fn f(x: f64, v: &[f64], n: usize) -> f64 {{ {body} }}"));
        check("", &format!("fn f({params}) -> f64 {{ x }}"));
    }

    /// Valid functions with a few random edits.
    #[test]
    fn mutated_seeds_return(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec(mutation(), 1..4),
        args_edits in proptest::collection::vec(mutation(), 0..2),
    ) {
        let mut flat = seed_tokens(seed);
        for m in &edits {
            apply(&mut flat, m);
        }
        let mut args_flat = Vec::new();
        flatten(SEEDS[seed].0.parse().unwrap_or_default(), &mut args_flat);
        for m in &args_edits {
            apply(&mut args_flat, m);
        }
        check(&render(&args_flat), &render(&flat));
    }

    /// Random functions from a grammar of the subset and its neighbours: they parse, so
    /// they reach lowering, activity analysis and both emitters.
    #[test]
    fn grammar_functions_return(
        sig in 0..GRAMMAR_SIGNATURES.len(),
        stmts in proptest::collection::vec(stmt(), 0..6),
        tail in expr(),
    ) {
        let (args, head) = GRAMMAR_SIGNATURES[sig];
        check(args, &format!("{head} {{ {} {tail} }}", stmts.join(" ")));
    }
}

// ---- regressions ----------------------------------------------------------------------

/// `y %= k` on a differentiated `y` reached the emitter with an empty rule marker and
/// panicked ("Ident is not allowed to be empty"); it is now the bitwise/remainder error.
#[test]
fn compound_assignment_without_rule_is_an_error() {
    for op in ["%=", "^=", "&=", "|=", "<<=", ">>="] {
        check_all_rejected([(
            "",
            format!("fn f(x: f64) -> f64 {{ let mut y = x; y {op} 2.0; y }}").as_str(),
        )]);
    }
}

/// Loops nested `depth` deep, each carrying `s`.
fn nested_loops(depth: usize) -> String {
    let open: String = (0..depth)
        .map(|i| format!("for i{i} in 0..n {{ s = s * x; "))
        .collect();
    format!(
        "fn f(x: f64, n: usize) -> f64 {{ let mut s = x; {open}{} s }}",
        "}".repeat(depth)
    )
}

/// Every loop level lowers its body at least twice (a speculative pass, then the real
/// one), so time doubles per level: 14 levels take ~0.7 s, 16 levels ~3.5 s in debug.
#[test]
fn loops_nested_16_deep_within_budget() {
    check("", &nested_loops(16));
}

/// Time grows about as depth^3: 64 levels ~0.4 s, 128 levels ~4 s in debug.
#[test]
fn branches_nested_128_deep_within_budget() {
    let depth = 128;
    let body = format!(
        "{}x{}",
        "if x > 0.0 { ".repeat(depth),
        " } else { x }".repeat(depth)
    );
    check("", &format!("fn f(x: f64) -> f64 {{ {body} }}"));
}

#[test]
fn absurd_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 2000;
    let body = format!("{}x{}", "{ ".repeat(depth), " }".repeat(depth));
    let item = format!("fn f(x: f64) -> f64 {body}");
    let out = check("", &item).expect("lexes");
    assert!(out.contains("compile_error"), "{}", truncate(&out));
}

/// Adjoints go in registers only where iterations meet at an element (two offsets or more):
/// with one offset each element is reached once, and a window would only add work.
#[test]
fn windows_only_where_neighbouring_iterations_meet() {
    let windowed = |item: &str| check("", item).expect("lexes").contains("__grad_window");
    assert!(windowed(
        "fn f(x: &[f64]) -> f64 { let mut s = 0.0; for i in 1..x.len() { s += x[i] * x[i - 1]; } s }"
    ));
    assert!(windowed(
        "fn f(x: &[f64]) -> f64 { let mut s = 0.0; for i in 0..x.len() - 2 { s += (x[i] * x[2 + i]).sin(); } s * s }"
    ));
    assert!(!windowed(
        "fn f(x: &[f64]) -> f64 { let mut s = 0.0; for i in 0..x.len() { s += x[i] * x[i]; } s }"
    ));
    // A whole-array use of `x` in the body leaves its adjoint in memory.
    assert!(!windowed(
        "fn f(x: &[f64]) -> f64 { let mut s = 0.0; for i in 1..x.len() { s += x[i] * x[i - 1] + g(x); } s }"
    ));
}

#[test]
fn regions_fuse_only_where_operands_are_known_scalars_or_tensors() {
    let fused = |item: &str| {
        let out = check("", item).expect("lexes");
        out.matches("impl __grad_rt :: fuse :: Kernel").count()
    };
    // T4: one region with its trailing sum, in `_grad` and in `_vjp`.
    let t4 = "fn f(x: &T) -> f64 { let t = x.tanh(); (&t * &t * (-x).exp()).sum() }";
    assert_eq!(fused(t4), 2);
    assert!(check("", t4).expect("lexes").contains("fuse :: fwd_sum"));
    // A product's result known (a matrix product's operand) makes its factors known.
    assert_eq!(
        fused("fn f(w: &T, x: &T, y: &T) -> f64 { let r = x.matmul(w) - y; (&r * &r).mean() }"),
        2
    );
    // `s * m` may scale a nalgebra vector: `m` is not known, so the product stays out.
    let scaled = "fn f(s: f64, m: &V) -> f64 { let e = s.exp() * m; e.norm() }";
    assert_eq!(fused(scaled), 0);
    // Sums of unknown values (nalgebra vectors add too) stay as they are.
    assert_eq!(
        fused("fn f(a: &V, b: &V) -> f64 { ((a - b) * 2.0).norm() }"),
        0
    );
    // `t`, read outside, ends its region there: only `t.exp() * 2.0` with its sum fuses.
    assert_eq!(
        fused("fn f(x: &T) -> f64 { let t = x.tanh(); let u = t.exp() * 2.0; t.sum() + u.sum() }"),
        2
    );
    // `s.sigmoid()` of a float parameter is scalar code (`std`'s sigmoid, as the primal
    // computes it): it enters the region as an input; `t.cos()`, the product and the mean
    // fuse.
    let mixed = "fn f(s: f64, t: &T) -> f64 { let b = t.cos(); (s.sigmoid() * &b).mean() }";
    let out = check("", mixed).expect("lexes");
    assert_eq!(out.matches("impl __grad_rt :: fuse :: Kernel").count(), 2);
    assert!(
        !out.contains("op :: Sigmoid , __x"),
        "sigmoid stayed in the kernel"
    );
    // Operations of scalars alone (a reduction, a float parameter) do not fuse.
    assert_eq!(
        fused("fn f(s: f64, x: &T) -> f64 { let m = x.sum(); (m * s).exp() + m.tanh() }"),
        0
    );
    // Nor do those of a branch's scalar result (S4's erf: fused, its `_vjp`'s pullback
    // recomputed two `exp`s the unfused adjoint reads from the forward sweep).
    assert_eq!(
        fused(
            "fn f(x: f64) -> f64 { let z = if x < 0.0 { -x } else { x }; let t = 1.0 / (1.0 + 0.5 * z); t * (-(z * z)).exp() }"
        ),
        0
    );
    assert_eq!(
        fused(
            "fn f(x: f64, t: &T) -> f64 { let z = if x < 0.0 { t.sum() } else { x }; (z * z).exp() + t.tanh().sum() }"
        ),
        2,
        "one region, `t.tanh().sum()`, in `_grad` and `_vjp`"
    );
    // Nor those of a loop's carried scalar, which starts as a float and stays one.
    assert_eq!(
        fused(
            "fn f(x: f64, n: usize) -> f64 { let mut s = 0.0; for _ in 0..n { s += x * 2.0; } (s - 1.0).powi(2).exp() }"
        ),
        0
    );
    // An element of a slice of floats is a scalar, and so is what a loop adds of them.
    assert_eq!(
        fused(
            "fn f(x: &[f64]) -> f64 { let mut s = 0.0; for i in 0..x.len() { s += x[i].sin(); } s.tanh().exp() }"
        ),
        0
    );
    // A carried tensor is no scalar: its chain after the loop fuses.
    assert_eq!(
        fused(
            "fn f(x: &T, n: usize) -> f64 { let mut h = x.tanh(); for _ in 0..n { h = h.tanh(); } h.exp().sum() }"
        ),
        2
    );
    // Inside a loop nothing fuses (regions are the body's top level).
    assert_eq!(
        fused(
            "fn f(x: &[f64]) -> f64 { let mut s = 0.0; for i in 0..x.len() { s += x[i].tanh().exp(); } s }"
        ),
        0
    );
}

/// The `f_grad` that `#[differentiable(wrt(u0))]` writes for `item`, a function `f`.
fn grad_of_f(item: &str) -> String {
    let out = check("wrt(u0)", item).unwrap_or_default();
    assert!(!out.contains("compile_error"), "{out}");
    let grad = &out[out.find("fn f_grad").expect(&out)..];
    grad[..grad.find("fn f_jvp").unwrap_or(grad.len())].to_string()
}

#[test]
fn linear_rows_are_gathered_and_zeroed_only_where_read_again() {
    let heat = |init: &str| {
        format!(
            "fn f(u0: &[f64], k: f64) -> f64 {{ let n = u0.len(); {init} \
             for i in 1..n - 1 {{ next[i] = u0[i] + k * (u0[i - 1] - 2.0 * u0[i] + u0[i + 1]); }} \
             let mut s = 0.0; for i in 0..n {{ s += next[i] * next[i]; }} s }}"
        )
    };
    let gathered = |item: &str| {
        let grad = grad_of_f(item);
        // The written elements' zeroing.
        (grad.contains("SeedOf"), grad.contains("set_zero (& mut"))
    };
    // A fresh row whose other writes lie outside the loop's range: no zeroing.
    let fresh = "let mut next = vec![0.0; n]; next[0] = u0[0]; next[n - 1] = u0[n - 1];";
    assert_eq!(gathered(&heat(fresh)), (true, false));
    // A row whose earlier write falls inside the range, or that starts as a copy of an
    // active value: the written elements are zeroed after the loop.
    let inside = "let mut next = vec![0.0; n]; next[1] = u0[1];";
    assert_eq!(gathered(&heat(inside)), (true, true));
    let copy = "let mut next = u0.to_vec();";
    assert_eq!(gathered(&heat(copy)), (true, true));
    // Partials that change per iteration (a product of reads): delay lines, no gather.
    let nonlinear = "fn f(u0: &[f64]) -> f64 { let n = u0.len(); let mut next = vec![0.0; n]; \
        for i in 1..n - 1 { next[i] = u0[i - 1] * u0[i + 1]; } \
        let mut s = 0.0; for i in 0..n { s += next[i] * next[i]; } s }";
    assert_eq!(gathered(nonlinear), (false, false));
}

#[test]
fn rows_built_per_iteration_recycle_their_adjoint() {
    let steps = |row: &str, update: &str| {
        format!(
            "fn f(u0: &[f64], k: f64, steps: usize) -> f64 {{ let n = u0.len(); \
             let mut c = u0.to_vec(); for _ in 0..steps {{ {row} \
             for i in 1..n - 1 {{ {update} }} c = next; }} \
             let mut s = 0.0; for i in 0..n {{ s += c[i] * c[i]; }} s }}"
        )
    };
    let recycled = |item: &str| {
        let grad = grad_of_f(item);
        (grad.contains("recycle ("), grad.contains("zeros_reusing ("))
    };
    let written = "next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]);";
    let pushed = "next.push(c[i] * c[i - 1]);";
    // A fresh row, written in place or pushed to: its adjoint is let go of per iteration
    // (at the write from `vec!`, or after the pushing loop) and the next zero made in it.
    let fresh = "let mut next = vec![0.0; n]; next[0] = c[0];";
    assert_eq!(recycled(&steps(fresh, written)), (true, true));
    let empty = "let mut next = Vec::new();";
    assert_eq!(recycled(&steps(empty, pushed)), (true, true));
    // A row that starts as a copy of the active one: its adjoint flows back into `c`'s.
    let copy = "let mut next = c.clone();";
    assert_eq!(recycled(&steps(copy, written)), (false, false));
    // A checkpointed step loop: its reverse is the plain loop's, run per restored step.
    let checkpointed = "fn f(u0: &[f64], k: f64, steps: usize) -> f64 { let mut c = u0.to_vec(); \
        for _ in grad::checkpoint(0..steps, 3) { let mut next = vec![0.0; 2]; \
        next[0] = c[0] * c[1]; next[1] = k * c[1]; c = next; } c[0] + c[1] }";
    assert_eq!(recycled(checkpointed), (true, true));
}

/// A `for` over a plain range reserves its trip count before it, so its pushes cannot grow
/// the stack and take the reserved push (no call in the loop); a `while` loop, whose trip
/// count is not known, pushes as `Vec::push` does.
#[test]
fn range_loops_push_into_the_room_they_reserved() {
    let pushes = |item: &str| {
        let grad = grad_of_f(item);
        (
            grad.contains("stack_reserve ("),
            grad.contains("stack_push_reserved ("),
            grad.contains("stack_push ("),
        )
    };
    let ranged = "fn f(u0: f64, n: usize) -> f64 { let mut s = u0; \
        for _ in 0..n { s = s * u0 + s.sin(); } s }";
    assert_eq!(pushes(ranged), (true, true, false));
    let inclusive = "fn f(u0: f64, n: usize) -> f64 { let mut s = u0; \
        for _ in 1..=n { s = s * u0 + s.sin(); } s }";
    assert_eq!(pushes(inclusive), (true, true, false));
    let whiled = "fn f(u0: f64, n: usize) -> f64 { let mut s = u0; let mut i = 0; \
        while i < n { s = s * u0 + s.sin(); i += 1; } s }";
    assert_eq!(pushes(whiled), (false, false, true));
}

/// A loop whose only read of a slice parameter is at its own index stores each cotangent
/// in the parameter's fresh adjoint row; a row that another read adds to, in the body or
/// after the loop, keeps the addition.
#[test]
fn element_cotangents_are_stored_where_each_element_has_one() {
    let stored = |item: &str| {
        let grad = grad_of_f(item);
        let adds = grad.contains("accumulate (& mut __grad_d_u0");
        let stores = grad.contains("] = __grad_d_");
        (stores, adds)
    };
    let zip = "fn f(u0: &[f64], x: &[f64]) -> f64 { \
        let d = u0.iter().zip(x).map(|(a, b)| a * b).sum::<f64>(); d * d }";
    assert_eq!(stored(zip), (true, false));
    let indexed = "fn f(u0: &[f64]) -> f64 { let mut s = 0.0; \
        for i in 0..u0.len() { s += u0[i].sin() * s; } s }";
    assert_eq!(stored(indexed), (true, false));
    let after = "fn f(u0: &[f64]) -> f64 { let mut s = 0.0; \
        for i in 0..u0.len() { s += u0[i].sin() * s; } s + u0[0] }";
    assert_eq!(stored(after), (false, true));
    let twice = "fn f(u0: &[f64]) -> f64 { let mut s = 0.0; \
        for i in 0..u0.len() { s += u0[i] * u0[0]; } s }";
    assert_eq!(stored(twice), (false, true));
}

#[test]
fn reductions_are_handed_their_dead_temporary() {
    // In `f_grad` and in `f_vjp`'s pullback.
    let handed = |item: &str| grad_of_f(item).matches("bwd_from").count();
    // T1: `a * 5.0` is read by the sum alone, whose reverse needs only its shape.
    assert_eq!(handed("fn f(u0: &T) -> f64 { (u0 * 5.0).sum() }"), 2);
    assert_eq!(handed("fn f(u0: &T, b: &T) -> f64 { (u0 * b).mean() }"), 2);
    // Read again, forward (by the product) or backward (the reverse of `softmax` reads its
    // value): kept.
    assert_eq!(
        handed("fn f(u0: &T) -> f64 { let t = u0 * 5.0; t.sum() * t.mean() }"),
        0
    );
    assert_eq!(
        handed("fn f(u0: &T) -> f64 { let t = u0 * 5.0; t.sum() + t.tanh().mean() }"),
        0
    );
    assert_eq!(handed("fn f(u0: &T) -> f64 { u0.softmax(1).sum() }"), 0);
    // `matmul`'s rule takes its result too.
    assert_eq!(
        handed("fn f(u0: &T, b: &T) -> f64 { u0.matmul(b).mean() }"),
        0
    );
    // A parameter, a borrow, and a sum inside a loop or branch are not temporaries of the
    // top level.
    assert_eq!(handed("fn f(u0: &T) -> f64 { u0.sum() }"), 0);
    assert_eq!(handed("fn f(u0: T) -> f64 { u0.sum() }"), 0);
    assert_eq!(
        handed(
            "fn f(u0: &T, n: usize) -> f64 { let mut s = 0.0; for _ in 0..n { s += (u0 * 2.0).sum(); } s }"
        ),
        0
    );
    assert_eq!(
        handed("fn f(u0: &T, c: bool) -> f64 { if c { (u0 * 2.0).sum() } else { 0.0 } }"),
        0
    );
}
