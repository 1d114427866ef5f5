//! The matrix-product family and its rules (torch's derivatives.yaml formulas).
//!
//! Forwards call the kernels of [`crate::ops::matmul`], which read transposed, sliced and
//! broadcast operands through their strides, so recording never adds a copy. Rules are written
//! with these same products and recorded views, so every product can be differentiated again.
//! `outer`, `multi_dot` and `chain_matmul` are composites, as in torch; `matmul` records the
//! node of the product it performs (`DotBackward0`, `MvBackward0`, `MmBackward0`, and one node
//! for the batched forms, named as torch's last step: `UnsafeViewBackward0`).

use super::binary::mul;
use super::convert::clone;
use super::shape::{expand_to, permute, reshape, squeeze_dim, t, transpose, unsqueeze};
use super::when;
use crate::autograd::autocast;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{inplace, needs_grad, record1};
use crate::bail;
use crate::dtype::scalar_type_name;
use crate::error::Result;
use crate::layout::wrap_dim;
use crate::ops::check_same_device;
use crate::ops::matmul as raw;
use crate::tensor::Tensor;
use crate::Scalar;

/// What to save of an operand: itself when a gradient will read it (`wanted`: the other
/// operand requires grad), else a data-less stand-in, so an operand nobody differentiates
/// against is not kept alive by the graph.
fn keep(t: &Tensor, wanted: bool) -> Save {
    Save::Tensor(if wanted {
        t.clone()
    } else {
        Tensor::phantom(&[], t.dtype())
    })
}

/// Saves of a product `a x b`: `a` for `b`'s gradient, `b` for `a`'s.
fn pair(a: &Tensor, b: &Tensor) -> Vec<Save> {
    vec![keep(a, b.requires_grad()), keep(b, a.requires_grad())]
}

/// `t * s` for an op's scalar coefficient, skipped when 1 (torch's `maybe_multiply`).
fn times(t: Tensor, s: Scalar) -> Result<Tensor> {
    if s.to_f64() == 1.0 {
        Ok(t)
    } else {
        mul(&t, &Tensor::wrapped_scalar(s)?)
    }
}

/// The last two dims swapped (`x.mT`).
fn mt(x: &Tensor) -> Result<Tensor> {
    transpose(x, -2, -1)
}

fn squeeze(x: &Tensor, dim: i64) -> Result<Tensor> {
    squeeze_dim(x, dim)
}

/// Whether the matrix `b` is a transposed contiguous one (column-major), as a weight used as
/// `w.t()` is.
fn column_major(b: &Tensor) -> bool {
    b.ndim() == 2 && b.strides()[0] == 1 && b.strides()[1] != 1 && b.shape()[0] > 1
}

/// `a^T @ g`, the gradient of a product's second operand. For a column-major operand it is
/// computed as `(g^T @ a)^T`, the same values laid out so that the gradient reaches the
/// untransposed tensor (`w` of `x @ w.t()`) contiguous instead of needing a transposing copy
/// (torch's `mm_mat2_backward` does the same).
fn mat2_grad(a: &Tensor, g: &Tensor, b_column_major: bool) -> Result<Tensor> {
    if b_column_major {
        t(&mm(&t(g)?, a)?)
    } else {
        mm(&t(a)?, g)
    }
}

/// `mm(a, b)`: `ga = g @ b^T`, `gb = a^T @ g`.
pub fn mm(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if let Some([Some(a), Some(b)]) = autocast::lower([Some(a), Some(b)])? {
        return mm(&a, &b);
    }
    let out = raw::mm(a, b)?;
    if !needs_grad(&[a, b]) {
        return Ok(out);
    }
    let b_column_major = column_major(b);
    Ok(record1(
        "MmBackward0",
        &[a, b],
        out,
        pair(a, b),
        move |x: &BackwardArgs| {
            let g = x.grad(0)?;
            Ok(vec![
                when(x.needs(0), || mm(&g, &t(&x.saved(1)?)?))?,
                when(x.needs(1), || mat2_grad(&x.saved(0)?, &g, b_column_major))?,
            ])
        },
    ))
}

