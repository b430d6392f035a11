//! What the adjoint needs: which primal values each statement's reverse reads (whole, or
//! only their shape), which adjoints it adds to, what a branch or loop body must keep for
//! its reverse, what a loop may recompute instead, and which loops `_grad` may fuse.

use crate::ir::*;
use crate::pairs::Pairs;
use std::cell::RefCell;
use std::collections::HashMap;

/// How much of a value the reverse sweep reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Only its shape (linear rules).
    Shape,
    /// Only a zero of its layout, where its adjoint starts (see the runtime's `zeros`).
    Zeros,
    /// The value itself.
    Value,
    /// The pullback of the call that made it.
    Pullback,
}

/// Values needed, each once with the larger form.
#[derive(Clone, Debug, Default)]
pub struct Needs(pub Vec<(VarId, Form)>);

impl Needs {
    pub fn add(&mut self, v: VarId, form: Form) {
        let pullback = form == Form::Pullback;
        match self
            .0
            .iter_mut()
            .find(|(w, f)| *w == v && (*f == Form::Pullback) == pullback)
        {
            // Two different partial needs are met by the value.
            Some((_, f)) => {
                if *f != form {
                    *f = Form::Value;
                }
            }
            None => self.0.push((v, form)),
        }
    }

    fn add_operand(&mut self, o: &Operand, form: Form) {
        if let Operand::Var(v) = o {
            self.add(*v, form);
        }
    }

    fn extend(&mut self, other: Needs) {
        for (v, f) in other.0 {
            self.add(v, f);
        }
    }
}

pub struct Analysis<'a> {
    pub func: &'a Func,
    /// Memoized `block_needs` and `loop_saved`, by block: each nested block is analysed
    /// once, not once per enclosing level.
    needs: RefCell<HashMap<*const Block, Needs>>,
    saved: RefCell<HashMap<*const Block, (Needs, Vec<VarId>)>>,
    /// Calls whose pullback would outlive a local it borrows: the reverse sweep calls the
    /// callee's `_vjp` again from the saved arguments instead of keeping the pullback.
    pub recalled: Vec<VarId>,
    /// `sin x` and `cos x` computed together (see `pairs`).
    pub pairs: Pairs,
    /// Memoized [`reached`], by value.
    reached: RefCell<Option<Vec<bool>>>,
}

impl<'a> Analysis<'a> {
    pub fn new(func: &'a Func) -> Self {
        Analysis {
            func,
            needs: RefCell::default(),
            saved: RefCell::default(),
            recalled: Vec::new(),
            pairs: Pairs::of(func),
            reached: RefCell::default(),
        }
    }
}

