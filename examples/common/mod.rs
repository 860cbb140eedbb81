//! Helpers shared by the examples: command-line options, a progress bar, pictures
//! (plotters, with a font compiled in so text renders on any machine), small statistics.
//!
//! Not an example itself: each example includes it with
//! `#[path = "common/mod.rs"] pub mod common;` (public so that `tests/test_examples.rs`,
//! which includes every example as a module, can build their `Args`).
#![allow(dead_code)]

use plotters::coord::Shift;
use plotters::prelude::*;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// The result type of the examples.
pub type Res<T> = Result<T, Box<dyn Error>>;

/// A drawing area of a PNG picture.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

// ---------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------

/// The options every example understands, plus the few some of them add.
#[derive(Clone, Debug)]
pub struct Args {
    /// The example's name (its default output folder is `target/examples/<name>`).
    pub name: &'static str,
    /// A reduced budget so that the example finishes in seconds (used by the tests).
    pub quick: bool,
    /// Where the pictures go.
    pub out: PathBuf,
    /// The seed of every random choice.
    pub seed: u64,
    /// `--mnist DIR`: the folder of the original MNIST IDX files (digits only).
    pub mnist: Option<PathBuf>,
    /// `--relu`: the 784-128-10 ReLU variant (digits with `--mnist` only).
    pub relu: bool,
    /// `--seeds N`: how many seeds a study trains (spiral only).
    pub seeds: Option<usize>,
    /// `--epochs N`: how many epochs to train.
    pub epochs: Option<usize>,
}

impl Args {
    /// Defaults for `name`: full budget, `target/examples/<name>`, seed 1.
    pub fn new(name: &'static str) -> Self {
        Args {
            name,
            quick: false,
            out: PathBuf::from("target/examples").join(name),
            seed: 1,
            mnist: None,
            relu: false,
            seeds: None,
            epochs: None,
        }
    }

    /// Parses `args` (without the program name). `extra` lists the options beyond
    /// `--quick`, `--out`, `--seed` and `--help` that this example accepts.
    pub fn parse<I: IntoIterator<Item = String>>(
        name: &'static str,
        extra: &[&str],
        args: I,
    ) -> Result<Self, String> {
        let mut a = Args::new(name);
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let (key, inline) = match arg.split_once('=') {
                Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let known = ["--quick", "--out", "--seed", "--help", "-h"].contains(&key.as_str())
                || extra.contains(&key.as_str());
            if !known {
                return Err(format!("unknown option `{arg}`\n{}", usage(name, extra)));
            }
            let mut value = |what: &str| -> Result<String, String> {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .ok_or_else(|| format!("`{key}` needs {what}"))
            };
            match key.as_str() {
                "--help" | "-h" => return Err(usage(name, extra)),
                "--quick" => a.quick = true,
                "--relu" => a.relu = true,
                "--out" => a.out = PathBuf::from(value("a folder")?),
                "--mnist" => a.mnist = Some(PathBuf::from(value("a folder")?)),
                "--seed" => a.seed = number(&key, &value("a number")?)?,
                "--seeds" => a.seeds = Some(positive(&key, &value("a number")?)?),
                "--epochs" => a.epochs = Some(positive(&key, &value("a number")?)?),
                _ => unreachable!("every accepted option is handled"),
            }
        }
        Ok(a)
    }
}

fn number<N: std::str::FromStr>(key: &str, v: &str) -> Result<N, String> {
    v.parse()
        .map_err(|_| format!("`{key}` needs a non-negative whole number, not `{v}`"))
}

fn positive(key: &str, v: &str) -> Result<usize, String> {
    match number::<usize>(key, v)? {
        0 => Err(format!("`{key}` must be at least 1")),
        n => Ok(n),
    }
}

