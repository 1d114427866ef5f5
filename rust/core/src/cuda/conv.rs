//! im2col and col2im on CUDA tensors (kernels in `kernels/im2col.cu`): a thread per column
//! entry for im2col, a thread per output element gathering its column entries for col2im
//! (deterministic, no atomics).

use super::{device_of, launch_config, ptr, type_name, Source};
use crate::cpu::im2col::Windows;
use crate::dtype::{DType, ALL_DTYPES};
use crate::error::Result;
use crate::tensor::Tensor;
use cudarc::driver::DeviceRepr;

/// The window geometry (`kernels/window.cuh`, shared with the pooling kernels) and the
/// kernels.
pub const SOURCE: Source = Source {
    name: "im2col",
    text: concat!(
        include_str!("kernels/window.cuh"),
        include_str!("kernels/im2col.cu")
    ),
};

/// [`Windows`] as the kernels' `Win` (`kernels/window.cuh`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WindowsArg {
    planes: i64,
    size: [i64; 3],
    out: [i64; 3],
    kernel: [i64; 3],
    stride: [i64; 3],
    pad: [i64; 3],
    dil: [i64; 3],
}

// SAFETY: plain old data with the C layout the kernels declare.
unsafe impl DeviceRepr for WindowsArg {}

impl From<&Windows> for WindowsArg {
    fn from(g: &Windows) -> Self {
        let wide = |v: [usize; 3]| v.map(|x| x as i64);
        WindowsArg {
            planes: g.planes as i64,
            size: wide(g.size),
            out: wide(g.out),
            kernel: wide(g.kernel),
            stride: wide(g.stride),
            pad: wide(g.pad),
            dil: wide(g.dil),
        }
    }
}

/// The dtypes the window kernels are specialised for: every one but bool (im2col of a bool
/// tensor runs as its same-sized integer).
pub fn kernel_dtypes() -> impl Iterator<Item = DType> {
    ALL_DTYPES.into_iter().filter(|&d| d != DType::Bool)
}

/// Every (source, defines) the functions here request.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    kernel_dtypes()
        .map(|d| (SOURCE, vec![("T", type_name(d))]))
        .collect()
}

/// The integer kernel type of an element size: im2col only moves bits.
fn bits_type(size: usize) -> &'static str {
    match size {
        1 => "u8",
        2 => "i16",
        4 => "i32",
        _ => "i64",
    }
}

/// `cols = im2col(x)` for a contiguous `x` and a fresh contiguous `cols` of `g`'s sizes.
pub fn im2col(x: &Tensor, cols: &Tensor, g: &Windows) -> Result<()> {
    let dev = device_of(cols)?;
    let n = cols.numel();
    if n == 0 {
        return Ok(());
    }
    let f = dev.kernel(&SOURCE, &[("T", bits_type(x.dtype().size()))], "im2col")?;
    let (pc, px, arg, n64) = (ptr(cols), ptr(x), WindowsArg::from(g), n as i64);
    crate::cuda_launch!(dev, f, "im2col", launch_config(dev, n); pc, px, arg, n64)
}

/// `out = col2im(cols)` for a contiguous `cols` and a fresh contiguous `out` of `g`'s sizes.
pub fn col2im(cols: &Tensor, out: &Tensor, g: &Windows) -> Result<()> {
    let dev = device_of(out)?;
    let n = out.numel();
    if n == 0 {
        return Ok(());
    }
    let f = dev.kernel(&SOURCE, &[("T", type_name(out.dtype()))], "col2im")?;
    let (po, pc, arg, n64) = (ptr(out), ptr(cols), WindowsArg::from(g), n as i64);
    crate::cuda_launch!(dev, f, "col2im", launch_config(dev, n); po, pc, arg, n64)
}