impl Analysis<'_> {
    fn active(&self, v: VarId) -> bool {
        self.func.vars[v].active
    }

    fn operand_active(&self, o: &Operand) -> bool {
        matches!(o, Operand::Var(v) if self.active(*v))
    }

    fn is_param(&self, v: VarId) -> bool {
        self.func.vars[v].param.is_some()
    }

    /// Whether a write makes a new version of `v`.
    fn written(&self, v: VarId) -> bool {
        self.func_lets()
            .any(|(_, op)| matches!(op, Op::Write { base, .. } if *base == v))
    }

    /// Whether the reverse sweep surely gives `v` an adjoint before it reaches `v`'s
    /// definition (false where it may not: `v` is dead, or read only by what gets none).
    fn reached(&self, v: VarId) -> bool {
        self.reached
            .borrow_mut()
            .get_or_insert_with(|| reached(self.func))[v]
    }

    /// Values a block defines directly (not inside its nested blocks).
    pub fn defs(&self, block: &Block) -> Vec<VarId> {
        let mut out = Vec::new();
        for s in &block.stmts {
            match s {
                Stmt::Let { var, .. } => out.push(*var),
                Stmt::If { outs, record, .. } | Stmt::Match { outs, record, .. } => {
                    out.extend(outs.iter().map(|p| p.out));
                    out.push(*record);
                }
                Stmt::For { carried, .. } => out.extend(carried.iter().map(|c| c.out)),
                Stmt::While {
                    carried, record, ..
                } => {
                    out.extend(carried.iter().map(|c| c.out));
                    out.push(*record);
                }
                Stmt::Effect { .. } => {}
            }
        }
        out
    }

    /// Every value defined anywhere inside a statement.
    pub fn defined_inside(&self, s: &Stmt, out: &mut Vec<VarId>) {
        let block = |b: &Block, out: &mut Vec<VarId>| {
            for s in &b.stmts {
                self.defined_inside(s, out);
            }
        };
        match s {
            Stmt::Let { var, .. } => out.push(*var),
            Stmt::If {
                arms, outs, record, ..
            } => {
                arms.iter().for_each(|a| block(a, out));
                out.extend(outs.iter().map(|p| p.out));
                out.push(*record);
            }
            Stmt::Match {
                arms, outs, record, ..
            } => {
                for a in arms {
                    out.extend(&a.binds);
                    block(&a.body, out);
                }
                out.extend(outs.iter().map(|p| p.out));
                out.push(*record);
            }
            Stmt::For {
                index,
                body,
                carried,
                ..
            } => {
                out.extend(index);
                block(body, out);
                out.extend(carried.iter().flat_map(|c| [c.inner, c.out]));
            }
            Stmt::While {
                cond_block,
                body,
                carried,
                record,
                ..
            } => {
                block(cond_block, out);
                block(body, out);
                out.extend(carried.iter().flat_map(|c| [c.inner, c.out]));
                out.push(*record);
            }
            Stmt::Effect { .. } => {}
        }
    }

    /// The active inputs whose adjoints a `let` adds to.
    pub fn let_targets(&self, op: &Op) -> Vec<VarId> {
        let vars: Vec<VarId> = match op {
            Op::Use(o) => o.var().into_iter().collect(),
            Op::Opaque { .. } => vec![],
            Op::Prim { args, .. } => args.iter().filter_map(Operand::var).collect(),
            Op::Project { base, .. } => vec![*base],
            Op::Borrow(v) | Op::Deref(v) => vec![*v],
            Op::Build { parts, .. } => parts.iter().filter_map(Operand::var).collect(),
            Op::Call { args, .. } => args.iter().filter_map(|a| a.operand.var()).collect(),
            Op::Write { base, value, .. } => std::iter::once(*base).chain(value.var()).collect(),
        };
        vars.into_iter().filter(|v| self.active(*v)).collect()
    }

    /// Every value whose adjoint receives a contribution inside a statement.
    pub fn targets(&self, s: &Stmt, out: &mut Vec<VarId>) {
        let block = |b: &Block, out: &mut Vec<VarId>| {
            for s in &b.stmts {
                self.targets(s, out);
            }
        };
        let phis = |outs: &[Phi], out: &mut Vec<VarId>| {
            for p in outs.iter().filter(|p| self.active(p.out)) {
                out.extend(
                    p.sources
                        .iter()
                        .filter_map(Operand::var)
                        .filter(|v| self.active(*v)),
                );
            }
        };
        match s {
            Stmt::Let { var, op } if self.active(*var) => out.extend(self.let_targets(op)),
            Stmt::Let { .. } | Stmt::Effect { .. } => {}
            Stmt::If { arms, outs, .. } => {
                arms.iter().for_each(|a| block(a, out));
                phis(outs, out);
            }
            Stmt::Match { arms, outs, .. } => {
                arms.iter().for_each(|a| block(&a.body, out));
                phis(outs, out);
            }
            Stmt::For { body, carried, .. } | Stmt::While { body, carried, .. } => {
                block(body, out);
                for c in carried.iter().filter(|c| self.active(c.out)) {
                    out.extend(c.init.var().filter(|v| self.active(*v)));
                    out.extend(c.next.var().filter(|v| self.active(*v)));
                }
            }
        }
    }

    /// Values defined outside `s` whose adjoints `s`'s reverse adds to: they are
    /// initialized before it.
    pub fn outer_targets(&self, s: &Stmt) -> Vec<VarId> {
        let mut inside = Vec::new();
        self.defined_inside(s, &mut inside);
        let mut t = Vec::new();
        self.targets(s, &mut t);
        let mut out: Vec<VarId> = Vec::new();
        for v in t {
            if !inside.contains(&v) && !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }

    /// The outer targets whose adjoints must exist before `s`'s reverse runs: all but a
    /// loop's carried initial values that receive nothing but the final carried adjoint,
    /// after the loop (which then starts them, instead of adding to zeros).
    pub fn pre_targets(&self, s: &Stmt) -> Vec<VarId> {
        let mut out = self.outer_targets(s);
        if let Stmt::For { body, carried, .. } | Stmt::While { body, carried, .. } = s {
            let mut inner = Vec::new();
            body.stmts.iter().for_each(|s| self.targets(s, &mut inner));
            for i in carried.iter().filter_map(|c| c.init.var()) {
                let reached = inner.contains(&i) || carried.iter().any(|c| c.next.var() == Some(i));
                if !reached {
                    out.retain(|v| *v != i);
                }
            }
        }
        out
    }

    /// Whether a loop may move `v` into its carried state instead of cloning it: a local
    /// read once in the whole function (by that loop), whose value no reverse reads.
    pub fn movable_init(&self, v: VarId) -> bool {
        let info = &self.func.vars[v];
        if info.param.is_some() || info.is_ref {
            return false;
        }
        let mut reads = Vec::new();
        self.func
            .body
            .stmts
            .iter()
            .for_each(|s| stmt_uses(s, &mut reads));
        reads.extend(self.func.ret.var());
        if reads.iter().filter(|r| **r == v).count() != 1 {
            return false;
        }
        fn needed(an: &Analysis, b: &Block, v: VarId) -> bool {
            an.block_needs(b)
                .0
                .iter()
                .any(|(w, f)| *w == v && *f != Form::Pullback)
                || b.stmts.iter().any(|s| match s {
                    Stmt::If { arms, .. } => arms.iter().any(|a| needed(an, a, v)),
                    Stmt::Match { arms, .. } => arms.iter().any(|a| needed(an, &a.body, v)),
                    Stmt::For { body, .. } => needed(an, body, v),
                    Stmt::While {
                        cond_block, body, ..
                    } => needed(an, cond_block, v) || needed(an, body, v),
                    Stmt::Let { .. } | Stmt::Effect { .. } => false,
                })
        }
        !needed(self, &self.func.body, v)
    }

    /// What one `let`'s backward reads. A reference to a local (`&t`, `&t.0[i]`) is read
    /// through the local itself, so the local is what is needed.
    fn let_needs(&self, var: VarId, op: &Op, n: &mut Needs) {
        let mut own = Needs::default();
        self.let_needs_direct(var, op, &mut own);
        for (v, f) in own.0 {
            match self.local_referent(v) {
                Some(inputs) => inputs.into_iter().for_each(|i| n.add(i, Form::Value)),
                None => n.add(v, f),
            }
        }
    }

    /// For a value made by `&local` or `&local.f[i]`: the local and the indices.
    fn local_referent(&self, v: VarId) -> Option<Vec<VarId>> {
        self.func_lets().find_map(|(var, op)| {
            if var != v {
                return None;
            }
            // An array of references (`[&a, &b]`) is read again from its parts.
            if let Some(parts) = self.func.ref_array_parts(op) {
                return Some(self.referents(&parts));
            }
            match op {
                Op::Borrow(x) if self.func.vars[*x].param.is_none() => {
                    Some(self.array_referents(*x).unwrap_or_else(|| vec![*x]))
                }
                // Of a local, or of a parameter the function owns (`s: [f64; 2]`), as
                // `emit::borrows` has it: the place is borrowed again where it is read.
                Op::Project {
                    base, borrow: true, ..
                } if self.func.vars[*base].param.is_none() || !self.func.vars[*base].is_ref => {
                    // Of a borrowed local (`&w[k]` of `let w = &v`), from the local itself.
                    let mut inputs = Vec::new();
                    for i in op_inputs(op) {
                        match self.func_lets().find(|(v, _)| *v == i) {
                            Some((_, Op::Borrow(x))) if self.func.vars[*x].param.is_none() => {
                                inputs.push(*x)
                            }
                            _ => inputs.push(i),
                        }
                    }
                    Some(inputs)
                }
                // An alias of a borrow (`stop_gradient(&a)`) refers to what it does.
                Op::Use(Operand::Var(x)) => self.local_referent(*x),
                _ => None,
            }
        })
    }

    /// For an array of references: what its parts read.
    fn array_referents(&self, v: VarId) -> Option<Vec<VarId>> {
        self.func_lets()
            .find(|&(var, _)| var == v)
            .and_then(|(_, op)| self.func.ref_array_parts(op))
            .map(|parts| self.referents(&parts))
    }

    /// What reading each of `vs` reads: its referent, or itself.
    fn referents(&self, vs: &[VarId]) -> Vec<VarId> {
        vs.iter()
            .flat_map(|&v| self.local_referent(v).unwrap_or_else(|| vec![v]))
            .collect()
    }

    /// Every `let` of the function, at any depth, with its operation.
    pub fn func_lets(&self) -> impl Iterator<Item = (VarId, &Op)> {
        fn walk<'b>(b: &'b Block, out: &mut Vec<(VarId, &'b Op)>) {
            for s in &b.stmts {
                match s {
                    Stmt::Let { var, op } => out.push((*var, op)),
                    Stmt::Effect { .. } => {}
                    Stmt::If { arms, .. } => arms.iter().for_each(|a| walk(a, out)),
                    Stmt::Match { arms, .. } => arms.iter().for_each(|a| walk(&a.body, out)),
                    Stmt::For { body, .. } => walk(body, out),
                    Stmt::While {
                        cond_block, body, ..
                    } => {
                        walk(cond_block, out);
                        walk(body, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.func.body, &mut out);
        out.into_iter()
    }

    fn let_needs_direct(&self, var: VarId, op: &Op, n: &mut Needs) {
        if !self.active(var) {
            return;
        }
        match op {
            // `sin x`'s rule reads `cos x`, which is kept beside it, and back.
            Op::Prim { .. } if self.pairs.partner(var).is_some() => {
                n.add(self.pairs.partner(var).unwrap_or(var), Form::Value);
            }
            // Each input's rule reads the other input and this one's shape.
            Op::Prim { prim, args, .. } if prim.kind == PrimKind::Bilinear => {
                for (k, a) in args.iter().enumerate() {
                    if self.operand_active(a) {
                        n.add_operand(a, Form::Shape);
                        n.add_operand(&args[1 - k], Form::Value);
                    }
                }
            }
            Op::Prim { prim, args, .. } => {
                let form = match prim.kind {
                    PrimKind::Unary | PrimKind::Binary => Form::Value,
                    PrimKind::Bilinear | PrimKind::Linear | PrimKind::LinearBinary => Form::Shape,
                };
                args.iter().for_each(|a| n.add_operand(a, form));
                prim.extra
                    .iter()
                    .for_each(|e| n.add_operand(e, Form::Value));
                if form == Form::Value {
                    n.add(var, Form::Value);
                }
            }
            Op::Project { base, path, .. } => {
                for p in path {
                    if let Proj::Index(o) = p {
                        n.add_operand(o, Form::Value);
                    }
                }
                // A local's adjoint starts as zeros of its shape, unless a write of it (later
                // in the function, so earlier in the reverse sweep) hands its adjoint down.
                if !self.is_param(*base) && !self.written(*base) {
                    n.add(*base, Form::Zeros);
                }
            }
            // The adjoint of a write is cut at the written place: only its indices are read.
            Op::Write { path, .. } => {
                for p in path {
                    if let Proj::Index(o) = p {
                        n.add_operand(o, Form::Value);
                    }
                }
                // A version that no adjoint reaches (nothing reads it, or only values that get
                // none) has none when its write's reverse runs, which then makes its zero
                // adjoint from its value, to hand down.
                if !self.reached(var) {
                    n.add(var, Form::Value);
                }
            }
            // A recalled call needs every argument (the callee's `_vjp` runs again).
            Op::Call { args, .. } if self.recalled.contains(&var) => {
                args.iter()
                    .for_each(|a| n.add_operand(&a.operand, Form::Value));
            }
            Op::Call { .. } => n.add(var, Form::Pullback),
            // The copies' adjoints are added up into the part's, which starts as zeros of it.
            Op::Build {
                kind: Build::Repeat(_) | Build::VecRepeat(_),
                parts,
            } => parts.iter().for_each(|p| n.add_operand(p, Form::Value)),
            Op::Use(_) | Op::Opaque { .. } | Op::Borrow(_) | Op::Deref(_) | Op::Build { .. } => {}
        }
    }

    /// Needs of a statement on values defined outside it.
    pub fn free_needs(&self, s: &Stmt) -> Needs {
        let mut n = Needs::default();
        match s {
            Stmt::Let { var, op } => self.let_needs(*var, op, &mut n),
            Stmt::Effect { .. } => {}
            Stmt::If { arms, record, .. } => {
                n.add(*record, Form::Value);
                for a in arms {
                    n.extend(self.escaping(a, &[]));
                }
            }
            Stmt::Match { arms, record, .. } => {
                n.add(*record, Form::Value);
                for a in arms {
                    n.extend(self.escaping(&a.body, &a.binds));
                }
            }
            Stmt::For {
                index,
                range,
                body,
                carried,
                ..
            } => {
                n.add_operand(&range.lo, Form::Value);
                n.add_operand(&range.hi, Form::Value);
                for op in &range.ops {
                    if let RangeOp::StepBy(k) = op {
                        n.add_operand(k, Form::Value);
                    }
                }
                let mut local: Vec<VarId> = index.iter().copied().collect();
                local.extend(carried.iter().map(|c| c.inner));
                n.extend(self.escaping(body, &local));
                self.recompute_needs(body, *index, carried, &local, &mut n);
                self.carried_needs(carried, &mut n);
            }
            Stmt::While {
                body,
                carried,
                record,
                ..
            } => {
                n.add(*record, Form::Value);
                let local: Vec<VarId> = carried.iter().map(|c| c.inner).collect();
                n.extend(self.escaping(body, &local));
                self.recompute_needs(body, None, carried, &local, &mut n);
                self.carried_needs(carried, &mut n);
            }
        }
        // Outer adjoints are zeroed first; for a `&local` or `&local.f[i]`, from the local
        // (a reference to it must not be kept).
        for v in self.pre_targets(s) {
            if !self.is_param(v) && !matches!(s, Stmt::Let { .. }) {
                match self.local_referent(v) {
                    Some(inputs) => inputs.into_iter().for_each(|i| n.add(i, Form::Value)),
                    None => n.add(v, Form::Zeros),
                }
            }
        }
        n
    }

    /// What the reverse sweep recomputes in a loop body is computed from values outside
    /// it, which the reverse must then have in full.
    fn recompute_needs(
        &self,
        body: &Block,
        index: Option<VarId>,
        carried: &[Carried],
        local: &[VarId],
        n: &mut Needs,
    ) {
        let (_, recompute) = self.loop_saved(body, index, carried);
        let defs = self.defs(body);
        for s in &body.stmts {
            if let Stmt::Let { var, op } = s
                && recompute.contains(var)
            {
                for i in op_inputs(op) {
                    if !defs.contains(&i) && !local.contains(&i) {
                        // A `&local.f` is recomputed from the local (see `free_needs`).
                        match self.local_referent(i) {
                            Some(inputs) => inputs.into_iter().for_each(|j| n.add(j, Form::Value)),
                            None => n.add(i, Form::Value),
                        }
                    }
                }
            }
        }
    }

    fn carried_needs(&self, carried: &[Carried], n: &mut Needs) {
        for c in carried.iter().filter(|c| self.active(c.out)) {
            n.add(c.out, Form::Zeros);
        }
    }

    /// All needs of a block's statements.
    pub fn block_needs(&self, b: &Block) -> Needs {
        if let Some(n) = self.needs.borrow().get(&(b as *const Block)) {
            return n.clone();
        }
        let mut n = Needs::default();
        for s in &b.stmts {
            n.extend(self.free_needs(s));
        }
        self.needs.borrow_mut().insert(b as *const Block, n.clone());
        n
    }

    /// Needs of a nested block on values defined outside it (`local` are defined by the
    /// construct itself: a loop's index and carried values, a pattern's bindings).
    fn escaping(&self, b: &Block, local: &[VarId]) -> Needs {
        let defs = self.defs(b);
        let mut n = Needs::default();
        for (v, f) in self.block_needs(b).0 {
            if !defs.contains(&v) && !local.contains(&v) {
                n.add(v, f);
            }
        }
        n
    }

    /// What a branch arm keeps for its reverse: its needs on values it defines.
    pub fn arm_saved(&self, b: &Block, binds: &[VarId]) -> Needs {
        let defs = self.defs(b);
        let mut n = Needs::default();
        for (v, f) in self.block_needs(b).0 {
            if defs.contains(&v) || binds.contains(&v) {
                n.add(v, f);
            }
        }
        n
    }

    /// What a loop body keeps per iteration, and which of its values the reverse
    /// recomputes instead (in forward order): cheap operations on values that are the same
    /// in every iteration or recomputed themselves.
    pub fn loop_saved(
        &self,
        body: &Block,
        index: Option<VarId>,
        carried: &[Carried],
    ) -> (Needs, Vec<VarId>) {
        if let Some(r) = self.saved.borrow().get(&(body as *const Block)) {
            return r.clone();
        }
        let r = self.loop_saved_uncached(body, index, carried);
        self.saved
            .borrow_mut()
            .insert(body as *const Block, r.clone());
        r
    }

    fn loop_saved_uncached(
        &self,
        body: &Block,
        index: Option<VarId>,
        carried: &[Carried],
    ) -> (Needs, Vec<VarId>) {
        let defs = self.defs(body);
        let mut needed = Needs::default();
        for (v, f) in self.block_needs(body).0 {
            if defs.contains(&v) || carried.iter().any(|c| c.inner == v) {
                needed.add(v, f);
            }
        }
        // A carried value whose adjoint an iteration may not reach is zeroed from its value.
        for c in carried.iter().filter(|c| self.active(c.out)) {
            let mut t = Vec::new();
            body.stmts.iter().for_each(|s| self.targets(s, &mut t));
            if !t.contains(&c.inner) && c.next.var() != Some(c.inner) {
                needed.add(c.inner, Form::Zeros);
            }
        }
        // Recomputable: a `let` in this body whose op is cheap and whose inputs are all
        // defined outside the body, the index, or recomputable.
        let mut recomputable: Vec<VarId> = Vec::new();
        for s in &body.stmts {
            let Stmt::Let { var, op } = s else { continue };
            let inputs_ok = |inputs: Vec<VarId>, rec: &Vec<VarId>| {
                inputs.iter().all(|v| {
                    Some(*v) == index
                        || rec.contains(v)
                        || (!defs.contains(v) && !carried.iter().any(|c| c.inner == *v))
                })
            };
            let cheap = match op {
                Op::Use(_) | Op::Project { .. } | Op::Borrow(_) | Op::Deref(_) => true,
                // Rebuilding allocates for a `Vec`; the others are copies.
                Op::Build { kind, .. } => !matches!(kind, Build::Vec | Build::VecRepeat(_)),
                Op::Opaque { cheap, .. } => *cheap,
                Op::Prim { prim, .. } => is_cheap(prim),
                Op::Call { .. } | Op::Write { .. } => false,
            };
            let inputs = op_inputs(op);
            if cheap && inputs_ok(inputs, &recomputable) {
                recomputable.push(*var);
            }
        }
        // Recompute only what is needed in full, with what it is computed from. A value
        // whose shape alone is read keeps its shape, which costs nothing for a scalar:
        // recomputing it could keep far more alive (`c[i]` needs all of `c`).
        let mut recompute: Vec<VarId> = Vec::new();
        let mut stack: Vec<VarId> = needed
            .0
            .iter()
            .filter(|(v, f)| matches!(f, Form::Value | Form::Pullback) && recomputable.contains(v))
            .map(|(v, _)| *v)
            .collect();
        while let Some(v) = stack.pop() {
            if recompute.contains(&v) {
                continue;
            }
            recompute.push(v);
            for s in &body.stmts {
                if let Stmt::Let { var, op } = s
                    && *var == v
                {
                    for i in op_inputs(op) {
                        if recomputable.contains(&i) && !recompute.contains(&i) {
                            stack.push(i);
                        }
                    }
                }
            }
        }
        recompute.sort_by_key(|v| recomputable.iter().position(|w| w == v));
        let mut saved = Needs::default();
        for (v, f) in needed.0 {
            if !recompute.contains(&v) && Some(v) != index {
                saved.add(v, f);
            }
        }
        (saved, recompute)
    }

    /// Whether `_grad` may run this top-level loop's reverse inside its forward sweep,
    /// iteration by iteration: every differentiated carried value is only accumulated
    /// (`s = s + e`, `s += e`, `s -= e`, with `e` not reading `s`), so its adjoint is the same
    /// in every iteration and known before the loop.
    pub fn fusable(&self, body: &Block, carried: &[Carried]) -> bool {
        let mut uses = Vec::new();
        for s in &body.stmts {
            stmt_uses(s, &mut uses);
        }
        carried
            .iter()
            .filter(|c| self.active(c.out))
            .all(|c| self.accumulates(body, c, &uses))
    }

    fn accumulates(&self, body: &Block, c: &Carried, uses: &[VarId]) -> bool {
        let Some(next) = c.next.var() else {
            return false;
        };
        let mut cur = c.inner;
        while cur != next {
            if uses.iter().filter(|u| **u == cur).count() != 1 {
                return false;
            }
            let step = body.stmts.iter().find_map(|s| match s {
                Stmt::Let {
                    var,
                    op: Op::Prim { prim, args, .. },
                } if prim.kind == PrimKind::LinearBinary
                    && (args[0].var() == Some(cur)
                        || (prim.marker == "Add" && args[1].var() == Some(cur))) =>
                {
                    Some(*var)
                }
                _ => None,
            });
            match step {
                Some(v) => cur = v,
                None => return false,
            }
        }
        // The carried value leaves the iteration only as `next`.
        uses.iter().filter(|u| **u == next).count() == 0
    }
}

/// Which values the reverse sweep surely gives an adjoint, by value: the result; what a
/// reached value's reverse adds to (a write always hands its adjoint down and gives its
/// value a piece); a phi's sources made in its arm, when the phi is reached; a loop's carried
/// values (the loop's reverse starts their adjoints). A fixpoint over the whole body.
fn reached(func: &Func) -> Vec<bool> {
    fn set(func: &Func, v: VarId, r: &mut [bool], changed: &mut bool) {
        if func.vars[v].active && !r[v] {
            r[v] = true;
            *changed = true;
        }
    }
    fn mark(func: &Func, b: &Block, r: &mut [bool], changed: &mut bool) {
        for s in &b.stmts {
            match s {
                Stmt::Let { var, op } if func.vars[*var].active => match op {
                    Op::Opaque { .. } => {}
                    Op::Write { base, value, .. } if func.vars[*base].active || r[*var] => {
                        set(func, *base, r, changed);
                        if let Some(v) = value.var() {
                            set(func, v, r, changed);
                        }
                    }
                    Op::Write { .. } => {}
                    op if r[*var] => {
                        for v in op_inputs(op) {
                            set(func, v, r, changed);
                        }
                    }
                    _ => {}
                },
                Stmt::Let { .. } | Stmt::Effect { .. } => {}
                Stmt::If { arms, outs, .. } => {
                    for (k, a) in arms.iter().enumerate() {
                        arm(func, a, outs, k, r, changed);
                    }
                }
                Stmt::Match { arms, outs, .. } => {
                    for (k, a) in arms.iter().enumerate() {
                        arm(func, &a.body, outs, k, r, changed);
                    }
                }
                Stmt::For { body, carried, .. } => {
                    carried_values(func, carried, r, changed);
                    mark(func, body, r, changed);
                }
                Stmt::While {
                    cond_block,
                    body,
                    carried,
                    ..
                } => {
                    carried_values(func, carried, r, changed);
                    mark(func, cond_block, r, changed);
                    mark(func, body, r, changed);
                }
            }
        }
    }
    fn carried_values(func: &Func, carried: &[Carried], r: &mut [bool], changed: &mut bool) {
        for c in carried {
            for v in [c.init.var(), c.next.var()].into_iter().flatten() {
                set(func, v, r, changed);
            }
        }
    }
    fn arm(func: &Func, a: &Block, outs: &[Phi], k: usize, r: &mut [bool], changed: &mut bool) {
        let inside = crate::emit::defined_in(func, a);
        for p in outs {
            if let Some(v) = p.sources[k].var()
                && r[p.out]
                && inside.contains(&v)
            {
                set(func, v, r, changed);
            }
        }
        mark(func, a, r, changed);
    }
    let mut r = vec![false; func.vars.len()];
    if let Some(v) = func.ret.var() {
        r[v] = true;
    }
    let mut changed = true;
    while changed {
        changed = false;
        mark(func, &func.body, &mut r, &mut changed);
    }
    r
}

fn is_cheap(prim: &Prim) -> bool {
    matches!(
        prim.marker,
        "Add" | "Sub" | "Mul" | "Div" | "Neg" | "CastTo" | "Abs" | "Max" | "Min" | "Relu"
    )
}

pub fn op_inputs(op: &Op) -> Vec<VarId> {
    match op {
        Op::Use(o) => o.var().into_iter().collect(),
        Op::Opaque { uses, .. } => uses.clone(),
        Op::Prim { prim, args, .. } => args
            .iter()
            .chain(&prim.extra)
            .filter_map(Operand::var)
            .collect(),
        Op::Project { base, path, .. } => {
            let mut i = vec![*base];
            for p in path {
                if let Proj::Index(o) = p {
                    i.extend(o.var());
                }
            }
            i
        }
        Op::Borrow(v) | Op::Deref(v) => vec![*v],
        Op::Build { kind, parts } => parts
            .iter()
            .filter_map(Operand::var)
            .chain(kind.count())
            .collect(),
        Op::Call { args, .. } => args.iter().filter_map(|a| a.operand.var()).collect(),
        Op::Write {
            base, path, value, ..
        } => {
            let mut i = vec![*base];
            i.extend(value.var());
            for p in path {
                if let Proj::Index(o) = p {
                    i.extend(o.var());
                }
            }
            i
        }
    }
}

/// Every read of a value inside a statement (one entry per read).
fn stmt_uses(s: &Stmt, out: &mut Vec<VarId>) {
    stmt_reads(s, op_inputs, out);
}

/// Every read of a value inside a statement, a `let` reading what `let_reads` says of its
/// operation (one entry per read).
pub fn stmt_reads(s: &Stmt, let_reads: fn(&Op) -> Vec<VarId>, out: &mut Vec<VarId>) {
    let block = |b: &Block, out: &mut Vec<VarId>| {
        b.stmts.iter().for_each(|s| stmt_reads(s, let_reads, out))
    };
    let operand = |o: &Operand, out: &mut Vec<VarId>| out.extend(o.var());
    match s {
        Stmt::Let { op, .. } => out.extend(let_reads(op)),
        Stmt::Effect { binds, .. } => out.extend(binds.iter().map(|(_, v)| *v)),
        Stmt::If {
            cond, arms, outs, ..
        } => {
            operand(cond, out);
            arms.iter().for_each(|a| block(a, out));
            outs.iter()
                .for_each(|p| p.sources.iter().for_each(|o| operand(o, out)));
        }
        Stmt::Match { arms, outs, .. } => {
            arms.iter().for_each(|a| block(&a.body, out));
            outs.iter()
                .for_each(|p| p.sources.iter().for_each(|o| operand(o, out)));
        }
        Stmt::For {
            range,
            body,
            carried,
            ..
        } => {
            operand(&range.lo, out);
            operand(&range.hi, out);
            block(body, out);
            carried.iter().for_each(|c| {
                operand(&c.init, out);
                operand(&c.next, out);
            });
        }
        Stmt::While {
            cond_block,
            cond,
            body,
            carried,
            ..
        } => {
            block(cond_block, out);
            operand(cond, out);
            block(body, out);
            carried.iter().for_each(|c| {
                operand(&c.init, out);
                operand(&c.next, out);
            });
        }
    }
}
