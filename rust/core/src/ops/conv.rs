//! Sliding-window (un)folding over 1, 2 or 3 spatial dims: `im2col` (torch's `F.unfold`) and
//! its adjoint `col2im` (`F.fold`, which sums overlapping windows).
//!
//! Convolutions are built on these in the Python layer: a convolution is im2col plus one
//! batched matrix product, a transposed convolution a product plus col2im. Zero padding is the
//! kernels' business (a window position in the padding reads zero, or is dropped), never a
//! padded copy of the input.

use crate::bail;
use crate::cpu::im2col::{self as kernels, Windows};
use crate::dtype::scalar_type_name;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Runs `$body` with `$T` bound to the Rust type of `$dtype` for every dtype but bool (the
/// types with a [`kernels::Accum`] accumulator); `$other` for bool.
macro_rules! dispatch_accum {
    ($dtype:expr, $T:ident => $body:expr, _ => $other:expr) => {
        $crate::dispatch_float!($dtype, $T => $body, _ => $crate::dispatch_int!($dtype, $T => $body, _ => $other))
    };
}
pub(crate) use dispatch_accum;

/// Kernel size, stride, padding and dilation of sliding windows over the last `nd` dims of
/// a tensor, one entry per dim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub kernel: Vec<usize>,
    pub stride: Vec<usize>,
    pub padding: Vec<usize>,
    pub dilation: Vec<usize>,
}

/// The product of `values`, or an error naming `op` if it overflows.
pub(crate) fn product(op: &str, values: &[usize]) -> Result<usize> {
    values
        .iter()
        .try_fold(1usize, |acc, &v| acc.checked_mul(v))
        .ok_or_else(|| Error::runtime(format!("{op}: sizes {values:?} are too large")))
}

impl Window {
    /// Checks the parameters: 1 to 3 spatial dims, one value per dim for each parameter,
    /// kernel size, stride and dilation positive, padding non-negative. `op` names the op in
    /// errors.
    pub fn new(
        op: &str,
        kernel: &[i64],
        stride: &[i64],
        padding: &[i64],
        dilation: &[i64],
    ) -> Result<Window> {
        let nd = kernel.len();
        if !(1..=3).contains(&nd) {
            bail!(
                Runtime,
                "{op}: expected 1, 2 or 3 spatial dims, but got kernel_size={kernel:?}"
            );
        }
        for (name, v) in [
            ("stride", stride),
            ("padding", padding),
            ("dilation", dilation),
        ] {
            if v.len() != nd {
                bail!(
                    Runtime,
                    "{op}: expected {name} to have {nd} values to match kernel_size={kernel:?}, \
                     but got {name}={v:?}"
                );
            }
        }
        let positive = |name: &str, v: &[i64]| -> Result<Vec<usize>> {
            if v.iter().any(|&x| x <= 0) {
                bail!(
                    Runtime,
                    "{op}: {name} should be greater than zero, but got {name}={v:?}"
                );
            }
            Ok(v.iter().map(|&x| x as usize).collect())
        };
        if padding.iter().any(|&p| p < 0) {
            bail!(
                Runtime,
                "{op}: padding should be non-negative, but got padding={padding:?}"
            );
        }
        Ok(Window {
            kernel: positive("kernel_size", kernel)?,
            stride: positive("stride", stride)?,
            padding: padding.iter().map(|&p| p as usize).collect(),
            dilation: positive("dilation", dilation)?,
        })
    }

    /// Number of spatial dims.
    pub fn nd(&self) -> usize {
        self.kernel.len()
    }

    /// Extent of the dilated kernel along `d`: `dilation * (kernel - 1) + 1`.
    pub fn span(&self, d: usize) -> usize {
        self.dilation[d]
            .saturating_mul(self.kernel[d] - 1)
            .saturating_add(1)
    }

    /// How many windows fit along each dim of `size` padded by `padding` on both sides
    /// (torch's `unfold`/`conv` grid); fails, naming `op`, if some dim has none.
    pub fn blocks(&self, op: &str, size: &[usize]) -> Result<Vec<usize>> {
        size.iter()
            .enumerate()
            .map(|(d, &n)| {
                let padded = n.saturating_add(self.padding[d].saturating_mul(2));
                if padded < self.span(d) {
                    bail!(
                        Runtime,
                        "{op}: calculated padded input size {padded} is smaller than the \
                         kernel size {} along spatial dim {d} (input size {size:?}, \
                         kernel_size={:?}, dilation={:?}, padding={:?})",
                        self.span(d),
                        self.kernel,
                        self.dilation,
                        self.padding
                    );
                }
                Ok((padded - self.span(d)) / self.stride[d] + 1)
            })
            .collect()
    }

