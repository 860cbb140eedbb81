//! Depth against width on the two-spiral task of the TensorFlow Playground, over many
//! seeds.
//!
//! ```text
//! cargo run --release --example spiral
//! ```
//!
//! The data and the training are computed as the Playground computes them (its
//! `dataset.ts`, `nn.ts` and `playground.ts`): 500 points on two spirals (`r = i/n * 5`,
//! `t = 1.75 * i/n * 2π + δ`, δ = 0 for label +1 and π for label -1, no noise), shuffled
//! once and split 60% train / 40% test; the 7 inputs x, y, x², y², xy, sin x, sin y; tanh
//! hidden and output units; squared error `½(o - t)²`; weights uniform in [-0.5, 0.5],
//! biases 0.1; every epoch walks the training set in its (fixed) order and updates after
//! every 10 points with the mean gradient of the batch, learning rate 0.03, no
//! regularisation. The loss reported is the Playground's: the mean of `½(o - t)²`.
//!
//! A course note reports, from one run each, a wide network (one hidden layer of 6) at
//! test loss 0.113 after 370 epochs and a deep one (two hidden layers of 3) at 0.049 after
//! 259, and concludes that depth beats width. One run is not evidence: this example trains
//! both on the same data and the same seeds (30 by default; seed `s` draws the data
//! shuffle and both networks' weights) and reports, at equal epochs, the median and the
//! spread of the test loss and accuracy and how often the deep network wins.

#[path = "common/mod.rs"]
pub mod common;

use common::{Args, Dot, Labels, Progress, Res, Series, PALETTE};
use nn::init::{seeded_rng, uniform01, SeededRng};
use nn::params::ZeroableParameters;
use nn::prelude::*;
use nn::TensorKind;
use std::path::PathBuf;

nn::network! {
    /// The wide network: one hidden layer of 6 tanh units.
    pub struct Wide {
        input: 7,
        dense(6), tanh,
        dense(1), tanh,
    }
}

nn::network! {
    /// The deep network: two hidden layers of 3 tanh units.
    pub struct Deep {
        input: 7,
        dense(3), tanh,
        dense(3), tanh,
        dense(1), tanh,
    }
}

const SAMPLES: usize = 500;
const TRAIN_PERCENT: usize = 60;
const BATCH: usize = 10;
const LEARNING_RATE: f64 = 0.03;
/// The epochs at which the two networks are compared (those of the course note, and more).
const CHECKPOINTS: [usize; 5] = [100, 259, 370, 500, 1000];

/// A point of the data set: the Playground's `Example2D`.
#[derive(Clone, Copy, Debug)]
struct Point {
    x: f64,
    y: f64,
    label: f64,
}

/// The Playground's `randUniform(a, b)`.
fn rand_uniform(rng: &mut SeededRng, a: f64, b: f64) -> f64 {
    uniform01(rng) * (b - a) + a
}

/// The Playground's `classifySpiralData(numSamples, noise)`.
fn spiral_data(rng: &mut SeededRng, num_samples: usize, noise: f64) -> Vec<Point> {
    let mut points = Vec::with_capacity(num_samples);
    let n = num_samples / 2;
    let mut gen_spiral = |delta_t: f64, label: f64| {
        for i in 0..n {
            let r = i as f64 / n as f64 * 5.0;
            let t = 1.75 * i as f64 / n as f64 * 2.0 * std::f64::consts::PI + delta_t;
            let x = r * t.sin() + rand_uniform(rng, -1.0, 1.0) * noise;
            let y = r * t.cos() + rand_uniform(rng, -1.0, 1.0) * noise;
            points.push(Point { x, y, label });
        }
    };
    gen_spiral(0.0, 1.0);
    gen_spiral(std::f64::consts::PI, -1.0);
    points
}

/// The Playground's Fisher-Yates `shuffle`.
fn shuffle(rng: &mut SeededRng, array: &mut [Point]) {
    let mut counter = array.len();
    while counter > 0 {
        let index = (uniform01(rng) * counter as f64).floor() as usize;
        counter -= 1;
        array.swap(counter, index);
    }
}

/// The 7 input features x, y, x², y², xy, sin x, sin y.
fn features(x: f64, y: f64) -> SVector<f64, 7> {
    SVector::<f64, 7>::from_column_slice(&[x, y, x * x, y * y, x * y, x.sin(), y.sin()])
}

