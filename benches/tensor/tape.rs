//! A reverse-mode tape of tensor operations over grad's own kernels and rules, written for
//! this comparison: what a runtime tape does (record every operation with its inputs, then
//! sweep the record backwards), with the same arithmetic as the generated code.

use grad::__private::{op, shape_of};
use grad::Tensor;
use std::cell::RefCell;

type T64 = Tensor<f64>;

/// How a node's cotangent reaches its parents.
type Backward = Box<dyn Fn(&T64) -> Vec<(usize, T64)>>;

struct Node {
    value: T64,
    backward: Option<Backward>,
}

/// The record of one evaluation.
#[derive(Default)]
pub struct Tape {
    nodes: RefCell<Vec<Node>>,
}

/// A value on the tape.
#[derive(Clone, Copy)]
pub struct Var<'t> {
    tape: &'t Tape,
    index: usize,
}

impl Tape {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn var(&self, value: T64) -> Var<'_> {
        self.push(value, None)
    }

    fn push(&self, value: T64, backward: Option<Backward>) -> Var<'_> {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node { value, backward });
        Var {
            tape: self,
            index: nodes.len() - 1,
        }
    }

    fn value(&self, v: Var<'_>) -> T64 {
        self.nodes.borrow()[v.index].value.clone()
    }

    /// The gradient of the scalar `out` with respect to every node.
    pub fn backward(&self, out: Var<'_>) -> Vec<Option<T64>> {
        let nodes = self.nodes.borrow();
        let mut grads: Vec<Option<T64>> = (0..nodes.len()).map(|_| None).collect();
        grads[out.index] = Some(Tensor::ones(nodes[out.index].value.shape()));
        for i in (0..=out.index).rev() {
            let (Some(back), Some(g)) = (nodes[i].backward.as_ref(), grads[i].as_ref()) else {
                continue;
            };
            for (parent, c) in back(g) {
                grads[parent] = Some(match grads[parent].take() {
                    Some(acc) => acc + &c,
                    None => c,
                });
            }
        }
        grads
    }
}

impl<'t> Var<'t> {
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn value(&self) -> T64 {
        self.tape.value(*self)
    }

    pub fn matmul(self, b: Var<'t>) -> Var<'t> {
        let (av, bv) = (self.value(), b.value());
        let y = op::Matmul.fwd(&av, &bv);
        let yc = y.clone();
        let (i, j) = (self.index, b.index);
        self.tape.push(
            y,
            Some(Box::new(move |g| {
                vec![
                    (i, op::Matmul.bwd_0(&av, &bv, &yc, g.clone())),
                    (j, op::Matmul.bwd_1(&av, &bv, &yc, g.clone())),
                ]
            })),
        )
    }

    /// `self + b` with broadcasting.
    pub fn add(self, b: Var<'t>) -> Var<'t> {
        let (av, bv) = (self.value(), b.value());
        let y = op::Add.fwd(&av, &bv);
        let (sa, sb) = (shape_of(&av), shape_of(&bv));
        let (i, j) = (self.index, b.index);
        self.tape.push(
            y,
            Some(Box::new(move |g| {
                vec![
                    (i, op::Add.bwd_0(&sa, &sb, g.clone())),
                    (j, op::Add.bwd_1(&sa, &sb, g.clone())),
                ]
            })),
        )
    }

    pub fn mul(self, b: Var<'t>) -> Var<'t> {
        let (av, bv) = (self.value(), b.value());
        let y = op::Mul.fwd(&av, &bv);
        let yc = y.clone();
        let (i, j) = (self.index, b.index);
        self.tape.push(
            y,
            Some(Box::new(move |g| {
                vec![
                    (i, op::Mul.bwd_0(&av, &bv, &yc, g.clone())),
                    (j, op::Mul.bwd_1(&av, &bv, &yc, g.clone())),
                ]
            })),
        )
    }

    fn unary<O: Copy + 'static>(self, o: O) -> Var<'t>
    where
        T64: grad::__private::Unary<O>,
    {
        let x = self.value();
        let y = <T64 as grad::__private::Unary<O>>::fwd(&o, &x);
        let yc = y.clone();
        let i = self.index;
        self.tape.push(
            y,
            Some(Box::new(move |g| {
                vec![(
                    i,
                    <T64 as grad::__private::Unary<O>>::bwd(&o, &x, &yc, g.clone()),
                )]
            })),
        )
    }

    pub fn relu(self) -> Var<'t> {
        self.unary(op::Relu)
    }

    pub fn tanh(self) -> Var<'t> {
        self.unary(op::Tanh)
    }

    pub fn exp(self) -> Var<'t> {
        self.unary(op::Exp)
    }

    pub fn neg(self) -> Var<'t> {
        let x = self.value();
        let s = shape_of(&x);
        let i = self.index;
        self.tape.push(
            op::Neg.fwd(&x),
            Some(Box::new(move |g| vec![(i, op::Neg.bwd(&s, g.clone()))])),
        )
    }

    pub fn sum(self) -> Var<'t> {
        let x = self.value();
        let s = shape_of(&x);
        let i = self.index;
        self.tape.push(
            Tensor::scalar(op::Sum.fwd(&x)),
            Some(Box::new(move |g| vec![(i, op::Sum.bwd(&s, g.item()))])),
        )
    }

    pub fn bce_with_logits(self, targets: &T64) -> Var<'t> {
        let z = self.value();
        let y = grad::nn::binary_cross_entropy_with_logits(&z, targets);
        let targets = targets.clone();
        let i = self.index;
        self.tape.push(
            Tensor::scalar(y),
            Some(Box::new(move |g| {
                let (_, pb) = grad::nn::binary_cross_entropy_with_logits_vjp(&z, &targets);
                vec![(i, pb(g.item()).0)]
            })),
        )
    }

    pub fn cross_entropy(self, labels: &[usize]) -> Var<'t> {
        let z = self.value();
        let y = grad::nn::cross_entropy(&z, labels);
        let labels = labels.to_vec();
        let i = self.index;
        self.tape.push(
            Tensor::scalar(y),
            Some(Box::new(move |g| {
                let (_, pb) = grad::nn::cross_entropy_vjp(&z, &labels);
                vec![(i, pb(g.item()).0)]
            })),
        )
    }
}
