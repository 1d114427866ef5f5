//! Matrix products: `matmul` and its 1-D..N-D rules, `mm`, `bmm`, `mv`, `dot`, the `add*`
//! fused forms, `inner`, `outer`, `tensordot` and `multi_dot`. Every product ends in
//! [`gemm_into`], which hands the operands' strides straight to the batched kernel in
//! `cpu::gemm` (no copies for transposed, sliced or broadcast inputs).
//!
//! Like torch, products do not promote: both operands must have the same dtype.

use crate::bail;
use crate::cpu::gemm::{batched_gemm, Batched, Mat};
use crate::dtype::scalar_type_name;
use crate::dtype::DType;
use crate::element::Element;
use crate::error::Result;
use crate::layout::{wrap_dim, Layout};
use crate::ops::binary;
use crate::ops::check_same_device;
use crate::ops::shape::{permute, reshape, squeeze, unsqueeze};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// The name torch's C++ type metadata prints for a dtype (`float`, `long int` ...), as used by
/// the "expected m1 and m2 to have the same dtype" message.
pub fn cpp_type_name(d: DType) -> &'static str {
    match d {
        DType::Bool => "bool",
        DType::U8 => "unsigned char",
        DType::I8 => "signed char",
        DType::I16 => "short int",
        DType::I32 => "int",
        DType::I64 => "long int",
        DType::F16 => "c10::Half",
        DType::BF16 => "c10::BFloat16",
        DType::F32 => "float",
        DType::F64 => "double",
    }
}

/// Fails unless `a` and `b` have one dtype (products never promote).
fn same_dtype(a: &Tensor, b: &Tensor) -> Result<DType> {
    if a.dtype() != b.dtype() {
        bail!(
            Runtime,
            "expected m1 and m2 to have the same dtype, but got: {} != {}",
            cpp_type_name(a.dtype()),
            cpp_type_name(b.dtype())
        );
    }
    Ok(a.dtype())
}

/// The `input` of an `add*` op must have the dtype of the product.
fn input_dtype(input: &Tensor, mat: &Tensor) -> Result<()> {
    if input.dtype() != mat.dtype() {
        bail!(
            Runtime,
            "self and mat2 must have the same dtype, but got {} and {}",
            scalar_type_name(input.dtype()),
            scalar_type_name(mat.dtype())
        );
    }
    Ok(())
}

/// torch refuses float `alpha`/`beta` for integer products.
fn check_coeffs(dt: DType, beta: Scalar, alpha: Scalar) -> Result<()> {
    if dt.is_integral(true) {
        for (name, s) in [("beta", beta), ("alpha", alpha)] {
            if s.is_float() {
                bail!(
                    Runtime,
                    "For integral input tensors, argument {name} must not be a floating point number."
                );
            }
        }
    }
    Ok(())
}

fn batched_of<T: Element>(t: &Tensor) -> Batched<T> {
    let nd = t.ndim();
    let s = t.strides();
    Batched {
        mat: Mat {
            ptr: t.data_ptr::<T>(),
            rs: s[nd - 2],
            cs: s[nd - 1],
        },
        batch_strides: s[..nd - 2].to_vec(),
    }
}

/// `out[.., m, n] = beta * out + alpha * a[.., m, k] @ b[.., k, n]` (`beta = None`: out is
/// overwritten). `out` is a fresh tensor; `a` and `b` are views with `out`'s batch shape
/// (broadcast dims have stride 0), all of one dtype. `kernel` names the op in the bool error.
pub fn gemm_into(
    out: &Tensor,
    a: &Tensor,
    b: &Tensor,
    alpha: Scalar,
    beta: Option<Scalar>,
    kernel: &str,
) -> Result<()> {
    let nd = out.ndim();
    debug_assert!(nd >= 2 && a.ndim() == nd && b.ndim() == nd);
    let (m, n, k) = (out.shape()[nd - 2], out.shape()[nd - 1], a.shape()[nd - 1]);
    let batch = &out.shape()[..nd - 2];
    if out.is_cuda() {
        return crate::cuda::blas::gemm(out, a, b, alpha, beta, kernel);
    }
    if out.dtype() == DType::Bool {
        bail!(NotImplemented, "\"{kernel}\" not implemented for 'Bool'");
    }
    macro_rules! run {
        ($T:ty) => {
            // SAFETY: views validated by `Tensor::from_parts`; `out` is fresh, contiguous and
            // distinct from the inputs.
            unsafe {
                batched_gemm::<$T>(
                    batch,
                    m,
                    n,
                    k,
                    batched_of(out),
                    batched_of(a),
                    batched_of(b),
                    alpha.to_elem(),
                    beta.map(|s| s.to_elem()),
                )
            }
        };
    }
    match out.dtype() {
        DType::F32 => run!(f32),
        DType::F64 => run!(f64),
        DType::F16 => run!(half::f16),
        DType::BF16 => run!(half::bf16),
        DType::I64 => run!(i64),
        DType::I32 => run!(i32),
        DType::I16 => run!(i16),
        DType::I8 => run!(i8),
        DType::U8 => run!(u8),
        DType::Bool => {}
    }
    out.storage().bump_version();
    Ok(())
}

