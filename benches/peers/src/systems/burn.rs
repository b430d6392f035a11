//! burn: eager tensors with reverse mode (its autodiff decorator over the ndarray backend,
//! `Tensor::backward`), the tensor cases, f64 on the CPU.
//!
//! Written as its users write it (burn 0.22: a tensor carries its backend in its `Device`,
//! not in its type): the ndarray device is configured for f64, the inputs are made on it
//! once, and the parameters are moved to the autodiff backend with
//! `autodiff().require_grad()`. Each gradient call runs the forward pass on them and
//! `backward()`, and reads every parameter's gradient with `grad(&grads)`. The primal runs
//! the same forward pass on the tensors of the inner ndarray backend, which record nothing
//! (candle's detached tensors). T2's loss is the protocol's stable formula,
//! relu(z) - z y + ln(1 + e^{-|z|}); T3's is burn's `CrossEntropyLoss`, i.e. log_softmax, a
//! gather by label, and the mean.

use std::hint::black_box;

use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::tensor::activation::relu;
use burn::tensor::kind::Autodiff;
use burn::tensor::{Device, FloatDType, Gradients, Int, Tensor, TensorData};

use crate::check::Computed;
use crate::data::{Array, Case};
use crate::run::Runner;

fn t1(a: &Tensor<1>) -> Tensor<1> {
    (a.clone() * 5.0).sum()
}

/// `p` = (w (100x1), b (one value)); x and y (1024x1) are data.
fn t2((w, b): &(Tensor<2>, Tensor<1>), (x, y): &(Tensor<2>, Tensor<2>)) -> Tensor<1> {
    let z = x.clone().matmul(w.clone()) + b.clone().unsqueeze();
    let softplus = z.clone().abs().neg().exp().add_scalar(1.0).log();
    (relu(z.clone()) - z * y.clone() + softplus).mean()
}

type Mlp = (Tensor<2>, Tensor<1>, Tensor<2>, Tensor<1>);

/// `p` = (w1, b1, w2, b2); x and the labels are data.
fn t3(
    (w1, b1, w2, b2): &Mlp,
    (x, labels): &(Tensor<2>, Tensor<1, Int>),
    loss: &CrossEntropyLoss,
) -> Tensor<1> {
    let h = relu(x.clone().matmul(w1.clone()) + b1.clone().unsqueeze());
    let logits = h.matmul(w2.clone()) + b2.clone().unsqueeze();
    loss.forward(logits, labels.clone())
}

fn t4(x: &Tensor<1>) -> Tensor<1> {
    let t = x.clone().tanh();
    (t.square() * x.clone().neg().exp()).sum()
}

/// The tensors a loss takes, as one value: a tensor, a tuple of them, or none.
trait Tensors: Clone {
    /// The same tensors on the autodiff backend (no copy of the data).
    fn autodiff(&self) -> Self;
}

/// The differentiated inputs of a case, in `wrt` order.
trait Params: Tensors {
    fn require_grad(self) -> Self;
    /// Each parameter's gradient, flattened in C order.
    fn grads(&self, grads: &Gradients) -> Vec<Vec<f64>>;
}

impl<const D: usize, K: Autodiff> Tensors for Tensor<D, K> {
    fn autodiff(&self) -> Self {
        self.clone().autodiff()
    }
}

impl<const D: usize> Params for Tensor<D> {
    fn require_grad(self) -> Self {
        Tensor::require_grad(self)
    }

    fn grads(&self, grads: &Gradients) -> Vec<Vec<f64>> {
        let g = self.grad(grads).expect("burn: no gradient");
        // Without conversion: fails unless the gradient is f64.
        vec![g.into_data().try_into_vec().expect("burn: f64 gradient")]
    }
}

impl Tensors for () {
    fn autodiff(&self) -> Self {}
}

macro_rules! tuple {
    ($($t:ident $i:tt),*) => {
        impl<$($t: Tensors),*> Tensors for ($($t,)*) {
            fn autodiff(&self) -> Self {
                ($(self.$i.autodiff(),)*)
            }
        }

        impl<$($t: Params),*> Params for ($($t,)*) {
            fn require_grad(self) -> Self {
                ($(self.$i.require_grad(),)*)
            }

            fn grads(&self, grads: &Gradients) -> Vec<Vec<f64>> {
                [$(self.$i.grads(grads)),*].concat()
            }
        }
    };
}

tuple!(A 0, B 1);
tuple!(A 0, B 1, C 2, D 3);

/// The CPU device of the ndarray backend, with f64 as its float type.
fn device() -> crate::Result<Device> {
    // Deprecated since burn 0.22 in favour of its Flex backend; ndarray is the backend named
    // for this comparison (see the README).
    #[allow(deprecated)]
    let mut device = Device::ndarray();
    device.configure(FloatDType::F64)?;
    Ok(device)
}

/// An input as a burn tensor of its shape (or of `shape`, when given), on `device`.
fn tensor<const D: usize>(a: &Array, shape: Option<&[usize]>, device: &Device) -> Tensor<D> {
    let data = TensorData::new(a.values.clone(), shape.unwrap_or(&a.shape).to_vec());
    Tensor::from_data(data, device)
}

/// Checks and times one case: `params` are the differentiated inputs and `data` the rest,
/// both on the inner backend.
fn measure<P: Params, Q: Tensors>(
    r: &Runner,
    case: &Case,
    params: P,
    data: Q,
    loss: impl Fn(&P, &Q) -> Tensor<1>,
) {
    let tracked = params.autodiff().require_grad();
    let tracked_data = data.autodiff();
    let view = |(value, grads): &(Tensor<1>, Gradients)| {
        Computed::new(value.clone().into_scalar::<f64>(), tracked.grads(grads))
    };
    r.measure(
        case,
        || loss(black_box(&params), &data),
        || {
            let value = loss(black_box(&tracked), &tracked_data);
            let grads = value.backward();
            (value, grads)
        },
        view,
    );
}

pub fn run(r: &Runner) -> crate::Result<()> {
    let device = device()?;
    if let Some(c) = r.case("T1") {
        let a: Tensor<1> = tensor(c.input("a"), None, &device);
        measure(r, c, a, (), |a, ()| t1(a));
    }
    if let Some(c) = r.case("T2") {
        let w = tensor(c.input("w"), Some(&[100, 1]), &device);
        // burn's tensors have rank >= 1: the scalar b is one value.
        let b = tensor(c.input("b"), Some(&[1]), &device);
        let x = tensor(c.input("x"), None, &device);
        let y = tensor(c.input("y"), Some(&[1024, 1]), &device);
        measure(r, c, (w, b), (x, y), t2);
    }
    if let Some(c) = r.case("T3") {
        let params: Mlp = (
            tensor(c.input("w1"), None, &device),
            tensor(c.input("b1"), None, &device),
            tensor(c.input("w2"), None, &device),
            tensor(c.input("b2"), None, &device),
        );
        let x = tensor(c.input("x"), None, &device);
        let labels = c.input("labels").labels();
        let labels = TensorData::new(labels.iter().map(|&l| l as i64).collect(), [labels.len()]);
        let labels = Tensor::<1, Int>::from_data(labels, &device);
        let loss = CrossEntropyLossConfig::new().init(&device);
        measure(r, c, params, (x, labels), |p, d| t3(p, d, &loss));
    }
    if let Some(c) = r.case("T4") {
        let x: Tensor<1> = tensor(c.input("x"), None, &device);
        measure(r, c, x, (), |x, ()| t4(x));
    }
    Ok(())
}
