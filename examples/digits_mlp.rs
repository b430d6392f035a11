//! A two-layer neural network learns to read handwritten digits: 1797 8x8 images of the UCI
//! digits data set (`examples/data/`, CC BY 4.0), 1500 for training and 297, chosen by a
//! seeded shuffle, held out for testing.
//!
//! The network is a `#[derive(Differentiable)]` struct whose `loss` method (64 pixels →
//! 64 hidden units with relu → 10 logits, softmax cross-entropy) is plain tensor code; its
//! gradient with respect to all four weight tensors is generated at compile time. Adam
//! trains it on shuffled mini-batches of 32 images, each batch's gradient summed over shards
//! of 16 images on all cores (`grad::parallel::sum`).
//!
//! Run with `cargo run --release --example digits_mlp`. It shows a progress bar with the
//! running loss and accuracy, prints the loss and accuracies of some epochs, writes the loss
//! curve to `target/digits_loss.png`, and ends with the test accuracy. Set
//! `GRAD_EXAMPLE_QUICK=1` for a few epochs only (as CI does).
//!
//! The trained weights are saved with `grad::io::save_safetensors` to
//! `target/digits_mlp.safetensors` (or `--save PATH`), tensors `w1 b1 w2 b2` that Python's
//! `safetensors.numpy.load_file` reads too. `--load PATH` reads such a file into the
//! network instead of training, and reports its accuracy.
//!
//! Across processes (and machines): build with `--features mpi` and run under
//! `mpirun -n 2 target/release/examples/digits_mlp`. Every rank starts from rank 0's weights,
//! takes its slice of every batch, and the gradients are summed over the ranks before each
//! (identical) Adam step; rank 0 prints, and says how many ranks took part.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Instant;

use flate2::read::GzDecoder;
#[cfg(feature = "mpi")]
use grad::mpi::rsmpi::{environment::Universe, traits::Communicator};
use grad::optim::Adam;
use grad::{Differentiable, Tangent, Tensor, differentiable, parallel};
use indicatif::{ProgressBar, ProgressStyle};

const PIXELS: usize = 64;
const HIDDEN: usize = 64;
const CLASSES: usize = 10;
const TRAIN: usize = 1500;
const BATCH: usize = 32;
/// Images per shard of a batch: the shards' gradients are computed on rayon's threads.
const SHARD: usize = 16;

/// The network's weights: `x → relu(x w1 + b1) w2 + b2`.
#[derive(Differentiable, Clone)]
struct Mlp {
    w1: Tensor<f32>,
    b1: Tensor<f32>,
    w2: Tensor<f32>,
    b2: Tensor<f32>,
}

impl Mlp {
    /// He-initialized weights (normal, variance 2 / fan-in), zero biases.
    fn new(seed: u64) -> Self {
        let scale = (2.0 / PIXELS as f32).sqrt();
        Mlp {
            w1: Tensor::randn(&[PIXELS, HIDDEN], seed) * scale,
            b1: Tensor::zeros(&[HIDDEN]),
            w2: Tensor::randn(&[HIDDEN, CLASSES], seed + 1) * (2.0 / HIDDEN as f32).sqrt(),
            b2: Tensor::zeros(&[CLASSES]),
        }
    }

    /// Mean cross-entropy of the network's predictions for the rows of `x` against
    /// `labels`. `loss_grad` returns it with an `MlpTangent` holding all four gradients.
    #[differentiable(wrt(self))]
    fn loss(&self, x: &Tensor<f32>, labels: &[usize]) -> f32 {
        let logits = self.logits(x);
        grad::nn::cross_entropy(&logits, labels)
    }

    /// The network's output scores, one row of `CLASSES` per row of `x`. Being
    /// differentiable itself, it is called from `loss` through its `_vjp` and `_jvp`.
    #[differentiable(wrt(self))]
    fn logits(&self, x: &Tensor<f32>) -> Tensor<f32> {
        let h = (x.matmul(&self.w1) + &self.b1).relu();
        h.matmul(&self.w2) + &self.b2
    }

    /// The most likely digit for each row of `x`.
    fn predict(&self, x: &Tensor<f32>) -> Vec<usize> {
        self.logits(x)
            .as_slice()
            .chunks(CLASSES)
            .map(|row| (0..CLASSES).fold(0, |best, c| if row[c] > row[best] { c } else { best }))
            .collect()
    }

