//! The fused LSTM and GRU step (`ThnnFusedLstmCellBackward0`, `ThnnFusedGruCellBackward0`):
//! the rule runs the fused backward kernel from the saved workspace; when the backward is
//! itself being recorded (`create_graph=True`) it recomputes the step from the saved inputs with
//! differentiable ops and differentiates that, so it can be differentiated again.

use super::binary::{add, mul, sub};
use super::number;
use super::shape::chunk;
use super::shape_copy::cat;
use super::unary::{sigmoid, tanh};
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record};
use crate::error::Result;
use crate::ops::rnn as raw;
use crate::tensor::Tensor;

/// `1 - t`.
fn one_minus(t: &Tensor) -> Result<Tensor> {
    sub(&number(1.0)?, t)
}

/// The four gates' slices of a `[b, 4h]` (or `[b, 3h]`) block.
fn gates_of(t: &Tensor, k: i64) -> Result<Vec<Tensor>> {
    chunk(t, k, 1)
}

/// LSTM step: `(hy, cy)` from `gates` `[b, 4h]` (pre-activation i, f, g, o) and `cx` `[b, h]`.
pub fn lstm_cell(gates: &Tensor, cx: &Tensor) -> Result<(Tensor, Tensor)> {
    let [hy, cy, ws] = raw::lstm_cell(gates, cx)?;
    if !needs_grad(&[gates, cx]) {
        return Ok((hy, cy));
    }
    let saves = vec![
        Save::Tensor(gates.clone()),
        Save::Tensor(cx.clone()),
        Save::Tensor(ws),
        Save::Output(1),
    ];
    let out = record(
        "ThnnFusedLstmCellBackward0",
        &[gates, cx],
        vec![hy, cy],
        saves,
        |a: &BackwardArgs| {
            let (gates, cx, ws, cy) = (a.saved(0)?, a.saved(1)?, a.saved(2)?, a.saved(3)?);
            let (dhy, dcy) = (a.grads[0].clone(), a.grads[1].clone());
            let recorded =
                needs_grad(&[&gates, &cx]) || dhy.iter().chain(&dcy).any(|g| needs_grad(&[g]));
            let [dgates, dcx] = if recorded {
                let (dh, dc) = (a.grad(0)?, a.grad(1)?);
                lstm_composed(&gates, &cx, &dh, &dc)?
            } else {
                raw::lstm_cell_backward(dhy.as_ref(), dcy.as_ref(), &cx, &cy, &ws)?
            };
            Ok(vec![Some(dgates), Some(dcx)])
        },
    );
    let mut it = out.into_iter();
    Ok((it.next().expect("hy"), it.next().expect("cy")))
}

/// The LSTM step's gradients written with differentiable ops.
fn lstm_composed(gates: &Tensor, cx: &Tensor, dh: &Tensor, dc: &Tensor) -> Result<[Tensor; 2]> {
    let g4 = gates_of(gates, 4)?;
    let (i, f) = (sigmoid(&g4[0])?, sigmoid(&g4[1])?);
    let (g, o) = (tanh(&g4[2])?, sigmoid(&g4[3])?);
    let cy = add(&mul(&f, cx)?, &mul(&i, &g)?)?;
    let tc = tanh(&cy)?;
    let dc = add(dc, &mul(&mul(dh, &o)?, &one_minus(&mul(&tc, &tc)?)?)?)?;
    let dsig = |d: Tensor, s: &Tensor| -> Result<Tensor> { mul(&mul(&d, s)?, &one_minus(s)?) };
    let di = dsig(mul(&dc, &g)?, &i)?;
    let df = dsig(mul(&dc, cx)?, &f)?;
    let dg = mul(&mul(&dc, &i)?, &one_minus(&mul(&g, &g)?)?)?;
    let d_o = dsig(mul(dh, &tc)?, &o)?;
    Ok([cat(&[di, df, dg, d_o], 1)?, mul(&dc, &f)?])
}

/// GRU step: `hy` from the input and hidden products `gi`, `gh` `[b, 3h]` (r, z, n, biases
/// included) and `hx` `[b, h]`.
pub fn gru_cell(gi: &Tensor, gh: &Tensor, hx: &Tensor) -> Result<Tensor> {
    let [hy, ws] = raw::gru_cell(gi, gh, hx)?;
    if !needs_grad(&[gi, gh, hx]) {
        return Ok(hy);
    }
    let saves = vec![
        Save::Tensor(gi.clone()),
        Save::Tensor(gh.clone()),
        Save::Tensor(hx.clone()),
        Save::Tensor(ws),
    ];
    let out = record(
        "ThnnFusedGruCellBackward0",
        &[gi, gh, hx],
        vec![hy],
        saves,
        |a: &BackwardArgs| {
            let (gi, gh, hx, ws) = (a.saved(0)?, a.saved(1)?, a.saved(2)?, a.saved(3)?);
            let dhy = a.grad(0)?;
            let [dgi, dgh, dhx] = if needs_grad(&[&gi, &gh, &hx, &dhy]) {
                gru_composed(&gi, &gh, &hx, &dhy)?
            } else {
                raw::gru_cell_backward(&dhy, &ws)?
            };
            Ok(vec![Some(dgi), Some(dgh), Some(dhx)])
        },
    );
    Ok(out.into_iter().next().expect("hy"))
}

/// The GRU step's gradients written with differentiable ops.
fn gru_composed(gi: &Tensor, gh: &Tensor, hx: &Tensor, d: &Tensor) -> Result<[Tensor; 3]> {
    let (a, c) = (gates_of(gi, 3)?, gates_of(gh, 3)?);
    let r = sigmoid(&add(&a[0], &c[0])?)?;
    let z = sigmoid(&add(&a[1], &c[1])?)?;
    let n = tanh(&add(&a[2], &mul(&r, &c[2])?)?)?;
    let dn = mul(&mul(d, &one_minus(&z)?)?, &one_minus(&mul(&n, &n)?)?)?;
    let dz = mul(&mul(&mul(d, &sub(hx, &n)?)?, &z)?, &one_minus(&z)?)?;
    let dr = mul(&mul(&mul(&dn, &c[2])?, &r)?, &one_minus(&r)?)?;
    let dgh_n = mul(&dn, &r)?;
    Ok([
        cat(&[dr.clone(), dz.clone(), dn], 1)?,
        cat(&[dr, dz, dgh_n], 1)?,
        mul(d, &z)?,
    ])
}
