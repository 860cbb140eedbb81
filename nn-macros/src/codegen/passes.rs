//! The forward and backward passes, unrolled across the layers: straight-line code that
//! calls the runtime's kernels, with no loop over layers, no `dyn` and no allocation.

use super::{lit, Ctx};
use crate::model::{Act, Kind};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The final activation, if the loss may fuse with it.
#[derive(Clone, Copy, PartialEq)]
enum Fused {
    Softmax,
    Sigmoid,
}

fn fused_end(cx: &Ctx<'_>) -> Option<Fused> {
    match cx.net.layers.last().map(|l| l.kind) {
        Some(Kind::Softmax) => Some(Fused::Softmax),
        Some(Kind::Act(Act::Sigmoid)) => Some(Fused::Sigmoid),
        _ => None,
    }
}

/// The input of layer `i` as a place, `(*__nn_in0)` or `(*__nn_o{i-1})`: the training
/// passes take the input and every layer's output as references of these names (from a
/// tape, or from locals, so training never copies the input into a tape).
fn tape_input(i: usize) -> TokenStream {
    if i == 0 {
        quote!((*__nn_in0))
    } else {
        tape_output(i - 1)
    }
}

/// The output of layer `i` as a place, `(*__nn_o{i})`.
fn tape_output(i: usize) -> TokenStream {
    let r = out_ref(i);
    quote!((*#r))
}

/// The name of the reference to layer `i`'s output.
fn out_ref(i: usize) -> Ident {
    format_ident!("__nn_o{}", i)
}

fn out_field(i: usize) -> Ident {
    format_ident!("out{}", i)
}

/// Inference: each layer's output in a fresh local, activations in place.
fn forward_body(cx: &Ctx<'_>) -> TokenStream {
    let p = &cx.p;
    let mut body = Vec::new();
    // The current value: `None` is the input `x`.
    let mut cur: Option<Ident> = None;
    let layers = &cx.net.layers;
    let mut skip_next = false;
    for (li, l) in layers.iter().enumerate() {
        if ::core::mem::take(&mut skip_next) {
            continue;
        }
        let f = &l.field;
        let a = format_ident!("__nn_a{}", l.index);
        let src = match &cur {
            None => quote!(__nn_x),
            Some(v) => quote!(&#v),
        };
        // Element-wise layers work in place on a copy of the input, or on the current local.
        let target = match &cur {
            Some(v) => v.clone(),
            None => {
                body.push(quote!(let mut #a = ::core::clone::Clone::clone(__nn_x);));
                a.clone()
            }
        };
        match l.kind {
            Kind::Dense { bias } => {
                let zeros = cx.zeros(l.outputs);
                let b = if bias {
                    quote!(::core::option::Option::Some(&self.#f.bias))
                } else {
                    quote!(::core::option::Option::None)
                };
                // A ReLU right after the product runs in the product's epilogue; a tanh or
                // sigmoid in the same kernel call, while the outputs are in cache.
                let call = match layers.get(li + 1).map(|n| n.kind) {
                    Some(Kind::Act(Act::Relu)) => {
                        skip_next = true;
                        quote!(#p::kernels::dense_forward_relu(&self.#f.weight, #b, #src, &mut #a);)
                    }
                    Some(Kind::Act(act @ (Act::Tanh | Act::Sigmoid))) => {
                        skip_next = true;
                        let e = cx.act(act);
                        quote!(#p::kernels::dense_forward_act(&self.#f.weight, #b, #src, &#e, &mut #a);)
                    }
                    _ => quote!(#p::kernels::dense_forward(&self.#f.weight, #b, #src, &mut #a);),
                };
                body.push(quote! {
                    let mut #a = #zeros;
                    #call
                });
                cur = Some(a);
            }
            Kind::Act(act) => {
                let e = cx.act(act);
                body.push(quote!(#p::activation::Activation::<T>::forward_inplace(&#e, #target.as_mut_slice());));
                cur = Some(target);
            }
            Kind::Softmax => {
                body.push(quote!(#p::activation::softmax_forward(&mut #target);));
                cur = Some(target);
            }
            Kind::PRelu => {
                body.push(quote!(#p::activation::prelu_forward(self.#f.weight[0], #target.as_mut_slice());));
                cur = Some(target);
            }
        }
    }
    let cur = cur.expect("a valid network has a layer");
    quote! {
        #(#body)*
        #cur
    }
}

/// Whether an activation's backward pass reads only its output (`Activation::backward`
/// then ignores the input, so the input need not be kept).
fn backward_from_output(act: Act) -> bool {
    matches!(
        act,
        Act::Identity | Act::Step | Act::Sigmoid | Act::Tanh | Act::Relu
    )
}

/// For each layer, whether the training passes that build no tape run it fused with the
/// activation after it: a dense layer followed by an activation whose backward reads only
/// its output, unless that activation ends the network (the losses fused with a final
/// sigmoid read its input). The dense output is then never stored: the product's
/// epilogue writes the activation's output, and the dense output's reference points at it.
fn fused_dense(cx: &Ctx<'_>) -> Vec<bool> {
    let layers = &cx.net.layers;
    (0..layers.len())
        .map(|i| {
            matches!(layers[i].kind, Kind::Dense { .. })
                && i + 2 < layers.len()
                && matches!(layers[i + 1].kind, Kind::Act(a) if backward_from_output(a))
        })
        .collect()
}

/// Training forward: every layer's output written to `(*__nn_o{i})` (the body of
/// `__nn_fill`, whose parameters are `__nn_in0` and `&mut` references to the outputs).
/// With `fused` (see [`fused_dense`]), a fused dense layer writes its activation's output
/// and the activation layer is skipped.
fn fill_body(cx: &Ctx<'_>, fused: &[bool]) -> TokenStream {
    let p = &cx.p;
    let mut body = Vec::new();
    let layers = &cx.net.layers;
    for l in layers {
        let i = l.index;
        if i > 0 && fused[i - 1] {
            continue;
        }
        let f = &l.field;
        let src = tape_input(i);
        let dst = tape_output(i);
        let copy = quote!(#dst.copy_from(&#src););
        match l.kind {
            Kind::Dense { bias } => {
                let b = if bias {
                    quote!(::core::option::Option::Some(&self.#f.bias))
                } else {
                    quote!(::core::option::Option::None)
                };
                let call = match layers.get(i + 1).map(|n| n.kind) {
                    Some(Kind::Act(act)) if fused[i] => {
                        let next = tape_output(i + 1);
                        if act == Act::Relu {
                            quote!(#p::kernels::dense_forward_relu(&self.#f.weight, #b, &#src, &mut #next);)
                        } else {
                            let e = cx.act(act);
                            quote!(#p::kernels::dense_forward_act(&self.#f.weight, #b, &#src, &#e, &mut #next);)
                        }
                    }
                    _ => quote!(#p::kernels::dense_forward(&self.#f.weight, #b, &#src, &mut #dst);),
                };
                body.push(call);
            }
            Kind::Act(act) => {
                let e = cx.act(act);
                body.push(copy);
                body.push(quote!(#p::activation::Activation::<T>::forward_inplace(&#e, #dst.as_mut_slice());));
            }
            Kind::Softmax => {
                body.push(copy);
                body.push(quote!(#p::activation::softmax_forward(&mut #dst);));
            }
            Kind::PRelu => {
                body.push(copy);
                body.push(
                    quote!(#p::activation::prelu_forward(self.#f.weight[0], #dst.as_mut_slice());),
                );
            }
        }
    }
    quote!(#(#body)*)
}

/// Where a backward pass delivers the parameter gradients.
#[derive(Clone, Copy, PartialEq)]
enum Sink {
    /// Into `__nn_grads`: added when the runtime flag `__nn_acc` is true, else written.
    Grads,
    /// Applied to the parameters at once: `θ += __nn_alpha · ∇θ` (`__nn_alpha = -lr`),
    /// each layer's after its input gradient was computed with the old weights.
    Sgd,
}

/// Back-propagation through layers `start..=0`, given `__nn_d` = dLoss/d(output of
/// `start`); `start == None` means `__nn_d` is already dLoss/dInput.
fn chain_body(cx: &Ctx<'_>, start: Option<usize>, sink: Sink) -> TokenStream {
    let p = &cx.p;
    let mut body = Vec::new();
    let Some(start) = start else {
        return match sink {
            Sink::Grads => quote! {
                if let ::core::option::Option::Some(__nn_dx) = __nn_dx {
                    __nn_dx.copy_from(__nn_d);
                }
            },
            Sink::Sgd => quote!(),
        };
    };
    let zero = quote!(<T as #p::Scalar>::from_f64(0.0));
    let one = quote!(<T as #p::Scalar>::from_f64(1.0));
    let mut cur = quote!(__nn_d);
    let layers = &cx.net.layers;
    // A dense layer whose input is a ReLU's output (not the network's first layer) passes
    // the gradient back through both at once; the ReLU is then skipped.
    let through_relu = |i: usize| {
        i >= 2
            && matches!(layers[i].kind, Kind::Dense { .. })
            && layers[i - 1].kind == Kind::Act(Act::Relu)
    };
    let mut skip = false;
    for l in layers[..=start].iter().rev() {
        if ::core::mem::take(&mut skip) {
            continue;
        }
        let i = l.index;
        let f = &l.field;
        let input = tape_input(i);
        let out = tape_output(i);
        let fuse_relu = through_relu(i);
        // Where dLoss/d(input of this layer) goes (of the ReLU's input when fused).
        let prev = format_ident!("__nn_d{}", i.wrapping_sub(if fuse_relu { 2 } else { 1 }));
        let zeros = cx.zeros(l.inputs);
        // The input-gradient computation writing into `dst` (a `&mut SMatrix`); a PReLU's
        // slope gradient goes to `ds` (a `&mut T`).
        let input_grad = |dst: TokenStream, ds: TokenStream| -> TokenStream {
            match l.kind {
                Kind::Dense { .. } if fuse_relu => {
                    quote!(#p::kernels::dense_input_grad_relu(&self.#f.weight, #cur, &#input, #dst);)
                }
                Kind::Dense { .. } => {
                    quote!(#p::kernels::dense_input_grad(&self.#f.weight, #cur, #dst);)
                }
                Kind::Act(act) => {
                    let e = cx.act(act);
                    quote!(#p::activation::Activation::<T>::backward(&#e, #input.as_slice(), #out.as_slice(), #cur.as_slice(), (#dst).as_mut_slice());)
                }
                Kind::Softmax => {
                    quote!(#p::activation::softmax_backward(&#out, #cur, #dst);)
                }
                Kind::PRelu => {
                    quote!(#p::activation::prelu_backward(self.#f.weight[0], #input.as_slice(), #cur.as_slice(), (#dst).as_mut_slice(), #ds);)
                }
            }
        };
        let (target, scale, acc) = match sink {
            Sink::Grads => (quote!(__nn_grads.#f), one.clone(), quote!(__nn_acc)),
            Sink::Sgd => (quote!(self.#f), quote!(__nn_alpha), quote!(true)),
        };
        // The PReLU slope's gradient: straight into the gradients (zeroed first when
        // they are written), or into a local applied after the input gradient.
        let slope = match sink {
            Sink::Grads => quote!(&mut __nn_grads.#f.weight[0]),
            Sink::Sgd => quote!(&mut __nn_ds),
        };
        let (slope_pre, slope_post) = match (l.kind, sink) {
            (Kind::PRelu, Sink::Grads) => (
                quote!(if !__nn_acc { __nn_grads.#f.weight[0] = #zero; }),
                quote!(),
            ),
            (Kind::PRelu, Sink::Sgd) => (
                quote!(let mut __nn_ds = #zero;),
                quote!(self.#f.weight[0] += __nn_alpha * __nn_ds;),
            ),
            _ => (quote!(), quote!()),
        };
        // Dense parameters, after the input gradient (which reads the old weights).
        let dense_params = match l.kind {
            Kind::Dense { bias } => {
                let b = bias.then(|| {
                    quote!(#p::kernels::bias_grad_scaled(#cur, &mut #target.bias, #scale, #acc);)
                });
                quote! {
                    #p::kernels::dense_weight_grad_scaled(#cur, &#input, &mut #target.weight, #scale, #acc);
                    #b
                }
            }
            _ => quote!(),
        };
        body.push(slope_pre);
        if i > 0 {
            body.push(quote!(let mut #prev = #zeros;));
            body.push(input_grad(quote!(&mut #prev), slope.clone()));
            body.push(slope_post);
            body.push(dense_params);
            cur = quote!(&#prev);
            skip = fuse_relu;
        } else {
            let needs_slope = matches!(l.kind, Kind::PRelu);
            let scratch = cx.zeros(l.inputs);
            let with_scratch = input_grad(quote!(&mut __nn_scratch), slope.clone());
            match sink {
                Sink::Grads => {
                    let call = input_grad(quote!(__nn_dx), slope.clone());
                    // The slope's gradient is needed even when the input's is not.
                    let otherwise = needs_slope.then(|| {
                        quote! {
                            else {
                                let mut __nn_scratch = #scratch;
                                #with_scratch
                            }
                        }
                    });
                    body.push(quote! {
                        if let ::core::option::Option::Some(__nn_dx) = __nn_dx {
                            #call
                        } #otherwise
                    });
                }
                Sink::Sgd => {
                    if needs_slope {
                        body.push(quote! {
                            let mut __nn_scratch = #scratch;
                            #with_scratch
                        });
                    }
                }
            }
            body.push(slope_post);
            body.push(dense_params);
        }
    }
    quote!(#(#body)*)
}

pub fn generate(cx: &Ctx<'_>) -> TokenStream {
    let net = cx.net;
    let (k, p) = (&cx.k, &cx.p);
    let (name, grads, tape) = (&cx.name, &cx.grads, &cx.tape);
    let (inputs, outputs) = (&cx.inputs, &cx.outputs);
    let n = net.layers.len();
    let fused = fused_end(cx);
    // The chain starts below a fusable final activation.
    let chain_start = match fused {
        Some(_) => n.checked_sub(2),
        None => Some(n - 1),
    };
    let chain_size = lit(match chain_start {
        Some(s) => net.layers[s].outputs,
        None => net.inputs,
    });
    let forward = forward_body(cx);
    let fused_layers = fused_dense(cx);
    let fill = fill_body(cx, &vec![false; n]);
    let fill_train = fill_body(cx, &fused_layers);
    let chain = chain_body(cx, chain_start, Sink::Grads);
    let sgd_chain = chain_body(cx, chain_start, Sink::Sgd);
    let last_in = tape_input(n - 1);
    let last_out = tape_output(n - 1);
    let zeros_out = cx.zeros(net.outputs());

    // The training passes take the input and every output by reference: `__nn_in0`,
    // `__nn_o0`, ... (see `tape_input`).
    let refs: Vec<Ident> = ::core::iter::once(format_ident!("__nn_in0"))
        .chain(net.layers.iter().map(|l| out_ref(l.index)))
        .collect();
    let out_types: Vec<TokenStream> = net
        .layers
        .iter()
        .map(|l| {
            let o = lit(l.outputs);
            quote!(#p::SMatrix<T, #o, { B }>)
        })
        .collect();
    let out_refs = &refs[1..];
    let out_fields: Vec<Ident> = net.layers.iter().map(|l| out_field(l.index)).collect();
    let local_zeros: Vec<TokenStream> = net.layers.iter().map(|l| cx.zeros(l.outputs)).collect();
    // Without a tape: locals for the outputs that are stored (a fused dense layer's output
    // is its activation's), filled by `__nn_fill_train`, then the references the chains
    // and losses read.
    let stored: Vec<usize> = (0..n).filter(|&i| !fused_layers[i]).collect();
    let locals: Vec<Ident> = stored
        .iter()
        .map(|&i| format_ident!("__nn_t{}", i))
        .collect();
    let stored_zeros = stored.iter().map(|&i| &local_zeros[i]);
    let stored_refs = stored.iter().map(|&i| &out_refs[i]);
    let stored_types = stored.iter().map(|&i| &out_types[i]);
    let all_locals =
        (0..n).map(|i| format_ident!("__nn_t{}", if fused_layers[i] { i + 1 } else { i }));
    let fill_locals = quote! {
        #(let mut #locals = #stored_zeros;)*
        self.__nn_fill_train(__nn_x, #(&mut #locals),*);
        let (#(#refs),*) = (__nn_x, #(&#all_locals),*);
        let __nn_out = &#last_out;
    };
    let tape_refs = quote! {
        let (#(#refs),*) = (&__nn_tape.input, #(&__nn_tape.#out_fields),*);
    };

    // dLoss/dOutput -> the chain's start, through a fusable final activation.
    let backward_entry = match fused {
        Some(kind) => {
            let call = match kind {
                Fused::Softmax => {
                    quote!(#p::activation::softmax_backward(&#last_out, __nn_d_output, &mut __nn_dz);)
                }
                Fused::Sigmoid => {
                    quote!(#p::activation::Activation::<T>::backward(&#p::activation::Sigmoid, #last_in.as_slice(), #last_out.as_slice(), __nn_d_output.as_slice(), __nn_dz.as_mut_slice());)
                }
            };
            quote! {
                let mut __nn_dz = #zeros_out;
                #call
                self.__nn_chain(#(#refs,)* &__nn_dz, __nn_grads, __nn_dx, true);
            }
        }
        None => quote!(self.__nn_chain(#(#refs,)* __nn_d_output, __nn_grads, __nn_dx, true);),
    };

    // The loss and the gradient at the chain's start, then `chain_call` (which reads
    // `__nn_dz`).
    let loss_then = |chain_call: TokenStream| match fused {
        Some(kind) => {
            let (method, bw) = match kind {
                Fused::Softmax => (
                    quote!(fused_softmax),
                    quote!(#p::activation::softmax_backward(__nn_out, &__nn_dp, &mut __nn_dz);),
                ),
                Fused::Sigmoid => (
                    quote!(fused_sigmoid),
                    quote!(#p::activation::Activation::<T>::backward(&#p::activation::Sigmoid, #last_in.as_slice(), __nn_out.as_slice(), __nn_dp.as_slice(), __nn_dz.as_mut_slice());),
                ),
            };
            quote! {
                let mut __nn_dz = #zeros_out;
                let __nn_value = match #p::Loss::<T>::#method(__nn_loss, &#last_in, __nn_out, __nn_y, &mut __nn_dz) {
                    ::core::option::Option::Some(__nn_v) => __nn_v,
                    ::core::option::Option::None => {
                        let mut __nn_dp = #zeros_out;
                        #p::Loss::<T>::gradient(__nn_loss, __nn_out, __nn_y, &mut __nn_dp);
                        #bw
                        #p::Loss::<T>::loss(__nn_loss, __nn_out, __nn_y)
                    }
                };
                #chain_call
                __nn_value
            }
        }
        None => quote! {
            let mut __nn_dz = #zeros_out;
            #p::Loss::<T>::gradient(__nn_loss, __nn_out, __nn_y, &mut __nn_dz);
            let __nn_value = #p::Loss::<T>::loss(__nn_loss, __nn_out, __nn_y);
            #chain_call
            __nn_value
        },
    };
    let loss_and_start =
        loss_then(quote!(self.__nn_chain(#(#refs,)* &__nn_dz, __nn_grads, __nn_dx, __nn_acc);));
    let loss_and_sgd = loss_then(quote!(self.__nn_sgd_chain(#(#refs,)* &__nn_dz, lr);));
    let loss_only = match fused {
        Some(kind) => {
            let method = match kind {
                Fused::Softmax => quote!(fused_softmax),
                Fused::Sigmoid => quote!(fused_sigmoid),
            };
            quote! {
                let mut __nn_scratch = #zeros_out;
                match #p::Loss::<T>::#method(__nn_loss, &#last_in, __nn_out, __nn_y, &mut __nn_scratch) {
                    ::core::option::Option::Some(__nn_v) => __nn_v,
                    ::core::option::Option::None => #p::Loss::<T>::loss(__nn_loss, __nn_out, __nn_y),
                }
            }
        }
        None => quote!(#p::Loss::<T>::loss(__nn_loss, __nn_out, __nn_y)),
    };

    let sp = net.input_span;
    let m_forward = Ident::new("forward", sp);
    let m_forward_batch = Ident::new("forward_batch", sp);
    let m_forward_tape = Ident::new("forward_tape", sp);
    let m_backward = Ident::new("backward", sp);
    let m_backward_params = Ident::new("backward_params", sp);
    let m_accumulate = Ident::new("accumulate_gradients", sp);
    let m_accumulate_input = Ident::new("accumulate_gradients_with_input", sp);
    let m_loss = Ident::new("loss", sp);
    let m_lag = Ident::new("loss_and_gradients", sp);
    let m_lag_into = Ident::new("loss_and_gradients_into", sp);
    let m_sgd = Ident::new("sgd_step", sp);
    let mat = |rows: &proc_macro2::Literal| quote!(#p::SMatrix<T, #rows, { B }>);
    let (xin, yout) = (mat(inputs), mat(outputs));
    let chain_d = mat(&chain_size);

    quote! {
        #[allow(clippy::all, clippy::pedantic, unused_mut)]
        impl<T: #k::Scalar> #name<T> {
            /// Runs the network on one sample.
            pub fn #m_forward(&self, x: &#p::SVector<T, #inputs>) -> #p::SVector<T, #outputs> {
                self.forward_batch::<1>(x)
            }

            /// Runs the network on a batch of `B` samples, one column a sample.
            pub fn #m_forward_batch<const B: usize>(&self, x: &#xin) -> #yout {
                let __nn_x = x;
                #forward
            }

            /// A training forward pass on a batch: the returned tape holds the input and
            /// every layer's output, for [`backward`](Self::backward).
            pub fn #m_forward_tape<const B: usize>(&self, x: &#xin) -> #tape<T, { B }> {
                let mut __nn_tape = #tape::<T, { B }> {
                    input: ::core::clone::Clone::clone(x),
                    #(#out_fields: #local_zeros,)*
                };
                self.__nn_fill(x, #(&mut __nn_tape.#out_fields),*);
                __nn_tape
            }

            fn __nn_fill<const B: usize>(&self, __nn_in0: &#xin, #(#out_refs: &mut #out_types),*) {
                #fill
            }

            fn __nn_fill_train<const B: usize>(&self, __nn_in0: &#xin, #(#stored_refs: &mut #stored_types),*) {
                #fill_train
            }

            /// Back-propagates `d_output` (dLoss/dOutput for the batch recorded in `tape`):
            /// **adds** the parameter gradients to `grads` and returns dLoss/dInput (what
            /// `torch.autograd.grad(loss, input)` gives).
            pub fn #m_backward<const B: usize>(&self, tape: &#tape<T, { B }>, d_output: &#yout, grads: &mut #grads<T>) -> #xin {
                let mut __nn_dx = #p::SMatrix::<T, #inputs, { B }>::zeros();
                self.__nn_backward(tape, d_output, grads, ::core::option::Option::Some(&mut __nn_dx));
                __nn_dx
            }

            /// Like [`backward`](Self::backward), without computing the input gradient
            /// (which training does not need).
            pub fn #m_backward_params<const B: usize>(&self, tape: &#tape<T, { B }>, d_output: &#yout, grads: &mut #grads<T>) {
                self.__nn_backward(tape, d_output, grads, ::core::option::Option::None);
            }

            fn __nn_backward<const B: usize>(
                &self,
                __nn_tape: &#tape<T, { B }>,
                __nn_d_output: &#yout,
                __nn_grads: &mut #grads<T>,
                __nn_dx: ::core::option::Option<&mut #xin>,
            ) {
                #tape_refs
                #backward_entry
            }

            fn __nn_chain<const B: usize>(
                &self,
                __nn_in0: &#xin,
                #(#out_refs: &#out_types,)*
                __nn_d: &#chain_d,
                __nn_grads: &mut #grads<T>,
                __nn_dx: ::core::option::Option<&mut #xin>,
                __nn_acc: bool,
            ) {
                let _ = (#(#refs,)* &__nn_grads, __nn_acc);
                #chain
            }

            fn __nn_sgd_chain<const B: usize>(
                &mut self,
                __nn_in0: &#xin,
                #(#out_refs: &#out_types,)*
                __nn_d: &#chain_d,
                __nn_lr: T,
            ) {
                let __nn_alpha = -__nn_lr;
                let _ = (#(#refs,)* __nn_d, __nn_alpha);
                #sgd_chain
            }

            /// Forward, loss and backward on a batch: **adds** the loss's gradients to
            /// `grads` and returns the loss. After a final `softmax` with
            /// [`CrossEntropy`](#k::loss::CrossEntropy), or a final `sigmoid` with
            /// [`BinaryCrossEntropy`](#k::loss::BinaryCrossEntropy), uses the fused,
            /// numerically stable gradient `(p - y) / n`.
            pub fn #m_accumulate<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>) -> T {
                self.__nn_accumulate(x, y, loss, grads, ::core::option::Option::None, true)
            }

            /// Like [`accumulate_gradients`](Self::accumulate_gradients), and also returns
            /// dLoss/dInput through the same (fused where it applies) path: what a GAN's
            /// generator or an adversarial example needs.
            pub fn #m_accumulate_input<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>) -> (T, #xin) {
                let mut __nn_dx = #p::SMatrix::<T, #inputs, { B }>::zeros();
                let __nn_value = self.__nn_accumulate(x, y, loss, grads, ::core::option::Option::Some(&mut __nn_dx), true);
                (__nn_value, __nn_dx)
            }

            fn __nn_accumulate<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>, __nn_dx: ::core::option::Option<&mut #xin>, __nn_acc: bool) -> T {
                let (__nn_x, __nn_loss, __nn_y, __nn_grads) = (x, loss, y, grads);
                #fill_locals
                #loss_and_start
            }

            /// The loss on a batch, computed as stably as
            /// [`accumulate_gradients`](Self::accumulate_gradients) computes it.
            pub fn #m_loss<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L) -> T {
                let (__nn_x, __nn_loss, __nn_y) = (x, loss, y);
                #fill_locals
                let _ = (#(#refs),*);
                #loss_only
            }

            /// The loss on a batch and its gradients with respect to every parameter.
            ///
            /// Returns the gradients by value, on the stack: for large networks use
            /// [`loss_and_gradients_into`](Self::loss_and_gradients_into) with
            /// [`boxed_zero_gradients`](Self::boxed_zero_gradients).
            pub fn #m_lag<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L) -> (T, #grads<T>) {
                let mut __nn_grads = #grads::<T>::zeros();
                let __nn_value = self.accumulate_gradients(x, y, loss, &mut __nn_grads);
                (__nn_value, __nn_grads)
            }

            /// Writes the gradients of the loss on the batch into `grads` (overwriting
            /// what they held: each gradient is stored once, never zeroed and re-read) and
            /// returns the loss.
            pub fn #m_lag_into<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>) -> T {
                self.__nn_accumulate(x, y, loss, grads, ::core::option::Option::None, false)
            }

            /// One step of plain stochastic gradient descent on a batch, `θ ← θ - lr·∇θ`,
            /// fused into the backward pass: each layer's parameters are updated as soon as
            /// their gradient is known (after the layer's input gradient has been computed
            /// with the old weights), so no gradient is stored and the parameters are read
            /// and written once. Returns the loss before the step.
            ///
            /// Equal, up to rounding, to [`loss_and_gradients`](Self::loss_and_gradients)
            /// followed by `Sgd::new(lr)` (no momentum, no weight decay). For momentum, weight
            /// decay, clipping, other optimizers or checks of the gradients before they are
            /// applied, use the gradients and an optimizer (or the `Trainer`).
            pub fn #m_sgd<const B: usize, L: #p::Loss<T>>(&mut self, x: &#xin, y: &#yout, loss: &L, lr: T) -> T {
                let (__nn_x, __nn_loss, __nn_y) = (x, loss, y);
                #fill_locals
                #loss_and_sgd
            }
        }

        #[automatically_derived]
        #[allow(clippy::all, clippy::pedantic)]
        impl<T: #k::Scalar> #p::Network<#inputs, #outputs> for #name<T> {
            type Tape<const B: usize> = #tape<T, { B }>;
            fn forward_batch<const B: usize>(&self, x: &#xin) -> #yout {
                #name::<T>::forward_batch::<{ B }>(self, x)
            }
            fn forward_tape<const B: usize>(&self, x: &#xin) -> #tape<T, { B }> {
                #name::<T>::forward_tape::<{ B }>(self, x)
            }
            fn tape_output<const B: usize>(tape: &#tape<T, { B }>) -> &#yout {
                tape.output()
            }
            fn backward<const B: usize>(&self, tape: &#tape<T, { B }>, d_output: &#yout, grads: &mut #grads<T>) -> #xin {
                #name::<T>::backward::<{ B }>(self, tape, d_output, grads)
            }
            fn backward_params<const B: usize>(&self, tape: &#tape<T, { B }>, d_output: &#yout, grads: &mut #grads<T>) {
                #name::<T>::backward_params::<{ B }>(self, tape, d_output, grads)
            }
            fn accumulate_gradients<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>) -> T {
                #name::<T>::accumulate_gradients::<{ B }, L>(self, x, y, loss, grads)
            }
            fn loss<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L) -> T {
                #name::<T>::loss::<{ B }, L>(self, x, y, loss)
            }
            fn loss_and_gradients_into<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>) -> T {
                #name::<T>::loss_and_gradients_into::<{ B }, L>(self, x, y, loss, grads)
            }
            fn sgd_step<const B: usize, L: #p::Loss<T>>(&mut self, x: &#xin, y: &#yout, loss: &L, lr: T) -> T {
                #name::<T>::sgd_step::<{ B }, L>(self, x, y, loss, lr)
            }
        }
    }
}