/// A view of `t` with `shape` where size-1 dims have stride 0 and the rest keep `strides`.
fn view(t: &Tensor, shape: &[usize], strides: &[isize]) -> Result<Tensor> {
    t.view_with(Layout {
        shape: shape.to_vec(),
        strides: strides.to_vec(),
        offset: t.offset(),
    })
}

/// Allocates the result of an `add*` op: `input` broadcast into it when `beta != 0`.
fn init_out(
    op: &str,
    input: &Tensor,
    shape: &[usize],
    beta: Scalar,
) -> Result<(Tensor, Option<Scalar>)> {
    let bl = input.layout().broadcast_to(shape, op)?;
    let out = Tensor::empty(shape, input.dtype(), input.device())?;
    if beta.to_f64() == 0.0 {
        return Ok((out, None));
    }
    out.copy_(&input.view_with(bl)?)?;
    Ok((out, Some(beta)))
}

fn check_mm_shapes(a: &Tensor, b: &Tensor) -> Result<()> {
    if a.ndim() != 2 {
        bail!(Runtime, "self must be a matrix");
    }
    if b.ndim() != 2 {
        bail!(Runtime, "mat2 must be a matrix");
    }
    let (sa, sb) = (a.shape(), b.shape());
    if sa[1] != sb[0] {
        bail!(
            Runtime,
            "mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})",
            sa[0],
            sa[1],
            sb[0],
            sb[1]
        );
    }
    Ok(())
}

/// `torch.mm(a, b)`: `(m, k) @ (k, n)`.
pub fn mm(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    check_same_device("mm", &[a, b])?;
    check_mm_shapes(a, b)?;
    let dt = same_dtype(a, b)?;
    let out = Tensor::empty(&[a.shape()[0], b.shape()[1]], dt, a.device())?;
    gemm_into(&out, a, b, Scalar::Int(1), None, "addmm_impl_cpu_")?;
    Ok(out)
}

/// `torch.addmm(input, mat1, mat2, beta=, alpha=)`: `beta * input + alpha * mat1 @ mat2`.
pub fn addmm(
    input: &Tensor,
    a: &Tensor,
    b: &Tensor,
    beta: Scalar,
    alpha: Scalar,
) -> Result<Tensor> {
    check_same_device("addmm", &[input, a, b])?;
    if a.ndim() != 2 {
        bail!(Runtime, "mat1 must be a matrix, got {}-D tensor", a.ndim());
    }
    if b.ndim() != 2 {
        bail!(Runtime, "mat2 must be a matrix, got {}-D tensor", b.ndim());
    }
    check_mm_shapes(a, b)?;
    let dt = same_dtype(a, b)?;
    input_dtype(input, b)?;
    check_coeffs(dt, beta, alpha)?;
    if a.is_cuda() && beta.to_f64() == 1.0 {
        // `linear`'s bias, added in the product's epilogue instead of copied in first.
        if let Some(out) = crate::cuda::blas_lt::addmm_bias(input, a, b, alpha.to_f64())? {
            return Ok(out);
        }
    }
    let (out, beta) = init_out("addmm", input, &[a.shape()[0], b.shape()[1]], beta)?;
    gemm_into(&out, a, b, alpha, beta, "addmm_impl_cpu_")?;
    Ok(out)
}

