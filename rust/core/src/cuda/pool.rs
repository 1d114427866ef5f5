//! Max and average pooling on CUDA tensors (kernels in `kernels/pool.cu`): a thread per
//! window forward; backward a thread per input element gathers the gradients of the windows
//! covering it, so no atomics are needed and results are deterministic.

use super::conv::{kernel_dtypes, WindowsArg};
use super::{device_of, launch_config, ptr, type_name, Source};
use crate::cpu::im2col::Windows;
use crate::error::Result;
use crate::tensor::Tensor;

pub const SOURCE: Source = Source {
    name: "pool",
    text: concat!(
        include_str!("kernels/window.cuh"),
        include_str!("kernels/pool.cu")
    ),
};

/// Every (source, defines) the functions here request.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    kernel_dtypes()
        .map(|d| (SOURCE, vec![("T", type_name(d))]))
        .collect()
}

/// `(values, indices) = max_pool(x)`: contiguous `x`, fresh outputs of one element per
/// window; `lowest` holds the bytes of the dtype's smallest value.
pub fn max_pool(
    x: &Tensor,
    values: &Tensor,
    indices: &Tensor,
    g: &Windows,
    lowest: u64,
) -> Result<()> {
    let dev = device_of(values)?;
    let n = values.numel();
    if n == 0 {
        return Ok(());
    }
    let f = dev.kernel(&SOURCE, &[("T", type_name(x.dtype()))], "max_pool")?;
    let (pv, pi, px, arg, n64) = (
        ptr(values),
        ptr(indices),
        ptr(x),
        WindowsArg::from(g),
        n as i64,
    );
    crate::cuda_launch!(dev, f, "max_pool", launch_config(dev, n); pv, pi, px, arg, lowest, n64)
}

/// `gin` (fresh, contiguous, the input's shape) = the gradient of max pooling from the
/// contiguous `grad` and `indices`.
pub fn max_pool_backward(grad: &Tensor, indices: &Tensor, gin: &Tensor, g: &Windows) -> Result<()> {
    let dev = device_of(gin)?;
    let n = gin.numel();
    if n == 0 {
        return Ok(());
    }
    let f = dev.kernel(
        &SOURCE,
        &[("T", type_name(gin.dtype()))],
        "max_pool_backward",
    )?;
    let (po, pg, pi, arg, n64) = (
        ptr(gin),
        ptr(grad),
        ptr(indices),
        WindowsArg::from(g),
        n as i64,
    );
    crate::cuda_launch!(dev, f, "max_pool_backward", launch_config(dev, n); po, pg, pi, arg, n64)
}

/// `out = avg_pool(x)`: contiguous `x`, fresh `out` of one element per window. `divisor` 0
/// means none.
pub fn avg_pool(
    x: &Tensor,
    out: &Tensor,
    g: &Windows,
    count_include_pad: bool,
    divisor: Option<i64>,
) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let f = dev.kernel(&SOURCE, &[("T", type_name(x.dtype()))], "avg_pool")?;
    let (po, px, arg) = (ptr(out), ptr(x), WindowsArg::from(g));
    let (cip, div, n64) = (count_include_pad as i32, divisor.unwrap_or(0), n as i64);
    crate::cuda_launch!(dev, f, "avg_pool", launch_config(dev, n); po, px, arg, cip, div, n64)
}

/// `gin` (fresh, contiguous, the input's shape) = the gradient of average pooling from the
/// contiguous `grad`.
pub fn avg_pool_backward(
    grad: &Tensor,
    gin: &Tensor,
    g: &Windows,
    count_include_pad: bool,
    divisor: Option<i64>,
) -> Result<()> {
    let dev = device_of(gin)?;
    let n = gin.numel();
    if n == 0 {
        return Ok(());
    }
    let f = dev.kernel(
        &SOURCE,
        &[("T", type_name(gin.dtype()))],
        "avg_pool_backward",
    )?;
    let (po, pg, arg) = (ptr(gin), ptr(grad), WindowsArg::from(g));
    let (cip, div, n64) = (count_include_pad as i32, divisor.unwrap_or(0), n as i64);
    crate::cuda_launch!(dev, f, "avg_pool_backward", launch_config(dev, n); po, pg, arg, cip, div, n64)
}
