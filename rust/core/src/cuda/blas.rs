//! Matrix products on CUDA through cuBLAS (`cublasGemmStridedBatchedEx`).
//!
//! cuBLAS is column-major; a row-major `C = A @ B` is computed as `C^T = B^T @ A^T`, which
//! reads every row- or column-contiguous operand in place (a transposed view only flips the
//! `op` flag). Other layouts are copied to contiguous memory first. Batch dims are merged as
//! far as the three views allow; the innermost remaining one is cuBLAS's strided batch
//! (broadcast operands have stride 0 there) and any outer ones are looped over on the host.

use super::device::{guarded, CudaDevice, PerDevice};
use super::{device_of, ptr};
use crate::bail;
use crate::dtype::{scalar_type_name, DType};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::tensor::Tensor;
use cudarc::cublas::{result, sys, CudaBlas};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static ALLOW_TF32: AtomicBool = AtomicBool::new(false);

/// `torch.backends.cuda.matmul.allow_tf32`: float32 products may round their inputs to
/// TF32 on tensor cores. Off by default, as in torch.
pub fn allow_tf32() -> bool {
    ALLOW_TF32.load(Ordering::Relaxed)
}

pub fn set_allow_tf32(on: bool) {
    ALLOW_TF32.store(on, Ordering::Relaxed)
}

/// One cuBLAS handle per device, bound to the device's stream. The mutex serialises calls:
/// a handle's workspace must not be shared by concurrent launches.
struct Handle(Mutex<CudaBlas>);

fn blas_err(what: &str) -> impl Fn(result::CublasError) -> Error + '_ {
    move |e| Error::runtime(format!("CUDA error: {what}: {e:?}"))
}

