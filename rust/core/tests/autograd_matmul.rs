//! Rules of the matrix products and einsum: hand-derived values, and central differences
//! (float64) for first and second derivatives.

use ferrotorch_core::autograd::api::grad;
use ferrotorch_core::autograd::functions::{binary, einsum::einsum, matmul as fm, reduce, shape};
use ferrotorch_core::{Result, Scalar, Tensor};

fn leaf(v: Vec<f64>, shape: &[usize]) -> Tensor {
    let t = Tensor::from_vec(v, shape).unwrap();
    t.set_requires_grad(true).unwrap();
    t
}

fn values(t: &Tensor) -> Vec<f64> {
    t.contiguous().unwrap().to_vec::<f64>()
}

fn sum(t: &Tensor) -> Tensor {
    reduce::sum(t, None, false, None).unwrap()
}

fn grads(y: &Tensor, xs: &[Tensor]) -> Vec<Vec<f64>> {
    grad(&[sum(y)], xs, &[None], None, false, false)
        .unwrap()
        .into_iter()
        .map(|g| values(&g.unwrap()))
        .collect()
}

/// Deterministic values in [-1, 1).
fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn rand_leaf(shape: &[usize], seed: u64) -> Tensor {
    leaf(noise(shape.iter().product(), seed), shape)
}

type Fun = dyn Fn(&[Tensor]) -> Result<Tensor>;

/// `sum(f(xs) * w)` for a fixed `w`, so every output element gets its own weight.
fn objective(f: &Fun, xs: &[Tensor]) -> Tensor {
    let y = f(xs).unwrap();
    let w = Tensor::from_vec(noise(y.numel(), 99), y.shape()).unwrap();
    sum(&binary::mul(&y, &w).unwrap())
}

/// Compares the analytical gradient of `objective` with central differences.
fn gradcheck(f: &Fun, xs: &[Tensor]) {
    let analytic = grad(&[objective(f, xs)], xs, &[None], None, false, true).unwrap();
    let h = 1e-6;
    for (i, x) in xs.iter().enumerate() {
        let base = values(x);
        let mut numeric = vec![0.0; base.len()];
        for (e, slot) in numeric.iter_mut().enumerate() {
            let at = |delta: f64| {
                let mut v = base.clone();
                v[e] += delta;
                let mut ys = xs.to_vec();
                ys[i] = leaf(v, x.shape());
                values(&objective(f, &ys))[0]
            };
            *slot = (at(h) - at(-h)) / (2.0 * h);
        }
        let got = analytic[i]
            .as_ref()
            .map(values)
            .unwrap_or_else(|| vec![0.0; base.len()]);
        for (e, (a, n)) in got.iter().zip(&numeric).enumerate() {
            assert!(
                (a - n).abs() <= 1e-6 + 1e-5 * n.abs(),
                "input {i} element {e}: analytic {a} vs numeric {n}"
            );
        }
    }
}

/// Checks the gradient of `f` with respect to its first input, as a function of all inputs
/// (double backward).
fn gradgradcheck(f: &'static Fun, xs: &[Tensor]) {
    let g = move |xs: &[Tensor]| -> Result<Tensor> {
        let o = objective(f, xs);
        let gs = grad(&[o], &xs[..1], &[None], None, true, false)?;
        Ok(gs[0].clone().expect("used"))
    };
    gradcheck(&g, xs);
}

fn tr(x: &Tensor) -> Tensor {
    shape::transpose(x, -2, -1).unwrap()
}

#[test]
fn mm_hand_values() {
    let a = leaf(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let b = leaf(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]);
    let y = fm::mm(&a, &b).unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "MmBackward0");
    let g = grads(&y, &[a, b]);
    // ga = ones @ b^T: row sums of b; gb = a^T @ ones: column sums of a.
    assert_eq!(g[0], vec![11.0, 15.0, 11.0, 15.0]);
    assert_eq!(g[1], vec![4.0, 4.0, 6.0, 6.0]);
}

#[test]
fn matmul_names_follow_the_product() {
    let v = rand_leaf(&[3], 1);
    let m = rand_leaf(&[3, 3], 2);
    let b = rand_leaf(&[2, 3, 3], 3);
    let name = |y: Tensor| y.grad_fn().unwrap().name();
    assert_eq!(name(fm::matmul(&v, &v).unwrap()), "DotBackward0");
    assert_eq!(name(fm::matmul(&m, &v).unwrap()), "MvBackward0");
    assert_eq!(name(fm::matmul(&m, &m).unwrap()), "MmBackward0");
    assert_eq!(name(fm::matmul(&v, &m).unwrap()), "SqueezeBackward4");
    assert_eq!(name(fm::matmul(&b, &b).unwrap()), "UnsafeViewBackward0");
    assert_eq!(name(fm::bmm(&b, &b).unwrap()), "BmmBackward0");
}

#[test]
fn dot_and_vector_matmul_values() {
    let a = leaf(vec![1.0, 2.0, 3.0], &[3]);
    let b = leaf(vec![4.0, 5.0, 6.0], &[3]);
    let g = grads(&fm::matmul(&a, &b).unwrap(), &[a.clone(), b.clone()]);
    assert_eq!(g, vec![vec![4.0, 5.0, 6.0], vec![1.0, 2.0, 3.0]]);
    // 1-D @ 3-D: the vector meets every batch, so its gradient sums over them.
    let m = leaf(vec![1.0; 12], &[2, 3, 2]);
    let g = grads(&fm::matmul(&a, &m).unwrap(), &[a, m]);
    assert_eq!(g[0], vec![4.0, 4.0, 4.0]);
    assert_eq!(
        g[1],
        vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
    );
}

