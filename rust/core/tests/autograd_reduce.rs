//! Reductions, scans and sorting: hand-derived gradients at the points where torch defines a
//! value (ties, zeros), and central differences (first and second order) elsewhere.

use ferrotorch_core::autograd::api::{backward, grad};
use ferrotorch_core::autograd::functions::{
    binary, reduce, reduce_scan as scan, reduce_select as sel, reduce_stat as stat,
};
use ferrotorch_core::autograd::no_grad;
use ferrotorch_core::Tensor;

fn leaf(v: Vec<f64>, shape: &[usize]) -> Tensor {
    let t = Tensor::from_vec(v, shape).unwrap();
    t.set_requires_grad(true).unwrap();
    t
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>()
}

fn grad_of(y: &Tensor, x: &Tensor) -> Vec<f64> {
    let s = reduce::sum(y, None, false, None).unwrap();
    let g = grad(&[s], &[x.clone()], &[None], None, false, false).unwrap();
    values(g[0].as_ref().unwrap())
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()) || (x.is_nan() && y.is_nan()))
}

/// Fixed, uneven weights so that every output position matters differently.
fn weights(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.3 + ((i * 7 + 3) % 11) as f64 / 5.0)
        .collect()
}

/// `sum(f(x) * w)` as a scalar tensor.
fn loss(f: &dyn Fn(&Tensor) -> Tensor, x: &Tensor) -> Tensor {
    let y = f(x);
    let w = Tensor::from_vec(weights(y.numel()), y.shape()).unwrap();
    reduce::sum(&binary::mul(&y, &w).unwrap(), None, false, None).unwrap()
}

fn first_grad(f: &dyn Fn(&Tensor) -> Tensor, x0: &[f64], shape: &[usize], create: bool) -> Tensor {
    let x = leaf(x0.to_vec(), shape);
    let l = loss(f, &x);
    grad(&[l], &[x], &[None], None, create, false).unwrap()[0]
        .clone()
        .unwrap()
}

/// Checks the analytic gradient of `f` against central differences, and (with `second`) the
/// gradient of `<grad f, v>` against central differences of the analytic gradient.
fn gradcheck(f: &dyn Fn(&Tensor) -> Tensor, x0: &[f64], shape: &[usize], second: bool) {
    let eps = 1e-6;
    let analytic = values(&first_grad(f, x0, shape, false));
    let value = |xs: &[f64]| -> f64 {
        let _g = no_grad();
        values(&loss(f, &Tensor::from_vec(xs.to_vec(), shape).unwrap()))[0]
    };
    let mut numeric = vec![0.0; x0.len()];
    for i in 0..x0.len() {
        let (mut p, mut m) = (x0.to_vec(), x0.to_vec());
        p[i] += eps;
        m[i] -= eps;
        numeric[i] = (value(&p) - value(&m)) / (2.0 * eps);
    }
    assert!(
        close(&analytic, &numeric, 1e-5),
        "first order: analytic {analytic:?} numeric {numeric:?}"
    );
    if !second {
        return;
    }
    let v = Tensor::from_vec(weights(x0.len()).into_iter().rev().collect(), shape).unwrap();
    let x = leaf(x0.to_vec(), shape);
    let g = grad(&[loss(f, &x)], &[x.clone()], &[None], None, true, false).unwrap()[0]
        .clone()
        .unwrap();
    // A gradient without history is constant in x (a linear op): second derivative zero.
    let m = reduce::sum(&binary::mul(&g, &v).unwrap(), None, false, None).unwrap();
    let gg = if m.requires_grad() {
        grad(&[m], &[x], &[None], None, false, true).unwrap()[0]
            .clone()
            .map(|t| values(&t))
            .unwrap_or(vec![0.0; x0.len()])
    } else {
        vec![0.0; x0.len()]
    };
    let vv = values(&v);
    let mut numeric2 = vec![0.0; x0.len()];
    for i in 0..x0.len() {
        let (mut p, mut q) = (x0.to_vec(), x0.to_vec());
        p[i] += eps;
        q[i] -= eps;
        let gp = values(&first_grad(f, &p, shape, false));
        let gq = values(&first_grad(f, &q, shape, false));
        let dot = |a: &[f64]| a.iter().zip(&vv).map(|(a, b)| a * b).sum::<f64>();
        numeric2[i] = (dot(&gp) - dot(&gq)) / (2.0 * eps);
    }
    assert!(
        close(&gg, &numeric2, 1e-4),
        "second order: analytic {gg:?} numeric {numeric2:?}"
    );
}

