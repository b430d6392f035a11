//! The tensor derivative rules through the facade: one table of every registered tensor
//! primitive, each checked in f64 at random points for backward against central finite
//! differences and for `<jvp(v), w> == <v, vjp(w)>`; then kink conventions, broadcasting
//! reductions, buffer reuse, `Differentiable` and the `nn` losses.

use grad::__private::op;
use grad::rules::{Binary, Linear, LinearBinary, Shaped, Unary, UnaryOut};
use grad::{Differentiable, Flat, NoTangent, Tangent, Tensor};
use std::rc::Rc;

type T64 = Tensor<f64>;

/// An argument or result of a primitive, seen as a tensor (`f64` as a 0-d tensor).
trait Arg: Differentiable + Sized + 'static {
    fn from_t(t: &T64) -> Self;
    fn to_t(&self) -> T64;
    fn tan_from_t(t: &T64) -> Self::Tangent;
    fn tan_to_t(t: Self::Tangent) -> T64;
}

impl Arg for T64 {
    fn from_t(t: &T64) -> Self {
        t.clone()
    }
    fn to_t(&self) -> T64 {
        self.clone()
    }
    fn tan_from_t(t: &T64) -> T64 {
        t.clone()
    }
    fn tan_to_t(t: T64) -> T64 {
        t
    }
}

impl Arg for f64 {
    fn from_t(t: &T64) -> Self {
        t.item()
    }
    fn to_t(&self) -> T64 {
        Tensor::scalar(*self)
    }
    fn tan_from_t(t: &T64) -> f64 {
        t.item()
    }
    fn tan_to_t(t: f64) -> T64 {
        Tensor::scalar(t)
    }
}

type Fwd = Box<dyn Fn(&[T64]) -> T64>;
type Vjp = Box<dyn Fn(&[T64], T64) -> Vec<T64>>;
type Jvp = Box<dyn Fn(&[T64], &[T64]) -> T64>;

/// One registered primitive at one point: forward, pullback and tangent map over tensors.
struct Case {
    name: String,
    inputs: Vec<T64>,
    f: Fwd,
    vjp: Vjp,
    jvp: Jvp,
}

fn unary<O: 'static>(name: &str, op: O, x: T64) -> Case
where
    T64: Unary<O>,
{
    let op = Rc::new(op);
    let (o1, o2, o3) = (op.clone(), op.clone(), op);
    Case {
        name: name.into(),
        inputs: vec![x],
        f: Box::new(move |xs| <T64 as Unary<O>>::fwd(&o1, &xs[0])),
        vjp: Box::new(move |xs, w| {
            let y = <T64 as Unary<O>>::fwd(&o2, &xs[0]);
            vec![<T64 as Unary<O>>::bwd(&o2, &xs[0], &y, w)]
        }),
        jvp: Box::new(move |xs, ts| {
            let y = <T64 as Unary<O>>::fwd(&o3, &xs[0]);
            <T64 as Unary<O>>::jvp(&o3, &xs[0], &y, &ts[0])
        }),
    }
}

fn unary_out<O: 'static>(name: &str, op: O, x: T64) -> Case
where
    T64: UnaryOut<O, Output = T64>,
{
    let op = Rc::new(op);
    let (o1, o2, o3) = (op.clone(), op.clone(), op);
    Case {
        name: name.into(),
        inputs: vec![x],
        f: Box::new(move |xs| <T64 as UnaryOut<O>>::fwd(&o1, &xs[0])),
        vjp: Box::new(move |xs, w| {
            let y = <T64 as UnaryOut<O>>::fwd(&o2, &xs[0]);
            vec![<T64 as UnaryOut<O>>::bwd(&o2, &xs[0], &y, w)]
        }),
        jvp: Box::new(move |xs, ts| {
            let y = <T64 as UnaryOut<O>>::fwd(&o3, &xs[0]);
            <T64 as UnaryOut<O>>::jvp(&o3, &xs[0], &y, &ts[0])
        }),
    }
}

fn linear<O: 'static>(name: &str, op: O, x: T64) -> Case
where
    T64: Linear<O>,
    <T64 as Linear<O>>::Output: Arg,
{
    type Out<O> = <T64 as Linear<O>>::Output;
    let op = Rc::new(op);
    let (o1, o2, o3) = (op.clone(), op.clone(), op);
    Case {
        name: name.into(),
        inputs: vec![x],
        f: Box::new(move |xs| <T64 as Linear<O>>::fwd(&o1, &xs[0]).to_t()),
        vjp: Box::new(move |xs, w| {
            let s = xs[0].shape_of();
            vec![<T64 as Linear<O>>::bwd(
                &o2,
                &s,
                <Out<O> as Arg>::tan_from_t(&w),
            )]
        }),
        jvp: Box::new(move |xs, ts| {
            let s = xs[0].shape_of();
            <Out<O> as Arg>::tan_to_t(<T64 as Linear<O>>::jvp(&o3, &s, &ts[0]))
        }),
    }
}

