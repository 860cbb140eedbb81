//! The layer table: one entry per layer kind, the only place the macro knows a kind.
//!
//! An entry gives the kind's name and aliases (for "did you mean"), and a `resolve`
//! function that reads the arguments, reports every mistake in them, and returns the
//! resolved layer: its output size, its runtime type with every size a literal, the value
//! to build for a kind without state, its tensors, and its [`Caps`]. The plan
//! (`plan.rs`) makes every fusion decision from the capabilities; code generation emits
//! one trait call per layer per pass and never looks at a kind.

use crate::ast::Arg;
use crate::validate::Errors;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Lit;

/// What a kind can do, for the plan's decisions.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Caps {
    /// Implements `nn::layer::InPlace`: inference runs it on the previous output.
    pub in_place: bool,
    /// Implements `nn::layer::FusedForward`: can run an epilogue activation in its
    /// forward pass.
    pub producer: bool,
    /// Implements `nn::layer::Epilogue`: a producer before it can apply it.
    pub epilogue: bool,
    /// Its backward pass reads only its output, so its input need not be stored.
    pub reads_output_only: bool,
    /// It is ReLU: the layer after it may pass its input gradient back through it.
    pub relu: bool,
    /// Computes its input gradient gated by a ReLU before it in its own kernel.
    pub gates_input: bool,
    /// Implements `nn::layer::LossHead`: a final layer the loss may fuse with.
    pub loss_head: bool,
    /// Its training forward pass equals its inference forward pass and it keeps no tape:
    /// the training passes may fuse it.
    pub train_is_inference: bool,
    /// The He gain it asks of the producer before it (`None`: Glorot).
    pub init_gain: Option<f64>,
    /// Keeps a tape (`Layer::Tape` other than `()`) from its training forward pass.
    pub tape: bool,
    /// Has running statistics that `Layer::update_buffers` moves after a training step.
    pub buffers: bool,
    /// Draws from the training context's generator (dropout): the network keeps a
    /// dropout stream.
    pub stochastic: bool,
    /// Is the identity in inference (dropout): inference skips it, so the layers around
    /// it may fuse.
    pub identity_in_inference: bool,
}

/// A parameter tensor of a kind, named relative to the layer.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorSpec {
    /// The name relative to the layer: `weight`, `0.bias` (a block's member).
    pub name: String,
    /// The fields leading to it from the layer's runtime type: `weight`,
    /// `body.layer0.bias`.
    pub path: Vec<String>,
    /// PyTorch's shape.
    pub shape: Vec<usize>,
    /// The runtime's `TensorKind` variant.
    pub kind: &'static str,
}

/// A resolved layer.
pub struct Resolved {
    pub outputs: usize,
    /// The runtime type, e.g. `#p::layers::Dense<T, 16, 784>`.
    pub ty: TokenStream,
    /// For a kind without state, the value to call it on (`#p::layer::Act(...)`); a kind
    /// with state is a field of the network, built by its type's `zeros()`.
    pub value: Option<TokenStream>,
    pub tensors: Vec<TensorSpec>,
    pub caps: Caps,
    /// How the layer is written in docs and `SUMMARY`: `dense(784 -> 16)`.
    pub describe: String,
}

/// What an entry's `resolve` sees.
pub struct Cx<'a> {
    /// `layer 3 `leaky_relu(0.1)``, to start messages.
    pub what: &'a str,
    pub name: &'a str,
    pub args: &'a [Arg],
    /// The arguments' parentheses, or the kind's name when there are none.
    pub args_span: Span,
    pub has_args: bool,
    /// The size flowing in, if known.
    pub prev: Option<usize>,
    /// What produces it, for messages: `layer 1 `sigmoid`` or `input: 4`.
    pub prev_desc: &'a str,
    pub errors: &'a mut Errors,
    /// `#k::__private`.
    pub p: &'a TokenStream,
}

