//! Rules of the unary/ternary elementwise family and of the conversions: hand-derived values,
//! torch's values at non-differentiable points, and first and second derivatives of every op
//! against central finite differences in float64.

use ferrotorch_core::autograd::api::grad;
use ferrotorch_core::autograd::functions::{binary, convert, reduce, unary};
use ferrotorch_core::autograd::no_grad;
use ferrotorch_core::ops::convert::MemoryFormat;
use ferrotorch_core::{DType, Scalar, Tensor};

type Op = fn(&Tensor) -> ferrotorch_core::Result<Tensor>;

fn leaf(v: &[f64]) -> Tensor {
    let t = Tensor::from_vec(v.to_vec(), &[v.len()]).unwrap();
    t.set_requires_grad(true).unwrap();
    t
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>()
}

fn number(v: f64) -> Tensor {
    Tensor::wrapped_scalar(Scalar::Float(v)).unwrap()
}

fn sum(t: &Tensor) -> Tensor {
    reduce::sum(t, None, false, None).unwrap()
}

/// d sum(f(x) * w) / dx.
fn first(f: &dyn Fn(&Tensor) -> Tensor, x: &Tensor, w: &Tensor, create: bool) -> Tensor {
    let y = binary::mul(&f(x), w).unwrap();
    grad(&[sum(&y)], &[x.clone()], &[None], None, create, false).unwrap()[0]
        .clone()
        .unwrap()
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: got {g}, want {w} (all: {got:?} vs {want:?})"
        );
    }
}

/// Central differences of `h(x)` (a vector function) along each coordinate, dotted with `v`.
fn numeric(h: &dyn Fn(&[f64]) -> Vec<f64>, x: &[f64], v: &[f64]) -> Vec<f64> {
    let eps = 1e-6;
    (0..x.len())
        .map(|i| {
            let (mut p, mut m) = (x.to_vec(), x.to_vec());
            p[i] += eps;
            m[i] -= eps;
            let (hp, hm) = (h(&p), h(&m));
            hp.iter()
                .zip(&hm)
                .zip(v)
                .map(|((a, b), w)| (a - b) / (2.0 * eps) * w)
                .sum()
        })
        .collect()
}

/// First and second derivatives of `f` at `x` against finite differences.
fn check(name: &str, f: &dyn Fn(&Tensor) -> Tensor, x: &[f64]) {
    let n = x.len();
    let w: Vec<f64> = (0..n).map(|i| 0.7 + 0.3 * i as f64).collect();
    let v: Vec<f64> = (0..n).map(|i| 1.1 - 0.2 * i as f64).collect();
    let wt = Tensor::from_vec(w.clone(), &[n]).unwrap();
    let vt = Tensor::from_vec(v.clone(), &[n]).unwrap();
    let eval = |p: &[f64]| -> Vec<f64> {
        let _g = no_grad();
        values(&f(&Tensor::from_vec(p.to_vec(), &[n]).unwrap()))
    };
    // First order: grad of sum(f(x) w).
    let xt = leaf(x);
    let g1 = first(f, &xt, &wt, false);
    let want1 = numeric(&eval, x, &w);
    assert_close(&values(&g1), &want1, 1e-5, &format!("{name} first"));
    // Second order: grad of sum(g1(x) v), g1 built with create_graph. A g1 that does not
    // require grad is constant in x (piecewise-linear and piecewise-constant ops).
    let xt = leaf(x);
    let g1 = first(f, &xt, &wt, true);
    let g2 = if g1.requires_grad() {
        let s = sum(&binary::mul(&g1, &vt).unwrap());
        grad(&[s], &[xt.clone()], &[None], None, false, true).unwrap()[0].clone()
    } else {
        None
    };
    let g2 = g2.map(|t| values(&t)).unwrap_or_else(|| vec![0.0; n]);
    let grad_at = |p: &[f64]| -> Vec<f64> {
        let xp = leaf(p);
        values(&first(f, &xp, &wt, false))
    };
    let want2 = numeric(&grad_at, x, &v);
    if want2.iter().any(|d| d.abs() > 1e-3) {
        assert!(
            g1.requires_grad(),
            "{name}: first derivative is not differentiable"
        );
    }
    assert_close(&g2, &want2, 1e-4, &format!("{name} second"));
}

fn op(f: Op) -> impl Fn(&Tensor) -> Tensor {
    move |x| f(x).unwrap()
}