fn binary<O: 'static, A: Arg + Binary<O, B>, B: Arg>(name: &str, op: O, a: T64, b: T64) -> Case
where
    <A as Binary<O, B>>::Output: Arg,
{
    type Out<O, A, B> = <A as Binary<O, B>>::Output;
    let op = Rc::new(op);
    let (o1, o2, o3) = (op.clone(), op.clone(), op);
    Case {
        name: name.into(),
        inputs: vec![a, b],
        f: Box::new(move |xs| A::fwd(&o1, &A::from_t(&xs[0]), &B::from_t(&xs[1])).to_t()),
        vjp: Box::new(move |xs, w| {
            let (a, b) = (A::from_t(&xs[0]), B::from_t(&xs[1]));
            let y = A::fwd(&o2, &a, &b);
            let dy = || <Out<O, A, B> as Arg>::tan_from_t(&w);
            vec![
                A::tan_to_t(A::bwd_0(&o2, &a, &b, &y, dy())),
                B::tan_to_t(A::bwd_1(&o2, &a, &b, &y, dy())),
            ]
        }),
        jvp: Box::new(move |xs, ts| {
            let (a, b) = (A::from_t(&xs[0]), B::from_t(&xs[1]));
            let y = A::fwd(&o3, &a, &b);
            let p0 = A::jvp_0(&o3, &a, &b, &y, &A::tan_from_t(&ts[0]));
            let p1 = A::jvp_1(&o3, &a, &b, &y, &B::tan_from_t(&ts[1]));
            <Out<O, A, B> as Arg>::tan_to_t(p0) + &<Out<O, A, B> as Arg>::tan_to_t(p1)
        }),
    }
}

fn linear_binary<O: 'static, A: Arg + LinearBinary<O, B>, B: Arg + Shaped>(
    name: &str,
    op: O,
    a: T64,
    b: T64,
) -> Case
where
    <A as LinearBinary<O, B>>::Output: Arg,
{
    type Out<O, A, B> = <A as LinearBinary<O, B>>::Output;
    let op = Rc::new(op);
    let (o1, o2, o3) = (op.clone(), op.clone(), op);
    Case {
        name: name.into(),
        inputs: vec![a, b],
        f: Box::new(move |xs| A::fwd(&o1, &A::from_t(&xs[0]), &B::from_t(&xs[1])).to_t()),
        vjp: Box::new(move |xs, w| {
            let (sa, sb) = (A::from_t(&xs[0]).shape_of(), B::from_t(&xs[1]).shape_of());
            let dy = || <Out<O, A, B> as Arg>::tan_from_t(&w);
            vec![
                A::tan_to_t(A::bwd_0(&o2, &sa, &sb, dy())),
                B::tan_to_t(A::bwd_1(&o2, &sa, &sb, dy())),
            ]
        }),
        jvp: Box::new(move |xs, ts| {
            let (sa, sb) = (A::from_t(&xs[0]).shape_of(), B::from_t(&xs[1]).shape_of());
            let p0 = A::jvp_0(&o3, &sa, &sb, &A::tan_from_t(&ts[0]));
            let p1 = A::jvp_1(&o3, &sa, &sb, &B::tan_from_t(&ts[1]));
            <Out<O, A, B> as Arg>::tan_to_t(p0) + &<Out<O, A, B> as Arg>::tan_to_t(p1)
        }),
    }
}

/// A function of several tensors given as plain closures (the `nn` losses).
fn function(name: &str, inputs: Vec<T64>, f: Fwd, vjp: Vjp, jvp: Jvp) -> Case {
    Case {
        name: name.into(),
        inputs,
        f,
        vjp,
        jvp,
    }
}

fn rand(shape: &[usize], seed: u64, lo: f64, hi: f64) -> T64 {
    Tensor::rand_uniform(shape, lo, hi, seed)
}

