//! `addmm` with a row-broadcast bias (`linear`'s `x @ W^T + b`) on CUDA through cuBLASLt, the
//! bias added in the product's epilogue (`CUBLASLT_EPILOGUE_BIAS`) as torch does: the output
//! is written once, instead of the bias being broadcast into it and read back by a `beta = 1`
//! product.
//!
//! Row-major `out = a @ b + bias` is cuBLASLt's column-major `out^T = b^T @ a^T + bias`, whose
//! bias runs down the columns of `out^T`, along our rows. Asking cuBLASLt's heuristic for an
//! algorithm costs more host time than a launch, so the answer for each problem (dtype,
//! shapes, layouts, pointer alignments) is kept with its descriptors.

use super::blas::{allow_tf32, matrix_layout};
use super::device::{caught, guarded, CudaDevice, PerDevice};
use super::{device_of, ptr};
use crate::device::Device;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use cudarc::cublaslt::{result, sys};
use std::collections::HashMap;
use std::ffi::c_void;
use std::mem::size_of;
use std::sync::Mutex;
use sys::cublasLtMatmulPreferenceAttributes_t as Pref;

/// What decides the algorithm and the descriptors of one product.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    dt: DType,
    tf32: bool,
    /// `(m, n, k)` of the row-major product.
    mnk: (usize, usize, usize),
    /// Whether `a`, `b` are stored column-major, and their leading dims.
    ta: bool,
    tb: bool,
    lda: usize,
    ldb: usize,
    /// Alignment in bytes (up to 256) of `a` and `b`.
    align: [u32; 2],
}

/// The descriptors and the chosen algorithm of one [`Key`]; the bias pointer is set per call.
struct Plan {
    desc: sys::cublasLtMatmulDesc_t,
    /// Layouts of cuBLASLt's A (our `b`), B (our `a`) and D (the output, also C).
    layouts: [sys::cublasLtMatrixLayout_t; 3],
    algo: sys::cublasLtMatmulAlgo_t,
}

impl Drop for Plan {
    fn drop(&mut self) {
        // SAFETY: each handle was created once and is destroyed once; errors leave nothing to do.
        unsafe {
            for l in self.layouts {
                if !l.is_null() {
                    let _ = result::destroy_matrix_layout(l);
                }
            }
            if !self.desc.is_null() {
                let _ = result::destroy_matmul_desc(self.desc);
            }
        }
    }
}

/// One cuBLASLt handle per device with its workspace and the plans made so far (`None`: the
/// heuristic found no algorithm, so that problem takes the cuBLAS path). The mutex serialises
/// calls, which share the workspace.
struct Lt {
    handle: sys::cublasLtHandle_t,
    workspace: Tensor,
    plans: HashMap<Key, Option<Plan>>,
}

// SAFETY: the handle and descriptors are host objects cuBLASLt allows any thread to use, one
// at a time (the mutex around `Lt`).
unsafe impl Send for Lt {}

fn lt_err(what: &'static str) -> impl Fn(result::CublasError) -> Error {
    move |e| Error::runtime(format!("CUDA error: {what}: {e:?}"))
}

/// Workspace bytes offered to cuBLASLt: NVIDIA's recommendation, 32 MiB on Hopper, 4 MiB
/// before.
fn workspace_bytes(dev: &CudaDevice) -> usize {
    if dev.capability.0 >= 9 {
        32 << 20
    } else {
        4 << 20
    }
}