/// The Playground's initialisation: weights `Math.random() - 0.5`, biases 0.1.
fn playground_init<N: Parameters<Scalar = f64>>(net: &mut N, rng: &mut SeededRng) {
    for t in 0..N::TENSORS {
        let kind = N::tensor_info(t).kind;
        for v in net.tensor_mut(t) {
            *v = match kind {
                TensorKind::Bias => 0.1,
                _ => uniform01(rng) - 0.5,
            };
        }
    }
}

/// The Playground's loss (mean of `½(o - t)²`) and the accuracy (sign of the output).
fn evaluate<N: Network<7, 1, Scalar = f64>>(net: &N, data: &[Point]) -> (f64, f64) {
    let (mut loss, mut right) = (0.0, 0usize);
    for p in data {
        let o = net.forward(&features(p.x, p.y))[0];
        loss += 0.5 * (o - p.label) * (o - p.label);
        if (o >= 0.0) == (p.label > 0.0) {
            right += 1;
        }
    }
    (loss / data.len() as f64, right as f64 / data.len() as f64)
}

/// Test loss and accuracy after every epoch (index 0: before training).
struct Run {
    test_loss: Vec<f64>,
    test_acc: Vec<f64>,
    train_loss: Vec<f64>,
}

/// Trains `net` on `train` for `epochs` epochs as the Playground does.
fn train<N: Network<7, 1, Scalar = f64>>(
    net: &mut N,
    train: &[Point],
    test: &[Point],
    epochs: usize,
) -> Run {
    let mut grads = N::Gradients::boxed_zeroed();
    let mut x = SMatrix::<f64, 7, BATCH>::zeros();
    let mut y = SMatrix::<f64, 1, BATCH>::zeros();
    let mut run = Run {
        test_loss: Vec::with_capacity(epochs + 1),
        test_acc: Vec::with_capacity(epochs + 1),
        train_loss: Vec::with_capacity(epochs + 1),
    };
    let record = |net: &N, run: &mut Run| {
        let (l, a) = evaluate(net, test);
        run.test_loss.push(l);
        run.test_acc.push(a);
        run.train_loss.push(evaluate(net, train).0);
    };
    record(net, &mut run);
    for _ in 0..epochs {
        // The Playground updates after every `BATCH` points, in the data's order (300
        // training points make 30 whole batches).
        for batch in train.chunks_exact(BATCH) {
            for (j, p) in batch.iter().enumerate() {
                x.set_column(j, &features(p.x, p.y));
                y[(0, j)] = p.label;
            }
            net.loss_and_gradients_into(&x, &y, &Mse, &mut *grads);
            // `Mse` is the batch mean of (o - t)², whose gradient is twice that of the
            // Playground's ½(o - t)²: half the step gives the Playground's update.
            net.add_scaled_gradients(&grads, -0.5 * LEARNING_RATE);
        }
        record(net, &mut run);
    }
    run
}

fn main() -> std::process::ExitCode {
    common::main("spiral", &["--seeds", "--epochs"], run)
}