fn usage(name: &str, extra: &[&str]) -> String {
    let mut s = format!(
        "usage: cargo run --release --example {name} -- [options]\n  \
         --quick        a reduced budget that finishes in seconds\n  \
         --out DIR      where the pictures go (default target/examples/{name})\n  \
         --seed N       the seed of every random choice (default 1)\n"
    );
    for e in extra {
        s.push_str(match *e {
            "--mnist" => "  --mnist DIR    train on the MNIST IDX files in DIR (gzipped or not)\n",
            "--relu" => "  --relu         with --mnist: the 784-128-10 ReLU network\n",
            "--seeds" => "  --seeds N      how many seeds to train each network on\n",
            "--epochs" => "  --epochs N     how many epochs to train\n",
            _ => "",
        });
    }
    s
}

/// Parses the process arguments, creates the output folder, runs `run` and prints the
/// pictures written; the exit code tells whether it worked.
pub fn main(
    name: &'static str,
    extra: &[&str],
    run: fn(&Args) -> Res<Vec<PathBuf>>,
) -> std::process::ExitCode {
    let args = match Args::parse(name, extra, std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) if msg.starts_with("usage:") => {
            println!("{msg}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("{msg}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(pictures) => {
            println!("\npictures:");
            for p in pictures {
                println!("  {}", p.display());
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `args.out/<file>`, creating the folder.
pub fn out_file(args: &Args, file: &str) -> Res<PathBuf> {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    Ok(args.out.join(file))
}

// ---------------------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------------------

/// A progress bar on a terminal; a line every tenth of the way otherwise (so that logs
/// and tests still show progress).
pub struct Progress {
    bar: indicatif::ProgressBar,
    total: u64,
    tty: bool,
    last_tenth: u64,
}

impl Progress {
    /// A bar of `total` steps called `what` (e.g. "epochs").
    pub fn new(total: u64, what: &str) -> Self {
        use std::io::IsTerminal;
        let tty = std::io::stderr().is_terminal();
        let bar = if tty {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template(&format!(
                    "{{bar:40}} {{pos}}/{{len}} {what} {{elapsed}} {{msg}}"
                ))
                .expect("the template is valid"),
            );
            b
        } else {
            indicatif::ProgressBar::hidden()
        };
        Progress {
            bar,
            total,
            tty,
            last_tenth: 0,
        }
    }

    /// Sets the position and the message (e.g. the current loss).
    pub fn set(&mut self, pos: u64, msg: impl Into<String>) {
        let msg = msg.into();
        if self.tty {
            self.bar.set_position(pos);
            self.bar.set_message(msg);
        } else {
            let tenth = pos * 10 / self.total.max(1);
            if tenth > self.last_tenth || pos == self.total {
                self.last_tenth = tenth;
                eprintln!("  {pos}/{} {msg}", self.total);
            }
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

// ---------------------------------------------------------------------------------------
// Pictures
// ---------------------------------------------------------------------------------------

/// The font family every picture uses: DejaVu Sans, compiled in.
pub const FONT: &str = "sans-serif";

/// Registers the compiled-in font with plotters (once per process).
pub fn init_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, include_bytes!("DejaVuSans.ttf"))
            .map_err(|_| ())
            .expect("the compiled-in font is a valid TrueType font");
    });
}

/// A new white PNG picture of `w` x `h` pixels at `path`.
pub fn png(path: &Path, w: u32, h: u32) -> Res<Area<'_>> {
    init_font();
    let root = BitMapBackend::new(path, (w, h)).into_drawing_area();
    root.fill(&WHITE)?;
    Ok(root)
}

/// Colours that stay distinct for the colour-blind (Okabe and Ito).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // green
    RGBColor(204, 121, 167), // purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(213, 94, 0),    // vermilion
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];

/// Mixes `a` and `b`: `t = 0` gives `a`, `t = 1` gives `b`.
pub fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let m = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t).round() as u8;
    RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// The viridis colour map at `t` in `[0, 1]` (piecewise linear through 9 of its colours).
pub fn viridis(t: f64) -> RGBColor {
    const C: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (C.len() - 1) as f64;
    let i = (x.floor() as usize).min(C.len() - 2);
    let f = x - i as f64;
    let a = RGBColor(C[i].0, C[i].1, C[i].2);
    let b = RGBColor(C[i + 1].0, C[i + 1].1, C[i + 1].2);
    mix(a, b, f)
}

