//! The validated network: every size resolved, every name chosen. Code generation reads
//! only this and never reports errors.

use proc_macro2::Span;
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
    /// The struct field holding the parameters: the layer's name or `layer{index}`.
    pub field: Ident,
    /// Prefix of the tensor names: the layer's name or its index.
    pub tensor_prefix: String,
    pub kind: Kind,
    pub inputs: usize,
    pub outputs: usize,
    pub span: Span,
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Kind {
    Dense { bias: bool },
    Act(Act),
    PRelu,
    Softmax,
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Act {
    Identity,
    Step,
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu(f64),
    Elu(f64),
    Gelu,
    Softplus,
    Silu,
}

/// A parameter tensor of the network, in declaration order.
pub struct Tensor {
    pub layer: usize,
    pub name: String,
    /// PyTorch's shape.
    pub shape: Vec<usize>,
    /// `weight`, `bias`.
    pub member: &'static str,
    pub kind: TensorKind,
}

#[derive(Clone, Copy, PartialEq)]
pub enum TensorKind {
    Weight,
    Bias,
    PReluSlope,
}

impl Network {
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(self.inputs, |l| l.outputs)
    }

    pub fn has_params(&self) -> bool {
        self.layers.iter().any(|l| l.has_params())
    }

    pub fn tensors(&self) -> Vec<Tensor> {
        let mut out = Vec::new();
        for (li, l) in self.layers.iter().enumerate() {
            let p = &l.tensor_prefix;
            match l.kind {
                Kind::Dense { bias } => {
                    out.push(Tensor {
                        layer: li,
                        name: format!("{p}.weight"),
                        shape: vec![l.outputs, l.inputs],
                        member: "weight",
                        kind: TensorKind::Weight,
                    });
                    if bias {
                        out.push(Tensor {
                            layer: li,
                            name: format!("{p}.bias"),
                            shape: vec![l.outputs],
                            member: "bias",
                            kind: TensorKind::Bias,
                        });
                    }
                }
                Kind::PRelu => out.push(Tensor {
                    layer: li,
                    name: format!("{p}.weight"),
                    shape: vec![1],
                    member: "weight",
                    kind: TensorKind::PReluSlope,
                }),
                Kind::Act(_) | Kind::Softmax => {}
            }
        }
        out
    }

    pub fn params(&self) -> usize {
        self.tensors()
            .iter()
            .map(|t| t.shape.iter().product::<usize>())
            .sum()
    }
}

impl Layer {
    pub fn has_params(&self) -> bool {
        matches!(self.kind, Kind::Dense { .. } | Kind::PRelu)
    }
}
