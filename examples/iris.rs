//! Fisher's iris flowers: 4 measurements, 3 species, 150 samples.
//!
//! ```text
//! cargo run --release --example iris
//! ```
//!
//! Reads `data/iris.csv` (as scikit-learn ships it, see `data/README.md`), splits it 70% /
//! 30% at random (seeded), standardises the features with the training set's mean and
//! standard deviation, and trains 4-16-3 (ReLU, softmax) with Adam on mini-batches of 15.
//! Prints the held-out accuracy and the confusion matrix; draws the curves and the
//! confusion matrix.

#[path = "common/mod.rs"]
pub mod common;

use common::{Args, Labels, Res, Series, PALETTE};
use nn::data::csv::{self, Classes, Column, CsvOptions};
use nn::data::Standardizer;
use nn::init::seeded_rng;
use nn::optim::Adam;
use nn::prelude::*;
use nn::train::{confusion_matrix, Trainer};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

nn::network! {
    /// 4 standardised measurements, 16 ReLU units, 3 species.
    pub struct Iris {
        input: 4,
        dense(16), relu,
        dense(3), softmax,
    }
}

const SPECIES: [&str; 3] = ["setosa", "versicolor", "virginica"];

fn main() -> std::process::ExitCode {
    common::main("iris", &["--epochs"], run)
}

/// Trains the classifier; returns the pictures written.
pub fn run(args: &Args) -> Res<Vec<PathBuf>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/iris.csv");
    // The first line is scikit-learn's header: "150,4,setosa,versicolor,virginica".
    let options = CsvOptions::new()
        .header(true)
        .label(Column::Last, Classes::Integers);
    let data = csv::load::<f64, 4, 3>(&path, &options)?;
    let (mut train, mut test) = data.split(0.7, &mut seeded_rng(args.seed))?;
    let scaler = Standardizer::fit(&train)?;
    scaler.transform(&mut train)?;
    scaler.transform(&mut test)?;
    let epochs = args.epochs.unwrap_or(if args.quick { 10 } else { 200 });
    println!(
        "iris: 4-16-3 ReLU/softmax, standardised features, Adam lr 0.01, batch 15, {epochs} \
         epochs; {} training and {} held-out test flowers (class counts {:?} / {:?})",
        train.len(),
        test.len(),
        train.class_counts(),
        test.class_counts()
    );

    let mut net = Iris::<f64>::seeded(args.seed);
    let every = (epochs / 10).max(1);
    let history = Trainer::new(&train, CrossEntropy, Adam::new(0.01))
        .batch_size::<15>()
        .epochs(epochs)
        .seed(args.seed)
        .validation(&test)
        .on_epoch(|r, _| {
            if (r.epoch + 1) % every == 0 {
                println!(
                    "  epoch {:>4}: training loss {:.4} | test loss {:.4}, accuracy {:.1}%",
                    r.epoch + 1,
                    r.train_loss,
                    r.validation_loss.unwrap_or(f64::NAN),
                    100.0 * r.validation_accuracy.unwrap_or(f64::NAN)
                );
            }
        })
        .fit(&mut net)?;
    let last = history.last().ok_or("no epoch was trained")?;
    let acc = last.validation_accuracy.unwrap_or(f64::NAN);
    let cm = confusion_matrix(&net, &test);
    let right: usize = (0..3).map(|k| cm[k][k]).sum();
    println!(
        "\nheld-out test accuracy {:.1}% ({right} of {})",
        100.0 * acc,
        test.len()
    );
    println!("confusion matrix (rows: true species, columns: predicted):");
    println!(
        "{:>12} {}",
        "",
        SPECIES
            .iter()
            .map(|s| format!("{s:>11}"))
            .collect::<String>()
    );
    for (k, row) in cm.iter().enumerate() {
        println!(
            "{:>12} {}",
            SPECIES[k],
            row.iter().map(|c| format!("{c:>11}")).collect::<String>()
        );
    }

    let mut pictures = Vec::new();
    let path = common::out_file(args, "iris.png")?;
    {
        let root = common::png(&path, 1150, 500)?;
        let (left, right) = root.split_horizontally(600);
        let pts = |f: fn(&nn::train::EpochReport) -> f64| -> Vec<(f64, f64)> {
            history
                .epochs
                .iter()
                .map(|r| ((r.epoch + 1) as f64, f(r)))
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
                Series::line(
                    "training (mean over the epoch)",
                    pts(|r| r.train_loss),
                    PALETTE[0],
                ),
                Series::line(
                    "held-out test",
                    pts(|r| r.validation_loss.unwrap_or(f64::NAN)),
                    PALETTE[1],
                ),
            ],
            true,
        )?;
        // The confusion matrix as a table of shaded cells.
        let title = format!("Confusion matrix, test accuracy {:.1}%", 100.0 * acc);
        let mut chart = ChartBuilder::on(&right)
            .caption(title, (common::FONT, 22))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..3.0, 0.0..3.0)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(7)
            .y_labels(7)
            .x_label_formatter(&|v| label_at(*v, false))
            .y_label_formatter(&|v| label_at(*v, true))
            .x_desc("predicted species")
            .y_desc("true species")
            .label_style((common::FONT, 15))
            .axis_desc_style((common::FONT, 17))
            .draw()?;
        let max = cm.iter().flatten().copied().max().unwrap_or(1).max(1);
        for (t, row) in cm.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                // Row 0 (setosa) at the top.
                let y = 2.0 - t as f64;
                let shade = count as f64 / max as f64;
                let base = if t == p { PALETTE[0] } else { PALETTE[5] };
                let fill = common::mix(
                    WHITE,
                    base,
                    if count == 0 { 0.0 } else { 0.2 + 0.7 * shade },
                );
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(p as f64, y), (p as f64 + 1.0, y + 1.0)],
                    fill.filled(),
                )))?;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(p as f64, y), (p as f64 + 1.0, y + 1.0)],
                    BLACK.stroke_width(1),
                )))?;
                let ink = if shade > 0.6 { WHITE } else { BLACK };
                chart.draw_series(std::iter::once(Text::new(
                    count.to_string(),
                    (p as f64 + 0.45, y + 0.55),
                    (common::FONT, 26).into_font().color(&ink),
                )))?;
            }
        }
        root.present()?;
    }
    pictures.push(path);
    Ok(pictures)
}

/// The species name for an axis tick at the middle of a cell (`flip`: row 0 at the top).
fn label_at(v: f64, flip: bool) -> String {
    let k = v.floor() as i64;
    if (v - k as f64 - 0.5).abs() > 0.26 || !(0..3).contains(&k) {
        return String::new();
    }
    let k = if flip { 2 - k } else { k };
    SPECIES[k as usize].to_string()
}