const X6: [f64; 6] = [0.7, -1.3, 2.1, 0.4, -0.9, 1.6];

#[test]
fn grad_fn_names() {
    let x = leaf(X6.to_vec(), &[2, 3]);
    let name = |t: &Tensor| t.grad_fn().unwrap().name();
    assert_eq!(
        name(&reduce::sum(&x, None, false, None).unwrap()),
        "SumBackward0"
    );
    assert_eq!(
        name(&reduce::sum(&x, Some(&[1]), false, None).unwrap()),
        "SumBackward1"
    );
    assert_eq!(
        name(&reduce::mean(&x, None, false, None).unwrap()),
        "MeanBackward0"
    );
    assert_eq!(
        name(&reduce::mean(&x, Some(&[0]), true, None).unwrap()),
        "MeanBackward1"
    );
    assert_eq!(
        name(&reduce::nansum(&x, None, false, None).unwrap()),
        "NansumBackward0"
    );
    assert_eq!(
        name(&reduce::nanmean(&x, None, false, None).unwrap()),
        "DivBackward0"
    );
    assert_eq!(
        name(&reduce::prod(&x, None, false, None).unwrap()),
        "ProdBackward0"
    );
    assert_eq!(
        name(&reduce::prod(&x, Some(&[1]), false, None).unwrap()),
        "ProdBackward1"
    );
    assert_eq!(
        name(&reduce::logsumexp(&x, Some(&[1]), false).unwrap()),
        "LogsumexpBackward0"
    );
    assert_eq!(
        name(&sel::amax_amin::<true>(&x, &[], false).unwrap()),
        "AmaxBackward0"
    );
    assert_eq!(
        name(&sel::amax_amin::<false>(&x, &[1], false).unwrap()),
        "AminBackward0"
    );
    assert_eq!(name(&sel::max_min_all::<true>(&x).unwrap()), "MaxBackward1");
    assert_eq!(
        name(&sel::max_min_all::<false>(&x).unwrap()),
        "MinBackward1"
    );
    let (v, i) = sel::max_min_dim::<true>(&x, 1, false).unwrap();
    assert_eq!(name(&v), "MaxBackward0");
    assert!(i.grad_fn().is_none() && !i.requires_grad());
    assert_eq!(
        name(&sel::max_min_dim::<false>(&x, 1, false).unwrap().0),
        "MinBackward0"
    );
    assert_eq!(
        name(&sel::median_all(&x, false).unwrap()),
        "MedianBackward0"
    );
    assert_eq!(
        name(&sel::median_all(&x, true).unwrap()),
        "NanmedianBackward0"
    );
    assert_eq!(
        name(&sel::median_dim(&x, 1, false, false).unwrap().0),
        "MedianBackward1"
    );
    assert_eq!(
        name(&sel::median_dim(&x, 1, false, true).unwrap().0),
        "NanmedianBackward1"
    );
    assert_eq!(name(&sel::mode(&x, 1, false).unwrap().0), "ModeBackward0");
    assert_eq!(
        name(&sel::kthvalue(&x, 2, 1, false).unwrap().0),
        "KthvalueBackward0"
    );
    assert_eq!(
        name(&sel::sort(&x, 1, false, false).unwrap().0),
        "SortBackward0"
    );
    assert_eq!(
        name(&sel::sort(&x, 1, false, true).unwrap().0),
        "SortBackward1"
    );
    assert_eq!(name(&sel::msort(&x).unwrap()), "SortBackward0");
    assert_eq!(name(&sel::topk(&x, 2, 1, true).unwrap().0), "TopkBackward0");
    assert_eq!(
        name(&sel::aminmax(&x, None, false).unwrap().1),
        "AminmaxBackward0"
    );
    assert!(sel::argsort(&x, 1, false).unwrap().grad_fn().is_none());
    assert_eq!(
        name(&stat::var(&x, None, 1.0, false).unwrap()),
        "VarBackward0"
    );
    assert_eq!(
        name(&stat::std(&x, Some(&[1]), 1.0, false).unwrap()),
        "StdBackward0"
    );
    let (v, m) = stat::var_mean(&x, None, 1.0, false, false).unwrap();
    assert_eq!(name(&v), "VarMeanBackward0");
    assert_eq!(name(&m), "VarMeanBackward0");
    assert_eq!(
        name(&stat::var_mean(&x, None, 1.0, false, true).unwrap().0),
        "StdMeanBackward0"
    );
    assert_eq!(
        name(&stat::vector_norm(&x, 2.0, None, false, None).unwrap()),
        "LinalgVectorNormBackward0"
    );
    assert_eq!(name(&scan::cumsum(&x, 1, None).unwrap()), "CumsumBackward0");
    assert_eq!(
        name(&scan::cumprod(&x, 1, None).unwrap()),
        "CumprodBackward0"
    );
    assert_eq!(
        name(&scan::cummax_cummin::<true>(&x, 1).unwrap().0),
        "CummaxBackward0"
    );
    assert_eq!(
        name(&scan::cummax_cummin::<false>(&x, 1).unwrap().0),
        "CumminBackward0"
    );
    assert_eq!(
        name(&scan::logcumsumexp(&x, 1).unwrap()),
        "LogcumsumexpBackward0"
    );
    assert_eq!(name(&sel::unique(&x).unwrap().0), "Unique2Backward0");
}

