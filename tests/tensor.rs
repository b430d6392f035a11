//! The tensor type through the facade: constructors, inspection, printing, operators with
//! broadcasting, reductions, products and shape operations, against plain f64 references.

use grad::{ShapeError, Tensor};

/// A small deterministic tensor of `shape` with distinct values.
fn t(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, -2.0, 2.0, seed)
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
}

#[test]
fn constructors_check_shapes() {
    let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    assert_eq!(a.shape(), &[2, 3]);
    assert_eq!((a.ndim(), a.len()), (2, 6));
    assert_eq!(a.get(&[1, 2]), 6.0);
    assert_eq!(a.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let err: ShapeError = Tensor::from_vec(vec![1.0f32; 5], &[2, 3]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "from_vec: 5 elements do not fill shape [2, 3] (6 elements)"
    );
    let _: &dyn std::error::Error = &err;
    assert!(Tensor::<f64>::from_slice(&[1.0, 2.0], &[3]).is_err());
    assert!(Tensor::<f64>::from_vec(vec![], &[usize::MAX, 2]).is_err());
    assert_eq!(Tensor::<f64>::zeros(&[2, 2]).to_vec(), vec![0.0; 4]);
    assert_eq!(Tensor::<f64>::ones(&[3]).to_vec(), vec![1.0; 3]);
    assert_eq!(Tensor::full(&[2], 7.5f32).to_vec(), vec![7.5; 2]);
    assert_eq!(Tensor::zeros_like(&a).shape(), &[2, 3]);
    let s = Tensor::scalar(3.0f64);
    assert_eq!((s.ndim(), s.len(), s.item()), (0, 1, 3.0));
    assert_eq!(Tensor::from([1.0f32, 2.0]).shape(), &[2]);
    assert_eq!(Tensor::from(vec![1.0f64, 2.0, 3.0]).shape(), &[3]);
    let empty = Tensor::<f32>::zeros(&[0, 3]);
    assert!(empty.is_empty());
}

#[test]
fn random_constructors_are_seeded() {
    let a = Tensor::<f64>::randn(&[1000], 7);
    assert_eq!(a.to_vec(), Tensor::<f64>::randn(&[1000], 7).to_vec());
    assert_ne!(a.to_vec(), Tensor::<f64>::randn(&[1000], 8).to_vec());
    // Moments of 1000 standard normal samples: mean within 4 standard errors (4/√1000 ≈ 0.13).
    assert!(a.mean().abs() < 0.13, "{}", a.mean());
    let var = (&a * &a).mean() - a.mean() * a.mean();
    assert!((var - 1.0).abs() < 0.2, "{var}");
    let u = Tensor::<f32>::rand_uniform(&[500], 2.0, 3.0, 1);
    assert!(u.as_slice().iter().all(|&v| (2.0..3.0).contains(&v)));
}

#[test]
#[should_panic(expected = "item: a tensor of shape [2] has 2 elements, not 1")]
fn item_needs_one_element() {
    Tensor::from([1.0f32, 2.0]).item();
}

#[test]
#[should_panic(expected = "get: index [2, 0] is out of range for shape [2, 3]")]
fn get_checks_range() {
    Tensor::<f32>::zeros(&[2, 3]).get(&[2, 0]);
}

#[test]
fn display_is_numpy_like() {
    let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.5], &[2, 2]).unwrap();
    assert_eq!(a.to_string(), "[[1.  2. ]\n [3.  4.5]]");
    assert_eq!(
        Tensor::from([1.0f64, -2.0, 3.0]).to_string(),
        "[ 1. -2.  3.]"
    );
    assert_eq!(Tensor::scalar(2.5f64).to_string(), "2.5");
    assert_eq!(
        format!(
            "{:?}",
            Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap()
        ),
        "tensor([[1., 2.],\n        [3., 4.]], dtype=f32)"
    );
    let c = Tensor::from_vec((0..8).map(f64::from).collect(), &[2, 2, 2]).unwrap();
    assert_eq!(
        c.to_string(),
        "[[[0. 1.]\n  [2. 3.]]\n\n [[4. 5.]\n  [6. 7.]]]"
    );
    // numpy: print(np.arange(1001.)) (more than 1000 elements: summarized).
    let big = Tensor::from_vec((0..1001).map(f64::from).collect(), &[1001]).unwrap();
    assert_eq!(big.to_string(), "[   0.    1.    2. ...  998.  999. 1000.]");
    assert_eq!(
        Tensor::from([f64::NAN, f64::INFINITY]).to_string(),
        "[nan inf]"
    );
}

