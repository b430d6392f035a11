//! Compile-fail tests of `#[differentiable]`'s diagnostics: one case per message, in
//! `tests/ui/<category>/<what-is-wrong>.rs`, with reviewed `.stderr` snapshots.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
}