#[test]
fn every_unary_rule_matches_finite_differences() {
    let general = [-1.3, -0.4, 0.3, 0.9, 1.7];
    let unit = [-0.8, -0.35, 0.1, 0.45, 0.7];
    let positive = [0.3, 0.8, 1.2, 2.5, 3.1];
    let above_one = [1.2, 1.6, 2.3, 3.0, 4.5];
    let cases: Vec<(&str, Op, &[f64])> = vec![
        ("neg", unary::neg, &general),
        ("exp", unary::exp, &general),
        ("exp2", unary::exp2, &general),
        ("expm1", unary::expm1, &general),
        ("log", unary::log, &positive),
        ("log2", unary::log2, &positive),
        ("log10", unary::log10, &positive),
        ("log1p", unary::log1p, &unit),
        ("sqrt", unary::sqrt, &positive),
        ("rsqrt", unary::rsqrt, &positive),
        ("sin", unary::sin, &general),
        ("cos", unary::cos, &general),
        ("tan", unary::tan, &unit),
        ("asin", unary::asin, &unit),
        ("acos", unary::acos, &unit),
        ("atan", unary::atan, &general),
        ("sinh", unary::sinh, &general),
        ("cosh", unary::cosh, &general),
        ("tanh", unary::tanh, &general),
        ("asinh", unary::asinh, &general),
        ("acosh", unary::acosh, &above_one),
        ("atanh", unary::atanh, &unit),
        ("sigmoid", unary::sigmoid, &general),
        ("erf", unary::erf, &general),
        ("erfc", unary::erfc, &general),
        ("erfinv", unary::erfinv, &unit),
        ("reciprocal", unary::reciprocal, &general),
        ("abs", unary::abs, &general),
        ("relu", unary::relu, &general),
        ("square", unary::square, &general),
        ("frac", unary::frac, &[-1.3, -0.4, 0.3, 0.9, 1.7]),
        ("sign", unary::sign, &general),
        ("sgn", unary::sgn, &general),
        ("floor", unary::floor, &general),
        ("ceil", unary::ceil, &general),
        ("trunc", unary::trunc, &general),
    ];
    for (name, f, x) in cases {
        check(name, &op(f), x);
    }
    check("round", &|x| unary::round(x, 0).unwrap(), &general);
    check(
        "round(decimals=1)",
        &|x| unary::round(x, 1).unwrap(),
        &[-1.33, -0.42, 0.31, 0.94, 1.72],
    );
    check(
        "nan_to_num",
        &|x| unary::nan_to_num(x, 0.0, None, None).unwrap(),
        &general,
    );
}

#[test]
fn ternary_rules_match_finite_differences() {
    let x = [-1.3, -0.4, 0.3, 0.9, 1.7];
    let lo = Tensor::from_vec(vec![-1.0, 0.0, 0.0, 1.0, -2.0], &[5]).unwrap();
    let hi = Tensor::from_vec(vec![1.0, 1.0, 0.5, 2.0, 1.0], &[5]).unwrap();
    check(
        "clamp numbers",
        &|t| unary::clamp(t, Some(&number(-0.5)), Some(&number(1.0))).unwrap(),
        &x,
    );
    check(
        "clamp tensors",
        &|t| unary::clamp(t, Some(&lo), Some(&hi)).unwrap(),
        &x,
    );
    check(
        "clamp_min",
        &|t| unary::clamp_min(t, &number(0.0)).unwrap(),
        &x,
    );
    check("clamp_max", &|t| unary::clamp_max(t, &hi).unwrap(), &x);
    let end = Tensor::from_vec(vec![2.0, 1.0, -1.0, 0.5, 3.0], &[5]).unwrap();
    let w = Tensor::from_vec(vec![0.2, 0.7, 0.5, 0.9, -0.3], &[5]).unwrap();
    check(
        "lerp number",
        &|t| unary::lerp(t, &end, &number(0.3)).unwrap(),
        &x,
    );
    check("lerp tensor", &|t| unary::lerp(t, &end, &w).unwrap(), &x);
    // Each of lerp's other inputs, as the differentiated variable.
    check("lerp end", &|e| unary::lerp(&end, e, &w).unwrap(), &x);
    check("lerp weight", &|w| unary::lerp(&end, &lo, w).unwrap(), &x);
    // The bounds, as the differentiated variable (kept away from ties with x).
    let xs = Tensor::from_vec(x.to_vec(), &[5]).unwrap();
    check(
        "clamp min bound",
        &|l| unary::clamp(&xs, Some(l), Some(&hi)).unwrap(),
        &[-1.0, 0.2, 0.6, 1.2, -2.0],
    );
    check(
        "clamp max bound",
        &|h| unary::clamp(&xs, Some(&lo), Some(h)).unwrap(),
        &[1.0, -0.6, 0.1, 2.0, 1.0],
    );
    let cond = ferrotorch_core::ops::binary::binary(
        ferrotorch_core::ops::binary::BinaryOp::Gt,
        &xs,
        &number(0.0),
    )
    .unwrap();
    check("where", &|t| unary::where_(&cond, t, &end).unwrap(), &x);
}

