//! The engine on small graphs with hand-derived gradients.

use ferrotorch_core::autograd::api::{backward, grad};
use ferrotorch_core::autograd::functions::{binary, matmul, reduce, shape, unary};
use ferrotorch_core::Tensor;

fn leaf(v: Vec<f64>, shape: &[usize]) -> Tensor {
    let t = Tensor::from_vec(v, shape).unwrap();
    t.set_requires_grad(true).unwrap();
    t
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>()
}

#[test]
fn polynomial_and_reuse() {
    // y = sum(x*x + x): dy/dx = 2x + 1; x is used three times.
    let x = leaf(vec![1.0, -2.0, 3.0], &[3]);
    let y = reduce::sum(
        &binary::add(&binary::mul(&x, &x).unwrap(), &x).unwrap(),
        None,
        false,
        None,
    )
    .unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "SumBackward0");
    backward(&[y], &[None], None, false, None).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![3.0, -3.0, 7.0]);
}

#[test]
fn accumulates_and_refuses_second_pass() {
    let x = leaf(vec![2.0], &[1]);
    let y = reduce::sum(&binary::mul(&x, &x).unwrap(), None, false, None).unwrap();
    backward(&[y.clone()], &[None], Some(true), false, None).unwrap();
    backward(&[y.clone()], &[None], None, false, None).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![8.0]);
    let err = backward(&[y], &[None], None, false, None).unwrap_err();
    assert!(err
        .message
        .contains("backward through the graph a second time"));
}

#[test]
fn broadcast_gradients_sum_back() {
    let a = leaf(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let b = leaf(vec![10.0, 20.0, 30.0], &[3]);
    let y = reduce::sum(&binary::mul(&a, &b).unwrap(), None, false, None).unwrap();
    let g = grad(&[y], &[a.clone(), b.clone()], &[None], None, false, false).unwrap();
    assert_eq!(values(g[1].as_ref().unwrap()), vec![5.0, 7.0, 9.0]);
    assert_eq!(
        values(g[0].as_ref().unwrap()),
        vec![10.0, 20.0, 30.0, 10.0, 20.0, 30.0]
    );
    assert!(a.grad().is_none(), "autograd.grad must not accumulate");
}

#[test]
fn second_order_through_exp() {
    // d/dx exp(x) = exp(x), twice.
    let x = leaf(vec![0.5], &[1]);
    let y = reduce::sum(&unary::exp(&x).unwrap(), None, false, None).unwrap();
    let g = grad(&[y], &[x.clone()], &[None], None, true, false).unwrap();
    let g = g[0].clone().unwrap();
    assert!(g.requires_grad());
    let gg = grad(
        &[reduce::sum(&g, None, false, None).unwrap()],
        &[x],
        &[None],
        None,
        false,
        false,
    )
    .unwrap();
    let e = 0.5f64.exp();
    assert!((values(gg[0].as_ref().unwrap())[0] - e).abs() < 1e-12);
}

#[test]
fn matmul_and_views() {
    let a = leaf(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let b = leaf(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]);
    let c = matmul::mm(&a, &b).unwrap();
    let y = reduce::sum(&shape::reshape(&c, &[4]).unwrap(), None, false, None).unwrap();
    backward(&[y], &[None], None, false, None).unwrap();
    // d sum(A@B)/dA = 1 @ B^T: row sums of B.
    assert_eq!(values(&a.grad().unwrap()), vec![11.0, 15.0, 11.0, 15.0]);
    assert_eq!(values(&b.grad().unwrap()), vec![4.0, 4.0, 6.0, 6.0]);
}

#[test]
fn inplace_on_view_rebases_base() {
    // base = x * 1; base[1:3] *= w; y = sum(base * c): gradients by hand.
    let x = leaf(vec![1.0, 2.0, 3.0, 4.0], &[4]);
    let w = leaf(vec![10.0], &[1]);
    let base = binary::scale(&x, 1.0).unwrap();
    let v = ferrotorch_core::ops::shape::narrow(&base, 0, 1, 2).unwrap();
    binary::binary_(ferrotorch_core::ops::binary::BinaryOp::Mul, &v, &w).unwrap();
    assert_eq!(base.grad_fn().unwrap().name(), "CopySlices");
    assert_eq!(values(&base), vec![1.0, 20.0, 30.0, 4.0]);
    let c = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
    let y = reduce::sum(&binary::mul(&base, &c).unwrap(), None, false, None).unwrap();
    backward(&[y], &[None], None, false, None).unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![1.0, 20.0, 30.0, 4.0]);
    assert_eq!(values(&w.grad().unwrap()), vec![2.0 * 2.0 + 3.0 * 3.0]);
}

#[test]
fn modified_saved_tensor_is_an_error() {
    let x = leaf(vec![1.0, 2.0], &[2]);
    let h = binary::scale(&x, 2.0).unwrap();
    let y = reduce::sum(&binary::mul(&h, &h).unwrap(), None, false, None).unwrap();
    {
        let _g = ferrotorch_core::autograd::no_grad();
        h.fill_(ferrotorch_core::Scalar::Float(0.0)).unwrap();
    }
    let err = backward(&[y], &[None], None, false, None).unwrap_err();
    assert!(
        err.message.contains("modified by an inplace operation"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("output 0 of MulBackward0"),
        "{}",
        err.message
    );
}
