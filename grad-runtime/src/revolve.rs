//! Binomial checkpointing of loops (Griewank and Walther's Revolve): `checkpoint`, which a
//! `#[differentiable]` function's `for` loop iterates, and the schedule its reverse pass runs.
//!
//! The reverse pass of `for i in grad::checkpoint(0..n, s) { .. }` reverses the `n` steps
//! from the loop's state at step 0, keeping at most `s` copies of the state (one of them the
//! state at step 0). [`Schedule`] says what to do, one [`Action`] at a time: store or restore
//! a copy, run steps forward without keeping anything, or run one step forward keeping what
//! its adjoint needs and then its adjoint. Each step's adjoint runs exactly once, from the
//! last step down to the first, and each step is run forward (besides that once) at most `r`
//! times, the least `r` with `C(s + r, s) >= n`. With `s = 32`, a million steps need
//! `r = 6`. The schedule's own memory is a few words per snapshot.

/// The iterable of a checkpointed `for` loop: `range` itself, unchanged. Re-exported and
/// documented as `grad::checkpoint`: inside a `#[differentiable]` function, the reverse pass
/// of `for i in grad::checkpoint(lo..hi, snapshots)` keeps at most `snapshots` copies of the
/// loop-carried state and runs the steps in between again ([`Schedule`]).
///
/// ```
/// let steps: Vec<usize> = grad_runtime::checkpoint(2..5, 8).collect();
/// assert_eq!(steps, [2, 3, 4]);
/// ```
#[inline(always)]
pub fn checkpoint<R: Iterator>(range: R, snapshots: usize) -> R {
    let _ = snapshots;
    range
}

/// One instruction of a [`Schedule`]. Steps are counted from 0 (the loop's first
/// iteration); "the state" is the loop-carried state that the reverse pass holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Copy the state into snapshot `slot` (`slot < snapshots`).
    Store(usize),
    /// Set the state to a copy of snapshot `slot`.
    Restore(usize),
    /// Run steps `from..to` forward, keeping nothing: the state goes from before step
    /// `from` to before step `to`.
    Advance(usize, usize),
    /// Run step `k` forward from the state (which is before step `k`), keeping what its
    /// adjoint needs, then its adjoint. The state is spent: a `Restore` or the end follows.
    Reverse(usize),
}

/// The binomial (Revolve) schedule reversing `n` steps with `snapshots` copies of the state,
/// as an iterator of [`Action`]s. It needs no memory beyond one interval per snapshot.
#[derive(Clone, Debug)]
pub struct Schedule {
    snapshots: usize,
    /// Per snapshot in use, the steps `lo..hi` left to reverse from it: snapshot `k` holds
    /// the state before step `frames[k].0`.
    frames: Vec<(usize, usize)>,
    /// Actions decided but not yet handed out, `NONE` if none, in this order: a `Reverse`
    /// of this step, a `Restore` or a `Store` of this slot. (Plain words, not a queue of
    /// `Action`s: an action written to memory field by field and read back whole stalled
    /// store forwarding, which made each action cost 12 ns.)
    reverse: usize,
    restore: usize,
    store: usize,
    started: bool,
    n: usize,
}

const NONE: usize = usize::MAX;

impl Schedule {
    /// The schedule for `n` steps and `snapshots` copies (0 is taken as 1).
    pub fn new(n: usize, snapshots: usize) -> Self {
        Schedule {
            snapshots: snapshots.max(1),
            frames: Vec::with_capacity(snapshots.clamp(1, 64)),
            reverse: NONE,
            restore: NONE,
            store: NONE,
            started: false,
            n,
        }
    }

