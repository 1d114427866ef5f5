//! The pointwise part of an LSTM or GRU step as one op (torch's `_thnn_fused_lstm_cell` and
//! `_thnn_fused_gru_cell`), on every device: the gates' activations and the state update after
//! the step's matrix products, forward and backward, each one pass over the elements.

use crate::cpu::rnn as kernels;
use crate::dtype::scalar_type_name;
use crate::error::Result;
use crate::ops::check_same_device;
use crate::tensor::Tensor;
use crate::{bail, dispatch_float};

/// Checks that every one of `states` is `[b, h]` (the first's shape) and every one of `gates`
/// `[b, k * h]`, all of one floating dtype and on one device; returns `(b, h)`.
fn check(op: &str, k: usize, gates: &[&Tensor], states: &[&Tensor]) -> Result<(usize, usize)> {
    let state = states[0];
    if state.ndim() != 2 {
        bail!(
            Runtime,
            "{op}: expected a 2-d (batch, hidden) state, but got shape {:?}",
            state.shape()
        );
    }
    let (b, h) = (state.shape()[0], state.shape()[1]);
    for g in gates {
        if g.shape() != [b, k * h] {
            bail!(
                Runtime,
                "{op}: expected gates of shape [{b}, {}] for a state of shape {:?}, but got {:?}",
                k * h,
                state.shape(),
                g.shape()
            );
        }
    }
    for s in states {
        if s.shape() != state.shape() {
            bail!(
                Runtime,
                "{op}: expected states of shape {:?}, but got {:?}",
                state.shape(),
                s.shape()
            );
        }
    }
    let all: Vec<&Tensor> = gates.iter().chain(states).copied().collect();
    let d = all[0].dtype();
    if !d.is_floating_point() {
        bail!(
            Runtime,
            "\"{op}\" not implemented for '{}'",
            scalar_type_name(d)
        );
    }
    if let Some(t) = all.iter().find(|t| t.dtype() != d) {
        bail!(
            Runtime,
            "{op}: expected every tensor to be {}, but found {}",
            scalar_type_name(d),
            scalar_type_name(t.dtype())
        );
    }
    check_same_device(op, &all)?;
    Ok((b, h))
}

/// `[rows, cols]` tensors like `like`, uninitialised.
fn outputs<const N: usize>(like: &Tensor, shapes: [[usize; 2]; N]) -> Result<[Tensor; N]> {
    let mut out = Vec::with_capacity(N);
    for s in shapes {
        out.push(Tensor::empty(&s, like.dtype(), like.device())?);
    }
    Ok(out.try_into().unwrap_or_else(|_| unreachable!("N tensors")))
}

fn slice<T: crate::element::Element>(t: &Tensor) -> &[T] {
    // SAFETY: callers pass contiguous tensors of element type T; the slice lives no longer
    // than the borrow of `t`, which keeps the storage alive.
    unsafe { std::slice::from_raw_parts(t.data_ptr::<T>() as *const T, t.numel()) }
}

/// LSTM step: from `gates` `[b, 4h]` (the sum of both products and biases, order i, f, g, o)
/// and `cx` `[b, h]`: `(hy, cy, workspace)`.
pub fn lstm_cell(gates: &Tensor, cx: &Tensor) -> Result<[Tensor; 3]> {
    let (b, h) = check("_thnn_fused_lstm_cell", 4, &[gates], &[cx])?;
    let (g, c) = (gates.contiguous()?, cx.contiguous()?);
    let out = outputs(&g, [[b, h], [b, h], [b, 4 * h]])?;
    if g.is_cuda() {
        crate::cuda::rnn::lstm_cell(&g, &c, [&out[0], &out[1], &out[2]], (b, h))?;
    } else {
        dispatch_float!(g.dtype(), T => unsafe {
            // SAFETY: fresh contiguous outputs of the sizes the kernel writes.
            kernels::lstm_forward::<T>(slice(&g), slice(&c),
                (out[0].data_ptr::<T>(), out[1].data_ptr::<T>(), out[2].data_ptr::<T>()), (b, h))
        }, _ => {});
    }
    Ok(out)
}

