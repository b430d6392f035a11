//! `#[derive(Differentiable)]`: a struct's tangent struct `<Name>Tangent`, with the same field
//! names, and the `Differentiable` and `Tangent` impls that tie them together.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Index, Member};

mod twin;

const NOT_A_STRUCT: &str = "#[derive(Differentiable)] applies to structs; implement `grad::Differentiable` by hand for enums and unions";
const BAD_ATTR: &str = "`#[no_grad]` takes no arguments";

struct Field {
    member: Member,
    vis: syn::Visibility,
    ty: syn::Type,
    /// `#[no_grad]`: no gradient flows into it; its tangent is `()`.
    no_grad: bool,
}

/// The derive's core on token streams.
pub fn derive(input: TokenStream) -> TokenStream {
    match syn::parse2(input) {
        Ok(input) => derive_parsed(&input, false),
        Err(e) => e.to_compile_error(),
    }
}

/// The tangent struct and the impls; `twin`: for the struct's twin over duals (see
/// [`twin`]), whose tangent struct is hidden too and which has no twin of its own.
fn derive_parsed(input: &DeriveInput, twin: bool) -> TokenStream {
    let krate: syn::Path = syn::parse_quote!(::grad);
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        _ => return syn::Error::new_spanned(&input.ident, NOT_A_STRUCT).to_compile_error(),
    };
    let mut errors = TokenStream::new();
    let list: Vec<Field> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut no_grad = false;
            for a in &f.attrs {
                if a.path().is_ident("no_grad") {
                    no_grad = true;
                    if !matches!(a.meta, syn::Meta::Path(_)) {
                        errors.extend(syn::Error::new_spanned(a, BAD_ATTR).to_compile_error());
                    }
                }
            }
            Field {
                member: match &f.ident {
                    Some(id) => Member::Named(id.clone()),
                    None => Member::Unnamed(Index {
                        index: i as u32,
                        span: Span::call_site(),
                    }),
                },
                vis: f.vis.clone(),
                ty: f.ty.clone(),
                no_grad,
            }
        })
        .collect();

    let name = &input.ident;
    let tangent = format_ident!("{}Tangent", name, span = name.span());
    let vis = &input.vis;
    let (impl_g, ty_g, where_g) = input.generics.split_for_impl();
    let mut where_preds: Vec<TokenStream> = where_g
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    for f in list.iter().filter(|f| !f.no_grad) {
        let ty = &f.ty;
        where_preds.push(quote!(#ty: #krate::Differentiable));
    }
    let where_all = quote!(where #(#where_preds,)*);

    let field_ty = |f: &Field| {
        let ty = &f.ty;
        if f.no_grad {
            quote!(())
        } else {
            quote!(<#ty as #krate::Differentiable>::Tangent)
        }
    };
    let decl = match fields {
        Fields::Named(_) => {
            let items = list.iter().map(|f| {
                let (v, m, t) = (&f.vis, &f.member, field_ty(f));
                quote!(#v #m: #t)
            });
            quote!(#vis struct #tangent #impl_g #where_all { #(#items,)* })
        }
        Fields::Unnamed(_) => {
            let items = list.iter().map(|f| {
                let (v, t) = (&f.vis, field_ty(f));
                quote!(#v #t)
            });
            quote!(#vis struct #tangent #impl_g (#(#items,)*) #where_all;)
        }
        Fields::Unit => quote!(#vis struct #tangent;),
    };

    let build = |each: &dyn Fn(&Field) -> TokenStream| -> TokenStream {
        let items = list.iter().map(|f| {
            let m = &f.member;
            let v = each(f);
            quote!(#m: #v)
        });
        quote!(#tangent { #(#items,)* })
    };
    let zero = build(&|f| {
        let m = &f.member;
        if f.no_grad {
            quote!(())
        } else {
            quote!(#krate::Differentiable::zero_tangent(&self.#m))
        }
    });
    let clone = build(&|f| {
        let m = &f.member;
        quote!(::core::clone::Clone::clone(&self.#m))
    });
    let active: Vec<&Member> = list
        .iter()
        .filter(|f| !f.no_grad)
        .map(|f| &f.member)
        .collect();
    // A field's name in parameter paths: `w`, `0`, and `type` for `r#type`.
    let labels: Vec<String> = list
        .iter()
        .filter(|f| !f.no_grad)
        .map(|f| match &f.member {
            Member::Named(id) => id.unraw().to_string(),
            Member::Unnamed(i) => i.index.to_string(),
        })
        .collect();
    let doc = format!(
        "Tangents and cotangents of [`{name}`]: one field per field (`()` for `#[no_grad]` ones). Written by `#[derive(Differentiable)]`."
    );
    let dual_twin = if twin {
        TokenStream::new()
    } else {
        twin::items(input, &list, &tangent, &krate)
    };
    let debug_fields = list.iter().map(|f| {
        let m = &f.member;
        let label = quote!(#m).to_string();
        quote!(.field(#label, &self.#m))
    });
    let label = tangent.to_string();
    let mut debug_preds = where_preds.clone();
    for f in list.iter().filter(|f| !f.no_grad) {
        let ty = &f.ty;
        debug_preds.push(quote!(<#ty as #krate::Differentiable>::Tangent: ::core::fmt::Debug));
    }

    // Serialize and Deserialize, derived when grad's `serde` feature is on, exist where every
    // field's tangent has them. The `for<'__grad_s>` keeps a bound on a concrete type from
    // being checked where the struct is declared, so a struct whose tangents lack serde
    // still derives `Differentiable`.
    let serde_bound = |trait_: TokenStream| {
        let preds = list.iter().filter(|f| !f.no_grad).map(|f| {
            let ty = &f.ty;
            quote!(for<'__grad_s> <#ty as #krate::Differentiable>::Tangent: #trait_).to_string()
        });
        preds.collect::<Vec<_>>().join(", ")
    };
    let ser_bound = serde_bound(quote!(#krate::__private::serde::Serialize));
    let de_bound = serde_bound(quote!(#krate::__private::serde::Deserialize<'de>));

    // A tangent is itself differentiable, its own tangent type: `f_grad` of an `order = 2`
    // function returns one, and a caller differentiates through it (`energy_grad(&s, x)`
    // inside another loss). Written with the fields' `Tangent` methods alone, so it needs no
    // bound beyond the struct's.
    let p = quote!(#krate::__private);
    let tangent_differentiable = (!twin).then(|| {
        quote! {
            impl #impl_g #krate::Differentiable for #tangent #ty_g #where_all {
                type Tangent = Self;

                fn zero_tangent(&self) -> Self {
                    #p::tangent_zero(self)
                }

                fn move_along(&mut self, direction: &Self) {
                    #krate::Tangent::add_assign(self, ::core::clone::Clone::clone(direction));
                }

                fn visit_params_mut(&mut self, f: &mut dyn FnMut(#krate::FlatMut<'_>)) {
                    #krate::Tangent::visit_mut(self, f);
                }

                fn visit_named(
                    &self,
                    name: &mut ::std::string::String,
                    f: &mut dyn FnMut(&str, &[usize], #krate::Flat<'_>),
                ) {
                    #(#krate::in_field(name, #labels, |name| {
                        #p::tangent_named(&self.#active, name, f)
                    });)*
                }
            }
        }
    });
    // The twin's tangent is internal: no serde, no `Debug`.
    let tangent_decl = if twin {
        quote!(#[doc(hidden)] #decl)
    } else {
        quote! {
            #krate::__private::tangent_struct! {
                serialize = #ser_bound,
                deserialize = #de_bound,
                #[doc = #doc]
                #decl
            }

            impl #impl_g ::core::fmt::Debug for #tangent #ty_g where #(#debug_preds,)* {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#label) #(#debug_fields)* .finish()
                }
            }
        }
    };
    quote! {
        #errors
        #dual_twin
        #tangent_differentiable

        #tangent_decl

        impl #impl_g ::core::clone::Clone for #tangent #ty_g #where_all {
            fn clone(&self) -> Self {
                #clone
            }
        }

        impl #impl_g #krate::Differentiable for #name #ty_g #where_all {
            type Tangent = #tangent #ty_g;

            fn zero_tangent(&self) -> Self::Tangent {
                #zero
            }

            fn move_along(&mut self, direction: &Self::Tangent) {
                #(#krate::Differentiable::move_along(&mut self.#active, &direction.#active);)*
            }

            fn visit_params_mut(&mut self, f: &mut dyn FnMut(#krate::FlatMut<'_>)) {
                #(#krate::Differentiable::visit_params_mut(&mut self.#active, f);)*
            }

            fn visit_named(
                &self,
                name: &mut ::std::string::String,
                f: &mut dyn FnMut(&str, &[usize], #krate::Flat<'_>),
            ) {
                #(#krate::in_field(name, #labels, |name| {
                    #krate::Differentiable::visit_named(&self.#active, name, f)
                });)*
            }

            fn visit_named_mut(
                &mut self,
                name: &mut ::std::string::String,
                f: &mut dyn FnMut(&str, &[usize], #krate::FlatMut<'_>),
            ) {
                #(#krate::in_field(name, #labels, |name| {
                    #krate::Differentiable::visit_named_mut(&mut self.#active, name, f)
                });)*
            }
        }

        impl #impl_g #krate::Tangent for #tangent #ty_g #where_all {
            fn add_assign(&mut self, other: Self) {
                #(#krate::Tangent::add_assign(&mut self.#active, other.#active);)*
            }

            fn scale(&mut self, factor: f64) {
                #(#krate::Tangent::scale(&mut self.#active, factor);)*
            }

            fn visit(&self, f: &mut dyn FnMut(#krate::Flat<'_>)) {
                #(#krate::Tangent::visit(&self.#active, f);)*
            }

            fn visit_mut(&mut self, f: &mut dyn FnMut(#krate::FlatMut<'_>)) {
                #(#krate::Tangent::visit_mut(&mut self.#active, f);)*
            }
        }
    }
}