#[test]
fn sum_mean_nansum_values() {
    let x = leaf(vec![1.0, f64::NAN, 3.0, 4.0], &[2, 2]);
    assert_eq!(
        grad_of(&reduce::nansum(&x, None, false, None).unwrap(), &x),
        vec![1.0, 0.0, 1.0, 1.0]
    );
    assert_eq!(
        grad_of(&reduce::nanmean(&x, Some(&[1]), false, None).unwrap(), &x),
        vec![1.0, 0.0, 0.5, 0.5]
    );
    let y = leaf(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    assert_eq!(
        grad_of(&reduce::mean(&y, Some(&[1]), false, None).unwrap(), &y),
        vec![1.0 / 3.0; 6]
    );
    let s = reduce::sum(&y, Some(&[0]), true, None).unwrap();
    assert_eq!(s.shape(), &[1, 3]);
    assert_eq!(grad_of(&s, &y), vec![1.0; 6]);
}

#[test]
fn prod_with_zeros() {
    // One zero: only the zero gets a gradient, the product of the others.
    let x = leaf(vec![2.0, 0.0, 3.0, 4.0], &[4]);
    assert_eq!(
        grad_of(&reduce::prod(&x, None, false, None).unwrap(), &x),
        vec![0.0, 24.0, 0.0, 0.0]
    );
    // Two zeros: all zero.
    let x = leaf(vec![2.0, 0.0, 3.0, 0.0], &[4]);
    assert_eq!(
        grad_of(&reduce::prod(&x, None, false, None).unwrap(), &x),
        vec![0.0; 4]
    );
    // Along a dim, one row with a zero, one without.
    let x = leaf(vec![2.0, 0.0, 5.0, 3.0, 4.0, 0.5], &[2, 3]);
    assert_eq!(
        grad_of(&reduce::prod(&x, Some(&[1]), false, None).unwrap(), &x),
        vec![0.0, 10.0, 0.0, 2.0, 1.5, 12.0]
    );
    // Second order at a zero: d/dx1 of d prod/dx0 = x2 * x3 even though x1 is 0.
    let x = leaf(vec![2.0, 0.0, 3.0, 4.0], &[4]);
    let p = reduce::prod(&x, None, false, None).unwrap();
    let g = grad(&[p], &[x.clone()], &[None], None, true, false).unwrap()[0]
        .clone()
        .unwrap();
    let e0 = Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0], &[4]).unwrap();
    let m = reduce::sum(&binary::mul(&g, &e0).unwrap(), None, false, None).unwrap();
    let gg = grad(&[m], &[x], &[None], None, false, false).unwrap()[0]
        .clone()
        .unwrap();
    assert_eq!(values(&gg), vec![0.0, 12.0, 0.0, 0.0]);
}