/// Every registered tensor primitive, at random points away from its kinks.
fn registry() -> Vec<Case> {
    let x = |seed| rand(&[3, 4], seed, -1.0, 1.0);
    let pos = |seed| rand(&[3, 4], seed, 0.5, 2.0);
    let mut cases = vec![
        unary("exp", op::Exp, x(1)),
        unary("ln", op::Ln, pos(2)),
        unary("sqrt", op::Sqrt, pos(3)),
        unary("sin", op::Sin, x(4)),
        unary("cos", op::Cos, x(5)),
        unary("tan", op::Tan, x(6)),
        unary("tanh", op::Tanh, x(7)),
        unary("abs", op::Abs, x(8)),
        unary("sigmoid", op::Sigmoid, x(9)),
        unary("relu", op::Relu, x(10)),
        unary("powi", op::Powi(3), x(11)),
        unary("clamp", op::Clamp(-0.5, 0.5), x(12)),
        linear("neg", op::Neg, x(13)),
        linear("sum", op::Sum, x(14)),
        linear("mean", op::Mean, x(15)),
        linear("sum_axis0", op::SumAxis(0), x(16)),
        linear("sum_axis1", op::SumAxis(1), x(17)),
        linear("mean_axis0", op::MeanAxis(0), x(18)),
        linear("mean_axis1", op::MeanAxis(1), x(19)),
        linear("transpose", op::Transpose, x(20)),
        linear("reshape", op::Reshape(vec![2, 6]), x(21)),
        linear("get", op::Get(vec![1, 2]), x(100)),
        linear("get 1-d", op::Get([4]), rand(&[6], 101, -1.0, 1.0)),
        linear("narrow0", op::Narrow(0, 1, 2), x(102)),
        linear("narrow1", op::Narrow(1, 1, 3), x(103)),
        linear(
            "narrow 3-d",
            op::Narrow(1, 0, 2),
            rand(&[2, 3, 4], 104, -1.0, 1.0),
        ),
        linear(
            "index_select0",
            op::IndexSelect(0, vec![2, 0, 2, 2]),
            x(105),
        ),
        linear("index_select1", op::IndexSelect(1, vec![3, 3, 1]), x(106)),
        unary_out("max_axis0", op::MaxAxis(0), x(22)),
        unary_out("max_axis1", op::MaxAxis(1), x(23)),
        unary_out("softmax0", op::Softmax(0), x(24)),
        unary_out("softmax1", op::Softmax(1), x(25)),
        unary_out("log_softmax0", op::LogSoftmax(0), x(26)),
        unary_out("log_softmax1", op::LogSoftmax(1), x(27)),
        binary::<_, T64, T64>(
            "matmul 2x2",
            op::Matmul,
            x(28),
            rand(&[4, 5], 29, -1.0, 1.0),
        ),
        binary::<_, T64, T64>("matmul 1x2", op::Matmul, rand(&[3], 30, -1.0, 1.0), x(31)),
        binary::<_, T64, T64>("matmul 2x1", op::Matmul, x(32), rand(&[4], 33, -1.0, 1.0)),
        binary::<_, T64, T64>(
            "matmul 1x1",
            op::Matmul,
            rand(&[4], 34, -1.0, 1.0),
            rand(&[4], 35, -1.0, 1.0),
        ),
        binary::<_, T64, T64>(
            "dot",
            op::Dot,
            rand(&[6], 36, -1.0, 1.0),
            rand(&[6], 37, -1.0, 1.0),
        ),
    ];
    // Elementwise binary primitives over broadcasting shape pairs and scalar operands.
    let pairs: [(&[usize], &[usize]); 5] = [
        (&[3, 4], &[3, 4]),
        (&[3, 4], &[4]),
        (&[3, 1], &[1, 4]),
        (&[], &[3, 4]),
        (&[4], &[3, 1]),
    ];
    for (i, (sa, sb)) in pairs.into_iter().enumerate() {
        let s = 40 + 10 * i as u64;
        let (a, b) = (rand(sa, s, -1.0, 1.0), rand(sb, s + 1, -1.0, 1.0));
        let (pa, pb) = (rand(sa, s + 2, 0.5, 2.0), rand(sb, s + 3, 0.5, 2.0));
        let tag = format!("{sa:?}{sb:?}");
        cases.push(binary::<_, T64, T64>(
            &format!("mul {tag}"),
            op::Mul,
            a.clone(),
            b.clone(),
        ));
        cases.push(binary::<_, T64, T64>(
            &format!("div {tag}"),
            op::Div,
            a.clone(),
            pb.clone(),
        ));
        cases.push(binary::<_, T64, T64>(
            &format!("powf {tag}"),
            op::Powf,
            pa.clone(),
            b.clone(),
        ));
        cases.push(binary::<_, T64, T64>(
            &format!("max {tag}"),
            op::Max,
            a.clone(),
            b.clone(),
        ));
        cases.push(binary::<_, T64, T64>(
            &format!("min {tag}"),
            op::Min,
            a.clone(),
            b.clone(),
        ));
        cases.push(linear_binary::<_, T64, T64>(
            &format!("add {tag}"),
            op::Add,
            a.clone(),
            b.clone(),
        ));
        cases.push(linear_binary::<_, T64, T64>(
            &format!("sub {tag}"),
            op::Sub,
            a,
            b,
        ));
    }
    let (t, s) = (x(90), Tensor::scalar(0.7));
    cases.push(binary::<_, T64, f64>(
        "mul t*s",
        op::Mul,
        t.clone(),
        s.clone(),
    ));
    cases.push(binary::<_, f64, T64>(
        "mul s*t",
        op::Mul,
        s.clone(),
        t.clone(),
    ));
    cases.push(binary::<_, T64, f64>(
        "div t/s",
        op::Div,
        t.clone(),
        s.clone(),
    ));
    cases.push(binary::<_, f64, T64>(
        "div s/t",
        op::Div,
        s.clone(),
        pos(91),
    ));
    cases.push(binary::<_, T64, f64>(
        "powf t^s",
        op::Powf,
        pos(92),
        s.clone(),
    ));
    cases.push(binary::<_, f64, T64>(
        "powf s^t",
        op::Powf,
        s.clone(),
        t.clone(),
    ));
    cases.push(binary::<_, T64, f64>(
        "max t,s",
        op::Max,
        t.clone(),
        s.clone(),
    ));
    cases.push(binary::<_, f64, T64>(
        "min s,t",
        op::Min,
        s.clone(),
        t.clone(),
    ));
    cases.push(linear_binary::<_, T64, f64>(
        "add t+s",
        op::Add,
        t.clone(),
        s.clone(),
    ));
    cases.push(linear_binary::<_, f64, T64>(
        "add s+t",
        op::Add,
        s.clone(),
        t.clone(),
    ));
    cases.push(linear_binary::<_, T64, f64>(
        "sub t-s",
        op::Sub,
        t.clone(),
        s.clone(),
    ));
    cases.push(linear_binary::<_, f64, T64>("sub s-t", op::Sub, s, t));

    let labels = [2usize, 0, 3];
    cases.push(function(
        "cross_entropy",
        vec![x(93)],
        Box::new(move |xs| Tensor::scalar(grad::nn::cross_entropy(&xs[0], &labels))),
        Box::new(move |xs, w| {
            let (_, back) = grad::nn::cross_entropy_vjp(&xs[0], &labels);
            let (d, NoTangent) = back(w.item());
            vec![d]
        }),
        Box::new(move |xs, ts| {
            Tensor::scalar(grad::nn::cross_entropy_jvp(&xs[0], &labels, &ts[0], NoTangent).1)
        }),
    ));
    cases.push(function(
        "mse",
        vec![x(94), x(95)],
        Box::new(|xs| Tensor::scalar(grad::nn::mse(&xs[0], &xs[1]))),
        Box::new(|xs, w| {
            let (_, back) = grad::nn::mse_vjp(&xs[0], &xs[1]);
            let (a, b) = back(w.item());
            vec![a, b]
        }),
        Box::new(|xs, ts| Tensor::scalar(grad::nn::mse_jvp(&xs[0], &xs[1], &ts[0], &ts[1]).1)),
    ));
    cases.push(function(
        "bce_with_logits",
        vec![rand(&[3, 4], 96, -3.0, 3.0), rand(&[3, 4], 97, 0.0, 1.0)],
        Box::new(|xs| Tensor::scalar(grad::nn::binary_cross_entropy_with_logits(&xs[0], &xs[1]))),
        Box::new(|xs, w| {
            let (_, back) = grad::nn::binary_cross_entropy_with_logits_vjp(&xs[0], &xs[1]);
            let (a, b) = back(w.item());
            vec![a, b]
        }),
        Box::new(|xs, ts| {
            Tensor::scalar(
                grad::nn::binary_cross_entropy_with_logits_jvp(&xs[0], &xs[1], &ts[0], &ts[1]).1,
            )
        }),
    ));
    // Joins of several tensors, through their hand-written `_vjp` and `_jvp`.
    type JoinFwd = fn(&[&T64], usize) -> T64;
    type JoinVjp = fn(&[&T64], usize) -> (T64, Box<dyn FnOnce(T64) -> (Vec<T64>, NoTangent)>);
    type JoinJvp = fn(&[&T64], usize, &[&T64], NoTangent) -> (T64, T64);
    let joins: [(&str, JoinFwd, JoinVjp, JoinJvp); 2] = [
        (
            "cat",
            Tensor::cat,
            |t, a| {
                let (y, back) = Tensor::cat_vjp(t, a);
                (y, Box::new(back))
            },
            Tensor::cat_jvp,
        ),
        (
            "stack",
            Tensor::stack,
            |t, a| {
                let (y, back) = Tensor::stack_vjp(t, a);
                (y, Box::new(back))
            },
            Tensor::stack_jvp,
        ),
    ];
    let cat_inputs: [(usize, &[&[usize]]); 3] = [
        (0, &[&[2, 4], &[3, 4], &[1, 4]]),
        (1, &[&[3, 2], &[3, 4]]),
        (0, &[&[3], &[5]]),
    ];
    let stack_inputs: [(usize, &[&[usize]]); 3] = [
        (0, &[&[3, 4], &[3, 4], &[3, 4]]),
        (2, &[&[3, 4], &[3, 4]]),
        (1, &[&[5], &[5]]),
    ];
    for (j, ((name, f, vjp, jvp), inputs)) in joins
        .into_iter()
        .zip([cat_inputs, stack_inputs])
        .enumerate()
    {
        for (i, (axis, shapes)) in inputs.into_iter().enumerate() {
            let seed = 110 + 10 * (3 * j + i) as u64;
            let xs: Vec<T64> = shapes
                .iter()
                .enumerate()
                .map(|(k, s)| rand(s, seed + k as u64, -1.0, 1.0))
                .collect();
            cases.push(function(
                &format!("{name} axis {axis} of {shapes:?}"),
                xs,
                Box::new(move |xs| f(&refs(xs), axis)),
                Box::new(move |xs, w| {
                    let (_, back) = vjp(&refs(xs), axis);
                    back(w).0
                }),
                Box::new(move |xs, ts| jvp(&refs(xs), axis, &refs(ts), NoTangent).1),
            ));
        }
    }
    cases
}

