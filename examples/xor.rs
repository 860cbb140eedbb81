//! The smallest multilayer perceptron that solves XOR: 2 inputs, 2 hidden tanh units, 1
//! sigmoid output, trained with full-batch gradient descent on binary cross-entropy.
//!
//! ```text
//! cargo run --release --example xor
//! ```
//!
//! A single perceptron cannot separate XOR (see the `perceptron` example); one hidden
//! layer of two units can. With only two hidden units some initialisations end in a
//! local minimum, so the example trains from 20 seeds, reports how many solve XOR, and
//! draws the decision boundary of the first seed that does (and of one that does not,
//! if any).

#[path = "common/mod.rs"]
pub mod common;

use common::{Args, Dot, Labels, Res, Series, PALETTE};
use nn::optim::{Optimizer, Sgd};
use nn::prelude::*;
use plotters::style::RGBColor;
use std::path::PathBuf;

nn::network! {
    /// 2-2-1: two tanh hidden units, a sigmoid output (the probability of a 1).
    #[derive(Clone, Debug)]
    pub struct Xor {
        input: 2,
        dense(2), tanh,
        dense(1), sigmoid,
    }
}

const INPUTS: [[f64; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
const TARGETS: [f64; 4] = [0.0, 1.0, 1.0, 0.0];
const LEARNING_RATE: f64 = 0.5;

fn main() -> std::process::ExitCode {
    common::main("xor", &["--seeds", "--epochs"], run)
}

/// Trains from several seeds; returns the pictures written.
pub fn run(args: &Args) -> Res<Vec<PathBuf>> {
    let seeds = args.seeds.unwrap_or(if args.quick { 4 } else { 20 });
    let steps = args.epochs.unwrap_or(if args.quick { 500 } else { 5000 });
    if seeds == 0 {
        return Err("--seeds must be at least 1".into());
    }
    println!(
        "xor: 2-2-1 (tanh, sigmoid), binary cross-entropy, full-batch gradient descent \
         (lr {LEARNING_RATE}, momentum 0.9), {steps} steps, seeds {}..{}",
        args.seed,
        args.seed + seeds as u64 - 1
    );
    let x = SMatrix::<f64, 2, 4>::from_fn(|r, c| INPUTS[c][r]);
    let y = SMatrix::<f64, 1, 4>::from_fn(|_, c| TARGETS[c]);

    let mut results = Vec::new();
    for k in 0..seeds {
        let seed = args.seed + k as u64;
        let mut net = Xor::<f64>::seeded(seed);
        let mut opt = Sgd::new(LEARNING_RATE).momentum(0.9);
        let mut grads = Xor::<f64>::zero_gradients();
        let mut curve = Vec::with_capacity(steps + 1);
        for step in 0..=steps {
            let loss = net.loss_and_gradients_into(&x, &y, &BinaryCrossEntropy, &mut grads);
            curve.push((step as f64, loss));
            if step < steps {
                opt.step(&mut net, &grads);
            }
        }
        let out = net.forward_batch(&x);
        let solved = (0..4).all(|c| (out[(0, c)] > 0.5) == (TARGETS[c] > 0.5));
        println!(
            "  seed {seed:>3}: loss {:.5}, outputs [{}] -> {}",
            curve[steps].1,
            (0..4)
                .map(|c| format!("{:.3}", out[(0, c)]))
                .collect::<Vec<_>>()
                .join(", "),
            if solved { "solved" } else { "stuck" }
        );
        results.push((seed, net, curve, solved));
    }
    let solved = results.iter().filter(|r| r.3).count();
    println!("\n{solved} of {seeds} seeds solve XOR with two hidden units");

    let mut pictures = Vec::new();
    let path = common::out_file(args, "xor.png")?;
    {
        let root = common::png(&path, 1500, 500)?;
        let areas = root.split_evenly((1, 3));
        let dots: Vec<Dot> = (0..4)
            .map(|c| Dot {
                x: INPUTS[c][0],
                y: INPUTS[c][1],
                color: if TARGETS[c] > 0.5 {
                    PALETTE[0]
                } else {
                    PALETTE[1]
                },
                cross: false,
            })
            .collect();
        let legend = vec![
            ("XOR = 1 (blue: p(1) > 0.5)".to_string(), PALETTE[0]),
            ("XOR = 0".to_string(), PALETTE[1]),
        ];
        let field = |net: &Xor<f64>| {
            let net = net.clone();
            move |a: f64, b: f64| -> RGBColor {
                let p = net.forward(&SVector::<f64, 2>::new(a, b))[0];
                common::diverging(0.9 * (2.0 * p - 1.0))
            }
        };
        let good = results.iter().find(|r| r.3);
        let bad = results.iter().find(|r| !r.3);
        for (area, r, what) in [(&areas[0], good, "solved"), (&areas[1], bad, "stuck")] {
            match r {
                Some((seed, net, curve, _)) => {
                    let title = format!(
                        "Seed {seed} ({what}): p(XOR = 1), loss {:.4}",
                        curve.last().map_or(f64::NAN, |c| c.1)
                    );
                    let f = field(net);
                    common::field_chart(
                        area,
                        Labels {
                            title: &title,
                            x: "x1",
                            y: "x2",
                        },
                        (-0.5, 1.5),
                        (-0.5, 1.5),
                        150,
                        &f,
                        &dots,
                        &legend,
                    )?;
                }
                None => {
                    let msg = format!("no seed got {what}");
                    common::text(area, &msg, (150, 240), 20, plotters::style::BLACK)?;
                }
            }
        }
        let series: Vec<Series> = results
            .iter()
            .map(|(_, _, curve, ok)| {
                let c = if *ok { PALETTE[2] } else { PALETTE[5] };
                Series::line("", curve.clone(), c)
            })
            .collect();
        let title = format!(
            "Loss per seed: {solved} solved (green), {} stuck (red)",
            seeds - solved
        );
        common::line_chart(
            &areas[2],
            Labels {
                title: &title,
                x: "step",
                y: "binary cross-entropy",
            },
            &series,
            true,
        )?;
        root.present()?;
    }
    pictures.push(path);
    Ok(pictures)
}