fn check_bmm_shapes(a: &Tensor, b: &Tensor) -> Result<()> {
    if a.ndim() != 3 {
        bail!(Runtime, "batch1 must be a 3D tensor");
    }
    if b.ndim() != 3 {
        bail!(Runtime, "batch2 must be a 3D tensor");
    }
    let (sa, sb) = (a.shape(), b.shape());
    if sb[0] != sa[0] || sb[1] != sa[2] {
        bail!(
            Runtime,
            "Expected size for first two dimensions of batch2 tensor to be: [{}, {}] but got: [{}, {}].",
            sa[0],
            sa[2],
            sb[0],
            sb[1]
        );
    }
    Ok(())
}

/// `torch.bmm(a, b)`: `(B, m, k) @ (B, k, n)`.
pub fn bmm(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    check_same_device("bmm", &[a, b])?;
    check_bmm_shapes(a, b)?;
    let dt = same_dtype(a, b)?;
    let out = Tensor::empty(&[a.shape()[0], a.shape()[1], b.shape()[2]], dt, a.device())?;
    gemm_into(&out, a, b, Scalar::Int(1), None, "bmm")?;
    Ok(out)
}

/// `torch.baddbmm(input, batch1, batch2, beta=, alpha=)`.
pub fn baddbmm(
    input: &Tensor,
    a: &Tensor,
    b: &Tensor,
    beta: Scalar,
    alpha: Scalar,
) -> Result<Tensor> {
    check_same_device("baddbmm", &[input, a, b])?;
    check_bmm_shapes(a, b)?;
    let dt = same_dtype(a, b)?;
    input_dtype(input, b)?;
    check_coeffs(dt, beta, alpha)?;
    let (out, beta) = init_out(
        "baddbmm",
        input,
        &[a.shape()[0], a.shape()[1], b.shape()[2]],
        beta,
    )?;
    gemm_into(&out, a, b, alpha, beta, "bmm")?;
    Ok(out)
}

/// `torch.addbmm(input, batch1, batch2, beta=, alpha=)`: the batch is summed, which is one
/// `(m, B*k) @ (B*k, n)` product.
pub fn addbmm(
    input: &Tensor,
    a: &Tensor,
    b: &Tensor,
    beta: Scalar,
    alpha: Scalar,
) -> Result<Tensor> {
    check_same_device("addbmm", &[input, a, b])?;
    check_bmm_shapes(a, b)?;
    let dt = same_dtype(a, b)?;
    input_dtype(input, b)?;
    check_coeffs(dt, beta, alpha)?;
    let (bs, m, k, n) = (a.shape()[0], a.shape()[1], a.shape()[2], b.shape()[2]);
    let bk = (bs * k) as i64;
    let a2 = reshape(&permute(a, &[1, 0, 2])?, &[m as i64, bk])?;
    let b2 = reshape(b, &[bk, n as i64])?;
    let (out, beta) = init_out("addbmm", input, &[m, n], beta)?;
    gemm_into(&out, &a2, &b2, alpha, beta, "addbmm")?;
    Ok(out)
}

fn check_mv_shapes(
    out_len: Option<usize>,
    mat: &Tensor,
    vec: &Tensor,
    input_ndim: usize,
) -> Result<()> {
    if mat.ndim() != 2 || vec.ndim() != 1 || input_ndim > 1 {
        bail!(
            Runtime,
            "vector + matrix @ vector expected, got {input_ndim}, {}, {}",
            mat.ndim(),
            vec.ndim()
        );
    }
    let (m, k) = (mat.shape()[0], mat.shape()[1]);
    if k != vec.shape()[0] || out_len.is_some_and(|l| l != m && l != 1) {
        bail!(
            Runtime,
            "size mismatch, got input ({}), mat ({m}x{k}), vec ({})",
            out_len.unwrap_or(m),
            vec.shape()[0]
        );
    }
    Ok(())
}

