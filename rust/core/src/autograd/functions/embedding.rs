//! `embedding` with its rule (`EmbeddingBackward0`): the forward gathers rows of the weight;
//! the backward scatter-adds the output gradient's rows into a zero weight gradient (one
//! `index_add`), skipping `padding_idx` and, with `scale_grad_by_freq`, dividing each row by
//! how often its index occurs in the batch. The backward is written with recorded ops, so it can
//! be differentiated again.

use super::binary::{div, mul};
use super::convert::to_dtype;
use super::index_gather::index_add;
use super::shape::{reshape, unsqueeze};
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::record1;
use crate::error::Result;
use crate::ops::binary::{binary, BinaryOp};
use crate::ops::index_gather as raw;
use crate::ops::index_search::bincount;
use crate::tensor::Tensor;
use crate::{bail, Scalar};

/// `weight[indices]`: `indices.shape + [embedding_dim]`. `padding_idx` (already in
/// `0..num_embeddings`) gets no gradient.
pub fn embedding(
    weight: &Tensor,
    indices: &Tensor,
    padding_idx: Option<i64>,
    scale_grad_by_freq: bool,
) -> Result<Tensor> {
    if weight.ndim() != 2 {
        bail!(
            Runtime,
            "'weight' must be 2-D, but got a weight of size {:?}",
            weight.shape()
        );
    }
    let (num, dim) = (weight.shape()[0], weight.shape()[1]);
    let flat = crate::ops::shape::reshape(indices, &[-1])?;
    let rows = raw::index_select(weight, 0, &flat)?;
    let mut shape: Vec<i64> = indices.shape().iter().map(|&d| d as i64).collect();
    shape.push(dim as i64);
    let out = crate::ops::shape::reshape(&rows, &shape)?;
    if !crate::autograd::record::needs_grad(&[weight]) {
        return Ok(out);
    }
    Ok(record1(
        "EmbeddingBackward0",
        &[weight],
        out,
        vec![Save::Tensor(flat)],
        move |a: &BackwardArgs| {
            let idx = a.saved(0)?;
            let mut g = reshape(&a.grad(0)?, &[-1, dim as i64])?;
            if let Some(p) = padding_idx {
                let pad = Tensor::full(&[], Scalar::Int(p), idx.dtype(), idx.device())?;
                let keep = to_dtype(&binary(BinaryOp::Ne, &idx, &pad)?, g.dtype())?;
                g = mul(&g, &unsqueeze(&keep, 1)?)?;
            }
            if scale_grad_by_freq {
                let counts = bincount(&idx, None, num as i64)?;
                let per_row = to_dtype(&raw::index_select(&counts, 0, &idx)?, g.dtype())?;
                g = div(&g, &unsqueeze(&per_row, 1)?)?;
            }
            let zeros = Tensor::zeros(&[num, dim], g.dtype(), g.device())?;
            Ok(vec![Some(index_add(&zeros, 0, &idx, &g, Scalar::Int(1))?)])
        },
    ))
}
