//! Semantic checks: turns the parsed declaration into a [`model::Network`] with every size
//! resolved, or reports every mistake at once, each spanned on the offending token and
//! naming the layer and both sizes.

use crate::ast::{Arg, Item, LayerItem, NetworkDecl};
use crate::model::{Layer, Network};
use crate::table::{self, TABLE};
use proc_macro2::{Span, TokenStream};
use syn::{Ident, Lit, LitInt};

/// Collects errors so the user sees every mistake in one build.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push_err(syn::Error::new(span, msg));
    }
    pub fn push_err(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }
}

/// How a layer is written, for messages: `dense(32 -> 10)`.
pub fn describe(item: &LayerItem) -> String {
    let mut s = item.kind.to_string();
    if let Some(args) = &item.args {
        let parts: Vec<String> = args
            .list
            .iter()
            .map(|a| match a {
                Arg::Int(i) => i.base10_digits().to_string(),
                Arg::Arrow(a, b) => format!("{} -> {}", a.base10_digits(), b.base10_digits()),
                Arg::Number { value, .. } => format!("{value}"),
                Arg::KeyValue { key, value } => format!("{key} = {}", lit_text(value)),
                Arg::Other(l) => lit_text(l),
            })
            .collect();
        s.push('(');
        s.push_str(&parts.join(", "));
        s.push(')');
    }
    s
}

fn lit_text(l: &Lit) -> String {
    match l {
        Lit::Bool(b) => b.value.to_string(),
        Lit::Int(i) => i.base10_digits().to_string(),
        Lit::Float(f) => f.base10_digits().to_string(),
        Lit::Str(s) => format!("{:?}", s.value()),
        _ => "...".to_string(),
    }
}

fn size(lit: &LitInt, errors: &mut Errors) -> Option<usize> {
    match lit.base10_parse::<usize>() {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push_err(e);
            None
        }
    }
}

/// Levenshtein distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The known layer closest to `name`, if it is close enough to be a likely typo.
pub fn suggest(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    if let Some(e) = TABLE
        .iter()
        .find(|e| e.name == lower || e.aliases.contains(&lower.as_str()))
    {
        return Some(e.name);
    }
    TABLE
        .iter()
        .map(|e| (distance(&lower, e.name), e.name))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1) + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Checks a declaration and resolves every size.
