//! Rosenblatt's perceptron: one layer with the step activation, trained with the
//! perceptron learning rule `w += lr (t - o) x`, `b += lr (t - o)`.
//!
//! ```text
//! cargo run --release --example perceptron
//! ```
//!
//! On a linearly separable set (two clouds of 50 points each) the rule converges: an
//! epoch with no mistake comes after a finite number of updates (Novikoff's theorem). On
//! XOR it cannot: no line separates (0,0), (1,1) from (0,1), (1,0), and the weights cycle
//! for ever. Pictures: the final line over each set, and the mistakes per epoch.

#[path = "common/mod.rs"]
pub mod common;

use common::{Args, Dot, Labels, Res, Series, PALETTE};
use nn::init::{seeded_rng, uniform01};
use nn::prelude::*;
use plotters::style::RGBColor;
use std::path::PathBuf;

nn::network! {
    /// A perceptron on two inputs: `step(w · x + b)`, 1 if `w · x + b > 0`, else 0.
    #[derive(Clone, Debug)]
    pub struct Perceptron {
        input: 2,
        dense(1), step,
    }
}

const LEARNING_RATE: f64 = 0.1;

/// A sample: the two inputs and the target, 0 or 1.
type Sample = ([f64; 2], f64);

/// Trains with the perceptron rule, one sample at a time in a fixed order, until an epoch
/// has no mistake or `max_epochs` have passed; returns the mistakes of each epoch.
fn train(net: &mut Perceptron<f64>, data: &[Sample], max_epochs: usize) -> Vec<usize> {
    let mut mistakes_per_epoch = Vec::new();
    for _ in 0..max_epochs {
        let mut mistakes = 0;
        for &(x, t) in data {
            let o = net.forward(&SVector::<f64, 2>::new(x[0], x[1]))[0];
            let err = t - o;
            if err != 0.0 {
                mistakes += 1;
                net.layer0.weight[(0, 0)] += LEARNING_RATE * err * x[0];
                net.layer0.weight[(0, 1)] += LEARNING_RATE * err * x[1];
                net.layer0.bias[0] += LEARNING_RATE * err;
            }
        }
        mistakes_per_epoch.push(mistakes);
        if mistakes == 0 {
            break;
        }
    }
    mistakes_per_epoch
}

/// Two clouds of 50 points either side of the line `x + 2y = 1`, at least 0.1 from it.
fn separable(seed: u64) -> Vec<Sample> {
    let mut rng = seeded_rng(seed);
    let mut data = Vec::new();
    while data.len() < 100 {
        let x = 4.0 * uniform01(&mut rng) - 2.0;
        let y = 4.0 * uniform01(&mut rng) - 2.0;
        let d = (x + 2.0 * y - 1.0) / 5f64.sqrt();
        if d.abs() >= 0.1 {
            data.push(([x, y], if d > 0.0 { 1.0 } else { 0.0 }));
        }
    }
    data
}

fn main() -> std::process::ExitCode {
    common::main("perceptron", &["--epochs"], run)
}

/// Trains a perceptron on a separable set and on XOR; returns the pictures written.
pub fn run(args: &Args) -> Res<Vec<PathBuf>> {
    let max_epochs = args.epochs.unwrap_or(if args.quick { 20 } else { 100 });
    println!(
        "perceptron: step(w·x + b) trained with the perceptron rule (lr {LEARNING_RATE}), \
         at most {max_epochs} epochs"
    );

    let sep = separable(args.seed);
    let mut p1 = Perceptron::<f64>::seeded(args.seed);
    let m1 = train(&mut p1, &sep, max_epochs);
    let converged = m1.last() == Some(&0);
    println!(
        "linearly separable set (100 points): {} after {} epochs ({} updates); mistakes per \
         epoch: {:?}",
        if converged {
            "converged, no mistake"
        } else {
            "NOT converged"
        },
        m1.len(),
        m1.iter().sum::<usize>(),
        m1
    );

    let xor: Vec<Sample> = vec![
        ([0.0, 0.0], 0.0),
        ([0.0, 1.0], 1.0),
        ([1.0, 0.0], 1.0),
        ([1.0, 1.0], 0.0),
    ];
    let mut p2 = Perceptron::<f64>::seeded(args.seed);
    let m2 = train(&mut p2, &xor, max_epochs);
    let best = m2.iter().min().copied().unwrap_or(0);
    println!(
        "XOR (4 points): after {} epochs still {} mistakes in the last epoch, never fewer \
         than {best} (a line gets at most 3 of 4 right)",
        m2.len(),
        m2.last().copied().unwrap_or(0)
    );

    let mut pictures = Vec::new();
    let path = common::out_file(args, "perceptron.png")?;
    {
        let root = common::png(&path, 1500, 500)?;
        let areas = root.split_evenly((1, 3));
        fn class_color(t: f64) -> RGBColor {
            if t > 0.5 {
                PALETTE[0]
            } else {
                PALETTE[1]
            }
        }
        fn field(net: &Perceptron<f64>) -> impl Fn(f64, f64) -> RGBColor {
            let net = net.clone();
            move |a: f64, b: f64| -> RGBColor {
                let o = net.forward(&SVector::<f64, 2>::new(a, b))[0];
                common::mix(plotters::style::WHITE, class_color(o), 0.3)
            }
        }
        let dots = |data: &[Sample]| -> Vec<Dot> {
            data.iter()
                .map(|&(x, t)| Dot {
                    x: x[0],
                    y: x[1],
                    color: class_color(t),
                    cross: false,
                })
                .collect()
        };
        let legend = vec![
            (
                "class 1 (shaded: the perceptron says 1)".to_string(),
                PALETTE[0],
            ),
            ("class 0".to_string(), PALETTE[1]),
        ];
        let title = format!(
            "Separable: {} after {} epochs",
            if converged {
                "converged"
            } else {
                "not converged"
            },
            m1.len()
        );
        common::field_chart(
            &areas[0],
            Labels {
                title: &title,
                x: "x1",
                y: "x2",
            },
            (-2.2, 2.2),
            (-2.2, 2.2),
            150,
            &field(&p1),
            &dots(&sep),
            &legend,
        )?;
        let final_wrong = xor
            .iter()
            .filter(|&&(x, t)| p2.forward(&SVector::<f64, 2>::new(x[0], x[1]))[0] != t)
            .count();
        let title = format!(
            "XOR after {} epochs: the last line misclassifies {final_wrong} of 4",
            m2.len()
        );
        common::field_chart(
            &areas[1],
            Labels {
                title: &title,
                x: "x1",
                y: "x2",
            },
            (-0.5, 1.5),
            (-0.5, 1.5),
            150,
            &field(&p2),
            &dots(&xor),
            &legend,
        )?;
        let pts = |m: &[usize]| {
            m.iter()
                .enumerate()
                .map(|(e, &k)| ((e + 1) as f64, k as f64))
                .collect()
        };
        common::line_chart(
            &areas[2],
            Labels {
                title: "Mistakes (updates) during each epoch",
                x: "epoch",
                y: "mistakes",
            },
            &[
                Series::line("separable set (100 points)", pts(&m1), PALETTE[2]),
                Series::line("XOR (4 points)", pts(&m2), PALETTE[5]),
            ],
            false,
        )?;
        root.present()?;
    }
    pictures.push(path);
    Ok(pictures)
}
