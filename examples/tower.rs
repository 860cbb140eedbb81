//! Function approximation in 2-D with sigmoid units.
//!
//! ```text
//! cargo run --release --example tower
//! ```
//!
//! Part 1 builds a "tower" by hand (the construction of Nielsen's *Neural Networks and
//! Deep Learning*, chapter 4): two steep sigmoid units make a step up at x = 0.4 and a
//! step down at x = 0.6, two more do the same in y; their sum is 2h on the square
//! 0.4..0.6 x 0.4..0.6, h on the two bands through it and 0 elsewhere, and an output
//! sigmoid with threshold 1.5h keeps only the square: a tower. Sums of towers approximate
//! any continuous function, which is the intuition behind universal approximation.
//!
//! Part 2 trains a sigmoid network 2-32-32-1 (linear output, mean squared error, Adam) to
//! fit a smooth surface, two Gaussian bumps, from its values on a 30 x 30 grid, and
//! reports the mean squared error on that grid and on a finer 97 x 97 grid of points it
//! never saw. Pictures: the tower, then target, learned surface and error as heat maps.

#[path = "common/mod.rs"]
pub mod common;

use common::{Args, Labels, Res, Series, PALETTE};
use nn::data::Dataset;
use nn::optim::Adam;
use nn::prelude::*;
use nn::train::Trainer;
use std::path::PathBuf;

nn::network! {
    /// The hand-built tower: 4 steep sigmoid steps, one sigmoid threshold.
    pub struct Tower {
        input: 2,
        dense(4), sigmoid,
        dense(1), sigmoid,
    }
}

nn::network! {
    /// The network that learns the surface: two sigmoid layers of 32, a linear output.
    pub struct Fit {
        input: 2,
        dense(32), sigmoid,
        dense(32), sigmoid,
        dense(1),
    }
}

/// The target surface: two Gaussian bumps on the unit square.
fn target(x: f64, y: f64) -> f64 {
    let bump = |cx: f64, cy: f64, s2: f64| (-((x - cx).powi(2) + (y - cy).powi(2)) / s2).exp();
    bump(0.3, 0.3, 0.02) + 0.7 * bump(0.7, 0.65, 0.04)
}

/// The tower's weights: steepness `w` of the steps, height `h` of each step.
fn build_tower(w: f64, h: f64) -> Tower<f64> {
    let mut t = Tower::<f64>::zeros();
    // Hidden unit k is sigmoid(w * (coordinate - edge)).
    for (k, (coord, edge)) in [(0, 0.4), (0, 0.6), (1, 0.4), (1, 0.6)]
        .into_iter()
        .enumerate()
    {
        t.layer0.weight[(k, coord)] = w;
        t.layer0.bias[k] = -w * edge;
    }
    // Steps up at 0.4 (+h), down at 0.6 (-h), in x and in y; threshold 1.5 h.
    t.layer2.weight[(0, 0)] = h;
    t.layer2.weight[(0, 1)] = -h;
    t.layer2.weight[(0, 2)] = h;
    t.layer2.weight[(0, 3)] = -h;
    t.layer2.bias[0] = -1.5 * h;
    t
}

/// Values of `f` on an `n` x `n` grid over the unit square, row-major, row 0 at y = 0.
fn grid(n: usize, f: &dyn Fn(f64, f64) -> f64) -> Vec<f64> {
    let mut v = Vec::with_capacity(n * n);
    for r in 0..n {
        for c in 0..n {
            v.push(f(c as f64 / (n - 1) as f64, r as f64 / (n - 1) as f64));
        }
    }
    v
}

fn main() -> std::process::ExitCode {
    common::main("tower", &["--epochs"], run)
}

