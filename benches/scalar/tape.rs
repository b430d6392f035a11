//! The runtime-tape baseline: a Wengert-list reverse-mode tape over f64, and the cases
//! S1..S7 written on it.
//!
//! The tape is what the popular Rust tape crates do: one `Vec` of nodes behind a
//! `RefCell`, each node holding up to two parent indices and the local partials computed
//! when the operation is recorded; `Var` is a copyable handle (tape, index, value) with
//! the arithmetic operators; `backward` makes one reverse sweep over the list. Constants
//! mixed into an operation (`x * 5.0`) record no node of their own.

use std::cell::RefCell;
use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

use super::cases::S5_LINKS;

/// One recorded operation: the adjoint of this node flows to `parents[j]` times
/// `partials[j]`. Unused slots point at the sink node 0 with partial 0.
#[derive(Clone, Copy)]
struct Node {
    parents: [usize; 2],
    partials: [f64; 2],
}

/// Index of the sink node that unused parent slots point to; its adjoint is never read.
const SINK: usize = 0;

/// A Wengert list of operations on f64.
pub struct Tape {
    nodes: RefCell<Vec<Node>>,
}

impl Tape {
    pub fn new() -> Self {
        let sink = Node {
            parents: [SINK, SINK],
            partials: [0.0, 0.0],
        };
        Tape {
            nodes: RefCell::new(vec![sink]),
        }
    }

    /// An input: a leaf whose adjoint `backward` reports.
    pub fn var(&self, value: f64) -> Var<'_> {
        self.push(value, [SINK, SINK], [0.0, 0.0])
    }

    /// A constant as a leaf, for accumulators that start at a number (`let mut sum = 0`).
    pub fn constant(&self, value: f64) -> Var<'_> {
        self.var(value)
    }

    fn push(&self, value: f64, parents: [usize; 2], partials: [f64; 2]) -> Var<'_> {
        let mut nodes = self.nodes.borrow_mut();
        let index = nodes.len();
        nodes.push(Node { parents, partials });
        Var {
            tape: self,
            index,
            value,
        }
    }
}

impl Default for Tape {
    fn default() -> Self {
        Self::new()
    }
}

/// The adjoints of every node after one reverse sweep.
pub struct Grads(Vec<f64>);

impl Grads {
    /// d(output)/d(v).
    pub fn wrt(&self, v: Var<'_>) -> f64 {
        self.0[v.index]
    }
}

/// A value recorded on a tape.
#[derive(Clone, Copy)]
pub struct Var<'t> {
    tape: &'t Tape,
    index: usize,
    value: f64,
}

impl<'t> Var<'t> {
    pub fn value(self) -> f64 {
        self.value
    }

    /// Reverse sweep from this node: seed its adjoint with 1 and visit the list backwards.
    pub fn backward(self) -> Grads {
        let nodes = self.tape.nodes.borrow();
        let mut adj = vec![0.0; nodes.len()];
        adj[self.index] = 1.0;
        for i in (1..=self.index).rev() {
            let a = adj[i];
            let node = nodes[i];
            adj[node.parents[0]] += node.partials[0] * a;
            adj[node.parents[1]] += node.partials[1] * a;
        }
        Grads(adj)
    }

    fn unary(self, value: f64, partial: f64) -> Var<'t> {
        self.tape.push(value, [self.index, SINK], [partial, 0.0])
    }

    fn binary(self, other: Var<'t>, value: f64, partials: [f64; 2]) -> Var<'t> {
        debug_assert!(
            std::ptr::eq(self.tape, other.tape),
            "vars from different tapes"
        );
        self.tape.push(value, [self.index, other.index], partials)
    }

    pub fn exp(self) -> Var<'t> {
        let y = self.value.exp();
        self.unary(y, y)
    }

    pub fn ln(self) -> Var<'t> {
        self.unary(self.value.ln(), 1.0 / self.value)
    }

    pub fn sqrt(self) -> Var<'t> {
        let y = self.value.sqrt();
        self.unary(y, 0.5 / y)
    }

    pub fn sin(self) -> Var<'t> {
        let (s, c) = self.value.sin_cos();
        self.unary(s, c)
    }

    pub fn cos(self) -> Var<'t> {
        let (s, c) = self.value.sin_cos();
        self.unary(c, -s)
    }

    pub fn powi(self, n: i32) -> Var<'t> {
        let partial = if n == 0 {
            0.0
        } else {
            f64::from(n) * self.value.powi(n - 1)
        };
        self.unary(self.value.powi(n), partial)
    }
}

