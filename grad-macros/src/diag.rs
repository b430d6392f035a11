//! Every user-facing message of the macro, so that wording is reviewed in one place.

pub const ATTR_UNKNOWN: &str = "unknown argument in #[differentiable(...)]; expected `wrt(...)`, `reverse`, `forward`, `order = 2`, `jacobian`, `checkpoint` or `crate = path`";
pub const ATTR_BOTH_MODES: &str =
    "`reverse` and `forward` exclude each other; leave both out to generate both modes";
pub const ATTR_DUPLICATE: &str = "this argument is given twice in #[differentiable(...)]";
pub const WRT_EMPTY: &str = "`wrt()` names no parameter; name at least one, e.g. `wrt(x)`";
pub const NO_ACTIVE_PARAM: &str = "no parameter is differentiated: every parameter has an integer, `bool`, `char` or `&str` type; name one in `wrt(...)`";
pub const MUT_REF_PARAM: &str = "`&mut` parameters are not supported in #[differentiable] functions; take the value or a shared reference and return the result";
pub const MUT_SELF: &str =
    "`&mut self` is not supported in #[differentiable] methods; take `&self` or `self`";
pub const PATTERN_PARAM: &str = "destructuring parameters are not supported in #[differentiable] functions; name the parameter and destructure it with `let`";
pub const NO_RETURN: &str =
    "a #[differentiable] function must return the value to differentiate, e.g. `-> f64`";
pub const IMPL_TRAIT_PARAM: &str = "`impl Trait` parameters are not supported in #[differentiable] functions; use a named generic parameter";
pub const ASYNC: &str =
    "`async fn` is not supported with #[differentiable]; differentiate a synchronous function";
pub const CONST_FN: &str = "`const fn` is not supported with #[differentiable]; remove `const` (the derivatives are ordinary functions)";
pub const UNSAFE_FN: &str = "`unsafe fn` is not supported with #[differentiable]; keep the unsafe part in a separate function with a hand-written `_vjp`, and call it";
pub const VARIADIC: &str = "variadic functions are not supported with #[differentiable]";
pub const TOO_DEEP: &str = "this function nests blocks too deeply for #[differentiable] (more than 128 levels); split it into functions";
pub const NOT_A_FN: &str = "#[differentiable] applies to a function, a method or an `impl` block";
pub const LONE_TRAIT_METHOD: &str = "#[differentiable] on a method of a trait impl cannot put the derivatives there (a trait cannot gain methods); put `#[differentiable]` on the `impl` block too, which writes them into an inherent `impl` of the type, and keep this attribute on the method";
pub const IMPL_ARGS: &str = "#[differentiable] on an `impl` block takes no arguments; put them on the methods, e.g. `#[differentiable(wrt(self))] fn loss(&self, ..)`";

pub fn impl_param_not_in_type(name: &syn::Ident) -> String {
    format!(
        "the derivatives of a trait impl's methods go into an inherent `impl` of its type, which cannot name `{name}`: `{name}` appears only in the trait; make it a parameter of the type or of the methods"
    )
}

pub fn wrt_unknown(name: &str, params: &str) -> String {
    format!(
        "`{name}` is not a parameter of this function; `wrt(...)` takes parameter names ({params})"
    )
}

pub fn wrt_inactive_type(name: &str) -> String {
    format!(
        "`{name}` cannot be differentiated: its type is an integer, `bool`, `char` or `&str`; leave it out of `wrt(...)`"
    )
}

pub const CLOSURE: &str = "a closure here is not supported in #[differentiable] functions; bind it with `let` and call it, or give it to an iterator adaptor (`map`, `filter`, `fold`)";
pub const LOOP: &str = "`loop` is not supported in #[differentiable] functions; use `while` with a condition, or `for` over a range";
pub const BREAK: &str = "`break` is not supported in #[differentiable] functions; put the exit condition in a `while` loop's condition";
pub const CONTINUE: &str = "`continue` is not supported in #[differentiable] functions; guard the rest of the loop body with `if`";
pub const UNSAFE: &str = "`unsafe` blocks are not supported in #[differentiable] functions; move the block into a separate function with a hand-written `_vjp`, and call it";
pub const ASYNC_EXPR: &str =
    "`async` and `.await` are not supported in #[differentiable] functions";
