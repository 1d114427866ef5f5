//! The pointwise part of LSTM and GRU steps on CUDA tensors (`kernels/rnn.cu`). Callers
//! (`ops::rnn`) have checked shapes and dtypes and made every tensor contiguous; outputs are
//! allocated by the caller.

use super::rowwise::defines;
use super::{device_of, launch_config, ptr, Source};
use crate::error::Result;
use crate::tensor::Tensor;

pub const SOURCE: Source = Source {
    name: "rnn",
    text: include_str!("kernels/rnn.cu"),
};

/// `(hy, cy, ws)` into the given outputs, from `gates` `[b, 4h]` and `cx` `[b, h]`.
pub fn lstm_cell(
    gates: &Tensor,
    cx: &Tensor,
    out: [&Tensor; 3],
    (b, h): (usize, usize),
) -> Result<()> {
    let dev = device_of(gates)?;
    if b * h == 0 {
        return Ok(());
    }
    let name = "lstm_cell_k";
    let f = dev.kernel(&SOURCE, &defines(gates.dtype()), name)?;
    let (gp, cp) = (ptr(gates), ptr(cx));
    let [hy, cy, ws] = out.map(ptr);
    let (b64, h64) = (b as i64, h as i64);
    crate::cuda_launch!(dev, f, name, launch_config(dev, b * h); gp, cp, hy, cy, ws, b64, h64)
}

/// `(dgates, dcx)` into the given outputs; `dhy`/`dcy` may be absent (zero).
#[allow(clippy::too_many_arguments)]
pub fn lstm_cell_backward(
    dhy: Option<&Tensor>,
    dcy: Option<&Tensor>,
    cx: &Tensor,
    cy: &Tensor,
    ws: &Tensor,
    out: [&Tensor; 2],
    (b, h): (usize, usize),
) -> Result<()> {
    let dev = device_of(ws)?;
    if b * h == 0 {
        return Ok(());
    }
    let name = "lstm_cell_backward_k";
    let f = dev.kernel(&SOURCE, &defines(ws.dtype()), name)?;
    let (dh, dc) = (dhy.map(ptr).unwrap_or(0), dcy.map(ptr).unwrap_or(0));
    let (cxp, cyp, wp) = (ptr(cx), ptr(cy), ptr(ws));
    let [dg, dcx] = out.map(ptr);
    let (b64, h64) = (b as i64, h as i64);
    crate::cuda_launch!(dev, f, name, launch_config(dev, b * h); dh, dc, cxp, cyp, wp, dg, dcx, b64, h64)
}

/// `(hy, ws)` into the given outputs, from `gi`, `gh` `[b, 3h]` and `hx` `[b, h]`.
pub fn gru_cell(
    gi: &Tensor,
    gh: &Tensor,
    hx: &Tensor,
    out: [&Tensor; 2],
    (b, h): (usize, usize),
) -> Result<()> {
    let dev = device_of(gi)?;
    if b * h == 0 {
        return Ok(());
    }
    let name = "gru_cell_k";
    let f = dev.kernel(&SOURCE, &defines(gi.dtype()), name)?;
    let (ip, hp, xp) = (ptr(gi), ptr(gh), ptr(hx));
    let [hy, ws] = out.map(ptr);
    let (b64, h64) = (b as i64, h as i64);
    crate::cuda_launch!(dev, f, name, launch_config(dev, b * h); ip, hp, xp, hy, ws, b64, h64)
}

/// `(dgi, dgh, dhx)` into the given outputs.
pub fn gru_cell_backward(
    dhy: &Tensor,
    ws: &Tensor,
    out: [&Tensor; 3],
    (b, h): (usize, usize),
) -> Result<()> {
    let dev = device_of(ws)?;
    if b * h == 0 {
        return Ok(());
    }
    let name = "gru_cell_backward_k";
    let f = dev.kernel(&SOURCE, &defines(ws.dtype()), name)?;
    let (dp, wp) = (ptr(dhy), ptr(ws));
    let [di, dh, dx] = out.map(ptr);
    let (b64, h64) = (b as i64, h as i64);
    crate::cuda_launch!(dev, f, name, launch_config(dev, b * h); dp, wp, di, dh, dx, b64, h64)
}

/// Every (source, defines) the RNN program can request.
pub fn specialisations() -> Vec<(Source, Vec<(&'static str, &'static str)>)> {
    super::float_specialisations(SOURCE)
}
