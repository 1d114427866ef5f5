//! `convolution` (torch's `aten::convolution`): N-d convolution and transposed convolution
//! over batched `(N, C, *spatial)` inputs with 1 to 3 spatial dims, and its fused backward.
//!
//! CUDA float tensors go to cuDNN (`cuda::cudnn_conv`): a convolution is cuDNN's forward, its
//! input gradient backward-data and its weight gradient backward-filter; a transposed
//! convolution is backward-data as forward (as torch runs it), forward for its input gradient
//! and backward-filter with the roles of input and output swapped for its weight gradient.
//! A CPU f32/f64 convolution that is not transposed (and has no empty tensor) runs the
//! per-sample kernels of `cpu::convolution` (direct AVX-512 kernels for unit-stride f32,
//! im2col + gemm otherwise), which add the bias themselves. Everything else, and whatever
//! cuDNN declines (cuDNN missing, `backends.cudnn.enabled` off, integer and 16-bit dtypes on
//! the CPU, empty tensors, sizes past cuDNN's 32-bit limit, a transposed convolution whose
//! `output_padding` reaches its stride), runs as im2col + batched matrix products
//! (`convolution_gemm`), the bias added in place after the product. Its gradient is a sum.

use super::binary::{binary_into, BinaryOp};
use super::check_same_device;
use super::conv::{product, Window};
use super::convolution_gemm::{self as gemm, RawKit};
use crate::bail;
use crate::cpu::convolution::{self as cpu_conv, Conv};
use crate::cuda::{cudnn, cudnn_conv};
use crate::dtype::{scalar_type_name, DType};
use crate::error::Result;
use crate::tensor::Tensor;

/// Stride, padding, dilation, whether transposed, output padding and groups of a convolution
/// (one entry per spatial dim in each list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvParams {
    pub stride: Vec<usize>,
    pub padding: Vec<usize>,
    pub dilation: Vec<usize>,
    pub transposed: bool,
    pub output_padding: Vec<usize>,
    pub groups: usize,
}

impl ConvParams {
    /// Checks the values with torch's messages: stride, dilation and groups positive, padding
    /// and output padding non-negative, one value per spatial dim in every list.
    pub fn new(
        stride: &[i64],
        padding: &[i64],
        dilation: &[i64],
        transposed: bool,
        output_padding: &[i64],
        groups: i64,
    ) -> Result<ConvParams> {
        let nd = stride.len();
        for (name, v) in [
            ("padding", padding),
            ("dilation", dilation),
            ("output_padding", output_padding),
        ] {
            if v.len() != nd {
                bail!(
                    Runtime,
                    "expected {name} to be a single integer value or a list of {nd} values to \
                     match the convolution dimensions, but got {name}={v:?}"
                );
            }
        }
        if padding.iter().any(|&p| p < 0) {
            bail!(Runtime, "negative padding is not supported");
        }
        if output_padding.iter().any(|&p| p < 0) {
            bail!(Runtime, "negative output_padding is not supported");
        }
        if stride.iter().any(|&s| s <= 0) {
            bail!(Runtime, "non-positive stride is not supported");
        }
        if dilation.iter().any(|&d| d <= 0) {
            bail!(Runtime, "dilation should be greater than zero");
        }
        if groups <= 0 {
            bail!(Runtime, "non-positive groups is not supported");
        }
        let us = |v: &[i64]| v.iter().map(|&x| x as usize).collect::<Vec<_>>();
        Ok(ConvParams {
            stride: us(stride),
            padding: us(padding),
            dilation: us(dilation),
            transposed,
            output_padding: us(output_padding),
            groups: groups as usize,
        })
    }

    /// Number of spatial dims.
    pub fn nd(&self) -> usize {
        self.stride.len()
    }

    /// The output's spatial size for an input of spatial size `size` and a kernel of
    /// `kernel`; callers have checked (in [`ConvParams::check`]) that it is positive.
    pub fn output_size(&self, size: &[usize], kernel: &[usize]) -> Vec<usize> {
        (0..self.nd())
            .map(|i| {
                let span = self.dilation[i] * (kernel[i] - 1) + 1;
                if self.transposed {
                    (size[i] - 1) * self.stride[i] + span + self.output_padding[i]
                        - 2 * self.padding[i]
                } else {
                    (size[i] + 2 * self.padding[i] - span) / self.stride[i] + 1
                }
            })
            .collect()
    }

