"""MultiheadAttention."""

import ferrotorch as torch

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module


class NonDynamicallyQuantizableLinear(Linear):
    r"""A :class:`Linear` that quantisation passes leave alone (torch's type for
    ``MultiheadAttention.out_proj``); it computes exactly what ``Linear`` does."""


class MultiheadAttention(Module):
    r"""Multi-head attention: ``MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O`` with
    ``head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)``.

    Args:
        embed_dim: total dimension of the model (split across ``num_heads``).
        num_heads: number of parallel heads; must divide ``embed_dim``.
        dropout: dropout probability on the attention weights. Default: ``0.0``.
        bias: whether the input and output projections have biases. Default: ``True``.
        add_bias_kv: learn one extra key and value appended to the sequences. Default: ``False``.
        add_zero_attn: append a zero key and value to the sequences. Default: ``False``.
        kdim: features of the keys. Default: ``embed_dim``.
        vdim: features of the values. Default: ``embed_dim``.
        batch_first: inputs and outputs are ``(N, L, E)`` instead of ``(L, N, E)``.
            Default: ``False``.

    When ``kdim`` and ``vdim`` equal ``embed_dim`` the three input projections are one packed
    ``in_proj_weight`` ``(3 * embed_dim, embed_dim)``; otherwise they are ``q_proj_weight``,
    ``k_proj_weight`` and ``v_proj_weight``.

    Example::

        >>> attn = nn.MultiheadAttention(16, 4)
        >>> x = torch.randn(5, 2, 16)
        >>> out, weights = attn(x, x, x)
    """

    __constants__ = ["batch_first"]

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        kw = {"device": device, "dtype": dtype}
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(torch.empty((embed_dim, embed_dim), **kw))
            self.k_proj_weight = Parameter(torch.empty((embed_dim, self.kdim), **kw))
            self.v_proj_weight = Parameter(torch.empty((embed_dim, self.vdim), **kw))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(torch.empty((3 * embed_dim, embed_dim), **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(torch.empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(torch.empty((1, 1, embed_dim), **kw))
            self.bias_v = Parameter(torch.empty((1, 1, embed_dim), **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        # out_proj.weight keeps Linear's initialisation, as in torch.
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        r"""
        Args:
            query: ``(L, E)``, ``(L, N, E)``, or ``(N, L, E)`` with ``batch_first``.
            key: ``(S, kdim)``, ``(S, N, kdim)`` or ``(N, S, kdim)``.
            value: ``(S, vdim)``, ``(S, N, vdim)`` or ``(N, S, vdim)``.
            key_padding_mask: ``(N, S)`` or ``(S)``; ``True`` (or a float added to the scores)
                marks keys to ignore.
            need_weights: also return the attention weights. Default: ``True``.
            attn_mask: ``(L, S)`` or ``(N * num_heads, L, S)``; ``True`` where attention is not
                allowed, or a float added to the scores.
            average_attn_weights: average the returned weights over heads. Default: ``True``.
            is_causal: hint that ``attn_mask`` is the causal mask.

        Returns:
            ``attn_output`` shaped like ``query`` (with ``embed_dim`` features), and the weights
            ``(N, L, S)`` (``(N, num_heads, L, S)`` without averaging) or ``None``.
        """
        is_batched = query.dim() == 3
        key_padding_mask = F._canonical_mask(
            key_padding_mask, "key_padding_mask", F._none_or_dtype(attn_mask), "attn_mask", query.dtype
        )
        attn_mask = F._canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)

        if self.batch_first and is_batched:
            # Keep `query is key is value` true after the transpose: the packed projection uses it.
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))

        separate = not self._qkv_same_embed_dim
        attn_output, attn_output_weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=separate,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
        if self.batch_first and is_batched:
            return attn_output.transpose(1, 0), attn_output_weights
        return attn_output, attn_output_weights

    def merge_masks(self, attn_mask, key_padding_mask, query):
        r"""Combines ``attn_mask`` and ``key_padding_mask`` (both additive) for a batch-first
        self-attention ``query`` ``(N, L, E)``.

        Returns:
            ``(merged_mask, mask_type)``: the padding mask alone with type 1; an attention mask
            expanded to ``(N, num_heads, L, L)``, plus the padding mask if given, with type 2;
            ``(None, None)`` without masks.
        """
        mask_type = None
        merged_mask = None
        if key_padding_mask is not None:
            mask_type = 1
            merged_mask = key_padding_mask
        if attn_mask is not None:
            batch_size, seq_len, _ = query.shape
            mask_type = 2
            if attn_mask.dim() == 3:
                attn_mask_expanded = attn_mask.reshape(batch_size, -1, seq_len, seq_len)
            else:
                attn_mask_expanded = attn_mask.reshape(1, 1, seq_len, seq_len).expand(
                    batch_size, self.num_heads, seq_len, seq_len
                )
            merged_mask = attn_mask_expanded
            if key_padding_mask is not None:
                padding = key_padding_mask.reshape(batch_size, 1, 1, seq_len).expand(
                    batch_size, self.num_heads, 1, seq_len
                )
                merged_mask = attn_mask_expanded + padding
        return merged_mask, mask_type


__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]