    /// Decides the next actions, handing out the first; the state is before step
    /// `frames.last().0`.
    #[inline]
    fn decide(&mut self) -> Option<Action> {
        let &(lo, hi) = self.frames.last()?;
        let slot = self.frames.len() - 1;
        let free = self.snapshots - 1 - slot;
        if hi - lo == 1 {
            // The last step of this snapshot's interval: its adjoint, then back to the
            // snapshot before, whose interval now ends where this one began.
            self.frames.pop();
            if let Some(parent) = self.frames.last_mut() {
                parent.1 = lo;
                self.restore = slot - 1;
            }
            Some(Action::Reverse(lo))
        } else if free == 0 {
            // No snapshot left: run up to the last step, reverse it, come back.
            self.frames[slot].1 = hi - 1;
            self.reverse = hi - 1;
            self.restore = slot;
            Some(Action::Advance(lo, hi - 1))
        } else {
            let mid = lo + split(hi - lo, free + 1);
            self.frames.push((mid, hi));
            self.store = slot + 1;
            Some(Action::Advance(lo, mid))
        }
    }

    /// Runs the schedule up to its first `Reverse` (that of the last step, from the state
    /// before it), which it keeps for later, and returns where that stretch stores the state:
    /// the forward sweep, which runs every step anyway, takes those snapshots on its way
    /// (and keeps the state before the last step), and the reverse pass continues from there.
    /// The stretch has no `Restore` and advances from step 0 without a gap.
    pub fn descent(&mut self) -> Descent {
        let mut stores = Vec::with_capacity(self.snapshots.min(64));
        let mut at = 0;
        loop {
            match self.next() {
                Some(Action::Store(k)) => stores.push((at, k)),
                Some(Action::Advance(_, to)) => at = to,
                // Handed out again by the next `next`.
                Some(Action::Reverse(k)) => {
                    self.reverse = k;
                    break;
                }
                Some(Action::Restore(k)) => {
                    self.restore = k;
                    break;
                }
                None => break,
            }
        }
        Descent { stores, next: 0 }
    }
}

/// Where the forward sweep stores the state (see [`Schedule::descent`]).
#[derive(Clone, Debug)]
pub struct Descent {
    /// `(step, slot)`: the state before `step` goes into `slot`; by increasing step.
    stores: Vec<(usize, usize)>,
    next: usize,
}

impl Descent {
    /// The slot the state before step `k` goes into, if the schedule keeps it. Called with
    /// each step in order.
    #[inline(always)]
    pub fn slot(&mut self, k: usize) -> Option<usize> {
        match self.stores.get(self.next) {
            Some(&(at, slot)) if at == k => {
                self.next += 1;
                Some(slot)
            }
            _ => None,
        }
    }
}

impl Iterator for Schedule {
    type Item = Action;

    #[inline]
    fn next(&mut self) -> Option<Action> {
        if self.reverse != NONE {
            let k = core::mem::replace(&mut self.reverse, NONE);
            return Some(Action::Reverse(k));
        }
        if self.restore != NONE {
            let k = core::mem::replace(&mut self.restore, NONE);
            return Some(Action::Restore(k));
        }
        if self.store != NONE {
            let k = core::mem::replace(&mut self.store, NONE);
            return Some(Action::Store(k));
        }
        if !self.started {
            self.started = true;
            if self.n == 0 {
                return None;
            }
            self.frames.push((0, self.n));
            return Some(Action::Store(0));
        }
        self.decide()
    }
}

/// `C(c + r, c)`: how many steps `c` snapshots reverse when each step runs forward at most
/// `r` times besides its reversal (Griewank's β), saturating at `usize::MAX`.
pub fn binomial_reach(c: usize, r: usize) -> usize {
    // C(c + i, i) = C(c + i - 1, i - 1) (c + i) / i, exact at every i.
    let mut b: u128 = 1;
    for i in 1..=r as u128 {
        b = b * (c as u128 + i) / i;
        if b >= usize::MAX as u128 {
            return usize::MAX;
        }
    }
    b as usize
}

/// The least `r` with `C(c + r, c) >= n`: how many times a step runs forward (besides its
/// reversal) when `c` snapshots reverse `n` steps.
pub fn repetitions(n: usize, c: usize) -> usize {
    let c = c.max(1);
    let (mut r, mut b): (usize, u128) = (0, 1);
    while b < n as u128 {
        r += 1;
        b = b * (c as u128 + r as u128) / r as u128;
    }
    r
}

