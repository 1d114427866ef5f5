//! Indexing, gather/scatter and mask ops under autograd: hand-derived gradients, in-place
//! writes through views (CopySlices), and a central-difference check of every rule.

use ferrotorch_core::autograd::api::{backward, grad};
use ferrotorch_core::autograd::functions::{binary, index, index_gather as ig, index_mask as im};
use ferrotorch_core::autograd::functions::{reduce, shape};
use ferrotorch_core::autograd::{no_grad, view};
use ferrotorch_core::ops::index::IndexItem;
use ferrotorch_core::ops::index_gather::Reduce;
use ferrotorch_core::{Scalar, Tensor};

fn leaf(v: Vec<f64>, shape: &[usize]) -> Tensor {
    let t = Tensor::from_vec(v, shape).unwrap();
    t.set_requires_grad(true).unwrap();
    t
}

fn ramp(shape: &[usize]) -> Vec<f64> {
    let n: usize = shape.iter().product();
    (0..n)
        .map(|i| 0.5 + i as f64 * 0.37 - (i % 3) as f64)
        .collect()
}

fn long(v: Vec<i64>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape).unwrap()
}

fn mask(v: Vec<bool>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape).unwrap()
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>()
}

fn total(t: &Tensor) -> Tensor {
    reduce::sum(t, None, false, None).unwrap()
}

fn dot(t: &Tensor, w: &Tensor) -> Tensor {
    total(&binary::mul(t, w).unwrap())
}

fn sl(a: i64, b: i64) -> IndexItem {
    IndexItem::Slice(Some(a), Some(b), None)
}

/// Checks the gradients of `sum(f(inputs) * w)` against central differences in float64.
fn gradcheck(f: impl Fn(&[Tensor]) -> Tensor, inputs: &[(Vec<f64>, Vec<usize>)]) {
    let leaves: Vec<Tensor> = inputs.iter().map(|(v, s)| leaf(v.clone(), s)).collect();
    let out = f(&leaves);
    let w = Tensor::from_vec(ramp(out.shape()), out.shape()).unwrap();
    let y = dot(&out, &w);
    let got = grad(&[y], &leaves, &[None], None, false, true).unwrap();
    let eps = 1e-6;
    for (k, (v, s)) in inputs.iter().enumerate() {
        let analytic = got[k]
            .as_ref()
            .map(values)
            .unwrap_or_else(|| vec![0.0; v.len()]);
        for i in 0..v.len() {
            let eval = |d: f64| {
                let _g = no_grad();
                let args: Vec<Tensor> = inputs
                    .iter()
                    .enumerate()
                    .map(|(j, (vj, sj))| {
                        let mut vj = vj.clone();
                        if j == k {
                            vj[i] += d;
                        }
                        Tensor::from_vec(vj, sj).unwrap()
                    })
                    .collect();
                let o = f(&args);
                values(&o)
                    .iter()
                    .zip(values(&w))
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
            };
            let numeric = (eval(eps) - eval(-eps)) / (2.0 * eps);
            assert!(
                (numeric - analytic[i]).abs() < 1e-5 * (1.0 + numeric.abs()),
                "input {k} element {i} of shape {s:?}: numeric {numeric}, analytic {}",
                analytic[i]
            );
        }
    }
}

/// Transposed (non-contiguous) view of a 2-D tensor, recorded.
fn t2(x: &Tensor) -> Tensor {
    let out = ferrotorch_core::ops::shape::transpose(x, 0, 1).unwrap();
    view::record_view("TransposeBackward0", x, out, |p| {
        ferrotorch_core::ops::shape::transpose(p, 0, 1)
    })
    .unwrap()
}

#[test]
fn basic_indexing_is_a_view_with_torch_names() {
    let x = leaf(ramp(&[3, 4]), &[3, 4]);
    let y = index::index(&x, &[IndexItem::Int(1), sl(1, 3)]).unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "SliceBackward0");
    assert!(y.shares_storage(&x));
    let s = index::index(&x, &[IndexItem::Int(-1)]).unwrap();
    assert_eq!(s.grad_fn().unwrap().name(), "SelectBackward0");
    let a = index::index(&x, &[IndexItem::Ellipsis]).unwrap();
    assert_eq!(a.grad_fn().unwrap().name(), "AliasBackward0");
    let u = index::index(&x, &[IndexItem::NewAxis]).unwrap();
    assert_eq!(u.grad_fn().unwrap().name(), "UnsqueezeBackward0");
    assert_eq!(u.shape(), &[1, 3, 4]);
    backward(&[total(&y)], &[None], None, false, None).unwrap();
    let mut want = vec![0.0; 12];
    want[5] = 1.0;
    want[6] = 1.0;
    assert_eq!(values(&x.grad().unwrap()), want);
}