    /// The mean loss over the images at `rows` and its gradient, as a sum over shards of
    /// [`SHARD`] images computed in parallel, with the number of images predicted right.
    /// Each shard's loss and gradient are weighted by its share of `total` images (the
    /// loss is a mean), so that the sums over the shards of a batch are the batch's.
    fn step(&self, data: &Digits, rows: &[usize], total: usize) -> ((f32, f32), MlpTangent) {
        let shards: Vec<_> = rows.chunks(SHARD).map(|r| data.batch(r)).collect();
        parallel::sum(&shards, |(x, labels)| {
            let share = labels.len() as f32 / total as f32;
            let (loss, mut g) = self.loss_grad(x, labels);
            g.scale(f64::from(share));
            let right = self
                .predict(x)
                .iter()
                .zip(labels)
                .filter(|(p, l)| p == l)
                .count();
            // As an f32 (exact up to 2²⁴), so that across MPI ranks the whole step is
            // one all-reduce of f32s.
            ((loss * share, right as f32), g)
        })
    }

    /// The fraction of `labels` that `predict` gets right.
    fn accuracy(&self, x: &Tensor<f32>, labels: &[usize]) -> f64 {
        let right = self
            .predict(x)
            .iter()
            .zip(labels)
            .filter(|(p, l)| p == l)
            .count();
        right as f64 / labels.len() as f64
    }
}

/// Images (rows of 64 pixels scaled to [0, 1]) and labels, read from the gzipped CSV.
struct Digits {
    pixels: Vec<f32>,
    labels: Vec<usize>,
}

impl Digits {
    fn load(path: &Path) -> Result<Digits, Box<dyn std::error::Error>> {
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut digits = Digits {
            pixels: Vec::new(),
            labels: Vec::new(),
        };
        for (n, line) in BufReader::new(GzDecoder::new(file)).lines().enumerate() {
            let line = line?;
            let values: Vec<u8> = line
                .split(',')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("line {}: {e}", n + 1))?;
            if values.len() != PIXELS + 1 || values[PIXELS] as usize >= CLASSES {
                return Err(format!("line {}: expected 64 pixels and a digit", n + 1).into());
            }
            digits
                .pixels
                .extend(values[..PIXELS].iter().map(|&v| f32::from(v) / 16.0));
            digits.labels.push(usize::from(values[PIXELS]));
        }
        Ok(digits)
    }

    fn len(&self) -> usize {
        self.labels.len()
    }

    /// The images at `rows`, as a `[rows.len(), 64]` tensor, and their labels.
    fn batch(&self, rows: &[usize]) -> (Tensor<f32>, Vec<usize>) {
        let mut x = Vec::with_capacity(rows.len() * PIXELS);
        for &r in rows {
            x.extend_from_slice(&self.pixels[r * PIXELS..(r + 1) * PIXELS]);
        }
        let x = Tensor::from_vec(x, &[rows.len(), PIXELS]).expect("64 pixels a row");
        (x, rows.iter().map(|&r| self.labels[r]).collect())
    }
}

/// A seeded Fisher–Yates shuffle (xorshift64*), so every run sees the same batches.
fn shuffle(order: &mut [usize], state: &mut u64) {
    for i in (1..order.len()).rev() {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        let r = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        order.swap(i, (r % (i as u64 + 1)) as usize);
    }
}

/// The processes that train together: with `--features mpi`, the ranks of MPI's world,
/// each taking its slice of every batch; without it, this process alone.
struct Team {
    #[cfg(feature = "mpi")]
    universe: Universe,
    rank: usize,
    size: usize,
}

impl Team {
    #[cfg(feature = "mpi")]
    fn join() -> Team {
        // A panic on one rank aborts the job instead of leaving the others waiting.
        let universe = grad::mpi::initialize().expect("MPI is initialized once");
        let world = universe.world();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        Team {
            universe,
            rank,
            size,
        }
    }

    #[cfg(not(feature = "mpi"))]
    fn join() -> Team {
        Team { rank: 0, size: 1 }
    }

    /// Rank 0 prints and draws; the others only compute.
    fn leads(&self) -> bool {
        self.rank == 0
    }

    /// This rank's contiguous slice of `rows`: the ranks' slices differ by one row at most.
    fn slice<'a>(&self, rows: &'a [usize]) -> &'a [usize] {
        let n = rows.len();
        &rows[self.rank * n / self.size..(self.rank + 1) * n / self.size]
    }

    /// Every rank starts from rank 0's parameters.
    fn share_start<P: Differentiable>(&self, _params: &mut P) {
        #[cfg(feature = "mpi")]
        grad::mpi::broadcast(&self.universe.world(), 0, _params);
    }

    /// Replaces each rank's `part` with the sum of all ranks' parts.
    fn sum<T: Tangent>(&self, _part: &mut T) {
        #[cfg(feature = "mpi")]
        grad::mpi::allreduce_sum(&self.universe.world(), _part);
    }
}

