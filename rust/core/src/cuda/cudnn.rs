//! cuDNN: the library probe, the `torch.backends.cudnn` switches, one handle per device bound
//! to the device's stream, and the descriptors the convolution calls (`cudnn_conv.rs`) use.
//!
//! cuDNN is optional: it is opened at run time like the other CUDA libraries, and where it is
//! missing (or refuses a configuration) convolutions run as im2col + cuBLAS instead. Nothing
//! here panics: cudarc panics on a missing library or symbol, so the first touch of every
//! symbol happens in [`version`], under [`guarded`].

use super::device::{guarded, CudaDevice, PerDevice};
use crate::dtype::DType;
use crate::error::{Error, Result};
use cudarc::cudnn::{result, sys};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

static ENABLED: AtomicBool = AtomicBool::new(true);
static ALLOW_TF32: AtomicBool = AtomicBool::new(true);
static DETERMINISTIC: AtomicBool = AtomicBool::new(false);

/// `torch.backends.cudnn.enabled`: off sends CUDA convolutions to im2col + cuBLAS.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed)
}

/// `torch.backends.cudnn.allow_tf32`: float32 convolutions may round their inputs to TF32 on
/// tensor cores. On by default, as in torch (unlike `backends.cuda.matmul.allow_tf32`).
pub fn allow_tf32() -> bool {
    ALLOW_TF32.load(Ordering::Relaxed)
}

pub fn set_allow_tf32(on: bool) {
    ALLOW_TF32.store(on, Ordering::Relaxed)
}

/// `torch.backends.cudnn.deterministic`: only algorithms cuDNN reports as deterministic.
pub fn deterministic() -> bool {
    DETERMINISTIC.load(Ordering::Relaxed)
}

pub fn set_deterministic(on: bool) {
    DETERMINISTIC.store(on, Ordering::Relaxed)
}

/// Every cuDNN function called anywhere in ferrotorch: [`version`] resolves each one under the
/// guard, so a library without one of them counts as missing instead of panicking later.
const SYMBOLS: &[&str] = &[
    "cudnnGetVersion",
    "cudnnCnnVersionCheck",
    "cudnnOpsVersionCheck",
    "cudnnCreate",
    "cudnnDestroy",
    "cudnnSetStream",
    "cudnnCreateTensorDescriptor",
    "cudnnSetTensorNdDescriptor",
    "cudnnDestroyTensorDescriptor",
    "cudnnCreateFilterDescriptor",
    "cudnnSetFilterNdDescriptor",
    "cudnnDestroyFilterDescriptor",
    "cudnnCreateConvolutionDescriptor",
    "cudnnSetConvolutionNdDescriptor",
    "cudnnSetConvolutionMathType",
    "cudnnSetConvolutionGroupCount",
    "cudnnDestroyConvolutionDescriptor",
    "cudnnGetConvolutionForwardAlgorithm_v7",
    "cudnnGetConvolutionForwardWorkspaceSize",
    "cudnnConvolutionForward",
    "cudnnGetConvolutionBackwardDataAlgorithm_v7",
    "cudnnGetConvolutionBackwardDataWorkspaceSize",
    "cudnnConvolutionBackwardData",
    "cudnnGetConvolutionBackwardFilterAlgorithm_v7",
    "cudnnGetConvolutionBackwardFilterWorkspaceSize",
    "cudnnConvolutionBackwardFilter",
];

/// The probe's outcome: cuDNN's version, or why it is unavailable. Run once; needs no GPU.
fn probe() -> &'static std::result::Result<usize, String> {
    static PROBE: OnceLock<std::result::Result<usize, String>> = OnceLock::new();
    PROBE.get_or_init(|| {
        guarded("loading cuDNN (libcudnn.so.9)", || {
            // SAFETY: opening the library and looking symbols up runs no library code but its
            // initialisers; every pointer type is a plain C function.
            let lib = unsafe { sys::culib() };
            for name in SYMBOLS {
                unsafe { lib.get::<unsafe extern "C" fn()>(name.as_bytes()) }
                    .map_err(|e| Error::runtime(format!("cuDNN has no function {name}: {e}")))?;
            }
            // The version checks load the sub-libraries convolutions live in (libcudnn_cnn,
            // libcudnn_ops, which cuDNN opens by name at run time).
            // SAFETY: argument-free queries.
            unsafe {
                sys::cudnnOpsVersionCheck()
                    .result()
                    .map_err(cudnn_err("cudnnOpsVersionCheck"))?;
                sys::cudnnCnnVersionCheck()
                    .result()
                    .map_err(cudnn_err("cudnnCnnVersionCheck"))?;
            }
            Ok(result::get_version())
        })
        .map_err(|e| e.to_string())
    })
}

/// cuDNN's version number (`91300` for 9.13.0) if the library opens, has every function
/// ferrotorch calls, and its convolution sub-libraries load; otherwise why not (the library
/// names tried, or the failing check).
pub fn version() -> Result<usize> {
    probe().clone().map_err(Error::runtime)
}

/// True when [`version`] succeeds (cheap after the first call).
pub fn is_available() -> bool {
    probe().is_ok()
}

pub(crate) fn cudnn_err(what: &str) -> impl Fn(result::CudnnError) -> Error + '_ {
    move |e| Error::runtime(format!("cuDNN error: {what}: {:?}", e.0))
}

/// One cuDNN handle per device, bound to the device's stream. The mutex serialises calls:
/// a handle must not be used by two threads at once.
pub(crate) struct Handle(pub(crate) Mutex<sys::cudnnHandle_t>);