#[test]
fn advanced_indexing_accumulates_duplicates() {
    let x = leaf(vec![1.0, 2.0, 3.0, 4.0], &[4]);
    let y = index::index(&x, &[IndexItem::Tensor(long(vec![0, 2, 0, 0], &[4]))]).unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "IndexBackward0");
    assert_eq!(values(&y), vec![1.0, 3.0, 1.0, 1.0]);
    let w = Tensor::from_vec(vec![1.0, 10.0, 100.0, 1000.0], &[4]).unwrap();
    backward(&[dot(&y, &w)], &[None], None, false, None).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![1101.0, 0.0, 10.0, 0.0]);

    // Mask, and a mix of slice and index tensor on a 2-D tensor.
    let x = leaf(ramp(&[2, 3]), &[2, 3]);
    let m = mask(vec![true, false, true, false, false, true], &[2, 3]);
    let y = index::index(&x, &[IndexItem::Tensor(m)]).unwrap();
    backward(&[total(&y)], &[None], None, false, None).unwrap();
    assert_eq!(
        values(&x.grad().unwrap()),
        vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    );
}

#[test]
fn setitem_on_a_view_goes_through_copy_slices() {
    // y = x*1; y[1:3] = w*2; loss = sum(y * c).
    let x = leaf(vec![1.0, 2.0, 3.0, 4.0], &[4]);
    let w = leaf(vec![5.0, 6.0], &[2]);
    let c = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
    let y = binary::scale(&x, 1.0).unwrap();
    index::set_item(&y, &[sl(1, 3)], &binary::scale(&w, 2.0).unwrap()).unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "CopySlices");
    assert_eq!(values(&y), vec![1.0, 10.0, 12.0, 4.0]);
    backward(&[dot(&y, &c)], &[None], None, false, None).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![1.0, 0.0, 0.0, 4.0]);
    assert_eq!(values(&w.grad().unwrap()), vec![4.0, 6.0]);
}

#[test]
fn setitem_with_mask_and_index_tensor() {
    let c = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
    // y[mask] = w: w has one value per True.
    let x = leaf(vec![1.0, 2.0, 3.0, 4.0], &[4]);
    let w = leaf(vec![7.0, 8.0], &[2]);
    let y = binary::scale(&x, 1.0).unwrap();
    let m = mask(vec![false, true, false, true], &[4]);
    index::set_item(&y, &[IndexItem::Tensor(m)], &w).unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "IndexPutBackward0");
    assert_eq!(values(&y), vec![1.0, 7.0, 3.0, 8.0]);
    backward(&[dot(&y, &c)], &[None], None, false, None).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![1.0, 0.0, 3.0, 0.0]);
    assert_eq!(values(&w.grad().unwrap()), vec![2.0, 4.0]);

    // y[idx] = w with a broadcast (one-element) value.
    let x = leaf(vec![1.0, 2.0, 3.0, 4.0], &[4]);
    let w = leaf(vec![9.0], &[1]);
    let y = binary::scale(&x, 1.0).unwrap();
    index::set_item(&y, &[IndexItem::Tensor(long(vec![3, 0], &[2]))], &w).unwrap();
    assert_eq!(values(&y), vec![9.0, 2.0, 3.0, 9.0]);
    backward(&[dot(&y, &c)], &[None], None, false, None).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![0.0, 2.0, 3.0, 0.0]);
    assert_eq!(values(&w.grad().unwrap()), vec![5.0]);

    // A number written into a view: the overwritten part gets no gradient.
    let x = leaf(vec![1.0, 2.0, 3.0, 4.0], &[4]);
    let y = binary::scale(&x, 3.0).unwrap();
    index::set_item_scalar(&y, &[sl(0, 2)], Scalar::Float(-1.0)).unwrap();
    assert_eq!(values(&y), vec![-1.0, -1.0, 9.0, 12.0]);
    backward(&[dot(&y, &c)], &[None], None, false, None).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![0.0, 0.0, 9.0, 12.0]);
}

#[test]
fn setitem_into_a_leaf_is_refused() {
    let x = leaf(vec![1.0, 2.0], &[2]);
    let e = index::set_item_scalar(&x, &[IndexItem::Int(0)], Scalar::Float(0.0)).unwrap_err();
    assert!(
        e.message.contains("view of a leaf Variable"),
        "{}",
        e.message
    );
    let i = IndexItem::Tensor(long(vec![0], &[1]));
    let e = index::set_item_scalar(&x, &[i], Scalar::Float(0.0)).unwrap_err();
    assert!(
        e.message.contains("a leaf Variable that requires grad"),
        "{}",
        e.message
    );
}