/// `bmm(a, b)`: `ga = g @ b^T`, `gb = a^T @ g`, batch by batch.
pub fn bmm(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if let Some([Some(a), Some(b)]) = autocast::lower([Some(a), Some(b)])? {
        return bmm(&a, &b);
    }
    let out = raw::bmm(a, b)?;
    if !needs_grad(&[a, b]) {
        return Ok(out);
    }
    Ok(record1(
        "BmmBackward0",
        &[a, b],
        out,
        pair(a, b),
        |x: &BackwardArgs| {
            let g = x.grad(0)?;
            Ok(vec![
                when(x.needs(0), || bmm(&g, &mt(&x.saved(1)?)?))?,
                when(x.needs(1), || bmm(&mt(&x.saved(0)?)?, &g))?,
            ])
        },
    ))
}

/// `mv(mat, vec)`: `gmat = outer(g, vec)`, `gvec = mat^T @ g`.
pub fn mv(mat: &Tensor, vec: &Tensor) -> Result<Tensor> {
    if let Some([Some(mat), Some(vec)]) = autocast::lower([Some(mat), Some(vec)])? {
        return mv(&mat, &vec);
    }
    let out = raw::mv(mat, vec)?;
    if !needs_grad(&[mat, vec]) {
        return Ok(out);
    }
    Ok(record1(
        "MvBackward0",
        &[mat, vec],
        out,
        pair(mat, vec),
        |x: &BackwardArgs| {
            let g = x.grad(0)?;
            Ok(vec![
                when(x.needs(0), || outer(&g, &x.saved(1)?))?,
                when(x.needs(1), || mv(&t(&x.saved(0)?)?, &g))?,
            ])
        },
    ))
}

fn dot_like(name: &'static str, out: Tensor, a: &Tensor, b: &Tensor) -> Tensor {
    if !needs_grad(&[a, b]) {
        return out;
    }
    record1(name, &[a, b], out, pair(a, b), |x: &BackwardArgs| {
        let g = x.grad(0)?;
        Ok(vec![
            when(x.needs(0), || mul(&g, &x.saved(1)?))?,
            when(x.needs(1), || mul(&g, &x.saved(0)?))?,
        ])
    })
}

/// `dot(a, b)`: `ga = g * b`, `gb = g * a`.
pub fn dot(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok(dot_like("DotBackward0", raw::dot(a, b)?, a, b))
}

/// `vdot(a, b)`: `dot` with `a` conjugated, which real dtypes make plain `dot`.
pub fn vdot(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok(dot_like("VdotBackward0", raw::vdot(a, b)?, a, b))
}

/// `matmul(a, b)` / `a @ b`: 1-D x 1-D is `dot`, 2-D x 1-D `mv`, 2-D x 2-D `mm`; every other
/// combination is one node over the broadcasting batched product.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if let Some([Some(a), Some(b)]) = autocast::lower([Some(a), Some(b)])? {
        return matmul(&a, &b);
    }
    check_same_device("matmul", &[a, b])?;
    match (a.ndim(), b.ndim()) {
        (1, 1) => dot(a, b),
        (2, 1) => mv(a, b),
        (2, 2) => mm(a, b),
        _ => batched_matmul(a, b),
    }
}

/// The N-D `matmul`. A 1-D operand is a matrix with a unit dim that the result drops; the
/// rule puts that dim back into the gradient, multiplies, and takes it out again. Batch dims
/// that were broadcast are summed by the engine.
fn batched_matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let out = raw::matmul(a, b)?;
    if !needs_grad(&[a, b]) {
        return Ok(out);
    }
    let b_column_major = column_major(b);
    // torch: 1-D @ 2-D ends in `squeeze_(0)`, every batched form in `_unsafe_view`.
    let name = if a.ndim() == 1 && b.ndim() == 2 {
        "SqueezeBackward4"
    } else {
        "UnsafeViewBackward0"
    };
    Ok(record1(
        name,
        &[a, b],
        out,
        pair(a, b),
        move |x: &BackwardArgs| {
            let g = x.grad(0)?;
            let (da, db) = (x.node.inputs[0].shape.len(), x.node.inputs[1].shape.len());
            // The gradient as the matrix product's output: (.., m, n).
            let g = match (da, db) {
                (1, _) => unsqueeze(&g, -2)?,
                (_, 1) => unsqueeze(&g, -1)?,
                _ => g,
            };
            let ga = when(x.needs(0), || {
                let b = x.saved(1)?;
                let bt = if db == 1 { unsqueeze(&b, 0)? } else { mt(&b)? };
                let r = matmul(&g, &bt)?;
                if da == 1 {
                    squeeze(&r, -2)
                } else {
                    Ok(r)
                }
            })?;
            let gb = when(x.needs(1), || {
                let a = x.saved(0)?;
                let r = if da >= 3 && db <= 2 {
                    // b met every row of a's batch: one (k, rows) @ (rows, n) product instead of
                    // a batch of products summed afterwards.
                    let k = a.shape()[da - 1];
                    let rows: usize = a.shape()[..da - 1].iter().product();
                    let n = g.shape()[g.ndim() - 1];
                    let a2 = reshape(&a, &[rows as i64, k as i64])?;
                    let g2 = reshape(&g, &[rows as i64, n as i64])?;
                    mat2_grad(&a2, &g2, b_column_major)?
                } else {
                    let at = if da == 1 { unsqueeze(&a, -1)? } else { mt(&a)? };
                    matmul(&at, &g)?
                };
                if db == 1 {
                    squeeze(&r, -1)
                } else {
                    Ok(r)
                }
            })?;
            Ok(vec![ga, gb])
        },
    ))
}