/// A diverging map for values in `[-1, 1]`: orange for -1, white for 0, blue for +1
/// (the TensorFlow Playground's colours).
pub fn diverging(v: f64) -> RGBColor {
    let v = if v.is_finite() {
        v.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    if v < 0.0 {
        mix(WHITE, RGBColor(245, 147, 34), -v)
    } else {
        mix(WHITE, RGBColor(8, 119, 189), v)
    }
}

/// One line of a line chart, with an optional shaded band `(x, low, high)` around it.
pub struct Series {
    /// The legend text.
    pub label: String,
    /// The points of the line.
    pub points: Vec<(f64, f64)>,
    /// The colour.
    pub color: RGBColor,
    /// A band drawn under the line (e.g. the interquartile range).
    pub band: Option<Vec<(f64, f64, f64)>>,
    /// Whether the line is dashed (drawn as points every few steps instead).
    pub dashed: bool,
}

impl Series {
    /// A plain line.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>, color: RGBColor) -> Self {
        Series {
            label: label.into(),
            points,
            color,
            band: None,
            dashed: false,
        }
    }
}

/// Axis and title text of a chart.
pub struct Labels<'a> {
    /// The title above the chart.
    pub title: &'a str,
    /// The x-axis description.
    pub x: &'a str,
    /// The y-axis description.
    pub y: &'a str,
}

/// Draws a line chart of `series` on `area`; a logarithmic y axis if `log_y`.
pub fn line_chart(area: &Area<'_>, labels: Labels<'_>, series: &[Series], log_y: bool) -> Res<()> {
    let all_x = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (x0, x1) = bounds(all_x);
    let all_y = series.iter().flat_map(|s| {
        s.points.iter().map(|p| p.1).chain(
            s.band
                .iter()
                .flat_map(|b| b.iter().flat_map(|&(_, lo, hi)| [lo, hi])),
        )
    });
    let (mut y0, mut y1) = bounds(all_y.filter(|v| !log_y || *v > 0.0));
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(labels.title, (FONT, 22))
        .margin(12)
        .margin_right(30)
        .x_label_area_size(45)
        .y_label_area_size(70);
    let legend = |chart_series: &[Series]| chart_series.iter().any(|s| !s.label.is_empty());
    // The legend goes where the lines end up not being: below them if they finish high.
    let ends: Vec<f64> = series
        .iter()
        .filter_map(|s| s.points.last().map(|p| p.1))
        .collect();
    let end = ends.iter().sum::<f64>() / ends.len().max(1) as f64;
    let high = if log_y {
        (end.max(1e-300).ln() - y0.max(1e-300).ln())
            > 0.5 * (y1.max(1e-300).ln() - y0.max(1e-300).ln())
    } else {
        end - y0 > 0.5 * (y1 - y0)
    };
    let position = if high {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    };
    // The linear and logarithmic charts have different coordinate types but are
    // decorated the same way.
    macro_rules! decorate {
        ($chart:ident) => {
            $chart
                .configure_mesh()
                .x_desc(labels.x)
                .y_desc(labels.y)
                .label_style((FONT, 15))
                .axis_desc_style((FONT, 17))
                .light_line_style(WHITE)
                .x_labels(7)
                .y_labels(8)
                .x_label_formatter(&|v| fmt_tick(*v))
                .y_label_formatter(&|v| fmt_tick(*v))
                .draw()?;
            draw_series(&mut $chart, series)?;
            if legend(series) {
                $chart
                    .configure_series_labels()
                    .label_font((FONT, 16))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .position(position)
                    .draw()?;
            }
        };
    }
    if log_y {
        y0 = y0.max(1e-12) / 1.3;
        y1 *= 1.3;
        let mut chart = builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
        decorate!(chart);
    } else {
        let pad = (y1 - y0).max(1e-9) * 0.05;
        y0 -= pad;
        y1 += pad;
        let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1)?;
        decorate!(chart);
    }
    Ok(())
}