#[test]
fn gradcheck_getitem_and_index_put() {
    let s = vec![3usize, 4];
    let idx = long(vec![2, 0, 2], &[3]);
    let m = mask(vec![true, false, true, true], &[4]);
    gradcheck(
        |x| {
            index::index(
                &x[0],
                &[IndexItem::Tensor(idx.clone()), IndexItem::Tensor(m.clone())],
            )
            .unwrap()
        },
        &[(ramp(&s), s.clone())],
    );
    gradcheck(
        |x| {
            let v = t2(&x[0]);
            index::index(&v, &[sl(1, 4), IndexItem::Tensor(idx.clone())]).unwrap()
        },
        &[(ramp(&s), s.clone())],
    );
    // index_put with accumulate and duplicate indices; value broadcast over rows.
    let rows = long(vec![1, 1, 0], &[3]);
    gradcheck(
        |x| index::index_put(&x[0], &[Some(rows.clone())], &x[1], true).unwrap(),
        &[(ramp(&s), s.clone()), (ramp(&[4]), vec![4])],
    );
    gradcheck(
        |x| {
            let i = long(vec![2, 0], &[2]);
            index::index_put(&x[0], &[None, Some(i)], &x[1], false).unwrap()
        },
        &[(ramp(&s), s.clone()), (ramp(&[3, 2]), vec![3, 2])],
    );
}

#[test]
fn gradcheck_dim_wise_ops() {
    let s = vec![3usize, 4];
    let idx = long(vec![2, 0, 2, 1, 1, 1], &[2, 3]);
    gradcheck(
        |x| ig::gather(&x[0], 1, &idx).unwrap(),
        &[(ramp(&s), s.clone())],
    );
    gradcheck(
        |x| ig::gather(&t2(&x[0]), 0, &idx).unwrap(),
        &[(ramp(&[4, 3]), vec![4, 3])],
    );
    let dup = long(vec![1, 1, 0], &[3]);
    gradcheck(
        |x| ig::index_select(&x[0], 0, &dup).unwrap(),
        &[(ramp(&s), s.clone())],
    );
    gradcheck(
        |x| ig::index_add(&x[0], 1, &long(vec![3, 3], &[2]), &x[1], Scalar::Float(2.5)).unwrap(),
        &[(ramp(&s), s.clone()), (ramp(&[3, 2]), vec![3, 2])],
    );
    gradcheck(
        |x| ig::index_copy(&x[0], 0, &long(vec![2, 0], &[2]), &x[1]).unwrap(),
        &[(ramp(&s), s.clone()), (ramp(&[2, 4]), vec![2, 4])],
    );
    gradcheck(
        |x| ig::index_fill(&x[0], 1, &long(vec![-1, 1], &[2]), Scalar::Float(3.0)).unwrap(),
        &[(ramp(&s), s.clone())],
    );
    gradcheck(
        |x| ig::index_fill_tensor(&x[0], 1, &long(vec![1, -3], &[2]), &x[1]).unwrap(),
        &[(ramp(&s), s.clone()), (vec![0.25], vec![])],
    );
    // scatter: unique positions per column; src larger than the index.
    let sidx = long(vec![2, 0, 1, 0], &[1, 4]);
    gradcheck(
        |x| ig::scatter(&x[0], 0, &sidx, &x[1]).unwrap(),
        &[(ramp(&s), s.clone()), (ramp(&[2, 5]), vec![2, 5])],
    );
    gradcheck(
        |x| ig::scatter_value(&x[0], 0, &sidx, Scalar::Float(1.5)).unwrap(),
        &[(ramp(&s), s.clone())],
    );
    let didx = long(vec![2, 2, 2, 0, 0, 2, 1, 1], &[2, 4]);
    gradcheck(
        |x| ig::scatter_add(&x[0], 0, &didx, &x[1]).unwrap(),
        &[(ramp(&s), s.clone()), (ramp(&[3, 4]), vec![3, 4])],
    );
    gradcheck(
        |x| ig::take(&x[0], &long(vec![-1, 0, 5, 5], &[2, 2])).unwrap(),
        &[(ramp(&s), s.clone())],
    );
    gradcheck(
        |x| ig::take_along_dim(&x[0], &long(vec![3, 3, 0], &[1, 3]).clone(), None).unwrap(),
        &[(ramp(&s), s.clone())],
    );
    gradcheck(
        |x| ig::take_along_dim(&x[0], &long(vec![3, 0], &[1, 2]), Some(1)).unwrap(),
        &[(ramp(&s), s.clone())],
    );
    gradcheck(
        |x| ig::put(&x[0], &long(vec![7, -1, 7], &[3]), &x[1], true).unwrap(),
        &[(ramp(&s), s.clone()), (ramp(&[3]), vec![3])],
    );
    gradcheck(
        |x| ig::put(&x[0], &long(vec![7, -1], &[2]), &x[1], false).unwrap(),
        &[(ramp(&s), s.clone()), (ramp(&[1, 2]), vec![1, 2])],
    );
    gradcheck(
        |x| ig::bincount(&long(vec![0, 3, 3, 1], &[4]), Some(&x[0]), 6).unwrap(),
        &[(ramp(&[4]), vec![4])],
    );
}