pub const TRY: &str = "the `?` operator is not supported in #[differentiable] functions; handle the error outside and pass plain values in";
pub const RETURN_EARLY: &str = "`return` is supported only as the last statement of a #[differentiable] function; use `if`/`else` as an expression";
pub const ASSIGN_PLACE: &str = "assignment to an element or a field is not supported in #[differentiable] functions; build a new value, or accumulate into a local variable";
pub const DEREF_WRITE: &str = "writes through references are not supported in #[differentiable] functions; return the new value instead";
pub const MUT_BORROW: &str = "`&mut` borrows are not supported in #[differentiable] functions; work with values and shared references";
pub const LET_ELSE: &str = "`let ... else` is supported in #[differentiable] functions only with a `Some(p)` or `Ok(p)` pattern (`let Some(v) = x.get(i) else { .. }`, `let Some(k) = opt else { return .. }`); for other patterns use `match` on a non-differentiated value";
pub const LET_UNINIT: &str = "a `let` without a value is not supported in #[differentiable] functions; give the variable its first value where it is declared";
pub const PATTERN_LET: &str = "this pattern is not supported in a #[differentiable] `let`; use a name, `_`, or a tuple or array (without `..`) of those";
pub const ITEM_IN_BODY: &str = "items other than `const`, `static` and `use` (a `fn`, a `struct`, a glob `use a::*`) inside a #[differentiable] function are not supported; move them out of the function";
pub const FOR_ITER: &str = "this `for` loop's iterable is not supported in #[differentiable] functions; iterate over a range, or over a slice, `Vec` or array (`x`, `&x`, `x.iter()`, `x.into_iter()`, `x.iter_mut()`, `&mut x`, `x.windows(k)`, `x.chunks(k)`, `std::iter::zip(a, b)`) through `map`, `filter`, `zip`, `enumerate`, `skip`, `take`, `rev`, `step_by`, `copied`, `cloned`";
pub const ITER_RANGE: &str = "only ranges with a start (`a..b`, `a..=b`, `a..`) can be iterated in #[differentiable] functions";
pub const ITER_MUT_USE: &str = "an item of `iter_mut()` is used here other than as `*v` (read or written) or `v.method()`, which is all #[differentiable] functions support; write `*v` (or index the collection: `for i in 0..x.len() { x[i] = .. }`)";
pub const ITER_MUT_PLACE: &str = "`iter_mut()` and `&mut` in #[differentiable] functions iterate a local collection by name (a local, a field or an element: `v.iter_mut()`, `&mut s.cells`); bind this value to a `let mut` first";
pub const ITER_PATTERN: &str = "this pattern is not supported over an iterator in #[differentiable] functions; use a name, `_`, `&name`, or a tuple of those";
pub const ZIP_ARG: &str = "`zip` takes a slice, `Vec`, array, range or iterator chain in #[differentiable] functions (`x`, `&x`, `x.iter()`, `a..b`)";
pub const ZIP_FILTER: &str = "a `filter`, `take_while` or `skip_while` inside `zip`'s argument is not supported in #[differentiable] functions; put it after the `zip`";
pub const CLOSURE_RETURN: &str = "`return` inside a closure is not supported in #[differentiable] functions (the closure is inlined); make the closure's body an expression, e.g. with `if`/`else`";
pub const COLLECT: &str = "`collect` in #[differentiable] functions collects into a `Vec`: write `collect::<Vec<_>>()` or annotate the `let` (`let v: Vec<f64> = ..`)";
pub const EXIT_IN_VALUE: &str = "`break`, `continue` or `return` inside an expression whose value is used is not supported in #[differentiable] functions; make the exit a statement of its own (`if c { return x; }`) and compute the value after it";
pub const EXIT_OUTSIDE_LOOP: &str =
    "this `break` or `continue` has no enclosing loop with that label";