/// A slice of tensors as the slice of references that `Tensor::cat` and `stack` take.
fn refs(xs: &[T64]) -> Vec<&T64> {
    xs.iter().collect()
}

fn inner(a: &T64, b: &T64) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(x, y)| x * y)
        .sum()
}

/// Backward against central differences, and the transpose identity, for every primitive.
///
/// For random directions `v` (one per input) and output weights `w`:
/// `d/dh <w, f(x + h v)> = Σ_i <v_i, vjp(w)_i> = <w, jvp(v)>`.
#[test]
fn every_primitive_matches_finite_differences_in_both_modes() {
    let cases = registry();
    assert!(
        cases.len() > 60,
        "the registry lost primitives: {}",
        cases.len()
    );
    for (c, case) in cases.iter().enumerate() {
        let y = (case.f)(&case.inputs);
        let w = rand(y.shape(), 1000 + c as u64, -1.0, 1.0);
        let v: Vec<T64> = case
            .inputs
            .iter()
            .enumerate()
            .map(|(i, x)| rand(x.shape(), 2000 + 10 * c as u64 + i as u64, -1.0, 1.0))
            .collect();
        let h = 1e-6;
        let at = |sign: f64| -> f64 {
            let moved: Vec<T64> = case
                .inputs
                .iter()
                .zip(&v)
                .map(|(x, d)| x + &(d * (sign * h)))
                .collect();
            inner(&w, &(case.f)(&moved))
        };
        let fd = (at(1.0) - at(-1.0)) / (2.0 * h);
        let cotangents = (case.vjp)(&case.inputs, w.clone());
        assert_eq!(cotangents.len(), case.inputs.len(), "{}", case.name);
        for (ct, x) in cotangents.iter().zip(&case.inputs) {
            assert_eq!(ct.shape(), x.shape(), "{}: cotangent shape", case.name);
        }
        let back: f64 = cotangents.iter().zip(&v).map(|(ct, d)| inner(ct, d)).sum();
        let tangent = (case.jvp)(&case.inputs, &v);
        assert_eq!(tangent.shape(), y.shape(), "{}: tangent shape", case.name);
        let fwd = inner(&w, &tangent);
        let scale = 1.0 + fd.abs();
        assert!(
            (back - fd).abs() <= 1e-6 * scale,
            "{}: backward {back} vs finite difference {fd}",
            case.name
        );
        assert!(
            (fwd - fd).abs() <= 1e-6 * scale,
            "{}: tangent {fwd} vs finite difference {fd}",
            case.name
        );
        assert!(
            (fwd - back).abs() <= 1e-12 * (1.0 + back.abs()),
            "{}: <jvp(v), w> {fwd} != <v, vjp(w)> {back}",
            case.name
        );
    }
}