/// Builds the tower, fits the surface; returns the pictures written.
pub fn run(args: &Args) -> Res<Vec<PathBuf>> {
    let mut pictures = Vec::new();
    // Resolution of the pictures (coarser with --quick, which the debug-mode tests use).
    let show: usize = if args.quick { 41 } else { 121 };

    // Part 1: the tower.
    let (w, h) = (200.0, 10.0);
    let tower = build_tower(w, h);
    let at = |x: f64, y: f64| tower.forward(&SVector::<f64, 2>::new(x, y))[0];
    println!(
        "tower: 4 sigmoid steps of steepness {w} and height {h}, output threshold 1.5h: \
         {:.3} at the centre (0.5, 0.5), {:.3} on a band (0.5, 0.2), {:.3} outside (0.2, 0.2)",
        at(0.5, 0.5),
        at(0.5, 0.2),
        at(0.2, 0.2)
    );
    let path = common::out_file(args, "tower.png")?;
    {
        let root = common::png(&path, 1100, 500)?;
        let (left, right) = root.split_horizontally(550);
        // The sum of the hidden steps before the threshold, then the tower itself.
        let sum = |x: f64, y: f64| {
            let z = |k: usize, v: f64| {
                1.0 / (1.0
                    + (-(tower.layer0.weight[(k, if k < 2 { 0 } else { 1 })] * v
                        + tower.layer0.bias[k]))
                        .exp())
            };
            h * (z(0, x) - z(1, x) + z(2, y) - z(3, y))
        };
        common::heat_map(
            &left,
            Labels {
                title: "Hidden steps summed: h(x-step) + h(y-step)",
                x: "x",
                y: "y",
            },
            (0.0, 1.0),
            (0.0, 1.0),
            &grid(show, &sum),
            show,
            show,
            (0.0, 2.0 * h),
            &common::viridis,
        )?;
        common::heat_map(
            &right,
            Labels {
                title: "Output sigmoid(sum - 1.5h): a tower",
                x: "x",
                y: "y",
            },
            (0.0, 1.0),
            (0.0, 1.0),
            &grid(show, &at),
            show,
            show,
            (0.0, 1.0),
            &common::viridis,
        )?;
        root.present()?;
    }
    pictures.push(path);

    // Part 2: fit a smooth surface.
    let n = 30;
    let mut inputs = Vec::new();
    let mut targets = Vec::new();
    for r in 0..n {
        for c in 0..n {
            let (x, y) = (c as f64 / (n - 1) as f64, r as f64 / (n - 1) as f64);
            inputs.push([x, y]);
            targets.push([target(x, y)]);
        }
    }
    let data = Dataset::<f64, 2, 1>::from_arrays(&inputs, &targets)?;
    let epochs = args.epochs.unwrap_or(if args.quick { 20 } else { 3000 });
    println!(
        "fit: 2-32-32-1 (sigmoid, linear output), mean squared error, Adam lr 0.01, batch 30, \
         {epochs} epochs on the {n} x {n} grid"
    );
    let mut net = Fit::<f64>::seeded(args.seed);
    let every = (epochs / 10).max(1);
    let history = Trainer::new(&data, Mse, Adam::new(0.01))
        .batch_size::<30>()
        .epochs(epochs)
        .seed(args.seed)
        .on_epoch(|r, _| {
            if (r.epoch + 1) % every == 0 {
                println!(
                    "  epoch {:>5}: training loss {:.6}",
                    r.epoch + 1,
                    r.train_loss
                );
            }
        })
        .fit(&mut net)?;
    let predict = |x: f64, y: f64| net.forward(&SVector::<f64, 2>::new(x, y))[0];
    let mse_on = |m: usize| {
        let t = grid(m, &target);
        let p = grid(m, &predict);
        t.iter().zip(&p).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / t.len() as f64
    };
    let (train_mse, fine_mse) = (mse_on(n), mse_on(97));
    let t = grid(show, &target);
    let p = grid(show, &predict);
    let err: Vec<f64> = t.iter().zip(&p).map(|(a, b)| b - a).collect();
    let max_err = err.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    println!(
        "\nmean squared error: {train_mse:.2e} on the {n} x {n} training grid, {fine_mse:.2e} on \
         a 97 x 97 grid (mostly unseen points); largest |error| {max_err:.3} (target range 0..1)"
    );

    let path = common::out_file(args, "fit.png")?;
    {
        let root = common::png(&path, 1650, 520)?;
        let areas = root.split_evenly((1, 3));
        let range = common::bounds(t.iter().chain(&p).copied());
        common::heat_map(
            &areas[0],
            Labels {
                title: "Target: two Gaussian bumps",
                x: "x",
                y: "y",
            },
            (0.0, 1.0),
            (0.0, 1.0),
            &t,
            show,
            show,
            range,
            &common::viridis,
        )?;
        let title = format!("Learned by 2-32-32-1 (grid MSE {train_mse:.1e})");
        common::heat_map(
            &areas[1],
            Labels {
                title: &title,
                x: "x",
                y: "y",
            },
            (0.0, 1.0),
            (0.0, 1.0),
            &p,
            show,
            show,
            range,
            &common::viridis,
        )?;
        let title = format!("Error, learned - target (blue > 0), fine-grid MSE {fine_mse:.1e}");
        common::heat_map(
            &areas[2],
            Labels {
                title: &title,
                x: "x",
                y: "y",
            },
            (0.0, 1.0),
            (0.0, 1.0),
            &err,
            show,
            show,
            (-max_err, max_err),
            &|t| common::diverging(2.0 * t - 1.0),
        )?;
        root.present()?;
    }
    pictures.push(path);

    let path = common::out_file(args, "fit_loss.png")?;
    {
        let root = common::png(&path, 700, 450)?;
        let pts = history
            .epochs
            .iter()
            .map(|r| ((r.epoch + 1) as f64, r.train_loss))
            .collect();
        common::line_chart(
            &root,
            Labels {
                title: "Training loss of the surface fit",
                x: "epoch",
                y: "mean squared error",
            },
            &[Series::line("", pts, PALETTE[0])],
            true,
        )?;
        root.present()?;
    }
    pictures.push(path);
    Ok(pictures)
}