/// Writes an in-place product's result back into its target.
fn write_back(target: &Tensor, result: Tensor) -> Result<()> {
    if target.shape() != result.shape() {
        bail!(
            Runtime,
            "output with shape {:?} doesn't match the broadcast shape {:?}",
            target.shape(),
            result.shape()
        );
    }
    target.copy_(&result)
}

/// What the rules of the `add*` products need of the operands besides their saved values.
struct Operands {
    a_shape: Vec<usize>,
    b_column_major: bool,
}

/// Records one of the `add*` products: `out = beta * input + alpha * a (x) b`. The input's
/// gradient is `beta * g` (un-broadcast by the engine); `ga(g, b)` and `gb(a, g)` are the
/// product's own gradients, scaled by `alpha`.
fn record_fused(
    name: &'static str,
    out: Tensor,
    [input, a, b]: [&Tensor; 3],
    (beta, alpha): (Scalar, Scalar),
    ga: fn(&Tensor, &Tensor, &Operands) -> Result<Tensor>,
    gb: fn(&Tensor, &Tensor, &Operands) -> Result<Tensor>,
) -> Tensor {
    if !needs_grad(&[input, a, b]) {
        return out;
    }
    let operands = Operands {
        a_shape: a.shape().to_vec(),
        b_column_major: column_major(b),
    };
    record1(
        name,
        &[input, a, b],
        out,
        pair(a, b),
        move |x: &BackwardArgs| {
            let g = x.grad(0)?;
            Ok(vec![
                when(x.needs(0), || times(g.clone(), beta))?,
                when(x.needs(1), || {
                    times(ga(&g, &x.saved(1)?, &operands)?, alpha)
                })?,
                when(x.needs(2), || {
                    times(gb(&x.saved(0)?, &g, &operands)?, alpha)
                })?,
            ])
        },
    )
}

/// `addmm(input, a, b, beta, alpha) = beta * input + alpha * a @ b`.
pub fn addmm(
    input: &Tensor,
    a: &Tensor,
    b: &Tensor,
    beta: Scalar,
    alpha: Scalar,
) -> Result<Tensor> {
    if let Some([Some(input), Some(a), Some(b)]) = autocast::lower([Some(input), Some(a), Some(b)])?
    {
        return addmm(&input, &a, &b, beta, alpha);
    }
    let out = raw::addmm(input, a, b, beta, alpha)?;
    Ok(record_fused(
        "AddmmBackward0",
        out,
        [input, a, b],
        (beta, alpha),
        |g, b, _| mm(g, &t(b)?),
        |a, g, ops| mat2_grad(a, g, ops.b_column_major),
    ))
}

/// `baddbmm(input, a, b, beta, alpha) = beta * input + alpha * bmm(a, b)`.
pub fn baddbmm(
    input: &Tensor,
    a: &Tensor,
    b: &Tensor,
    beta: Scalar,
    alpha: Scalar,
) -> Result<Tensor> {
    if let Some([Some(input), Some(a), Some(b)]) = autocast::lower([Some(input), Some(a), Some(b)])?
    {
        return baddbmm(&input, &a, &b, beta, alpha);
    }
    let out = raw::baddbmm(input, a, b, beta, alpha)?;
    Ok(record_fused(
        "BaddbmmBackward0",
        out,
        [input, a, b],
        (beta, alpha),
        |g, b, _| bmm(g, &mt(b)?),
        |a, g, _| bmm(&mt(a)?, g),
    ))
}