#[test]
fn the_quick_start_gradient() {
    // loss = sum(A * 5) with A = [5]: dloss/dA = 5 (DESIGN's smallest case).
    let a = Tensor::from([5.0f64]);
    let y = op::Mul.fwd(&a, &5.0);
    let loss = op::Sum.fwd(&y);
    assert_eq!(loss, 25.0);
    let dy = op::Sum.bwd::<T64>(&grad::__private::shape_of(&y), 1.0);
    let da = op::Mul.bwd_0(&a, &5.0, &y, dy);
    assert_eq!(da.to_vec(), vec![5.0]);
}

#[test]
fn broadcast_cotangents_are_summed_back() {
    // y = a + b with a: [2, 1], b: [3] → y: [2, 3]. With dy = 1 everywhere, each a[i] feeds
    // 3 outputs (da = [[3], [3]]) and each b[j] feeds 2 (db = [2, 2, 2]).
    let (a, b) = (Tensor::<f64>::zeros(&[2, 1]), Tensor::<f64>::zeros(&[3]));
    let (sa, sb) = (grad::__private::shape_of(&a), grad::__private::shape_of(&b));
    let dy = Tensor::ones(&[2, 3]);
    let da: T64 = op::Add.bwd_0::<T64, T64>(&sa, &sb, dy.clone());
    let db: T64 = op::Add.bwd_1::<T64, T64>(&sa, &sb, dy.clone());
    assert_eq!((da.shape(), da.to_vec()), (&[2, 1][..], vec![3.0, 3.0]));
    assert_eq!((db.shape(), db.to_vec()), (&[3][..], vec![2.0, 2.0, 2.0]));
    // A scalar operand's cotangent is the sum: y = s * t, dy = 1, t = [1, 2, 3] → ds = 6.
    let t = Tensor::from([1.0f64, 2.0, 3.0]);
    let y = op::Mul.fwd(&2.0, &t);
    assert_eq!(op::Mul.bwd_0(&2.0, &t, &y, Tensor::ones(&[3])), 6.0);
}

