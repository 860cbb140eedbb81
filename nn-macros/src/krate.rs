//! Finding the path under which the user's crate depends on `nn-runtime`.

use proc_macro2::{Ident, Span, TokenStream};
use proc_macro_crate::{crate_name, FoundCrate};
use quote::quote;

/// `::nn` when the user depends on it as `nn = { package = "nn-runtime" }`, `::nn_runtime`
/// under its own name (and inside `nn-runtime`, which declares `extern crate self as
/// nn_runtime`).
pub fn runtime_path() -> TokenStream {
    match crate_name("nn-runtime") {
        Ok(FoundCrate::Name(name)) => {
            let ident = Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
        Ok(FoundCrate::Itself) | Err(_) => quote!(::nn_runtime),
    }
}