/// `g` (m, n) repeated over the batch of `a_shape` (B, m, k), for `addbmm`'s rule.
fn over_batch(g: &Tensor, a_shape: &[usize]) -> Result<Tensor> {
    let shape = [a_shape[0], g.shape()[0], g.shape()[1]];
    expand_to(&unsqueeze(g, 0)?, &shape)
}

/// `addbmm(input, a, b, beta, alpha) = beta * input + alpha * sum_i a[i] @ b[i]`.
pub fn addbmm(
    input: &Tensor,
    a: &Tensor,
    b: &Tensor,
    beta: Scalar,
    alpha: Scalar,
) -> Result<Tensor> {
    if let Some([Some(input), Some(a), Some(b)]) = autocast::lower([Some(input), Some(a), Some(b)])?
    {
        return addbmm(&input, &a, &b, beta, alpha);
    }
    let out = raw::addbmm(input, a, b, beta, alpha)?;
    Ok(record_fused(
        "AddbmmBackward0",
        out,
        [input, a, b],
        (beta, alpha),
        |g, b, ops| bmm(&over_batch(g, &ops.a_shape)?, &mt(b)?),
        |a, g, ops| bmm(&mt(a)?, &over_batch(g, &ops.a_shape)?),
    ))
}

/// `addmv(input, mat, vec, beta, alpha) = beta * input + alpha * mat @ vec`.
pub fn addmv(
    input: &Tensor,
    mat: &Tensor,
    vec: &Tensor,
    beta: Scalar,
    alpha: Scalar,
) -> Result<Tensor> {
    if let Some([Some(input), Some(mat), Some(vec)]) =
        autocast::lower([Some(input), Some(mat), Some(vec)])?
    {
        return addmv(&input, &mat, &vec, beta, alpha);
    }
    let out = raw::addmv(input, mat, vec, beta, alpha)?;
    Ok(record_fused(
        "AddmvBackward0",
        out,
        [input, mat, vec],
        (beta, alpha),
        |g, vec, _| outer(g, vec),
        |mat, g, _| mv(&t(mat)?, g),
    ))
}

/// `addr(input, v1, v2, beta, alpha) = beta * input + alpha * outer(v1, v2)`.
pub fn addr(
    input: &Tensor,
    v1: &Tensor,
    v2: &Tensor,
    beta: Scalar,
    alpha: Scalar,
) -> Result<Tensor> {
    if let Some([Some(input), Some(v1), Some(v2)]) =
        autocast::lower([Some(input), Some(v1), Some(v2)])?
    {
        return addr(&input, &v1, &v2, beta, alpha);
    }
    let out = raw::addr(input, v1, v2, beta, alpha)?;
    Ok(record_fused(
        "AddrBackward0",
        out,
        [input, v1, v2],
        (beta, alpha),
        |g, v2, _| mv(g, v2),
        |v1, g, _| mv(&t(g)?, v1),
    ))
}

/// The in-place forms `input.addmm_(a, b, beta=, alpha=)` and friends.
macro_rules! fused_inplace {
    ($($name_:ident => $name:ident),* $(,)?) => {$(
        #[doc = concat!("`input.", stringify!($name_), "(a, b, beta=, alpha=)`, in place.")]
        pub fn $name_(
            input: &Tensor,
            a: &Tensor,
            b: &Tensor,
            beta: Scalar,
            alpha: Scalar,
        ) -> Result<()> {
            inplace(
                input,
                &[a, b],
                || write_back(input, raw::$name(input, a, b, beta, alpha)?),
                |old| $name(old, a, b, beta, alpha),
            )
        }
    )*};
}
fused_inplace!(
    addmm_ => addmm,
    baddbmm_ => baddbmm,
    addbmm_ => addbmm,
    addmv_ => addmv,
    addr_ => addr,
);

/// `outer(a, b)` (alias `ger`): `a.reshape(-1, 1) * b`, so its node is `MulBackward0` as in
/// torch, and it promotes dtypes as `mul` does.
pub fn outer(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    for (x, name) in [(a, "self"), (b, "vec2")] {
        if x.ndim() != 1 {
            bail!(
                Runtime,
                "outer: Expected 1-D argument {name}, but got {}-D",
                x.ndim()
            );
        }
    }
    if !needs_grad(&[a, b]) {
        return raw::outer(a, b);
    }
    mul(&reshape(a, &[a.shape()[0] as i64, 1])?, b)
}

