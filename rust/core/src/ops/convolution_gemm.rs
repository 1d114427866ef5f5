//! Convolution as im2col + one batched matrix product per group, and its two gradients.
//!
//! The formulation is written once over a [`Kit`] of tensor ops: [`RawKit`] (the plain ops,
//! for the CPU forward and backward and wherever cuDNN is not used) and the differentiable
//! ops of `autograd::functions::convolution`, used when a backward is itself being recorded
//! (`create_graph=True`), so that it can be differentiated again.
//!
//! With `G` groups, `K = prod(kernel)` and `L` windows, a convolution is
//! `y[n, g] = W[g] (O/G, C/G * K) @ cols[n, g] (C/G * K, L)`; its input gradient is
//! `col2im(W[g]^T @ gy[n, g])` and its weight gradient `sum_n gy[n, g] @ cols[n, g]^T`.
//! A transposed convolution swaps the roles: `col2im(W[g]^T @ x[n, g])` forward.

use super::conv::{self as window_ops, Window};
use super::convolution::ConvParams;
use crate::error::Result;
use crate::tensor::Tensor;

/// The tensor ops the formulation needs.
pub trait Kit {
    fn im2col(&self, x: &Tensor, w: &Window) -> Result<Tensor>;
    fn col2im(&self, cols: &Tensor, size: &[usize], w: &Window) -> Result<Tensor>;
    fn matmul(&self, a: &Tensor, b: &Tensor) -> Result<Tensor>;
    fn reshape(&self, x: &Tensor, shape: &[i64]) -> Result<Tensor>;
    fn transpose(&self, x: &Tensor, d0: i64, d1: i64) -> Result<Tensor>;
    /// Sum over `dims`, dropping them.
    fn sum(&self, x: &Tensor, dims: &[i64]) -> Result<Tensor>;
    fn narrow(&self, x: &Tensor, dim: i64, start: i64, len: i64) -> Result<Tensor>;
    fn cat(&self, ts: &[Tensor], dim: i64) -> Result<Tensor>;
}

/// The plain ops: no graph is recorded.
pub struct RawKit;

impl Kit for RawKit {
    fn im2col(&self, x: &Tensor, w: &Window) -> Result<Tensor> {
        window_ops::im2col(x, w)
    }
    fn col2im(&self, cols: &Tensor, size: &[usize], w: &Window) -> Result<Tensor> {
        window_ops::col2im(cols, size, w)
    }
    fn matmul(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        super::matmul::matmul(a, b)
    }
    fn reshape(&self, x: &Tensor, shape: &[i64]) -> Result<Tensor> {
        super::shape::reshape(x, shape)
    }
    fn transpose(&self, x: &Tensor, d0: i64, d1: i64) -> Result<Tensor> {
        super::shape::transpose(x, d0, d1)
    }
    fn sum(&self, x: &Tensor, dims: &[i64]) -> Result<Tensor> {
        super::reduce::sum(x, Some(dims), false, None)
    }
    fn narrow(&self, x: &Tensor, dim: i64, start: i64, len: i64) -> Result<Tensor> {
        super::shape::narrow(x, dim, start, len)
    }
    fn cat(&self, ts: &[Tensor], dim: i64) -> Result<Tensor> {
        super::shape_copy::cat(ts, dim)
    }
}

fn i64s(v: &[usize]) -> Vec<i64> {
    v.iter().map(|&n| n as i64).collect()
}

/// `[a, b, *rest]` as an i64 shape.
fn shape(lead: &[usize], rest: &[usize]) -> Vec<i64> {
    i64s(&[lead, rest].concat())
}

/// The sizes of one convolution, worked out once.
struct Plan {
    n: usize,
    groups: usize,
    /// Channels per group of the convolution's input and output (for a transposed
    /// convolution, of its `input` and its result).
    cg: usize,
    og: usize,
    k: usize,
    size_in: Vec<usize>,
    size_out: Vec<usize>,
    /// The windows im2col/col2im slide over the larger of the two spatial shapes.
    window: Window,
    /// A 1x1 kernel with unit stride and no padding: the columns are the input itself.
    pointwise: bool,
    /// A transposed convolution whose `output_padding` reaches the stride (allowed below the
    /// dilation): its output has more rows than the window grid covers, so the windows fold
    /// into the unpadded extent `full` and the output is cut out of that.
    full: Option<Vec<usize>>,
    /// The convolution's padding (the window's is zero when `full` is set).
    padding: Vec<usize>,
}

