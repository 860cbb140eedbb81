//! Every fusion decision, made once from the layers' capabilities (never from their
//! kinds): code generation follows the plan and emits one trait call per step.

use crate::model::Network;
use crate::table::Caps;

/// How inference runs one layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Infer {
    /// `forward` into a fresh output.
    Plain(usize),
    /// `forward_inplace` on the current value.
    InPlace(usize),
    /// The producer `.0` runs the epilogue activation `.1` in its forward pass.
    Fused(usize, usize),
}

#[derive(Debug, PartialEq)]
pub struct Plan {
    /// Inference, in order.
    pub infer: Vec<Infer>,
    /// For each layer: in the training passes that build no tape, it writes the output
    /// of the epilogue activation after it (whose backward reads only that output), and
    /// its own output is never stored.
    pub train_fused: Vec<bool>,
    /// For each layer: its backward pass writes the gradient with respect to the input
    /// of the ReLU before it, gated by that ReLU's output, and the ReLU is skipped.
    pub gated: Vec<bool>,
    /// Whether the last layer is the head a loss may fuse with.
    pub head: bool,
    /// The last layer the backward chain runs through (`None`: none, the network is only
    /// its head).
    pub chain_start: Option<usize>,
    /// For each layer: the He gain the layer after it asks for its weights (`None`:
    /// Glorot).
    pub init_gain: Vec<Option<f64>>,
}

pub fn plan(net: &Network) -> Plan {
    let caps: Vec<Caps> = net.layers.iter().map(|l| l.caps).collect();
    make(&caps)
}

fn make(caps: &[Caps]) -> Plan {
    let n = caps.len();
    // Inference skips the layers that are the identity there (dropout), so that a
    // producer and an activation on either side of one still fuse.
    let live: Vec<usize> = (0..n).filter(|&i| !caps[i].identity_in_inference).collect();
    let mut infer = Vec::new();
    let mut k = 0;
    while k < live.len() {
        let i = live[k];
        if let Some(&j) = live.get(k + 1) {
            if caps[i].producer && caps[j].epilogue {
                infer.push(Infer::Fused(i, j));
                k += 2;
                continue;
            }
        }
        infer.push(if caps[i].in_place {
            Infer::InPlace(i)
        } else {
            Infer::Plain(i)
        });
        k += 1;
    }
    // A fused pair must not end the network: the loss reads the final layer's input
    // (a fused head does), which fusion does not store.
    let train_fused = (0..n)
        .map(|i| {
            i + 2 < n
                && caps[i].producer
                && caps[i].train_is_inference
                && caps[i + 1].epilogue
                && caps[i + 1].reads_output_only
                && caps[i + 1].train_is_inference
        })
        .collect();
    // The ReLU must not be the first layer, whose input gradient is optional.
    let gated = (0..n)
        .map(|i| i >= 2 && caps[i].gates_input && caps[i - 1].relu)
        .collect();
    let head = caps.last().is_some_and(|c| c.loss_head);
    let chain_start = if head {
        n.checked_sub(2)
    } else {
        n.checked_sub(1)
    };
    let init_gain = (0..n)
        .map(|i| caps.get(i + 1).and_then(|c| c.init_gain))
        .collect();
    Plan {
        infer,
        train_fused,
        gated,
        head,
        chain_start,
        init_gain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense() -> Caps {
        Caps {
            producer: true,
            gates_input: true,
            train_is_inference: true,
            ..Caps::default()
        }
    }
    fn relu() -> Caps {
        Caps {
            in_place: true,
            epilogue: true,
            reads_output_only: true,
            relu: true,
            train_is_inference: true,
            init_gain: Some(2f64.sqrt()),
            ..Caps::default()
        }
    }
    fn softmax() -> Caps {
        Caps {
            in_place: true,
            loss_head: true,
            train_is_inference: true,
            ..Caps::default()
        }
    }
    /// A layer between a producer and its activation that keeps a tape (a normalisation).
    fn norm() -> Caps {
        Caps::default()
    }

    #[test]
    fn mlp() {
        let p = make(&[dense(), relu(), dense(), relu(), dense(), softmax()]);
        assert_eq!(
            p.infer,
            vec![
                Infer::Fused(0, 1),
                Infer::Fused(2, 3),
                Infer::Plain(4),
                Infer::InPlace(5)
            ]
        );
        assert_eq!(p.train_fused, vec![true, false, true, false, false, false]);
        assert_eq!(p.gated, vec![false, false, true, false, true, false]);
        assert!(p.head);
        assert_eq!(p.chain_start, Some(4));
        assert_eq!(p.init_gain[0], Some(2f64.sqrt()));
        assert_eq!(p.init_gain[4], None);
    }

    #[test]
    fn a_final_activation_is_not_fused_in_training() {
        let p = make(&[dense(), relu()]);
        assert_eq!(p.infer, vec![Infer::Fused(0, 1)]);
        assert_eq!(p.train_fused, vec![false, false]);
        assert!(!p.head);
        assert_eq!(p.chain_start, Some(1));
    }

    #[test]
    fn a_layer_between_producer_and_activation_stops_fusion() {
        let p = make(&[dense(), norm(), relu(), dense()]);
        assert_eq!(
            p.infer,
            vec![
                Infer::Plain(0),
                Infer::Plain(1),
                Infer::InPlace(2),
                Infer::Plain(3)
            ]
        );
        assert_eq!(p.train_fused, vec![false; 4]);
        // The dense layer after the ReLU still passes its gradient through it.
        assert_eq!(p.gated, vec![false, false, false, true]);
    }

    fn dropout() -> Caps {
        Caps {
            in_place: true,
            tape: true,
            stochastic: true,
            identity_in_inference: true,
            ..Caps::default()
        }
    }

    #[test]
    fn dropout_is_skipped_in_inference_and_stops_training_fusion() {
        let p = make(&[dense(), dropout(), relu(), dense(), dropout()]);
        assert_eq!(p.infer, vec![Infer::Fused(0, 2), Infer::Plain(3)]);
        assert_eq!(p.train_fused, vec![false; 5]);
    }

    #[test]
    fn a_network_that_is_only_its_head() {
        let p = make(&[softmax()]);
        assert!(p.head);
        assert_eq!(p.chain_start, None);
    }

    #[test]
    fn a_relu_first_is_not_gated() {
        let p = make(&[relu(), dense()]);
        assert_eq!(p.gated, vec![false, false]);
    }
}