    /// The 3-D geometry the kernels take: `planes` contiguous planes of `size` and the window
    /// grid `out`, with leading unit dims for windows of fewer than 3 dims.
    pub fn windows(&self, planes: usize, size: &[usize], out: &[usize]) -> Windows {
        let lead = 3 - self.nd();
        let fill = |v: &[usize], unit: usize| -> [usize; 3] {
            let mut a = [unit; 3];
            a[lead..].copy_from_slice(v);
            a
        };
        Windows {
            planes,
            size: fill(size, 1),
            out: fill(out, 1),
            kernel: fill(&self.kernel, 1),
            stride: fill(&self.stride, 1),
            pad: fill(&self.padding, 0),
            dil: fill(&self.dilation, 1),
        }
    }
}

/// `F.unfold` for 1, 2 or 3 spatial dims: `(N, C, *spatial)` -> `(N, C * prod(kernel), L)`,
/// `L` the number of windows; row `c * prod(kernel) + k` holds kernel offset `k` (row-major)
/// of channel `c` in every window (row-major), zero where it falls in the padding.
pub fn im2col(x: &Tensor, w: &Window) -> Result<Tensor> {
    let nd = w.nd();
    if x.ndim() != nd + 2 {
        bail!(
            Runtime,
            "im2col: expected a {}-D input (batch, channels and {nd} spatial dims) for \
             kernel_size={:?}, but got input of size {:?}",
            nd + 2,
            w.kernel,
            x.shape()
        );
    }
    let (n, c, size) = (x.shape()[0], x.shape()[1], &x.shape()[2..]);
    let out = w.blocks("im2col", size)?;
    let rows = c
        .checked_mul(product("im2col", &w.kernel)?)
        .ok_or_else(|| Error::runtime("im2col: too many columns"))?;
    let cols = Tensor::empty(&[n, rows, product("im2col", &out)?], x.dtype(), x.device())?;
    if cols.numel() == 0 {
        return Ok(cols);
    }
    let x = x.contiguous()?;
    let g = w.windows(n * c, size, &out);
    if cols.is_cuda() {
        crate::cuda::conv::im2col(&x, &cols, &g)?;
        return Ok(cols);
    }
    crate::dispatch_by_size!(x.dtype().size(), T => {
        // SAFETY: x is contiguous with n * c planes of `size`; cols is fresh with the
        // n * c * prod(kernel) * L elements the geometry describes.
        unsafe { kernels::im2col::<T>(x.data_ptr_raw() as *const T, cols.data_ptr_raw() as *mut T, &g) }
    });
    Ok(cols)
}

/// `F.fold` for 1, 2 or 3 spatial dims, the adjoint of [`im2col`]: `(N, C * prod(kernel), L)`
/// -> `(N, C, *output_size)`, every column entry added to the output element it came from
/// (entries that fall in the padding are dropped). `L` must be the number of windows of
/// `output_size`.
pub fn col2im(cols: &Tensor, output_size: &[usize], w: &Window) -> Result<Tensor> {
    let nd = w.nd();
    if output_size.len() != nd {
        bail!(
            Runtime,
            "col2im: expected output_size to have {nd} values to match kernel_size={:?}, but \
             got output_size={output_size:?}",
            w.kernel
        );
    }
    if cols.ndim() != 3 {
        bail!(
            Runtime,
            "col2im: expected a 3-D input (batch, channels * prod(kernel_size), blocks), but got \
             input of size {:?}",
            cols.shape()
        );
    }
    let (n, rows, l) = (cols.shape()[0], cols.shape()[1], cols.shape()[2]);
    let k = product("col2im", &w.kernel)?;
    if rows % k != 0 {
        bail!(
            Runtime,
            "Expected size of input's dimension 1 to be divisible by the product of \
             kernel_size, but got input.size(1)={rows} and kernel_size={:?}.",
            w.kernel
        );
    }
    let out = w.blocks("col2im", output_size)?;
    let blocks = product("col2im", &out)?;
    if blocks != l {
        bail!(
            Runtime,
            "col2im: expected size of input's dimension 2 to match the calculated number of \
             sliding blocks {} = {blocks}, but got input.size(2)={l}.",
            out.iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(" * ")
        );
    }
    if cols.dtype() == crate::DType::Bool {
        bail!(
            NotImplemented,
            "\"col2im_out_cpu\" not implemented for '{}'",
            scalar_type_name(cols.dtype())
        );
    }
    let c = rows / k;
    let shape: Vec<usize> = [n, c].iter().chain(output_size).copied().collect();
    let res = Tensor::empty(&shape, cols.dtype(), cols.device())?;
    if res.numel() == 0 {
        return Ok(res);
    }
    let cols = cols.contiguous()?;
    let g = w.windows(n * c, output_size, &out);
    if res.is_cuda() {
        crate::cuda::conv::col2im(&cols, &res, &g)?;
        return Ok(res);
    }
    dispatch_accum!(cols.dtype(), T => {
        // SAFETY: cols is contiguous with the n * c * k * L elements the geometry describes;
        // res is fresh with n * c planes of `output_size`.
        unsafe { kernels::col2im::<T>(cols.data_ptr::<T>(), res.data_ptr::<T>(), &g) }
    }, _ => return Err(Error::runtime("internal error: col2im reached the bool kernel")));
    Ok(res)
}
