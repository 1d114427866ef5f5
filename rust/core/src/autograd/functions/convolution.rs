//! `convolution` with its rule `ConvolutionBackward0` (saving input and weight, as torch).
//!
//! The rule runs the fused backward (cuDNN or im2col + products). When the backward is itself
//! being recorded (`create_graph=True` with a gradient, input or weight that requires grad),
//! it computes the same gradients with the differentiable im2col/col2im, matmul and shape ops
//! instead, so the result can be differentiated again.

use super::conv::{col2im, im2col};
use super::matmul::matmul;
use super::reduce::sum;
use super::shape::{narrow, reshape, transpose};
use super::shape_copy::cat;
use super::when;
use crate::autograd::autocast;
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record1};
use crate::error::Result;
use crate::ops::conv::Window;
use crate::ops::convolution::{self as raw, ConvParams};
use crate::ops::convolution_gemm::{self as gemm, Kit};
use crate::tensor::Tensor;

/// The differentiable ops, for a recorded backward.
struct DiffKit;

impl Kit for DiffKit {
    fn im2col(&self, x: &Tensor, w: &Window) -> Result<Tensor> {
        im2col(x, w)
    }
    fn col2im(&self, cols: &Tensor, size: &[usize], w: &Window) -> Result<Tensor> {
        col2im(cols, size, w)
    }
    fn matmul(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        matmul(a, b)
    }
    fn reshape(&self, x: &Tensor, shape: &[i64]) -> Result<Tensor> {
        reshape(x, shape)
    }
    fn transpose(&self, x: &Tensor, d0: i64, d1: i64) -> Result<Tensor> {
        transpose(x, d0, d1)
    }
    fn sum(&self, x: &Tensor, dims: &[i64]) -> Result<Tensor> {
        sum(x, Some(dims), false, None)
    }
    fn narrow(&self, x: &Tensor, dim: i64, start: i64, len: i64) -> Result<Tensor> {
        narrow(x, dim, start, len)
    }
    fn cat(&self, ts: &[Tensor], dim: i64) -> Result<Tensor> {
        cat(ts, dim)
    }
}

/// `convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
/// groups)` over a batched `(N, C, *spatial)` input with 1 to 3 spatial dims.
pub fn convolution(x: &Tensor, w: &Tensor, b: Option<&Tensor>, p: &ConvParams) -> Result<Tensor> {
    if let Some([Some(x), Some(w), b]) = autocast::lower([Some(x), Some(w), b])? {
        return convolution(&x, &w, b.as_ref(), p);
    }
    let out = raw::convolution(x, w, b, p)?;
    let inputs: Vec<&Tensor> = [Some(x), Some(w), b].into_iter().flatten().collect();
    if !needs_grad(&inputs) {
        return Ok(out);
    }
    let (p, has_bias) = (p.clone(), b.is_some());
    let saves = vec![Save::Tensor(x.clone()), Save::Tensor(w.clone())];
    Ok(record1(
        "ConvolutionBackward0",
        &inputs,
        out,
        saves,
        move |a: &BackwardArgs| {
            let (g, x, w) = (a.grad(0)?, a.saved(0)?, a.saved(1)?);
            let need = [a.needs(0), a.needs(1), has_bias && a.needs(2)];
            let [gx, gw, gb] = if needs_grad(&[&g, &x, &w]) {
                let (gx, gw) = gemm::backward(&DiffKit, &g, &x, &w, &p, [need[0], need[1]])?;
                let dims = raw::bias_grad_dims(p.nd());
                let gb = when(need[2], || sum(&g, Some(&dims), false, None))?;
                [gx, gw, gb]
            } else {
                raw::convolution_backward(&g, &x, &w, &p, need)?
            };
            let mut grads = vec![gx, gw];
            if has_bias {
                grads.push(gb);
            }
            Ok(grads)
        },
    ))
}