pub const CLOSURE_MUTATES: &str = "a closure that assigns to a variable it captures is not supported in #[differentiable] functions (closures are inlined); return the new value from the closure and assign it at the call";
pub const CLOSURE_IN_GUARD: &str = "a closure called in a `match` guard that reads the arm's bindings is not supported in #[differentiable] functions; move the test into the arm with `if`";
pub const CLOSURE_ESCAPES: &str = "a closure in a #[differentiable] function may only be called (`g(x)`) or given to an iterator adaptor; it is inlined, so it cannot be stored, passed or returned";
pub const VEC_MACRO: &str = "`vec!` takes a list of values (`vec![a, b]`) or a value and a count (`vec![e; n]`) in #[differentiable] functions";
pub const STRUCT_REST: &str = "struct update syntax (`..base`) is not supported in #[differentiable] functions; write every field";
pub const WRITE_THROUGH_REF: &str = "writes through a reference (a `&` parameter, `self`) are not supported in #[differentiable] functions; copy the value into a local (`let mut c = x.to_vec();`) and write that, or return the new value";
pub const ITER_UNCONSUMED: &str = "an iterator over differentiated values must be consumed where it is made in #[differentiable] functions: iterate it with `for`, or end the chain with `sum`, `product`, `fold` or `collect` (an array's `map` is read as an iterator's: write `a.iter().map(..).collect::<Vec<_>>()` or a loop)";

pub fn iter_adaptor(name: &str) -> String {
    format!(
        "the iterator adaptor `{name}` is not supported in #[differentiable] functions; the supported ones are `map`, `filter`, `take_while`, `skip_while`, `zip`, `enumerate`, `skip`, `take`, `rev`, `step_by`, `copied`, `cloned`, `windows` and `chunks`, or write a `for` loop"
    )
}

pub fn iter_after_step(name: &str, step: &str) -> String {
    format!(
        "`{name}` after `{step}` is not supported in #[differentiable] functions; put `{step}` after the positional adaptors (`enumerate`, `zip`, `skip`, `take`, `rev`, `step_by`)"
    )
}

pub fn mutator(name: &str) -> String {
    format!(
        "`{name}` on a differentiated `Vec` or array is not supported here in #[differentiable] functions; the in-place forms that are: `v[i] = e` (and `+=`, ..), `push`, `let e = v.pop().unwrap();`, `extend(iterator)`, `extend_from_slice`, `truncate`, `clear`, `insert`, `remove`, `swap_remove`, `resize`, `reverse`, `swap`, `fill`, `copy_from_slice`, `sort_by(cmp)`, `retain`, `dedup`, and `for e in v.iter_mut()`; or build a new `Vec` (`collect`)"
    )
}

pub fn iter_end(name: &str) -> String {
    if matches!(
        name,
        "max_by" | "min_by" | "reduce" | "find" | "last" | "nth"
    ) {
        return format!(
            "`{name}` on an iterator is supported in #[differentiable] functions only where its `Option` is taken apart at once: write `.{name}(..).unwrap()` (or `.expect(\"..\")`), `.{name}(..).unwrap_or(d)`, `if let Some(v) = chain.{name}(..)` or a `match` with `Some` and `None` arms"
        );
    }
    format!(
        "`{name}` on an iterator is not supported in #[differentiable] functions; end the chain with `sum`, `product` or `fold` (a maximum is `.fold(f64::NEG_INFINITY, f64::max)`), or iterate it with `for`"
    )
}

pub fn select_after_step(name: &str, step: &str) -> String {
    format!(
        "`{name}` after `{step}` is not supported in #[differentiable] functions; write a `for` loop (after `filter`, or fold the condition into the comparison)"
    )
}

pub fn closure_params(adaptor: &str, n: usize) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("the closure given to `{adaptor}` takes {n} parameter{s}")
}

