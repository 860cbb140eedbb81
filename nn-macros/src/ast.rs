//! The grammar of `network!` as written, with every span kept.
//!
//! ```text
//! input   := network+
//! network := attribute* visibility "struct" IDENT "{" item ("," item)* ","? "}"
//! item    := (IDENT ":")? IDENT ("(" arg ("," arg)* ","? ")")?
//!          | "input" ":" INT
//! arg     := INT | INT "->" INT | "-"? FLOAT | "-"? INT | IDENT "=" literal
//! ```

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, parenthesized, Attribute, Ident, Lit, LitInt, Token, Visibility};

/// One invocation: one or more network declarations.
pub struct Input {
    pub networks: Vec<NetworkDecl>,
}

/// `#[attrs] vis struct Name { items }`.
pub struct NetworkDecl {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    pub brace_span: Span,
    pub items: Vec<Item>,
}

/// One comma-separated entry of the body.
pub enum Item {
    /// `input: N`.
    Input { keyword: Ident, size: LitInt },
    /// `name: kind(args)`, name and arguments optional.
    Layer(LayerItem),
}

pub struct LayerItem {
    pub name: Option<Ident>,
    pub kind: Ident,
    pub args: Option<Args>,
}

pub struct Args {
    pub span: Span,
    pub list: Vec<Arg>,
}

/// An argument of a layer.
pub enum Arg {
    /// `16`.
    Int(LitInt),
    /// `32 -> 10`.
    Arrow(LitInt, LitInt),
    /// `0.2`, `-0.1`, `-1` (a signed or real number).
    Number { value: f64, span: Span },
    /// `bias = false`.
    KeyValue { key: Ident, value: Lit },
    /// Any other literal (`"a"`, `true`): the layer's table entry says what it expected.
    Other(Lit),
}

impl Arg {
    pub fn span(&self) -> Span {
        match self {
            Arg::Int(l) => l.span(),
            Arg::Arrow(a, b) => a.span().join(b.span()).unwrap_or_else(|| a.span()),
            Arg::Number { span, .. } => *span,
            Arg::KeyValue { key, value } => {
                key.span().join(value.span()).unwrap_or_else(|| key.span())
            }
            Arg::Other(l) => l.span(),
        }
    }
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut networks = Vec::new();
        while !input.is_empty() {
            networks.push(input.parse()?);
        }
        if networks.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "`network!` needs at least one declaration, e.g. \
                 `pub struct Net { input: 2, dense(4), softmax }`",
            ));
        }
        Ok(Input { networks })
    }
}

impl Parse for NetworkDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if !input.peek(Token![struct]) {
            return Err(input.error(
                "expected `struct`: a network is declared as `pub struct Name { input: N, ... }`",
            ));
        }
        input.parse::<Token![struct]>()?;
        let ident: Ident = input.parse()?;
        if input.peek(Token![<]) {
            return Err(input.error(
                "a network takes no generic parameters: `network!` adds the scalar type \
                 parameter itself (`Name<T: nn::Scalar = f32>`); write `Name::<f64>` to choose it",
            ));
        }
        if !input.peek(syn::token::Brace) {
            return Err(input.error(format!(
                "expected `{{` after `struct {ident}`: the body lists the layers, \
                 e.g. `{{ input: 2, dense(4), softmax }}`"
            )));
        }
        let body;
        let brace = braced!(body in input);
        let items = Punctuated::<Item, Token![,]>::parse_terminated(&body)?;
        Ok(NetworkDecl {
            attrs,
            vis,
            ident,
            brace_span: brace.span.join(),
            items: items.into_iter().collect(),
        })
    }
}

impl Parse for Item {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let first: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a layer such as `dense(16)` or `relu`, or `input: N`",
            )
        })?;
        if input.peek(Token![:]) && !input.peek(Token![::]) {
            input.parse::<Token![:]>()?;
            if input.peek(LitInt) {
                let size: LitInt = input.parse()?;
                if first != "input" {
                    return Err(syn::Error::new(
                        size.span(),
                        format!(
                            "`{first}: {size}`: only `input` takes a bare size; \
                             did you mean `{first}: dense({size})`?"
                        ),
                    ));
                }
                return Ok(Item::Input {
                    keyword: first,
                    size,
                });
            }
            if first == "input" {
                return Err(syn::Error::new(
                    input.span(),
                    "expected the number of inputs after `input:`, e.g. `input: 784`",
                ));
            }
            let kind: Ident = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("expected a layer after `{first}:`, e.g. `{first}: dense(16)`"),
                )
            })?;
            let args = parse_args(input)?;
            return Ok(Item::Layer(LayerItem {
                name: Some(first),
                kind,
                args,
            }));
        }
        let args = parse_args(input)?;
        Ok(Item::Layer(LayerItem {
            name: None,
            kind: first,
            args,
        }))
    }
}

fn parse_args(input: ParseStream) -> syn::Result<Option<Args>> {
    if !input.peek(syn::token::Paren) {
        if !input.is_empty() && !input.peek(Token![,]) {
            return Err(input.error("expected `,` between layers"));
        }
        return Ok(None);
    }
    let content;
    let paren = parenthesized!(content in input);
    let list = Punctuated::<Arg, Token![,]>::parse_terminated(&content)?;
    if !input.is_empty() && !input.peek(Token![,]) {
        return Err(input.error("expected `,` between layers"));
    }
    Ok(Some(Args {
        span: paren.span.join(),
        list: list.into_iter().collect(),
    }))
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let value: Lit = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("expected a literal value for `{key} = ...`"),
                )
            })?;
            return Ok(Arg::KeyValue { key, value });
        }
        let neg = if input.peek(Token![-]) && !input.peek(Token![->]) {
            Some(input.parse::<Token![-]>()?)
        } else {
            None
        };
        let lit: Lit = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a layer argument: a size (`16`), `IN -> OUT`, a number (`0.2`) \
                 or `key = value`",
            )
        })?;
        match (neg, lit) {
            (None, Lit::Int(i)) => {
                if input.peek(Token![->]) {
                    input.parse::<Token![->]>()?;
                    let out: LitInt = input.parse().map_err(|e| {
                        syn::Error::new(e.span(), "expected the output size after `->`")
                    })?;
                    Ok(Arg::Arrow(i, out))
                } else {
                    Ok(Arg::Int(i))
                }
            }
            (neg, Lit::Int(i)) => Ok(Arg::Number {
                value: -i.base10_parse::<f64>()?,
                span: join(neg.map(|n| n.span), i.span()),
            }),
            (neg, Lit::Float(f)) => {
                let v = f.base10_parse::<f64>()?;
                Ok(Arg::Number {
                    value: if neg.is_some() { -v } else { v },
                    span: join(neg.map(|n| n.span), f.span()),
                })
            }
            (_, other) => Ok(Arg::Other(other)),
        }
    }
}

fn join(a: Option<Span>, b: Span) -> Span {
    a.and_then(|a| a.join(b)).unwrap_or(b)
}