#[test]
fn cumprod_with_zeros() {
    // x = [2, 0, 3, 0, 5]: y = [2, 0, 0, 0, 0].
    // dy/dx0 = [1, 0, 0, 0, 0] -> 1; dy/dx1 = [0, 2, 6, 0, 0] -> 8; x2.. get 0.
    let x = leaf(vec![2.0, 0.0, 3.0, 0.0, 5.0], &[5]);
    assert_eq!(
        grad_of(&scan::cumprod(&x, 0, None).unwrap(), &x),
        vec![1.0, 8.0, 0.0, 0.0, 0.0]
    );
    // The create_graph formula gives the same first-order values.
    let x = leaf(vec![2.0, 0.0, 3.0, 0.0, 5.0], &[5]);
    let y = reduce::sum(&scan::cumprod(&x, 0, None).unwrap(), None, false, None).unwrap();
    let g = grad(&[y], &[x], &[None], None, true, false).unwrap()[0]
        .clone()
        .unwrap();
    assert_eq!(values(&g), vec![1.0, 8.0, 0.0, 0.0, 0.0]);
    // Along dim 0 of a matrix.
    let x = leaf(vec![1.0, 2.0, 0.0, 3.0, 4.0, 5.0], &[3, 2]);
    // column 0: [1, 0, 4] y = [1, 0, 0]: g0 = 1 + 0 + 0 = 1, g1 = 1 + 1*4 = 5, g2 = 0
    // column 1: [2, 3, 5] y = [2, 6, 30]: g = [1+3+15, 2+10, 6]
    assert_eq!(
        grad_of(&scan::cumprod(&x, 0, None).unwrap(), &x),
        vec![1.0, 19.0, 5.0, 12.0, 0.0, 6.0]
    );
}

#[test]
fn max_min_ties_and_indices() {
    let x = leaf(vec![1.0, 3.0, 3.0, 2.0], &[4]);
    assert_eq!(
        grad_of(&sel::max_min_all::<true>(&x).unwrap(), &x),
        vec![0.0, 0.5, 0.5, 0.0]
    );
    assert_eq!(
        grad_of(&sel::amax_amin::<true>(&x, &[], false).unwrap(), &x),
        vec![0.0, 0.5, 0.5, 0.0]
    );
    // With a dim, the gradient goes to the index returned (the first maximum).
    let (v, i) = sel::max_min_dim::<true>(&x, 0, false).unwrap();
    assert_eq!(i.to_vec::<i64>(), vec![1]);
    assert_eq!(grad_of(&v, &x), vec![0.0, 1.0, 0.0, 0.0]);
    let y = leaf(vec![4.0, 1.0, 1.0, 5.0, 2.0, 1.0], &[2, 3]);
    assert_eq!(
        grad_of(&sel::amax_amin::<false>(&y, &[1], true).unwrap(), &y),
        vec![0.0, 0.5, 0.5, 0.0, 0.0, 1.0]
    );
    let (lo, hi) = sel::aminmax(&y, Some(1), false).unwrap();
    let t = binary::add(&lo, &binary::scale(&hi, 10.0).unwrap()).unwrap();
    assert_eq!(grad_of(&t, &y), vec![10.0, 0.5, 0.5, 10.0, 0.0, 1.0]);
    // NaN wins max and takes the whole gradient.
    let z = leaf(vec![1.0, f64::NAN, 2.0], &[3]);
    assert_eq!(
        grad_of(&sel::max_min_all::<true>(&z).unwrap(), &z),
        vec![0.0, 1.0, 0.0]
    );
}

