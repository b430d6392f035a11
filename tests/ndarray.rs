//! Feature `ndarray`: tensors into `ArrayD` and fixed-rank arrays and back, any layout of
//! array into a tensor in row-major order, and rank mismatches as errors naming both ranks.
//! Run with `cargo test -p grad --features ndarray --test ndarray`.
#![cfg(feature = "ndarray")]

use grad::Tensor;
use grad::ndarray::{Array0, Array1, Array2, Array3, ArrayD, IxDyn, array, s};

#[test]
fn tensor_into_arrayd_keeps_shape_and_row_major_order() {
    let t = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    let a = ArrayD::from(&t);
    assert_eq!(a.shape(), [2, 3]);
    // Element (i, j) is data[3 i + j].
    assert_eq!(a[[0, 2]], 3.0);
    assert_eq!(a[[1, 0]], 4.0);
    let moved: ArrayD<f64> = t.clone().into();
    assert_eq!(moved, a);
    // And back, bit for bit.
    let back = Tensor::from(moved);
    assert_eq!(back, t);
}

#[test]
fn fixed_rank_arrays_convert_both_ways() {
    let m: Array2<f32> = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
    let t = Tensor::from(m.clone());
    assert_eq!(t.shape(), [3, 2]);
    assert_eq!(t.to_vec(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(Array2::try_from(&t).unwrap(), m);
    assert_eq!(Array2::<f32>::try_from(t).unwrap(), m);

    let v: Array1<f64> = array![0.5, -1.5];
    let t = Tensor::from(v.view());
    assert_eq!((t.shape(), t.to_vec()), (&[2][..], vec![0.5, -1.5]));
    assert_eq!(Array1::try_from(t).unwrap(), v);

    let s = Tensor::<f64>::scalar(2.5);
    let a0 = Array0::try_from(&s).unwrap();
    assert_eq!(a0.into_scalar(), 2.5);
    let z = Tensor::from(Array0::from_elem((), 7.0f32));
    assert_eq!((z.shape(), z.item()), (&[][..], 7.0));

    let cube = Tensor::<f32>::randn(&[2, 3, 4], 5);
    let a3 = Array3::try_from(&cube).unwrap();
    assert_eq!(a3[[1, 2, 3]], cube.get(&[1, 2, 3]));
    assert_eq!(a3[[0, 1, 2]], cube.get(&[0, 1, 2]));
}

#[test]
fn a_tensor_of_another_rank_is_an_error_naming_both_ranks() {
    let t = Tensor::<f32>::zeros(&[2, 3]);
    let e = Array1::try_from(&t).unwrap_err().to_string();
    assert!(e.contains("[2, 3] (rank 2)") && e.contains("rank-1"), "{e}");
    let e = Array3::<f32>::try_from(t).unwrap_err().to_string();
    assert!(e.contains("rank-3"), "{e}");
}

#[test]
fn transposed_sliced_and_strided_arrays_become_row_major_tensors() {
    // a[i][j] = 10 i + j, 3 × 4.
    let a = ArrayD::from_shape_fn(IxDyn(&[3, 4]), |ix| (10 * ix[0] + ix[1]) as f64);
    // The transpose (column-major in memory): element (j, i) = 10 i + j.
    let t = Tensor::from(a.t());
    assert_eq!(t.shape(), [4, 3]);
    assert_eq!(
        t.to_vec(),
        [0., 10., 20., 1., 11., 21., 2., 12., 22., 3., 13., 23.]
    );
    // An owned transposed array, whose buffer is not in row-major order.
    let owned = a.clone().reversed_axes();
    assert_eq!(Tensor::from(owned), t);
    // Every other column of rows 1..: a strided view.
    let strided = Tensor::from(a.slice(s![1.., ..;2]));
    assert_eq!(strided.shape(), [2, 2]);
    assert_eq!(strided.to_vec(), [10., 12., 20., 22.]);
    // An owned array sliced in place: standard layout, data at an offset in its buffer.
    let mut tail = a.clone();
    tail.slice_collapse(s![1.., ..]);
    assert_eq!(
        Tensor::from(tail).to_vec(),
        [10., 11., 12., 13., 20., 21., 22., 23.]
    );
    // Reversed rows: a negative stride.
    let rev = Tensor::from(a.slice(s![..;-1, 0]));
    assert_eq!(rev.to_vec(), [20., 10., 0.]);
}
