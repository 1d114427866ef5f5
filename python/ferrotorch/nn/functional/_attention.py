"""Attention, as in ``torch.nn.functional``: ``scaled_dot_product_attention`` and
``multi_head_attention_forward``.

``scaled_dot_product_attention`` runs one fused Rust op (``_C._scaled_dot_product_flash_attention``:
a blocked kernel on CPU, flash-attention kernels on CUDA, with its own backward) for the common
case. On CUDA those kernels run on tensor cores for half precision with head dims of 64 or 128
and no mask (sm_80 and later), else on CUDA cores; for the other half-precision problems with
long sequences, cuBLAS products on tensor cores around a softmax kernel
(``_tensor_core_sdpa``) beat the CUDA-core kernel. And a
composition of differentiable tensor ops (``_composed_sdpa``) for the rest: dropout, batch dims
that broadcast, head counts that differ without ``enable_gqa``, and head dims above 128 on CUDA. ``multi_head_attention_forward`` is written with tensor ops and calls
``scaled_dot_product_attention`` when it needs no attention weights.
"""

import math
import warnings

import ferrotorch as torch
from ferrotorch import _C

from ._activation import softmax
from ._linear import dropout, linear

# How C++ prints a dtype in torch's error messages.
_CPP_DTYPE_NAMES = {
    torch.float32: "float",
    torch.float64: "double",
    torch.float16: "c10::Half",
    torch.bfloat16: "c10::BFloat16",
    torch.bool: "bool",
    torch.int64: "long int",
    torch.int32: "int",
    torch.int16: "short int",
    torch.int8: "signed char",
    torch.uint8: "unsigned char",
}


def _cpp_dtype(dtype):
    return _CPP_DTYPE_NAMES.get(dtype, str(dtype))


def _check_sdpa_inputs(query, key, value, attn_mask):
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_cpp_dtype(query.dtype)} key.dtype: {_cpp_dtype(key.dtype)} and value.dtype: "
            f"{_cpp_dtype(value.dtype)} instead."
        )
    if not str(query.device) == str(key.device) == str(value.device):
        raise RuntimeError(
            "Expected query, key, and value to have the same device type, but got query.device: "
            f"{query.device} key.device: {key.device} and value.device: {value.device} instead."
        )
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
            f"{query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} instead."
        )
    if attn_mask is not None and attn_mask.dtype not in (torch.bool, torch.float32, query.dtype):
        raise RuntimeError(
            "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {_cpp_dtype(attn_mask.dtype)} and  query.dtype: "
            f"{_cpp_dtype(query.dtype)} instead."
        )


def _safe_softmax(scores):
    """Softmax over the last dim that gives 0, not NaN, on a row whose scores are all ``-inf``
    (a fully masked query), as torch's SDPA does; the gradient of such a row is 0 too."""
    if scores.numel() == 0:
        return scores
    # Softmax is shift-invariant: the detached maximum changes no gradient and avoids overflow.
    # A fully masked row has maximum -inf; shifting it by 0 instead keeps its exponentials at 0.
    m = scores.amax(-1, keepdim=True).detach()
    m = m.masked_fill(torch.isneginf(m), 0.0)
    e = torch.exp(scores - m)
    s = e.sum(-1, keepdim=True)
    # Only a fully masked row sums to 0 (any other row holds exp(0) = 1).
    return e / s.masked_fill(s == 0, 1.0)