pub const FOR_RANGE: &str = "`for` in a #[differentiable] function iterates over an integer range (`a..b`, `a..=b`, optionally with `.rev()` and `.step_by(k)`); index the collection inside the loop";
pub const FOR_PATTERN: &str = "the `for` loop variable must be a name or `_`";
pub const WHILE_LET: &str = "`while let` is not supported in #[differentiable] functions; use `while` with a boolean condition";
pub const IF_LET: &str = "a `let` inside a condition (a let chain `if let p = e && c`) is not supported in #[differentiable] functions; write a whole `if let p = e { .. }` and nest the rest inside, or `match` on a non-differentiated value";
pub const ACTIVE_CONDITION: &str = "this condition depends on a differentiated value in a way that is not a comparison; compare it (`x > 0.0`) or wrap it in `grad::stop_gradient(...)`";
pub const MATCH_ACTIVE: &str = "`match` on a differentiated value is not supported; match on a non-differentiated value (an integer, an enum), or use `if` with comparisons";
pub const STRUCT_LIT: &str = "struct literals are not supported in #[differentiable] functions yet; pass the fields as separate values";
pub const RANGE_EXPR: &str = "ranges are supported only as the iterator of a `for` loop and as the index of a sub-slice (`&x[a..b]`) in #[differentiable] functions";
pub const UNKNOWN_MACRO: &str = "only `assert!`, `assert_eq!`, `assert_ne!`, `debug_assert!`, `debug_assert_eq!`, `debug_assert_ne!`, `println!`, `print!`, `eprintln!` and `eprint!` may be used in #[differentiable] functions";
pub const MACRO_EXPR: &str = "macros other than `vec!` are not supported as expressions in #[differentiable] functions; build the value before the call and pass it in as a parameter (`assert!`-like and `println!`-like macros may be used as statements)";
pub const BITWISE_ACTIVE: &str = "bitwise and remainder operators have no derivative; they may be used only on non-differentiated values";
pub const UNSUPPORTED_EXPR: &str =
    "this expression is not supported in #[differentiable] functions";
pub const BLOCK_LABEL: &str = "labeled blocks are not supported in #[differentiable] functions";
pub const CONST_BLOCK: &str = "`const` blocks are not supported in #[differentiable] functions";
pub const DESTRUCTURE_PART: &str = "a destructuring assignment in a #[differentiable] function assigns to local names, `_` and nested tuples or arrays of those; write an element or a field (`c[i] = ..`) in a statement of its own";
pub const UNKNOWN_VAR_ASSIGN: &str =
    "assignment to a name that is not a local variable of this function";
pub const CAST_TARGET: &str = "a differentiated value can be cast only to `f32` or `f64` (a cast to an integer type is allowed and is not differentiated)";

pub fn no_rule(method: &str) -> String {
    format!(
        "`{method}` has no derivative rule in grad; write it with primitives that have one (exp, ln, sqrt, sin, cos, powf, ...), or write `{method}_vjp` for a function that wraps it"
    )
}

pub fn nondiff_arg(prim: &str, what: &str) -> String {
    format!(
        "`{prim}` does not differentiate its {what}, and this value is differentiated; wrap it in `grad::stop_gradient(...)` if no gradient should flow"
    )
}

pub fn wrong_arity(prim: &str, n: usize) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("`{prim}` takes {n} argument{s} here")
}

pub fn inactive_result(ty: &str) -> String {
    format!(
        "`{ty}` has no derivative: a #[differentiable] function returns the value to differentiate (`f32`, `f64`, a generic float, or a tuple or struct of differentiable values)"
    )
}

pub fn jacobian_several(f: &str, params: &str) -> String {
    format!(
        "`jacobian` needs exactly one differentiated parameter, and `{f}` differentiates {params}; name one with `wrt(..)`, or pass them together as one vector"
    )
}

pub fn jacobian_scalar(f: &str, ty: &str) -> String {
    format!(
        "`jacobian` needs a vector result (a `Vec`, array, `Tensor` or nalgebra vector), and `{f}` returns the scalar `{ty}`: its Jacobian is the gradient, which `{f}_grad` gives; remove `jacobian`"
    )
}