pub struct Entry {
    pub name: &'static str,
    /// Names other libraries use for it.
    pub aliases: &'static [&'static str],
    pub resolve: fn(&mut Cx<'_>) -> Option<Resolved>,
}

/// Every layer kind.
pub const TABLE: &[Entry] = &[
    Entry {
        name: "dense",
        aliases: &["linear", "fc", "fully_connected"],
        resolve: dense,
    },
    act("identity", &["linear_activation", "none"]),
    act("step", &["heaviside"]),
    act("sigmoid", &["logistic"]),
    act("tanh", &[]),
    act("relu", &[]),
    Entry {
        name: "leaky_relu",
        aliases: &["leakyrelu", "lrelu"],
        resolve: leaky_relu,
    },
    Entry {
        name: "prelu",
        aliases: &[],
        resolve: prelu,
    },
    Entry {
        name: "softmax",
        aliases: &[],
        resolve: softmax,
    },
    Entry {
        name: "elu",
        aliases: &[],
        resolve: elu,
    },
    Entry {
        name: "dropout",
        aliases: &[],
        resolve: dropout,
    },
    Entry {
        name: "layer_norm",
        aliases: &["layernorm", "ln"],
        resolve: layer_norm,
    },
    act("gelu", &[]),
    act("softplus", &[]),
    act("silu", &["swish"]),
];

/// The entry named `name`.
pub fn lookup(name: &str) -> Option<&'static Entry> {
    TABLE.iter().find(|e| e.name == name)
}

fn lit(n: usize) -> proc_macro2::Literal {
    proc_macro2::Literal::usize_unsuffixed(n)
}

