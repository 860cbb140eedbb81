//! The `network!` procedural macro of `nn-runtime`.
//!
//! This crate is an implementation detail: depend on `nn-runtime`, which re-exports the
//! macro and documents its grammar. The macro works in stages, each on `proc_macro2`
//! so it can be unit-tested: `ast` parses the grammar as written (every span kept),
//! `validate` checks it against the layer `table` (one entry per kind) and builds the
//! `model` (every size resolved, every error collected), `plan` makes every fusion
//! decision from the layers' capabilities, and `codegen` expands a valid model into one
//! call of the runtime's layer protocol per layer per pass.

mod ast;
mod codegen;
mod krate;
mod model;
mod plan;
mod table;
mod validate;

use proc_macro::TokenStream;

#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    expand(input.into()).into()
}

fn expand(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let parsed: ast::Input = match syn::parse2(input) {
        Ok(p) => p,
        Err(e) => return e.to_compile_error(),
    };
    let krate = krate::runtime_path();
    let mut out = proc_macro2::TokenStream::new();
    for decl in &parsed.networks {
        match validate::validate(decl, &quote::quote!(#krate::__private)) {
            Ok(model) => out.extend(codegen::expand(&model, &krate)),
            Err(err) => {
                out.extend(err.to_compile_error());
                // Still declare the type so that code using it does not drown the real
                // error in follow-on "cannot find type" errors.
                out.extend(codegen::fallback(decl, &krate));
            }
        }
    }
    out
}