/// `inner(a, b)`: a product over the last dims (plain `mul` when either is 0-d).
pub fn inner(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return mul(a, b);
    }
    let (la, lb) = (a.shape()[a.ndim() - 1], b.shape()[b.ndim() - 1]);
    if la != lb {
        bail!(
            Runtime,
            "inner() the last dimension must match on both input tensors but got shapes {:?} and {:?}",
            a.shape(),
            b.shape()
        );
    }
    tensordot(a, b, &[-1], &[-1])
}

/// The permutation that puts dims listed in `order` (result dim j holds input dim
/// `order[j]`) back in input order.
fn inverse(order: &[usize]) -> Vec<i64> {
    let mut inv = vec![0i64; order.len()];
    for (j, &d) in order.iter().enumerate() {
        inv[d] = j as i64;
    }
    inv
}

/// `tensordot(a, b, dims_a, dims_b)`. Each gradient is itself a `tensordot` of the output
/// gradient with the other operand over that operand's free dims, then permuted back.
/// torch's tensordot ends in a reshape of an `mm`, hence the node's name `ViewBackward0`.
pub fn tensordot(a: &Tensor, b: &Tensor, dims_a: &[i64], dims_b: &[i64]) -> Result<Tensor> {
    let out = raw::tensordot(a, b, dims_a, dims_b)?;
    if !needs_grad(&[a, b]) {
        return Ok(out);
    }
    // The raw op has validated the dims.
    let ca: Vec<usize> = dims_a
        .iter()
        .map(|&d| wrap_dim(d, a.ndim(), "tensordot"))
        .collect::<Result<_>>()?;
    let cb: Vec<usize> = dims_b
        .iter()
        .map(|&d| wrap_dim(d, b.ndim(), "tensordot"))
        .collect::<Result<_>>()?;
    let free_a: Vec<usize> = (0..a.ndim()).filter(|d| !ca.contains(d)).collect();
    let free_b: Vec<usize> = (0..b.ndim()).filter(|d| !cb.contains(d)).collect();
    let nfa = free_a.len();
    // Partner (in the other operand) of a contracted dim, listed in ascending order: the
    // order in which tensordot leaves an operand's not-contracted-away dims.
    let partners = |own: &[usize], other: &[usize]| -> Vec<usize> {
        let mut s: Vec<usize> = own.to_vec();
        s.sort_unstable();
        s.iter()
            .map(|d| other[own.iter().position(|x| x == d).unwrap_or(0)])
            .collect()
    };
    let order_a: Vec<usize> = free_a.iter().copied().chain(partners(&cb, &ca)).collect();
    let order_b: Vec<usize> = partners(&ca, &cb)
        .into_iter()
        .chain(free_b.clone())
        .collect();
    let g_free_b: Vec<i64> = (nfa..nfa + free_b.len()).map(|d| d as i64).collect();
    let g_free_a: Vec<i64> = (0..nfa).map(|d| d as i64).collect();
    let (free_a, free_b): (Vec<i64>, Vec<i64>) = (
        free_a.iter().map(|&d| d as i64).collect(),
        free_b.iter().map(|&d| d as i64).collect(),
    );
    let (perm_a, perm_b) = (inverse(&order_a), inverse(&order_b));
    Ok(record1(
        "ViewBackward0",
        &[a, b],
        out,
        pair(a, b),
        move |x: &BackwardArgs| {
            let g = x.grad(0)?;
            Ok(vec![
                when(x.needs(0), || {
                    permute(&tensordot(&g, &x.saved(1)?, &g_free_b, &free_b)?, &perm_a)
                })?,
                when(x.needs(1), || {
                    permute(&tensordot(&x.saved(0)?, &g, &free_a, &g_free_a)?, &perm_b)
                })?,
            ])
        },
    ))
}

