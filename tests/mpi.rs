//! `grad::mpi` under `mpirun` on this machine (feature `mpi`): a gradient all-reduced over 2
//! and 3 ranks equals the single-process gradient of the whole batch, `broadcast` gives
//! every rank root's parameters, and a rank that exits or panics in the middle of a step
//! makes the job fail instead of hang.
//!
//! The `#[test]`s here start `mpirun -n N` on this same test binary, running one of the
//! `#[ignore]`d `rank_*` functions on every rank; those are the programs the ranks run.

mod common;

use common::floats;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use grad::mpi::rsmpi::traits::{Communicator, Root};
use grad::{Differentiable, Tangent, Tensor, differentiable};

#[derive(Differentiable, Clone, Debug)]
struct Net {
    w1: Tensor<f64>,
    b1: Tensor<f64>,
    w2: Tensor<f64>,
    scale: f64,
}

impl Net {
    #[differentiable(wrt(self))]
    fn loss(&self, x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
        let h = (x.matmul(&self.w1) + &self.b1).tanh();
        grad::nn::mse(&(h.matmul(&self.w2) * self.scale), y)
    }

    fn seeded(seed: u64) -> Net {
        Net {
            w1: Tensor::rand_uniform(&[5, 7], -1.0, 1.0, seed),
            b1: Tensor::rand_uniform(&[7], -0.5, 0.5, seed + 1),
            w2: Tensor::rand_uniform(&[7, 2], -1.0, 1.0, seed + 2),
            scale: 1.5,
        }
    }
}

const ROWS: usize = 60;

fn data() -> (Tensor<f64>, Tensor<f64>) {
    (
        Tensor::rand_uniform(&[ROWS, 5], -1.0, 1.0, 31),
        Tensor::rand_uniform(&[ROWS, 2], -1.0, 1.0, 32),
    )
}

/// Rows `[start, end)` of `x` and `y`.
fn rows(x: &Tensor<f64>, y: &Tensor<f64>, start: usize, end: usize) -> (Tensor<f64>, Tensor<f64>) {
    let (cx, cy) = (x.shape()[1], y.shape()[1]);
    (
        Tensor::from_vec(
            x.as_slice()[start * cx..end * cx].to_vec(),
            &[end - start, cx],
        )
        .unwrap(),
        Tensor::from_vec(
            y.as_slice()[start * cy..end * cy].to_vec(),
            &[end - start, cy],
        )
        .unwrap(),
    )
}

/// Every component within `rel` of `want`'s, relative to `want`'s largest component.
#[track_caller]
fn assert_close(got: &[f64], want: &[f64], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 0.0, "{what}: an all-zero reference");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= rel * scale,
            "{what}, component {i}: all-reduced {a}, single process {b}"
        );
    }
}