#[test]
fn values_at_non_differentiable_points_follow_torch() {
    let g = |f: &dyn Fn(&Tensor) -> Tensor, v: &[f64]| -> Vec<f64> {
        let x = leaf(v);
        let w = Tensor::from_vec(vec![1.0; v.len()], &[v.len()]).unwrap();
        values(&first(f, &x, &w, false))
    };
    // abs'(0) = 0, relu'(0) = 0.
    assert_eq!(g(&op(unary::abs), &[-2.0, 0.0, 3.0]), vec![-1.0, 0.0, 1.0]);
    assert_eq!(g(&op(unary::relu), &[-2.0, 0.0, 3.0]), vec![0.0, 0.0, 1.0]);
    // Rounding and sign: zero everywhere, also at the jumps.
    for f in [
        unary::floor,
        unary::ceil,
        unary::trunc,
        unary::sign,
        unary::sgn,
    ] as [Op; 5]
    {
        assert_eq!(g(&op(f), &[-1.0, 0.0, 0.5]), vec![0.0, 0.0, 0.0]);
    }
    assert_eq!(
        g(&|x| unary::round(x, 2).unwrap(), &[0.125, 1.0]),
        vec![0.0, 0.0]
    );
    // clamp: the gradient passes where min <= x <= max, boundaries included.
    let c = |x: &Tensor| unary::clamp(x, Some(&number(0.0)), Some(&number(1.0))).unwrap();
    assert_eq!(
        g(&c, &[-1.0, 0.0, 0.5, 1.0, 2.0]),
        vec![0.0, 1.0, 1.0, 1.0, 0.0]
    );
    // nan_to_num: no gradient where x is NaN or infinite.
    let n = |x: &Tensor| unary::nan_to_num(x, 0.0, None, None).unwrap();
    assert_eq!(g(&n, &[f64::NAN, f64::INFINITY, 2.0]), vec![0.0, 0.0, 1.0]);
    // sqrt'(0) = inf, as torch.
    assert_eq!(g(&op(unary::sqrt), &[0.0]), vec![f64::INFINITY]);
}

#[test]
fn clamp_bounds_get_gradient_where_they_win() {
    let x = Tensor::from_vec(vec![-2.0, 0.5, 3.0, 0.5], &[4]).unwrap();
    let lo = leaf(&[0.0, 0.0, 0.0, 2.0]);
    let hi = leaf(&[1.0, 1.0, 1.0, 1.0]);
    let y = unary::clamp(&x, Some(&lo), Some(&hi)).unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "ClampBackward0");
    // Last element: min > max, so the result is max and max gets the gradient.
    assert_eq!(values(&y), vec![0.0, 0.5, 1.0, 1.0]);
    let gs = grad(&[sum(&y)], &[lo, hi], &[None], None, false, false).unwrap();
    assert_eq!(values(gs[0].as_ref().unwrap()), vec![1.0, 0.0, 0.0, 0.0]);
    assert_eq!(values(gs[1].as_ref().unwrap()), vec![0.0, 0.0, 1.0, 1.0]);
    // A broadcast 0-d bound gets the summed gradient.
    let x = leaf(&[-2.0, 0.5, 3.0]);
    let lo = Tensor::from_vec(vec![0.0], &[]).unwrap();
    lo.set_requires_grad(true).unwrap();
    let y = unary::clamp_min(&x, &lo).unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "ClampMinBackward1");
    let gs = grad(&[sum(&y)], &[x, lo], &[None], None, false, false).unwrap();
    assert_eq!(values(gs[0].as_ref().unwrap()), vec![0.0, 1.0, 1.0]);
    assert_eq!(values(gs[1].as_ref().unwrap()), vec![1.0]);
}