fn draw_series<'a, X, Y>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>,
    series: &[Series],
) -> Res<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for s in series {
        if let Some(band) = &s.band {
            let mut poly: Vec<(f64, f64)> = band.iter().map(|&(x, _, hi)| (x, hi)).collect();
            poly.extend(band.iter().rev().map(|&(x, lo, _)| (x, lo)));
            chart.draw_series(std::iter::once(Polygon::new(
                poly,
                s.color.mix(0.2).filled(),
            )))?;
        }
    }
    for s in series {
        let color = s.color;
        let style = color.stroke_width(2);
        let drawn = if s.dashed {
            chart.draw_series(DashedLineSeries::new(s.points.iter().copied(), 8, 5, style))?
        } else {
            chart.draw_series(LineSeries::new(s.points.iter().copied(), style))?
        };
        if !s.label.is_empty() {
            drawn.label(s.label.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
            });
        }
    }
    Ok(())
}

/// A short tick label: no trailing zeros, scientific notation for tiny or huge values.
pub fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    if a < 1e-12 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.0e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

/// The smallest and largest finite value (0..1 if there is none; widened if equal).
pub fn bounds(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in v.filter(|x| x.is_finite()) {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if lo > hi {
        return (0.0, 1.0);
    }
    if lo == hi {
        return (lo - 0.5, hi + 0.5);
    }
    (lo, hi)
}

/// A labelled point of a scatter plot.
pub struct Dot {
    /// Position.
    pub x: f64,
    /// Position.
    pub y: f64,
    /// Fill colour.
    pub color: RGBColor,
    /// Drawn as a triangle instead of a disc (e.g. a test point).
    pub cross: bool,
}

/// Paints `field(x, y)` over the rectangle `xr` x `yr` at `res` x `res` cells, draws
/// `dots` over it and a legend of `(text, colour)` entries (filled squares).
#[allow(clippy::too_many_arguments)]
pub fn field_chart(
    area: &Area<'_>,
    labels: Labels<'_>,
    xr: (f64, f64),
    yr: (f64, f64),
    res: usize,
    field: &dyn Fn(f64, f64) -> RGBColor,
    dots: &[Dot],
    legend: &[(String, RGBColor)],
) -> Res<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(labels.title, (FONT, 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    let dx = (xr.1 - xr.0) / res as f64;
    let dy = (yr.1 - yr.0) / res as f64;
    chart.draw_series(
        (0..res)
            .flat_map(|i| (0..res).map(move |j| (i, j)))
            .map(|(i, j)| {
                let x = xr.0 + i as f64 * dx;
                let y = yr.0 + j as f64 * dy;
                let c = field(x + dx / 2.0, y + dy / 2.0);
                Rectangle::new([(x, y), (x + dx, y + dy)], c.filled())
            }),
    )?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(labels.x)
        .y_desc(labels.y)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .x_label_formatter(&|v| fmt_tick(*v))
        .y_label_formatter(&|v| fmt_tick(*v))
        .draw()?;
    for d in dots {
        if d.cross {
            // A triangle with a dark rim: visible over a background of its colour.
            chart.draw_series(std::iter::once(TriangleMarker::new(
                (d.x, d.y),
                8,
                BLACK.filled(),
            )))?;
            chart.draw_series(std::iter::once(TriangleMarker::new(
                (d.x, d.y),
                5,
                d.color.filled(),
            )))?;
        } else {
            chart.draw_series(std::iter::once(Circle::new(
                (d.x, d.y),
                5,
                d.color.filled(),
            )))?;
            chart.draw_series(std::iter::once(Circle::new(
                (d.x, d.y),
                5,
                BLACK.stroke_width(1),
            )))?;
        }
    }
    for (text, color) in legend {
        let c = *color;
        chart
            .draw_series(std::iter::once(Circle::new(
                (f64::NAN, f64::NAN),
                0,
                c.filled(),
            )))?
            .label(text.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], c.filled()));
    }
    if !legend.is_empty() {
        chart
            .configure_series_labels()
            .label_font((FONT, 15))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    Ok(())
}

/// A heat map of `values` (row-major, `rows` x `cols`, row 0 at the bottom) over `xr` x
/// `yr`, coloured by `cmap` (a map of `[0, 1]`, e.g. [`viridis`]) from `range.0` to
/// `range.1`, with a colour bar.
#[allow(clippy::too_many_arguments)]
pub fn heat_map(
    area: &Area<'_>,
    labels: Labels<'_>,
    xr: (f64, f64),
    yr: (f64, f64),
    values: &[f64],
    rows: usize,
    cols: usize,
    range: (f64, f64),
    cmap: &dyn Fn(f64) -> RGBColor,
) -> Res<()> {
    let (main, bar) = area.split_horizontally(area.dim_in_pixel().0.saturating_sub(95));
    let mut chart = ChartBuilder::on(&main)
        .caption(labels.title, (FONT, 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    let dx = (xr.1 - xr.0) / cols as f64;
    let dy = (yr.1 - yr.0) / rows as f64;
    let scale = |v: f64| (v - range.0) / (range.1 - range.0).max(1e-300);
    chart.draw_series(
        (0..rows)
            .flat_map(|r| (0..cols).map(move |c| (r, c)))
            .map(|(r, c)| {
                let x = xr.0 + c as f64 * dx;
                let y = yr.0 + r as f64 * dy;
                Rectangle::new(
                    [(x, y), (x + dx, y + dy)],
                    cmap(scale(values[r * cols + c])).filled(),
                )
            }),
    )?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(labels.x)
        .y_desc(labels.y)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .x_label_formatter(&|v| fmt_tick(*v))
        .y_label_formatter(&|v| fmt_tick(*v))
        .draw()?;
    let mut cb = ChartBuilder::on(&bar)
        .margin_top(45)
        .margin_bottom(57)
        .margin_left(5)
        .right_y_label_area_size(60)
        .build_cartesian_2d(0.0..1.0, range.0..range.1)?;
    let n = 100;
    cb.draw_series((0..n).map(|i| {
        let a = range.0 + (range.1 - range.0) * i as f64 / n as f64;
        let b = range.0 + (range.1 - range.0) * (i + 1) as f64 / n as f64;
        Rectangle::new(
            [(0.0, a), (1.0, b)],
            cmap(i as f64 / (n - 1) as f64).filled(),
        )
    }))?;
    cb.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .label_style((FONT, 13))
        .y_labels(6)
        .y_label_formatter(&|v| fmt_tick(*v))
        .draw()?;
    Ok(())
}

/// Draws a grayscale image (`pixels` row-major, `w` x `h`, values in `[0, 1]`, 1 = ink
/// drawn black) into the pixel rectangle `(x, y, size)` of `area`.
pub fn gray_image(
    area: &Area<'_>,
    pixels: &[f64],
    w: usize,
    h: usize,
    at: (i32, i32),
    cell: i32,
    colorize: &dyn Fn(f64) -> RGBColor,
) -> Res<()> {
    for r in 0..h {
        for c in 0..w {
            let v = pixels[r * w + c];
            let x = at.0 + c as i32 * cell;
            let y = at.1 + r as i32 * cell;
            area.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                colorize(v).filled(),
            ))?;
        }
    }
    Ok(())
}

/// Writes `text` at pixel `(x, y)` of `area` in the given size and colour.
pub fn text(area: &Area<'_>, s: &str, at: (i32, i32), size: u32, color: RGBColor) -> Res<()> {
    area.draw(&Text::new(
        s.to_string(),
        at,
        (FONT, size).into_font().color(&color),
    ))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Statistics and small numeric helpers
// ---------------------------------------------------------------------------------------

/// The `q`-quantile (linear interpolation, as numpy's default) of `v`; NaN if empty.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let pos = q.clamp(0.0, 1.0) * (s.len() - 1) as f64;
    let i = pos.floor() as usize;
    let f = pos - i as f64;
    if i + 1 < s.len() {
        s[i] * (1.0 - f) + s[i + 1] * f
    } else {
        s[i]
    }
}

/// The median of `v`.
pub fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

/// Index of the largest value.
pub fn argmax(v: impl IntoIterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, x) in v.into_iter().enumerate() {
        if x > best.1 {
            best = (i, x);
        }
    }
    best.0
}