#[test]
fn elementwise_backward_reuses_the_cotangent_buffer() {
    let x = Tensor::from([0.5f64, 1.0, 2.0]);
    let y = op::Exp.fwd(&x);
    let dy = Tensor::ones(&[3]);
    let ptr = dy.as_slice().as_ptr();
    let dx = op::Exp.bwd(&x, &y, dy);
    assert_eq!(dx.as_slice().as_ptr(), ptr);
    // d/dx e^x = e^x.
    assert_eq!(dx.to_vec(), y.to_vec());
}

#[test]
fn kinks_follow_pytorch() {
    let x = Tensor::from([0.0f64, -0.0, f64::NAN]);
    let ones = || Tensor::ones(&[3]);
    let relu = op::Relu.bwd(&x, &op::Relu.fwd(&x), ones());
    assert_eq!(&relu.as_slice()[..2], &[0.0, 0.0]);
    assert!(relu.as_slice()[2].is_nan());
    let abs = op::Abs.bwd(&x, &op::Abs.fwd(&x), ones());
    assert_eq!(&abs.as_slice()[..2], &[0.0, 0.0]);
    assert!(abs.as_slice()[2].is_nan());
    let sqrt = op::Sqrt.bwd(&x, &op::Sqrt.fwd(&x), ones());
    assert_eq!(sqrt.as_slice()[0], f64::INFINITY);
    // max/min ties send the gradient to the first argument.
    let (a, b) = (Tensor::from([1.0f64, 2.0]), Tensor::from([1.0f64, 3.0]));
    let y = op::Max.fwd(&a, &b);
    assert_eq!(
        op::Max.bwd_0(&a, &b, &y, Tensor::ones(&[2])).to_vec(),
        vec![1.0, 0.0]
    );
    assert_eq!(
        op::Max.bwd_1(&a, &b, &y, Tensor::ones(&[2])).to_vec(),
        vec![0.0, 1.0]
    );
    let y = op::Min.fwd(&a, &b);
    assert_eq!(
        op::Min.bwd_0(&a, &b, &y, Tensor::ones(&[2])).to_vec(),
        vec![1.0, 1.0]
    );
    // max_axis: the first maximal element of [3, 1, 3] gets the gradient.
    let m = Tensor::from([3.0f64, 1.0, 3.0]);
    let y = op::MaxAxis(0).fwd(&m);
    assert_eq!(
        op::MaxAxis(0).bwd(&m, &y, Tensor::scalar(1.0)).to_vec(),
        vec![1.0, 0.0, 0.0]
    );
}

