//! What the scalar and the tensor generators share of a function being written: its text,
//! its variables and the blocks that declare them, the loops around the current statement
//! with the roles they give outer variables, and the bound bookkeeping of branches and loops.
//!
//! The two generators differ in their expressions and in what a variable may hold (the kind
//! `K`: a real, an integer or a tuple for scalars; a tensor of a shape too for tensors), not
//! in how scopes, roles and bounds work; so that logic is written here once, and a fix to it
//! reaches both.

use crate::rng::Rng;

/// How deep blocks nest (`if`, `match`, loops).
const MAX_BLOCK_DEPTH: usize = 3;
/// How deep loops nest.
const MAX_LOOP_DEPTH: usize = 2;

/// `a + b + ..` of terms given as (text safe in leading position, bound): the function's
/// result, its bound the sum of theirs.
pub(crate) fn sum(terms: impl Iterator<Item = (String, f64)>) -> (String, f64) {
    let (texts, bounds): (Vec<String>, Vec<f64>) = terms.unzip();
    (texts.join(" + "), bounds.iter().sum())
}

/// What the shared logic needs to know of a variable's kind.
pub(crate) trait Kind: Clone {
    /// A readable, assignable value (a real, or a tensor), not an integer or a tuple.
    fn is_value(&self) -> bool;
    /// For an integer (a loop index, a counter, `k`): the largest value it takes.
    fn int_max(&self) -> Option<usize>;
}

/// What a loop may do to a mutable variable declared outside it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Role {
    /// Read and written; every write keeps `|value| <= cap` (each element, for a tensor).
    Carried(f64),
    /// Only `+= e` / `-= e` with `|e| <= step`; not read inside the loop.
    Accumulator(f64),
    /// Read, never written.
    ReadOnly,
}

/// An open loop.
pub(crate) struct Frame {
    /// The most times the body runs per entry.
    pub trips: usize,
    pub roles: Vec<(usize, Role)>,
}

#[derive(Clone, Debug)]
pub(crate) struct Var<K> {
    pub name: String,
    pub kind: K,
    /// A parameter of the function (tensor parameters are read as `&Tensor`).
    pub param: bool,
    pub mutable: bool,
    /// A bound on the absolute value (of every element).
    pub bound: f64,
    /// How many loops enclosed the declaration.
    pub loop_depth: usize,
    /// Read at least once (the result prefers unread variables).
    pub used: bool,
    /// For an accumulator: the most its pending `+=`/`-=` steps can add.
    pub growth: f64,
    /// Never shadowed.
    ///
    /// Formerly avoided, now generated (fixed macro bug, `tests/regressions.rs`, `slice_element_read_twice`): a `let`
    /// bound to a bare slice element `v[0]`, then shadowed while `v[0]` is read again,
    /// fails to compile (E0716, temporary value dropped while borrowed).
    pub pinned: bool,
    /// Written in a loop (carried or accumulated): the result reads it.
    ///
    /// Every loop-written variable visible at the end reaches the result, and every unused
    /// local of a loop body or branch is added to a sink accumulator that does, so that finite
    /// differences see as much of the program as they can. This is for coverage only:
    /// formerly avoided shape, now compiled (fixed macro bug, `tests/regressions.rs`,
    /// `dead_value_in_loop`): a value computed in a loop and never used afterwards
    /// (`m += y * x;` with `m` unused) failed to compile (E0596); programs without the sink
    /// compile and pass (300 at each of two seeds).
    pub accumulated: bool,
    /// A loop counter (`let mut c = 0; while c < n { ..; c += 1; }`): written by its loop,
    /// so a `let`-bound closure may not capture it.
    pub counter: bool,
}

/// The function being written: its text so far, its variables, and the blocks and loops
/// open at the current statement.
pub(crate) struct Scope<K> {
    pub out: String,
    pub indent: usize,
    pub vars: Vec<Var<K>>,
    /// Variable ids declared in each open block.
    pub scopes: Vec<Vec<usize>>,
    pub frames: Vec<Frame>,
    pub block_depth: usize,
    fresh: usize,
    /// Statements still allowed, so that programs stay small enough to compile quickly.
    pub budget: usize,
    /// Writing the body of a `let`-bound closure: mutable variables and counters are not
    /// visible (a closure that borrows one, called after it is written, does not compile).
    pub closure_mode: bool,
}

impl<K: Kind> Scope<K> {
    /// An empty body, inside the function's own block.
    pub fn new() -> Self {
        Scope {
            out: String::new(),
            indent: 1,
            vars: Vec::new(),
            scopes: vec![Vec::new()],
            frames: Vec::new(),
            block_depth: 0,
            fresh: 0,
            budget: 0,
            closure_mode: false,
        }
    }