impl<'t> Neg for Var<'t> {
    type Output = Var<'t>;
    fn neg(self) -> Var<'t> {
        self.unary(-self.value, -1.0)
    }
}

impl<'t> Add for Var<'t> {
    type Output = Var<'t>;
    fn add(self, rhs: Var<'t>) -> Var<'t> {
        self.binary(rhs, self.value + rhs.value, [1.0, 1.0])
    }
}

impl<'t> Sub for Var<'t> {
    type Output = Var<'t>;
    fn sub(self, rhs: Var<'t>) -> Var<'t> {
        self.binary(rhs, self.value - rhs.value, [1.0, -1.0])
    }
}

impl<'t> Mul for Var<'t> {
    type Output = Var<'t>;
    fn mul(self, rhs: Var<'t>) -> Var<'t> {
        self.binary(rhs, self.value * rhs.value, [rhs.value, self.value])
    }
}

impl<'t> Div for Var<'t> {
    type Output = Var<'t>;
    fn div(self, rhs: Var<'t>) -> Var<'t> {
        let inv = 1.0 / rhs.value;
        let y = self.value * inv;
        self.binary(rhs, y, [inv, -y * inv])
    }
}

impl<'t> Add<f64> for Var<'t> {
    type Output = Var<'t>;
    fn add(self, rhs: f64) -> Var<'t> {
        self.unary(self.value + rhs, 1.0)
    }
}

impl<'t> Sub<f64> for Var<'t> {
    type Output = Var<'t>;
    fn sub(self, rhs: f64) -> Var<'t> {
        self.unary(self.value - rhs, 1.0)
    }
}

impl<'t> Mul<f64> for Var<'t> {
    type Output = Var<'t>;
    fn mul(self, rhs: f64) -> Var<'t> {
        self.unary(self.value * rhs, rhs)
    }
}

impl<'t> Add<Var<'t>> for f64 {
    type Output = Var<'t>;
    fn add(self, rhs: Var<'t>) -> Var<'t> {
        rhs.unary(self + rhs.value, 1.0)
    }
}

impl<'t> Sub<Var<'t>> for f64 {
    type Output = Var<'t>;
    fn sub(self, rhs: Var<'t>) -> Var<'t> {
        rhs.unary(self - rhs.value, -1.0)
    }
}

impl<'t> Mul<Var<'t>> for f64 {
    type Output = Var<'t>;
    fn mul(self, rhs: Var<'t>) -> Var<'t> {
        rhs.unary(self * rhs.value, self)
    }
}

impl<'t> Div<Var<'t>> for f64 {
    type Output = Var<'t>;
    fn div(self, rhs: Var<'t>) -> Var<'t> {
        let y = self / rhs.value;
        rhs.unary(y, -y / rhs.value)
    }
}

impl<'t> AddAssign for Var<'t> {
    fn add_assign(&mut self, rhs: Var<'t>) {
        *self = *self + rhs;
    }
}

// ---------------------------------------------------------------------------------------
// The cases on the tape, each written like its primal in `cases.rs`.

pub fn s1_scale_tape(a: f64) -> (f64, f64) {
    let tape = Tape::new();
    let a = tape.var(a);
    let y = a * 5.0;
    let grads = y.backward();
    (y.value(), grads.wrt(a))
}

pub fn s2_rosenbrock_tape(x: f64, y: f64) -> (f64, (f64, f64)) {
    let tape = Tape::new();
    let (x, y) = (tape.var(x), tape.var(y));
    let f = (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2);
    let grads = f.backward();
    (f.value(), (grads.wrt(x), grads.wrt(y)))
}

pub fn s3_rosenbrock_tape(x: &[f64]) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let x: Vec<Var<'_>> = x.iter().map(|&v| tape.var(v)).collect();
    let n = x.len();
    let mut sum = tape.constant(0.0);
    for i in 1..n {
        sum += (1.0 - x[i - 1]).powi(2) + 100.0 * (x[i] - x[i - 1].powi(2)).powi(2);
    }
    let grads = sum.backward();
    (sum.value(), x.iter().map(|&v| grads.wrt(v)).collect())
}

fn s4_erf_tape(x: Var<'_>) -> Var<'_> {
    let z = if x.value() < 0.0 { -x } else { x };
    let t = 1.0 / (1.0 + 0.3275911 * z);
    let poly = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let e = 1.0 - poly * (-(z * z)).exp();
    if x.value() < 0.0 { -e } else { e }
}

fn s4_norm_cdf_tape(x: Var<'_>) -> Var<'_> {
    0.5 * (1.0 + s4_erf_tape(x * std::f64::consts::FRAC_1_SQRT_2))
}

pub fn s4_black_scholes_tape(
    s: f64,
    k: f64,
    r: f64,
    sigma: f64,
    t: f64,
) -> (f64, (f64, f64, f64, f64, f64)) {
    let tape = Tape::new();
    let (s, k, r, sigma, t) = (
        tape.var(s),
        tape.var(k),
        tape.var(r),
        tape.var(sigma),
        tape.var(t),
    );
    let vol = sigma * t.sqrt();
    let d1 = ((s / k).ln() + (r + 0.5 * sigma * sigma) * t) / vol;
    let d2 = d1 - vol;
    let c = s * s4_norm_cdf_tape(d1) - k * (-r * t).exp() * s4_norm_cdf_tape(d2);
    let g = c.backward();
    (
        c.value(),
        (g.wrt(s), g.wrt(k), g.wrt(r), g.wrt(sigma), g.wrt(t)),
    )
}

pub fn s5_arm_tape(theta: &[f64; 6]) -> (f64, [f64; 6]) {
    let tape = Tape::new();
    let theta = theta.map(|v| tape.var(v));
    let mut phi = tape.constant(0.0);
    let mut x = tape.constant(0.0);
    let mut y = tape.constant(0.0);
    for k in 0..6 {
        phi += theta[k];
        x += S5_LINKS[k] * phi.cos();
        y += S5_LINKS[k] * phi.sin();
    }
    let loss = (x - 1.5).powi(2) + (y - 1.2).powi(2);
    let grads = loss.backward();
    (loss.value(), theta.map(|v| grads.wrt(v)))
}

pub fn s6_dot_loss_tape(w: &[f64], x: &[f64], y: f64) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let w: Vec<Var<'_>> = w.iter().map(|&v| tape.var(v)).collect();
    let dot = w
        .iter()
        .zip(x)
        .fold(tape.constant(0.0), |sum, (&a, &b)| sum + a * b);
    let loss = (dot - y).powi(2);
    let grads = loss.backward();
    (loss.value(), w.iter().map(|&v| grads.wrt(v)).collect())
}

pub fn s7_heat_tape(u0: &[f64], k: f64, steps: usize) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let u0: Vec<Var<'_>> = u0.iter().map(|&v| tape.var(v)).collect();
    let n = u0.len();
    let mut c = u0.clone();
    for _ in 0..steps {
        // The end cells are carried over as they are: a handle copy, no node.
        let mut next = c.clone();
        for i in 1..n - 1 {
            next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]);
        }
        c = next;
    }
    let mut s = tape.constant(0.0);
    for (i, &ci) in c.iter().enumerate() {
        s += (i as f64 + 1.0) * ci * ci;
    }
    let grads = s.backward();
    (s.value(), u0.iter().map(|&v| grads.wrt(v)).collect())
}

pub fn s8_oscillator_tape(k: f64, c: f64, n: usize) -> (f64, (f64, f64)) {
    let tape = Tape::new();
    let (kv, cv) = (tape.var(k), tape.var(c));
    let h = 10.0 / n as f64;
    let (mut x, mut v) = (tape.constant(1.0), tape.constant(0.0));
    for _ in 0..n {
        let a = -kv * x - cv * v;
        x += h * v;
        v += h * a;
    }
    let out = x + 0.5 * v;
    let grads = out.backward();
    (out.value(), (grads.wrt(kv), grads.wrt(cv)))
}