#[test]
fn tensor_is_differentiable() {
    let mut p = Tensor::from([1.0f32, 2.0]);
    let mut g = p.zero_tangent();
    assert_eq!(g.to_vec(), vec![0.0, 0.0]);
    g.add_assign(Tensor::from([0.5, 1.5]));
    g.scale(2.0);
    assert_eq!(g.to_vec(), vec![1.0, 3.0]);
    p.move_along(&g);
    assert_eq!(p.to_vec(), vec![2.0, 5.0]);
    let mut seen = 0;
    g.visit(&mut |flat| match flat {
        Flat::F32(s) => seen += s.len(),
        Flat::F64(_) => panic!("an f32 tensor visits f32 slices"),
    });
    assert_eq!(seen, 2);
    let q = Tensor::from([1.0f64; 3]);
    q.zero_tangent()
        .visit(&mut |flat| assert!(matches!(flat, Flat::F64(s) if s.len() == 3)));
    let zero: T64 = grad::__private::inactive_tangent(&q);
    assert_eq!(zero.to_vec(), vec![0.0; 3]);
    assert_eq!(Tangent::dot(&q, &Tensor::from([1.0, 2.0, 3.0])), 6.0);
}

#[test]
#[should_panic(
    expected = "add_assign: the added tangent has shape [3] but the value has shape [2]"
)]
fn tangent_shapes_are_checked() {
    Tensor::from([1.0f32, 2.0]).add_assign(Tensor::from([1.0, 2.0, 3.0]));
}

#[test]
fn cross_entropy_by_hand() {
    // One row, logits [0, 0], label 0: loss = ln 2; dlogits = softmax - onehot = [-0.5, 0.5].
    let logits = Tensor::from_vec(vec![0.0f64, 0.0], &[1, 2]).unwrap();
    let (loss, back) = grad::nn::cross_entropy_vjp(&logits, &[0]);
    assert!((loss - 2f64.ln()).abs() < 1e-15);
    assert_eq!(back(1.0).0.to_vec(), vec![-0.5, 0.5]);
    // mse([1, 3], [0, 0]) = (1 + 9) / 2 = 5; dpred = 2 (pred - target) / 2 = [1, 3].
    let (l, back) = grad::nn::mse_vjp(&Tensor::from([1.0f64, 3.0]), &Tensor::zeros(&[2]));
    assert_eq!(l, 5.0);
    assert_eq!(back(1.0).0.to_vec(), vec![1.0, 3.0]);
    // bce(z = 0, t = 1) = ln 2; dz = sigmoid(0) - 1 = -0.5.
    let (l, back) = grad::nn::binary_cross_entropy_with_logits_vjp(
        &Tensor::from([0.0f64]),
        &Tensor::from([1.0]),
    );
    assert!((l - 2f64.ln()).abs() < 1e-15);
    assert_eq!(back(1.0).0.to_vec(), vec![-0.5]);
}

/// `binary_cross_entropy_with_logits` runs as one vectorized loop (`exp`, `ln` and the
/// `ln(1 + e)` correction over SIMD lanes): each element's loss within a few ulp of `std`'s
/// `relu(z) - z t + ln_1p(e^{-|z|})`, including where `e^{-|z|}` is below the ulp of 1 and
/// the loss is that tiny term alone; the mean within a few ulp of the same sum in f64;
/// NaN in, NaN out.
#[test]
fn bce_with_logits_is_accurate_per_element() {
    let reference = |z: f64, t: f64| z.max(0.0) - z * t + (-z.abs()).exp().ln_1p();
    let mut zs: Vec<f64> = (-200..=200).map(|i| f64::from(i) * 0.37).collect();
    zs.extend([
        -745.0, -700.0, -40.0, -37.5, -1e-300, 0.0, 1e-300, 36.0, 40.0, 700.0,
    ]);
    for &z in &zs {
        for t in [0.0, 0.3, 1.0] {
            let got =
                grad::nn::binary_cross_entropy_with_logits(&Tensor::from([z]), &Tensor::from([t]));
            let want = reference(z, t);
            let ulp = (want.abs() * f64::EPSILON).max(f64::MIN_POSITIVE);
            assert!(
                (got - want).abs() <= 4.0 * ulp,
                "bce({z}, {t}) = {got:e}, std: {want:e}"
            );
        }
    }
    // Many elements, across the SIMD widths and the threading threshold: the mean of the
    // per-element losses.
    for n in [7, 8, 9, 1023, 100_003] {
        let z = rand(&[n], 11, -30.0, 30.0);
        let t = rand(&[n], 12, 0.0, 1.0);
        let got = grad::nn::binary_cross_entropy_with_logits(&z, &t);
        let terms = z
            .as_slice()
            .iter()
            .zip(t.as_slice())
            .map(|(&z, &t)| reference(z, t));
        let want = terms.sum::<f64>() / n as f64;
        assert!(
            (got - want).abs() <= 1e-13 * want.abs(),
            "n = {n}: {got} vs {want}"
        );
    }
    let nan = grad::nn::binary_cross_entropy_with_logits(
        &Tensor::from([1.0, f64::NAN]),
        &Tensor::from([0.0, 1.0]),
    );
    assert!(nan.is_nan());
}

