//! Handwritten digits with the classic multilayer perceptron: sigmoid hidden layers of 16
//! and 16 units, 10 softmax outputs, shuffled mini-batches of 100.
//!
//! ```text
//! cargo run --release --example digits                      # 8x8 UCI digits, no download
//! cargo run --release --example digits -- --mnist DIR       # 784-16-16-10 on MNIST
//! cargo run --release --example digits -- --mnist DIR --relu  # 784-128-10 ReLU on MNIST
//! ```
//!
//! With no arguments it trains 64-16-16-10 on the 1797 8x8 images of the UCI optical
//! digits set (committed in `data/digits.csv.gz`, see `data/README.md`), 80% for training
//! and a held-out 20% for testing. `--mnist DIR` reads the four original MNIST IDX files
//! (gzipped or not) from `DIR`. Pictures: loss and accuracy curves, a grid of test digits
//! with predicted and true labels (mistakes in red), and the first layer's weights drawn
//! as images.

#[path = "common/mod.rs"]
pub mod common;

use common::{Args, Labels, Res, Series, PALETTE};
use nn::data::csv::{self, Classes, Column, CsvOptions};
use nn::data::{mnist, Dataset};
use nn::init::seeded_rng;
use nn::optim::{Adam, Optimizer, Sgd};
use nn::prelude::*;
use nn::train::{confusion_matrix, evaluate, Trainer};
use plotters::prelude::*;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

nn::network! {
    /// The 8x8 digits network: 64 pixels, two sigmoid layers of 16, 10 softmax outputs.
    pub struct Digits8 {
        input: 64,
        dense(16), sigmoid,
        dense(16), sigmoid,
        dense(10), softmax,
    }
}

nn::network! {
    /// 3Blue1Brown's MNIST network: 784 pixels, two sigmoid layers of 16, 10 outputs.
    pub struct Mnist16 {
        input: 784,
        dense(16), sigmoid,
        dense(16), sigmoid,
        dense(10), softmax,
    }
}

nn::network! {
    /// A wider MNIST network: one ReLU layer of 128.
    pub struct Mnist128 {
        input: 784,
        dense(128), relu,
        dense(10), softmax,
    }
}

const BATCH: usize = 100;

fn main() -> std::process::ExitCode {
    common::main("digits", &["--mnist", "--relu", "--epochs"], run)
}

/// Trains the network chosen by `args`; returns the pictures written.
pub fn run(args: &Args) -> Res<Vec<PathBuf>> {
    match &args.mnist {
        None => {
            if args.relu {
                return Err("--relu goes with --mnist DIR".into());
            }
            let (train, test) = uci_digits(args.seed)?;
            println!(
                "digits: 64-16-16-10 sigmoid/softmax on the 8x8 UCI digits: {} training and {} \
                 held-out test images",
                train.len(),
                test.len()
            );
            let epochs = args.epochs.unwrap_or(if args.quick { 5 } else { 100 });
            let mut net = Digits8::<f32>::boxed_seeded(args.seed);
            let opt = Sgd::new(0.5).momentum(0.9);
            let setup = format!("SGD lr 0.5, momentum 0.9, batch {BATCH}, {epochs} epochs");
            report(args, &mut *net, opt, &train, &test, epochs, 8, &setup)
        }
        Some(dir) => {
            let (train, test) = load_mnist(dir, args.quick)?;
            // About 30 s each in release on one core: 30 epochs of the small network,
            // 10 of the 784-128-10 one.
            let full = if args.relu { 10 } else { 30 };
            let epochs = args.epochs.unwrap_or(if args.quick { 1 } else { full });
            if args.relu {
                println!(
                    "digits: 784-128-10 ReLU/softmax on MNIST: {} training, {} test images",
                    train.len(),
                    test.len()
                );
                let mut net = Mnist128::<f32>::boxed_seeded(args.seed);
                let opt = Adam::new(1e-3);
                let setup = format!("Adam lr 0.001, batch {BATCH}, {epochs} epochs");
                report(args, &mut *net, opt, &train, &test, epochs, 28, &setup)
            } else {
                println!(
                    "digits: 784-16-16-10 sigmoid/softmax on MNIST: {} training, {} test images",
                    train.len(),
                    test.len()
                );
                let mut net = Mnist16::<f32>::boxed_seeded(args.seed);
                let opt = Adam::new(1e-3);
                let setup = format!("Adam lr 0.001, batch {BATCH}, {epochs} epochs");
                report(args, &mut *net, opt, &train, &test, epochs, 28, &setup)
            }
        }
    }
}

/// The 8x8 UCI digits (as scikit-learn ships them), pixels scaled from 0..16 to [0, 1],
/// shuffled with `seed` and split 80% / 20%.
fn uci_digits(seed: u64) -> Res<(Dataset<f32, 64, 10>, Dataset<f32, 64, 10>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits.csv.gz");
    let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let options = CsvOptions::new().label(Column::Last, Classes::Integers);
    let data = csv::from_reader::<f32, 64, 10, _>(flate2::read::GzDecoder::new(file), &options)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let data = data.map_inputs(|x| x / 16.0)?;
    Ok(data.split(0.8, &mut seeded_rng(seed))?)
}