#[test]
fn gradcheck_scatter_reduce() {
    let s = vec![3usize, 2];
    let idx = long(vec![0, 1, 0, 1, 2, 1, 0, 0], &[4, 2]);
    // Distinct values keep amax/amin away from ties; the values include no zeros.
    let sv: Vec<f64> = (0..8)
        .map(|i| 1.0 + i as f64 * 0.7 - (i % 2) as f64 * 0.2)
        .collect();
    for reduce in [
        Reduce::Sum,
        Reduce::Prod,
        Reduce::Mean,
        Reduce::Amax,
        Reduce::Amin,
    ] {
        for include_self in [true, false] {
            gradcheck(
                |x| ig::scatter_reduce(&x[0], 0, &idx, &x[1], reduce, include_self).unwrap(),
                &[(ramp(&s), s.clone()), (sv.clone(), vec![4, 2])],
            );
        }
    }
    // prod with a zero in src and in self.
    let mut with_zero = sv.clone();
    with_zero[2] = 0.0;
    let mut self_zero = ramp(&s);
    self_zero[1] = 0.0;
    gradcheck(
        |x| ig::scatter_reduce(&x[0], 0, &idx, &x[1], Reduce::Prod, true).unwrap(),
        &[(self_zero, s.clone()), (with_zero, vec![4, 2])],
    );
}

#[test]
fn amax_ties_share_the_gradient() {
    // self [1], src [1, 1] both to position 0: three-way tie, each gets 1/3.
    let x = leaf(vec![1.0], &[1]);
    let src = leaf(vec![1.0, 1.0], &[2]);
    let y = ig::scatter_reduce(&x, 0, &long(vec![0, 0], &[2]), &src, Reduce::Amax, true).unwrap();
    backward(&[total(&y)], &[None], None, false, None).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![1.0 / 3.0]);
    assert_eq!(values(&src.grad().unwrap()), vec![1.0 / 3.0, 1.0 / 3.0]);
}

#[test]
fn gradcheck_mask_ops() {
    let s = vec![2usize, 3];
    let m = mask(vec![true, false, true], &[3]);
    gradcheck(
        |x| im::masked_fill(&x[0], &m, Scalar::Float(2.0)).unwrap(),
        &[(ramp(&s), s.clone())],
    );
    gradcheck(
        |x| im::masked_fill_tensor(&t2(&x[0]), &mask(vec![true, false], &[2]), &x[1]).unwrap(),
        &[(ramp(&[2, 3]), vec![2, 3]), (vec![0.5], vec![])],
    );
    gradcheck(
        |x| im::masked_select(&x[0], &m).unwrap(),
        &[(ramp(&s), s.clone())],
    );
    // Broadcast: self [3] against a [2, 3] mask.
    let m2 = mask(vec![true, false, false, true, true, false], &[2, 3]);
    gradcheck(
        |x| im::masked_select(&x[0], &m2).unwrap(),
        &[(ramp(&[3]), vec![3])],
    );
    gradcheck(
        |x| im::masked_scatter(&x[0], &m2, &x[1]).unwrap(),
        &[(ramp(&s), s.clone()), (ramp(&[2, 4]), vec![2, 4])],
    );
}