    /// Takes a statement from the budget; `false` once it is spent (only `let`s follow).
    pub fn spend(&mut self) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        true
    }

    /// Whether a block (`if`, `match`, a loop) may open here.
    pub fn can_nest(&self) -> bool {
        self.block_depth < MAX_BLOCK_DEPTH
    }

    /// Whether a loop may open here.
    pub fn can_loop(&self) -> bool {
        self.can_nest() && self.frames.len() < MAX_LOOP_DEPTH
    }

    pub fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Opens a block: a scope whose declarations end with it.
    pub fn open(&mut self, header: &str) {
        self.line(header);
        self.indent += 1;
        self.block_depth += 1;
        self.scopes.push(Vec::new());
    }

    pub fn close(&mut self, footer: &str) {
        self.scopes.pop();
        self.block_depth -= 1;
        self.indent -= 1;
        self.line(footer);
    }

    /// A line one level out, between two blocks that share the indentation (`} else {`).
    pub fn between_blocks(&mut self, text: &str) {
        self.indent -= 1;
        self.line(text);
        self.indent += 1;
    }

    /// The function's result: its tail expression, or (sometimes) a `return`.
    pub fn tail(&mut self, rng: &mut Rng, text: &str) {
        if rng.chance(0.1) {
            self.line(&format!("return {text};"));
        } else {
            self.line(text);
        }
    }

    pub fn declare(&mut self, name: &str, kind: K, mutable: bool, bound: f64) -> usize {
        let id = self.vars.len();
        self.vars.push(Var {
            name: name.to_string(),
            kind,
            param: false,
            mutable,
            bound,
            loop_depth: self.frames.len(),
            used: false,
            growth: 0.0,
            pinned: false,
            accumulated: false,
            counter: false,
        });
        self.scopes.last_mut().expect("a scope").push(id);
        id
    }

    /// A `while` counter: declared in the loop's block, but as if outside every loop, since
    /// an integer needs no role in it.
    pub fn declare_counter(&mut self, name: &str, kind: K) {
        let id = self.declare(name, kind, false, 0.0);
        self.vars[id].loop_depth = 0;
        self.vars[id].counter = true;
    }

    /// At the top of the body: `let mut sN: f64 = 0.0;`, the accumulator that unused locals
    /// of loop bodies and branches are added to, so that they reach the result.
    pub fn declare_sink(&mut self, real: K) -> usize {
        let name = self.fresh_name("s");
        self.line(&format!("let mut {name}: f64 = 0.0;"));
        let id = self.declare(&name, real, true, 0.0);
        self.vars[id].accumulated = true;
        id
    }

    /// `sink += text` for a read of `bound`: the sink's bound grows by it outside loops, and
    /// by one per run of the loops around it inside them (`text` is within 1 there).
    pub fn add_to_sink(&mut self, sink: usize, text: &str, bound: f64) {
        let name = self.vars[sink].name.clone();
        self.line(&format!("{name} += {text};"));
        if self.frames.is_empty() {
            self.vars[sink].bound += bound;
        } else {
            self.grow(sink, 1.0);
        }
    }

    pub fn fresh_name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    /// The name for a new binding: fresh, or (sometimes) shadowing one of `candidates`.
    pub fn binding_name(&mut self, rng: &mut Rng, prefix: &str, candidates: &[usize]) -> String {
        if !candidates.is_empty() && rng.chance(0.2) {
            let id = *rng.pick(candidates);
            return self.vars[id].name.clone();
        }
        self.fresh_name(prefix)
    }

    /// Ids of the variables a name reaches here (the innermost declaration of each name).
    pub fn visible(&self) -> Vec<usize> {
        let mut seen: Vec<&str> = Vec::new();
        let mut ids = Vec::new();
        for scope in self.scopes.iter().rev() {
            for &id in scope.iter().rev() {
                let name = self.vars[id].name.as_str();
                if !seen.contains(&name) {
                    seen.push(name);
                    let v = &self.vars[id];
                    if !(self.closure_mode && (v.mutable || v.counter)) {
                        ids.push(id);
                    }
                }
            }
        }
        ids
    }

    /// The role the innermost loop gives a variable; `None` when it was declared inside it.
    pub fn role(&self, id: usize) -> Option<Role> {
        if self.vars[id].loop_depth >= self.frames.len() {
            return None;
        }
        let frame = self.frames.last().expect("a loop");
        Some(
            frame
                .roles
                .iter()
                .find(|(v, _)| *v == id)
                .map_or(Role::ReadOnly, |(_, r)| *r),
        )
    }

    /// The bound of a read of a value, or `None` where it may not be read (an accumulator).
    pub fn read_bound(&self, id: usize) -> Option<f64> {
        match self.role(id) {
            Some(Role::Accumulator(_)) => None,
            Some(Role::Carried(cap)) => Some(cap),
            _ => Some(self.vars[id].bound),
        }
    }

    /// Visible variables of a kind `of` accepts that may be read here, with the bounds of
    /// their reads.
    pub fn readable(&self, of: impl Fn(&K) -> bool) -> Vec<(usize, f64)> {
        self.visible()
            .into_iter()
            .filter(|&id| of(&self.vars[id].kind))
            .filter_map(|id| self.read_bound(id).map(|b| (id, b)))
            .collect()
    }

    /// Visible integers.
    pub fn ints(&self) -> Vec<usize> {
        self.visible()
            .into_iter()
            .filter(|&id| self.vars[id].kind.int_max().is_some())
            .collect()
    }

    /// Mutable values that the innermost loop (if any) lets this statement write.
    pub fn assignable(&self) -> Vec<usize> {
        self.visible()
            .into_iter()
            .filter(|&id| self.vars[id].mutable && self.vars[id].kind.is_value())
            .filter(|&id| self.role(id) != Some(Role::ReadOnly))
            .collect()
    }

    /// Values of the current block not read yet, to be added to the sink, with the bound of
    /// a read here (an accumulator's own bound: the sink reads it after its last step).
    pub fn unread_locals(&self) -> Vec<(usize, f64)> {
        let scope = self.scopes.last().cloned().unwrap_or_default();
        scope
            .into_iter()
            .filter(|&id| self.vars[id].kind.is_value() && !self.vars[id].used)
            .map(|id| (id, self.read_bound(id).unwrap_or(self.vars[id].bound)))
            .collect()
    }

    /// One of `vars`, preferring those not read yet, so that more of the dataflow reaches
    /// the result.
    pub fn pick_unread(&self, rng: &mut Rng, vars: &[(usize, f64)]) -> (usize, f64) {
        let w: Vec<f64> = vars
            .iter()
            .map(|(id, _)| if self.vars[*id].used { 1.0 } else { 3.0 })
            .collect();
        vars[rng.weighted(&w)]
    }

    /// An integer in `0..=max_index`, for a callee's `usize` parameter.
    pub fn small_int(&self, rng: &mut Rng, max_index: usize) -> String {
        let ints = self.ints();
        if ints.is_empty() || rng.chance(0.3) {
            return rng.below(max_index + 1).to_string();
        }
        let id = *rng.pick(&ints);
        let max = self.vars[id].kind.int_max().expect("an integer");
        let name = self.vars[id].name.clone();
        if max <= max_index {
            name
        } else {
            format!("{name} % {}", max_index + 1)
        }
    }

    /// An accumulator may gain `step` more per run of the loops around it.
    pub fn grow(&mut self, id: usize, step: f64) {
        let mult: usize = self.frames[self.vars[id].loop_depth..]
            .iter()
            .map(|f| f.trips)
            .product();
        self.vars[id].growth += mult as f64 * step;
    }

    /// Bounds of all variables, to join branches (each branch starts from the same state).
    pub fn snapshot(&self) -> Vec<f64> {
        self.vars.iter().map(|v| v.bound).collect()
    }

    pub fn restore(&mut self, s: &[f64]) {
        for (v, b) in self.vars.iter_mut().zip(s) {
            v.bound = *b;
        }
    }

    /// The bounds of the variables that existed at `before`, as a branch ends.
    pub fn branch_end(&self, before: &[f64]) -> Vec<f64> {
        self.snapshot()[..before.len()].to_vec()
    }

    /// After branches that started from `before` and ended in `ends`: the largest bound
    /// (the state before counts too unless one of the branches always runs).
    pub fn join(&mut self, before: &[f64], ends: &[Vec<f64>], exhaustive: bool) {
        for i in 0..before.len() {
            let mut b = if exhaustive { 0.0 } else { before[i] };
            for e in ends {
                b = b.max(e[i]);
            }
            self.vars[i].bound = b;
        }
    }

    /// Closes a loop: carried variables end within their cap (or, with `keep_entry`, within
    /// the larger of their cap and their bound on entry), accumulators grew by their steps.
    pub fn exit_loop(&mut self, keep_entry: bool) {
        let frame = self.frames.pop().expect("a loop");
        let depth = self.frames.len();
        for (id, role) in frame.roles {
            if self.vars[id].loop_depth != depth {
                continue;
            }
            let v = &mut self.vars[id];
            match role {
                Role::Carried(cap) if keep_entry => v.bound = v.bound.max(cap),
                Role::Carried(cap) => v.bound = cap,
                Role::Accumulator(_) => {
                    v.bound += v.growth;
                    v.growth = 0.0;
                }
                Role::ReadOnly => {}
            }
        }
    }
}

