"""Transformer, TransformerEncoder(Layer) and TransformerDecoder(Layer) against NumPy references
computed with the modules' own weights."""

import math

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn.functional as F
from ferrotorch.autograd import gradcheck
from ferrotorch.nn.modules.activation import GELU
from ferrotorch.nn.modules.linear import Linear
from ferrotorch.nn.modules.normalization import LayerNorm
from ferrotorch.nn.modules.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from helpers import assert_close_np, to_np

NEG_INF = -np.inf
F64 = torch.float64


# ---------------------------------------------------------------------------------------------
# NumPy references
# ---------------------------------------------------------------------------------------------


def np_layer_norm(x, w, b, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def np_gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def np_relu(x):
    return np.maximum(x, 0.0)


def np_mha(query, key, value, num_heads, p, key_padding_mask=None, attn_mask=None):
    """(L, N, E) multi-head attention, head by head; ``p`` maps torch's parameter names to arrays.
    Masks: bool True = masked out, float = added."""
    L, N, E = query.shape
    hd = E // num_heads
    w_q, w_k, w_v = np.split(p["in_proj_weight"], 3)
    b_q, b_k, b_v = np.split(p["in_proj_bias"], 3)
    q, k, v = query @ w_q.T + b_q, key @ w_k.T + b_k, value @ w_v.T + b_v
    out = np.zeros((L, N, E))
    for n in range(N):
        for h in range(num_heads):
            sl = slice(h * hd, (h + 1) * hd)
            s = q[:, n, sl] @ k[:, n, sl].T / math.sqrt(hd)
            if attn_mask is not None:
                m = attn_mask if attn_mask.ndim == 2 else attn_mask[n * num_heads + h]
                s = s + (np.where(m, NEG_INF, 0.0) if m.dtype == bool else m)
            if key_padding_mask is not None:
                kpm = key_padding_mask[n]
                s = s + (np.where(kpm, NEG_INF, 0.0) if kpm.dtype == bool else kpm)
            e = np.exp(s - s.max(-1, keepdims=True))
            out[:, n, sl] = (e / e.sum(-1, keepdims=True)) @ v[:, n, sl]
    return out @ p["out_proj.weight"].T + p["out_proj.bias"]


def sub(p, prefix):
    return {k[len(prefix):]: v for k, v in p.items() if k.startswith(prefix)}


def np_encoder_layer(x, p, H, norm_first, act=np_relu, mask=None, kpm=None, eps=1e-5):
    def sa(y):
        return np_mha(y, y, y, H, sub(p, "self_attn."), kpm, mask)

    def ff(y):
        return act(y @ p["linear1.weight"].T + p["linear1.bias"]) @ p["linear2.weight"].T + p["linear2.bias"]

    def ln(i, y):
        return np_layer_norm(y, p[f"norm{i}.weight"], p[f"norm{i}.bias"], eps)

    if norm_first:
        x = x + sa(ln(1, x))
        return x + ff(ln(2, x))
    x = ln(1, x + sa(x))
    return ln(2, x + ff(x))


def np_decoder_layer(x, mem, p, H, norm_first, act=np_relu, tgt_mask=None, memory_mask=None, tgt_kpm=None,
                     mem_kpm=None):
    def sa(y):
        return np_mha(y, y, y, H, sub(p, "self_attn."), tgt_kpm, tgt_mask)

    def ca(y):
        return np_mha(y, mem, mem, H, sub(p, "multihead_attn."), mem_kpm, memory_mask)

    def ff(y):
        return act(y @ p["linear1.weight"].T + p["linear1.bias"]) @ p["linear2.weight"].T + p["linear2.bias"]

    def ln(i, y):
        return np_layer_norm(y, p[f"norm{i}.weight"], p[f"norm{i}.bias"])

    if norm_first:
        x = x + sa(ln(1, x))
        x = x + ca(ln(2, x))
        return x + ff(ln(3, x))
    x = ln(1, x + sa(x))
    x = ln(2, x + ca(x))
    return ln(3, x + ff(x))


def randomize(module, rng):
    """Random values in every parameter (the default init leaves norms at 1 and biases at 0, which
    would hide mistakes); returns the parameters as NumPy arrays by state_dict name."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.5, dtype=p.dtype, device=p.device))
    return {k: to_np(v) for k, v in module.state_dict().items()}


def t(arr, device, dtype=F64):
    return torch.tensor(np.asarray(arr), dtype=dtype, device=device)


# ---------------------------------------------------------------------------------------------
# Layers against NumPy
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_numpy(device, rng, norm_first, batch_first):
    E, H, S, N = 8, 2, 4, 3
    layer = TransformerEncoderLayer(E, H, dim_feedforward=16, dropout=0.1, norm_first=norm_first,
                                    batch_first=batch_first, device=device, dtype=F64).eval()
    p = randomize(layer, rng)
    x = rng.standard_normal((S, N, E))
    mask = rng.standard_normal((S, S))
    kpm = np.zeros((N, S), dtype=bool)
    kpm[1, 2:] = True
    expected = np_encoder_layer(x, p, H, norm_first, mask=mask, kpm=np.where(kpm, NEG_INF, 0.0))
    xin = x.transpose(1, 0, 2) if batch_first else x
    out = layer(t(xin, device), src_mask=t(mask, device), src_key_padding_mask=t(np.where(kpm, NEG_INF, 0.0), device))
    assert_close_np(out, expected.transpose(1, 0, 2) if batch_first else expected)
    # Without masks, and on an unbatched sequence.
    assert_close_np(layer(t(xin, device)), (lambda r: r.transpose(1, 0, 2) if batch_first else r)(
        np_encoder_layer(x, p, H, norm_first)))
    assert_close_np(layer(t(x[:, 0], device)), np_encoder_layer(x[:, :1], p, H, norm_first)[:, 0])


@pytest.mark.parametrize("activation,np_act", [("relu", np_relu), ("gelu", np_gelu), (F.gelu, np_gelu),
                                               (GELU(), np_gelu), (torch.tanh, np.tanh)])
def test_encoder_layer_activation(device, rng, activation, np_act):
    E, H, S, N = 4, 2, 3, 2
    layer = TransformerEncoderLayer(E, H, dim_feedforward=8, activation=activation, device=device, dtype=F64).eval()
    p = randomize(layer, rng)
    x = rng.standard_normal((S, N, E))
    assert_close_np(layer(t(x, device)), np_encoder_layer(x, p, H, False, act=np_act))


def test_encoder_layer_bool_mask_and_causal_hint(device, rng):
    E, H, S, N = 4, 2, 4, 2
    layer = TransformerEncoderLayer(E, H, dim_feedforward=8, device=device, dtype=F64).eval()
    p = randomize(layer, rng)
    x = rng.standard_normal((S, N, E))
    causal = np.triu(np.ones((S, S), dtype=bool), 1)
    expected = np_encoder_layer(x, p, H, False, mask=causal)
    out = layer(t(x, device), src_mask=t(causal, device, torch.bool))
    assert_close_np(out, expected)
    # is_causal=True lets attention apply the causal mask itself.
    out = layer(t(x, device), src_mask=t(causal, device, torch.bool), is_causal=True)
    assert_close_np(out, expected)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_numpy(device, rng, norm_first):
    E, H, T, S, N = 8, 2, 3, 5, 2
    layer = TransformerDecoderLayer(E, H, dim_feedforward=16, norm_first=norm_first, device=device, dtype=F64).eval()
    p = randomize(layer, rng)
    x, mem = rng.standard_normal((T, N, E)), rng.standard_normal((S, N, E))
    tgt_mask = np.triu(np.full((T, T), NEG_INF), 1)
    mem_mask = rng.standard_normal((T, S))
    mem_kpm = np.zeros((N, S), dtype=bool)
    mem_kpm[0, -2:] = True
    expected = np_decoder_layer(x, mem, p, H, norm_first, tgt_mask=tgt_mask, memory_mask=mem_mask,
                                mem_kpm=np.where(mem_kpm, NEG_INF, 0.0))
    out = layer(t(x, device), t(mem, device), tgt_mask=t(tgt_mask, device), memory_mask=t(mem_mask, device),
                memory_key_padding_mask=t(np.where(mem_kpm, NEG_INF, 0.0), device))
    assert_close_np(out, expected)
    out = layer(t(x, device), t(mem, device), tgt_mask=t(tgt_mask, device), memory_mask=t(mem_mask, device),
                memory_key_padding_mask=t(np.where(mem_kpm, NEG_INF, 0.0), device), tgt_is_causal=True)
    assert_close_np(out, expected)


def test_encoder_stack_with_norm(device, rng):
    E, H, S, N = 4, 2, 3, 2
    layer = TransformerEncoderLayer(E, H, dim_feedforward=8, device=device, dtype=F64)
    enc = TransformerEncoder(layer, num_layers=2, norm=LayerNorm(E, device=device, dtype=F64),
                             enable_nested_tensor=False, mask_check=False).eval()
    # The layers are copies: equal at first, separate parameters.
    l0, l1 = enc.layers[0], enc.layers[1]
    assert_close_np(l0.linear1.weight, to_np(l1.linear1.weight))
    assert l0.linear1.weight is not l1.linear1.weight and l0.linear1.weight is not layer.linear1.weight
    p = randomize(enc, rng)
    x = rng.standard_normal((S, N, E))
    mask = np.triu(np.full((S, S), NEG_INF), 1)
    y = x
    for i in range(2):
        y = np_encoder_layer(y, sub(p, f"layers.{i}."), H, False, mask=mask)
    expected = np_layer_norm(y, p["norm.weight"], p["norm.bias"])
    assert_close_np(enc(t(x, device), mask=t(mask, device)), expected)
    assert_close_np(enc(t(x, device), mask=t(mask, device), is_causal=True), expected)


def test_decoder_stack_with_norm(device, rng):
    E, H, T, S, N = 4, 2, 3, 4, 2
    layer = TransformerDecoderLayer(E, H, dim_feedforward=8, device=device, dtype=F64)
    dec = TransformerDecoder(layer, num_layers=2, norm=LayerNorm(E, device=device, dtype=F64)).eval()
    p = randomize(dec, rng)
    x, mem = rng.standard_normal((T, N, E)), rng.standard_normal((S, N, E))
    y = x
    for i in range(2):
        y = np_decoder_layer(y, mem, sub(p, f"layers.{i}."), H, False)
    expected = np_layer_norm(y, p["norm.weight"], p["norm.bias"])
    assert_close_np(dec(t(x, device), t(mem, device)), expected)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_numpy(device, rng, batch_first, norm_first):
    E, H, S, T, N = 8, 2, 4, 3, 2
    model = Transformer(d_model=E, nhead=H, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16,
                        batch_first=batch_first, norm_first=norm_first, device=device, dtype=F64).eval()
    p = randomize(model, rng)
    src, tgt = rng.standard_normal((S, N, E)), rng.standard_normal((T, N, E))
    tgt_mask = Transformer.generate_square_subsequent_mask(T, device=device, dtype=F64)
    src_kpm = np.zeros((N, S), dtype=bool)
    src_kpm[1, -1] = True
    mem = np_encoder_layer(src, sub(p, "encoder.layers.0."), H, norm_first, kpm=src_kpm)
    mem = np_layer_norm(mem, p["encoder.norm.weight"], p["encoder.norm.bias"])
    y = np_decoder_layer(tgt, mem, sub(p, "decoder.layers.0."), H, norm_first, tgt_mask=to_np(tgt_mask),
                         mem_kpm=src_kpm)
    expected = np_layer_norm(y, p["decoder.norm.weight"], p["decoder.norm.bias"])
    swap = (lambda a: a.transpose(1, 0, 2)) if batch_first else (lambda a: a)
    kpm = t(src_kpm, device, torch.bool)
    out = model(t(swap(src), device), t(swap(tgt), device), tgt_mask=tgt_mask, src_key_padding_mask=kpm,
                memory_key_padding_mask=kpm)
    assert_close_np(out, swap(expected))


def test_transformer_unbatched(device, rng):
    E, H, S, T = 4, 2, 3, 2
    model = Transformer(d_model=E, nhead=H, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8,
                        device=device, dtype=F64).eval()
    src, tgt = rng.standard_normal((S, 2, E)), rng.standard_normal((T, 2, E))
    batched = to_np(model(t(src, device), t(tgt, device)))
    out = model(t(src[:, 1], device), t(tgt[:, 1], device))
    assert out.shape == (T, E)
    assert_close_np(out, batched[:, 1])


def test_generate_square_subsequent_mask(device):
    m = Transformer.generate_square_subsequent_mask(4)
    assert m.dtype == torch.float32 and m.device.type == "cpu"
    expected = np.triu(np.full((4, 4), NEG_INF, dtype=np.float32), 1)
    np.testing.assert_array_equal(to_np(m), expected)
    m = Transformer.generate_square_subsequent_mask(3, device=device, dtype=F64)
    assert m.dtype == F64 and m.device.type == torch.device(device).type
    np.testing.assert_array_equal(to_np(m), np.triu(np.full((3, 3), NEG_INF), 1))


# ---------------------------------------------------------------------------------------------
# Structure: state_dict names and shapes, init, repr
# ---------------------------------------------------------------------------------------------

MHA_KEYS = [("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)), ("out_proj.weight", (8, 8)),
            ("out_proj.bias", (8,))]


def _prefixed(prefix, items):
    return [(prefix + k, s) for k, s in items]


ENCODER_LAYER_KEYS = _prefixed("self_attn.", MHA_KEYS) + [
    ("linear1.weight", (16, 8)), ("linear1.bias", (16,)), ("linear2.weight", (8, 16)), ("linear2.bias", (8,)),
    ("norm1.weight", (8,)), ("norm1.bias", (8,)), ("norm2.weight", (8,)), ("norm2.bias", (8,)),
]
DECODER_LAYER_KEYS = _prefixed("self_attn.", MHA_KEYS) + _prefixed("multihead_attn.", MHA_KEYS) + [
    ("linear1.weight", (16, 8)), ("linear1.bias", (16,)), ("linear2.weight", (8, 16)), ("linear2.bias", (8,)),
    ("norm1.weight", (8,)), ("norm1.bias", (8,)), ("norm2.weight", (8,)), ("norm2.bias", (8,)),
    ("norm3.weight", (8,)), ("norm3.bias", (8,)),
]
TRANSFORMER_KEYS = (
    _prefixed("encoder.layers.0.", ENCODER_LAYER_KEYS) + [("encoder.norm.weight", (8,)), ("encoder.norm.bias", (8,))]
    + _prefixed("decoder.layers.0.", DECODER_LAYER_KEYS) + [("decoder.norm.weight", (8,)), ("decoder.norm.bias", (8,))]
)


def _keys_and_shapes(module):
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


def test_state_dict_keys_match_torch():
    assert _keys_and_shapes(TransformerEncoderLayer(8, 2, dim_feedforward=16)) == ENCODER_LAYER_KEYS
    assert _keys_and_shapes(TransformerDecoderLayer(8, 2, dim_feedforward=16)) == DECODER_LAYER_KEYS
    enc = TransformerEncoder(TransformerEncoderLayer(8, 2, dim_feedforward=16), 1)
    assert _keys_and_shapes(enc) == _prefixed("layers.0.", ENCODER_LAYER_KEYS)
    dec = TransformerDecoder(TransformerDecoderLayer(8, 2, dim_feedforward=16), 1, norm=LayerNorm(8))
    assert _keys_and_shapes(dec) == _prefixed("layers.0.", DECODER_LAYER_KEYS) + [("norm.weight", (8,)),
                                                                                  ("norm.bias", (8,))]
    model = Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16)
    assert _keys_and_shapes(model) == TRANSFORMER_KEYS


def test_bias_false_drops_every_bias():
    layer = TransformerEncoderLayer(8, 2, dim_feedforward=16, bias=False)
    assert [k for k, _ in _keys_and_shapes(layer)] == [
        "self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight", "linear2.weight",
        "norm1.weight", "norm2.weight",
    ]


def test_defaults_match_torch():
    model = Transformer()
    assert (model.d_model, model.nhead, model.batch_first) == (512, 8, False)
    assert len(model.encoder.layers) == 6 and len(model.decoder.layers) == 6
    layer = model.encoder.layers[0]
    assert layer.linear1.out_features == 2048 and layer.dropout.p == 0.1 and layer.norm1.eps == 1e-5
    assert layer.activation is F.relu and layer.norm_first is False and layer.self_attn.num_heads == 8
    enc = TransformerEncoder(TransformerEncoderLayer(8, 2), 1)
    assert enc.enable_nested_tensor is True and enc.mask_check is True and enc.norm is None


def test_transformer_init_is_xavier_uniform():
    model = Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16)
    for name, p in model.named_parameters():
        if p.dim() > 1:
            fan_out, fan_in = p.shape
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            assert np.abs(to_np(p)).max() <= bound, name
    norm = model.encoder.layers[0].norm1
    np.testing.assert_array_equal(to_np(norm.weight), 1.0)
    np.testing.assert_array_equal(to_np(model.encoder.layers[0].self_attn.in_proj_bias), 0.0)


def test_encoder_layer_repr():
    layer = TransformerEncoderLayer(8, 2, dim_feedforward=16)
    assert repr(layer) == (
        "TransformerEncoderLayer(\n"
        "  (self_attn): MultiheadAttention(\n"
        "    (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)\n"
        "  )\n"
        "  (linear1): Linear(in_features=8, out_features=16, bias=True)\n"
        "  (dropout): Dropout(p=0.1, inplace=False)\n"
        "  (linear2): Linear(in_features=16, out_features=8, bias=True)\n"
        "  (norm1): LayerNorm((8,), eps=1e-05, elementwise_affine=True)\n"
        "  (norm2): LayerNorm((8,), eps=1e-05, elementwise_affine=True)\n"
        "  (dropout1): Dropout(p=0.1, inplace=False)\n"
        "  (dropout2): Dropout(p=0.1, inplace=False)\n"
        ")"
    )


# ---------------------------------------------------------------------------------------------
# Training behaviour, gradients, errors
# ---------------------------------------------------------------------------------------------


def test_dropout_only_in_training(device, rng):
    layer = TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.5, device=device, dtype=F64)
    x = t(rng.standard_normal((3, 2, 8)), device)
    torch.manual_seed(0)
    a, b = to_np(layer(x)), to_np(layer(x))
    assert not np.allclose(a, b)
    layer.eval()
    assert_close_np(layer(x), to_np(layer(x)))


def test_backward_reaches_every_parameter(device, rng):
    model = Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16,
                        device=device, dtype=F64)
    src, tgt = t(rng.standard_normal((4, 2, 8)), device), t(rng.standard_normal((3, 2, 8)), device)
    mask = Transformer.generate_square_subsequent_mask(3, device=device, dtype=F64)
    model(src, tgt, tgt_mask=mask).square().sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.isfinite(to_np(p.grad)).all(), name
        assert np.abs(to_np(p.grad)).max() > 0, name


def test_encoder_layer_gradcheck(device, rng):
    layer = TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, device=device, dtype=F64)
    randomize(layer, rng)
    x = t(rng.standard_normal((3, 2, 4)), device).requires_grad_()
    mask = t(np.triu(np.full((3, 3), NEG_INF), 1), device)
    assert gradcheck(lambda x: layer(x, src_mask=mask), (x,))
    for norm_first in (False, True):
        layer.norm_first = norm_first
        assert gradcheck(layer, (x,))


def test_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        TransformerEncoderLayer(8, 2, activation="tanh")
    model = Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(torch.randn(3, 2, 8), torch.randn(3, 4, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(torch.randn(3, 2, 8), torch.randn(3, 2, 6))
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        TransformerEncoderLayer(8, 3)


def test_custom_encoder_decoder():
    enc = TransformerEncoder(TransformerEncoderLayer(8, 2, dim_feedforward=16), 1)
    dec = TransformerDecoder(TransformerDecoderLayer(8, 2, dim_feedforward=16), 1)
    model = Transformer(d_model=8, nhead=2, custom_encoder=enc, custom_decoder=dec)
    assert model.encoder is enc and model.decoder is dec
    assert isinstance(model.encoder.layers[0].linear1, Linear)
    assert model.eval()(torch.randn(3, 2, 8), torch.randn(2, 2, 8)).shape == (2, 2, 8)