/// The f32 instantiation of each rule agrees with the f64 one (checked above against
/// finite differences) to f32 precision: forward, backward and tangent parts.
#[test]
fn f32_rules_agree_with_f64() {
    fn to32(t: &T64) -> Tensor<f32> {
        Tensor::from_vec(t.as_slice().iter().map(|&v| v as f32).collect(), t.shape()).unwrap()
    }
    fn agree(name: &str, a: &Tensor<f32>, b: &T64) {
        assert_eq!(a.shape(), b.shape(), "{name}");
        for (&x, &y) in a.as_slice().iter().zip(b.as_slice()) {
            // Both sides start from the same f32-representable inputs, so they differ only
            // by f32 rounding inside each op (a few ulp, times a condition below 10 for
            // these inputs) and f32 accumulation over at most 7 terms: 1e-5 ≈ 84 ulp.
            assert!(
                (f64::from(x) - y).abs() <= 1e-5 * (1.0 + y.abs()),
                "{name}: {x} vs {y}"
            );
        }
    }
    fn check<O>(name: &str, op: O, x: T64)
    where
        T64: Unary<O>,
        Tensor<f32>: Unary<O>,
    {
        let (w, v) = (rand(x.shape(), 7, -1.0, 1.0), rand(x.shape(), 8, -1.0, 1.0));
        let x = Tensor::from_vec(
            x.as_slice().iter().map(|&a| f64::from(a as f32)).collect(),
            x.shape(),
        )
        .unwrap();
        let (x32, w32, v32) = (to32(&x), to32(&w), to32(&v));
        let (y, y32) = (
            <T64 as Unary<O>>::fwd(&op, &x),
            <Tensor<f32> as Unary<O>>::fwd(&op, &x32),
        );
        agree(name, &y32, &y);
        agree(
            name,
            &<Tensor<f32> as Unary<O>>::bwd(&op, &x32, &y32, w32),
            &<T64 as Unary<O>>::bwd(&op, &x, &y, w),
        );
        agree(
            name,
            &<Tensor<f32> as Unary<O>>::jvp(&op, &x32, &y32, &v32),
            &<T64 as Unary<O>>::jvp(&op, &x, &y, &v),
        );
    }
    let x = rand(&[5, 7], 1, -1.0, 1.0);
    let pos = rand(&[5, 7], 2, 0.5, 2.0);
    check("exp", op::Exp, x.clone());
    check("ln", op::Ln, pos.clone());
    check("sqrt", op::Sqrt, pos);
    check("sin", op::Sin, x.clone());
    check("tanh", op::Tanh, x.clone());
    check("sigmoid", op::Sigmoid, x.clone());
    check("relu", op::Relu, x.clone());
    check("abs", op::Abs, x.clone());
    check("powi", op::Powi(2), x.clone());
    // Bilinear and structural rules in f32 against f64.
    let (a, b) = (rand(&[5, 7], 3, -1.0, 1.0), rand(&[7, 3], 4, -1.0, 1.0));
    let (a32, b32) = (to32(&a), to32(&b));
    let (a, b) = (
        Tensor::from_vec(
            a32.as_slice().iter().map(|&v| f64::from(v)).collect(),
            a.shape(),
        )
        .unwrap(),
        Tensor::from_vec(
            b32.as_slice().iter().map(|&v| f64::from(v)).collect(),
            b.shape(),
        )
        .unwrap(),
    );
    let (y, y32) = (op::Matmul.fwd(&a, &b), op::Matmul.fwd(&a32, &b32));
    agree("matmul", &y32, &y);
    let dy = rand(y.shape(), 5, -1.0, 1.0);
    let dy32 = to32(&dy);
    let dy = Tensor::from_vec(
        dy32.as_slice().iter().map(|&v| f64::from(v)).collect(),
        dy.shape(),
    )
    .unwrap();
    agree(
        "matmul dA",
        &op::Matmul.bwd_0(&a32, &b32, &y32, dy32.clone()),
        &op::Matmul.bwd_0(&a, &b, &y, dy.clone()),
    );
    agree(
        "matmul dB",
        &op::Matmul.bwd_1(&a32, &b32, &y32, dy32),
        &op::Matmul.bwd_1(&a, &b, &y, dy),
    );
    let s = op::Softmax(1).fwd(&a);
    let s32 = op::Softmax(1).fwd(&a32);
    agree("softmax", &s32, &s);
    agree(
        "log_softmax",
        &op::LogSoftmax(0).fwd(&a32),
        &op::LogSoftmax(0).fwd(&a),
    );
    agree(
        "sum_axis",
        &op::SumAxis(1).fwd(&a32),
        &op::SumAxis(1).fwd(&a),
    );
}