    /// Checks `x`, `w` and `b` against each other and the parameters (torch's messages);
    /// returns the output's shape.
    pub fn check(&self, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Vec<usize>> {
        let nd = self.nd();
        let mut all = vec![x, w];
        all.extend(b);
        check_same_device("convolution", &all)?;
        if !(1..=3).contains(&nd) || x.ndim() != nd + 2 {
            bail!(
                Runtime,
                "convolution: expected a batched input with {} spatial dims to match \
                 stride={:?}, but got input of size {:?}",
                nd,
                self.stride,
                x.shape()
            );
        }
        if w.ndim() != x.ndim() {
            bail!(
                Runtime,
                "Expected {}-dimensional input for {}-dimensional weight {:?}, but got \
                 {}-dimensional input of size {:?} instead",
                w.ndim(),
                w.ndim(),
                w.shape(),
                x.ndim(),
                x.shape()
            );
        }
        for t in all.iter().skip(1) {
            if t.dtype() != x.dtype() {
                bail!(
                    Runtime,
                    "Input type ({}) and {} type ({}) should be the same",
                    scalar_type_name(x.dtype()),
                    if std::ptr::eq(*t, w) {
                        "weight"
                    } else {
                        "bias"
                    },
                    scalar_type_name(t.dtype())
                );
            }
        }
        let (ws, g) = (w.shape(), self.groups);
        if ws[0] < g || ws[0] % g != 0 {
            bail!(
                Runtime,
                "Given groups={g}, expected weight to be divisible by {g} at dimension 0, but \
                 got weight of size {ws:?} instead"
            );
        }
        let kernel = &ws[2..];
        if kernel.contains(&0) {
            bail!(
                Runtime,
                "convolution: kernel size should be greater than zero, but got weight of size \
                 {ws:?}"
            );
        }
        let (cin, cout) = if self.transposed {
            (ws[0], ws[1] * g)
        } else {
            (ws[1] * g, ws[0])
        };
        if x.shape()[1] != cin {
            bail!(
                Runtime,
                "Given {}weight of size {ws:?}, expected input{:?} to have {cin} channels, but \
                 got {} channels instead",
                if self.transposed {
                    "transposed=1, ".to_string()
                } else {
                    format!("groups={g}, ")
                },
                x.shape(),
                x.shape()[1]
            );
        }
        if let Some(b) = b {
            if b.ndim() != 1 || b.shape()[0] != cout {
                bail!(
                    Runtime,
                    "Given weight of size {ws:?}, expected bias to be 1-dimensional with {cout} \
                     elements, but got bias of size {:?} instead",
                    b.shape()
                );
            }
        }
        let size = &x.shape()[2..];
        for i in 0..nd {
            let span = (self.dilation[i] as i64) * (kernel[i] as i64 - 1) + 1;
            let (s, p) = (size[i] as i64, self.padding[i] as i64);
            if self.transposed {
                let (op, st, d) = (self.output_padding[i], self.stride[i], self.dilation[i]);
                if op >= st && op >= d {
                    bail!(
                        Runtime,
                        "output padding must be smaller than either stride or dilation, but \
                         got output_padding={:?} stride={:?} dilation={:?}",
                        self.output_padding,
                        self.stride,
                        self.dilation
                    );
                }
                let out = (s - 1) * st as i64 - 2 * p + span + op as i64;
                if s < 1 || out < 1 {
                    bail!(
                        Runtime,
                        "Given input size per channel: {size:?}. Calculated output size per \
                         channel along dim {i}: {out}. Output size is too small"
                    );
                }
            } else if s + 2 * p < span {
                bail!(
                    Runtime,
                    "Calculated padded input size per channel along dim {i}: {}. Kernel size: \
                     {span}. Kernel size can't be greater than actual input size",
                    s + 2 * p
                );
            } else if self.output_padding.iter().any(|&q| q != 0) {
                bail!(
                    Runtime,
                    "convolution: output_padding is only supported for transposed convolutions"
                );
            }
        }
        let mut out = vec![x.shape()[0], cout];
        out.extend(self.output_size(size, kernel));
        Ok(out)
    }

    /// What cuDNN needs of the parameters.
    fn geometry(&self) -> cudnn_conv::Geometry<'_> {
        cudnn_conv::Geometry {
            stride: &self.stride,
            padding: &self.padding,
            dilation: &self.dilation,
            groups: self.groups,
        }
    }