/// A float literal, negative values as `(-x)`.
fn float(v: f64) -> TokenStream {
    let l = proc_macro2::Literal::f64_unsuffixed(v.abs());
    if v.is_sign_negative() {
        quote!((-#l))
    } else {
        quote!(#l)
    }
}

impl Cx<'_> {
    fn no_args(&mut self) {
        if self.has_args {
            let msg = format!("{}: `{}` takes no arguments", self.what, self.name);
            self.errors.push(self.args_span, msg);
        }
    }

    /// The one optional number argument of a kind (`leaky_relu(0.1)`, `elu(alpha = 1)`),
    /// named `meaning` in messages; `keys` are the names it may be given by.
    fn number(&mut self, meaning: &str, keys: &[&str], default: f64) -> f64 {
        let (what, name) = (self.what, self.name);
        let expected =
            format!("{what}: expected the {meaning} as a number, e.g. `{name}({default})`");
        let value = match self.args {
            [] => default,
            [Arg::Number { value, .. }] => *value,
            [Arg::Int(l)] => l.base10_parse::<f64>().unwrap_or(default),
            [Arg::KeyValue { key, value }] if keys.iter().any(|k| key == k) => match value {
                Lit::Float(f) => f.base10_parse::<f64>().unwrap_or(default),
                Lit::Int(i) => i.base10_parse::<f64>().unwrap_or(default),
                other => {
                    self.errors.push(other.span(), &expected);
                    default
                }
            },
            [Arg::KeyValue { key, .. }] => {
                let msg = format!(
                    "{what}: unknown option `{key}` for `{name}`; its one argument is the {meaning} (`{}`)",
                    keys.join("`, `")
                );
                self.errors.push(key.span(), msg);
                default
            }
            [other] => {
                self.errors.push(other.span(), &expected);
                default
            }
            [_, extra, ..] => {
                let msg = format!("{what}: `{name}` takes one argument, the {meaning}");
                self.errors.push(extra.span(), msg);
                default
            }
        };
        if !value.is_finite() {
            let msg = format!("{what}: the {meaning} must be finite");
            self.errors.push(self.args_span, msg);
        }
        value
    }
}

/// An argument-free element-wise activation, listed in [`SIMPLE_ACTS`].
const fn act(name: &'static str, aliases: &'static [&'static str]) -> Entry {
    Entry {
        name,
        aliases,
        resolve: simple_act,
    }
}

/// The runtime type and He gain of each argument-free activation.
const SIMPLE_ACTS: &[(&str, &str, Option<f64>)] = &[
    ("identity", "Identity", None),
    ("step", "Step", None),
    ("sigmoid", "Sigmoid", None),
    ("tanh", "Tanh", None),
    ("relu", "Relu", Some(std::f64::consts::SQRT_2)),
    ("gelu", "Gelu", Some(std::f64::consts::SQRT_2)),
    ("softplus", "Softplus", Some(std::f64::consts::SQRT_2)),
    ("silu", "Silu", Some(std::f64::consts::SQRT_2)),
];

fn simple_act(cx: &mut Cx<'_>) -> Option<Resolved> {
    cx.no_args();
    let &(name, ty, init_gain) = SIMPLE_ACTS
        .iter()
        .find(|(n, _, _)| *n == cx.name)
        .expect("every simple activation of the table is listed");
    let p = cx.p;
    let f = syn::Ident::new(ty, Span::call_site());
    let relu = name == "relu";
    // The backward passes of these five read only their outputs, and each has a product
    // epilogue (ReLU, tanh and sigmoid fast ones).
    let reads_output_only = matches!(name, "identity" | "step" | "sigmoid" | "tanh" | "relu");
    Some(activation(
        cx,
        quote!(#p::activation::#f),
        quote!(#p::activation::#f),
        Caps {
            epilogue: reads_output_only,
            reads_output_only,
            relu,
            loss_head: name == "sigmoid",
            init_gain,
            ..Caps::default()
        },
        name.to_string(),
    ))
}

/// A stateless, in-place activation layer of the size flowing in.
fn activation(
    cx: &Cx<'_>,
    fn_ty: TokenStream,
    fn_value: TokenStream,
    caps: Caps,
    describe: String,
) -> Resolved {
    let p = cx.p;
    Resolved {
        outputs: cx.prev.unwrap_or(0),
        ty: quote!(#p::layer::Act<#fn_ty>),
        value: Some(quote!(#p::layer::Act(#fn_value))),
        tensors: Vec::new(),
        caps: Caps {
            in_place: true,
            train_is_inference: true,
            ..caps
        },
        describe,
    }
}

fn leaky_relu(cx: &mut Cx<'_>) -> Option<Resolved> {
    let a = cx.number("negative slope", &["slope", "negative_slope"], 0.01);
    let p = cx.p;
    let v = float(a);
    let gain = (2.0 / (1.0 + a * a)).sqrt();
    Some(activation(
        cx,
        quote!(#p::activation::LeakyRelu<T>),
        quote!(#p::activation::LeakyRelu(<T as #p::Scalar>::from_f64(#v))),
        Caps {
            init_gain: Some(gain),
            ..Caps::default()
        },
        format!("leaky_relu({a})"),
    ))
}

fn elu(cx: &mut Cx<'_>) -> Option<Resolved> {
    let a = cx.number("alpha", &["alpha"], 1.0);
    let p = cx.p;
    let v = float(a);
    Some(activation(
        cx,
        quote!(#p::activation::Elu<T>),
        quote!(#p::activation::Elu(<T as #p::Scalar>::from_f64(#v))),
        Caps {
            init_gain: Some(std::f64::consts::SQRT_2),
            ..Caps::default()
        },
        format!("elu({a})"),
    ))
}

fn prelu(cx: &mut Cx<'_>) -> Option<Resolved> {
    cx.no_args();
    let p = cx.p;
    Some(Resolved {
        outputs: cx.prev.unwrap_or(0),
        ty: quote!(#p::layers::PRelu<T>),
        value: None,
        tensors: vec![TensorSpec {
            name: "weight".into(),
            path: vec!["weight".into()],
            shape: vec![1],
            kind: "PReluSlope",
        }],
        caps: Caps {
            in_place: true,
            train_is_inference: true,
            init_gain: Some((2.0f64 / (1.0 + 0.25 * 0.25)).sqrt()),
            ..Caps::default()
        },
        describe: "prelu".into(),
    })
}

fn softmax(cx: &mut Cx<'_>) -> Option<Resolved> {
    cx.no_args();
    let p = cx.p;
    Some(Resolved {
        outputs: cx.prev.unwrap_or(0),
        ty: quote!(#p::layer::Softmax),
        value: Some(quote!(#p::layer::Softmax)),
        tensors: Vec::new(),
        caps: Caps {
            in_place: true,
            loss_head: true,
            train_is_inference: true,
            ..Caps::default()
        },
        describe: "softmax".into(),
    })
}

fn dense(cx: &mut Cx<'_>) -> Option<Resolved> {
    let what = cx.what;
    let mut out: Option<usize> = None;
    let mut bias = true;
    let mut seen_size = false;
    let errors = &mut *cx.errors;
    let size = |lit: &syn::LitInt, errors: &mut Errors| match lit.base10_parse::<usize>() {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push_err(e);
            None
        }
    };
    if cx.args.is_empty() {
        errors.push(
            cx.args_span,
            format!(
                "{what}: `dense` needs its output size, e.g. `dense(16)` or `dense(784 -> 16)`"
            ),
        );
    }
    for a in cx.args {
        match a {
            Arg::Int(lit) | Arg::Arrow(_, lit) if seen_size => {
                errors.push(
                    lit.span(),
                    format!("{what}: the output size is given twice"),
                );
            }
            Arg::Int(lit) => {
                seen_size = true;
                out = size(lit, errors);
            }
            Arg::Arrow(inp, lit) => {
                seen_size = true;
                out = size(lit, errors);
                if let (Some(stated), Some(p)) = (size(inp, errors), cx.prev) {
                    if stated != p {
                        errors.push(
                            inp.span(),
                            format!(
                                "{what} expects {stated} inputs, but the previous layer produces {p} ({})",
                                cx.prev_desc
                            ),
                        );
                    }
                }
            }
            Arg::KeyValue { key, value } if key == "bias" => match value {
                Lit::Bool(b) => bias = b.value,
                other => errors.push(
                    other.span(),
                    format!("{what}: `bias` takes `true` or `false`"),
                ),
            },
            Arg::KeyValue { key, .. } => errors.push(
                key.span(),
                format!(
                    "{what}: unknown option `{key}` for `dense`; the only option is `bias = false`"
                ),
            ),
            Arg::Number { span, .. } => errors.push(
                *span,
                format!("{what}: expected a whole, positive size such as `dense(16)`"),
            ),
            Arg::Other(lit) => errors.push(
                lit.span(),
                format!("{what}: expected the output size, a whole number such as `dense(16)`"),
            ),
        }
    }
    let number_given = cx
        .args
        .iter()
        .any(|a| matches!(a, Arg::Number { .. } | Arg::Other(_)));
    if !seen_size && !cx.args.is_empty() && !number_given {
        errors.push(
            cx.args_span,
            format!("{what}: `dense` needs its output size, e.g. `dense(16)`"),
        );
    }
    if out == Some(0) {
        let s = cx
            .args
            .iter()
            .find_map(|a| match a {
                Arg::Int(l) | Arg::Arrow(_, l) => Some(l.span()),
                _ => None,
            })
            .unwrap_or(cx.args_span);
        errors.push(s, format!("{what} has 0 outputs; a layer needs at least 1"));
        out = None;
    }
    let o = out?;
    let i = cx.prev.unwrap_or(0);
    let p = cx.p;
    let (il, ol) = (lit(i), lit(o));
    let mut tensors = vec![TensorSpec {
        name: "weight".into(),
        path: vec!["weight".into()],
        shape: vec![o, i],
        kind: "Weight",
    }];
    let (ty, describe) = if bias {
        tensors.push(TensorSpec {
            name: "bias".into(),
            path: vec!["bias".into()],
            shape: vec![o],
            kind: "Bias",
        });
        (
            quote!(#p::layers::Dense<T, #ol, #il>),
            format!("dense({i} -> {o})"),
        )
    } else {
        (
            quote!(#p::layers::DenseNoBias<T, #ol, #il>),
            format!("dense({i} -> {o}, bias = false)"),
        )
    };
    Some(Resolved {
        outputs: o,
        ty,
        value: None,
        tensors,
        caps: Caps {
            producer: true,
            gates_input: true,
            train_is_inference: true,
            ..Caps::default()
        },
        describe,
    })
}

/// `dropout(p)`: PyTorch's `nn.Dropout(p)`, inverted (kept values scaled by `1/(1-p)` in
/// training), the identity in inference; `p` defaults to 0.5.
fn dropout(cx: &mut Cx<'_>) -> Option<Resolved> {
    let p_drop = cx.number("drop probability", &["p"], 0.5);
    if p_drop.is_finite() && !(0.0..1.0).contains(&p_drop) {
        let msg = format!(
            "{}: the drop probability must be at least 0 and below 1, not {p_drop}",
            cx.what
        );
        cx.errors.push(cx.args_span, msg);
    }
    let p = cx.p;
    let v = float(p_drop);
    Some(Resolved {
        outputs: cx.prev.unwrap_or(0),
        ty: quote!(#p::layer::Dropout<T>),
        value: Some(quote!(#p::layer::Dropout::<T>::new(#v))),
        tensors: Vec::new(),
        caps: Caps {
            in_place: true,
            tape: true,
            stochastic: true,
            identity_in_inference: true,
            ..Caps::default()
        },
        describe: format!("dropout({p_drop})"),
    })
}

/// `layer_norm(eps = 1e-5)`: PyTorch's `nn.LayerNorm(N)` over each sample's `N` features,
/// with a learnable scale and shift.
fn layer_norm(cx: &mut Cx<'_>) -> Option<Resolved> {
    let what = cx.what;
    let mut eps = 1e-5;
    for a in cx.args {
        match a {
            Arg::KeyValue { key, value } if key == "eps" => match value {
                Lit::Float(f) => eps = f.base10_parse::<f64>().unwrap_or(eps),
                Lit::Int(i) => eps = i.base10_parse::<f64>().unwrap_or(eps),
                other => cx.errors.push(
                    other.span(),
                    format!("{what}: `eps` is the number added to the variance, e.g. `eps = 1e-5`"),
                ),
            },
            Arg::KeyValue { key, .. } => cx.errors.push(
                key.span(),
                format!("{what}: unknown option `{key}` for `layer_norm`; the only option is `eps = ..`"),
            ),
            other => cx.errors.push(
                other.span(),
                format!("{what}: `layer_norm` normalises the size flowing in and takes only `eps = ..`"),
            ),
        }
    }
    if !(eps.is_finite() && eps >= 0.0) {
        cx.errors.push(
            cx.args_span,
            format!("{what}: `eps` must be a finite number >= 0"),
        );
    }
    let n = cx.prev.unwrap_or(0);
    let p = cx.p;
    let (nl, bits) = (lit(n), proc_macro2::Literal::u64_suffixed(eps.to_bits()));
    let describe = if eps == 1e-5 {
        "layer_norm".to_string()
    } else {
        format!("layer_norm(eps = {eps:e})")
    };
    Some(Resolved {
        outputs: n,
        ty: quote!(#p::layer::LayerNorm<T, #nl, #bits>),
        value: None,
        tensors: vec![
            TensorSpec {
                name: "weight".into(),
                path: vec!["weight".into()],
                shape: vec![n],
                kind: "NormScale",
            },
            TensorSpec {
                name: "bias".into(),
                path: vec!["bias".into()],
                shape: vec![n],
                kind: "Bias",
            },
        ],
        caps: Caps {
            in_place: true,
            tape: true,
            ..Caps::default()
        },
        describe,
    })
}