def _head_matmul(a, b):
    """``a @ b`` where ``a`` has ``Hq`` heads at dim -3 and ``b`` has ``Hq / g`` heads: each group
    of ``g`` consecutive heads of ``a`` shares one head of ``b`` (``b.repeat_interleave(g, -3)``,
    through broadcasting instead of a copy)."""
    hq, hb = a.shape[-3], b.shape[-3]
    if hq == hb:
        return a @ b
    return (a.unflatten(-3, (hb, hq // hb)) @ b.unsqueeze(-3)).flatten(-4, -3)


def _attn_bias(attn_mask, is_causal, L, S, query):
    """The additive bias that ``attn_mask`` or ``is_causal`` stands for (``None`` for neither)."""
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
        # torch aligns the causal mask to the top left: query i sees keys 0..i, whatever S is.
        attn_mask = torch.ones((L, S), dtype=torch.bool, device=query.device).tril()
    if attn_mask is None:
        return None
    if attn_mask.dtype == torch.bool:
        # SDPA's boolean mask says which positions take part (True), the opposite of MHA's.
        zeros = torch.zeros(attn_mask.shape, dtype=query.dtype, device=query.device)
        return zeros.masked_fill(attn_mask.logical_not(), float("-inf"))
    return attn_mask if attn_mask.dtype == query.dtype else attn_mask.to(query.dtype)


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False
):
    r"""``softmax(query @ key^T * scale + bias) @ value``.

    Args:
        query: ``(N, ..., Hq, L, E)``
        key: ``(N, ..., H, S, E)``
        value: ``(N, ..., H, S, Ev)``
        attn_mask: broadcastable to ``(N, ..., Hq, L, S)``. A boolean mask says which positions
            take part in attention (``True``); a float mask is added to the scores.
        dropout_p: dropout probability on the attention weights (applied whenever > 0).
        is_causal: apply a lower-triangular (top-left aligned) mask; excludes ``attn_mask``.
        scale: the scale of the scores. Default: ``1 / sqrt(E)``.
        enable_gqa: grouped-query attention: ``Hq`` a multiple of ``H``, each group of
            ``Hq / H`` query heads sharing one key/value head.

    Returns:
        ``(N, ..., Hq, L, Ev)``. A query row that every key is masked from gives zeros (as
        torch's SDPA), not NaN.
    """
    _check_sdpa_inputs(query, key, value, attn_mask)
    if query.is_cuda and torch.is_autocast_enabled("cuda") and query.dtype == torch.float32:
        fast = torch.get_autocast_dtype("cuda")
        query, key, value = (t.to(fast) if t.dtype == torch.float32 else t for t in (query, key, value))
    if _tensor_core_sdpa_takes(query, key, value, attn_mask, dropout_p, enable_gqa):
        return _tensor_core_sdpa(query, key, value, is_causal, scale)
    if _fused_sdpa_takes(query, key, value, dropout_p, enable_gqa):
        if is_causal and attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
        # The kernel applies the causal mask itself; a boolean mask arrives as a 0/-inf bias.
        bias = _attn_bias(attn_mask, False, query.shape[-2], key.shape[-2], query)
        return _C._scaled_dot_product_flash_attention(query, key, value, bias, is_causal, scale, enable_gqa)
    return _composed_sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)


# The largest head dim the CUDA kernel takes (`MAX_HEAD_DIM` in rust/core/src/cuda/attention.rs).
_CUDA_MAX_HEAD_DIM = 128


def _fused_sdpa_takes(query, key, value, dropout_p, enable_gqa):
    """Whether the fused op takes these (already checked) inputs; the composed path takes the
    rest."""
    if dropout_p > 0.0 or not query.is_floating_point():
        return False
    n = query.dim()
    if key.dim() != n or value.dim() != n:
        return False
    # The kernel indexes batch dims, it does not broadcast them.
    if tuple(key.shape[:-3]) != tuple(query.shape[:-3]) or tuple(value.shape[:-3]) != tuple(query.shape[:-3]):
        return False
    if key.shape[-2] != value.shape[-2] or key.shape[-1] != query.shape[-1]:
        return False
    if n >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hk != hv or (hq != hk and not (enable_gqa and hk > 0 and hq % hk == 0)):
            return False
    if query.is_cuda and max(query.shape[-1], value.shape[-1]) > _CUDA_MAX_HEAD_DIM:
        return False
    return True


# From this many scores per head on, CUDA half-precision attention that the fused op would run
# on CUDA cores runs as cuBLAS products on tensor cores around a softmax kernel, which costs less
# than the CUDA-core kernel once the sequences are long.
_TENSOR_CORE_MIN_SCORES = 256 * 256


def _tensor_core_sdpa_takes(query, key, value, attn_mask, dropout_p, enable_gqa):
    return (
        query.is_cuda
        and query.dtype in (torch.float16, torch.bfloat16)
        and attn_mask is None
        and dropout_p == 0.0
        and query.dim() >= 3
        and key.dim() == query.dim() == value.dim()
        and tuple(key.shape[:-2]) == tuple(query.shape[:-2]) == tuple(value.shape[:-2])
        and key.shape[-2] == value.shape[-2]
        and key.shape[-1] == query.shape[-1]
        and query.shape[-2] * key.shape[-2] >= _TENSOR_CORE_MIN_SCORES
        and not _C._flash_attention_takes(query, value, attn_mask is not None)
    )


def _tensor_core_sdpa(query, key, value, is_causal, scale):
    """Attention as two batched products and a softmax, each on its own kernel (the scores are
    materialised in the inputs' dtype; the softmax computes in float32 and applies the causal
    mask itself). Without a mask, or with the causal one, every query row sees at least one key,
    so no row is fully masked."""
    scale_factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    # One op to autocast, as in torch: its parts run in the inputs' dtype, with no casts of the
    # scores to float32 and back.
    with torch.autocast("cuda", enabled=False):
        scores = (query * scale_factor) @ key.transpose(-2, -1)
        attn = _C._causal_softmax(scores) if is_causal else softmax(scores, -1)
        return attn @ value


def _composed_sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa):
    """``scaled_dot_product_attention`` with differentiable tensor ops (materialises the
    ``L x S`` attention matrix)."""
    L, S = query.shape[-2], key.shape[-2]
    bias = _attn_bias(attn_mask, is_causal, L, S, query)
    scale_factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa and query.dim() >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hq % hk or hq % hv:
            raise RuntimeError(
                "Number of heads in key and value must divide the number of heads in query; got "
                f"query heads {hq}, key heads {hk} and value heads {hv}"
            )
        matmul = _head_matmul
    else:
        matmul = torch.matmul
    # Scaling the query (L x E) before the product is cheaper than scaling the scores (L x S)
    # and keeps half-precision products from overflowing.
    scores = matmul(query * scale_factor, key.transpose(-2, -1))
    if bias is not None:
        if tuple(torch.broadcast_shapes(bias.shape, scores.shape)) != tuple(scores.shape):
            raise RuntimeError(
                f"attn_mask of shape {list(bias.shape)} cannot be broadcast to the attention scores' "
                f"shape {list(scores.shape)}"
            )
        scores = scores + bias
    attn = _safe_softmax(scores)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, training=True)
    return matmul(attn, value)


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Checks the ranks of the inputs of ``multi_head_attention_forward``; returns whether the
    input is batched."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but found "
                f"{key_padding_mask.dim()}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.dim()}-D tensor instead"
            )
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but found "
                f"{key_padding_mask.dim()}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                    f"{attn_mask.dim()}-D tensor instead"
                )
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(
        f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query tensor"
    )


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A boolean mask (``True`` = masked out) as an additive float mask of ``target_type``; a float
    mask unchanged."""
    if mask is None:
        return None
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both instead.",
            stacklevel=3,
        )
    if mask.dtype == torch.bool:
        mask = torch.zeros(mask.shape, dtype=target_type, device=mask.device).masked_fill(mask, float("-inf"))
    return mask


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, torch.Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _in_projection_packed(q, k, v, w, b=None):
    """Projects ``q, k, v`` with the packed ``(3E, E)`` weight, with one product where the inputs
    are the same tensor."""
    E = q.shape[-1]
    if k is v:
        if q is k:
            return linear(q, w, b).chunk(3, dim=-1)
        w_q, w_kv = w.split([E, 2 * E])
        b_q, b_kv = (None, None) if b is None else b.split([E, 2 * E])
        return (linear(q, w_q, b_q),) + tuple(linear(k, w_kv, b_kv).chunk(2, dim=-1))
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """Projects ``q, k, v`` with separate weights (key and value dims may differ from query's)."""
    Eq, Ek, Ev = q.shape[-1], k.shape[-1], v.shape[-1]
    for name, t, shape in (
        ("query weights", w_q, (Eq, Eq)),
        ("key weights", w_k, (Eq, Ek)),
        ("value weights", w_v, (Eq, Ev)),
        ("query bias", b_q, (Eq,)),
        ("key bias", b_k, (Eq,)),
        ("value bias", b_v, (Eq,)),
    ):
        if t is not None and tuple(t.shape) != shape:
            raise AssertionError(f"expecting {name} shape of {shape}, but got {t.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _pad_last(t):
    """``t`` with one more zero column on its last dim (for the extra key of bias_kv / zero_attn)."""
    return torch.cat([t, torch.zeros(list(t.shape[:-1]) + [1], dtype=t.dtype, device=t.device)], dim=-1)


def _static_kv(static, bsz, num_heads, head_dim, name):
    if static.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static


def multi_head_attention_forward(
    query,
    key,
    value,
    embed_dim_to_check,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    dropout_p,
    out_proj_weight,
    out_proj_bias,
    training=True,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    use_separate_proj_weight=False,
    q_proj_weight=None,
    k_proj_weight=None,
    v_proj_weight=None,
    static_k=None,
    static_v=None,
    average_attn_weights=True,
    is_causal=False,
):
    r"""Multi-head attention; see :class:`~ferrotorch.nn.MultiheadAttention`.

    Shape:
        - query ``(L, N, E)``, key ``(S, N, Ek)``, value ``(S, N, Ev)``; unbatched: ``(L, E)`` etc.
        - key_padding_mask ``(N, S)`` or ``(S)``: ``True`` (or a float added to the scores) where
          a key is padding.
        - attn_mask ``(L, S)`` or ``(N * num_heads, L, S)``: ``True`` where attention is not
          allowed, or a float added to the scores.
        - static_k, static_v ``(N * num_heads, S, E / num_heads)``: keys/values used as they are.

    Returns:
        ``attn_output`` ``(L, N, E)``, and with ``need_weights`` the attention weights
        ``(N, L, S)`` (averaged over heads) or ``(N, num_heads, L, S)``, else ``None``.
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)

    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]

    key_padding_mask = _canonical_mask(
        key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask", query.dtype
    )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
            "method `generate_square_subsequent_mask` to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        # Nothing else to merge into the mask: SDPA applies the causal mask itself.
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            # Once the padding is merged in, the mask is no longer purely causal.
            is_causal = False

    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:2]} do not match value's {value.shape[:2]}"
            )
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (("q_proj_weight", q_proj_weight), ("k_proj_weight", k_proj_weight),
                        ("v_proj_weight", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name} is None")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be {(tgt_len, src_len)}."
                )
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                    f"{(bsz * num_heads, tgt_len, src_len)}."
                )
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = torch.cat([k, bias_k.repeat(1, bsz, 1)])
        v = torch.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be given or both be None")

    # Heads become part of the batch: (L, N, E) -> (N * num_heads, L, head_dim).
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    if static_k is None:
        k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        k = _static_kv(static_k, bsz, num_heads, head_dim, "static_k")
    if static_v is None:
        v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        v = _static_kv(static_v, bsz, num_heads, head_dim, "static_v")

    if add_zero_attn:
        zeros = torch.zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k = torch.cat([k, zeros], dim=1)
        v = torch.cat([v, zeros], dim=1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)

    src_len = k.shape[1]

    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got {key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(
                f"Expected key_padded_mask.shape[1] to be {src_len}, but got {key_padding_mask.shape[1]}"
            )
        key_padding_mask = (
            key_padding_mask.reshape(bsz, 1, 1, src_len)
            .expand(bsz, num_heads, 1, src_len)
            .reshape(bsz * num_heads, 1, src_len)
        )
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask

    if not training:
        dropout_p = 0.0

    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        scores = torch.bmm(q_scaled, k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        # torch's weights path uses a plain softmax: a fully masked row gives NaN here.
        weights = softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        attn_output = torch.bmm(weights, v)
        attn_output = attn_output.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        attn_output = linear(attn_output, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            attn_output, weights = attn_output.squeeze(1), weights.squeeze(0)
        return attn_output, weights

    if attn_mask is not None:
        # (1, L, S) -> (1, 1, L, S); (N * num_heads, L or 1, S) -> (N, num_heads, L or 1, S).
        if attn_mask.shape[0] == 1:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    attn_output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    attn_output = attn_output.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    attn_output = linear(attn_output, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not is_batched:
        attn_output = attn_output.squeeze(1)
    return attn_output, None


__all__ = ["_canonical_mask", "_none_or_dtype", "multi_head_attention_forward", "scaled_dot_product_attention"]
