//! Data parallelism across processes and machines over MPI (feature `mpi`): gradients summed
//! over the ranks of a communicator and parameters sent from one rank to all, through the
//! flat runs that every [`Tangent`] and [`Differentiable`] value exposes.
//!
//! The transport is the `mpi` crate (rsmpi) over the system's MPICH or Open MPI,
//! re-exported as [`rsmpi`] so that a program and grad agree on its version. A data-parallel
//! training step, run with `mpirun -n 4 ./train`:
//!
//! ```no_run
//! use grad::mpi::{self, rsmpi::traits::Communicator};
//!
//! let universe = mpi::initialize().expect("MPI is initialized once");
//! let world = universe.world();
//! let mut params = vec![0.5f64, -1.0];
//! // Every rank starts from rank 0's parameters.
//! mpi::broadcast(&world, 0, &mut params);
//! // Each rank's gradient of its own shard of the data (here a stand-in) ...
//! let rank = f64::from(world.rank());
//! let mut grad = vec![rank * params[0], rank * params[1]];
//! // ... becomes the mean over the ranks, the same bits on every rank.
//! mpi::allreduce_mean(&world, &mut grad);
//! ```
//!
//! Errors: grad leaves MPI's default error handler in place (`MPI_ERRORS_ARE_FATAL`), so an
//! MPI call that fails aborts the job instead of returning, and a rank that dies without
//! finalizing MPI makes the launcher (`mpirun`) end the others with an error. A Rust panic
//! would unwind and finalize MPI on its rank as if it had finished, leaving the others
//! waiting in their next collective call for ever: [`initialize`] (or [`abort_on_panic`]
//! after rsmpi's own initialization) turns a panic into an abort of its process, which the
//! launcher sees as a failure and answers by ending the job.

#[doc(no_inline)]
pub use ::mpi as rsmpi;
use ::mpi::collective::SystemOperation;
use ::mpi::topology::Rank;
use ::mpi::traits::{Communicator, CommunicatorCollectives, Root};

use crate::differentiable::{Differentiable, FlatMut, Tangent};

/// Initializes MPI as [`rsmpi::initialize`] does (`None` if it already was), and makes a
/// panic on this rank abort the job rather than hang it ([`abort_on_panic`]). Keep the
/// returned `Universe` alive for as long as MPI is used: dropping it finalizes MPI.
pub fn initialize() -> Option<rsmpi::environment::Universe> {
    let universe = rsmpi::initialize()?;
    abort_on_panic(&universe.world());
    Some(universe)
}

/// Makes a panic on this process abort it (after the usual panic message, and a line naming
/// its rank in `comm`), instead of unwinding. An unwinding panic finalizes MPI when the
/// `Universe` is dropped, which the launcher takes for a normal end, while the other ranks
/// wait for this one in their next collective call; an aborted process is a failed one,
/// and `mpirun` ends the others with an error. This applies to panics in every thread,
/// including ones that would have been caught with `catch_unwind`.
pub fn abort_on_panic<C: Communicator>(comm: &C) {
    let rank = comm.rank();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        eprintln!("grad::mpi: rank {rank} panicked; aborting it so that the other ranks fail too");
        std::process::abort();
    }));
}

/// Replaces `tangent` on every rank of `comm` with the sum of all ranks' tangents.
///
/// All components of one precision travel in one `MPI_Allreduce` (f32 and f64 separately),
/// whatever the number of tensors in the tangent. MPI gives every rank the same result.
/// Every rank must pass a tangent of the same structure (the gradients of one model are);
/// it is a collective call, so every rank of `comm` must make it.
pub fn allreduce_sum<C: Communicator, T: Tangent>(comm: &C, tangent: &mut T) {
    let mut runs = |f: &mut dyn FnMut(FlatMut<'_>)| tangent.visit_mut(f);
    let mine = Packed::gather(&mut runs);
    let mut sum = Packed {
        f32s: vec![0.0; mine.f32s.len()],
        f64s: vec![0.0; mine.f64s.len()],
    };
    if !mine.f32s.is_empty() {
        comm.all_reduce_into(&mine.f32s[..], &mut sum.f32s[..], SystemOperation::sum());
    }
    if !mine.f64s.is_empty() {
        comm.all_reduce_into(&mine.f64s[..], &mut sum.f64s[..], SystemOperation::sum());
    }
    sum.scatter(&mut runs);
}

/// Replaces `tangent` on every rank of `comm` with the mean of all ranks' tangents: the
/// gradient of a loss averaged over equal shards. See [`allreduce_sum`].
pub fn allreduce_mean<C: Communicator, T: Tangent>(comm: &C, tangent: &mut T) {
    allreduce_sum(comm, tangent);
    tangent.scale(1.0 / f64::from(comm.size()));
}

/// Replaces `params` on every rank of `comm` with rank `root`'s, so that all ranks start
/// from the same model.
///
/// # Panics
///
/// On a rank whose `params` have a different number of `f32` or `f64` components than
/// root's (the root sends its counts first, so the mismatch is reported rather than
/// garbling the parameters). The panic ends that rank, and the launcher then the others.
pub fn broadcast<C: Communicator, P: Differentiable + ?Sized>(
    comm: &C,
    root: Rank,
    params: &mut P,
) {
    let root_process = comm.process_at_rank(root);
    let mut runs = |f: &mut dyn FnMut(FlatMut<'_>)| params.visit_params_mut(f);
    let mut packed = Packed::gather(&mut runs);
    let mine = [packed.f32s.len() as u64, packed.f64s.len() as u64];
    let mut roots = mine;
    root_process.broadcast_into(&mut roots[..]);
    assert_eq!(
        mine,
        roots,
        "grad::mpi::broadcast: rank {} has {} f32 and {} f64 parameter components, \
         root rank {root} has {} and {}",
        comm.rank(),
        mine[0],
        mine[1],
        roots[0],
        roots[1]
    );
    if !packed.f32s.is_empty() {
        root_process.broadcast_into(&mut packed.f32s[..]);
    }
    if !packed.f64s.is_empty() {
        root_process.broadcast_into(&mut packed.f64s[..]);
    }
    packed.scatter(&mut runs);
}

/// A value's components by precision, each in visiting order: what goes over the wire.
struct Packed {
    f32s: Vec<f32>,
    f64s: Vec<f64>,
}

/// Something that calls a function on each of a value's flat runs, mutably.
type Runs<'a> = dyn FnMut(&mut dyn FnMut(FlatMut<'_>)) + 'a;

impl Packed {
    /// Copies the runs' components out.
    fn gather(runs: &mut Runs<'_>) -> Packed {
        let mut packed = Packed {
            f32s: Vec::new(),
            f64s: Vec::new(),
        };
        runs(&mut |flat| match flat {
            FlatMut::F32(s) => packed.f32s.extend_from_slice(s),
            FlatMut::F64(s) => packed.f64s.extend_from_slice(s),
        });
        packed
    }

    /// Copies the components back into the runs, in the order `gather` took them out.
    fn scatter(&self, runs: &mut Runs<'_>) {
        let (mut f32s, mut f64s) = (&self.f32s[..], &self.f64s[..]);
        runs(&mut |flat| match flat {
            FlatMut::F32(s) => {
                let (head, rest) = f32s.split_at(s.len());
                s.copy_from_slice(head);
                f32s = rest;
            }
            FlatMut::F64(s) => {
                let (head, rest) = f64s.split_at(s.len());
                s.copy_from_slice(head);
                f64s = rest;
            }
        });
    }
}