/// The device's cuBLASLt handle, workspace and plans, opened on first use.
fn lt(dev: &'static CudaDevice) -> Result<&'static Mutex<Lt>> {
    static LTS: PerDevice<Mutex<Lt>> = PerDevice::new();
    LTS.get(dev, || {
        // cudarc opens libcublasLt on the first call and panics if it cannot.
        guarded("loading cuBLASLt (libcublasLt.so.13)", || {
            dev.bind()?;
            let handle = result::create_handle().map_err(lt_err("cublasLtCreate"))?;
            let workspace = Tensor::empty(
                &[workspace_bytes(dev)],
                DType::U8,
                Device::Cuda(dev.ordinal),
            )?;
            Ok(Mutex::new(Lt {
                handle,
                workspace,
                plans: HashMap::new(),
            }))
        })
    })
}

/// The largest power of two up to 256 that divides `p`.
fn alignment(p: u64) -> u32 {
    1 << p.trailing_zeros().min(8)
}

fn types(dt: DType, tf32: bool) -> (sys::cudaDataType, sys::cublasComputeType_t) {
    use sys::cublasComputeType_t as C;
    use sys::cudaDataType as D;
    match dt {
        DType::F16 => (D::CUDA_R_16F, C::CUBLAS_COMPUTE_32F),
        DType::BF16 => (D::CUDA_R_16BF, C::CUBLAS_COMPUTE_32F),
        _ if tf32 => (D::CUDA_R_32F, C::CUBLAS_COMPUTE_32F_FAST_TF32),
        _ => (D::CUDA_R_32F, C::CUBLAS_COMPUTE_32F),
    }
}

/// # Safety
/// `value` is the type cuBLASLt documents for `attr`.
unsafe fn set_desc<V>(
    desc: sys::cublasLtMatmulDesc_t,
    attr: sys::cublasLtMatmulDescAttributes_t,
    value: &V,
) -> std::result::Result<(), result::CublasError> {
    result::set_matmul_desc_attribute(
        desc,
        attr,
        value as *const V as *const c_void,
        size_of::<V>(),
    )
}

/// Descriptors and the heuristic's algorithm for `key`; `Ok(None)` when it has none.
fn make_plan(lt: &Lt, key: &Key, workspace: usize) -> Result<Option<Plan>> {
    use sys::cublasLtMatmulDescAttributes_t as A;
    let (dt, ct) = types(key.dt, key.tf32);
    let (m, n, k) = key.mnk;
    let err = lt_err("cublasLt descriptors");
    // cuBLASLt's A is `b`, n x k after its op; its B is `a`, k x m after its op; D is n x m.
    let stored = |t: bool, r: usize, c: usize| if t { (c, r) } else { (r, c) };
    let (ar, ac) = stored(key.tb, n, k);
    let (br, bc) = stored(key.ta, k, m);
    let layout = |r: usize, c: usize, ld: usize| {
        result::create_matrix_layout(dt, r as u64, c as u64, ld as i64).map_err(&err)
    };
    let mut plan = Plan {
        desc: result::create_matmul_desc(ct, sys::cudaDataType::CUDA_R_32F).map_err(&err)?,
        layouts: [std::ptr::null_mut(); 3],
        algo: sys::cublasLtMatmulAlgo_t { data: [0; 8] },
    };
    plan.layouts[0] = layout(ar, ac, key.ldb)?;
    plan.layouts[1] = layout(br, bc, key.lda)?;
    plan.layouts[2] = layout(n, m, n)?;
    let op = |t: bool| t as i32; // CUBLAS_OP_T = 1, CUBLAS_OP_N = 0
                                 // SAFETY: each attribute gets the type cuBLASLt documents for it.
    unsafe {
        set_desc(plan.desc, A::CUBLASLT_MATMUL_DESC_TRANSA, &op(key.tb)).map_err(&err)?;
        set_desc(plan.desc, A::CUBLASLT_MATMUL_DESC_TRANSB, &op(key.ta)).map_err(&err)?;
        let epilogue = sys::cublasLtEpilogue_t::CUBLASLT_EPILOGUE_BIAS;
        set_desc(plan.desc, A::CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue).map_err(&err)?;
        set_desc(plan.desc, A::CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &dt).map_err(&err)?;
    }
    let pref = Preference(result::create_matmul_pref().map_err(&err)?);
    let [align_a, align_b] = key.align;
    pref.set(
        Pref::CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
        workspace as u64,
    )
    .map_err(&err)?;
    pref.set(Pref::CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, align_b)
        .map_err(&err)?;
    pref.set(Pref::CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, align_a)
        .map_err(&err)?;
    // The output is fresh, so 256-byte aligned.
    pref.set(Pref::CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, 256u32)
        .map_err(&err)?;
    pref.set(Pref::CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, 256u32)
        .map_err(&err)?;
    let [la, lb, ld] = plan.layouts;
    // SAFETY: every descriptor is live.
    let found =
        unsafe { result::get_matmul_algo_heuristic(lt.handle, plan.desc, la, lb, ld, ld, pref.0) };
    match found {
        Ok(h) if h.workspaceSize <= workspace => {
            plan.algo = h.algo;
            Ok(Some(plan))
        }
        // No algorithm for this problem (CUBLAS_STATUS_NOT_SUPPORTED) or one that needs more
        // workspace than offered: the caller takes the cuBLAS path.
        _ => Ok(None),
    }
}

/// A heuristic search preference, destroyed when dropped.
struct Preference(sys::cublasLtMatmulPreference_t);

impl Preference {
    /// `value` must have the type cuBLASLt documents for `attr` (u64 or u32 here).
    fn set<V: Copy>(&self, attr: Pref, value: V) -> std::result::Result<(), result::CublasError> {
        // SAFETY: the preference is live and `value` is read as `size_of::<V>()` bytes.
        unsafe {
            result::set_matmul_pref_attribute(
                self.0,
                attr,
                &value as *const V as *const c_void,
                size_of::<V>(),
            )
        }
    }
}

impl Drop for Preference {
    fn drop(&mut self) {
        // SAFETY: created once, destroyed once.
        let _ = unsafe { result::destroy_matmul_pref(self.0) };
    }
}

/// `bias + alpha * a @ b` for matrices `a (m, k)`, `b (k, n)` and a `bias` that broadcasts
/// along the rows (`(n,)` or `(1, n)`), all of one dtype, f16, bf16 or f32; `None` where
/// cuBLASLt does not take the problem (the caller then broadcasts the bias into the output
/// and runs a `beta = 1` product).
pub fn addmm_bias(bias: &Tensor, a: &Tensor, b: &Tensor, alpha: f64) -> Result<Option<Tensor>> {
    let dt = a.dtype();
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    if !matches!(dt, DType::F16 | DType::BF16 | DType::F32) || m == 0 || n == 0 || k == 0 {
        return Ok(None);
    }
    let bl = bias.layout().broadcast_to(&[m, n], "addmm")?;
    let along_rows = (bl.strides[0] == 0 || m == 1) && (bl.strides[1] == 1 || n == 1);
    let (Some((ta, lda)), Some((tb, ldb))) = (matrix_layout(a), matrix_layout(b)) else {
        return Ok(None);
    };
    // The epilogue reads the bias in vector loads.
    if !along_rows || ptr(bias) % 16 != 0 {
        return Ok(None);
    }
    let dev = device_of(a)?;
    let key = Key {
        dt,
        tf32: dt == DType::F32 && allow_tf32(),
        mnk: (m, n, k),
        ta,
        tb,
        lda,
        ldb,
        align: [alignment(ptr(a)), alignment(ptr(b))],
    };
    let out = Tensor::empty(&[m, n], dt, a.device())?;
    let mut lt = lt(dev)?.lock().unwrap_or_else(|e| e.into_inner());
    let workspace = workspace_bytes(dev);
    caught("cuBLASLt", || {
        if !lt.plans.contains_key(&key) {
            let plan = make_plan(&lt, &key, workspace)?;
            lt.plans.insert(key, plan);
        }
        let Some(plan) = &lt.plans[&key] else {
            return Ok(None);
        };
        dev.bind()?;
        let bias_p = ptr(bias) as *const c_void;
        let (alpha, beta) = (alpha as f32, 0f32);
        let [la, lb, ld] = plan.layouts;
        let d = ptr(&out) as *mut c_void;
        // SAFETY: the layouts describe live views of `a`, `b` and the fresh `out` (checked
        // above), the bias covers `n` elements with stride 1, the workspace is the handle's
        // own, and the stream is this device's, which orders the kernel with every other op.
        unsafe {
            set_desc(
                plan.desc,
                sys::cublasLtMatmulDescAttributes_t::CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                &bias_p,
            )
            .map_err(lt_err("cublasLtMatmulDescSetAttribute"))?;
            result::matmul(
                lt.handle,
                plan.desc,
                &alpha as *const f32 as *const c_void,
                &beta as *const f32 as *const c_void,
                ptr(b) as *const c_void,
                la,
                ptr(a) as *const c_void,
                lb,
                d,
                ld,
                d,
                ld,
                &plan.algo,
                ptr(&lt.workspace) as *mut c_void,
                workspace,
                dev.stream.cu_stream() as sys::cudaStream_t,
            )
            .map_err(lt_err("cublasLtMatmul"))?;
        }
        Ok(Some(()))
    })
    .map(|done| done.map(|()| out))
}