#[test]
fn inplace_forms_record() {
    let c = Tensor::from_vec(ramp(&[2, 3]), &[2, 3]).unwrap();
    let x = leaf(ramp(&[2, 3]), &[2, 3]);
    let src = leaf(vec![1.0, 2.0, 3.0], &[1, 3]);
    let y = binary::scale(&x, 2.0).unwrap();
    ig::scatter_add_(&y, 0, &long(vec![1, 0, 1], &[1, 3]), &src).unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "ScatterAddBackward0");
    let m = mask(vec![false, true, false], &[3]);
    im::masked_fill_(&y, &m, Scalar::Float(0.0)).unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "MaskedFillBackward0");
    backward(&[dot(&y, &c)], &[None], None, false, None).unwrap();
    let cv = values(&c);
    let want: Vec<f64> = cv
        .iter()
        .enumerate()
        .map(|(i, c)| if i % 3 == 1 { 0.0 } else { 2.0 * c })
        .collect();
    assert_eq!(values(&x.grad().unwrap()), want);
    // src[0] -> (1, 0), src[1] -> (0, 1) masked away, src[2] -> (1, 2).
    assert_eq!(values(&src.grad().unwrap()), vec![cv[3], 0.0, cv[5]]);

    // index_put_ on a view of a non-leaf: CopySlices on the base.
    let x = leaf(ramp(&[4]), &[4]);
    let v = leaf(vec![1.0, 2.0], &[2]);
    let base = binary::scale(&x, 1.0).unwrap();
    let view = index::index(&base, &[sl(1, 4)]).unwrap();
    index::index_put_(&view, &[Some(long(vec![2, 2], &[2]))], &v, true).unwrap();
    assert_eq!(base.grad_fn().unwrap().name(), "CopySlices");
    backward(
        &[dot(
            &base,
            &Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).unwrap(),
        )],
        &[None],
        None,
        false,
        None,
    )
    .unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(values(&v.grad().unwrap()), vec![4.0, 4.0]);
}

/// d/du <J^T u, v> = J v: the gradient of a linear op's backward with respect to the incoming
/// gradient is the op itself applied to `v`.
fn double_backward_is_the_op(f: impl Fn(&Tensor) -> Tensor, x: Vec<f64>, shape: &[usize]) {
    let x = leaf(x, shape);
    let out = f(&x);
    let u = leaf(ramp(out.shape()), out.shape());
    let gx = grad(&[out], &[x.clone()], &[Some(u.clone())], None, true, false).unwrap();
    let gx = gx[0].clone().unwrap();
    assert!(gx.requires_grad());
    let v = Tensor::from_vec(ramp(shape).iter().map(|a| a * 1.5 + 0.25).collect(), shape).unwrap();
    let gu = grad(&[dot(&gx, &v)], &[u], &[None], None, false, false).unwrap();
    let want = {
        let _g = no_grad();
        values(&f(&v))
    };
    assert_eq!(values(gu[0].as_ref().unwrap()), want);
}

#[test]
fn double_backward_of_gather_index_select_masked_fill_and_index() {
    let s = [3usize, 4];
    let idx = long(vec![2, 0, 2, 1, 1, 1], &[2, 3]);
    double_backward_is_the_op(|x| ig::gather(x, 1, &idx).unwrap(), ramp(&s), &s);
    let dup = long(vec![1, 1, 0], &[3]);
    double_backward_is_the_op(|x| ig::index_select(x, 0, &dup).unwrap(), ramp(&s), &s);
    let m = mask(vec![true, false, true, false], &[4]);
    // The linear part of masked_fill (a fill value of 0).
    double_backward_is_the_op(
        |x| im::masked_fill(x, &m, Scalar::Float(0.0)).unwrap(),
        ramp(&s),
        &s,
    );
    double_backward_is_the_op(
        |x| index::index(x, &[IndexItem::Tensor(dup.clone()), sl(0, 3)]).unwrap(),
        ramp(&s),
        &s,
    );
    double_backward_is_the_op(|x| im::masked_select(x, &m).unwrap(), ramp(&s), &s);
    double_backward_is_the_op(|x| ig::take(x, &dup).unwrap(), ramp(&s), &s);
}

#[test]
fn index_tensors_are_saved_and_version_checked() {
    let x = leaf(ramp(&[4]), &[4]);
    let idx = long(vec![0, 1], &[2]);
    let y = ig::gather(&x, 0, &idx).unwrap();
    idx.fill_(Scalar::Int(3)).unwrap();
    let e = backward(&[total(&y)], &[None], None, false, None).unwrap_err();
    assert!(
        e.message.contains("modified by an inplace operation"),
        "{}",
        e.message
    );
}

#[test]
fn integer_results_have_no_history() {
    let x = leaf(ramp(&[2, 2]), &[2, 2]);
    let r = shape::reshape(&x, &[4]).unwrap();
    let nz = ferrotorch_core::ops::index_mask::nonzero(&r).unwrap();
    assert!(nz.grad_fn().is_none());
    assert!(!nz.requires_grad());
}
