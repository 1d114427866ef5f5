//! CUDA backend through `cudarc`: devices, memory, NVRTC-compiled kernels and their launches.
//!
//! The driver and libraries are opened at run time (cudarc's `dynamic-loading`), so ferrotorch
//! builds without a CUDA toolkit and imports on machines without a GPU; there
//! [`is_available`] is false and every CUDA entry point returns an error.

pub mod blas;
pub mod compile;
mod device;
pub mod elementwise;
mod event;
mod geometry;
pub mod index;
pub mod loss;
mod memory;
pub mod reduce;
pub mod rowwise;
pub mod scan;
pub mod scatter;
pub mod sort;
pub mod transfer;

pub use compile::Source;
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

/// Every kernel source; the compile test builds each of them for every specialisation.
pub mod sources {
    use super::Source;
    pub const COPY: Source = Source {
        name: "copy",
        text: include_str!("kernels/copy.cu"),
    };
    pub const INDEX: Source = Source {
        name: "index",
        text: include_str!("kernels/index.cu"),
    };
}

/// The kernel sources with the specialisations to compile in the CPU-only compile test:
/// every combination a program can ask for.
pub fn all_specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    let mut v = Vec::new();
    for s in crate::dtype::ALL_DTYPES {
        for d in crate::dtype::ALL_DTYPES {
            v.push((
                sources::COPY,
                vec![("SRC", type_name(s)), ("DST", type_name(d))],
            ));
        }
    }
    v.extend(elementwise::specialisations());
    v.extend(index::specialisations());
    v.extend(reduce::specialisations());
    v.extend(rowwise::specialisations());
    v.extend(scatter::specialisations());
    v
}

/// Compiles every specialisation of every kernel source for `sm_{arch}` with NVRTC, on all
/// cores (no GPU needed); returns how many programs compiled, or the first failure with its log.
pub fn compile_all(arch: u32) -> Result<usize> {
    use rayon::prelude::*;
    let all = all_specialisations();
    all.par_iter()
        .try_for_each(|(source, defines)| compile::compile(source, defines, arch).map(|_| ()))?;
    Ok(all.len())
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

/// `dst.copy_(src)` on one device: same shape, any dtypes and strides.
pub fn copy(dst: &Tensor, src: &Tensor) -> Result<()> {
    let dev = device_of(dst)?;
    let n = dst.numel();
    if n == 0 {
        return Ok(());
    }
    let defines = [
        ("SRC", type_name(src.dtype())),
        ("DST", type_name(dst.dtype())),
    ];
    let (out, inp) = (ptr(dst), ptr(src));
    let cfg = launch_config(dev, n);
    let n = n as i64;
    if dst.is_contiguous() && src.is_contiguous() {
        let f = dev.kernel(&sources::COPY, &defines, "copy_contiguous")?;
        return crate::cuda_launch!(dev, f, "copy_contiguous", cfg; out, inp, n);
    }
    let [so, si] = geometry::coalesce(dst.shape(), [dst.strides(), src.strides()])?;
    let f = dev.kernel(&sources::COPY, &defines, "copy_strided")?;
    crate::cuda_launch!(dev, f, "copy_strided", cfg; out, so, inp, si, n)
}

/// `t.fill_(value)` where `bits` are the value's bytes in `t`'s dtype (little-endian).
pub fn fill(t: &Tensor, bits: u64) -> Result<()> {
    let dev = device_of(t)?;
    let n = t.numel();
    if n == 0 {
        return Ok(());
    }
    let defines = [("SRC", type_name(t.dtype())), ("DST", type_name(t.dtype()))];
    let [so] = geometry::coalesce(t.shape(), [t.strides()])?;
    let out = ptr(t);
    let n64 = n as i64;
    let f = dev.kernel(&sources::COPY, &defines, "fill")?;
    crate::cuda_launch!(dev, f, "fill", launch_config(dev, n); out, so, bits, n64)
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