/// Per-epoch curves for the plot.
struct Curves {
    batch_loss: Vec<f64>,
    train_loss: Vec<f64>,
    test_loss: Vec<f64>,
}

/// DejaVu Sans (Bitstream Vera license, see `examples/assets/LICENSE-DejaVu.txt`), cut down
/// to printable ASCII and a few symbols: the plot's text is drawn from it, so no system font
/// is needed.
const FONT: &[u8] = include_bytes!("assets/DejaVuSans-subset.ttf");

/// Draws the loss curves as a PNG: grey, the loss of every mini-batch; blue, the mean
/// training loss of each epoch; red, the test loss after each epoch; with a title, axis
/// labels, tick values and a legend.
fn plot(
    path: &Path,
    curves: &Curves,
    batches_per_epoch: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    use plotters::style::{FontStyle, register_font};

    // Plotters' `ab_glyph` text looks fonts up by name; "sans-serif" is its default family.
    register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "examples/assets/DejaVuSans-subset.ttf is not a font")?;

    let epochs = curves.train_loss.len() as f64;
    let top = curves
        .batch_loss
        .iter()
        .fold(0.0f64, |m, &v| m.max(v))
        .min(2.5);
    let top = (top / 0.25).ceil() * 0.25;
    let root = BitMapBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "digits_mlp: cross-entropy loss while training",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..epochs, 0.0..top)?;
    chart
        .configure_mesh()
        // Grid lines at the labelled values only: the minor grid triples the PNG's size.
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(220, 220, 220))
        .x_desc("epoch")
        .y_desc("loss (nats)")
        .axis_desc_style(("sans-serif", 16))
        .label_style(("sans-serif", 14))
        .x_label_formatter(&|e| format!("{e}"))
        .y_label_formatter(&|l| format!("{l:.2}"))
        .draw()?;
    let per_batch = 1.0 / batches_per_epoch as f64;
    let grey = RGBColor(185, 185, 185);
    chart
        .draw_series(LineSeries::new(
            curves
                .batch_loss
                .iter()
                .enumerate()
                .map(|(i, &l)| ((i + 1) as f64 * per_batch, l.min(top))),
            grey,
        ))?
        .label("each mini-batch")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey));
    // An epoch's mean is drawn at the epoch's end, where the test loss is measured.
    for (curve, color, label) in [
        (&curves.train_loss, BLUE, "training, mean of the epoch"),
        (&curves.test_loss, RED, "test, after the epoch"),
    ] {
        let points = curve
            .iter()
            .enumerate()
            .map(|(e, &l)| ((e + 1) as f64, l.min(top)));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()?;
    Ok(())
}

/// The command line: `[--load PATH] [--save PATH]`.
struct Args {
    load: Option<PathBuf>,
    save: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        load: None,
        save: None,
    };
    let mut it = std::env::args_os().skip(1);
    while let Some(flag) = it.next() {
        let slot = match flag.to_str() {
            Some("--load") => &mut args.load,
            Some("--save") => &mut args.save,
            _ => {
                return Err(format!(
                    "unknown argument {flag:?}; usage: digits_mlp [--load PATH] [--save PATH]"
                ));
            }
        };
        let path = it.next().ok_or(format!("{flag:?} needs a path"))?;
        *slot = Some(PathBuf::from(path));
    }
    Ok(args)
}