/// A generator of statements. What the two generators share of statements and blocks (the
/// budget, the branches of `if` and `match`, a loop's frame) is written here, from each
/// one's own statements, conditions, sink and loop roles.
pub(crate) trait Blocks {
    type VarKind: Kind;
    /// Whether the bounds after an `if` with an `else`, or after a `match`, are the largest
    /// of its arms' alone; `false` counts the bounds before it too (looser, never wrong).
    const TIGHT_JOIN: bool;
    /// Whether a carried variable ends a loop within the larger of its cap and its bound on
    /// entry (looser), rather than within its cap.
    const KEEP_ENTRY: bool;

    fn scope(&mut self) -> &mut Scope<Self::VarKind>;
    fn rng(&mut self) -> &mut Rng;
    /// `let name = value;`: the one statement left once the budget is spent.
    fn let_stmt(&mut self);
    /// A statement of any kind: blocks only where `can_nest`, loops only where `can_loop`.
    fn any_statement(&mut self, can_nest: bool, can_loop: bool);
    /// A condition of an `if` or a loop.
    fn condition(&mut self, depth: usize) -> String;
    /// Adds the current block's unread values to the sink.
    fn sink_unused(&mut self);
    /// Gives every visible mutable value declared outside the new loop its role in it.
    fn enter_loop(&mut self, trips: usize);

