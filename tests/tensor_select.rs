//! Element reads, slices and joins by hand: `get`, `narrow`, `index_select` (repeated
//! indices accumulating), `Tensor::cat` and `Tensor::stack` along each axis of 1-d and 2-d
//! tensors, their pullbacks and tangents on hand-derived values, and the panic of every
//! shape error. (Finite-difference checks of each rule are in `rules_tensor.rs`'s table.)

use grad::__private::{op, shape_of};
use grad::{NoTangent, Tensor};

type T64 = Tensor<f64>;

fn t(data: &[f64], shape: &[usize]) -> T64 {
    Tensor::from_slice(data, shape).unwrap()
}

/// `[[1, 2, 3], [4, 5, 6]]`.
fn m23() -> T64 {
    t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])
}

#[test]
fn get_reads_one_element_and_its_rules_put_one_back() {
    let x = m23();
    assert_eq!(x.get(&[0, 2]), 3.0);
    assert_eq!(op::Get(&[1, 1]).fwd(&x), 5.0);
    // y = x[1, 1]: dx is dy at [1, 1], zeros elsewhere; the tangent is dx[1, 1].
    let dx = op::Get(&[1, 1]).bwd::<T64>(&shape_of(&x), 7.0);
    assert_eq!(dx.to_vec(), vec![0.0, 0.0, 0.0, 0.0, 7.0, 0.0]);
    let d = t(&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], &[2, 3]);
    assert_eq!(op::Get(vec![1, 1]).jvp::<T64>(&shape_of(&x), &d), 0.5);
}

#[test]
fn narrow_takes_a_window_and_pads_its_cotangent() {
    let x = m23();
    let y = x.narrow(1, 1, 2);
    assert_eq!(y.shape(), &[2, 2]);
    assert_eq!(y.to_vec(), vec![2.0, 3.0, 5.0, 6.0]);
    assert_eq!(x.narrow(0, 1, 1).to_vec(), vec![4.0, 5.0, 6.0]);
    // The transpose pads dy with zeros where column 0 was cut off.
    let dy = t(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let dx = op::Narrow(1, 1, 2).bwd::<T64>(&shape_of(&x), dy);
    assert_eq!(dx.shape(), &[2, 3]);
    assert_eq!(dx.to_vec(), vec![0.0, 1.0, 2.0, 0.0, 3.0, 4.0]);
    // An empty window: an empty result, and a zero cotangent.
    let e = x.narrow(1, 3, 0);
    assert_eq!(e.shape(), &[2, 0]);
    let de = op::Narrow(1, 3, 0).bwd::<T64>(&shape_of(&x), e);
    assert_eq!(de.to_vec(), vec![0.0; 6]);
}

#[test]
fn narrow_of_a_vector() {
    let v = Tensor::from([1.0, 2.0, 3.0, 4.0]);
    assert_eq!(v.narrow(0, 2, 2).to_vec(), vec![3.0, 4.0]);
    let tan = op::Narrow(0, 2, 2).jvp::<T64>(&shape_of(&v), &Tensor::from([5.0, 6.0, 7.0, 8.0]));
    assert_eq!(tan.to_vec(), vec![7.0, 8.0]);
}

#[test]
fn index_select_repeated_indices_accumulate() {
    // table = [[1, 2], [3, 4], [5, 6]], rows [2, 0, 2] = [[5, 6], [1, 2], [5, 6]].
    let table = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]);
    let rows = table.index_select(0, &[2, 0, 2]);
    assert_eq!(rows.to_vec(), vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
    // With dy = [[1, 2], [3, 4], [5, 6]]: row 0 was taken once (by dy's row 1): [3, 4];
    // row 1 never: [0, 0]; row 2 twice (dy's rows 0 and 2): [1 + 5, 2 + 6] = [6, 8].
    let dy = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]);
    let d = op::IndexSelect(0, [2, 0, 2]).bwd::<T64>(&shape_of(&table), dy);
    assert_eq!(d.to_vec(), vec![3.0, 4.0, 0.0, 0.0, 6.0, 8.0]);
}