/// `mat @ vec` into `out` (shape `(m,)`) as a `(m, k) @ (k, 1)` product.
fn mv_into(
    out: &Tensor,
    mat: &Tensor,
    vec: &Tensor,
    alpha: Scalar,
    beta: Option<Scalar>,
) -> Result<()> {
    let (m, k) = (mat.shape()[0], mat.shape()[1]);
    let o = view(out, &[m, 1], &[out.strides()[0], 1])?;
    let v = view(vec, &[k, 1], &[vec.strides()[0], 0])?;
    gemm_into(&o, mat, &v, alpha, beta, "addmv_impl_cpu")
}

/// `torch.mv(mat, vec)`.
pub fn mv(mat: &Tensor, vec: &Tensor) -> Result<Tensor> {
    check_same_device("mv", &[mat, vec])?;
    check_mv_shapes(None, mat, vec, 1)?;
    let dt = same_dtype(mat, vec)?;
    let out = Tensor::empty(&[mat.shape()[0]], dt, mat.device())?;
    mv_into(&out, mat, vec, Scalar::Int(1), None)?;
    Ok(out)
}

/// `torch.addmv(input, mat, vec, beta=, alpha=)`.
pub fn addmv(
    input: &Tensor,
    mat: &Tensor,
    vec: &Tensor,
    beta: Scalar,
    alpha: Scalar,
) -> Result<Tensor> {
    check_same_device("addmv", &[input, mat, vec])?;
    let in_len = if input.ndim() == 1 {
        Some(input.shape()[0])
    } else {
        None
    };
    check_mv_shapes(in_len, mat, vec, input.ndim())?;
    let dt = same_dtype(mat, vec)?;
    input_dtype(input, mat)?;
    check_coeffs(dt, beta, alpha)?;
    let (out, beta) = init_out("addmv", input, &[mat.shape()[0]], beta)?;
    mv_into(&out, mat, vec, alpha, beta)?;
    Ok(out)
}

/// Shared checks of `dot` and `vdot` (`op` names the function in messages).
fn dot_impl(op: &str, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    check_same_device(op, &[a, b])?;
    if a.ndim() != 1 || b.ndim() != 1 {
        bail!(
            Runtime,
            "1D tensors expected, but got {}D and {}D tensors",
            a.ndim(),
            b.ndim()
        );
    }
    if a.dtype() != b.dtype() {
        bail!(
            Runtime,
            "{op} : expected both vectors to have same dtype, but found {} and {}",
            scalar_type_name(a.dtype()),
            scalar_type_name(b.dtype())
        );
    }
    let (na, nb) = (a.shape()[0], b.shape()[0]);
    if na != nb {
        bail!(
            Runtime,
            "inconsistent tensor size, expected tensor [{na}] and src [{nb}] to have the same \
             number of elements, but got {na} and {nb} elements respectively"
        );
    }
    let out = Tensor::empty(&[], a.dtype(), a.device())?;
    let o = view(&out, &[1, 1], &[1, 1])?;
    let av = view(a, &[1, na], &[0, a.strides()[0]])?;
    let bv = view(b, &[na, 1], &[b.strides()[0], 0])?;
    gemm_into(&o, &av, &bv, Scalar::Int(1), None, op)?;
    Ok(out)
}

/// `torch.dot(a, b)`: 1-D inner product, a 0-d result.
pub fn dot(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    dot_impl("dot", a, b)
}

/// `torch.vdot(a, b)`: `dot` with the first argument conjugated (a no-op for real dtypes).
pub fn vdot(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    dot_impl("vdot", a, b)
}

