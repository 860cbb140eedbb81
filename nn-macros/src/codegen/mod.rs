//! Code generation from a valid [`Network`] model. Assumes the model is valid and never
//! reports errors. Every path is absolute (`#krate::...`), every local starts with
//! `__nn_`, so the expansion compiles under `#![no_implicit_prelude]` and next to any
//! user items.

mod passes;
mod types;

use crate::ast::NetworkDecl;
use crate::model::{Layer, Network};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

/// Names and paths shared by the generators.
pub struct Ctx<'a> {
    pub net: &'a Network,
    /// The runtime crate (`::nn`).
    pub k: TokenStream,
    /// `#k::__private`.
    pub p: TokenStream,
    pub name: Ident,
    pub grads: Ident,
    pub tape: Ident,
    pub inputs: Literal,
    pub outputs: Literal,
}

impl<'a> Ctx<'a> {
    fn new(net: &'a Network, k: &TokenStream) -> Self {
        let name = net.ident.clone();
        Ctx {
            net,
            k: k.clone(),
            p: quote!(#k::__private),
            grads: format_ident!("{}Gradients", name),
            tape: format_ident!("{}Tape", name),
            name,
            inputs: lit(net.inputs),
            outputs: lit(net.outputs()),
        }
    }

    /// `SMatrix<T, rows, { B }>` filled with zeros.
    pub fn zeros(&self, rows: usize) -> TokenStream {
        let p = &self.p;
        let rows = lit(rows);
        quote!(#p::SMatrix::<T, #rows, { B }>::zeros())
    }
}

/// An unsuffixed integer literal.
pub fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// The full expansion of one valid network.
///
/// The generated code names its scalar parameter `T` and its batch size `B`. A network
/// itself called `T` or `B` would be shadowed by them, so it is generated under a
/// placeholder name and the identifiers are renamed afterwards.
pub fn expand(net: &Network, krate: &TokenStream) -> TokenStream {
    let name = net.ident.to_string();
    if name == "T" || name == "B" {
        const PLACEHOLDER: &str = "__NnNetworkName";
        let renamed = Network {
            attrs: net.attrs.clone(),
            vis: net.vis.clone(),
            ident: Ident::new(PLACEHOLDER, net.ident.span()),
            inputs: net.inputs,
            input_span: net.input_span,
            layers: net.layers.iter().map(Layer::clone).collect(),
        };
        let tokens = generate(&renamed, krate);
        return rename(tokens, &|id: &Ident| {
            let s = id.to_string();
            if let Some(rest) = s.strip_prefix(PLACEHOLDER) {
                Some(Ident::new(&format!("{name}{rest}"), id.span()))
            } else if s == "T" {
                Some(Ident::new("__NnScalar", id.span()))
            } else if s == "B" {
                Some(Ident::new("__NN_BATCH", id.span()))
            } else {
                None
            }
        });
    }
    generate(net, krate)
}

fn rename(tokens: TokenStream, f: &dyn Fn(&Ident) -> Option<Ident>) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Ident(id) => TokenTree::Ident(f(&id).unwrap_or(id)),
            TokenTree::Group(g) => {
                let mut ng = Group::new(g.delimiter(), rename(g.stream(), f));
                ng.set_span(g.span());
                TokenTree::Group(ng)
            }
            other => other,
        })
        .collect()
}

fn generate(net: &Network, krate: &TokenStream) -> TokenStream {
    let cx = Ctx::new(net, krate);
    let types = types::generate(&cx);
    let passes = passes::generate(&cx);
    quote! {
        #types
        #passes
    }
}

/// What is emitted after an error: the bare type, so that code naming it does not add
/// "cannot find type" errors to the real one.
pub fn fallback(decl: &NetworkDecl, krate: &TokenStream) -> TokenStream {
    let vis = &decl.vis;
    let name = &decl.ident;
    let attrs = decl.attrs.iter().filter(|a| a.path().is_ident("doc"));
    quote! {
        #(#attrs)*
        #vis struct #name<T: #krate::Scalar = f32>(::core::marker::PhantomData<T>);
    }
}