#[test]
fn index_select_along_columns_accumulates_per_row() {
    // x = [[1, 2, 3], [4, 5, 6]], columns [1, 1, 0] = [[2, 2, 1], [5, 5, 4]].
    let x = m23();
    let cols = [1, 1, 0];
    let y = x.index_select(1, &cols);
    assert_eq!(y.shape(), &[2, 3]);
    assert_eq!(y.to_vec(), vec![2.0, 2.0, 1.0, 5.0, 5.0, 4.0]);
    // dy = [[1, 10, 100], [2, 20, 200]]: column 0 gets dy[:, 2] = [100, 200]; column 1 gets
    // dy[:, 0] + dy[:, 1] = [11, 22]; column 2 nothing.
    let dy = t(&[1.0, 10.0, 100.0, 2.0, 20.0, 200.0], &[2, 3]);
    let dx = op::IndexSelect(1, &cols[..]).bwd::<T64>(&shape_of(&x), dy);
    assert_eq!(dx.to_vec(), vec![100.0, 11.0, 0.0, 200.0, 22.0, 0.0]);
    // The tangent is gathered as the value is.
    let d = t(&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], &[2, 3]);
    let tan = op::IndexSelect(1, &cols[..]).jvp::<T64>(&shape_of(&x), &d);
    assert_eq!(tan.to_vec(), vec![0.2, 0.2, 0.1, 0.5, 0.5, 0.4]);
}

#[test]
fn index_select_of_no_indices_is_empty() {
    let x = m23();
    let y = x.index_select(0, &[]);
    assert_eq!(y.shape(), &[0, 3]);
    let dx = op::IndexSelect(0, Vec::new()).bwd::<T64>(&shape_of(&x), y);
    assert_eq!(dx.to_vec(), vec![0.0; 6]);
}

#[test]
fn cat_along_rows_and_columns() {
    let (a, b) = (m23(), t(&[7.0, 8.0, 9.0], &[1, 3]));
    let rows = Tensor::cat(&[&a, &b], 0);
    assert_eq!(rows.shape(), &[3, 3]);
    assert_eq!(
        rows.to_vec(),
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    );
    let c = t(&[7.0, 8.0], &[2, 1]);
    let cols = Tensor::cat(&[&a, &c, &a], 1);
    assert_eq!(cols.shape(), &[2, 7]);
    assert_eq!(
        cols.to_vec(),
        vec![
            1.0, 2.0, 3.0, 7.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 4.0, 5.0, 6.0
        ]
    );
    // One tensor is a copy of itself.
    assert_eq!(Tensor::cat(&[&a], 1), a);
}

#[test]
fn cat_pullback_cuts_the_cotangent_back() {
    let (a, c) = (m23(), t(&[7.0, 8.0], &[2, 1]));
    let (y, back) = Tensor::cat_vjp(&[&a, &c], 1);
    assert_eq!(y, Tensor::cat(&[&a, &c], 1));
    // dy = [[1, 2, 3, 4], [5, 6, 7, 8]]: a's part is the first three columns, c's the last.
    let dy = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], &[2, 4]);
    let (d, NoTangent) = back(dy);
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].shape(), &[2, 3]);
    assert_eq!(d[0].to_vec(), vec![1.0, 2.0, 3.0, 5.0, 6.0, 7.0]);
    assert_eq!(d[1].shape(), &[2, 1]);
    assert_eq!(d[1].to_vec(), vec![4.0, 8.0]);
    // The tangent is the tangents joined alike.
    let (da, dc) = (Tensor::full(&[2, 3], 0.5), t(&[-1.0, -2.0], &[2, 1]));
    let (v, tan) = Tensor::cat_jvp(&[&a, &c], 1, &[&da, &dc], NoTangent);
    assert_eq!(v, y);
    assert_eq!(tan.to_vec(), vec![0.5, 0.5, 0.5, -1.0, 0.5, 0.5, 0.5, -2.0]);
}