/// The closing lines both runs print: accuracy on the training and the test images.
fn report_accuracy(model: &Mlp, train: (&Tensor<f32>, &[usize]), test: (&Tensor<f32>, &[usize])) {
    println!(
        "training accuracy: {:.1}%",
        100.0 * model.accuracy(train.0, train.1)
    );
    println!(
        "test accuracy: {:.1}%",
        100.0 * model.accuracy(test.0, test.1)
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args()?;
    let team = Team::join();
    let quick = std::env::var_os("GRAD_EXAMPLE_QUICK").is_some_and(|v| v != "0");
    let (epochs, report_every) = if quick { (3, 1) } else { (60, 10) };

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = Digits::load(&root.join("examples/data/digits.csv.gz"))?;
    // A fixed, seeded shuffle decides which 297 images are held out. (The file's last rows
    // are harder than the rest: holding out the last 297 instead gives about 91%.)
    let mut all: Vec<usize> = (0..data.len()).collect();
    shuffle(&mut all, &mut 2024);
    let (train, test) = all.split_at(TRAIN);
    let (train, test) = (train.to_vec(), test.to_vec());
    let (x_train, y_train) = data.batch(&train);
    let (x_test, y_test) = data.batch(&test);
    if team.leads() {
        println!(
            "digits: {} images of 8x8 pixels, {} for training, {} for testing",
            data.len(),
            train.len(),
            test.len()
        );
    }

    let mut model = Mlp::new(1);
    if let Some(path) = &args.load {
        // Every tensor is checked (name, shape, dtype) before any weight is replaced.
        if let Err(e) = grad::io::load_safetensors(&mut model, path) {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        if !team.leads() {
            return Ok(());
        }
        println!("loaded the trained network from {}", path.display());
        report_accuracy(&model, (&x_train, &y_train), (&x_test, &y_test));
        return Ok(());
    }
    team.share_start(&mut model);
    let mut opt = Adam::new(3e-3);
    let batches_per_epoch = TRAIN.div_ceil(BATCH);
    let steps = (epochs * batches_per_epoch) as u64;
    let bar = if team.leads() {
        ProgressBar::new(steps).with_style(ProgressStyle::with_template(
            "{bar:30} epoch {prefix}, {msg} [{elapsed_precise}]",
        )?)
    } else {
        ProgressBar::hidden()
    };
    let mut curves = Curves {
        batch_loss: Vec::new(),
        train_loss: Vec::new(),
        test_loss: Vec::new(),
    };

    let start = Instant::now();
    let mut order = train.clone();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for epoch in 1..=epochs {
        bar.set_prefix(format!("{epoch}/{epochs}"));
        shuffle(&mut order, &mut rng);
        let (mut loss_sum, mut right, mut seen) = (0.0, 0, 0);
        for rows in order.chunks(BATCH) {
            // This rank's share of the batch's loss, right predictions (counted before the
            // step, from the same weights as the loss) and gradient; then the whole batch's.
            let mine = team.slice(rows);
            let mut step = if mine.is_empty() {
                ((0.0, 0.0), model.zero_tangent())
            } else {
                model.step(&data, mine, rows.len())
            };
            team.sum(&mut step);
            let ((loss, batch_right), g) = step;
            right += batch_right as usize;
            opt.step(&mut model, &g);
            seen += rows.len();
            loss_sum += f64::from(loss) * rows.len() as f64;
            curves.batch_loss.push(f64::from(loss));
            bar.set_message(format!(
                "training loss {:.4}, training accuracy {:.1}%",
                loss_sum / seen as f64,
                100.0 * right as f64 / seen as f64
            ));
            bar.inc(1);
        }
        let train_loss = loss_sum / seen as f64;
        let test_loss = f64::from(model.loss(&x_test, &y_test));
        curves.train_loss.push(train_loss);
        curves.test_loss.push(test_loss);
        if team.leads() && (epoch == 1 || epoch % report_every == 0 || epoch == epochs) {
            // suspend, not bar.println: the latter prints nothing when there is no terminal.
            bar.suspend(|| {
                println!(
                    "epoch {epoch:>3}: training loss {train_loss:.4}, test loss {test_loss:.4}, \
                     test accuracy {:.1}%",
                    100.0 * model.accuracy(&x_test, &y_test)
                )
            });
        }
    }
    bar.finish_and_clear();
    let elapsed = start.elapsed();
    if !team.leads() {
        return Ok(());
    }

    let plot_path: PathBuf = root.join("target").join("digits_loss.png");
    std::fs::create_dir_all(plot_path.parent().expect("a parent"))?;
    plot(&plot_path, &curves, batches_per_epoch)?;
    println!(
        "trained {epochs} epochs ({} Adam steps) in {:.2} s",
        epochs * batches_per_epoch,
        elapsed.as_secs_f64()
    );
    println!(
        "loss curve: {} (grey: each mini-batch, blue: training mean per epoch, \
         red: test loss)",
        plot_path.display()
    );
    report_accuracy(&model, (&x_train, &y_train), (&x_test, &y_test));
    if cfg!(feature = "mpi") {
        println!("ranks: {}", team.size);
    }
    let save = args
        .save
        .unwrap_or_else(|| root.join("target").join("digits_mlp.safetensors"));
    grad::io::save_safetensors(&model, &save)?;
    println!(
        "saved the network to {} (read it back with --load {})",
        save.display(),
        save.display()
    );
    Ok(())
}
