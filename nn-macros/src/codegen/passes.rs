//! The forward and backward passes, unrolled across the layers: straight-line code with
//! one call of the layer protocol (`nn::layer`) per layer per pass, following the plan's
//! fusion decisions; no loop over layers, no `dyn`, no allocation, and no knowledge of
//! any layer kind.

use super::{lit, Ctx};
use crate::model::Layer;
use crate::plan::{Infer, Plan};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

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

/// The name of the reference to layer `i`'s tape.
fn tape_ref(i: usize) -> Ident {
    format_ident!("__nn_p{}", i)
}

fn out_field(i: usize) -> Ident {
    format_ident!("out{}", i)
}

impl Ctx<'_> {
    /// `<Ty as nn::layer::Layer<T, IN, OUT>>`.
    fn layer(&self, l: &Layer) -> TokenStream {
        let (p, ty) = (&self.p, &l.ty);
        let (i, o) = (lit(l.inputs), lit(l.outputs));
        quote!(<#ty as #p::layer::Layer<T, #i, #o>>)
    }

    /// `<Ty as nn::layer::TRAIT<T, N>>` for the same-size capabilities.
    fn same_size(&self, l: &Layer, tr: &str) -> TokenStream {
        let (p, ty) = (&self.p, &l.ty);
        let n = lit(l.outputs);
        let tr = format_ident!("{}", tr);
        quote!(<#ty as #p::layer::#tr<T, #n>>)
    }

    /// What the layer's methods are called on: its field, or its value.
    fn state(&self, l: &Layer) -> TokenStream {
        let f = &l.field;
        match &l.value {
            None => quote!(&self.#f),
            Some(v) => quote!(&#v),
        }
    }

    fn state_mut(&self, l: &Layer) -> TokenStream {
        let f = &l.field;
        match &l.value {
            None => quote!(&mut self.#f),
            Some(v) => quote!(&mut #v),
        }
    }

    /// Where the layer's parameter gradients go in `__nn_grads`.
    fn grads_of(&self, l: &Layer) -> TokenStream {
        let (p, f) = (&self.p, &l.field);
        match &l.value {
            None => quote!(&mut __nn_grads.#f),
            Some(_) => quote!(&mut #p::layer::NoGrads),
        }
    }

    /// The layer's tape in the training passes: `__nn_p{i}` for a kind that keeps one
    /// (a reference parameter of the passes), else `()`.
    fn tape_arg(&self, l: &Layer, mutable: bool) -> TokenStream {
        match (l.caps.tape, mutable) {
            (true, true) => {
                let r = tape_ref(l.index);
                quote!(&mut *#r)
            }
            (true, false) => {
                let r = tape_ref(l.index);
                quote!(&*#r)
            }
            (false, true) => quote!(&mut ()),
            (false, false) => quote!(&()),
        }
    }

    /// The type of the layer's tape for a batch of `B`.
    fn tape_type(&self, l: &Layer) -> TokenStream {
        let tr = self.layer(l);
        quote!(#tr::Tape<B>)
    }

    /// The training context of the passes: the dropout stream's generator for the next
    /// step if the network has a stochastic layer.
    fn train_cx(&self) -> TokenStream {
        let p = &self.p;
        if self.net.layers.iter().any(|l| l.caps.stochastic) {
            quote! {
                let mut __nn_gen = self.__nn_stream.rng();
                let mut __nn_cx = #p::layer::TrainCx { rng: ::core::option::Option::Some(&mut __nn_gen) };
            }
        } else {
            quote!(let mut __nn_cx = #p::layer::TrainCx::none();)
        }
    }

    /// The value of an epilogue activation (always a kind without state).
    fn epilogue_value(&self, l: &Layer) -> TokenStream {
        l.value
            .clone()
            .expect("the table gives epilogue activations no state")
    }
}

/// Inference: each layer's output in a fresh local, in-place layers on the current one.
fn forward_body(cx: &Ctx<'_>, plan: &Plan) -> TokenStream {
    let layers = &cx.net.layers;
    let mut body = Vec::new();
    // The current value: `None` is the input `x`.
    let mut cur: Option<Ident> = None;
    for step in &plan.infer {
        let src = match &cur {
            None => quote!(__nn_x),
            Some(v) => quote!(&#v),
        };
        match *step {
            Infer::Fused(i, j) => {
                let (l, e) = (&layers[i], &layers[j]);
                let a = format_ident!("__nn_a{}", i);
                let zeros = cx.zeros(e.outputs);
                let (p, ty, st) = (&cx.p, &l.ty, cx.state(l));
                let (il, ol) = (lit(l.inputs), lit(l.outputs));
                let ev = cx.epilogue_value(e);
                body.push(quote! {
                    let mut #a = #zeros;
                    <#ty as #p::layer::FusedForward<T, #il, #ol>>::forward_fused(#st, #src, &#ev, &mut #a);
                });
                cur = Some(a);
            }
            Infer::InPlace(i) => {
                let l = &layers[i];
                // On a copy of the input, or on the current local.
                let target = match &cur {
                    Some(v) => v.clone(),
                    None => {
                        let a = format_ident!("__nn_a{}", i);
                        body.push(quote!(let mut #a = ::core::clone::Clone::clone(__nn_x);));
                        a
                    }
                };
                let (tr, st) = (cx.same_size(l, "InPlace"), cx.state(l));
                body.push(quote!(#tr::forward_inplace(#st, &mut #target);));
                cur = Some(target);
            }
            Infer::Plain(i) => {
                let l = &layers[i];
                let a = format_ident!("__nn_a{}", i);
                let zeros = cx.zeros(l.outputs);
                let (tr, st) = (cx.layer(l), cx.state(l));
                body.push(quote! {
                    let mut #a = #zeros;
                    #tr::forward(#st, #src, &mut #a);
                });
                cur = Some(a);
            }
        }
    }
    // A network of layers that are all the identity in inference returns its input.
    let cur = match cur {
        Some(c) => quote!(#c),
        None => quote!(::core::clone::Clone::clone(__nn_x)),
    };
    quote! {
        #(#body)*
        #cur
    }
}

/// Training forward: every layer's output written to `(*__nn_o{i})` (the body of
/// `__nn_fill`, whose parameters are `__nn_in0` and `&mut` references to the outputs).
/// A layer the plan fuses (`fused[i]`) writes its epilogue activation's output, and the
/// activation is skipped.
/// With `train == false`, evaluation mode: every layer's inference `forward`, no tape.
fn fill_body(cx: &Ctx<'_>, fused: &[bool], train: bool) -> TokenStream {
    let p = &cx.p;
    let layers = &cx.net.layers;
    let mut body = Vec::new();
    for l in layers {
        let i = l.index;
        if i > 0 && fused[i - 1] {
            continue;
        }
        let src = tape_input(i);
        let st = cx.state(l);
        if fused[i] {
            let (ty, next) = (&l.ty, tape_output(i + 1));
            let (il, ol) = (lit(l.inputs), lit(l.outputs));
            let ev = cx.epilogue_value(&layers[i + 1]);
            body.push(quote!(<#ty as #p::layer::FusedForward<T, #il, #ol>>::forward_fused(#st, &#src, &#ev, &mut #next);));
        } else if train {
            let (tr, dst, tp) = (cx.layer(l), tape_output(i), cx.tape_arg(l, true));
            body.push(quote!(#tr::forward_train(#st, &#src, &mut #dst, #tp, __nn_cx);));
        } else {
            let (tr, dst) = (cx.layer(l), tape_output(i));
            body.push(quote!(#tr::forward(#st, &#src, &mut #dst);));
        }
    }
    if train {
        body.push(quote!(let _ = &mut *__nn_cx;));
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
fn chain_body(cx: &Ctx<'_>, plan: &Plan, sink: Sink) -> TokenStream {
    let p = &cx.p;
    let Some(start) = plan.chain_start else {
        return quote! {
            if let ::core::option::Option::Some(__nn_dx) = __nn_dx {
                __nn_dx.copy_from(__nn_d);
            }
        };
    };
    let mut body = Vec::new();
    let mut cur = quote!(__nn_d);
    let mut skip = false;
    for l in cx.net.layers[..=start].iter().rev() {
        if ::core::mem::take(&mut skip) {
            continue;
        }
        let i = l.index;
        let gated = plan.gated[i];
        let (input, out) = (tape_input(i), tape_output(i));
        let grad = if gated {
            quote!(#p::layer::InputGrad::WriteReluGated)
        } else {
            quote!(#p::layer::InputGrad::Write)
        };
        // Where dLoss/d(input of this layer) goes (of the ReLU's input when gated).
        let prev = format_ident!("__nn_d{}", i.wrapping_sub(if gated { 2 } else { 1 }));
        let dx = if i > 0 {
            let zeros = cx.zeros(l.inputs);
            body.push(quote!(let mut #prev = #zeros;));
            quote!(#grad(&mut #prev))
        } else {
            // The network's input gradient, when the caller asks for it.
            quote! {
                match __nn_dx {
                    ::core::option::Option::Some(__nn_dx) => #grad(__nn_dx),
                    ::core::option::Option::None => #p::layer::InputGrad::Skip,
                }
            }
        };
        let tr = cx.layer(l);
        body.push(match sink {
            Sink::Grads => {
                let (st, g) = (cx.state(l), cx.grads_of(l));
                let tp = cx.tape_arg(l, false);
                quote!(#tr::backward(#st, &#input, &#out, #tp, #cur, #dx, #g, __nn_acc);)
            }
            Sink::Sgd => {
                let st = cx.state_mut(l);
                let tp = cx.tape_arg(l, false);
                quote!(#tr::backward_sgd(#st, &#input, &#out, #tp, #cur, #dx, __nn_alpha);)
            }
        });
        cur = quote!(&#prev);
        skip = gated;
    }
    quote!(#(#body)*)
}

pub fn generate(cx: &Ctx<'_>) -> TokenStream {
    let net = cx.net;
    let (k, p) = (&cx.k, &cx.p);
    let (name, grads, tape) = (&cx.name, &cx.grads, &cx.tape);
    let (inputs, outputs) = (&cx.inputs, &cx.outputs);
    let n = net.layers.len();
    let plan = crate::plan::plan(net);
    let chain_size = lit(match plan.chain_start {
        Some(s) => net.layers[s].outputs,
        None => net.inputs,
    });
    let forward = forward_body(cx, &plan);
    let fused_layers = &plan.train_fused;
    let fill = fill_body(cx, &vec![false; n], true);
    let fill_train = fill_body(cx, fused_layers, true);
    let fill_eval = fill_body(cx, fused_layers, false);
    let chain = chain_body(cx, &plan, Sink::Grads);
    let sgd_chain = chain_body(cx, &plan, Sink::Sgd);
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
    let out_refs = refs[1..].to_vec();
    // The layers that keep a tape, their references (after the outputs in every pass's
    // parameters), types and fields of the generated tape.
    let taped: Vec<&Layer> = net.layers.iter().filter(|l| l.caps.tape).collect();
    let tp_refs: Vec<Ident> = taped.iter().map(|l| tape_ref(l.index)).collect();
    let tp_types: Vec<TokenStream> = taped.iter().map(|l| cx.tape_type(l)).collect();
    let tp_fields: Vec<Ident> = taped
        .iter()
        .map(|l| format_ident!("tape{}", l.index))
        .collect();
    let tp_locals: Vec<Ident> = taped
        .iter()
        .map(|l| format_ident!("__nn_tp{}", l.index))
        .collect();
    let zeroed = quote!(<_ as #p::layer::Zeroed>::zeroed());
    let refs: Vec<Ident> = refs.iter().chain(&tp_refs).cloned().collect();
    // After a training forward pass: the running statistics from the tapes, and the
    // dropout stream one step on.
    let buffer_updates: Vec<TokenStream> = net
        .layers
        .iter()
        .filter(|l| l.caps.buffers)
        .map(|l| {
            let (tr, f, r) = (cx.layer(l), &l.field, tape_ref(l.index));
            quote!(#tr::update_buffers(&mut self.#f, #r);)
        })
        .chain(
            net.layers
                .iter()
                .any(|l| l.caps.stochastic)
                .then(|| quote!(self.__nn_stream.advance();)),
        )
        .collect();
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
    let stored_refs: Vec<&Ident> = stored.iter().map(|&i| &out_refs[i]).collect();
    let stored_types: Vec<&TokenStream> = stored.iter().map(|&i| &out_types[i]).collect();
    let all_locals =
        (0..n).map(|i| format_ident!("__nn_t{}", if fused_layers[i] { i + 1 } else { i }));
    let all_locals: Vec<Ident> = all_locals.collect();
    let train_cx = cx.train_cx();
    let fill_locals = quote! {
        #(let mut #locals = #stored_zeros;)*
        #(let mut #tp_locals = #zeroed;)*
        #train_cx
        self.__nn_fill_train(__nn_x, #(&mut #locals,)* #(&mut #tp_locals,)* &mut __nn_cx);
        let (#(#refs),*) = (__nn_x, #(&#all_locals,)* #(&#tp_locals),*);
        let __nn_out = &#last_out;
    };
    let stored_zeros: Vec<&TokenStream> = stored.iter().map(|&i| &local_zeros[i]).collect();
    let eval_refs = &refs[..n + 1];
    let fill_eval_locals = quote! {
        #(let mut #locals = #stored_zeros;)*
        self.__nn_fill_eval(__nn_x, #(&mut #locals),*);
        let (#(#eval_refs),*) = (__nn_x, #(&#all_locals),*);
        let __nn_out = &#last_out;
    };
    let tape_refs = quote! {
        let (#(#refs),*) = (&__nn_tape.input, #(&__nn_tape.#out_fields,)* #(&__nn_tape.#tp_fields),*);
    };

    // dLoss/dOutput -> the chain's start, through the loss's head if there is one.
    let last = &net.layers[n - 1];
    let (head_layer, head_st, head_grads) = (cx.layer(last), cx.state(last), cx.grads_of(last));
    let head = cx.same_size(last, "LossHead");
    let backward_entry = if plan.head {
        quote! {
            let mut __nn_dz = #zeros_out;
            #head_layer::backward(#head_st, &#last_in, &#last_out, &(), __nn_d_output, #p::layer::InputGrad::Write(&mut __nn_dz), #head_grads, true);
            self.__nn_chain(#(#refs,)* &__nn_dz, __nn_grads, __nn_dx, __nn_acc);
        }
    } else {
        quote!(self.__nn_chain(#(#refs,)* __nn_d_output, __nn_grads, __nn_dx, __nn_acc);)
    };
    let backward_sgd_entry = if plan.head {
        quote! {
            let mut __nn_dz = #zeros_out;
            #head_layer::backward(#head_st, &#last_in, &#last_out, &(), __nn_d_output, #p::layer::InputGrad::Write(&mut __nn_dz), &mut #p::layer::NoGrads, true);
            self.__nn_sgd_chain(#(#refs,)* &__nn_dz, __nn_alpha, __nn_dx);
        }
    } else {
        quote!(self.__nn_sgd_chain(#(#refs,)* __nn_d_output, __nn_alpha, __nn_dx);)
    };

    // The loss and the gradient at the chain's start, then `chain_call` (which reads
    // `__nn_dz`).
    let loss_then = |chain_call: TokenStream| {
        if plan.head {
            quote! {
                let mut __nn_dz = #zeros_out;
                let __nn_value = match #head::fused_loss(#head_st, __nn_loss, &#last_in, __nn_out, __nn_y, &mut __nn_dz) {
                    ::core::option::Option::Some(__nn_v) => __nn_v,
                    ::core::option::Option::None => {
                        let mut __nn_dp = #zeros_out;
                        #p::Loss::<T>::gradient(__nn_loss, __nn_out, __nn_y, &mut __nn_dp);
                        #head_layer::backward(#head_st, &#last_in, __nn_out, &(), &__nn_dp, #p::layer::InputGrad::Write(&mut __nn_dz), &mut #p::layer::NoGrads, true);
                        #p::Loss::<T>::loss(__nn_loss, __nn_out, __nn_y)
                    }
                };
                #chain_call
                __nn_value
            }
        } else {
            quote! {
                let mut __nn_dz = #zeros_out;
                #p::Loss::<T>::gradient(__nn_loss, __nn_out, __nn_y, &mut __nn_dz);
                let __nn_value = #p::Loss::<T>::loss(__nn_loss, __nn_out, __nn_y);
                #chain_call
                __nn_value
            }
        }
    };
    let loss_and_start =
        loss_then(quote!(self.__nn_chain(#(#refs,)* &__nn_dz, __nn_grads, __nn_dx, __nn_acc);));
    let loss_and_sgd = loss_then(
        quote!(self.__nn_sgd_chain(#(#refs,)* &__nn_dz, -lr, ::core::option::Option::None);),
    );
    let loss_only = if plan.head {
        quote! {
            let mut __nn_scratch = #zeros_out;
            match #head::fused_loss(#head_st, __nn_loss, &#last_in, __nn_out, __nn_y, &mut __nn_scratch) {
                ::core::option::Option::Some(__nn_v) => __nn_v,
                ::core::option::Option::None => #p::Loss::<T>::loss(__nn_loss, __nn_out, __nn_y),
            }
        }
    } else {
        quote!(#p::Loss::<T>::loss(__nn_loss, __nn_out, __nn_y))
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
                    #(#tp_fields: #zeroed,)*
                };
                #train_cx
                self.__nn_fill(x, #(&mut __nn_tape.#out_fields,)* #(&mut __nn_tape.#tp_fields,)* &mut __nn_cx);
                __nn_tape
            }

            /// Commits the training step recorded in `tape`: updates the running statistics
            /// and moves the dropout stream on, as the training methods do after their
            /// forward pass.
            pub fn update_buffers<const B: usize>(&mut self, tape: &#tape<T, { B }>) {
                let _ = tape;
                #(let #tp_refs = &tape.#tp_fields;)*
                #(#buffer_updates)*
            }

            fn __nn_fill<const B: usize>(&self, __nn_in0: &#xin, #(#out_refs: &mut #out_types,)* #(#tp_refs: &mut #tp_types,)* __nn_cx: &mut #p::layer::TrainCx<'_>) {
                #fill
            }

            fn __nn_fill_train<const B: usize>(&self, __nn_in0: &#xin, #(#stored_refs: &mut #stored_types,)* #(#tp_refs: &mut #tp_types,)* __nn_cx: &mut #p::layer::TrainCx<'_>) {
                #fill_train
            }

            fn __nn_fill_eval<const B: usize>(&self, __nn_in0: &#xin, #(#stored_refs: &mut #stored_types),*) {
                #fill_eval
            }

            /// Back-propagates `d_output` (dLoss/dOutput for the batch recorded in `tape`):
            /// **adds** the parameter gradients to `grads` and returns dLoss/dInput (what
            /// `torch.autograd.grad(loss, input)` gives).
            pub fn #m_backward<const B: usize>(&self, tape: &#tape<T, { B }>, d_output: &#yout, grads: &mut #grads<T>) -> #xin {
                let mut __nn_dx = #p::SMatrix::<T, #inputs, { B }>::zeros();
                self.__nn_backward(tape, d_output, grads, ::core::option::Option::Some(&mut __nn_dx), true);
                __nn_dx
            }

            /// Like [`backward`](Self::backward), without computing the input gradient
            /// (which training does not need).
            pub fn #m_backward_params<const B: usize>(&self, tape: &#tape<T, { B }>, d_output: &#yout, grads: &mut #grads<T>) {
                self.__nn_backward(tape, d_output, grads, ::core::option::Option::None, true);
            }

            fn __nn_backward<const B: usize>(
                &self,
                __nn_tape: &#tape<T, { B }>,
                __nn_d_output: &#yout,
                __nn_grads: &mut #grads<T>,
                __nn_dx: ::core::option::Option<&mut #xin>,
                __nn_acc: bool,
            ) {
                #tape_refs
                #backward_entry
            }

            fn __nn_backward_sgd<const B: usize>(
                &mut self,
                __nn_tape: &#tape<T, { B }>,
                __nn_d_output: &#yout,
                __nn_alpha: T,
                __nn_dx: ::core::option::Option<&mut #xin>,
            ) {
                #tape_refs
                #backward_sgd_entry
            }

            fn __nn_chain<const B: usize>(
                &self,
                __nn_in0: &#xin,
                #(#out_refs: &#out_types,)*
                #(#tp_refs: &#tp_types,)*
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
                #(#tp_refs: &#tp_types,)*
                __nn_d: &#chain_d,
                __nn_alpha: T,
                __nn_dx: ::core::option::Option<&mut #xin>,
            ) {
                let _ = (#(#refs,)* __nn_d, __nn_alpha);
                #sgd_chain
            }

            /// Forward, loss and backward on a batch: **adds** the loss's gradients to
            /// `grads` and returns the loss. After a final `softmax` with
            /// [`CrossEntropy`](#k::loss::CrossEntropy), or a final `sigmoid` with
            /// [`BinaryCrossEntropy`](#k::loss::BinaryCrossEntropy), uses the fused,
            /// numerically stable gradient `(p - y) / n`.
            pub fn #m_accumulate<const B: usize, L: #p::Loss<T>>(&mut self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>) -> T {
                self.__nn_accumulate(x, y, loss, grads, ::core::option::Option::None, true)
            }

            /// Like [`accumulate_gradients`](Self::accumulate_gradients), and also returns
            /// dLoss/dInput through the same (fused where it applies) path: what a GAN's
            /// generator or an adversarial example needs.
            pub fn #m_accumulate_input<const B: usize, L: #p::Loss<T>>(&mut self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>) -> (T, #xin) {
                let mut __nn_dx = #p::SMatrix::<T, #inputs, { B }>::zeros();
                let __nn_value = self.__nn_accumulate(x, y, loss, grads, ::core::option::Option::Some(&mut __nn_dx), true);
                (__nn_value, __nn_dx)
            }

            fn __nn_accumulate<const B: usize, L: #p::Loss<T>>(&mut self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>, __nn_dx: ::core::option::Option<&mut #xin>, __nn_acc: bool) -> T {
                let (__nn_x, __nn_loss, __nn_y, __nn_grads) = (x, loss, y, grads);
                #fill_locals
                let __nn_value = { #loss_and_start };
                #(#buffer_updates)*
                __nn_value
            }

            /// The loss on a batch in evaluation mode (running statistics, no dropout),
            /// computed as stably as [`accumulate_gradients`](Self::accumulate_gradients)
            /// computes it.
            pub fn #m_loss<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L) -> T {
                let (__nn_x, __nn_loss, __nn_y) = (x, loss, y);
                #fill_eval_locals
                let _ = (#(#eval_refs),*);
                #loss_only
            }

            /// The loss on a batch in training mode (batch statistics, the dropout mask of
            /// the next training step), changing nothing: the function whose gradient
            /// [`accumulate_gradients`](Self::accumulate_gradients) computes.
            pub fn training_loss<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L) -> T {
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
            pub fn #m_lag<const B: usize, L: #p::Loss<T>>(&mut self, x: &#xin, y: &#yout, loss: &L) -> (T, #grads<T>) {
                let mut __nn_grads = #grads::<T>::zeros();
                let __nn_value = self.accumulate_gradients(x, y, loss, &mut __nn_grads);
                (__nn_value, __nn_grads)
            }

            /// Writes the gradients of the loss on the batch into `grads` (overwriting
            /// what they held: each gradient is stored once, never zeroed and re-read) and
            /// returns the loss.
            pub fn #m_lag_into<const B: usize, L: #p::Loss<T>>(&mut self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>) -> T {
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
                let __nn_value = { #loss_and_sgd };
                #(#buffer_updates)*
                __nn_value
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
            fn update_buffers<const B: usize>(&mut self, tape: &#tape<T, { B }>) {
                #name::<T>::update_buffers::<{ B }>(self, tape)
            }
            fn training_loss<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L) -> T {
                #name::<T>::training_loss::<{ B }, L>(self, x, y, loss)
            }
            fn backward<const B: usize>(&self, tape: &#tape<T, { B }>, d_output: &#yout, grads: &mut #grads<T>) -> #xin {
                #name::<T>::backward::<{ B }>(self, tape, d_output, grads)
            }
            fn backward_params<const B: usize>(&self, tape: &#tape<T, { B }>, d_output: &#yout, grads: &mut #grads<T>) {
                #name::<T>::backward_params::<{ B }>(self, tape, d_output, grads)
            }
            fn accumulate_gradients<const B: usize, L: #p::Loss<T>>(&mut self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>) -> T {
                #name::<T>::accumulate_gradients::<{ B }, L>(self, x, y, loss, grads)
            }
            fn loss<const B: usize, L: #p::Loss<T>>(&self, x: &#xin, y: &#yout, loss: &L) -> T {
                #name::<T>::loss::<{ B }, L>(self, x, y, loss)
            }
            fn loss_and_gradients_into<const B: usize, L: #p::Loss<T>>(&mut self, x: &#xin, y: &#yout, loss: &L, grads: &mut #grads<T>) -> T {
                #name::<T>::loss_and_gradients_into::<{ B }, L>(self, x, y, loss, grads)
            }
            fn sgd_step<const B: usize, L: #p::Loss<T>>(&mut self, x: &#xin, y: &#yout, loss: &L, lr: T) -> T {
                #name::<T>::sgd_step::<{ B }, L>(self, x, y, loss, lr)
            }
        }

        /// A network is itself a layer, so that networks compose: its tape is its
        /// [`forward_tape`](Self::forward_tape)'s, its gradients its gradients type.
        #[automatically_derived]
        #[allow(clippy::all, clippy::pedantic)]
        impl<T: #k::Scalar> #p::layer::Layer<T, #inputs, #outputs> for #name<T> {
            type Grads = #grads<T>;
            type Tape<const B: usize> = #tape<T, { B }>;
            fn forward<const B: usize>(&self, x: &#xin, y: &mut #yout) {
                *y = #name::<T>::forward_batch::<{ B }>(self, x);
            }
            fn forward_train<const B: usize>(&self, x: &#xin, y: &mut #yout, tape: &mut #tape<T, { B }>, cx: &mut #p::layer::TrainCx<'_>) {
                tape.input.copy_from(x);
                self.__nn_fill(x, #(&mut tape.#out_fields,)* #(&mut tape.#tp_fields,)* cx);
                y.copy_from(tape.output());
            }
            fn backward<const B: usize>(&self, x: &#xin, _y: &#yout, tape: &#tape<T, { B }>, dy: &#yout, dx: #p::layer::InputGrad<'_, T, #inputs, { B }>, grads: &mut #grads<T>, accumulate: bool) {
                match dx {
                    #p::layer::InputGrad::Skip => self.__nn_backward(tape, dy, grads, ::core::option::Option::None, accumulate),
                    #p::layer::InputGrad::Write(d) => self.__nn_backward(tape, dy, grads, ::core::option::Option::Some(d), accumulate),
                    #p::layer::InputGrad::WriteReluGated(d) => {
                        self.__nn_backward(tape, dy, grads, ::core::option::Option::Some(&mut *d), accumulate);
                        #p::layer::gate_relu(x, d);
                    }
                }
            }
            fn backward_sgd<const B: usize>(&mut self, x: &#xin, _y: &#yout, tape: &#tape<T, { B }>, dy: &#yout, dx: #p::layer::InputGrad<'_, T, #inputs, { B }>, alpha: T) {
                match dx {
                    #p::layer::InputGrad::Skip => self.__nn_backward_sgd(tape, dy, alpha, ::core::option::Option::None),
                    #p::layer::InputGrad::Write(d) => self.__nn_backward_sgd(tape, dy, alpha, ::core::option::Option::Some(d)),
                    #p::layer::InputGrad::WriteReluGated(d) => {
                        self.__nn_backward_sgd(tape, dy, alpha, ::core::option::Option::Some(&mut *d));
                        #p::layer::gate_relu(x, d);
                    }
                }
            }
            fn update_buffers<const B: usize>(&mut self, tape: &#tape<T, { B }>) {
                #name::<T>::update_buffers::<{ B }>(self, tape)
            }
        }
    }
}