/// Where to take the next snapshot in `l >= 2` steps with `c >= 2` snapshots (the first
/// holding the state before the first step): the right part `m..l` is reversed with `c - 1`
/// snapshots and `r` repetitions, the left part `0..m`, run once more to reach `m`, with `c`
/// snapshots and `r - 1`, which `C(c + r, c) = C(c + r - 1, c) + C(c - 1 + r, c - 1)` allows.
///
/// Most intervals are short: with `l <= c + 1`, `r = 1` and the right part takes `c` steps,
/// so the snapshot goes one step in, with no arithmetic (a split happens about once per
/// step, and the binomials' divisions would cost more than a small step).
/// The next most common, `r = 2` (`l <= C(c + 2, 2)`), takes no division either; these two
/// cover all but a few in a thousand splits of a million steps with 32 snapshots.
#[inline]
fn split(l: usize, c: usize) -> usize {
    if l <= c + 1 {
        return 1;
    }
    if c < 1 << 20 && l <= (c + 1) * (c + 2) / 2 {
        return l.saturating_sub(c * (c + 1) / 2).clamp(1, l - 1);
    }
    let r = repetitions(l, c);
    let right = binomial_reach(c - 1, r);
    l.saturating_sub(right).clamp(1, l - 1)
}

/// The state before step `k` of `range` (its `k`-th item).
#[inline(always)]
pub fn step_index<R: Iterator + Clone>(range: &R, k: usize) -> R::Item {
    match range.clone().nth(k) {
        Some(i) => i,
        None => unreachable!("a checkpointed loop's step is within its range"),
    }
}

/// The items of steps `from..to` of `range`.
#[inline(always)]
pub fn step_range<R: Iterator + Clone>(
    range: &R,
    from: usize,
    to: usize,
) -> core::iter::Take<core::iter::Skip<R>> {
    range.clone().skip(from).take(to - from)
}

/// The snapshots of a checkpointed loop's reverse pass: `snapshots` empty slots (at least
/// one), of the type of `state`.
pub fn snapshot_slots<T>(snapshots: usize, state: &Option<T>) -> Vec<Option<T>> {
    let _ = state;
    let mut v = Vec::with_capacity(snapshots.max(1));
    v.resize_with(snapshots.max(1), || None);
    v
}

/// A copy of snapshot `slot` (the schedule stored it before restoring it).
#[inline(always)]
pub fn restore<T: Clone>(slots: &[Option<T>], slot: usize) -> Option<T> {
    match &slots[slot] {
        Some(s) => Some(s.clone()),
        None => unreachable!("the schedule restores only stored snapshots"),
    }
}

/// The state, borrowed, which the schedule has set before it reads it.
#[inline(always)]
pub fn state_ref<T>(s: &Option<T>) -> &T {
    match s {
        Some(s) => s,
        None => unreachable!("the schedule reads the state only after setting it"),
    }
}

