//! Max and average pooling over 1, 2 or 3 spatial dims, and their gradients.
//!
//! Inputs are `(*lead, *spatial)` with one or two leading dims (`(C, ..)` or `(N, C, ..)`);
//! every leading index is one plane. Max pooling returns torch's indices: the flat position
//! of each maximum within its (unpadded) input plane. The backward ops take the forward's
//! geometry and read the window grid from the gradient's shape.

use super::conv::{dispatch_accum, product, Window};
use crate::bail;
use crate::cpu::im2col::{Accum, Windows};
use crate::cpu::pool as kernels;
use crate::dtype::{scalar_type_name, DType};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// torch's `pooling_output_shape` along one dim: the number of windows, where in ceil mode a
/// last partial window counts if it starts inside the input or its left padding. May be
/// zero or negative for inputs too small.
pub fn output_size(
    size: usize,
    kernel: usize,
    pad: usize,
    stride: usize,
    dilation: usize,
    ceil_mode: bool,
) -> i64 {
    // In i128: parameters come from Python ints, and no sum of them may overflow.
    let (size, kernel, pad, stride, dilation) = (
        size as i128,
        kernel as i128,
        pad as i128,
        stride as i128,
        dilation as i128,
    );
    let ceil = if ceil_mode { stride - 1 } else { 0 };
    let span = size + 2 * pad - dilation * (kernel - 1) - 1 + ceil;
    let mut out = span.div_euclid(stride) + 1;
    if ceil_mode && (out - 1) * stride >= size + pad {
        out -= 1;
    }
    out.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Where a pooling input's planes and windows are.
struct Layout {
    /// The leading (plane) dims of the input.
    lead: Vec<usize>,
    size: Vec<usize>,
    out: Vec<usize>,
}

impl Layout {
    fn planes(&self) -> usize {
        self.lead.iter().product()
    }

    /// The shape of a result with one element per window.
    fn out_shape(&self) -> Vec<usize> {
        self.lead.iter().chain(&self.out).copied().collect()
    }
}

/// torch's checks of a pooling input and its parameters; the layout of the result.
fn layout(op: &str, x: &Tensor, w: &Window, ceil_mode: bool) -> Result<Layout> {
    let nd = w.nd();
    let shape = x.shape();
    if !(nd + 1..=nd + 2).contains(&shape.len()) {
        bail!(
            Runtime,
            "{op}: Expected {}D or {}D (batch mode) tensor with optional 0 dim batch size for \
             input, but got: {shape:?}",
            nd + 1,
            nd + 2
        );
    }
    for d in 0..nd {
        if w.padding[d] > w.span(d) / 2 {
            bail!(
                Runtime,
                "pad should be at most half of effective kernel size, but got pad={}, \
                 kernel_size={} and dilation={}",
                w.padding[d],
                w.kernel[d],
                w.dilation[d]
            );
        }
    }
    let split = shape.len() - nd;
    let size = shape[split..].to_vec();
    let out: Vec<i64> = (0..nd)
        .map(|d| {
            output_size(
                size[d],
                w.kernel[d],
                w.padding[d],
                w.stride[d],
                w.dilation[d],
                ceil_mode,
            )
        })
        .collect();
    if out.iter().any(|&o| o < 1) {
        let planes = shape[split - 1];
        let join = |v: Vec<String>| v.join("x");
        bail!(
            Runtime,
            "Given input size: ({}). Calculated output size: ({}). Output size is too small",
            join(
                std::iter::once(planes)
                    .chain(size.iter().copied())
                    .map(|v| v.to_string())
                    .collect()
            ),
            join(
                std::iter::once(planes as i64)
                    .chain(out.iter().copied())
                    .map(|v| v.to_string())
                    .collect()
            )
        );
    }
    Ok(Layout {
        lead: shape[..split].to_vec(),
        size,
        out: out.iter().map(|&o| o as usize).collect(),
    })
}

/// The layout of a backward op: the input's shape and the grid the gradient carries.
fn backward_layout(op: &str, grad: &Tensor, input_shape: &[usize], w: &Window) -> Result<Layout> {
    let nd = w.nd();
    let split = input_shape.len().saturating_sub(nd);
    if grad.ndim() != input_shape.len()
        || split == 0
        || grad.shape()[..split] != input_shape[..split]
    {
        bail!(
            Runtime,
            "{op}: expected a gradient with the leading dims of the input {input_shape:?} and \
             {nd} window dims, but got a gradient of size {:?}",
            grad.shape()
        );
    }
    Ok(Layout {
        lead: input_shape[..split].to_vec(),
        size: input_shape[split..].to_vec(),
        out: grad.shape()[split..].to_vec(),
    })
}

/// torch's "not implemented" error for a dtype a pooling kernel lacks.
fn unsupported(kernel: &str, dt: DType) -> Error {
    Error::not_implemented(format!(
        "\"{kernel}\" not implemented for '{}'",
        scalar_type_name(dt)
    ))
}

/// `max_pool{1,2,3}d(x, ..., return_indices=True)`: the maximum of every window and its flat
/// position in the input plane (int64). Padding never wins; NaN propagates (torch's rule:
/// an element replaces the maximum if greater or NaN).
pub fn max_pool_with_indices(x: &Tensor, w: &Window, ceil_mode: bool) -> Result<(Tensor, Tensor)> {
    let op = format!("max_pool{}d", w.nd());
    let lay = layout(&op, x, w, ceil_mode)?;
    if x.dtype() == DType::Bool {
        return Err(unsupported(&op, x.dtype()));
    }
    let shape = lay.out_shape();
    let values = Tensor::empty(&shape, x.dtype(), x.device())?;
    let indices = Tensor::empty(&shape, DType::I64, x.device())?;
    if values.numel() == 0 {
        return Ok((values, indices));
    }
    let x = x.contiguous()?;
    let g = w.windows(lay.planes(), &lay.size, &lay.out);
    if x.is_cuda() {
        let lowest = dispatch_accum!(x.dtype(), T => crate::element::to_bits(T::lowest()),
            _ => return Err(unsupported(&op, x.dtype())));
        crate::cuda::pool::max_pool(&x, &values, &indices, &g, lowest)?;
        return Ok((values, indices));
    }
    dispatch_accum!(x.dtype(), T => {
        // SAFETY: contiguous input of `planes` planes; fresh outputs of one element per window.
        unsafe { kernels::max_pool::<T>(x.data_ptr::<T>(), values.data_ptr::<T>(), indices.data_ptr::<i64>(), &g) }
    }, _ => return Err(unsupported(&op, x.dtype())));
    Ok((values, indices))
}

/// The gradient of [`max_pool_with_indices`] with respect to its input (of `input_shape`):
/// each output gradient goes to the position its index names.
pub fn max_pool_backward(
    grad: &Tensor,
    indices: &Tensor,
    input_shape: &[usize],
    w: &Window,
) -> Result<Tensor> {
    let op = "max_pool_backward";
    crate::ops::check_same_device(op, &[grad, indices])?;
    if indices.dtype() != DType::I64 || indices.shape() != grad.shape() {
        bail!(
            Runtime,
            "{op}: expected int64 indices of the gradient's size {:?}, but got {} indices of \
             size {:?}",
            grad.shape(),
            indices.dtype(),
            indices.shape()
        );
    }
    let lay = backward_layout(op, grad, input_shape, w)?;
    // The CPU kernel writes every element (each plane's sums): no need to clear it first.
    let gin = if grad.is_cuda() {
        Tensor::empty(input_shape, grad.dtype(), grad.device())?
    } else {
        Tensor::empty_unzeroed(input_shape, grad.dtype())?
    };
    if gin.numel() == 0 {
        return Ok(gin);
    }
    let (grad, indices) = (grad.contiguous()?, indices.contiguous()?);
    if grad.is_cuda() {
        let g = w.windows(lay.planes(), &lay.size, &lay.out);
        crate::cuda::pool::max_pool_backward(&grad, &indices, &gin, &g)?;
        return Ok(gin);
    }
    let (len_in, len_out) = (product(op, &lay.size)?, product(op, &lay.out)?);
    dispatch_accum!(grad.dtype(), T => {
        // SAFETY: contiguous gradient and indices of `planes * len_out` elements; fresh
        // gin of `planes * len_in`.
        unsafe {
            kernels::max_pool_backward::<T>(
                grad.data_ptr::<T>(), indices.data_ptr::<i64>(), gin.data_ptr::<T>(),
                lay.planes(), len_in, len_out,
            )
        }
    }, _ => return Err(unsupported(op, grad.dtype())));
    Ok(gin)
}

/// The parameters of `avg_pool{1,2,3}d`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvgPool {
    /// Kernel size, stride and padding (dilation is always 1).
    pub window: Window,
    pub ceil_mode: bool,
    /// Whether the zero padding counts in a window's divisor.
    pub count_include_pad: bool,
    /// A divisor used for every window instead of its size.
    pub divisor_override: Option<i64>,
}