/// Every pair of shapes of rank 0 to 2 that broadcast, and some that do not.
const SHAPES: &[&[usize]] = &[&[], &[1], &[3], &[1, 1], &[1, 3], &[2, 1], &[2, 3]];

/// `op` with numpy broadcasting, computed by index arithmetic in f64.
fn reference(a: &Tensor<f64>, b: &Tensor<f64>, f: fn(f64, f64) -> f64) -> (Vec<usize>, Vec<f64>) {
    let shape = grad::broadcast_shapes(a.shape(), b.shape())
        .unwrap()
        .to_vec();
    let n: usize = shape.iter().product();
    let pick = |x: &Tensor<f64>, flat: usize| {
        let mut idx = vec![0; shape.len()];
        let mut r = flat;
        for ax in (0..shape.len()).rev() {
            idx[ax] = r % shape[ax];
            r /= shape[ax];
        }
        let pad = shape.len() - x.ndim();
        let own: Vec<usize> = (0..x.ndim())
            .map(|i| if x.shape()[i] == 1 { 0 } else { idx[pad + i] })
            .collect();
        x.get(&own)
    };
    (
        shape.clone(),
        (0..n).map(|i| f(pick(a, i), pick(b, i))).collect(),
    )
}

#[test]
fn operators_broadcast_in_every_rank_combination() {
    type Op = (&'static str, fn(f64, f64) -> f64);
    let ops: [Op; 4] = [
        ("+", |a, b| a + b),
        ("-", |a, b| a - b),
        ("*", |a, b| a * b),
        ("/", |a, b| a / b),
    ];
    for (i, sa) in SHAPES.iter().enumerate() {
        for (j, sb) in SHAPES.iter().enumerate() {
            let (a, b) = (t(sa, i as u64), t(sb, 100 + j as u64));
            for (name, f) in ops {
                let (shape, want) = reference(&a, &b, f);
                let got = match name {
                    "+" => [
                        &a + &b,
                        a.clone() + &b,
                        &a + b.clone(),
                        a.clone() + b.clone(),
                    ],
                    "-" => [
                        &a - &b,
                        a.clone() - &b,
                        &a - b.clone(),
                        a.clone() - b.clone(),
                    ],
                    "*" => [
                        &a * &b,
                        a.clone() * &b,
                        &a * b.clone(),
                        a.clone() * b.clone(),
                    ],
                    _ => [
                        &a / &b,
                        a.clone() / &b,
                        &a / b.clone(),
                        a.clone() / b.clone(),
                    ],
                };
                for g in got {
                    assert_eq!(g.shape(), shape.as_slice(), "{sa:?} {name} {sb:?}");
                    assert!(close(g.as_slice(), &want, 1e-15), "{sa:?} {name} {sb:?}");
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "add: shapes [2, 3] and [2] do not broadcast")]
fn incompatible_shapes_panic_naming_both() {
    let _ = &Tensor::<f32>::zeros(&[2, 3]) + &Tensor::<f32>::zeros(&[2]);
}

#[test]
fn scalar_operands_on_either_side() {
    let a = Tensor::from([1.0f32, 2.0, 4.0]);
    assert_eq!((2.0 * &a).to_vec(), vec![2.0, 4.0, 8.0]);
    assert_eq!((&a / 2.0).to_vec(), vec![0.5, 1.0, 2.0]);
    assert_eq!((1.0 - &a).to_vec(), vec![0.0, -1.0, -3.0]);
    assert_eq!((8.0 / a.clone()).to_vec(), vec![8.0, 4.0, 2.0]);
    assert_eq!((a.clone() + 1.0).to_vec(), vec![2.0, 3.0, 5.0]);
    assert_eq!((-&a).to_vec(), vec![-1.0, -2.0, -4.0]);
    let b = Tensor::from([1.0f64, 2.0]);
    assert_eq!((3.0 * b).to_vec(), vec![3.0, 6.0]);
    let mut c = Tensor::from([1.0f64, 2.0]);
    c += &Tensor::scalar(1.0);
    c *= 2.0;
    assert_eq!(c.to_vec(), vec![4.0, 6.0]);
}

#[test]
fn reductions_match_f64_references() {
    let x = t(&[3, 4, 5], 3);
    let v = x.to_vec();
    assert!((x.sum() - v.iter().sum::<f64>()).abs() < 1e-12);
    assert!((x.mean() - v.iter().sum::<f64>() / 60.0).abs() < 1e-12);
    for axis in 0..3 {
        let dims = x.shape().to_vec();
        let mut out_shape = dims.clone();
        out_shape.remove(axis);
        let (s, m, mx) = (x.sum_axis(axis), x.mean_axis(axis), x.max_axis(axis));
        assert_eq!(s.shape(), out_shape.as_slice());
        let n: usize = out_shape.iter().product();
        for flat in 0..n {
            let mut idx = vec![0; 2];
            let mut r = flat;
            for ax in (0..2).rev() {
                idx[ax] = r % out_shape[ax];
                r /= out_shape[ax];
            }
            let line: Vec<f64> = (0..dims[axis])
                .map(|k| {
                    let mut full = idx.clone();
                    full.insert(axis, k);
                    x.get(&full)
                })
                .collect();
            let sum: f64 = line.iter().sum();
            assert!((s.as_slice()[flat] - sum).abs() < 1e-12);
            assert!((m.as_slice()[flat] - sum / dims[axis] as f64).abs() < 1e-12);
            assert_eq!(
                mx.as_slice()[flat],
                line.iter().cloned().fold(f64::MIN, f64::max)
            );
        }
    }
    assert!(
        Tensor::from([1.0f32, f32::NAN, 3.0])
            .max_axis(0)
            .item()
            .is_nan()
    );
}

#[test]
fn sum_is_accurate() {
    // 1e6 copies of 0.1f32: the naive running sum drifts by ~1%; blocked pairwise summation
    // keeps the error near the rounding of 0.1 itself (0.1f32 = 0.100000001490116).
    let x = Tensor::full(&[1_000_000], 0.1f32);
    let exact = 1_000_000.0 * f64::from(0.1f32);
    assert!(
        (f64::from(x.sum()) - exact).abs() / exact < 1e-6,
        "{}",
        x.sum()
    );
}

fn naive_matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
        }
    }
    c
}

#[test]
fn matmul_follows_numpy_for_1d_and_2d() {
    let (a, b) = (t(&[3, 4], 1), t(&[4, 5], 2));
    let c = a.matmul(&b);
    assert_eq!(c.shape(), &[3, 5]);
    assert!(close(
        c.as_slice(),
        &naive_matmul(a.as_slice(), b.as_slice(), 3, 4, 5),
        1e-14
    ));
    let v = t(&[4], 3);
    assert_eq!(v.matmul(&b).shape(), &[5]);
    assert!(close(
        v.matmul(&b).as_slice(),
        &naive_matmul(v.as_slice(), b.as_slice(), 1, 4, 5),
        1e-14
    ));
    let w = t(&[4], 4);
    assert_eq!(a.matmul(&w).shape(), &[3]);
    assert!(close(
        a.matmul(&w).as_slice(),
        &naive_matmul(a.as_slice(), w.as_slice(), 3, 4, 1),
        1e-14
    ));
    let s = v.matmul(&w);
    assert_eq!(s.shape(), &[] as &[usize]);
    assert!((s.item() - v.dot(&w)).abs() < 1e-14);
    // Large enough to take the threaded path.
    let (a, b) = (t(&[200, 150], 5), t(&[150, 300], 6));
    assert!(close(
        a.matmul(&b).as_slice(),
        &naive_matmul(a.as_slice(), b.as_slice(), 200, 150, 300),
        1e-13
    ));
}

#[test]
#[should_panic(expected = "matmul: shapes [3, 4] and [5, 2] do not align (4 != 5)")]
fn matmul_checks_inner_dimensions() {
    Tensor::<f32>::zeros(&[3, 4]).matmul(&Tensor::zeros(&[5, 2]));
}

#[test]
fn transpose_and_reshape() {
    let a = Tensor::from_vec((0..6).map(f64::from).collect(), &[2, 3]).unwrap();
    let at = a.t();
    assert_eq!(at.shape(), &[3, 2]);
    assert_eq!(at.to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    assert_eq!(a.transpose().to_vec(), at.to_vec());
    let big = t(&[70, 45], 9);
    assert_eq!(big.t().t().to_vec(), big.to_vec());
    assert_eq!(big.t().get(&[44, 69]), big.get(&[69, 44]));
    assert_eq!(a.reshape(&[3, 2]).shape(), &[3, 2]);
    assert_eq!(a.reshape(&[6]).to_vec(), a.to_vec());
}

#[test]
#[should_panic(expected = "reshape: shape [2, 3] (6 elements) cannot become shape [4]")]
fn reshape_checks_count() {
    Tensor::<f32>::zeros(&[2, 3]).reshape(&[4]);
}

#[test]
fn softmax_is_stable_and_normalized() {
    let x = Tensor::from_vec(vec![1000.0f64, 1001.0, 1002.0, -5.0, 0.0, 5.0], &[2, 3]).unwrap();
    let s = x.softmax(1);
    // softmax([0, 1, 2]) = e^k / (1 + e + e²).
    let z = 1.0 + 1f64.exp() + 2f64.exp();
    assert!(close(
        &s.as_slice()[..3],
        &[1.0 / z, 1f64.exp() / z, 2f64.exp() / z],
        1e-15
    ));
    let ls = x.log_softmax(1);
    assert!(close(
        &ls.as_slice()[..3],
        &[-z.ln(), 1.0 - z.ln(), 2.0 - z.ln()],
        1e-15
    ));
    let cols = x.softmax(0);
    for j in 0..3 {
        assert!((cols.get(&[0, j]) + cols.get(&[1, j]) - 1.0).abs() < 1e-15);
    }
    assert!(close(
        x.log_softmax(0).as_slice(),
        &cols.to_vec().iter().map(|v| v.ln()).collect::<Vec<_>>(),
        1e-12
    ));
}

#[test]
fn pointwise_methods_match_std() {
    let x = Tensor::from([0.5f64, 1.5, 2.0]);
    let v = x.to_vec();
    let check = |got: Tensor<f64>, f: fn(f64) -> f64| {
        let want: Vec<f64> = v.iter().map(|&a| f(a)).collect();
        assert!(close(got.as_slice(), &want, 4e-16), "{got:?} vs {want:?}");
    };
    check(x.exp(), f64::exp);
    check(x.ln(), f64::ln);
    check(x.sqrt(), f64::sqrt);
    check(x.sin(), f64::sin);
    check(x.cos(), f64::cos);
    check(x.tan(), f64::tan);
    check(x.tanh(), f64::tanh);
    check((-&x).abs(), f64::abs);
    check(x.sigmoid(), |a| 1.0 / (1.0 + (-a).exp()));
    check((&x - 1.0).relu(), |a| (a - 1.0).max(0.0));
    check(x.powi(3), |a| a.powi(3));
    check(x.powf(1.5), |a| a.powf(1.5));
    check(x.clamp(1.0, 1.8), |a| a.clamp(1.0, 1.8));
    check(x.max(1.0), |a| a.max(1.0));
    let one = Tensor::from([1.0]);
    check(x.min(&one), |a| a.min(1.0));
    check(x.max(one), |a| a.max(1.0));
}

#[test]
fn tensors_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Tensor<f32>>();
    check::<Tensor<f64>>();
}