#[test]
fn median_sort_topk_kthvalue() {
    let x = leaf(vec![3.0, 1.0, 2.0, 2.0], &[4]);
    // Lower median 2, appearing twice: split.
    assert_eq!(
        grad_of(&sel::median_all(&x, false).unwrap(), &x),
        vec![0.0, 0.0, 0.5, 0.5]
    );
    let x = leaf(vec![3.0, 1.0, 4.0, 1.5], &[4]);
    let (v, i) = sel::sort(&x, 0, true, false).unwrap();
    assert_eq!(i.to_vec::<i64>(), vec![2, 0, 3, 1]);
    let w = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
    assert_eq!(
        grad_of(&binary::mul(&v, &w).unwrap(), &x),
        vec![2.0, 4.0, 1.0, 3.0]
    );
    let (v, _) = sel::topk(&x, 2, 0, false).unwrap();
    let w2 = Tensor::from_vec(vec![5.0, 7.0], &[2]).unwrap();
    assert_eq!(
        grad_of(&binary::mul(&v, &w2).unwrap(), &x),
        vec![0.0, 5.0, 0.0, 7.0]
    );
    let (v, i) = sel::kthvalue(&x, 3, 0, true).unwrap();
    assert_eq!((values(&v), i.to_vec::<i64>()), (vec![3.0], vec![0]));
    assert_eq!(grad_of(&v, &x), vec![1.0, 0.0, 0.0, 0.0]);
    let m = leaf(vec![1.0, 2.0, 2.0, 3.0, 3.0, 3.0], &[6]);
    let (v, i) = sel::mode(&m, 0, false).unwrap();
    assert_eq!(grad_of(&v, &m)[i.to_vec::<i64>()[0] as usize], 1.0);
}

#[test]
fn cummax_repeated_indices_add_up() {
    let x = leaf(vec![1.0, 3.0, 2.0, 0.5, 4.0], &[5]);
    let (v, i) = scan::cummax_cummin::<true>(&x, 0).unwrap();
    assert_eq!(i.to_vec::<i64>(), vec![0, 1, 1, 1, 4]);
    assert_eq!(grad_of(&v, &x), vec![1.0, 3.0, 0.0, 0.0, 1.0]);
}

#[test]
fn std_var_norm_at_degenerate_points() {
    // std of a constant vector: zero gradient, not NaN.
    let x = leaf(vec![2.0, 2.0, 2.0], &[3]);
    assert_eq!(
        grad_of(&stat::std(&x, None, 1.0, false).unwrap(), &x),
        vec![0.0; 3]
    );
    // Zero vector: the 2-norm's gradient is zero, as torch's masked formula.
    let z = leaf(vec![0.0, 0.0], &[2]);
    assert_eq!(
        grad_of(&stat::vector_norm(&z, 2.0, None, false, None).unwrap(), &z),
        vec![0.0, 0.0]
    );
    // inf-norm with a tie in |x|: split, with signs.
    let y = leaf(vec![-3.0, 1.0, 3.0], &[3]);
    assert_eq!(
        grad_of(
            &stat::vector_norm(&y, f64::INFINITY, None, false, None).unwrap(),
            &y
        ),
        vec![-0.5, 0.0, 0.5]
    );
    assert_eq!(
        grad_of(&stat::vector_norm(&y, 1.0, None, false, None).unwrap(), &y),
        vec![-1.0, 1.0, 1.0]
    );
    assert_eq!(
        grad_of(&stat::vector_norm(&y, 0.0, None, false, None).unwrap(), &y),
        vec![0.0; 3]
    );
    // var of one element with correction 1: dof 0 -> NaN at the mean.
    let one = leaf(vec![5.0], &[1]);
    assert!(grad_of(&stat::var(&one, None, 1.0, false).unwrap(), &one)[0].is_nan());
    // var with correction 0: 2 (x - mean) / n.
    let v = leaf(vec![1.0, 2.0, 6.0], &[3]);
    assert!(close(
        &grad_of(&stat::var(&v, None, 0.0, false).unwrap(), &v),
        &[-4.0 / 3.0, -2.0 / 3.0, 2.0],
        1e-12
    ));
}