#[test]
fn addmm_scales_by_beta_and_alpha() {
    let c = leaf(vec![0.5, -0.5], &[2]);
    let a = leaf(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let b = leaf(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]);
    let y = fm::addmm(&c, &a, &b, Scalar::Float(2.0), Scalar::Int(3)).unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "AddmmBackward0");
    let g = grads(&y, &[c, a, b]);
    assert_eq!(g[0], vec![4.0, 4.0]); // beta, summed over the 2 broadcast rows
    assert_eq!(g[1], vec![33.0, 45.0, 33.0, 45.0]);
    assert_eq!(g[2], vec![12.0, 12.0, 18.0, 18.0]);
}

#[test]
fn einsum_diagonals_and_summed_labels() {
    let x = leaf((0..9).map(f64::from).collect(), &[3, 3]);
    let y = einsum("ii", &[x.clone()]).unwrap();
    assert_eq!(values(&y), vec![12.0]);
    let g = grads(&y, &[x.clone()]);
    assert_eq!(g[0], vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    // A label summed inside the only operand: its gradient is broadcast back.
    let g = grads(&einsum("ij->j", &[x.clone()]).unwrap(), &[x.clone()]);
    assert_eq!(g[0], vec![1.0; 9]);
    // The output of a pure relabelling is not the operand's storage.
    let d = einsum("ii->i", &[x.clone()]).unwrap();
    assert!(!d.shares_storage(&x));
}

#[test]
fn gradcheck_products() {
    let f_mm: &Fun = &|x| fm::mm(&tr(&x[0]), &x[1]);
    gradcheck(f_mm, &[rand_leaf(&[4, 3], 1), rand_leaf(&[4, 2], 2)]);
    let f_mat: &Fun = &|x| fm::matmul(&x[0], &x[1]);
    gradcheck(
        f_mat,
        &[rand_leaf(&[2, 1, 3, 4], 3), rand_leaf(&[3, 4, 2], 4)],
    );
    gradcheck(f_mat, &[rand_leaf(&[2, 3, 4], 5), rand_leaf(&[4], 6)]);
    gradcheck(f_mat, &[rand_leaf(&[4], 7), rand_leaf(&[2, 4, 3], 8)]);
    gradcheck(f_mat, &[rand_leaf(&[2, 3, 4], 9), rand_leaf(&[4, 2], 10)]);
    gradcheck(f_mat, &[rand_leaf(&[3, 4], 11), rand_leaf(&[2, 4, 2], 12)]);
    let f_addbmm: &Fun =
        &|x| fm::addbmm(&x[0], &x[1], &x[2], Scalar::Float(0.5), Scalar::Float(-2.0));
    gradcheck(
        f_addbmm,
        &[
            rand_leaf(&[3], 13),
            rand_leaf(&[2, 2, 4], 14),
            rand_leaf(&[2, 4, 3], 15),
        ],
    );
    let f_td: &Fun = &|x| fm::tensordot(&x[0], &x[1], &[2, 0], &[0, 2]);
    gradcheck(
        f_td,
        &[rand_leaf(&[2, 3, 4], 16), rand_leaf(&[4, 5, 2], 17)],
    );
    let f_md: &Fun = &|x| fm::multi_dot(x);
    gradcheck(
        f_md,
        &[
            rand_leaf(&[3], 18),
            rand_leaf(&[3, 5], 19),
            rand_leaf(&[5, 2], 20),
            rand_leaf(&[2], 21),
        ],
    );
}

#[test]
fn gradcheck_einsum() {
    let f: &Fun = &|x| einsum("bij,bjk->bik", x);
    gradcheck(f, &[rand_leaf(&[2, 3, 4], 1), rand_leaf(&[2, 4, 2], 2)]);
    let f: &Fun = &|x| einsum("iij,kj", x);
    gradcheck(f, &[rand_leaf(&[3, 3, 2], 3), rand_leaf(&[4, 2], 4)]);
    let f: &Fun = &|x| einsum("...ij,j...->i...", x);
    gradcheck(f, &[rand_leaf(&[2, 3, 4], 5), rand_leaf(&[4, 1], 6)]);
    let f: &Fun = &|x| einsum("ij,jk->", x);
    gradcheck(f, &[rand_leaf(&[1, 3], 7), rand_leaf(&[3, 2], 8)]);
}

#[test]
fn double_backward() {
    gradgradcheck(
        &|x| fm::mm(&x[0], &x[1]),
        &[rand_leaf(&[3, 2], 1), rand_leaf(&[2, 4], 2)],
    );
    gradgradcheck(
        &|x| fm::matmul(&x[0], &x[1]),
        &[rand_leaf(&[2, 3, 2], 3), rand_leaf(&[2], 4)],
    );
    gradgradcheck(
        &|x| einsum("ii,ij->j", x),
        &[rand_leaf(&[3, 3], 5), rand_leaf(&[3, 2], 6)],
    );
}