/// `torch.matmul(a, b)` with torch's rules: 1-D x 1-D is `dot`, 2-D x 1-D is `mv`, a 1-D
/// operand of an N-D product is promoted to a matrix and its dim removed afterwards, and the
/// batch dims of N-D operands broadcast.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    check_same_device("matmul", &[a, b])?;
    let (da, db) = (a.ndim(), b.ndim());
    if da == 0 || db == 0 {
        bail!(
            Runtime,
            "both arguments to matmul need to be at least 1D, but they are {da}D and {db}D"
        );
    }
    match (da, db) {
        (1, 1) => return dot(a, b),
        (2, 1) => return mv(a, b),
        (1, 2) => return squeeze(&mm(&unsqueeze(a, 0)?, b)?, Some(&[0])),
        (2, 2) => return mm(a, b),
        _ => {}
    }
    let a2 = if da == 1 { unsqueeze(a, 0)? } else { a.clone() };
    let b2 = if db == 1 {
        unsqueeze(b, -1)?
    } else {
        b.clone()
    };
    let (na, nb) = (a2.ndim(), b2.ndim());
    let (m, ka) = (a2.shape()[na - 2], a2.shape()[na - 1]);
    let (kb, n) = (b2.shape()[nb - 2], b2.shape()[nb - 1]);
    let (ab, bb) = (&a2.shape()[..na - 2], &b2.shape()[..nb - 2]);
    if ka != kb {
        let rows: usize = ab.iter().product::<usize>() * m;
        if db == 1 {
            bail!(
                Runtime,
                "size mismatch, got input ({rows}), mat ({rows}x{ka}), vec ({kb})"
            );
        }
        if db == 2 {
            bail!(
                Runtime,
                "mat1 and mat2 shapes cannot be multiplied ({rows}x{ka} and {kb}x{n})"
            );
        }
        let batch: usize = crate::layout::broadcast_shapes(ab, bb, "matmul")?
            .iter()
            .product();
        bail!(
            Runtime,
            "Expected size for first two dimensions of batch2 tensor to be: [{batch}, {ka}] but got: [{batch}, {kb}]."
        );
    }
    let dt = same_dtype(a, b)?;
    if db == 2 && na >= 3 {
        // A matrix met by every row of a's batch: when those rows are one strided run (a view
        // of shape (rows, k)), one GEMM over all of them instead of a batch of small ones.
        let rows: usize = a2.shape()[..na - 1].iter().product();
        let layout = a2.layout().view_strides(&[rows, ka]);
        if let Some(strides) = layout {
            let flat = a2.view_with(Layout {
                shape: vec![rows, ka],
                strides,
                offset: a2.offset(),
            })?;
            let out = mm(&flat, b)?;
            let shape: Vec<i64> = a2.shape()[..na - 1]
                .iter()
                .chain([&n])
                .map(|&d| d as i64)
                .collect();
            return reshape(&out, &shape);
        }
    }
    let batch = crate::layout::broadcast_shapes(ab, bb, "matmul")?;
    let with = |tail: [usize; 2]| -> Vec<usize> { batch.iter().copied().chain(tail).collect() };
    let av = a2.view_with(a2.layout().broadcast_to(&with([m, ka]), "matmul")?)?;
    let bv = b2.view_with(b2.layout().broadcast_to(&with([kb, n]), "matmul")?)?;
    let out = Tensor::empty(&with([m, n]), dt, a.device())?;
    gemm_into(&out, &av, &bv, Scalar::Int(1), None, "addmm_impl_cpu_")?;
    let out = if db == 1 {
        squeeze(&out, Some(&[-1]))?
    } else {
        out
    };
    if da == 1 {
        squeeze(&out, Some(&[-2]))
    } else {
        Ok(out)
    }
}

/// `torch.outer(a, b)` (alias `ger`): `a[i] * b[j]`, with type promotion as `mul`.
pub fn outer(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    for (t, name) in [(a, "self"), (b, "vec2")] {
        if t.ndim() != 1 {
            bail!(
                Runtime,
                "outer: Expected 1-D argument {name}, but got {}-D",
                t.ndim()
            );
        }
    }
    binary::mul(&unsqueeze(a, 1)?, b)
}