#[test]
fn cat_of_vectors() {
    let (a, b) = (Tensor::from([1.0, 2.0]), Tensor::from([3.0, 4.0, 5.0]));
    let (y, back) = Tensor::cat_vjp(&[&a, &b, &a], 0);
    assert_eq!(y.to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0]);
    // The same tensor twice gets two cotangents; adding them is the caller's business.
    let (d, NoTangent) = back(Tensor::from([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]));
    let d: Vec<Vec<f64>> = d.iter().map(Tensor::to_vec).collect();
    assert_eq!(d, vec![vec![1.0, 2.0], vec![3.0, 4.0, 5.0], vec![6.0, 7.0]]);
}

#[test]
fn stack_along_each_axis() {
    let (a, b) = (m23(), m23() * 10.0);
    let s0 = Tensor::stack(&[&a, &b], 0);
    assert_eq!(s0.shape(), &[2, 2, 3]);
    assert_eq!(s0.narrow(0, 1, 1).reshape(&[2, 3]), b);
    let s1 = Tensor::stack(&[&a, &b], 1);
    assert_eq!(s1.shape(), &[2, 2, 3]);
    assert_eq!(
        s1.to_vec(),
        vec![
            1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 4.0, 5.0, 6.0, 40.0, 50.0, 60.0
        ]
    );
    let s2 = Tensor::stack(&[&a, &b], 2);
    assert_eq!(s2.shape(), &[2, 3, 2]);
    assert_eq!(s2.get(&[1, 2, 0]), 6.0);
    assert_eq!(s2.get(&[1, 2, 1]), 60.0);
    // Vectors become the rows (axis 0) or the columns (axis 1) of a matrix.
    let (u, v) = (Tensor::from([1.0, 2.0]), Tensor::from([3.0, 4.0]));
    assert_eq!(
        Tensor::stack(&[&u, &v], 0).to_vec(),
        vec![1.0, 2.0, 3.0, 4.0]
    );
    let cols = Tensor::stack(&[&u, &v], 1);
    assert_eq!(cols.shape(), &[2, 2]);
    assert_eq!(cols.to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
}

#[test]
fn stack_pullback_and_tangent() {
    let (a, b) = (m23(), m23() * 10.0);
    let (y, back) = Tensor::stack_vjp(&[&a, &b], 1);
    assert_eq!(y, Tensor::stack(&[&a, &b], 1));
    // dy[i, k, j] goes to tensor k at [i, j].
    let dy: T64 = t(&(0..12).map(f64::from).collect::<Vec<_>>(), &[2, 2, 3]);
    let (d, NoTangent) = back(dy);
    assert_eq!(d[0].to_vec(), vec![0.0, 1.0, 2.0, 6.0, 7.0, 8.0]);
    assert_eq!(d[1].to_vec(), vec![3.0, 4.0, 5.0, 9.0, 10.0, 11.0]);
    let (_, tan) = Tensor::stack_jvp(&[&a, &b], 2, &[&a, &b], NoTangent);
    assert_eq!(tan, Tensor::stack(&[&a, &b], 2));
}

#[test]
fn joins_of_f32_tensors() {
    let (a, b) = (Tensor::from([1.0f32, 2.0]), Tensor::from([3.0f32]));
    assert_eq!(Tensor::cat(&[&a, &b], 0).to_vec(), vec![1.0, 2.0, 3.0]);
    let (_, back) = Tensor::stack_vjp(&[&a, &a], 0);
    let (d, NoTangent) = back(Tensor::ones(&[2, 2]));
    assert_eq!(d[1].to_vec(), vec![1.0, 1.0]);
}

// Shape errors: each names the operation and the shapes involved.

#[test]
#[should_panic(expected = "get: index [2, 0] is out of range for shape [2, 3]")]
fn get_out_of_range() {
    m23().get(&[2, 0]);
}

#[test]
#[should_panic(expected = "get: index [1] is out of range for shape [2, 3]")]
fn get_with_too_few_coordinates() {
    m23().get(&[1]);
}

#[test]
#[should_panic(expected = "get backward: index [0, 3] is out of range for shape [2, 3]")]
fn get_backward_out_of_range() {
    op::Get([0, 3]).bwd::<T64>(&shape_of(&m23()), 1.0);
}

#[test]
#[should_panic(
    expected = "narrow: start 2 and length 2 do not fit in axis 1 (of size 3) of shape [2, 3]"
)]
fn narrow_past_the_end() {
    m23().narrow(1, 2, 2);
}