    /// Whether cuDNN may be asked at all (it can still decline): a CUDA floating problem with
    /// no empty tensor, and for a transposed convolution an output padding below the stride
    /// (cuDNN derives the output size from the input's, which leaves no room for more).
    fn cudnn_may(&self, x: &Tensor, w: &Tensor, y_shape: &[usize]) -> bool {
        x.is_cuda()
            && cudnn::enabled()
            && cudnn::is_available()
            && matches!(
                x.dtype(),
                DType::F16 | DType::BF16 | DType::F32 | DType::F64
            )
            && x.numel() > 0
            && w.numel() > 0
            && y_shape.iter().all(|&n| n > 0)
            && !(self.transposed
                && (0..self.nd()).any(|i| self.output_padding[i] >= self.stride[i]))
    }

    /// The plan of the CPU kernels (`cpu::convolution`), which take a non-transposed f32/f64
    /// convolution with no empty tensor; `None` for the rest, which the tensor-level
    /// formulation (`convolution_gemm`) runs. `x` and `w` are contiguous.
    fn cpu_plan(&self, x: &Tensor, w: &Tensor, y_shape: &[usize]) -> Option<Conv> {
        if x.is_cuda()
            || self.transposed
            || !matches!(x.dtype(), DType::F32 | DType::F64)
            || x.numel() == 0
            || w.numel() == 0
            || y_shape.contains(&0)
        {
            return None;
        }
        let window = Window {
            kernel: w.shape()[2..].to_vec(),
            stride: self.stride.clone(),
            padding: self.padding.clone(),
            dilation: self.dilation.clone(),
        };
        let (size_in, size_out) = (&x.shape()[2..], &y_shape[2..]);
        let c = x.shape()[1];
        Some(Conv {
            n: x.shape()[0],
            groups: self.groups,
            c,
            o: w.shape()[0],
            k: product("convolution", &window.kernel).ok()?,
            l_in: product("convolution", size_in).ok()?,
            l: product("convolution", size_out).ok()?,
            win: window.windows(c, size_in, size_out),
            pointwise: window.kernel.iter().all(|&k| k == 1)
                && self.stride.iter().all(|&s| s == 1)
                && self.padding.iter().all(|&q| q == 0),
            direct: cpu_conv::direct_allowed(),
        })
    }
}

/// Runs `$body` with `$T` bound to f32 or f64, the dtypes of [`ConvParams::cpu_plan`].
macro_rules! dispatch_cpu_conv {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            DType::F32 => {
                type $T = f32;
                $body
            }
            DType::F64 => {
                type $T = f64;
                $body
            }
            _ => unreachable!("cpu_plan takes f32 and f64 only"),
        }
    };
}

/// `convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
/// groups)` without autograd.
pub fn convolution(x: &Tensor, w: &Tensor, b: Option<&Tensor>, p: &ConvParams) -> Result<Tensor> {
    let out_shape = p.check(x, w, b)?;
    let (x, w) = (x.contiguous()?, w.contiguous()?);
    if let Some(cv) = p.cpu_plan(&x, &w, &out_shape) {
        let b = b.map(|b| b.contiguous()).transpose()?;
        // The kernels write every element: no need to clear it first.
        let y = Tensor::empty_unzeroed(&out_shape, x.dtype())?;
        dispatch_cpu_conv!(x.dtype(), T => {
            // SAFETY: contiguous tensors of the dtype `T` and the shapes `cv` was built from
            // (`check` tied x, w and b together and gave `y`'s shape); `y` is fresh.
            unsafe {
                cpu_conv::forward::<T>(
                    x.data_ptr::<T>(),
                    w.data_ptr::<T>(),
                    b.as_ref().map(|b| b.data_ptr::<T>() as *const T),
                    y.data_ptr::<T>(),
                    &cv,
                )?
            }
        });
        return Ok(y);
    }
    let mut y = None;
    if p.cudnn_may(&x, &w, &out_shape) {
        let t = Tensor::empty(&out_shape, x.dtype(), x.device())?;
        let done = if p.transposed {
            cudnn_conv::backward_data(&w, &x, &t, &p.geometry())?
        } else {
            cudnn_conv::forward(&x, &w, &t, &p.geometry())?
        };
        y = done.then_some(t);
    }
    let y = match y {
        Some(y) => y,
        None => gemm::forward(&RawKit, &x, &w, p)?,
    };
    if let (Some(b), true) = (b, y.numel() > 0) {
        let mut shape = vec![b.numel() as i64];
        shape.resize(p.nd() + 1, 1);
        let b = super::shape::reshape(b, &shape)?;
        binary_into(BinaryOp::Add(super::binary::ONE), &y, &b, &y)?;
    }
    Ok(y)
}