/// The matrices of a `multi_dot` chain (1-D ends made matrices), checked as torch checks them.
fn chain_operands(tensors: &[Tensor]) -> Result<Vec<Tensor>> {
    let n = tensors.len();
    if n < 2 {
        bail!(
            Runtime,
            "multi_dot(): expected at least 2 tensors but got {n}"
        );
    }
    let dt = tensors[0].dtype();
    let mut mats = Vec::with_capacity(n);
    for (i, x) in tensors.iter().enumerate() {
        let nd = x.ndim();
        let edge = i == 0 || i == n - 1;
        if !(nd == 2 || (edge && nd == 1)) {
            match i {
                0 => bail!(
                    Runtime,
                    "multi_dot(): the first tensor must be 1D or 2D but got {nd}D"
                ),
                _ if i == n - 1 => bail!(
                    Runtime,
                    "multi_dot(): the last tensor must be 1D or 2D but got {nd}D"
                ),
                _ => bail!(Runtime, "multi_dot(): tensor {i} must be 2D but got {nd}D"),
            }
        }
        if x.dtype() != dt {
            bail!(
                Runtime,
                "multi_dot(): all tensors must have be the same dtype but tensor 0 is {} and tensor {i} is {}",
                scalar_type_name(dt),
                scalar_type_name(x.dtype())
            );
        }
        mats.push(match (nd, i) {
            (1, 0) => unsqueeze(x, 0)?,
            (1, _) => unsqueeze(x, 1)?,
            _ => x.clone(),
        });
    }
    check_same_device("multi_dot", &mats.iter().collect::<Vec<_>>())?;
    for i in 0..n - 1 {
        let (sa, sb) = (mats[i].shape(), mats[i + 1].shape());
        if sa[1] != sb[0] {
            bail!(
                Runtime,
                "multi_dot(): tensors {i} and {} with shapes {}x{} and {}x{} cannot be multiplied",
                i + 1,
                sa[0],
                sa[1],
                sb[0],
                sb[1]
            );
        }
    }
    Ok(mats)
}

/// `linalg.multi_dot(tensors)`: with gradients wanted, the same cheapest-order chain of
/// recorded `mm`s the kernel runs (as torch composes it), so backward keeps that order too.
pub fn multi_dot(tensors: &[Tensor]) -> Result<Tensor> {
    if !needs_grad(&tensors.iter().collect::<Vec<_>>()) {
        return raw::multi_dot(tensors);
    }
    let mats = chain_operands(tensors)?;
    let n = mats.len();
    // Matrix-chain order: cost[i][j] = cheapest product of mats i..=j, split[i][j] its split.
    let p: Vec<usize> = std::iter::once(mats[0].shape()[0])
        .chain(mats.iter().map(|m| m.shape()[1]))
        .collect();
    let mut cost = vec![vec![0usize; n]; n];
    let mut split = vec![vec![0usize; n]; n];
    for len in 1..n {
        for i in 0..n - len {
            let j = i + len;
            cost[i][j] = usize::MAX;
            for s in i..j {
                let c = cost[i][s]
                    .saturating_add(cost[s + 1][j])
                    .saturating_add(p[i].saturating_mul(p[s + 1]).saturating_mul(p[j + 1]));
                if c < cost[i][j] {
                    cost[i][j] = c;
                    split[i][j] = s;
                }
            }
        }
    }
    fn chain(mats: &[Tensor], split: &[Vec<usize>], i: usize, j: usize) -> Result<Tensor> {
        if i == j {
            return Ok(mats[i].clone());
        }
        let s = split[i][j];
        mm(&chain(mats, split, i, s)?, &chain(mats, split, s + 1, j)?)
    }
    let mut r = chain(&mats, &split, 0, n - 1)?;
    if tensors[n - 1].ndim() == 1 {
        r = squeeze(&r, 1)?;
    }
    if tensors[0].ndim() == 1 {
        r = squeeze(&r, 0)?;
    }
    Ok(r)
}

/// `chain_matmul(*matrices)`: `multi_dot` of matrices; one matrix is returned as a clone.
pub fn chain_matmul(tensors: &[Tensor]) -> Result<Tensor> {
    if tensors.is_empty() {
        bail!(Runtime, "chain_matmul(): Expected one or more matrices");
    }
    for (i, x) in tensors.iter().enumerate() {
        if x.ndim() != 2 {
            bail!(
                Runtime,
                "Tensor dimension is {}, expected 2 instead. (tensor {i} of chain_matmul)",
                x.ndim()
            );
        }
    }
    if tensors.len() == 1 {
        return clone(&tensors[0], crate::ops::convert::MemoryFormat::Contiguous);
    }
    multi_dot(tensors)
}