#[test]
#[should_panic(expected = "narrow: axis 2 is out of range for a tensor of shape [2, 3]")]
fn narrow_axis_out_of_range() {
    m23().narrow(2, 0, 1);
}

#[test]
#[should_panic(
    expected = "narrow backward: the cotangent has shape [2, 3] but the value has shape [2, 2]"
)]
fn narrow_backward_checks_the_cotangent() {
    op::Narrow(1, 0, 2).bwd::<T64>(&shape_of(&m23()), m23());
}

#[test]
#[should_panic(
    expected = "index_select: index 3 is out of range for axis 0 (of size 2) of shape [2, 3]"
)]
fn index_select_out_of_range() {
    m23().index_select(0, &[1, 3]);
}

#[test]
#[should_panic(expected = "index_select: axis 2 is out of range for a tensor of shape [2, 3]")]
fn index_select_axis_out_of_range() {
    m23().index_select(2, &[0]);
}

#[test]
#[should_panic(expected = "cat: no tensors to concatenate")]
fn cat_of_nothing() {
    Tensor::<f64>::cat(&[], 0);
}

#[test]
#[should_panic(expected = "cat: shapes [2, 3] and [3, 2] differ outside axis 0")]
fn cat_of_mismatched_shapes() {
    let b = t(&[0.0; 6], &[3, 2]);
    Tensor::cat(&[&m23(), &b], 0);
}

#[test]
#[should_panic(expected = "cat: shapes [2, 3] and [6] differ outside axis 0")]
fn cat_of_mismatched_ranks() {
    let b = Tensor::from([0.0; 6]);
    Tensor::cat(&[&m23(), &b], 0);
}

#[test]
#[should_panic(expected = "cat: axis 2 is out of range for tensors of shape [2, 3]")]
fn cat_axis_out_of_range() {
    let a = m23();
    Tensor::cat(&[&a, &a], 2);
}

#[test]
#[should_panic(expected = "cat: axis 0 is out of range for tensors of shape []")]
fn cat_of_scalars() {
    let s = Tensor::scalar(1.0);
    Tensor::cat(&[&s, &s], 0);
}

#[test]
#[should_panic(
    expected = "cat backward: the cotangent has shape [2, 3] but the value has shape [4, 3]"
)]
fn cat_pullback_checks_the_cotangent() {
    let a = m23();
    let (_, back) = Tensor::cat_vjp(&[&a, &a], 0);
    back(m23());
}

#[test]
#[should_panic(expected = "cat tangent: 1 tangents for 2 tensors")]
fn cat_jvp_needs_a_tangent_per_tensor() {
    let a = m23();
    Tensor::cat_jvp(&[&a, &a], 0, &[&a], NoTangent);
}

#[test]
#[should_panic(expected = "stack: no tensors to stack")]
fn stack_of_nothing() {
    Tensor::<f32>::stack(&[], 0);
}

#[test]
#[should_panic(expected = "stack: shapes [2, 3] and [2, 4] differ")]
fn stack_of_mismatched_shapes() {
    let b = t(&[0.0; 8], &[2, 4]);
    Tensor::stack(&[&m23(), &b], 0);
}

#[test]
#[should_panic(
    expected = "stack: axis 3 is out of range for stacking tensors of shape [2, 3] (at most 2)"
)]
fn stack_axis_out_of_range() {
    let a = m23();
    Tensor::stack(&[&a, &a], 3);
}

#[test]
#[should_panic(
    expected = "stack tangent: the tangent has shape [3] but the value has shape [2, 3]"
)]
fn stack_jvp_checks_tangent_shapes() {
    let (a, d) = (m23(), Tensor::from([0.0; 3]));
    Tensor::stack_jvp(&[&a, &a], 0, &[&a, &d], NoTangent);
}
