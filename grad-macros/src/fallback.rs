//! On error: the user's function as written, the errors, and stubs of the generated items
//! with their real signatures, so that call sites report nothing more.

use crate::ast::Function;
use crate::attr::{Attr, Modes};
use crate::ctxt::Ctxt;
use crate::expand::{Expansion, common_attrs, grad_type, pullback_type, ret_tangent};
use crate::names;
use proc_macro2::TokenStream;
use quote::quote;

pub fn emit(cx: &Ctxt, attr: &Attr, f: &Function) -> Expansion {
    let errors = cx.to_compile_errors();
    let item = &f.item;
    let sig = &item.sig;
    let (vis, inputs, ret) = (&item.vis, &sig.inputs, &f.ret);
    let (gen_params, where_clause) = (&sig.generics.params, &sig.generics.where_clause);
    let attrs = common_attrs(f);
    let mut out = TokenStream::new();
    if attr.modes != Modes::Forward {
        if f.scalar_ret {
            let name = names::item(&sig.ident, "grad");
            let g = grad_type(attr, f);
            out.extend(quote! {
                #attrs
                #vis fn #name<#gen_params>(#inputs) -> (#ret, #g) #where_clause {
                    ::core::unreachable!()
                }
            });
        }
        let name = names::item(&sig.ident, "vjp");
        let rt = ret_tangent(attr, f);
        let pb = pullback_type(attr, f);
        out.extend(quote! {
            #attrs
            #vis fn #name<#gen_params>(#inputs) -> (#ret, impl ::core::ops::FnOnce(#rt) -> #pb) #where_clause {
                (::core::unreachable!(), move |_: #rt| -> #pb { ::core::unreachable!() })
            }
        });
    }
    if attr.modes != Modes::Reverse {
        let name = names::item(&sig.ident, "jvp");
        let rt = ret_tangent(attr, f);
        let tparams = f.params.iter().map(|p| {
            let ty = f.tangent_arg_type(p, &attr.krate);
            quote!(_: #ty)
        });
        let comma = if inputs.is_empty() || inputs.trailing_punct() {
            quote!()
        } else {
            quote!(,)
        };
        out.extend(quote! {
            #attrs
            #vis fn #name<#gen_params>(#inputs #comma #(#tparams),*) -> (#ret, #rt) #where_clause {
                ::core::unreachable!()
            }
        });
    }
    out.extend(crate::jacobian::stub(attr, f));
    out.extend(crate::second::stub(attr, f));
    Expansion {
        item: item.clone(),
        errors,
        derived: out,
    }
}