/// Runs `mpirun -n ranks` on this test binary's `#[ignore]`d test `rank_fn`, and returns
/// whether it succeeded and its output, or panics if it has not ended within `limit`.
fn mpirun(ranks: usize, rank_fn: &str, limit: Duration) -> (bool, String) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new("mpirun")
        .args(["-n", &ranks.to_string()])
        .arg(exe)
        .args(["--ignored", "--exact", rank_fn, "--nocapture"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mpirun (MPICH or Open MPI) is installed: see the README");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for mpirun") {
            break status;
        }
        if start.elapsed() > limit {
            child.kill().expect("mpirun killed");
            child.wait().expect("mpirun reaped");
            panic!("mpirun -n {ranks} {rank_fn} still running after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut output = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    (status.success(), output)
}

#[test]
fn allreduced_gradient_over_2_and_3_ranks_equals_the_single_process_gradient() {
    for ranks in [2, 3] {
        let (ok, output) = mpirun(ranks, "rank_allreduce", Duration::from_secs(120));
        assert!(ok, "mpirun -n {ranks} failed:\n{output}");
        // Every rank ran the checks (rather than filtering them out), each saying so in one
        // line: libtest's own summary lines are written in pieces, which the ranks' shared
        // stdout can interleave (`test result: test rank_allreduce ... ok`), so they are not
        // counted; mpirun's success says every rank's test passed.
        for r in 0..ranks {
            assert!(
                output.contains(&format!("rank {r} of {ranks} ranks checked")),
                "rank {r} of {ranks} did not run the checks:\n{output}"
            );
        }
        assert_eq!(
            output.matches(&format!("of {ranks} ranks checked")).count(),
            ranks,
            "{output}"
        );
    }
}

#[test]
fn a_rank_that_exits_or_panics_mid_step_makes_the_job_fail_instead_of_hang() {
    for ranks in [2, 3] {
        let (ok, output) = mpirun(ranks, "rank_exits_mid_step", Duration::from_secs(60));
        assert!(
            !ok,
            "mpirun -n {ranks} succeeded although rank 1 exited:\n{output}"
        );
        assert!(output.contains("rank 1 exits"), "{output}");
        assert!(!output.contains("after the all-reduce"), "{output}");
    }
}

/// On every rank: its shard of the batch, all-reduced, against the whole batch's gradient.
#[test]
#[ignore = "a rank's program: run under mpirun by the test above"]
fn rank_allreduce() {
    let universe = grad::mpi::initialize().expect("MPI initialized once");
    let world = universe.world();
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    let (x, y) = data();

    // Parameters differ between ranks until rank 0's are broadcast.
    let mut model = Net::seeded(100 + rank as u64);
    model.scale = 1.5 + rank as f64;
    grad::mpi::broadcast(&world, 0, &mut model);
    let want = Net::seeded(100);
    assert_eq!(
        floats(&model_as_tangent(&model)),
        floats(&model_as_tangent(&want))
    );
    assert_eq!(model.scale, 1.5);

    let (want_loss, want_g) = model.loss_grad(&x, &y);

    // Uneven shards (60 rows over 3 ranks from 7-row offsets), each weighted by its share.
    let bounds: Vec<usize> = (0..=size)
        .map(|r| if r == size { ROWS } else { r * 7 })
        .collect();
    let (xs, ys) = rows(&x, &y, bounds[rank], bounds[rank + 1]);
    let share = (bounds[rank + 1] - bounds[rank]) as f64 / ROWS as f64;
    let (loss, mut g) = model.loss_grad(&xs, &ys);
    g.scale(share);
    let mut step = (loss * share, g);
    grad::mpi::allreduce_sum(&world, &mut step);
    assert!((step.0 - want_loss).abs() <= 1e-12 * want_loss.abs());
    assert_close(&floats(&step.1), &floats(&want_g), 1e-12, "allreduce_sum");

    // Every rank holds the same bits: compare with rank 0's.
    let mut zeros = floats(&step.1);
    let mine = zeros.clone();
    world.process_at_rank(0).broadcast_into(&mut zeros[..]);
    assert_eq!(
        mine.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        zeros.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );

    // Equal shards (60 rows divide by 2 and 3): the mean of the shards' mean gradients.
    let per = ROWS / size;
    let (xs, ys) = rows(&x, &y, rank * per, (rank + 1) * per);
    let (_, mut g) = model.loss_grad(&xs, &ys);
    grad::mpi::allreduce_mean(&world, &mut g);
    assert_close(&floats(&g), &floats(&want_g), 1e-12, "allreduce_mean");

    // f32 components travel too, beside f64 ones in the same value.
    let mut mixed = (vec![rank as f32 + 0.5; 3], [f64::from(rank as u32); 2]);
    grad::mpi::allreduce_sum(&world, &mut mixed);
    // Σ_r (r + 0.5) = size (size - 1) / 2 + size / 2 = size² / 2.
    let n = size as f64;
    assert_eq!(mixed.0, vec![(n * n / 2.0) as f32; 3]);
    assert_eq!(mixed.1, [n * (n - 1.0) / 2.0; 2]);

    println!("rank {rank} of {size} ranks checked");
}

/// The tangent holding a model's parameters, to compare models component by component.
fn model_as_tangent(m: &Net) -> NetTangent {
    let mut t = m.zero_tangent();
    t.w1.as_mut_slice().copy_from_slice(m.w1.as_slice());
    t.b1.as_mut_slice().copy_from_slice(m.b1.as_slice());
    t.w2.as_mut_slice().copy_from_slice(m.w2.as_slice());
    t.scale = m.scale;
    t
}

/// Rank 1 computes its gradient and exits before the all-reduce; the others wait in it.
#[test]
#[ignore = "a rank's program: run under mpirun by the test above"]
fn rank_exits_mid_step() {
    let universe = grad::mpi::initialize().expect("MPI initialized once");
    let world = universe.world();
    let (x, y) = data();
    let model = Net::seeded(100);
    let (_, mut g) = model.loss_grad(&x, &y);
    if world.rank() == 1 {
        println!("rank 1 exits");
        std::process::exit(3);
    }
    grad::mpi::allreduce_sum(&world, &mut g);
    println!("rank {} after the all-reduce", world.rank());
}

/// Rank 1 panics before the all-reduce; the others wait in it. (Without
/// `grad::mpi::initialize`'s `abort_on_panic`, rank 1 would unwind, finalize MPI and leave
/// the others waiting for ever.)
#[test]
#[ignore = "a rank's program: run under mpirun by the test above"]
fn rank_panics_mid_step() {
    let universe = grad::mpi::initialize().expect("MPI initialized once");
    let world = universe.world();
    let (x, y) = data();
    let model = Net::seeded(100);
    let (_, mut g) = model.loss_grad(&x, &y);
    if world.rank() == 1 {
        println!("rank 1 exits");
        panic!("rank 1 panics in the middle of a step");
    }
    grad::mpi::allreduce_sum(&world, &mut g);
    println!("rank {} after the all-reduce", world.rank());
}
