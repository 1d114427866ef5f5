//! CUDA backend through `cudarc`: devices, memory, NVRTC-compiled kernels and their launches.
//!
//! The driver and libraries are opened at run time (cudarc's `dynamic-loading`), so ferrotorch
//! builds without a CUDA toolkit and imports on machines without a GPU; there
//! [`is_available`] is false and every CUDA entry point returns an error.

pub mod attention;
pub mod batch_norm;
pub mod blas;
pub mod blas_lt;
pub mod compile;
pub mod conv;
mod copy;
pub mod cudnn;
pub mod cudnn_conv;
mod device;
pub mod elementwise;
mod event;
mod flash_attention;
mod geometry;
pub mod index;
pub mod loss;
mod memory;
pub mod optim;
mod pending;
pub mod pool;
pub mod reduce;
pub mod resample;
pub mod rnn;
pub mod rowwise;
pub mod scan;
pub mod scatter;
pub mod sort;
pub mod transfer;

pub use compile::Source;
pub use copy::{copy, fill};
pub use device::{current, device, device_count, is_available, set_current, CudaDevice};
pub use event::Event;
pub use geometry::{Strided, MAX_DIMS};
pub use memory::{
    alloc_pinned, empty_cache, free_pinned, max_memory_allocated, memory_allocated,
    memory_reserved, reset_peak_memory_stats, CudaBuffer,
};

use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;
use cudarc::driver::LaunchConfig;

/// The kernel sources with the specialisations to compile in the CPU-only compile test:
/// every combination a program can ask for.
pub fn all_specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    let mut v = copy::specialisations();
    v.extend(batch_norm::specialisations());
    v.extend(elementwise::specialisations());
    v.extend(attention::specialisations());
    v.extend(conv::specialisations());
    v.extend(index::specialisations());
    v.extend(optim::specialisations());
    v.extend(pool::specialisations());
    v.extend(reduce::specialisations());
    v.extend(resample::specialisations());
    v.extend(rnn::specialisations());
    v.extend(rowwise::specialisations());
    v.extend(scatter::specialisations());
    v
}

/// Compiles every specialisation of every kernel source for `sm_{arch}` with NVRTC, on all
/// cores (no GPU needed); returns how many programs compiled, or the first failure with its log.
pub fn compile_all(arch: u32) -> Result<usize> {
    use rayon::prelude::*;
    let all = all_specialisations();
    crate::cpu::pool().install(|| {
        all.par_iter()
            .try_for_each(|(source, defines)| compile::compile(source, defines, arch).map(|_| ()))
    })?;
    Ok(all.len())
}

/// The floating dtypes the nn kernels (norms, softmax, losses, attention, RNN steps,
/// resampling) are specialised for.
pub(crate) const FLOATS: [DType; 4] = [DType::F16, DType::BF16, DType::F32, DType::F64];

/// `source` specialised as `T` for each of [`FLOATS`].
pub(crate) fn float_specialisations(
    source: Source,
) -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    FLOATS
        .iter()
        .map(|&d| (source, vec![("T", type_name(d))]))
        .collect()
}

/// The element type's name in kernel sources (see `kernels/common.cuh`).
pub fn type_name(d: DType) -> &'static str {
    match d {
        DType::Bool => "b8",
        DType::U8 => "u8",
        DType::I8 => "i8",
        DType::I16 => "i16",
        DType::I32 => "i32",
        DType::I64 => "i64",
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        DType::F32 => "f32",
        DType::F64 => "f64",
    }
}

/// The CUDA device of a tensor on one.
pub fn device_of(t: &Tensor) -> Result<&'static CudaDevice> {
    match t.device() {
        crate::Device::Cuda(i) => device(i),
        crate::Device::Cpu => Err(crate::Error::runtime(format!(
            "expected a CUDA tensor, got one on {}",
            t.device()
        ))),
    }
}

/// Device address of a CUDA tensor's first element.
pub fn ptr(t: &Tensor) -> u64 {
    t.storage().cuda_ptr() + (t.offset() * t.dtype().size()) as u64
}

/// One thread per element in blocks of 256, at most 32 blocks per multiprocessor (kernels
/// loop over the rest).
pub fn launch_config(dev: &CudaDevice, n: usize) -> LaunchConfig {
    const THREADS: u32 = 256;
    let max_blocks = dev.multiprocessors as u64 * 32;
    let blocks = (n as u64).div_ceil(THREADS as u64).clamp(1, max_blocks) as u32;
    LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Launches kernel `$f` on `$dev`'s stream with `cfg` and the listed arguments (each passed
/// by value to the kernel).
///
/// Safety (of the expansion): every kernel of kernels/ takes exactly the arguments its host
/// function lists, with pointers into live buffers of the sizes its geometry describes.
#[macro_export]
macro_rules! cuda_launch {
    ($dev:expr, $f:expr, $name:expr, $cfg:expr; $($arg:expr),* $(,)?) => {{
        use cudarc::driver::PushKernelArg as _;
        let cfg: cudarc::driver::LaunchConfig = $cfg;
        let mut b = $dev.stream.launch_builder(&$f);
        $( b.arg(&$arg); )*
        unsafe { b.launch(cfg) }
            .map(|_| ())
            .map_err(|e| $crate::Error::runtime(format!("CUDA error: launching {}: {e}", $name)))
    }};
}