/// `torch.addr(input, vec1, vec2, beta=, alpha=)`: `beta * input + alpha * outer(vec1, vec2)`.
pub fn addr(input: &Tensor, a: &Tensor, b: &Tensor, beta: Scalar, alpha: Scalar) -> Result<Tensor> {
    check_same_device("addr", &[input, a, b])?;
    for (t, name) in [(a, "vec1"), (b, "vec2")] {
        if t.ndim() != 1 {
            bail!(
                Runtime,
                "addr: Expected 1-D argument {name}, but got {}-D",
                t.ndim()
            );
        }
    }
    let dt = same_dtype(a, b)?;
    input_dtype(input, b)?;
    check_coeffs(dt, beta, alpha)?;
    let (m, n) = (a.shape()[0], b.shape()[0]);
    let (out, beta) = init_out("addr", input, &[m, n], beta)?;
    let av = view(a, &[m, 1], &[a.strides()[0], 0])?;
    let bv = view(b, &[1, n], &[0, b.strides()[0]])?;
    if out.is_cuda() && !dt.is_floating_point() {
        // cuBLAS multiplies floats only; torch's CUDA addr is elementwise for every dtype.
        let scaled = binary::mul(&binary::mul(&av, &bv)?, &Tensor::scalar(alpha, dt)?)?;
        let sum = match beta {
            Some(beta) => binary::add(&binary::mul(&out, &Tensor::scalar(beta, dt)?)?, &scaled)?,
            None => scaled,
        };
        out.copy_(&sum)?;
        return Ok(out);
    }
    gemm_into(&out, &av, &bv, alpha, beta, "addr")?;
    Ok(out)
}

/// `torch.tensordot(a, b, dims=(dims_a, dims_b))`: contracts `a`'s `dims_a` with `b`'s
/// `dims_b` (pairwise), as one matrix product of the permuted, flattened operands.
pub fn tensordot(a: &Tensor, b: &Tensor, dims_a: &[i64], dims_b: &[i64]) -> Result<Tensor> {
    check_same_device("tensordot", &[a, b])?;
    if dims_a.len() != dims_b.len() {
        bail!(Runtime, "both dimension lists should have same length");
    }
    let mut ca = vec![false; a.ndim()];
    let mut cb = vec![false; b.ndim()];
    let mut contracted = 1usize;
    for (&da, &db) in dims_a.iter().zip(dims_b) {
        let (ia, ib) = (
            wrap_dim(da, a.ndim(), "tensordot")?,
            wrap_dim(db, b.ndim(), "tensordot")?,
        );
        if a.ndim() == 0 || b.ndim() == 0 {
            bail!(Runtime, "tensordot: cannot contract a 0-d tensor");
        }
        if ca[ia] || cb[ib] {
            let d = if ca[ia] { ia } else { ib };
            bail!(
                Runtime,
                "dim {d} appears multiple times in the list of dims"
            );
        }
        ca[ia] = true;
        cb[ib] = true;
        let (sa, sb) = (a.shape()[ia], b.shape()[ib]);
        if sa != sb {
            bail!(
                Runtime,
                "contracted dimensions need to match, but first has size {sa} in dim {ia} and second has size {sb} in dim {ib}"
            );
        }
        contracted *= sa;
    }
    same_dtype(a, b)?;
    let free_a: Vec<usize> = (0..a.ndim()).filter(|&d| !ca[d]).collect();
    let free_b: Vec<usize> = (0..b.ndim()).filter(|&d| !cb[d]).collect();
    let wa = |d: &i64| wrap_dim(*d, a.ndim(), "tensordot").map(|v| v as i64);
    let wb = |d: &i64| wrap_dim(*d, b.ndim(), "tensordot").map(|v| v as i64);
    let perm_a: Vec<i64> = free_a
        .iter()
        .map(|&d| Ok(d as i64))
        .chain(dims_a.iter().map(wa))
        .collect::<Result<_>>()?;
    let perm_b: Vec<i64> = dims_b
        .iter()
        .map(wb)
        .chain(free_b.iter().map(|&d| Ok(d as i64)))
        .collect::<Result<_>>()?;
    let rows: usize = free_a.iter().map(|&d| a.shape()[d]).product();
    let cols: usize = free_b.iter().map(|&d| b.shape()[d]).product();
    let am = reshape(&permute(a, &perm_a)?, &[rows as i64, contracted as i64])?;
    let bm = reshape(&permute(b, &perm_b)?, &[contracted as i64, cols as i64])?;
    let out_shape: Vec<i64> = free_a
        .iter()
        .map(|&d| a.shape()[d] as i64)
        .chain(free_b.iter().map(|&d| b.shape()[d] as i64))
        .collect();
    reshape(&mm(&am, &bm)?, &out_shape)
}