/// The backward of [`lstm_cell`]: `(dgates, dcx)` from the gradients of `hy` and `cy` (either
/// may be absent), `cx`, `cy` and the workspace.
pub fn lstm_cell_backward(
    dhy: Option<&Tensor>,
    dcy: Option<&Tensor>,
    cx: &Tensor,
    cy: &Tensor,
    ws: &Tensor,
) -> Result<[Tensor; 2]> {
    let states: Vec<&Tensor> = [Some(cx), Some(cy), dhy, dcy]
        .into_iter()
        .flatten()
        .collect();
    let (b, h) = check("_thnn_fused_lstm_cell_backward", 4, &[ws], &states)?;
    let c = |t: &Tensor| t.contiguous();
    let (dh, dc) = (dhy.map(c).transpose()?, dcy.map(c).transpose()?);
    let (cx, cy, ws) = (c(cx)?, c(cy)?, c(ws)?);
    let out = outputs(&ws, [[b, 4 * h], [b, h]])?;
    if ws.is_cuda() {
        crate::cuda::rnn::lstm_cell_backward(
            dh.as_ref(),
            dc.as_ref(),
            &cx,
            &cy,
            &ws,
            [&out[0], &out[1]],
            (b, h),
        )?;
    } else {
        dispatch_float!(ws.dtype(), T => unsafe {
            // SAFETY: fresh contiguous outputs of the sizes the kernel writes.
            kernels::lstm_backward::<T>(dh.as_ref().map(slice), dc.as_ref().map(slice), slice(&cx),
                slice(&cy), slice(&ws), (out[0].data_ptr::<T>(), out[1].data_ptr::<T>()), (b, h))
        }, _ => {});
    }
    Ok(out)
}

/// GRU step: from the input and hidden products `gi`, `gh` `[b, 3h]` (order r, z, n; each with
/// its bias) and `hx` `[b, h]`: `(hy, workspace)`.
pub fn gru_cell(gi: &Tensor, gh: &Tensor, hx: &Tensor) -> Result<[Tensor; 2]> {
    let (b, h) = check("_thnn_fused_gru_cell", 3, &[gi, gh], &[hx])?;
    let (gi, gh, hx) = (gi.contiguous()?, gh.contiguous()?, hx.contiguous()?);
    let out = outputs(&gi, [[b, h], [b, 5 * h]])?;
    if gi.is_cuda() {
        crate::cuda::rnn::gru_cell(&gi, &gh, &hx, [&out[0], &out[1]], (b, h))?;
    } else {
        dispatch_float!(gi.dtype(), T => unsafe {
            // SAFETY: fresh contiguous outputs of the sizes the kernel writes.
            kernels::gru_forward::<T>(slice(&gi), slice(&gh), slice(&hx),
                (out[0].data_ptr::<T>(), out[1].data_ptr::<T>()), (b, h))
        }, _ => {});
    }
    Ok(out)
}

/// The backward of [`gru_cell`]: `(dgi, dgh, dhx)` from the gradient of `hy` and the workspace.
pub fn gru_cell_backward(dhy: &Tensor, ws: &Tensor) -> Result<[Tensor; 3]> {
    let (b, h) = check("_thnn_fused_gru_cell_backward", 5, &[ws], &[dhy])?;
    let (dhy, ws) = (dhy.contiguous()?, ws.contiguous()?);
    let out = outputs(&ws, [[b, 3 * h], [b, 3 * h], [b, h]])?;
    if ws.is_cuda() {
        crate::cuda::rnn::gru_cell_backward(&dhy, &ws, [&out[0], &out[1], &out[2]], (b, h))?;
    } else {
        dispatch_float!(ws.dtype(), T => unsafe {
            // SAFETY: fresh contiguous outputs of the sizes the kernel writes.
            kernels::gru_backward::<T>(slice(&dhy), slice(&ws),
                (out[0].data_ptr::<T>(), out[1].data_ptr::<T>(), out[2].data_ptr::<T>()), (b, h))
        }, _ => {});
    }
    Ok(out)
}