pub fn jacobian_not_vector(what: &str, ty: &str) -> String {
    format!(
        "`jacobian` takes and returns vectors (slices, `Vec`s, arrays, `Tensor`s, nalgebra column vectors), and {what} is `{ty}`; make it one (a matrix by its columns, e.g. `DVector`), or remove `jacobian`"
    )
}

pub const CHECKPOINT_ARGS: &str = "`checkpoint` takes no arguments: it makes every caller's reverse pass keep only this function's inputs and run it again; write `checkpoint` alone";

pub fn checkpoint_forward(f: &str) -> String {
    format!(
        "`checkpoint` changes what a caller's reverse pass keeps of `{f}` (its `_vjp`), and `forward` writes no reverse pass; remove `checkpoint`, or `forward`"
    )
}

pub const ORDER_VALUE: &str =
    "`order` takes an integer: `order = 2` writes `f_hvp` beside the first-order derivatives";

pub fn order_unsupported(n: &str) -> String {
    format!(
        "`order = {n}` is not supported: #[differentiable] writes first derivatives (`order = 1`, the default) and Hessian-vector products (`order = 2`); for higher orders, nest `f_hvp` in a function of your own"
    )
}

pub const ORDER2_FORWARD: &str = "`order = 2` differentiates the gradient, which `forward` does not write; remove `forward` (or `order = 2`)";
pub const ORDER2_SCALAR: &str = "`order = 2` writes `f_hvp`, the Hessian of a scalar function times a direction, and this function does not return `f32` or `f64`; return a scalar, or remove `order = 2`";
pub const ORDER2_METHOD: &str = "`order = 2` is not supported yet on methods; make it a free function that takes the value as a parameter";
pub const ORDER2_GENERIC: &str = "`order = 2` is not supported yet on functions with generic parameters (lifetimes included); write it over `f64` (or `f32`) with elided lifetimes";
pub const ORDER2_MIXED: &str = "`order = 2` needs one float type per function, and this function uses both `f32` and `f64`; use one of them (casts between the two included)";
pub const ORDER2_CHECKPOINT: &str =
    "`order = 2` is not supported yet together with `checkpoint`; remove one of them";

pub fn order2_param(ty: &str) -> String {
    format!(
        "`order = 2` does not support parameters of type `{ty}` yet: `f_hvp` takes `f64` or `f32` scalars, `&[f64]`, `Vec<f64>`, `[f64; N]`, `&[f64; N]` and their nestings (`&[[f64; 3]]`), `Tensor<f64>`, `&Tensor<f64>` and nalgebra's matrices and vectors of `f64` by value or reference (of `f32` too), structs deriving `Differentiable` and tuples by value or reference, type aliases of those, and integer, `bool` and `&str` data; a type with generic arguments other than these (`Option<f64>`, `Mlp<f64>`) is not supported yet"
    )
}

pub const CHECKPOINT_ARITY: &str = "`grad::checkpoint` takes a range and a snapshot count: `for i in grad::checkpoint(0..n, 32) { .. }`";
pub const CHECKPOINT_RANGE: &str = "the first argument of `grad::checkpoint` must be written as a range, `lo..hi` or `lo..=hi`: its items are the loop's steps, which the reverse pass counts and replays; loop over `0..n` and index inside the body";
pub const CHECKPOINT_PLACE: &str = "`grad::checkpoint(range, snapshots)` is supported only as the iterable of a `for` loop in #[differentiable] functions: `for i in grad::checkpoint(0..n, 32) { .. }`";
pub const CHECKPOINT_NESTED: &str = "a loop inside a `grad::checkpoint` loop is not supported (an iterator's `sum`, `product` or `fold` is a loop too); move the inner loop into a #[differentiable] function and call it from the body";
pub const CHECKPOINT_INSIDE: &str = "a `grad::checkpoint` loop inside another loop or a branch is not supported; put it at the top level of the function body, or in a #[differentiable] function of its own and call that";

pub fn checkpoint_exit(what: &str) -> String {
    format!(
        "`{what}` in a `grad::checkpoint` loop is not supported: the reverse pass replays a fixed number of steps; compute the step count before the loop, or iterate a plain range"
    )
}