/// The spatial and batch dims of an output: what a bias gradient sums over.
pub fn bias_grad_dims(nd: usize) -> Vec<i64> {
    std::iter::once(0).chain(2..nd as i64 + 2).collect()
}

/// The fused backward of [`convolution`]: the gradients of input, weight and bias for the
/// output gradient `gy`, each computed only when `need` asks for it.
pub fn convolution_backward(
    gy: &Tensor,
    x: &Tensor,
    w: &Tensor,
    p: &ConvParams,
    need: [bool; 3],
) -> Result<[Option<Tensor>; 3]> {
    let (gy, x, w) = (gy.contiguous()?, x.contiguous()?, w.contiguous()?);
    let (mut gx, mut gw) = (None, None);
    // The CPU kernels read `gy` by the sizes of the output `x` and `w` give: a gradient of
    // any other shape or dtype takes the tensor-level path, whose ops check their operands.
    let fits = gy.dtype() == x.dtype() && p.check(&x, &w, None).is_ok_and(|s| s == gy.shape());
    if let Some(cv) = p.cpu_plan(&x, &w, gy.shape()).filter(|_| fits) {
        // The kernels write every element of both gradients: no need to clear them first.
        if need[0] {
            let t = Tensor::empty_unzeroed(x.shape(), x.dtype())?;
            dispatch_cpu_conv!(x.dtype(), T => {
                // SAFETY: contiguous tensors of the dtype `T` and the shapes `cv` was built
                // from (`gy`'s checked just above); `t` is fresh.
                unsafe {
                    cpu_conv::backward_input::<T>(gy.data_ptr::<T>(), w.data_ptr::<T>(), t.data_ptr::<T>(), &cv)?
                }
            });
            gx = Some(t);
        }
        if need[1] {
            let t = Tensor::empty_unzeroed(w.shape(), w.dtype())?;
            dispatch_cpu_conv!(x.dtype(), T => {
                // SAFETY: as above.
                unsafe {
                    cpu_conv::backward_weight::<T>(gy.data_ptr::<T>(), x.data_ptr::<T>(), t.data_ptr::<T>(), &cv)?
                }
            });
            gw = Some(t);
        }
    }
    if p.cudnn_may(&x, &w, gy.shape()) {
        let geo = p.geometry();
        if need[0] {
            let t = Tensor::empty(x.shape(), x.dtype(), x.device())?;
            let done = if p.transposed {
                cudnn_conv::forward(&gy, &w, &t, &geo)?
            } else {
                cudnn_conv::backward_data(&w, &gy, &t, &geo)?
            };
            gx = done.then_some(t);
        }
        if need[1] {
            let t = Tensor::empty(w.shape(), w.dtype(), w.device())?;
            let done = if p.transposed {
                cudnn_conv::backward_filter(&gy, &x, &t, &geo)?
            } else {
                cudnn_conv::backward_filter(&x, &gy, &t, &geo)?
            };
            gw = done.then_some(t);
        }
    }
    let rest = [need[0] && gx.is_none(), need[1] && gw.is_none()];
    if rest[0] || rest[1] {
        let (a, b) = gemm::backward(&RawKit, &gy, &x, &w, p, rest)?;
        gx = gx.or(a);
        gw = gw.or(b);
    }
    let gb = if need[2] {
        Some(super::reduce::sum(
            &gy,
            Some(&bias_grad_dims(p.nd())),
            false,
            None,
        )?)
    } else {
        None
    };
    Ok([gx, gw, gb])
}