/// The state, which the schedule has set before it reads it.
#[inline(always)]
pub fn state<T>(s: Option<T>) -> T {
    match s {
        Some(s) => s,
        None => unreachable!("the schedule reads the state only after setting it"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the schedule on a model where the state is the step it is before, checking every
    /// action's precondition; returns the forward runs per step and the most snapshots held.
    fn simulate(n: usize, s: usize) -> (Vec<usize>, usize) {
        simulate_from(n, s, false)
    }

    /// With `descent`, as the generated code runs it: a forward sweep over every step taking
    /// the descent's snapshots and the state before the last step, then the rest of the
    /// schedule. The forward sweep's runs are not counted (they are the primal's).
    fn simulate_from(n: usize, s: usize, descent: bool) -> (Vec<usize>, usize) {
        let mut state: Option<usize> = None;
        let mut slots: Vec<Option<usize>> = vec![None; s.max(1)];
        let mut runs = vec![0usize; n];
        let mut next_reverse = n;
        let mut held = 0;
        let mut started = false;
        let mut schedule = Schedule::new(n, s);
        if descent {
            let mut d = schedule.descent();
            for k in 0..n {
                if let Some(slot) = d.slot(k) {
                    assert!(slot < s.max(1));
                    slots[slot] = Some(k);
                }
                if k + 1 == n {
                    state = Some(k);
                }
            }
            assert_eq!(d.next, d.stores.len(), "a store the forward sweep missed");
            started = true;
            held = slots.iter().filter(|x| x.is_some()).count();
        }
        for a in schedule {
            match a {
                Action::Store(k) => {
                    assert!(k < s.max(1), "slot {k} of {s}");
                    if !started {
                        assert_eq!(k, 0);
                        state = Some(0);
                        started = true;
                    }
                    slots[k] = Some(state.expect("store of a spent state"));
                }
                Action::Restore(k) => state = Some(slots[k].expect("restore of an empty slot")),
                Action::Advance(from, to) => {
                    assert_eq!(state, Some(from), "advance from elsewhere");
                    assert!(from < to && to <= n);
                    for r in &mut runs[from..to] {
                        *r += 1;
                    }
                    state = Some(to);
                }
                Action::Reverse(k) => {
                    assert_eq!(state, Some(k), "reverse of step {k} from elsewhere");
                    assert_eq!(k + 1, next_reverse, "steps reversed out of order");
                    next_reverse = k;
                    state = None;
                }
            }
            held = held.max(slots.iter().filter(|x| x.is_some()).count());
        }
        assert_eq!(next_reverse, 0, "not every step was reversed");
        (runs, held)
    }

    fn check(n: usize, s: usize) {
        let r = repetitions(n, s);
        for descent in [false, true] {
            let (runs, held) = simulate_from(n, s, descent);
            assert!(held <= s.max(1));
            let most = runs.iter().copied().max().unwrap_or(0);
            assert!(
                most <= r,
                "n {n}, s {s}: a step ran {most} times, bound {r}"
            );
        }
    }

    #[test]
    fn every_step_is_reversed_once_in_order_within_the_bound() {
        for n in 0..=200 {
            for s in 0..=12 {
                check(n, s);
            }
        }
        check(10_000, 1 + 2);
        check(100_000, 32);
        check(1_000_000, 32);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(Schedule::new(0, 4).count(), 0);
        let mut empty = Schedule::new(0, 4);
        assert!(empty.descent().stores.is_empty() && empty.next().is_none());
        // After the descent, one snapshot: the last step first, then each from step 0.
        let mut one = Schedule::new(3, 1);
        assert_eq!(one.descent().stores, [(0, 0)]);
        assert_eq!(
            one.collect::<Vec<_>>(),
            [
                Action::Reverse(2),
                Action::Restore(0),
                Action::Advance(0, 1),
                Action::Reverse(1),
                Action::Restore(0),
                Action::Reverse(0)
            ]
        );
        assert_eq!(
            Schedule::new(1, 4).collect::<Vec<_>>(),
            [Action::Store(0), Action::Reverse(0)]
        );
        // One snapshot: each step is reached from the first state.
        let (runs, held) = simulate(5, 1);
        assert_eq!(runs, [4, 3, 2, 1, 0]);
        assert_eq!(held, 1);
        // As many snapshots as steps: each step runs forward once.
        let (runs, _) = simulate(50, 50);
        assert!(runs[..49].iter().all(|&r| r == 1) && runs[49] == 0);
        let (runs, _) = simulate(50, 500);
        assert!(runs.iter().all(|&r| r <= 1));
    }

    #[test]
    fn the_short_interval_splits_are_the_formula() {
        for c in 2..40 {
            for l in 2..=(c + 1) * (c + 2) / 2 + 5 {
                let r = repetitions(l, c);
                let want = l.saturating_sub(binomial_reach(c - 1, r)).clamp(1, l - 1);
                assert_eq!(split(l, c), want, "l {l}, c {c}");
            }
        }
    }

    #[test]
    fn binomial_bound() {
        assert_eq!(binomial_reach(32, 6), 2_760_681); // C(38, 6)
        assert_eq!(repetitions(1_000_000, 32), 6); // C(37, 5) = 435_897 < 10^6
        assert_eq!(repetitions(1, 1), 0);
        assert_eq!(repetitions(5, 1), 4);
        assert_eq!(binomial_reach(usize::MAX, 3), usize::MAX);
    }

    #[test]
    fn the_schedule_keeps_little() {
        let s = Schedule::new(1_000_000, 32);
        assert!(s.frames.capacity() <= 64);
    }
}
