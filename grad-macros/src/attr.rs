//! The arguments of `#[differentiable(...)]`: `wrt(...)`, `reverse` / `forward`, `order = 2`,
//! `jacobian`, `checkpoint`, `crate = path`.

use crate::ctxt::Ctxt;
use crate::diag;
use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, Path, Token};

mod kw {
    syn::custom_keyword!(wrt);
    syn::custom_keyword!(reverse);
    syn::custom_keyword!(forward);
    syn::custom_keyword!(jacobian);
    syn::custom_keyword!(checkpoint);
    syn::custom_keyword!(order);
}

/// Which derivative items to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modes {
    Both,
    Reverse,
    Forward,
}

impl Modes {
    pub fn reverse(self) -> bool {
        self != Modes::Forward
    }
    pub fn forward(self) -> bool {
        self != Modes::Reverse
    }
}

/// The parsed attribute.
pub struct Attr {
    /// The names in `wrt(...)`, if given (`self` included as an identifier).
    pub wrt: Option<Vec<Ident>>,
    pub modes: Modes,
    /// `jacobian` was given (its span, for errors about it): `f_jacobian` is written too.
    pub jacobian: Option<proc_macro2::Span>,
    /// `checkpoint` was given (its span, for errors about it): `_vjp`'s pullback keeps only
    /// the arguments and runs the forward sweep again (see `checkpoint`).
    pub checkpoint: Option<proc_macro2::Span>,
    /// `order = 2` was given (the span of `order`, for errors about it): `f_hvp` is written
    /// too (see `second`). `order = 1` is the default and writes nothing more.
    pub order2: Option<proc_macro2::Span>,
    /// The path generated code uses for the runtime (`::grad` unless `crate = path`).
    pub krate: Path,
}

enum Arg {
    Wrt(kw::wrt, Vec<Ident>),
    Reverse(kw::reverse),
    Forward(kw::forward),
    Jacobian(kw::jacobian),
    Checkpoint(kw::checkpoint),
    Order(kw::order, syn::LitInt),
    Crate(Token![crate], Path),
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let look = input.lookahead1();
        if look.peek(kw::wrt) {
            let kw: kw::wrt = input.parse()?;
            let content;
            syn::parenthesized!(content in input);
            let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(
                &content,
                syn::ext::IdentExt::parse_any,
            )?;
            Ok(Arg::Wrt(kw, names.into_iter().collect()))
        } else if look.peek(kw::reverse) {
            Ok(Arg::Reverse(input.parse()?))
        } else if look.peek(kw::forward) {
            Ok(Arg::Forward(input.parse()?))
        } else if look.peek(kw::jacobian) {
            Ok(Arg::Jacobian(input.parse()?))
        } else if look.peek(kw::checkpoint) {
            let kw: kw::checkpoint = input.parse()?;
            // `checkpoint(2)`, `checkpoint = true`: it takes nothing.
            if !input.is_empty() && !input.peek(Token![,]) {
                let next: proc_macro2::TokenTree = input.parse()?;
                return Err(syn::Error::new_spanned(next, diag::CHECKPOINT_ARGS));
            }
            Ok(Arg::Checkpoint(kw))
        } else if look.peek(kw::order) {
            let kw: kw::order = input.parse()?;
            input.parse::<Token![=]>()?;
            // `order = two`, `order = 2.0`: the order is an integer literal.
            let lit = match input.parse::<syn::Lit>() {
                Ok(syn::Lit::Int(lit)) => lit,
                Ok(other) => return Err(syn::Error::new_spanned(other, diag::ORDER_VALUE)),
                Err(e) => return Err(syn::Error::new(e.span(), diag::ORDER_VALUE)),
            };
            Ok(Arg::Order(kw, lit))
        } else if look.peek(Token![crate]) {
            let kw: Token![crate] = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok(Arg::Crate(kw, input.parse()?))
        } else {
            Err(syn::Error::new(input.span(), diag::ATTR_UNKNOWN))
        }
    }
}

/// Parses the attribute's arguments, recording problems in `cx`.
pub fn parse(cx: &mut Ctxt, args: TokenStream) -> Attr {
    let mut attr = Attr {
        wrt: None,
        modes: Modes::Both,
        jacobian: None,
        checkpoint: None,
        order2: None,
        krate: syn::parse_quote!(::grad),
    };
    let parsed = match Punctuated::<Arg, Token![,]>::parse_terminated.parse2(args) {
        Ok(parsed) => parsed,
        Err(e) => {
            cx.syn_error(e);
            return attr;
        }
    };
    let mut seen_mode: Option<proc_macro2::Span> = None;
    let mut seen_crate = false;
    let mut seen_order = false;
    for arg in parsed {
        match arg {
            Arg::Wrt(kw, names) => {
                if attr.wrt.is_some() {
                    cx.error(kw.span, diag::ATTR_DUPLICATE);
                } else if names.is_empty() {
                    cx.error(kw.span, diag::WRT_EMPTY);
                }
                attr.wrt = Some(names);
            }
            Arg::Reverse(kw) => {
                set_mode(cx, &mut attr, &mut seen_mode, kw.span, Modes::Reverse);
            }
            Arg::Forward(kw) => {
                set_mode(cx, &mut attr, &mut seen_mode, kw.span, Modes::Forward);
            }
            Arg::Jacobian(kw) => {
                if attr.jacobian.is_some() {
                    cx.error(kw.span, diag::ATTR_DUPLICATE);
                }
                attr.jacobian = Some(kw.span);
            }
            Arg::Checkpoint(kw) => {
                if attr.checkpoint.is_some() {
                    cx.error(kw.span, diag::ATTR_DUPLICATE);
                }
                attr.checkpoint = Some(kw.span);
            }
            Arg::Order(kw, lit) => {
                if seen_order {
                    cx.error(kw.span, diag::ATTR_DUPLICATE);
                }
                seen_order = true;
                match lit.base10_parse::<u64>() {
                    Ok(1) => {}
                    Ok(2) => attr.order2 = Some(kw.span),
                    _ => cx.error_at(&lit, diag::order_unsupported(&lit.to_string())),
                }
            }
            Arg::Crate(kw, path) => {
                if seen_crate {
                    cx.error(kw.span, diag::ATTR_DUPLICATE);
                }
                seen_crate = true;
                attr.krate = path;
            }
        }
    }
    attr
}

fn set_mode(
    cx: &mut Ctxt,
    attr: &mut Attr,
    seen: &mut Option<proc_macro2::Span>,
    span: proc_macro2::Span,
    mode: Modes,
) {
    match seen {
        Some(_) if attr.modes == mode => cx.error(span, diag::ATTR_DUPLICATE),
        Some(_) => cx.error(span, diag::ATTR_BOTH_MODES),
        None => {
            *seen = Some(span);
            attr.modes = mode;
        }
    }
}