#[test]
fn unique_refuses_backward() {
    let x = leaf(vec![1.0, 2.0, 1.0], &[3]);
    let (u, inv, cnt) = sel::unique(&x).unwrap();
    assert!(inv.grad_fn().is_none() && cnt.grad_fn().is_none());
    let s = reduce::sum(&u, None, false, None).unwrap();
    let err = backward(&[s], &[None], None, false, None).unwrap_err();
    assert!(
        err.message.contains("'_unique2' is not implemented"),
        "{}",
        err.message
    );
}

#[test]
fn inplace_cumsum_records() {
    let x = leaf(vec![1.0, 2.0, 3.0], &[3]);
    let h = binary::scale(&x, 1.0).unwrap();
    scan::cumsum_cumprod_::<true>(&h, 0, None).unwrap();
    assert_eq!(values(&h), vec![1.0, 3.0, 6.0]);
    assert_eq!(h.grad_fn().unwrap().name(), "CumsumBackward0");
    assert_eq!(grad_of(&h, &x), vec![3.0, 2.0, 1.0]);
}

type F = Box<dyn Fn(&Tensor) -> Tensor>;

#[test]
fn numeric_first_and_second_order() {
    let cases: Vec<(&str, F)> = vec![
        (
            "sum dims",
            Box::new(|x| reduce::sum(x, Some(&[1]), false, None).unwrap()),
        ),
        (
            "mean",
            Box::new(|x| reduce::mean(x, Some(&[0]), true, None).unwrap()),
        ),
        (
            "nansum",
            Box::new(|x| reduce::nansum(x, None, false, None).unwrap()),
        ),
        (
            "nanmean",
            Box::new(|x| reduce::nanmean(x, Some(&[1]), false, None).unwrap()),
        ),
        (
            "prod all",
            Box::new(|x| reduce::prod(x, None, false, None).unwrap()),
        ),
        (
            "prod dim",
            Box::new(|x| reduce::prod(x, Some(&[0]), false, None).unwrap()),
        ),
        (
            "logsumexp",
            Box::new(|x| reduce::logsumexp(x, Some(&[1]), false).unwrap()),
        ),
        (
            "amax",
            Box::new(|x| sel::amax_amin::<true>(x, &[1], false).unwrap()),
        ),
        (
            "amin",
            Box::new(|x| sel::amax_amin::<false>(x, &[], false).unwrap()),
        ),
        ("max", Box::new(|x| sel::max_min_all::<true>(x).unwrap())),
        (
            "min dim",
            Box::new(|x| sel::max_min_dim::<false>(x, 0, true).unwrap().0),
        ),
        ("median", Box::new(|x| sel::median_all(x, false).unwrap())),
        (
            "median dim",
            Box::new(|x| sel::median_dim(x, 1, false, false).unwrap().0),
        ),
        (
            "kthvalue",
            Box::new(|x| sel::kthvalue(x, 2, 1, false).unwrap().0),
        ),
        (
            "sort",
            Box::new(|x| sel::sort(x, 0, true, false).unwrap().0),
        ),
        ("topk", Box::new(|x| sel::topk(x, 2, 1, true).unwrap().0)),
        (
            "aminmax",
            Box::new(|x| {
                let (a, b) = sel::aminmax(x, Some(0), false).unwrap();
                binary::sub(&b, &binary::scale(&a, 2.0).unwrap()).unwrap()
            }),
        ),
        (
            "var",
            Box::new(|x| stat::var(x, Some(&[1]), 1.0, false).unwrap()),
        ),
        (
            "var all",
            Box::new(|x| stat::var(x, None, 0.5, false).unwrap()),
        ),
        (
            "std",
            Box::new(|x| stat::std(x, Some(&[0]), 1.0, true).unwrap()),
        ),
        (
            "std all",
            Box::new(|x| stat::std(x, None, 1.0, false).unwrap()),
        ),
        (
            "var_mean",
            Box::new(|x| {
                let (v, m) = stat::var_mean(x, Some(&[1]), 1.0, false, false).unwrap();
                binary::add(&v, &binary::mul(&m, &m).unwrap()).unwrap()
            }),
        ),
        (
            "std_mean",
            Box::new(|x| {
                let (v, m) = stat::var_mean(x, None, 1.0, false, true).unwrap();
                binary::mul(&v, &m).unwrap()
            }),
        ),
        (
            "norm 2",
            Box::new(|x| stat::vector_norm(x, 2.0, Some(&[1]), false, None).unwrap()),
        ),
        (
            "norm 1",
            Box::new(|x| stat::vector_norm(x, 1.0, None, false, None).unwrap()),
        ),
        (
            "norm inf",
            Box::new(|x| stat::vector_norm(x, f64::INFINITY, Some(&[0]), false, None).unwrap()),
        ),
        (
            "norm -inf",
            Box::new(|x| stat::vector_norm(x, f64::NEG_INFINITY, None, false, None).unwrap()),
        ),
        (
            "norm 3",
            Box::new(|x| stat::vector_norm(x, 3.0, Some(&[1]), true, None).unwrap()),
        ),
        (
            "norm 1.5",
            Box::new(|x| stat::vector_norm(x, 1.5, None, false, None).unwrap()),
        ),
        (
            "norm 0.5",
            Box::new(|x| stat::vector_norm(x, 0.5, None, false, None).unwrap()),
        ),
        (
            "norm -2",
            Box::new(|x| stat::vector_norm(x, -2.0, None, false, None).unwrap()),
        ),
        ("cumsum", Box::new(|x| scan::cumsum(x, 1, None).unwrap())),
        ("cumprod", Box::new(|x| scan::cumprod(x, 0, None).unwrap())),
        (
            "cummax",
            Box::new(|x| scan::cummax_cummin::<true>(x, 1).unwrap().0),
        ),
        (
            "cummin",
            Box::new(|x| scan::cummax_cummin::<false>(x, 0).unwrap().0),
        ),
        (
            "logcumsumexp",
            Box::new(|x| scan::logcumsumexp(x, 1).unwrap()),
        ),
    ];
    for (name, f) in &cases {
        eprintln!("{name}");
        gradcheck(f.as_ref(), &X6, &[2, 3], true);
    }
}