/// Runs the study; returns the pictures written.
pub fn run(args: &Args) -> Res<Vec<PathBuf>> {
    let seeds = args.seeds.unwrap_or(if args.quick { 3 } else { 30 });
    let epochs = args.epochs.unwrap_or(if args.quick { 30 } else { 1000 });
    if seeds == 0 || epochs == 0 {
        return Err("--seeds and --epochs must be at least 1".into());
    }
    println!(
        "spiral: wide 7-6-1 against deep 7-3-3-1 (tanh), Playground training (batch {BATCH}, \
         lr {LEARNING_RATE}, squared error), {epochs} epochs, seeds {}..{}",
        args.seed,
        args.seed + seeds as u64 - 1
    );

    let mut wide_runs = Vec::new();
    let mut deep_runs = Vec::new();
    let mut datasets = Vec::new();
    let mut nets: Vec<(Wide<f64>, Deep<f64>)> = Vec::new();
    let mut bar = Progress::new(seeds as u64, "seeds");
    for k in 0..seeds {
        let seed = args.seed + k as u64;
        let mut rng = seeded_rng(seed);
        let mut data = spiral_data(&mut rng, SAMPLES, 0.0);
        shuffle(&mut rng, &mut data);
        let split = data.len() * TRAIN_PERCENT / 100;
        let (train_set, test_set) = data.split_at(split);

        let mut wide = Wide::<f64>::zeros();
        playground_init(&mut wide, &mut rng);
        let mut deep = Deep::<f64>::zeros();
        playground_init(&mut deep, &mut rng);
        let w = train(&mut wide, train_set, test_set, epochs);
        let d = train(&mut deep, train_set, test_set, epochs);
        bar.set(
            k as u64 + 1,
            format!(
                "seed {seed}: test loss wide {:.3}, deep {:.3}",
                w.test_loss[epochs], d.test_loss[epochs]
            ),
        );
        wide_runs.push(w);
        deep_runs.push(d);
        datasets.push(data);
        nets.push((wide, deep));
    }
    bar.finish();

    // The table: at equal epochs, medians and spread over seeds, and paired wins.
    println!(
        "\ntest loss (Playground's ½ squared error) and accuracy over {seeds} seeds: \
         median [25th-75th percentile] (min-max)"
    );
    println!(
        "{:>6} | {:^34} | {:^34} | {:>10} | {:^21}",
        "epoch",
        "wide 7-6-1 test loss",
        "deep 7-3-3-1 test loss",
        "deep wins",
        "test accuracy (median)"
    );
    let mut checkpoints: Vec<usize> = CHECKPOINTS
        .iter()
        .copied()
        .filter(|&e| e < epochs)
        .collect();
    checkpoints.push(epochs);
    for &e in &checkpoints {
        let w: Vec<f64> = wide_runs.iter().map(|r| r.test_loss[e]).collect();
        let d: Vec<f64> = deep_runs.iter().map(|r| r.test_loss[e]).collect();
        let wa: Vec<f64> = wide_runs.iter().map(|r| r.test_acc[e]).collect();
        let da: Vec<f64> = deep_runs.iter().map(|r| r.test_acc[e]).collect();
        let wins = w.iter().zip(&d).filter(|(w, d)| d < w).count();
        println!(
            "{e:>6} | {} | {} | {:>4}/{:<5} | wide {:>5.1}% deep {:>5.1}%",
            spread(&w),
            spread(&d),
            wins,
            seeds,
            100.0 * common::median(&wa),
            100.0 * common::median(&da)
        );
    }
    println!("\nthe course note's single runs: wide 0.113 at epoch 370, deep 0.049 at epoch 259");

    // Pictures.
    let mut pictures = Vec::new();
    let band = |runs: &[Run], f: &dyn Fn(&Run) -> &Vec<f64>| -> (Vec<(f64, f64)>, Vec<Band>) {
        let mut med = Vec::new();
        let mut b = Vec::new();
        for e in 0..=epochs {
            let v: Vec<f64> = runs.iter().map(|r| f(r)[e]).collect();
            med.push((e as f64, common::median(&v)));
            b.push((
                e as f64,
                common::quantile(&v, 0.25),
                common::quantile(&v, 0.75),
            ));
        }
        (med, b)
    };
    let path = common::out_file(args, "loss_curves.png")?;
    {
        let root = common::png(&path, 1200, 520)?;
        let (left, right) = root.split_horizontally(600);
        for (area, what, f) in [
            (
                &left,
                "test loss",
                (|r: &Run| &r.test_loss) as fn(&Run) -> &Vec<f64>,
            ),
            (&right, "training loss", |r: &Run| &r.train_loss),
        ] {
            let (wm, wb) = band(&wide_runs, &f);
            let (dm, db) = band(&deep_runs, &f);
            let title = format!("Spiral {what}: median and 25-75% band, {seeds} seeds");
            common::line_chart(
                area,
                Labels {
                    title: &title,
                    x: "epoch",
                    y: "loss (mean ½(o - t)²)",
                },
                &[
                    Series {
                        band: Some(wb),
                        ..Series::line("wide 7-6-1", wm, PALETTE[1])
                    },
                    Series {
                        band: Some(db),
                        ..Series::line("deep 7-3-3-1", dm, PALETTE[0])
                    },
                ],
                true,
            )?;
        }
        root.present()?;
    }
    pictures.push(path);

    // Decision boundaries of the median run (by final test loss) of each network.
    let median_index = |runs: &[Run]| -> usize {
        let mut idx: Vec<usize> = (0..runs.len()).collect();
        idx.sort_by(|&a, &b| runs[a].test_loss[epochs].total_cmp(&runs[b].test_loss[epochs]));
        idx[(idx.len() - 1) / 2]
    };
    let wi = median_index(&wide_runs);
    let di = median_index(&deep_runs);
    let path = common::out_file(args, "decision_boundaries.png")?;
    {
        let root = common::png(&path, 1100, 560)?;
        let (left, right) = root.split_horizontally(550);
        let dots = |data: &[Point]| -> Vec<Dot> {
            let split = data.len() * TRAIN_PERCENT / 100;
            data.iter()
                .enumerate()
                .map(|(i, p)| Dot {
                    x: p.x,
                    y: p.y,
                    color: if p.label > 0.0 {
                        common::diverging(1.0)
                    } else {
                        common::diverging(-1.0)
                    },
                    cross: i >= split,
                })
                .collect()
        };
        let legend = vec![
            (
                "label +1 (discs: train, triangles: test)".to_string(),
                common::diverging(1.0),
            ),
            ("label -1".to_string(), common::diverging(-1.0)),
        ];
        let wide = &nets[wi].0;
        let title = format!(
            "Wide 7-6-1, median run (seed {}): test loss {:.3}",
            args.seed + wi as u64,
            wide_runs[wi].test_loss[epochs]
        );
        common::field_chart(
            &left,
            Labels {
                title: &title,
                x: "x",
                y: "y",
            },
            (-6.0, 6.0),
            (-6.0, 6.0),
            100,
            &|a, b| common::diverging(0.8 * wide.forward(&features(a, b))[0]),
            &dots(&datasets[wi]),
            &legend,
        )?;
        let deep = &nets[di].1;
        let title = format!(
            "Deep 7-3-3-1, median run (seed {}): test loss {:.3}",
            args.seed + di as u64,
            deep_runs[di].test_loss[epochs]
        );
        common::field_chart(
            &right,
            Labels {
                title: &title,
                x: "x",
                y: "y",
            },
            (-6.0, 6.0),
            (-6.0, 6.0),
            100,
            &|a, b| common::diverging(0.8 * deep.forward(&features(a, b))[0]),
            &dots(&datasets[di]),
            &legend,
        )?;
        root.present()?;
    }
    pictures.push(path);

    // Paired comparison: each seed's final test loss, deep against wide.
    let path = common::out_file(args, "paired_final_loss.png")?;
    {
        use plotters::prelude::*;
        let root = common::png(&path, 620, 560)?;
        let w: Vec<f64> = wide_runs.iter().map(|r| r.test_loss[epochs]).collect();
        let d: Vec<f64> = deep_runs.iter().map(|r| r.test_loss[epochs]).collect();
        let (lo, hi) = common::bounds(w.iter().chain(&d).copied().filter(|v| *v > 0.0));
        let (lo, hi) = (lo / 1.5, hi * 1.5);
        let wins = w.iter().zip(&d).filter(|(w, d)| d < w).count();
        let title =
            format!("Test loss at epoch {epochs}, one dot per seed: deep wins {wins}/{seeds}");
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (common::FONT, 19))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d((lo..hi).log_scale(), (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("wide 7-6-1 test loss")
            .y_desc("deep 7-3-3-1 test loss")
            .label_style((common::FONT, 15))
            .axis_desc_style((common::FONT, 17))
            .light_line_style(WHITE)
            .x_label_formatter(&|v| common::fmt_tick(*v))
            .y_label_formatter(&|v| common::fmt_tick(*v))
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                vec![(lo, lo), (hi, hi)],
                BLACK.stroke_width(1),
            ))?
            .label("equal loss (below: deep wins)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], BLACK.stroke_width(1)));
        chart.draw_series(
            w.iter()
                .zip(&d)
                .map(|(&a, &b)| Circle::new((a, b), 5, PALETTE[0].mix(0.7).filled())),
        )?;
        chart
            .configure_series_labels()
            .label_font((common::FONT, 15))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        root.present()?;
    }
    pictures.push(path);
    Ok(pictures)
}

/// A point of a band: epoch, lower and upper quantile.
type Band = (f64, f64, f64);

/// `median [q25-q75] (min-max)` of `v`, 34 characters wide.
fn spread(v: &[f64]) -> String {
    format!(
        "{:.3} [{:.3}-{:.3}] ({:.3}-{:.3})",
        common::median(v),
        common::quantile(v, 0.25),
        common::quantile(v, 0.75),
        common::quantile(v, 0.0),
        common::quantile(v, 1.0)
    )
}