#[test]
fn node_names_follow_torch() {
    let x = leaf(&[0.5]);
    let name = |t: Tensor| t.grad_fn().unwrap().name();
    assert_eq!(name(unary::log1p(&x).unwrap()), "Log1PBackward0");
    assert_eq!(name(unary::square(&x).unwrap()), "PowBackward0");
    assert_eq!(name(unary::round(&x, 0).unwrap()), "RoundBackward0");
    assert_eq!(name(unary::round(&x, 3).unwrap()), "RoundBackward1");
    assert_eq!(
        name(unary::clamp(&x, Some(&number(0.0)), None).unwrap()),
        "ClampBackward1"
    );
    assert_eq!(
        name(unary::clamp_max(&x, &number(0.0)).unwrap()),
        "ClampMaxBackward0"
    );
    assert_eq!(
        name(unary::lerp(&x, &x, &number(0.5)).unwrap()),
        "LerpBackward0"
    );
    assert_eq!(name(unary::lerp(&x, &x, &x).unwrap()), "LerpBackward1");
    assert_eq!(
        name(unary::nan_to_num(&x, 0.0, None, None).unwrap()),
        "NanToNumBackward0"
    );
    assert_eq!(
        name(convert::to_dtype(&x, DType::F32).unwrap()),
        "ToCopyBackward0"
    );
    assert_eq!(
        name(convert::clone(&x, MemoryFormat::Preserve).unwrap()),
        "CloneBackward0"
    );
    // Integer results carry no history; a no-op conversion is the tensor itself.
    assert!(convert::to_dtype(&x, DType::I64)
        .unwrap()
        .grad_fn()
        .is_none());
    assert!(convert::to(&x, DType::F64, false, MemoryFormat::Preserve)
        .unwrap()
        .is_none());
    let c = convert::to(&x, DType::F64, true, MemoryFormat::Preserve)
        .unwrap()
        .unwrap();
    assert_eq!(name(c), "ToCopyBackward0");
}

#[test]
fn conversions_send_gradients_back_in_the_input_dtype() {
    let x = leaf(&[1.5, -2.0]);
    let y = convert::to_dtype(&x, DType::F32).unwrap();
    let y = unary::exp(&y).unwrap();
    let g = grad(&[sum(&y)], &[x.clone()], &[None], None, false, false).unwrap()[0]
        .clone()
        .unwrap();
    assert_eq!(g.dtype(), DType::F64);
    assert_close(
        &values(&g),
        &[1.5f32.exp() as f64, (-2.0f32).exp() as f64],
        1e-6,
        "to",
    );
    // contiguous() of a transposed matrix is a recorded clone.
    let m = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    m.set_requires_grad(true).unwrap();
    let t = ferrotorch_core::autograd::functions::shape::reshape(&m, &[3, 2]).unwrap();
    assert!(convert::contiguous(&t).unwrap().grad_fn().unwrap().name() != "CloneBackward0");
    let tt = ferrotorch_core::ops::shape::transpose(&m, 0, 1).unwrap();
    let tt = ferrotorch_core::autograd::view::record_view("TransposeBackward0", &m, tt, |p| {
        ferrotorch_core::ops::shape::transpose(p, 0, 1)
    })
    .unwrap();
    let c = convert::contiguous(&tt).unwrap();
    assert_eq!(c.grad_fn().unwrap().name(), "CloneBackward0");
    assert!(c.is_contiguous());
    let w = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
    let g = grad(
        &[sum(&binary::mul(&c, &w).unwrap())],
        &[m],
        &[None],
        None,
        false,
        false,
    )
    .unwrap()[0]
        .clone()
        .unwrap();
    assert_eq!(values(&g), vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
}

#[test]
fn saved_result_is_version_checked() {
    // exp saves its output: modifying it in place before backward is an error.
    let x = leaf(&[0.5, 1.0]);
    let y = unary::exp(&x).unwrap();
    {
        let _g = no_grad();
        y.fill_(Scalar::Float(0.0)).unwrap();
    }
    let err = grad(&[sum(&y)], &[x], &[None], None, false, false).unwrap_err();
    assert!(err.message.contains("modified by an inplace operation"));
}
