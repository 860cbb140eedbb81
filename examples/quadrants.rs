//! Which quadrant is a point in? The two-layer network 2-50-4 (ReLU, softmax) trained
//! with plain gradient descent (learning rate 1e-3, L2 1e-3 on the weights) for 10000
//! iterations on the four points (2,1), (-1,1), (-1,-1), (1,-1).
//!
//! ```text
//! cargo run --release --example quadrants
//! ```
//!
//! Prints the loss as it falls and the probability of the right class for each point;
//! draws the decision regions over the plane.

#[path = "common/mod.rs"]
pub mod common;

use common::{Args, Dot, Labels, Res, PALETTE};
use nn::optim::{Optimizer, Sgd};
use nn::prelude::*;
use std::path::PathBuf;

nn::network! {
    /// 2 inputs, 50 ReLU units, 4 softmax outputs: one per quadrant.
    pub struct Quadrants {
        input: 2,
        dense(50), relu,
        dense(4), softmax,
    }
}

/// The four training points, one per quadrant, and their quadrant (0 = I, 1 = II, 2 = III,
/// 3 = IV).
const POINTS: [(f64, f64, usize); 4] = [
    (2.0, 1.0, 0),
    (-1.0, 1.0, 1),
    (-1.0, -1.0, 2),
    (1.0, -1.0, 3),
];
const NAMES: [&str; 4] = [
    "I (x>0, y>0)",
    "II (x<0, y>0)",
    "III (x<0, y<0)",
    "IV (x>0, y<0)",
];

fn main() -> std::process::ExitCode {
    common::main("quadrants", &[], run)
}

/// Trains the network and draws its decision regions; returns the pictures written.
pub fn run(args: &Args) -> Res<Vec<PathBuf>> {
    let iterations = if args.quick { 300 } else { 10_000 };
    let (lr, l2) = (1e-3, 1e-3);
    println!(
        "quadrants: 2-50-4 ReLU/softmax, plain gradient descent (lr {lr}, L2 {l2} on weights), \
         {iterations} iterations on 4 points, seed {}",
        args.seed
    );

    let mut x = SMatrix::<f64, 2, 4>::zeros();
    let mut y = SMatrix::<f64, 4, 4>::zeros();
    for (j, &(px, py, q)) in POINTS.iter().enumerate() {
        x[(0, j)] = px;
        x[(1, j)] = py;
        y[(q, j)] = 1.0;
    }

    let mut net = Quadrants::<f64>::seeded(args.seed);
    // Plain gradient descent; weight decay adds l2 * W to the weights' gradients (not the
    // biases'), which is the gradient of the L2 penalty (l2 / 2) * |W|^2.
    let mut opt = Sgd::new(lr).weight_decay(l2);
    let mut history = Vec::new();
    for it in 0..=iterations {
        let (loss, grads) = net.loss_and_gradients(&x, &y, &CrossEntropy);
        let penalty = 0.5 * l2 * weight_squared_norm(&net);
        history.push((it as f64, loss + penalty));
        if it == iterations {
            break;
        }
        opt.step(&mut net, &grads);
        if it % (iterations / 10).max(1) == 0 {
            println!(
                "  iteration {it:>6}: loss {:.4} (cross-entropy {loss:.4})",
                loss + penalty
            );
        }
    }
    let final_loss = history.last().map_or(f64::NAN, |h| h.1);
    println!("after {iterations} iterations: loss {final_loss:.4} (with the L2 term)");

    println!("probability of the right quadrant:");
    let p = net.forward_batch(&x);
    for (j, &(px, py, q)) in POINTS.iter().enumerate() {
        println!(
            "  ({px:>4}, {py:>4}) quadrant {:<15} p = {:.3}",
            NAMES[q],
            p[(q, j)]
        );
    }

    // Pictures.
    let mut pictures = Vec::new();
    let path = common::out_file(args, "regions.png")?;
    {
        let root = common::png(&path, 1100, 520)?;
        let (left, right) = root.split_horizontally(560);
        let field = |a: f64, b: f64| {
            let p = net.forward(&SVector::<f64, 2>::new(a, b));
            let k = common::argmax(p.iter().copied());
            // The more confident, the deeper the colour.
            common::mix(plotters::style::WHITE, PALETTE[k], 0.25 + 0.6 * p[k])
        };
        let dots: Vec<Dot> = POINTS
            .iter()
            .map(|&(px, py, q)| Dot {
                x: px,
                y: py,
                color: PALETTE[q],
                cross: false,
            })
            .collect();
        let legend: Vec<(String, plotters::style::RGBColor)> = (0..4)
            .map(|k| (format!("quadrant {}", NAMES[k]), PALETTE[k]))
            .collect();
        common::field_chart(
            &left,
            Labels {
                title: "Predicted quadrant (deeper = more confident)",
                x: "x",
                y: "y",
            },
            (-3.0, 3.0),
            (-3.0, 3.0),
            120,
            &field,
            &dots,
            &legend,
        )?;
        common::line_chart(
            &right,
            Labels {
                title: "Training loss (cross-entropy + L2)",
                x: "iteration",
                y: "loss",
            },
            &[common::Series::line("", history.clone(), PALETTE[0])],
            true,
        )?;
        root.present()?;
    }
    pictures.push(path);
    Ok(pictures)
}

fn weight_squared_norm(net: &Quadrants<f64>) -> f64 {
    (0..Quadrants::<f64>::TENSORS)
        .filter(|&t| Quadrants::<f64>::tensor_info(t).kind.decayed_by_default())
        .map(|t| net.tensor(t).iter().map(|w| w * w).sum::<f64>())
        .sum()
}