pub fn validate(decl: &NetworkDecl, p: &TokenStream) -> syn::Result<Network> {
    let mut errors = Errors::default();
    let net = &decl.ident;

    // `input: N` must come first, exactly once.
    let mut inputs: Option<usize> = None;
    let mut input_span = decl.ident.span();
    let mut layer_items: Vec<&LayerItem> = Vec::new();
    for (pos, item) in decl.items.iter().enumerate() {
        match item {
            Item::Input { keyword, size: lit } => {
                if pos != 0 {
                    let after = match layer_items.last() {
                        Some(prev) => format!(
                            "; here it follows layer {} `{}`",
                            layer_items.len() - 1,
                            describe(prev)
                        ),
                        None => String::new(),
                    };
                    let msg = if inputs.is_some() || matches!(decl.items[0], Item::Input { .. }) {
                        format!(
                            "`input` is declared twice in `{net}`: a network has one input size"
                        )
                    } else {
                        format!("`input: N` must be the first item of `{net}`{after}")
                    };
                    errors.push(keyword.span(), msg);
                    continue;
                }
                input_span = keyword
                    .span()
                    .join(lit.span())
                    .unwrap_or_else(|| keyword.span());
                if let Some(n) = size(lit, &mut errors) {
                    if n == 0 {
                        errors.push(
                            lit.span(),
                            format!("`input: 0` in `{net}`: a network needs at least 1 input"),
                        );
                    }
                    inputs = Some(n);
                }
            }
            Item::Layer(l) => layer_items.push(l),
        }
    }
    let missing_input = !decl.items.iter().any(|i| matches!(i, Item::Input { .. }));
    if missing_input {
        let (span, before) = match layer_items.first() {
            Some(first) => (
                first.name.as_ref().unwrap_or(&first.kind).span(),
                format!(", before layer 0 `{}`", describe(first)),
            ),
            None => (decl.ident.span(), String::new()),
        };
        errors.push(
            span,
            format!("network `{net}` must start with `input: N`, the number of inputs{before}"),
        );
    }
    if layer_items.is_empty() {
        errors.push(
            decl.brace_span,
            format!(
                "network `{net}` has no layers: add at least one after `input: N`, e.g. `dense(4)`"
            ),
        );
    }

    // Resolve each layer; `prev` is the size flowing into it.
    let mut prev: Option<usize> = inputs;
    let mut prev_desc = match inputs {
        Some(n) => format!("`input: {n}`"),
        None => String::new(),
    };
    let mut layers = Vec::new();
    let mut names: Vec<Ident> = Vec::new();
    for (index, item) in layer_items.iter().enumerate() {
        let desc = describe(item);
        let what = format!("layer {index} `{desc}`");
        let kind_name = item.kind.to_string();
        let span = item.kind.span();
        if let Some(name) = &item.name {
            let s = name.to_string();
            if names.iter().any(|n| n == name) {
                errors.push(
                    name.span(),
                    format!("layer name `{s}` is used twice in `{net}`"),
                );
            }
            if s.starts_with("__") {
                errors.push(
                    name.span(),
                    format!("layer name `{s}`: names starting with `__` are reserved"),
                );
            }
            if let Some(num) = s.strip_prefix("layer") {
                if num.parse::<usize>().is_ok() {
                    errors.push(
                        name.span(),
                        format!("layer name `{s}` clashes with the field name `network!` gives unnamed layers; choose another name"),
                    );
                }
            }
            names.push(name.clone());
        }
        let args: &[Arg] = item.args.as_ref().map_or(&[], |a| &a.list);
        let args_span = item.args.as_ref().map_or(span, |a| a.span);
        let resolved = match table::lookup(&kind_name) {
            Some(entry) => (entry.resolve)(&mut table::Cx {
                what: &what,
                name: &kind_name,
                args,
                args_span,
                has_args: item.args.is_some(),
                prev,
                prev_desc: &prev_desc,
                errors: &mut errors,
                p,
            }),
            None => {
                let hint = match suggest(&kind_name) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => {
                        let known: Vec<&str> = TABLE.iter().map(|e| e.name).collect();
                        format!("known layers: {}", known.join(", "))
                    }
                };
                errors.push(
                    span,
                    format!("unknown layer `{kind_name}` (layer {index}); {hint}"),
                );
                None
            }
        };
        match (resolved, prev) {
            (Some(r), Some(p)) => {
                let field = match &item.name {
                    Some(n) => n.clone(),
                    None => Ident::new(&format!("layer{index}"), span),
                };
                let tensor_prefix = match &item.name {
                    Some(n) => n.to_string(),
                    None => index.to_string(),
                };
                let outputs = r.outputs;
                layers.push(Layer {
                    index,
                    field,
                    tensor_prefix,
                    inputs: p,
                    outputs,
                    span,
                    ty: r.ty,
                    value: r.value,
                    tensors: r.tensors,
                    caps: r.caps,
                    describe: r.describe,
                });
                prev = Some(outputs);
                prev_desc = format!("layer {index} `{desc}`");
            }
            _ => {
                // The size after an invalid layer is unknown: stop checking sizes, but
                // keep reporting other mistakes.
                prev = None;
            }
        }
    }

    if let Some(e) = errors.0 {
        return Err(e);
    }
    let network = Network {
        attrs: decl.attrs.clone(),
        vis: decl.vis.clone(),
        ident: decl.ident.clone(),
        inputs: inputs.expect("checked above"),
        input_span,
        layers,
    };
    // Sizes must fit in memory arithmetic.
    let mut total: usize = 0;
    for l in &network.layers {
        let n = l
            .inputs
            .checked_mul(l.outputs)
            .and_then(|w| w.checked_add(l.outputs));
        match n.and_then(|n| total.checked_add(n)) {
            Some(t) => total = t,
            None => {
                return Err(syn::Error::new(
                    l.span,
                    format!(
                        "layer {} is too large: its parameter count overflows `usize`",
                        l.index
                    ),
                ))
            }
        }
    }
    Ok(network)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str) -> Result<Network, String> {
        let decl: NetworkDecl = syn::parse_str(src).map_err(|e| e.to_string())?;
        validate(&decl, &quote::quote!(::nn::__private)).map_err(|e| {
            e.into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    fn err(src: &str) -> String {
        match check(src) {
            Ok(_) => panic!("expected an error for {src}"),
            Err(e) => e,
        }
    }

    #[test]
    fn resolves_sizes() {
        let n = check(
            "struct N { input: 3, dense(5), relu, hidden: dense(5 -> 2, bias = false), softmax }",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let sizes: Vec<_> = n.layers.iter().map(|l| (l.inputs, l.outputs)).collect();
        assert_eq!(sizes, vec![(3, 5), (5, 5), (5, 2), (2, 2)]);
        assert_eq!(n.layers[2].describe, "dense(5 -> 2, bias = false)");
        assert_eq!(n.layers[2].tensor_prefix, "hidden");
        assert_eq!(n.params(), 3 * 5 + 5 + 5 * 2);
        let names: Vec<_> = n.tensors().iter().map(|t| t.name.clone()).collect();
        assert_eq!(names, vec!["0.weight", "0.bias", "hidden.weight"]);
    }

    #[test]
    fn arrow_mismatch_names_layer_and_sizes() {
        let e = err("struct N { input: 4, dense(16), sigmoid, dense(32 -> 10) }");
        assert_eq!(
            e,
            "layer 2 `dense(32 -> 10)` expects 32 inputs, but the previous layer produces 16 (layer 1 `sigmoid`)"
        );
    }

    #[test]
    fn all_errors_reported() {
        let e = err("struct N { input: 0, desne(3), dense(0), relu(2) }");
        assert!(e.contains("`input: 0`"), "{e}");
        assert!(
            e.contains("unknown layer `desne` (layer 0); did you mean `dense`?"),
            "{e}"
        );
        assert!(e.contains("takes no arguments"), "{e}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("Relu"), Some("relu"));
        assert_eq!(suggest("linear"), Some("dense"));
        assert_eq!(suggest("sigmod"), Some("sigmoid"));
        assert_eq!(suggest("leakyrelu"), Some("leaky_relu"));
        assert_eq!(suggest("conv2d"), None);
    }

    #[test]
    fn input_placement() {
        assert!(err("struct N { dense(3) }").contains("must start with `input: N`"));
        assert!(check("struct N { dense(3), input: 2 }").is_err());
        assert!(err("struct N { input: 2, input: 3, relu }").contains("twice"));
        assert!(err("struct N { input: 2 }").contains("no layers"));
    }
}