/// `torch.inner(a, b)`: sums over the last dims (a plain product when either is 0-d).
pub fn inner(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return binary::mul(a, b);
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

/// `torch.linalg.multi_dot(tensors)`: the product of a chain of matrices, multiplied in the
/// cheapest order; the first and last may be vectors.
pub fn multi_dot(tensors: &[Tensor]) -> Result<Tensor> {
    let n = tensors.len();
    if n < 2 {
        bail!(
            Runtime,
            "multi_dot(): expected at least 2 tensors but got {n}"
        );
    }
    let dt = tensors[0].dtype();
    let mut mats = Vec::with_capacity(n);
    for (i, t) in tensors.iter().enumerate() {
        let nd = t.ndim();
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
        if t.dtype() != dt {
            bail!(
                Runtime,
                "multi_dot(): all tensors must have be the same dtype but tensor 0 is {} and tensor {i} is {}",
                scalar_type_name(dt),
                scalar_type_name(t.dtype())
            );
        }
        mats.push(match (nd, i) {
            (1, 0) => unsqueeze(t, 0)?,
            (1, _) => unsqueeze(t, 1)?,
            _ => t.clone(),
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
    // Classic matrix-chain order: cost[i][j] = cheapest product of mats i..=j.
    let p: Vec<usize> = std::iter::once(mats[0].shape()[0])
        .chain(mats.iter().map(|t| t.shape()[1]))
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
        r = squeeze(&r, Some(&[1]))?;
    }
    if tensors[0].ndim() == 1 {
        r = squeeze(&r, Some(&[0]))?;
    }
    Ok(r)
}

/// `torch.chain_matmul(*matrices)`: `multi_dot` restricted to matrices.
pub fn chain_matmul(tensors: &[Tensor]) -> Result<Tensor> {
    if tensors.is_empty() {
        bail!(Runtime, "chain_matmul(): Expected one or more matrices");
    }
    for (i, t) in tensors.iter().enumerate() {
        if t.ndim() != 2 {
            bail!(
                Runtime,
                "Tensor dimension is {}, expected 2 instead. (tensor {i} of chain_matmul)",
                t.ndim()
            );
        }
    }
    if tensors.len() == 1 {
        return tensors[0].copy_to_new(tensors[0].dtype());
    }
    multi_dot(tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(shape: &[usize]) -> Tensor {
        let n = shape.iter().product::<usize>();
        Tensor::from_vec((0..n as i64).map(|v| v as f64).collect::<Vec<_>>(), shape).unwrap()
    }

    #[test]
    fn matmul_rules() {
        let a = ramp(&[2, 3]);
        let b = ramp(&[3]);
        assert_eq!(matmul(&a, &b).unwrap().to_vec::<f64>(), vec![5.0, 14.0]);
        assert_eq!(matmul(&b, &b).unwrap().shape(), &[] as &[usize]);
        let c = ramp(&[4, 1, 3, 2]);
        assert_eq!(
            matmul(&c, &ramp(&[5, 2, 6])).unwrap().shape(),
            &[4, 5, 3, 6]
        );
        assert_eq!(matmul(&b, &ramp(&[4, 3, 2])).unwrap().shape(), &[4, 2]);
        let e = matmul(&a, &ramp(&[4, 5])).unwrap_err();
        assert!(e.message.contains("(2x3 and 4x5)"), "{}", e.message);
        let t = transpose_view(&ramp(&[3, 2]));
        assert_eq!(
            mm(&t, &ramp(&[3, 1])).unwrap().to_vec::<f64>(),
            vec![10.0, 13.0]
        );
    }

    fn transpose_view(t: &Tensor) -> Tensor {
        crate::ops::shape::transpose(t, 0, 1).unwrap()
    }

    #[test]
    fn chain_order_and_tensordot() {
        let mats = [ramp(&[2, 30]), ramp(&[30, 3]), ramp(&[3, 40])];
        let want = mm(&mm(&mats[0], &mats[1]).unwrap(), &mats[2])
            .unwrap()
            .to_vec::<f64>();
        assert_eq!(multi_dot(&mats).unwrap().to_vec::<f64>(), want);
        let r = tensordot(&ramp(&[2, 3, 4]), &ramp(&[4, 3, 5]), &[1, 2], &[1, 0]).unwrap();
        assert_eq!(r.shape(), &[2, 5]);
    }
}