impl Plan {
    fn new(x: &Tensor, w: &Tensor, p: &ConvParams) -> Plan {
        let nd = p.nd();
        let kernel = w.shape()[2..].to_vec();
        let size_in = x.shape()[2..].to_vec();
        let groups = p.groups;
        let (cg, og) = if p.transposed {
            (w.shape()[0] / groups, w.shape()[1])
        } else {
            (w.shape()[1], w.shape()[0] / groups)
        };
        let size_out = p.output_size(&size_in, &kernel);
        let pointwise = kernel.iter().all(|&k| k == 1)
            && p.stride.iter().all(|&s| s == 1)
            && p.padding.iter().all(|&q| q == 0)
            && p.output_padding.iter().all(|&q| q == 0);
        let shifted = p.transposed && (0..nd).any(|i| p.output_padding[i] >= p.stride[i]);
        let window = Window {
            kernel: kernel.clone(),
            stride: p.stride.clone(),
            padding: if shifted {
                vec![0; nd]
            } else {
                p.padding.clone()
            },
            dilation: p.dilation.clone(),
        };
        let full = shifted.then(|| {
            (0..nd)
                .map(|i| (size_in[i] - 1) * p.stride[i] + window.span(i))
                .collect()
        });
        Plan {
            n: x.shape()[0],
            groups,
            cg,
            og,
            k: kernel.iter().product(),
            size_in,
            size_out,
            window,
            pointwise,
            full,
            padding: p.padding.clone(),
        }
    }

    fn l_in(&self) -> usize {
        self.size_in.iter().product()
    }

    fn l_out(&self) -> usize {
        self.size_out.iter().product()
    }

    /// The columns of a convolution's input (N, G, C/G * K, L).
    fn cols<K: Kit>(&self, kit: &K, x: &Tensor) -> Result<Tensor> {
        let (n, g) = (self.n, self.groups);
        let cols = if self.pointwise {
            x.clone()
        } else {
            kit.im2col(x, &self.window)?
        };
        kit.reshape(&cols, &shape(&[n, g, self.cg * self.k], &[self.l_out()]))
    }

    /// The output of a transposed convolution from its columns `(N, O * K, L_in)`.
    fn fold<K: Kit>(&self, kit: &K, cols: &Tensor) -> Result<Tensor> {
        let c = self.og * self.groups;
        if self.pointwise {
            return kit.reshape(cols, &shape(&[self.n, c], &self.size_out));
        }
        match &self.full {
            None => kit.col2im(cols, &self.size_out, &self.window),
            Some(full) => {
                let mut y = kit.col2im(cols, full, &self.window)?;
                for (i, &len) in self.size_out.iter().enumerate() {
                    y = shift(kit, &y, 2 + i, self.padding[i] as i64, len)?;
                }
                Ok(y)
            }
        }
    }

    /// The adjoint of [`Plan::fold`]: the columns `(N, O * K, L_in)` of a gradient of the
    /// transposed convolution's output.
    fn unfold<K: Kit>(&self, kit: &K, gy: &Tensor) -> Result<Tensor> {
        let c = self.og * self.groups;
        if self.pointwise {
            return kit.reshape(gy, &shape(&[self.n, c], &[self.l_in()]));
        }
        match &self.full {
            None => kit.im2col(gy, &self.window),
            Some(full) => {
                let mut g = gy.clone();
                for (i, &len) in full.iter().enumerate() {
                    g = shift(kit, &g, 2 + i, -(self.padding[i] as i64), len)?;
                }
                kit.im2col(&g, &self.window)
            }
        }
    }
}