/// The MNIST training and test sets from `dir`; with `quick`, the first 1000 and 500.
fn load_mnist(dir: &Path, quick: bool) -> Res<(Dataset<f32, 784, 10>, Dataset<f32, 784, 10>)> {
    let (train, test) = mnist::load::<f32, { mnist::IMAGE_SIZE }, { mnist::CLASSES }>(dir)?;
    if quick {
        let take = |d: &Dataset<f32, 784, 10>, n: usize| {
            d.select(&(0..n.min(d.len())).collect::<Vec<_>>())
        };
        return Ok((take(&train, 1000)?, take(&test, 500)?));
    }
    Ok((train, test))
}

/// Trains `net` with mini-batches of 100, prints the progress and a summary, and draws
/// the pictures. `side` is the images' width and height in pixels.
#[allow(clippy::too_many_arguments)]
fn report<N, O, const IN: usize>(
    args: &Args,
    net: &mut N,
    opt: O,
    train: &Dataset<f32, IN, 10>,
    test: &Dataset<f32, IN, 10>,
    epochs: usize,
    side: usize,
    setup: &str,
) -> Res<Vec<PathBuf>>
where
    N: Network<IN, 10, Scalar = f32>,
    O: Optimizer<N>,
{
    println!("training: {setup}, seed {}", args.seed);
    let started = std::time::Instant::now();
    // Per epoch: (train loss, train accuracy, test loss, test accuracy).
    let curves = RefCell::new(Vec::<(f64, f64, f64, f64)>::new());
    let every = (epochs / 10).max(1);
    let history = Trainer::new(train, CrossEntropy, opt)
        .batch_size::<BATCH>()
        .epochs(epochs)
        .seed(args.seed)
        .validation(test)
        .on_epoch(|r, net| {
            let on_train = evaluate::<_, _, IN, 10, BATCH>(net, train, &CrossEntropy);
            let test_loss = r.validation_loss.unwrap_or(f64::NAN);
            let test_acc = r.validation_accuracy.unwrap_or(f64::NAN);
            curves.borrow_mut().push((
                on_train.loss,
                on_train.accuracy.unwrap_or(f64::NAN),
                test_loss,
                test_acc,
            ));
            if (r.epoch + 1) % every == 0 || r.epoch + 1 == epochs {
                println!(
                    "  epoch {:>4}: train loss {:.4}, accuracy {:.2}% | test loss {test_loss:.4}, \
                     accuracy {:.2}%",
                    r.epoch + 1,
                    on_train.loss,
                    100.0 * on_train.accuracy.unwrap_or(f64::NAN),
                    100.0 * test_acc
                );
            }
        })
        .fit(net)?;
    let curves = curves.into_inner();
    let seconds = started.elapsed().as_secs_f64();
    let last = history.last().ok_or("no epoch was trained")?;
    let test_acc = last.validation_accuracy.unwrap_or(f64::NAN);
    let train_acc = curves.last().map_or(f64::NAN, |c| c.1);
    println!(
        "\nafter {} epochs ({seconds:.1} s): held-out test accuracy {:.2}% ({} of {}), \
         training accuracy {:.2}%",
        history.epochs.len(),
        100.0 * test_acc,
        (test_acc * test.len() as f64).round(),
        test.len(),
        100.0 * train_acc
    );
    let cm = confusion_matrix(net, test);
    println!("confusion matrix on the test set (rows: true digit, columns: predicted):");
    println!(
        "      {}",
        (0..10).map(|d| format!("{d:>4}")).collect::<String>()
    );
    for (d, row) in cm.iter().enumerate() {
        println!(
            "  {d:>2}: {}",
            row.iter().map(|c| format!("{c:>4}")).collect::<String>()
        );
    }

    let mut pictures = Vec::new();

    // 1. Loss and accuracy curves.
    let path = common::out_file(args, "curves.png")?;
    {
        let root = common::png(&path, 1200, 500)?;
        let (left, right) = root.split_horizontally(600);
        let pts = |f: fn(&(f64, f64, f64, f64)) -> f64| -> Vec<(f64, f64)> {
            curves
                .iter()
                .enumerate()
                .map(|(e, c)| ((e + 1) as f64, f(c)))
                .collect()
        };
        common::line_chart(
            &left,
            Labels {
                title: "Cross-entropy loss",
                x: "epoch",
                y: "loss",
            },
            &[
                Series::line("training set", pts(|c| c.0), PALETTE[0]),
                Series::line("held-out test set", pts(|c| c.2), PALETTE[1]),
            ],
            true,
        )?;
        common::line_chart(
            &right,
            Labels {
                title: "Accuracy",
                x: "epoch",
                y: "accuracy (%)",
            },
            &[
                Series::line("training set", pts(|c| 100.0 * c.1), PALETTE[0]),
                Series::line("held-out test set", pts(|c| 100.0 * c.3), PALETTE[1]),
            ],
            false,
        )?;
        root.present()?;
    }
    pictures.push(path);

    // 2. A grid of test digits: the first 40 of the (shuffled) test set, then up to 20
    // mistakes.
    let path = common::out_file(args, "test_digits.png")?;
    {
        let predictions: Vec<(usize, usize, f64)> = test
            .iter()
            .map(|(x, y)| {
                let p = net.forward(x);
                let k = common::argmax(p.iter().map(|v| v.to_f64()));
                (
                    k,
                    common::argmax(y.iter().map(|v| v.to_f64())),
                    p[k].to_f64(),
                )
            })
            .collect();
        let mistakes: Vec<usize> = (0..test.len())
            .filter(|&i| predictions[i].0 != predictions[i].1)
            .collect();
        let first: Vec<usize> = (0..test.len().min(40)).collect();
        let shown_mistakes: Vec<usize> = mistakes.iter().copied().take(20).collect();
        let cell = (84 / side).max(2) as i32;
        let img = side as i32 * cell;
        // Wide enough for the label under each image.
        let (w, h) = ((img + 30).max(120), img + 38);
        let cols = 10;
        let rows_first = first.len().div_ceil(cols) as i32;
        let rows_mistakes = shown_mistakes.len().div_ceil(cols) as i32;
        let width = cols as i32 * w + 40;
        let height = 60 + rows_first * h + 50 + rows_mistakes.max(1) * h + 20;
        let root = common::png(&path, width as u32, height as u32)?;
        let title = format!(
            "Held-out test digits: predicted (p = its probability) / true; mistakes in red. \
             Test accuracy {:.1}%",
            100.0 * test_acc
        );
        common::text(&root, &title, (20, 15), 20, BLACK)?;
        let ink = |v: f64| common::mix(WHITE, BLACK, v);
        let draw = |indices: &[usize], top: i32| -> Res<()> {
            for (n, &i) in indices.iter().enumerate() {
                let (x, _) = test.get(i).ok_or("test index out of range")?;
                let px: Vec<f64> = x.iter().map(|v| v.to_f64()).collect();
                let cx = 20 + (n % cols) as i32 * w;
                let cy = top + (n / cols) as i32 * h;
                let (pred, truth, p) = predictions[i];
                let wrong = pred != truth;
                if wrong {
                    root.draw(&Rectangle::new(
                        [(cx - 3, cy - 3), (cx + img + 3, cy + img + 3)],
                        RED.filled(),
                    ))?;
                }
                common::gray_image(&root, &px, side, side, (cx, cy), cell, &ink)?;
                let label = format!("{pred} (p={p:.2}) / {truth}");
                let color = if wrong { RGBColor(200, 0, 0) } else { BLACK };
                common::text(&root, &label, (cx, cy + img + 6), 14, color)?;
            }
            Ok(())
        };
        draw(&first, 55)?;
        let top = 55 + rows_first * h + 10;
        let sub = format!(
            "{} mistakes among {} test images{}",
            mistakes.len(),
            test.len(),
            if mistakes.len() > shown_mistakes.len() {
                format!(", the first {}:", shown_mistakes.len())
            } else if mistakes.is_empty() {
                String::new()
            } else {
                ":".to_string()
            }
        );
        common::text(&root, &sub, (20, top), 18, BLACK)?;
        draw(&shown_mistakes, top + 35)?;
        root.present()?;
    }
    pictures.push(path);

    // 3. The first layer's weights, one image per hidden unit.
    let path = common::out_file(args, "first_layer_weights.png")?;
    {
        let units = N::tensor_info(0).shape[0];
        let weights = net.tensor(0);
        // At most 32 images (the first 32 units of a wider layer).
        let shown = units.min(32);
        let cols = 8.min(shown);
        let rows = shown.div_ceil(cols);
        let cell = (120 / side).max(1) as i32;
        let img = side as i32 * cell;
        let (w, h) = (img + 20, img + 30);
        let width = (cols as i32 * w + 40).max(760);
        let root = common::png(&path, width as u32, (rows as i32 * h + 90) as u32)?;
        let which = if shown < units {
            format!("the first {shown} of {units} hidden units")
        } else {
            format!("one image per hidden unit ({units})")
        };
        let title = format!(
            "First-layer weights, {which}, blue > 0 > orange, each scaled to its largest |w|"
        );
        common::text(&root, &title, (20, 15), 17, BLACK)?;
        for u in 0..shown {
            // Column-major storage: weight (u, i) sits at i * units + u.
            let wu: Vec<f64> = (0..IN).map(|i| weights[i * units + u].to_f64()).collect();
            let scale = wu.iter().fold(1e-12f64, |m, v| m.max(v.abs()));
            let normed: Vec<f64> = wu.iter().map(|v| v / scale).collect();
            let cx = 20 + (u % cols) as i32 * w;
            let cy = 50 + (u / cols) as i32 * h;
            common::gray_image(
                &root,
                &normed,
                side,
                side,
                (cx, cy),
                cell,
                &common::diverging,
            )?;
            common::text(
                &root,
                &format!("unit {u}, max |w| {scale:.2}"),
                (cx, cy + img + 4),
                12,
                BLACK,
            )?;
        }
        root.present()?;
    }
    pictures.push(path);
    Ok(pictures)
}
