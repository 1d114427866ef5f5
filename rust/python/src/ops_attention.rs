//! Binding of the fused scaled-dot-product attention that `nn.functional` calls. No math here.

use crate::errors::IntoPyResult;
use crate::tensor::{wrap, PyTensor};
use ferrotorch_core::autograd::functions::attention as fa;
use pyo3::prelude::*;

/// `_C._scaled_dot_product_flash_attention(query, key, value, attn_bias=None, is_causal=False,
/// scale=None, enable_gqa=False)`: `softmax(query @ key^T * scale + attn_bias) @ value` by one
/// fused kernel (the attention matrix is never materialised), recorded as
/// `ScaledDotProductFlashAttention[ForCpu]Backward0`. `attn_bias` is an additive float mask of
/// the query's dtype, broadcastable to the scores.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (query, key, value, attn_bias=None, is_causal=false, scale=None, enable_gqa=false))]
fn _scaled_dot_product_flash_attention(
    py: Python<'_>,
    query: PyRef<'_, PyTensor>,
    key: PyRef<'_, PyTensor>,
    value: PyRef<'_, PyTensor>,
    attn_bias: Option<PyRef<'_, PyTensor>>,
    is_causal: bool,
    scale: Option<f64>,
    enable_gqa: bool,
) -> PyResult<Py<PyTensor>> {
    let (q, k, v) = (query.inner.clone(), key.inner.clone(), value.inner.clone());
    let bias = attn_bias.map(|b| b.inner.clone());
    let (out, _lse) = py
        .detach(|| {
            fa::scaled_dot_product_flash_attention(
                &q,
                &k,
                &v,
                bias.as_ref(),
                is_causal,
                scale,
                enable_gqa,
            )
        })
        .py()?;
    wrap(py, out)
}

/// `_C._flash_attention_takes(query, value, masked)`: whether the fused op runs these CUDA
/// inputs on its tensor-core kernels (`nn.functional` picks its path for the others by it).
#[pyfunction]
fn _flash_attention_takes(
    query: PyRef<'_, PyTensor>,
    value: PyRef<'_, PyTensor>,
    masked: bool,
) -> bool {
    ferrotorch_core::cuda::attention::on_tensor_cores(&query.inner, &value.inner, masked)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_scaled_dot_product_flash_attention, m)?)?;
    m.add_function(wrap_pyfunction!(_flash_attention_takes, m)?)
}