fn handle(dev: &'static CudaDevice) -> Result<&'static Handle> {
    static HANDLES: PerDevice<Handle> = PerDevice::new();
    HANDLES.get(dev, || {
        // cudarc opens libcublas (and each of its symbols) on first call and panics if it
        // cannot: every symbol used later is touched here, under the guard.
        guarded("loading cuBLAS (libcublas.so.13)", || {
            dev.bind()?;
            let blas = CudaBlas::new(dev.stream.clone()).map_err(blas_err("cublasCreate"))?;
            let h = *blas.handle();
            let one = 1f32;
            let mut scratch = [0f32; 1];
            let p = scratch.as_mut_ptr() as *mut c_void;
            let one_p = &one as *const f32 as *const c_void;
            // SAFETY: empty problems (m = n = k = 0, one batch) touch no memory.
            unsafe {
                let _ = result::gemm_strided_batched_ex(
                    h,
                    sys::cublasOperation_t::CUBLAS_OP_N,
                    sys::cublasOperation_t::CUBLAS_OP_N,
                    0,
                    0,
                    0,
                    one_p,
                    p,
                    sys::cudaDataType::CUDA_R_32F,
                    1,
                    0,
                    p,
                    sys::cudaDataType::CUDA_R_32F,
                    1,
                    0,
                    one_p,
                    p,
                    sys::cudaDataType::CUDA_R_32F,
                    1,
                    0,
                    1,
                    sys::cublasComputeType_t::CUBLAS_COMPUTE_32F,
                    sys::cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT,
                );
            }
            Ok(Handle(Mutex::new(blas)))
        })
    })
}

/// How cuBLAS can read an `r x c` matrix with strides `(rs, cs)`: `Some((transposed, ld))`
/// where `transposed` means column-major storage (rows step by 1). Size-1 dims may have any
/// stride.
fn as_ld(r: usize, c: usize, rs: isize, cs: isize) -> Option<(bool, usize)> {
    if r == 0 || c == 0 {
        return Some((false, c.max(1)));
    }
    if (c == 1 || cs == 1) && (r == 1 || rs >= c as isize) {
        return Some((false, if r == 1 { c } else { rs as usize }));
    }
    if (r == 1 || rs == 1) && (c == 1 || cs >= r as isize) {
        return Some((true, if c == 1 { r } else { cs as usize }));
    }
    None
}

pub(super) fn matrix_layout(t: &Tensor) -> Option<(bool, usize)> {
    let nd = t.ndim();
    let (s, st) = (t.shape(), t.strides());
    as_ld(s[nd - 2], s[nd - 1], st[nd - 2], st[nd - 1])
}

/// `t` with its last two dims swapped (a view).
fn transposed(t: &Tensor) -> Result<Tensor> {
    let nd = t.ndim();
    let mut l = t.layout().clone();
    l.shape.swap(nd - 2, nd - 1);
    l.strides.swap(nd - 2, nd - 1);
    t.view_with(l)
}

/// torch's name of the CUDA kernel that refuses a dtype, from the CPU kernel's name.
fn cuda_kernel_name(kernel: &str) -> String {
    match kernel {
        "addmm_impl_cpu_" => "addmm_cuda".into(),
        "addmv_impl_cpu" => "addmv_impl_cuda".into(),
        "bmm" => "bmm_cuda".into(),
        "dot" | "vdot" => kernel.into(),
        k => format!("{k}_cuda"),
    }
}

fn int32(v: usize, what: &str) -> Result<i32> {
    i32::try_from(v).map_err(|_| {
        Error::runtime(format!(
            "CUDA matrix product: {what} = {v} exceeds cuBLAS's 32-bit limit"
        ))
    })
}

/// `out = beta * out + alpha * a @ b` on CUDA with the contract of `ops::matmul::gemm_into`:
/// `out[.., m, n]`, `a[.., m, k]`, `b[.., k, n]` share batch dims (broadcast ones have stride
/// 0), one dtype, one device; `beta = None` overwrites `out`.
pub fn gemm(
    out: &Tensor,
    a: &Tensor,
    b: &Tensor,
    alpha: Scalar,
    beta: Option<Scalar>,
    kernel: &str,
) -> Result<()> {
    let dt = out.dtype();
    if !matches!(dt, DType::F16 | DType::BF16 | DType::F32 | DType::F64) {
        bail!(
            NotImplemented,
            "\"{}\" not implemented for '{}'",
            cuda_kernel_name(kernel),
            scalar_type_name(dt)
        );
    }
    if out.numel() == 0 {
        return Ok(());
    }
    let dev = device_of(out)?;
    let nd = out.ndim();
    if a.shape()[nd - 1] == 0 {
        let Some(beta) = beta else {
            return super::fill(out, 0);
        };
        // An empty sum leaves `beta * out`: a product with one zero term computes it without
        // relying on how cuBLAS treats k = 0.
        let (m, n) = (out.shape()[nd - 2], out.shape()[nd - 1]);
        let batch = &out.shape()[..nd - 2];
        let shape =
            |r: usize, c: usize| -> Vec<usize> { batch.iter().copied().chain([r, c]).collect() };
        let za = Tensor::zeros(&shape(m, 1), dt, out.device())?;
        let zb = Tensor::zeros(&shape(1, n), dt, out.device())?;
        return gemm(out, &za, &zb, alpha, Some(beta), kernel);
    }
    match matrix_layout(out) {
        Some((false, _)) => gemm_rowmajor(dev, out, a, b, alpha, beta),
        // A column-major result is the row-major result of the transposed product.
        Some((true, _)) => gemm_rowmajor(
            dev,
            &transposed(out)?,
            &transposed(b)?,
            &transposed(a)?,
            alpha,
            beta,
        ),
        None => {
            let tmp = Tensor::empty(out.shape(), dt, out.device())?;
            if beta.is_some() {
                super::copy(&tmp, out)?;
            }
            gemm_rowmajor(dev, &tmp, a, b, alpha, beta)?;
            super::copy(out, &tmp)
        }
    }
}

fn gemm_rowmajor(
    dev: &'static CudaDevice,
    out: &Tensor,
    a: &Tensor,
    b: &Tensor,
    alpha: Scalar,
    beta: Option<Scalar>,
) -> Result<()> {
    let nd = out.ndim();
    let (m, n, k) = (out.shape()[nd - 2], out.shape()[nd - 1], a.shape()[nd - 1]);
    let fix = |t: &Tensor| -> Result<(Tensor, bool, usize)> {
        match matrix_layout(t) {
            Some((tr, ld)) => Ok((t.clone(), tr, ld)),
            None => {
                let c = t.contiguous()?;
                let (tr, ld) = matrix_layout(&c).unwrap_or((false, t.shape()[nd - 1].max(1)));
                Ok((c, tr, ld))
            }
        }
    };
    let (a, ta, lda) = fix(a)?;
    let (b, tb, ldb) = fix(b)?;
    let Some((false, ldc)) = matrix_layout(out) else {
        return Err(Error::runtime("cuBLAS product: unexpected result layout"));
    };
    let batch = &out.shape()[..nd - 2];
    let [go, ga, gb] = super::geometry::coalesce(
        batch,
        [
            &out.strides()[..nd - 2],
            &a.strides()[..nd - 2],
            &b.strides()[..nd - 2],
        ],
    )?;
    let gd = go.ndim as usize;
    // Innermost merged batch dim: cuBLAS's strided batch. The outer ones: a host loop.
    let (count, so, sa, sb) = if gd == 0 {
        (1usize, 0i64, 0i64, 0i64)
    } else {
        (
            go.sizes[gd - 1] as usize,
            go.strides[gd - 1],
            ga.strides[gd - 1],
            gb.strides[gd - 1],
        )
    };
    let outer: usize = (0..gd.saturating_sub(1))
        .map(|d| go.sizes[d] as usize)
        .product();
    let (mi, ni, ki) = (int32(m, "m")?, int32(n, "n")?, int32(k, "k")?);
    let (lda, ldb, ldc) = (int32(lda, "lda")?, int32(ldb, "ldb")?, int32(ldc, "ldc")?);
    let op = |t: bool| {
        if t {
            sys::cublasOperation_t::CUBLAS_OP_T
        } else {
            sys::cublasOperation_t::CUBLAS_OP_N
        }
    };
    let (data_type, compute) = match out.dtype() {
        DType::F16 => (
            sys::cudaDataType::CUDA_R_16F,
            sys::cublasComputeType_t::CUBLAS_COMPUTE_32F,
        ),
        DType::BF16 => (
            sys::cudaDataType::CUDA_R_16BF,
            sys::cublasComputeType_t::CUBLAS_COMPUTE_32F,
        ),
        DType::F32 if allow_tf32() => (
            sys::cudaDataType::CUDA_R_32F,
            sys::cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_TF32,
        ),
        DType::F32 => (
            sys::cudaDataType::CUDA_R_32F,
            sys::cublasComputeType_t::CUBLAS_COMPUTE_32F,
        ),
        _ => (
            sys::cudaDataType::CUDA_R_64F,
            sys::cublasComputeType_t::CUBLAS_COMPUTE_64F,
        ),
    };
    // Scalars in the compute type: double for f64, float otherwise.
    let (alpha64, beta64) = (alpha.to_f64(), beta.map_or(0.0, |s| s.to_f64()));
    let (alpha32, beta32) = (alpha64 as f32, beta64 as f32);
    let (alpha_p, beta_p) = if out.dtype() == DType::F64 {
        (
            &alpha64 as *const f64 as *const c_void,
            &beta64 as *const f64 as *const c_void,
        )
    } else {
        (
            &alpha32 as *const f32 as *const c_void,
            &beta32 as *const f32 as *const c_void,
        )
    };
    let h = handle(dev)?;
    let blas = h.0.lock().unwrap_or_else(|e| e.into_inner());
    dev.bind()?;
    let esz = out.dtype().size() as i64;
    let (pa, pb, pc) = (ptr(&a) as i64, ptr(&b) as i64, ptr(out) as i64);
    const MAX_BATCH: usize = 65535;
    for o in 0..outer.max(1) {
        // Element offsets of this outer batch index in each view.
        let (mut oo, mut oa, mut ob) = (0i64, 0i64, 0i64);
        let mut rest = o as i64;
        for d in (0..gd.saturating_sub(1)).rev() {
            let i = rest % go.sizes[d];
            rest /= go.sizes[d];
            oo += i * go.strides[d];
            oa += i * ga.strides[d];
            ob += i * gb.strides[d];
        }
        let mut start = 0usize;
        while start < count {
            let len = (count - start).min(MAX_BATCH);
            let s = start as i64;
            let c_ptr = pc + (oo + s * so) * esz;
            let a_ptr = pa + (oa + s * sa) * esz;
            let b_ptr = pb + (ob + s * sb) * esz;
            // SAFETY: every pointer and stride describes memory of a live view of the given
            // sizes (checked by the layouts above); the handle is bound to this device's
            // stream, so the kernel is ordered with every other op on it.
            unsafe {
                result::gemm_strided_batched_ex(
                    *blas.handle(),
                    op(tb),
                    op(ta),
                    ni,
                    mi,
                    ki,
                    alpha_p,
                    b_ptr as u64 as *const c_void,
                    data_type,
                    ldb,
                    sb,
                    a_ptr as u64 as *const c_void,
                    data_type,
                    lda,
                    sa,
                    beta_p,
                    c_ptr as u64 as *mut c_void,
                    data_type,
                    ldc,
                    so,
                    len as i32,
                    compute,
                    sys::cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT,
                )
            }
            .map_err(blas_err("cublasGemmStridedBatchedEx"))?;
            start += len;
        }
    }
    drop(blas);
    out.storage().bump_version();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::as_ld;

    #[test]
    fn layouts_cublas_reads_in_place() {
        assert_eq!(as_ld(3, 4, 4, 1), Some((false, 4)));
        assert_eq!(as_ld(3, 4, 1, 3), Some((true, 3)));
        assert_eq!(as_ld(3, 4, 8, 1), Some((false, 8)));
        assert_eq!(as_ld(1, 5, 0, 2), Some((true, 2)));
        assert_eq!(as_ld(5, 1, 3, 0), Some((false, 3)));
        assert_eq!(as_ld(3, 4, 8, 2), None);
        assert_eq!(as_ld(3, 4, 0, 1), None);
        assert_eq!(as_ld(0, 4, 0, 0), Some((false, 4)));
    }
}
