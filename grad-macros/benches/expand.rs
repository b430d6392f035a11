//! Group `expand`: how long the `#[differentiable]` attribute takes to expand the benchmark
//! cases S1-S5 and T1-T4, as rustc would call it, beside the bare `syn` parse of the same
//! function that any attribute macro pays.
//!
//! A proc-macro crate exports nothing but its macros, so this benchmark mounts the
//! expansion core's modules itself (the way serde_derive_internals shares serde_derive's
//! sources) and calls the driver, `expand::differentiable`, on `proc_macro2` token streams.
//! The functions are read from the benchmark sources where the cases are defined
//! (`benches/scalar/cases.rs`, `benches/tensor/cases.rs`), so the streams are exactly what
//! the compiler hands the macro there.
//!
//! ```text
//! cargo bench -p grad-macros --bench expand
//! ```

// The bench calls only the attribute's driver; the derive and the rest of the core are
// mounted because the driver's modules name each other through `crate::`.
#![allow(dead_code)]

#[path = "../src/activity.rs"]
mod activity;
#[path = "../src/ast.rs"]
mod ast;
#[path = "../src/attr.rs"]
mod attr;
#[path = "../src/check.rs"]
mod check;
#[path = "../src/checkpoint.rs"]
mod checkpoint;
#[path = "../src/ctxt.rs"]
mod ctxt;
#[path = "../src/desugar/mod.rs"]
mod desugar;
#[path = "../src/diag.rs"]
mod diag;
#[path = "../src/donate.rs"]
mod donate;
#[path = "../src/emit.rs"]
mod emit;
#[path = "../src/expand.rs"]
mod expand;
#[path = "../src/fallback.rs"]
mod fallback;
#[path = "../src/forward.rs"]
mod forward;
#[path = "../src/fuse.rs"]
mod fuse;
#[path = "../src/gather.rs"]
mod gather;
#[path = "../src/impls.rs"]
mod impls;
#[path = "../src/ir.rs"]
mod ir;
#[path = "../src/jacobian.rs"]
mod jacobian;
#[path = "../src/lower/mod.rs"]
mod lower;
#[path = "../src/names.rs"]
mod names;
#[path = "../src/pairs.rs"]
mod pairs;
#[path = "../src/prims.rs"]
mod prims;
#[path = "../src/recursion.rs"]
mod recursion;
#[path = "../src/recycle.rs"]
mod recycle;
#[path = "../src/reverse.rs"]
mod reverse;
#[path = "../src/revolve.rs"]
mod revolve;
#[path = "../src/second.rs"]
mod second;
#[path = "../src/stores.rs"]
mod stores;
#[path = "../src/window.rs"]
mod window;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use proc_macro2::TokenStream;
use quote::ToTokens;

/// One `#[differentiable]` function as the attribute receives it.
struct Case {
    name: String,
    args: TokenStream,
    item: TokenStream,
}

/// Every `#[differentiable]` function of a source file, with the attribute taken off the
/// item and its arguments (empty for a bare `#[differentiable]`) kept apart.
fn cases_in(source: &str) -> Vec<Case> {
    let file = syn::parse_file(source).expect("the benchmark cases parse");
    let mut cases = Vec::new();
    for item in file.items {
        let syn::Item::Fn(mut f) = item else { continue };
        let Some(at) = f
            .attrs
            .iter()
            .position(|a| a.path().is_ident("differentiable"))
        else {
            continue;
        };
        let attr = f.attrs.remove(at);
        let args = match attr.meta {
            syn::Meta::List(list) => list.tokens,
            _ => TokenStream::new(),
        };
        cases.push(Case {
            name: f.sig.ident.to_string(),
            args,
            item: f.into_token_stream(),
        });
    }
    cases
}

/// Tokens in a stream, a delimited group counting as one token plus its contents.
fn tokens(stream: &TokenStream) -> usize {
    stream
        .clone()
        .into_iter()
        .map(|tree| match tree {
            proc_macro2::TokenTree::Group(g) => 1 + tokens(&g.stream()),
            _ => 1,
        })
        .sum()
}

fn bench(c: &mut Criterion) {
    let mut cases = cases_in(include_str!("../../benches/scalar/cases.rs"));
    cases.extend(cases_in(include_str!("../../benches/tensor/cases.rs")));
    assert!(cases.len() >= 9, "found only {} cases", cases.len());

    println!("expanded size (tokens in, tokens out):");
    for case in &cases {
        let out = expand::differentiable(case.args.clone(), case.item.clone());
        let text = out.to_string();
        assert!(
            !text.contains("compile_error"),
            "{} does not expand: {text}",
            case.name
        );
        println!("  {}: {}, {}", case.name, tokens(&case.item), tokens(&out));
    }

    let mut group = c.benchmark_group("expand");
    for case in &cases {
        group.bench_function(format!("{}/parse", case.name), |b| {
            b.iter(|| {
                let f: syn::ItemFn = syn::parse2(black_box(case.item.clone())).expect("parses");
                black_box(f);
            })
        });
        group.bench_function(format!("{}/expand", case.name), |b| {
            b.iter(|| {
                let out = expand::differentiable(
                    black_box(case.args.clone()),
                    black_box(case.item.clone()),
                );
                black_box(out);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