    /// One arm of a `match` statement, its pattern `pat`: by default a block of statements.
    fn match_arm(&mut self, pat: &str) {
        self.block_arm(pat);
    }

    /// The next statement: any kind the budget and the nesting allow, or (once the budget is
    /// spent) a `let`.
    fn statement(&mut self) {
        if !self.scope().spend() {
            self.let_stmt();
            return;
        }
        let can_nest = self.scope().can_nest();
        let can_loop = self.scope().can_loop();
        self.any_statement(can_nest, can_loop);
    }

    /// Between `min` and `max` statements.
    fn body(&mut self, min: usize, max: usize) {
        let n = self.rng().between(min, max);
        for _ in 0..n {
            self.statement();
        }
    }

    /// Opens a loop that runs at most `trips` times per entry.
    fn open_loop(&mut self, trips: usize, header: &str) {
        self.enter_loop(trips);
        self.scope().open(header);
    }

    /// A loop's body of `min..=max` statements, a `while` counter's step at its end, and
    /// the loop's end: the bounds its roles allow after it.
    fn close_loop(&mut self, min: usize, max: usize, counter: Option<&str>) {
        self.body(min, max);
        self.sink_unused();
        let scope = self.scope();
        if let Some(counter) = counter {
            scope.line(&format!("{counter} += 1;"));
        }
        scope.close("}");
        scope.exit_loop(Self::KEEP_ENTRY);
    }

    /// `pat => { .. }`: a `match` arm that is a block of statements.
    fn block_arm(&mut self, pat: &str) {
        let scope = self.scope();
        scope.line(&format!("{pat} => {{"));
        scope.indent += 1;
        scope.scopes.push(Vec::new());
        self.body(1, 2);
        self.sink_unused();
        let scope = self.scope();
        scope.scopes.pop();
        scope.indent -= 1;
        scope.line("}");
    }

    /// `if c { .. }`, with up to two more arms, `else if` or (last) `else`.
    fn if_stmt(&mut self) {
        let before = self.scope().snapshot();
        let mut ends = Vec::new();
        let arms = self.rng().between(1, 3);
        let mut exhaustive = false;
        for arm in 0..arms {
            let last = arm + 1 == arms && arm > 0 && self.rng().chance(0.7);
            let header = if arm == 0 {
                format!("if {} {{", self.condition(1))
            } else if last {
                exhaustive = true;
                "} else {".to_string()
            } else {
                format!("}} else if {} {{", self.condition(1))
            };
            let scope = self.scope();
            if arm == 0 {
                scope.open(&header);
            } else {
                scope.between_blocks(&header);
                scope.scopes.push(Vec::new());
            }
            scope.restore(&before);
            self.body(1, 3);
            self.sink_unused();
            let scope = self.scope();
            ends.push(scope.branch_end(&before));
            scope.scopes.pop();
        }
        let scope = self.scope();
        scope.scopes.push(Vec::new());
        scope.close("}");
        scope.join(&before, &ends, exhaustive && Self::TIGHT_JOIN);
    }

    /// `match k { 0 => .., 1 | 2 => .., _ => .. }`.
    fn match_stmt(&mut self) {
        let before = self.scope().snapshot();
        let mut ends = Vec::new();
        self.scope().open("match k {");
        for pat in ["0", "1 | 2", "_"] {
            self.scope().restore(&before);
            self.match_arm(pat);
            ends.push(self.scope().branch_end(&before));
        }
        let scope = self.scope();
        scope.close("}");
        scope.join(&before, &ends, Self::TIGHT_JOIN);
    }
}
