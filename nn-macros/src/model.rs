//! The validated network: every size resolved, every name chosen, every layer's runtime
//! type and capabilities taken from the layer table. Code generation reads only this (and
//! the plan made from it) and never reports errors.

use crate::table::{Caps, TensorSpec};
use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Ident, Visibility};

pub struct Network {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    pub inputs: usize,
    /// Where `input: N` is written: the methods taking inputs point there in type errors.
    pub input_span: Span,
    pub layers: Vec<Layer>,
}

#[derive(Clone)]
pub struct Layer {
    /// Position in the body after `input`, from 0, as PyTorch's `nn.Sequential` counts.
    pub index: usize,
    /// The struct field holding the layer's state: the layer's name or `layer{index}`.
    pub field: Ident,
    /// Prefix of the tensor names: the layer's name or its index.
    pub tensor_prefix: String,
    pub inputs: usize,
    pub outputs: usize,
    pub span: Span,
    /// The runtime type implementing `nn::Layer<T, inputs, outputs>`.
    pub ty: TokenStream,
    /// The value a kind without state is called on; `None` for a field of the network.
    pub value: Option<TokenStream>,
    pub tensors: Vec<TensorSpec>,
    pub caps: Caps,
    /// How the layer is written in docs and messages: `dense(784 -> 16)`.
    pub describe: String,
}

/// A parameter tensor of the network, in declaration order.
pub struct Tensor {
    pub layer: usize,
    pub name: String,
    /// PyTorch's shape.
    pub shape: Vec<usize>,
    /// The fields leading to it from the layer's field: `weight`, `body.layer0.bias`.
    pub path: Vec<String>,
    /// The runtime's `TensorKind` variant.
    pub kind: &'static str,
}

impl Network {
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(self.inputs, |l| l.outputs)
    }

    pub fn has_state(&self) -> bool {
        self.layers.iter().any(Layer::has_state)
    }

    pub fn tensors(&self) -> Vec<Tensor> {
        let mut out = Vec::new();
        for (li, l) in self.layers.iter().enumerate() {
            for t in &l.tensors {
                out.push(Tensor {
                    layer: li,
                    name: format!("{}.{}", l.tensor_prefix, t.name),
                    shape: t.shape.clone(),
                    path: t.path.clone(),
                    kind: t.kind,
                });
            }
        }
        out
    }

    pub fn params(&self) -> usize {
        self.layers.iter().map(Layer::params).sum()
    }
}

impl Layer {
    /// Whether the layer is a field of the network (it has parameters or buffers).
    pub fn has_state(&self) -> bool {
        self.value.is_none()
    }

    /// Number of learnable scalars.
    pub fn params(&self) -> usize {
        self.tensors
            .iter()
            .map(|t| t.shape.iter().product::<usize>())
            .sum()
    }
}