impl AvgPool {
    /// Checks the parameters as torch does.
    pub fn new(
        kernel: &[i64],
        stride: &[i64],
        padding: &[i64],
        ceil_mode: bool,
        count_include_pad: bool,
        divisor_override: Option<i64>,
    ) -> Result<AvgPool> {
        let op = format!("avg_pool{}d", kernel.len());
        let window = Window::new(&op, kernel, stride, padding, &vec![1; kernel.len()])?;
        if divisor_override == Some(0) {
            bail!(Runtime, "divisor must be not zero");
        }
        Ok(AvgPool {
            window,
            ceil_mode,
            count_include_pad,
            divisor_override,
        })
    }

    /// torch's name of the kernel, for dtype errors (1-d pooling runs as 2-d in torch).
    fn kernel_name(&self) -> String {
        format!("avg_pool{}d_out_frame", self.window.nd().max(2))
    }

    /// Floating dtypes and int64, as torch's CPU kernels.
    fn check_dtype(&self, dt: DType) -> Result<()> {
        if dt.is_floating_point() || dt == DType::I64 {
            Ok(())
        } else {
            Err(unsupported(&self.kernel_name(), dt))
        }
    }
}

/// `avg_pool{1,2,3}d`: the mean of every window; the divisor is `divisor_override`, else the
/// window's size counting the padding (`count_include_pad`) or only the input it covers.
pub fn avg_pool(x: &Tensor, p: &AvgPool) -> Result<Tensor> {
    let w = &p.window;
    let lay = layout(&format!("avg_pool{}d", w.nd()), x, w, p.ceil_mode)?;
    p.check_dtype(x.dtype())?;
    let out = Tensor::empty(&lay.out_shape(), x.dtype(), x.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let x = x.contiguous()?;
    let g = w.windows(lay.planes(), &lay.size, &lay.out);
    let (cip, div) = (p.count_include_pad, p.divisor_override);
    if x.is_cuda() {
        crate::cuda::pool::avg_pool(&x, &out, &g, cip, div)?;
        return Ok(out);
    }
    dispatch_accum!(x.dtype(), T => {
        // SAFETY: contiguous input of `planes` planes; fresh output of one element per window.
        unsafe { kernels::avg_pool::<T>(x.data_ptr::<T>(), out.data_ptr::<T>(), &g, cip, div) }
    }, _ => return Err(unsupported(&p.kernel_name(), x.dtype())));
    Ok(out)
}

/// The gradient of [`avg_pool`] with respect to its input (of `input_shape`).
pub fn avg_pool_backward(grad: &Tensor, input_shape: &[usize], p: &AvgPool) -> Result<Tensor> {
    let w = &p.window;
    let lay = backward_layout("avg_pool_backward", grad, input_shape, w)?;
    p.check_dtype(grad.dtype())?;
    let gin = Tensor::empty(input_shape, grad.dtype(), grad.device())?;
    if gin.numel() == 0 {
        return Ok(gin);
    }
    let grad = grad.contiguous()?;
    let g: Windows = w.windows(lay.planes(), &lay.size, &lay.out);
    let (cip, div) = (p.count_include_pad, p.divisor_override);
    if grad.is_cuda() {
        crate::cuda::pool::avg_pool_backward(&grad, &gin, &g, cip, div)?;
        return Ok(gin);
    }
    dispatch_accum!(grad.dtype(), T => {
        // SAFETY: contiguous gradient of one element per window; fresh gin of `planes` planes.
        unsafe { kernels::avg_pool_backward::<T>(grad.data_ptr::<T>(), gin.data_ptr::<T>(), &g, cip, div) }
    }, _ => return Err(unsupported(&p.kernel_name(), grad.dtype())));
    Ok(gin)
}