#[test]
fn second_order_at_zeros_of_cumprod() {
    // The create_graph formula is differentiable at zeros.
    let f: F = Box::new(|x| scan::cumprod(x, 0, None).unwrap());
    let x0 = [2.0, 0.0, 3.0, 0.5];
    let v = [1.0, -2.0, 0.5, 3.0];
    let x = leaf(x0.to_vec(), &[4]);
    let l = loss(f.as_ref(), &x);
    let g = grad(&[l], &[x.clone()], &[None], None, true, false).unwrap()[0]
        .clone()
        .unwrap();
    let vt = Tensor::from_vec(v.to_vec(), &[4]).unwrap();
    let m = reduce::sum(&binary::mul(&g, &vt).unwrap(), None, false, None).unwrap();
    let gg = values(
        &grad(&[m], &[x], &[None], None, false, false).unwrap()[0]
            .clone()
            .unwrap(),
    );
    let eps = 1e-6;
    for i in 0..4 {
        let (mut p, mut q) = (x0.to_vec(), x0.to_vec());
        p[i] += eps;
        q[i] -= eps;
        let dot = |xs: &[f64]| -> f64 {
            values(&first_grad(f.as_ref(), xs, &[4], false))
                .iter()
                .zip(&v)
                .map(|(a, b)| a * b)
                .sum()
        };
        let num = (dot(&p) - dot(&q)) / (2.0 * eps);
        assert!((gg[i] - num).abs() < 1e-5, "{i}: {} vs {num}", gg[i]);
    }
}