// SAFETY: the handle is only used under its mutex, with the device's context bound first.
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

/// The device's handle, created on first use; an error when cuDNN is missing or refuses the
/// device (callers fall back to im2col + cuBLAS).
pub(crate) fn handle(dev: &'static CudaDevice) -> Result<&'static Handle> {
    static HANDLES: PerDevice<Handle> = PerDevice::new();
    HANDLES.get(dev, || {
        version()?;
        dev.bind()?;
        let h = result::create_handle().map_err(cudnn_err("cudnnCreate"))?;
        // SAFETY: a fresh handle; the stream belongs to this device's context.
        if let Err(e) = unsafe { result::set_stream(h, dev.stream.cu_stream() as _) } {
            // SAFETY: created above, destroyed once.
            let _ = unsafe { result::destroy_handle(h) };
            return Err(cudnn_err("cudnnSetStream")(e));
        }
        Ok(Handle(Mutex::new(h)))
    })
}

/// cuDNN's element type for a floating dtype.
pub(crate) fn data_type(d: DType) -> Option<sys::cudnnDataType_t> {
    use sys::cudnnDataType_t::*;
    Some(match d {
        DType::F16 => CUDNN_DATA_HALF,
        DType::BF16 => CUDNN_DATA_BFLOAT16,
        DType::F32 => CUDNN_DATA_FLOAT,
        DType::F64 => CUDNN_DATA_DOUBLE,
        _ => return None,
    })
}

/// `n` as cuDNN's `int`, or a refusal (cuDNN describes tensors with 32-bit sizes and strides).
pub(crate) fn int(n: usize) -> std::result::Result<i32, String> {
    i32::try_from(n).map_err(|_| format!("size {n} exceeds cuDNN's 32-bit limit"))
}

/// A dense NCHW (or NCDHW) tensor descriptor.
pub(crate) struct TensorDesc(pub(crate) sys::cudnnTensorDescriptor_t);

impl TensorDesc {
    pub(crate) fn new(
        dt: sys::cudnnDataType_t,
        dims: &[i32],
    ) -> std::result::Result<Self, result::CudnnError> {
        let d = TensorDesc(result::create_tensor_descriptor()?);
        let mut strides = vec![1i32; dims.len()];
        for i in (0..dims.len() - 1).rev() {
            strides[i] = strides[i + 1] * dims[i + 1].max(1);
        }
        // SAFETY: a live descriptor; dims and strides have `dims.len()` (4 or 5) entries.
        unsafe {
            result::set_tensornd_descriptor(
                d.0,
                dt,
                dims.len() as i32,
                dims.as_ptr(),
                strides.as_ptr(),
            )
        }?;
        Ok(d)
    }
}

impl Drop for TensorDesc {
    fn drop(&mut self) {
        // SAFETY: created by `new`, destroyed once.
        let _ = unsafe { result::destroy_tensor_descriptor(self.0) };
    }
}

/// A dense filter descriptor `(K, C / groups, *kernel)`.
pub(crate) struct FilterDesc(pub(crate) sys::cudnnFilterDescriptor_t);

impl FilterDesc {
    pub(crate) fn new(
        dt: sys::cudnnDataType_t,
        dims: &[i32],
    ) -> std::result::Result<Self, result::CudnnError> {
        let d = FilterDesc(result::create_filter_descriptor()?);
        // SAFETY: a live descriptor; `dims` has 4 or 5 entries.
        unsafe {
            result::set_filternd_descriptor(
                d.0,
                dt,
                sys::cudnnTensorFormat_t::CUDNN_TENSOR_NCHW,
                dims.len() as i32,
                dims.as_ptr(),
            )
        }?;
        Ok(d)
    }
}

impl Drop for FilterDesc {
    fn drop(&mut self) {
        // SAFETY: created by `new`, destroyed once.
        let _ = unsafe { result::destroy_filter_descriptor(self.0) };
    }
}

/// A cross-correlation descriptor (what deep learning calls convolution) with groups and a
/// math type.
pub(crate) struct ConvDesc(pub(crate) sys::cudnnConvolutionDescriptor_t);

impl ConvDesc {
    pub(crate) fn new(
        compute: sys::cudnnDataType_t,
        padding: &[i32],
        stride: &[i32],
        dilation: &[i32],
        groups: i32,
        math: sys::cudnnMathType_t,
    ) -> std::result::Result<Self, result::CudnnError> {
        let d = ConvDesc(result::create_convolution_descriptor()?);
        // SAFETY: a live descriptor; the three arrays have `padding.len()` (2 or 3) entries.
        unsafe {
            result::set_convolutionnd_descriptor(
                d.0,
                padding.len() as i32,
                padding.as_ptr(),
                stride.as_ptr(),
                dilation.as_ptr(),
                sys::cudnnConvolutionMode_t::CUDNN_CROSS_CORRELATION,
                compute,
            )?;
            result::set_convolution_group_count(d.0, groups)?;
            result::set_convolution_math_type(d.0, math)?;
        }
        Ok(d)
    }

    pub(crate) fn set_math(
        &self,
        math: sys::cudnnMathType_t,
    ) -> std::result::Result<(), result::CudnnError> {
        // SAFETY: a live descriptor.
        unsafe { result::set_convolution_math_type(self.0, math) }
    }
}

impl Drop for ConvDesc {
    fn drop(&mut self) {
        // SAFETY: created by `new`, destroyed once.
        let _ = unsafe { result::destroy_convolution_descriptor(self.0) };
    }
}