/// `out[.., j, ..] = t[.., start + j, ..]` along `dim` for `j < len`, zero where that is
/// outside `t`: a crop, a zero extension or both, built from narrow and cat so that it is
/// differentiable with any kit. Its adjoint is the shift by `-start` back to `t`'s length.
fn shift<K: Kit>(kit: &K, t: &Tensor, dim: usize, start: i64, len: usize) -> Result<Tensor> {
    let n = t.shape()[dim] as i64;
    let (a, b) = ((-start).max(0), (len as i64).min(n - start));
    let zeros = |m: i64| -> Result<Tensor> {
        let mut s = t.shape().to_vec();
        s[dim] = m as usize;
        Tensor::zeros(&s, t.dtype(), t.device())
    };
    if b <= a {
        return zeros(len as i64);
    }
    let mut parts = Vec::with_capacity(3);
    if a > 0 {
        parts.push(zeros(a)?);
    }
    parts.push(kit.narrow(t, dim as i64, start + a, b - a)?);
    if (len as i64) > b {
        parts.push(zeros(len as i64 - b)?);
    }
    if parts.len() == 1 {
        return Ok(parts.pop().expect("one part"));
    }
    kit.cat(&parts, dim as i64)
}

/// The convolution (or transposed convolution) of `x` with `w`, without bias.
pub fn forward<K: Kit>(kit: &K, x: &Tensor, w: &Tensor, p: &ConvParams) -> Result<Tensor> {
    let pl = Plan::new(x, w, p);
    let (n, g, cg, og, k) = (pl.n, pl.groups, pl.cg, pl.og, pl.k);
    if !p.transposed {
        let cols = pl.cols(kit, x)?;
        let wm = kit.reshape(w, &i64s(&[g, og, cg * k]))?;
        let y = kit.matmul(&wm, &cols)?; // (N, G, O/G, L)
        return kit.reshape(&y, &shape(&[n, g * og], &pl.size_out));
    }
    let xg = kit.reshape(x, &i64s(&[n, g, cg, pl.l_in()]))?;
    let wm = kit.reshape(w, &i64s(&[g, cg, og * k]))?;
    let cols = kit.matmul(&kit.transpose(&wm, 1, 2)?, &xg)?; // (N, G, O/G * K, L_in)
    let cols = kit.reshape(&cols, &i64s(&[n, g * og * k, pl.l_in()]))?;
    pl.fold(kit, &cols)
}

/// The gradients of [`forward`]'s input and weight (each when `need` says so) for the output
/// gradient `gy`.
pub fn backward<K: Kit>(
    kit: &K,
    gy: &Tensor,
    x: &Tensor,
    w: &Tensor,
    p: &ConvParams,
    need: [bool; 2],
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let pl = Plan::new(x, w, p);
    let (n, g, cg, og, k) = (pl.n, pl.groups, pl.cg, pl.og, pl.k);
    let (mut gx, mut gw) = (None, None);
    if !p.transposed {
        let wm = kit.reshape(w, &i64s(&[g, og, cg * k]))?;
        let gyg = kit.reshape(gy, &i64s(&[n, g, og, pl.l_out()]))?;
        if need[0] {
            let gcols = kit.matmul(&kit.transpose(&wm, 1, 2)?, &gyg)?; // (N, G, C/G * K, L)
            let gcols = kit.reshape(&gcols, &i64s(&[n, g * cg * k, pl.l_out()]))?;
            gx = Some(if pl.pointwise {
                kit.reshape(&gcols, &i64s(x.shape()))?
            } else {
                kit.col2im(&gcols, &pl.size_in, &pl.window)?
            });
        }
        if need[1] {
            let cols = pl.cols(kit, x)?;
            let per_sample = kit.matmul(&gyg, &kit.transpose(&cols, 2, 3)?)?; // (N, G, O/G, C/G * K)
            gw = Some(kit.reshape(&kit.sum(&per_sample, &[0])?, &i64s(w.shape()))?);
        }
        return Ok((gx, gw));
    }
    let gcols = pl.unfold(kit, gy)?;
    let gcols = kit.reshape(&gcols, &i64s(&[n, g, og * k, pl.l_in()]))?;
    if need[0] {
        let wm = kit.reshape(w, &i64s(&[g, cg, og * k]))?;
        let gxg = kit.matmul(&wm, &gcols)?; // (N, G, C/G, L_in)
        gx = Some(kit.reshape(&gxg, &i64s(x.shape()))?);
    }
    if need[1] {
        let xg = kit.reshape(x, &i64s(&[n, g, cg, pl.l_in()]))?;
        let per_sample = kit.matmul(&xg, &kit.transpose(&gcols, 2, 3)?)?; // (N, G, C/G, O/G * K)
        gw = Some(kit.reshape(&kit.sum(&per_sample, &[0])?, &i64s(w.shape()))?);
    }
    Ok((gx, gw))
}
