"""RNN, LSTM, GRU, their cells and ``nn.utils.rnn`` packing, against NumPy references of the
cell equations (written here), finite differences, and torch's parameter names and messages."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotorch as torch
from ferrotorch.autograd import gradcheck
from ferrotorch.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from ferrotorch.nn.utils.rnn import (
    PackedSequence,
    invert_permutation,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)
from helpers import assert_close_np, to_np

F64 = torch.float64


# ---------------------------------------------------------------------------------------------
# NumPy reference
# ---------------------------------------------------------------------------------------------


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_step(mode, x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None):
    """One step of each cell, gates sliced out one by one in torch's order."""
    gi = x @ w_ih.T + (0.0 if b_ih is None else b_ih)
    gh = h @ w_hh.T + (0.0 if b_hh is None else b_hh)
    if mode == "RNN_TANH":
        return np.tanh(gi + gh), None
    if mode == "RNN_RELU":
        return np.maximum(gi + gh, 0.0), None
    if mode == "LSTM":
        n = w_hh.shape[0] // 4
        i = _sigmoid(gi[:, :n] + gh[:, :n])
        f = _sigmoid(gi[:, n : 2 * n] + gh[:, n : 2 * n])
        g = np.tanh(gi[:, 2 * n : 3 * n] + gh[:, 2 * n : 3 * n])
        o = _sigmoid(gi[:, 3 * n :] + gh[:, 3 * n :])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        if w_hr is not None:
            h_new = h_new @ w_hr.T
        return h_new, c_new
    n = w_hh.shape[0] // 3
    r = _sigmoid(gi[:, :n] + gh[:, :n])
    z = _sigmoid(gi[:, n : 2 * n] + gh[:, n : 2 * n])
    cand = np.tanh(gi[:, 2 * n :] + r * gh[:, 2 * n :])
    return (1 - z) * cand + z * h, None


def np_rnn(mode, x, h0, c0, params, num_layers, bidirectional, zero_between_layers=False):
    """Time-major ``x`` ``(T, B, in)``; ``params`` maps torch's parameter names to arrays."""
    num_dirs = 2 if bidirectional else 1
    seq_len = x.shape[0]
    layer_in = x
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(num_dirs):
            sfx = "_reverse" if d else ""
            w = {
                k: params.get(f"{k}_l{layer}{sfx}")
                for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
            }
            h = h0[layer * num_dirs + d]
            c = None if c0 is None else c0[layer * num_dirs + d]
            out = np.zeros((seq_len, x.shape[1], h.shape[-1]))
            for t in range(seq_len) if d == 0 else reversed(range(seq_len)):
                h, c = np_step(
                    mode,
                    layer_in[t],
                    h,
                    c,
                    w["weight_ih"],
                    w["weight_hh"],
                    w["bias_ih"],
                    w["bias_hh"],
                    w["weight_hr"],
                )
                out[t] = h
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        layer_in = np.concatenate(outs, -1)
        if zero_between_layers and layer < num_layers - 1:
            layer_in = np.zeros_like(layer_in)
    return layer_in, np.stack(h_n), (np.stack(c_n) if mode == "LSTM" else None)


def make_rnn(mode, input_size, hidden_size, device, dtype=F64, **kw):
    if mode.startswith("RNN"):
        return RNN(
            input_size, hidden_size, nonlinearity=mode[4:].lower(), device=device, dtype=dtype, **kw
        )
    cls = LSTM if mode == "LSTM" else GRU
    return cls(input_size, hidden_size, device=device, dtype=dtype, **kw)


def np_params(module):
    return {name: to_np(p) for name, p in module.named_parameters()}


def rand(rng, shape, device, dtype=F64, requires_grad=False):
    return torch.tensor(
        rng.standard_normal(shape), dtype=dtype, device=device, requires_grad=requires_grad
    )


CONFIGS = [
    ("RNN_TANH", {}),
    ("RNN_RELU", {"num_layers": 2}),
    ("RNN_TANH", {"num_layers": 3, "bidirectional": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 2, "batch_first": True}),
    ("LSTM", {"bias": False, "proj_size": 1}),
    ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("GRU", {"bias": False}),
]
CONFIG_IDS = [m + "-" + "-".join(f"{k}={v}" for k, v in kw.items()) for m, kw in CONFIGS]


def _state_shapes(mode, kw, batch, hidden):
    dirs = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1)
    out = kw.get("proj_size", 0) or hidden
    h_shape = (layers * dirs, batch, out)
    return h_shape, ((layers * dirs, batch, hidden) if mode == "LSTM" else None)


# ---------------------------------------------------------------------------------------------
# Forward values
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_hx", [True, False], ids=["hx", "no_hx"])
@pytest.mark.parametrize("mode,kw", CONFIGS, ids=CONFIG_IDS)
def test_forward_matches_numpy(device, rng, mode, kw, with_hx):
    torch.manual_seed(0)
    seq_len, batch, in_size, hidden = 4, 3, 3, 4
    m = make_rnn(mode, in_size, hidden, device, **kw)
    batch_first = kw.get("batch_first", False)
    x_np = rng.standard_normal((seq_len, batch, in_size))
    x = torch.tensor(x_np.transpose(1, 0, 2) if batch_first else x_np, dtype=F64, device=device)
    h_shape, c_shape = _state_shapes(mode, kw, batch, hidden)
    h0 = rng.standard_normal(h_shape) if with_hx else np.zeros(h_shape)
    c0 = (
        None
        if c_shape is None
        else (rng.standard_normal(c_shape) if with_hx else np.zeros(c_shape))
    )
    hx = None
    if with_hx:
        h0_t = torch.tensor(h0, dtype=F64, device=device)
        hx = (h0_t, torch.tensor(c0, dtype=F64, device=device)) if mode == "LSTM" else h0_t
    out, hn = m(x, hx)
    ref_out, ref_h, ref_c = np_rnn(
        mode, x_np, h0, c0, np_params(m), kw.get("num_layers", 1), kw.get("bidirectional", False)
    )
    assert_close_np(out, ref_out.transpose(1, 0, 2) if batch_first else ref_out)
    if mode == "LSTM":
        assert isinstance(hn, tuple) and len(hn) == 2
        assert_close_np(hn[0], ref_h)
        assert_close_np(hn[1], ref_c)
    else:
        assert_close_np(hn, ref_h)


def test_forward_float32(device, rng):
    torch.manual_seed(1)
    m = make_rnn("LSTM", 3, 5, device, dtype=torch.float32, num_layers=2, bidirectional=True)
    x_np = rng.standard_normal((6, 2, 3)).astype(np.float32)
    out, (h, c) = m(torch.tensor(x_np, device=device))
    ref_out, ref_h, ref_c = np_rnn(
        "LSTM",
        x_np.astype(np.float64),
        np.zeros((4, 2, 5)),
        np.zeros((4, 2, 5)),
        np_params(m),
        2,
        True,
    )
    assert out.dtype == torch.float32
    assert_close_np(out, ref_out)
    assert_close_np(h, ref_h)
    assert_close_np(c, ref_c)


@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_equals_batch_of_one(device, rng, mode, batch_first):
    torch.manual_seed(2)
    m = make_rnn(mode, 3, 4, device, num_layers=2, bidirectional=True, batch_first=batch_first)
    x = rand(rng, (5, 3), device)
    h0 = rand(rng, (4, 4), device)
    hx = (h0, rand(rng, (4, 4), device)) if mode == "LSTM" else h0
    out, hn = m(x, hx)
    assert out.shape == (5, 8)
    batched_x = x.unsqueeze(0 if batch_first else 1)
    batched_hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1)) if mode == "LSTM" else hx.unsqueeze(1)
    ref_out, ref_hn = m(batched_x, batched_hx)
    assert_close_np(out, to_np(ref_out.squeeze(0 if batch_first else 1)))
    pairs = zip(hn, ref_hn) if mode == "LSTM" else [(hn, ref_hn)]
    for got, ref in pairs:
        assert got.shape == (4, 4)
        assert_close_np(got, to_np(ref.squeeze(1)))


def test_unbatched_without_hx(device, rng):
    m = make_rnn("GRU", 2, 3, device)
    out, h = m(rand(rng, (4, 2), device))
    assert out.shape == (4, 3) and h.shape == (1, 3)


# ---------------------------------------------------------------------------------------------
# Packed sequences
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_matches_each_sequence_alone(device, rng, mode, batch_first):
    torch.manual_seed(3)
    lengths = [3, 5, 1, 5]
    in_size, hidden = 2, 3
    kw = {"num_layers": 2, "bidirectional": True, "batch_first": batch_first}
    if mode == "LSTM":
        kw["proj_size"] = 2
    m = make_rnn(mode, in_size, hidden, device, **kw)
    seqs = [rng.standard_normal((n, in_size)) for n in lengths]
    padded = pad_sequence(
        [torch.tensor(s, dtype=F64, device=device) for s in seqs], batch_first=batch_first
    )
    packed = pack_padded_sequence(padded, lengths, batch_first=batch_first, enforce_sorted=False)
    h_shape, c_shape = _state_shapes(mode, kw, len(lengths), hidden)
    h0 = rng.standard_normal(h_shape)
    c0 = None if c_shape is None else rng.standard_normal(c_shape)
    hx = torch.tensor(h0, dtype=F64, device=device)
    if mode == "LSTM":
        hx = (hx, torch.tensor(c0, dtype=F64, device=device))

    out, hn = m(packed, hx)
    assert isinstance(out, PackedSequence)
    assert to_np(out.batch_sizes).tolist() == to_np(packed.batch_sizes).tolist()
    assert to_np(out.sorted_indices).tolist() == to_np(packed.sorted_indices).tolist()
    out_padded, out_lengths = pad_packed_sequence(out, batch_first=batch_first)
    assert to_np(out_lengths).tolist() == lengths
    out_np = to_np(out_padded)
    if batch_first:
        out_np = out_np.transpose(1, 0, 2)
    hn_np = [to_np(t) for t in hn] if mode == "LSTM" else [to_np(hn)]
    params = np_params(m)
    for b, n in enumerate(lengths):
        ref_out, ref_h, ref_c = np_rnn(
            mode,
            seqs[b][:, None],
            h0[:, b : b + 1],
            None if c0 is None else c0[:, b : b + 1],
            params,
            2,
            True,
        )
        np.testing.assert_allclose(out_np[:n, b], ref_out[:, 0], rtol=1e-7, atol=1e-7)
        np.testing.assert_array_equal(out_np[n:, b], 0.0)
        np.testing.assert_allclose(hn_np[0][:, b], ref_h[:, 0], rtol=1e-7, atol=1e-7)
        if mode == "LSTM":
            np.testing.assert_allclose(hn_np[1][:, b], ref_c[:, 0], rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("mode", ["RNN_RELU", "LSTM", "GRU"])
def test_packed_equals_padded_unidirectional(device, rng, mode):
    # Forward-only layers never see the padding before a sequence ends, so the valid outputs of
    # the padded run equal the packed ones; without hx the default zero state is used in both.
    torch.manual_seed(4)
    m = make_rnn(mode, 3, 4, device, num_layers=2)
    lengths = [4, 4, 2]
    x = rand(rng, (4, 3, 3), device)
    padded_out, _ = m(x)
    packed_out, hn = m(pack_padded_sequence(x, lengths))
    unpacked, _ = pad_packed_sequence(packed_out)
    mask = (np.arange(4)[:, None] < np.array(lengths)[None, :])[..., None]
    assert_close_np(unpacked, to_np(padded_out) * mask)
    h_last = hn[0] if mode == "LSTM" else hn
    # The final state of each sequence is its output at its last step (top layer).
    for b, n in enumerate(lengths):
        assert_close_np(h_last[-1, b], to_np(padded_out[n - 1, b]))


def test_packed_sorted_input_keeps_no_indices(device, rng):
    m = make_rnn("GRU", 2, 3, device)
    packed = pack_sequence([rand(rng, (3, 2), device), rand(rng, (2, 2), device)])
    out, h = m(packed)
    assert out.sorted_indices is None and out.unsorted_indices is None
    assert out.data.shape == (5, 3) and h.shape == (1, 2, 3)


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------


def test_dropout_between_layers_only_in_training(device, rng):
    torch.manual_seed(5)
    m = make_rnn("LSTM", 3, 4, device, num_layers=2, dropout=1.0)
    x_np = rng.standard_normal((3, 2, 3))
    x = torch.tensor(x_np, dtype=F64, device=device)
    zeros = np.zeros((2, 2, 4))
    out, _ = m(x)  # training: dropout 1.0 zeroes the first layer's output
    ref, _, _ = np_rnn("LSTM", x_np, zeros, zeros, np_params(m), 2, False, zero_between_layers=True)
    assert_close_np(out, ref)
    m.eval()
    out, _ = m(x)
    ref, _, _ = np_rnn("LSTM", x_np, zeros, zeros, np_params(m), 2, False)
    assert_close_np(out, ref)


def test_dropout_random_in_training(device, rng):
    torch.manual_seed(6)
    m = make_rnn("GRU", 3, 8, device, num_layers=2, dropout=0.5)
    x = rand(rng, (3, 2, 3), device)
    a, b = to_np(m(x)[0]), to_np(m(x)[0])
    assert not np.allclose(a, b)
    m.eval()
    np.testing.assert_array_equal(to_np(m(x)[0]), to_np(m(x)[0]))


def test_dropout_single_layer_warns():
    with pytest.warns(
        UserWarning, match="dropout option adds dropout after all but last recurrent layer"
    ):
        GRU(2, 3, dropout=0.3)


# ---------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_numpy(device, rng, mode, bias):
    torch.manual_seed(7)
    if mode.startswith("RNN"):
        cell = RNNCell(3, 4, bias=bias, nonlinearity=mode[4:].lower(), device=device, dtype=F64)
    else:
        cell = (LSTMCell if mode == "LSTM" else GRUCell)(3, 4, bias=bias, device=device, dtype=F64)
    x_np, h_np, c_np = (
        rng.standard_normal((2, 3)),
        rng.standard_normal((2, 4)),
        rng.standard_normal((2, 4)),
    )
    p = np_params(cell)
    args = (p["weight_ih"], p["weight_hh"], p.get("bias_ih"), p.get("bias_hh"))
    x, h, c = (torch.tensor(a, dtype=F64, device=device) for a in (x_np, h_np, c_np))
    if mode == "LSTM":
        got_h, got_c = cell(x, (h, c))
        ref_h, ref_c = np_step(mode, x_np, h_np, c_np, *args)
        assert_close_np(got_c, ref_c)
        zero_h, zero_c = cell(x)
        ref_zh, ref_zc = np_step(mode, x_np, np.zeros((2, 4)), np.zeros((2, 4)), *args)
        assert_close_np(zero_h, ref_zh)
        assert_close_np(zero_c, ref_zc)
        # Unbatched input and state.
        uh, uc = cell(x[0], (h[0], c[0]))
        assert_close_np(uh, ref_h[0])
        assert_close_np(uc, ref_c[0])
    else:
        got_h = cell(x, h)
        ref_h, _ = np_step(mode, x_np, h_np, None, *args)
        ref_zh, _ = np_step(mode, x_np, np.zeros((2, 4)), None, *args)
        assert_close_np(cell(x), ref_zh)
        assert_close_np(cell(x[1], h[1]), ref_h[1])
        assert cell(x[1]).shape == (4,)
    assert_close_np(got_h, ref_h)


def test_cell_step_loop_equals_layer(device, rng):
    # A one-layer LSTM is its cell applied step by step with the same weights.
    torch.manual_seed(8)
    layer = make_rnn("LSTM", 3, 4, device)
    cell = LSTMCell(3, 4, device=device, dtype=F64)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(layer, name + "_l0"))
    x = rand(rng, (5, 2, 3), device)
    out, (h_n, c_n) = layer(x)
    h = c = torch.zeros((2, 4), dtype=F64, device=device)
    for t in range(5):
        h, c = cell(x[t], (h, c))
        assert_close_np(h, to_np(out[t]))
    assert_close_np(h_n[0], to_np(h))
    assert_close_np(c_n[0], to_np(c))


# ---------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tanh", "relu", "lstm", "gru"])
def test_gradcheck_cells(device, rng, kind):
    torch.manual_seed(9)
    if kind in ("tanh", "relu"):
        cell = RNNCell(3, 2, nonlinearity=kind, device=device, dtype=F64)
    else:
        cell = (LSTMCell if kind == "lstm" else GRUCell)(3, 2, device=device, dtype=F64)
    params = list(cell.parameters())
    x = rand(rng, (2, 3), device, requires_grad=True)
    h = rand(rng, (2, 2), device, requires_grad=True)
    if kind == "lstm":
        c = rand(rng, (2, 2), device, requires_grad=True)
        assert gradcheck(lambda x, h, c, *ps: cell(x, (h, c)), (x, h, c, *params))
    else:
        assert gradcheck(lambda x, h, *ps: cell(x, h), (x, h, *params))


def test_gradcheck_two_layer_bidirectional_lstm(device, rng):
    torch.manual_seed(10)
    m = make_rnn("LSTM", 2, 2, device, num_layers=2, bidirectional=True)
    params = list(m.parameters())
    x = rand(rng, (3, 2, 2), device, requires_grad=True)
    h0 = rand(rng, (4, 2, 2), device, requires_grad=True)
    c0 = rand(rng, (4, 2, 2), device, requires_grad=True)

    def f(x, h0, c0, *ps):
        out, (h, c) = m(x, (h0, c0))
        return out, h, c

    assert gradcheck(f, (x, h0, c0, *params))


def test_gradcheck_packed_bidirectional_gru(device, rng):
    torch.manual_seed(11)
    m = make_rnn("GRU", 2, 2, device, bidirectional=True, batch_first=True)
    params = list(m.parameters())
    x = rand(rng, (3, 3, 2), device, requires_grad=True)

    def f(x, *ps):
        out, h = m(pack_padded_sequence(x, [2, 3, 1], batch_first=True, enforce_sorted=False))
        return out.data, h

    assert gradcheck(f, (x, *params))


def test_gradcheck_lstm_projection(device, rng):
    torch.manual_seed(12)
    m = make_rnn("LSTM", 2, 3, device, proj_size=2)
    params = list(m.parameters())
    x = rand(rng, (3, 2, 2), device, requires_grad=True)
    assert gradcheck(lambda x, *ps: m(x)[0], (x, *params))


# ---------------------------------------------------------------------------------------------
# Parameters, init, repr
# ---------------------------------------------------------------------------------------------


def test_parameter_names_and_shapes_match_torch():
    m = LSTM(10, 20, num_layers=2, bidirectional=True, proj_size=5)
    expected = [
        ("weight_ih_l0", (80, 10)),
        ("weight_hh_l0", (80, 5)),
        ("bias_ih_l0", (80,)),
        ("bias_hh_l0", (80,)),
        ("weight_hr_l0", (5, 20)),
        ("weight_ih_l0_reverse", (80, 10)),
        ("weight_hh_l0_reverse", (80, 5)),
        ("bias_ih_l0_reverse", (80,)),
        ("bias_hh_l0_reverse", (80,)),
        ("weight_hr_l0_reverse", (5, 20)),
        ("weight_ih_l1", (80, 10)),
        ("weight_hh_l1", (80, 5)),
        ("bias_ih_l1", (80,)),
        ("bias_hh_l1", (80,)),
        ("weight_hr_l1", (5, 20)),
        ("weight_ih_l1_reverse", (80, 10)),
        ("weight_hh_l1_reverse", (80, 5)),
        ("bias_ih_l1_reverse", (80,)),
        ("bias_hh_l1_reverse", (80,)),
        ("weight_hr_l1_reverse", (5, 20)),
    ]
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == expected
    assert list(m.state_dict().keys()) == [n for n, _ in expected]

    gru = GRU(4, 6, num_layers=2, bias=False)
    assert [(n, tuple(p.shape)) for n, p in gru.named_parameters()] == [
        ("weight_ih_l0", (18, 4)),
        ("weight_hh_l0", (18, 6)),
        ("weight_ih_l1", (18, 6)),
        ("weight_hh_l1", (18, 6)),
    ]
    rnn = RNN(3, 5, bidirectional=True)
    assert [(n, tuple(p.shape)) for n, p in rnn.named_parameters()] == [
        ("weight_ih_l0", (5, 3)),
        ("weight_hh_l0", (5, 5)),
        ("bias_ih_l0", (5,)),
        ("bias_hh_l0", (5,)),
        ("weight_ih_l0_reverse", (5, 3)),
        ("weight_hh_l0_reverse", (5, 5)),
        ("bias_ih_l0_reverse", (5,)),
        ("bias_hh_l0_reverse", (5,)),
    ]
    lstm = LSTM(3, 4, bias=False, proj_size=2)
    assert [n for n, _ in lstm.named_parameters()] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "weight_hr_l0",
    ]


def test_cell_parameter_names_and_shapes_match_torch():
    for cls, chunks in ((RNNCell, 1), (LSTMCell, 4), (GRUCell, 3)):
        cell = cls(3, 5)
        assert [(n, tuple(p.shape)) for n, p in cell.named_parameters()] == [
            ("weight_ih", (5 * chunks, 3)),
            ("weight_hh", (5 * chunks, 5)),
            ("bias_ih", (5 * chunks,)),
            ("bias_hh", (5 * chunks,)),
        ]
        no_bias = cls(3, 5, bias=False)
        assert [n for n, _ in no_bias.named_parameters()] == ["weight_ih", "weight_hh"]
        assert no_bias.bias_ih is None and no_bias.bias_hh is None


@pytest.mark.parametrize(
    "factory",
    [
        lambda: LSTM(3, 16, num_layers=2),
        lambda: GRUCell(3, 16),
        lambda: RNN(8, 16, bidirectional=True),
    ],
)
def test_init_uniform_in_one_over_sqrt_hidden(factory):
    torch.manual_seed(13)
    values = np.concatenate([to_np(p).ravel() for p in factory().parameters()])
    bound = 1 / np.sqrt(16)
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.9 * bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.02  # std of U(-b, b)


def test_all_weights_and_flatten_parameters(device, rng):
    m = make_rnn("LSTM", 2, 3, device, num_layers=2, bidirectional=True)
    assert len(m.all_weights) == 4
    assert all(len(ws) == 4 for ws in m.all_weights)
    assert m.all_weights[1][0] is m.weight_ih_l0_reverse
    assert m.all_weights[3][3] is m.bias_hh_l1_reverse
    assert m.flatten_parameters() is None
    x = rand(rng, (2, 1, 2), device)
    before = to_np(m(x)[0])
    m.flatten_parameters()
    np.testing.assert_array_equal(to_np(m(x)[0]), before)


def test_reassigned_parameter_is_used(device, rng):
    m = make_rnn("GRU", 2, 3, device)
    x = rand(rng, (2, 1, 2), device)
    with torch.no_grad():
        m.weight_ih_l0.zero_()
        m.weight_hh_l0.zero_()
        m.bias_ih_l0.zero_()
        m.bias_hh_l0.zero_()
    # All-zero weights: r = z = 1/2, n = 0, so h_t = h_{t-1} / 2 from h_0 = 0 stays 0.
    np.testing.assert_array_equal(to_np(m(x)[0]), 0.0)


def test_extra_repr_and_repr():
    assert repr(LSTM(10, 20)) == "LSTM(10, 20)"
    m = LSTM(
        10,
        20,
        num_layers=2,
        bias=False,
        batch_first=True,
        dropout=0.5,
        bidirectional=True,
        proj_size=5,
    )
    assert (
        m.extra_repr()
        == "10, 20, proj_size=5, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True"
    )
    assert repr(GRU(3, 4, num_layers=3)) == "GRU(3, 4, num_layers=3)"
    assert repr(RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4)"  # torch leaves the nonlinearity out
    assert (
        repr(RNNCell(3, 4, bias=False, nonlinearity="relu"))
        == "RNNCell(3, 4, bias=False, nonlinearity=relu)"
    )
    assert repr(LSTMCell(3, 4)) == "LSTMCell(3, 4)"
    assert repr(GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"


def test_attributes():
    m = RNN(3, 4, 2, "relu", False, True, 0.25, True)
    assert (m.mode, m.input_size, m.hidden_size, m.num_layers, m.nonlinearity) == (
        "RNN_RELU",
        3,
        4,
        2,
        "relu",
    )
    assert (m.bias, m.batch_first, m.dropout, m.bidirectional, m.proj_size) == (
        False,
        True,
        0.25,
        True,
        0,
    )
    assert LSTM(3, 4).mode == "LSTM" and GRU(3, 4).mode == "GRU"


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,exc,match",
    [
        (
            lambda: RNN(3, 4, nonlinearity="sigmoid"),
            ValueError,
            "Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'.",
        ),
        (
            lambda: RNN(3, 4, proj_size=2),
            ValueError,
            "proj_size argument is only supported for LSTM, not RNN or GRU",
        ),
        (
            lambda: GRU(3, 4, proj_size=2),
            ValueError,
            "proj_size argument is only supported for LSTM, not RNN or GRU",
        ),
        (
            lambda: LSTM(3, 4, proj_size=4),
            ValueError,
            "proj_size has to be smaller than hidden_size",
        ),
        (
            lambda: LSTM(3, 4, proj_size=-1),
            ValueError,
            "proj_size should be a positive integer or zero",
        ),
        (
            lambda: LSTM(3, 4, dropout=1.5),
            ValueError,
            r"dropout should be a number in range \[0, 1\]",
        ),
        (
            lambda: LSTM(3, 4, dropout=True),
            ValueError,
            r"dropout should be a number in range \[0, 1\]",
        ),
        (lambda: GRU(3, 0), ValueError, "hidden_size must be greater than zero"),
        (lambda: GRU(3, 2.5), TypeError, "hidden_size should be of type int, got: float"),
        (lambda: GRU(3, 4, num_layers=0), ValueError, "num_layers must be greater than zero"),
    ],
)
def test_constructor_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def _raises(exc, message, fn, *args):
    with pytest.raises(exc) as info:
        fn(*args)
    assert str(info.value) == message


def test_forward_errors(device, rng):
    rnn = make_rnn("RNN_TANH", 3, 4, device, num_layers=2)
    x = rand(rng, (5, 2, 3), device)
    _raises(
        ValueError,
        "RNN: Expected input to be 2D or 3D, got 4D tensor instead",
        rnn,
        rand(rng, (1, 5, 2, 3), device),
    )
    _raises(
        RuntimeError,
        "For batched 3-D input, hx should also be 3-D but got 2-D tensor",
        rnn,
        x,
        rand(rng, (2, 4), device),
    )
    _raises(
        RuntimeError,
        "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor",
        rnn,
        x[:, 0],
        rand(rng, (2, 1, 4), device),
    )
    _raises(
        RuntimeError,
        "Expected hidden size (2, 2, 4), got [1, 2, 4]",
        rnn,
        x,
        rand(rng, (1, 2, 4), device),
    )
    _raises(
        RuntimeError,
        "Expected hidden size (2, 1, 4), got [2, 1, 5]",
        rnn,
        x[:, 0],
        rand(rng, (2, 5), device),
    )
    _raises(
        RuntimeError,
        "input.size(-1) must be equal to input_size. Expected 3, got 5",
        rnn,
        rand(rng, (5, 2, 5), device),
    )
    _raises(
        ValueError, "input must have the type torch.float64, got type torch.float32", rnn, x.float()
    )

    lstm = make_rnn("LSTM", 3, 4, device)
    h, c = rand(rng, (1, 2, 4), device), rand(rng, (1, 2, 4), device)
    _raises(
        ValueError,
        "LSTM: Expected input to be 2D or 3D, got 1D instead",
        lstm,
        rand(rng, (3,), device),
    )
    _raises(
        RuntimeError,
        "For batched 3-D input, hx and cx should also be 3-D but got (3-D, 2-D) tensors",
        lstm,
        x,
        (h, c[0]),
    )
    _raises(
        RuntimeError,
        "For unbatched 2-D input, hx and cx should also be 2-D but got (3-D, 3-D) tensors",
        lstm,
        x[:, 0],
        (h, c),
    )
    _raises(
        RuntimeError,
        "Expected hidden[0] size (1, 2, 4), got [1, 2, 5]",
        lstm,
        x,
        (rand(rng, (1, 2, 5), device), c),
    )
    _raises(
        RuntimeError,
        "Expected hidden[1] size (1, 2, 4), got [1, 3, 4]",
        lstm,
        x,
        (h, rand(rng, (1, 3, 4), device)),
    )
    gru = make_rnn("GRU", 3, 4, device)
    _raises(
        ValueError,
        "GRU: Expected input to be 2D or 3D, got 1D instead",
        gru,
        rand(rng, (3,), device),
    )
    packed = pack_sequence([rand(rng, (2, 5), device)])
    _raises(
        RuntimeError, "input.size(-1) must be equal to input_size. Expected 3, got 5", gru, packed
    )
    _raises(
        RuntimeError,
        "Expected hidden size (1, 1, 4), got [1, 2, 4]",
        gru,
        pack_sequence([x[:, 0]]),
        rand(rng, (1, 2, 4), device),
    )


def test_cell_errors(device, rng):
    cell = RNNCell(3, 4, device=device, dtype=F64)
    x, h = rand(rng, (2, 3), device), rand(rng, (2, 4), device)
    _raises(
        ValueError,
        "RNNCell: Expected input to be 1D or 2D, got 3D instead",
        cell,
        rand(rng, (1, 2, 3), device),
    )
    _raises(
        ValueError,
        "RNNCell: Expected hidden to be 1D or 2D, got 3D instead",
        cell,
        x,
        rand(rng, (1, 2, 4), device),
    )
    _raises(
        RuntimeError,
        "input has inconsistent input_size: got 5 expected 3",
        cell,
        rand(rng, (2, 5), device),
        h,
    )
    _raises(
        RuntimeError,
        "Input batch size 2 doesn't match hidden0 batch size 3",
        cell,
        x,
        rand(rng, (3, 4), device),
    )
    _raises(
        RuntimeError,
        "hidden0 has inconsistent hidden_size: got 5, expected 4",
        cell,
        x,
        rand(rng, (2, 5), device),
    )
    lstm = LSTMCell(3, 4, device=device, dtype=F64)
    _raises(
        ValueError,
        "LSTMCell: Expected hx[1] to be 1D or 2D, got 3D instead",
        lstm,
        x,
        (h, rand(rng, (1, 2, 4), device)),
    )
    _raises(
        RuntimeError,
        "Input batch size 2 doesn't match hidden1 batch size 1",
        lstm,
        x,
        (h, rand(rng, (1, 4), device)),
    )
    gru = GRUCell(3, 4, device=device, dtype=F64)
    _raises(
        ValueError,
        "GRUCell: Expected input to be 1D or 2D, got 0D instead",
        gru,
        torch.tensor(1.0, dtype=F64, device=device),
    )
    bad = RNNCell(3, 4, nonlinearity="gelu", device=device, dtype=F64)
    _raises(RuntimeError, "Unknown nonlinearity: gelu", bad, x)


# ---------------------------------------------------------------------------------------------
# nn.utils.rnn
# ---------------------------------------------------------------------------------------------


def np_pack(padded_time_major, lengths):
    """Rows of step t are the first batch_sizes[t] entries of that step."""
    rows, batch_sizes = [], []
    for t in range(max(lengths)):
        bs = sum(n > t for n in lengths)
        batch_sizes.append(bs)
        rows.extend(padded_time_major[t, :bs])
    return np.array(rows), batch_sizes


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence_values(device, rng, batch_first):
    # Time-major (T, B, F); steps past the longest length are left out of the packing.
    x_np = rng.standard_normal((5, 3, 2))
    lengths = [4, 2, 2]
    x = torch.tensor(x_np.transpose(1, 0, 2) if batch_first else x_np, dtype=F64, device=device)
    packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first)
    ref_rows, ref_bs = np_pack(x_np, lengths)
    assert isinstance(packed, PackedSequence) and isinstance(packed, tuple)
    assert_close_np(packed.data, ref_rows)
    assert packed.batch_sizes.dtype == torch.int64 and packed.batch_sizes.device.type == "cpu"
    assert to_np(packed.batch_sizes).tolist() == ref_bs
    assert packed.sorted_indices is None and packed.unsorted_indices is None


def test_pack_padded_sequence_unsorted(device, rng):
    x_np = rng.standard_normal((4, 3, 2))
    packed = pack_padded_sequence(
        torch.tensor(x_np, dtype=F64, device=device), [2, 4, 1], enforce_sorted=False
    )
    assert to_np(packed.sorted_indices).tolist() == [1, 0, 2]
    assert to_np(packed.unsorted_indices).tolist() == [1, 0, 2]
    assert str(packed.sorted_indices.device) == str(packed.data.device)
    ref_rows, ref_bs = np_pack(x_np[:, [1, 0, 2]], [4, 2, 1])
    assert_close_np(packed.data, ref_rows)
    assert to_np(packed.batch_sizes).tolist() == ref_bs
    padded, lengths = pad_packed_sequence(packed)
    assert to_np(lengths).tolist() == [2, 4, 1]
    mask = (np.arange(4)[:, None] < np.array([2, 4, 1])[None, :])[..., None]
    assert_close_np(padded, x_np * mask)


def test_pack_padded_sequence_errors(device, rng):
    x = rand(rng, (4, 3, 2), device)
    with pytest.raises(
        RuntimeError,
        match="`lengths` array must be sorted in decreasing order when `enforce_sorted` is True",
    ):
        pack_padded_sequence(x, [2, 4, 1])
    _raises(
        RuntimeError,
        "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0",
        pack_padded_sequence,
        x,
        [3, 2, 0],
    )
    _raises(
        RuntimeError,
        "Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)",
        pack_padded_sequence,
        x,
        [3, 2],
    )
    _raises(
        RuntimeError,
        "Cannot pack empty tensors.",
        pack_padded_sequence,
        rand(rng, (0, 3, 2), device),
        [1, 1, 1],
    )
    with pytest.raises(RuntimeError, match="exceeds the padded sequence length"):
        pack_padded_sequence(x, [5, 2, 1])
    if device != "cpu":
        with pytest.raises(
            RuntimeError, match="'lengths' argument should be a 1D CPU int64 tensor"
        ):
            pack_padded_sequence(x, torch.tensor([3, 2, 1], device=device))


@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_packed_sequence_options(device, rng, batch_first):
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 2)]
    packed = pack_sequence(
        [torch.tensor(s, dtype=F64, device=device) for s in seqs], enforce_sorted=False
    )
    padded, lengths = pad_packed_sequence(
        packed, batch_first=batch_first, padding_value=-7.0, total_length=5
    )
    expected = np.full((3, 5, 2), -7.0)
    for b, s in enumerate(seqs):
        expected[b, : len(s)] = s
    assert_close_np(padded, expected if batch_first else expected.transpose(1, 0, 2))
    assert lengths.dtype == torch.int64 and lengths.device.type == "cpu"
    assert to_np(lengths).tolist() == [3, 1, 2]
    with pytest.raises(
        ValueError,
        match="Expected total_length to be at least the length of the longest sequence in input, but got total_length=2 and max sequence length being 3",
    ):
        pad_packed_sequence(packed, total_length=2)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(device, rng, batch_first, side):
    seqs = [rng.standard_normal((n, 2, 3)) for n in (2, 4, 1)]
    got = pad_sequence(
        [torch.tensor(s, dtype=F64, device=device) for s in seqs], batch_first, 1.5, side
    )
    expected = np.full((3, 4, 2, 3), 1.5)
    for b, s in enumerate(seqs):
        if side == "right":
            expected[b, : len(s)] = s
        else:
            expected[b, 4 - len(s) :] = s
    assert_close_np(got, expected if batch_first else expected.transpose(1, 0, 2, 3))


def test_pad_sequence_accepts_a_tensor_and_errors(device, rng):
    t = rand(rng, (3, 2), device)
    assert_close_np(pad_sequence(t), to_np(t).T)  # three sequences of length 2
    _raises(RuntimeError, "received an empty list of sequences", pad_sequence, [])
    _raises(
        RuntimeError,
        "Expected padding_side to be one of left or right, but got middle.",
        pad_sequence,
        [t],
        False,
        0.0,
        "middle",
    )
    with pytest.raises(RuntimeError, match="pad_sequence: Expected iterable for input sequences"):
        pad_sequence(3)


def test_unpad_pack_unpack_roundtrips(device, rng):
    seqs = [rand(rng, (n, 2), device) for n in (2, 5, 3)]
    padded = pad_sequence(seqs)
    lengths = torch.tensor([2, 5, 3])
    for got, ref in zip(unpad_sequence(padded, lengths), seqs):
        assert_close_np(got, to_np(ref))
    for got, ref in zip(
        unpad_sequence(pad_sequence(seqs, batch_first=True), lengths, batch_first=True), seqs
    ):
        assert_close_np(got, to_np(ref))
    unpacked = unpack_sequence(pack_sequence(seqs, enforce_sorted=False))
    assert len(unpacked) == 3
    for got, ref in zip(unpacked, seqs):
        assert_close_np(got, to_np(ref))
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_sequence(seqs)


def test_packed_sequence_object(device, rng):
    packed = pack_sequence(
        [rand(rng, (3, 2), device), rand(rng, (1, 2), device)], enforce_sorted=False
    )
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert data is packed.data and batch_sizes is packed.batch_sizes
    assert packed._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert packed.to(F64) is packed
    as_f32 = packed.to(torch.float32)
    assert isinstance(as_f32, PackedSequence) and as_f32.data.dtype == torch.float32
    assert (
        as_f32.batch_sizes is packed.batch_sizes and as_f32.sorted_indices is packed.sorted_indices
    )
    assert packed.float().data.dtype == torch.float32 and packed.long().data.dtype == torch.int64
    assert packed.cpu().data.device.type == "cpu"
    assert packed.is_cuda == (device != "cpu")
    p2 = PackedSequence(packed.data, packed.batch_sizes)
    assert p2.sorted_indices is None and p2.unsorted_indices is None
    p3 = PackedSequence(packed.data, packed.batch_sizes, torch.tensor([2, 0, 1], device=device))
    assert to_np(p3.unsorted_indices).tolist() == [1, 2, 0]
    assert invert_permutation(None) is None
    if device != "cpu":
        with pytest.raises(ValueError, match="batch_sizes should always be on CPU"):
            PackedSequence(packed.data, packed.batch_sizes.to(device))


def test_gradcheck_pack_pad_roundtrip(device, rng):
    x = rand(rng, (3, 3, 2), device, requires_grad=True)

    def f(x):
        packed = pack_padded_sequence(x, [1, 3, 2], batch_first=True, enforce_sorted=False)
        return packed.data, pad_packed_sequence(packed, total_length=4, padding_value=0.5)[0]

    assert gradcheck(f, (x,))
    a, b = (
        rand(rng, (2, 2), device, requires_grad=True),
        rand(rng, (3, 2), device, requires_grad=True),
    )
    assert gradcheck(lambda a, b: pad_sequence([a, b], padding_side="left"), (a, b))


@settings(max_examples=30, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 5), min_size=1, max_size=5),
    batch_first=st.booleans(),
    extra=st.integers(0, 2),
)
def test_pack_pad_roundtrip_random_lengths(device, lengths, batch_first, extra):
    rng = np.random.default_rng(len(lengths))
    seqs = [rng.standard_normal((n, 2)) for n in lengths]
    packed = pack_sequence(
        [torch.tensor(s, dtype=F64, device=device) for s in seqs], enforce_sorted=False
    )
    # Ties may come in any order: take the permutation from the result, check it sorts.
    order = to_np(packed.sorted_indices).tolist()
    assert sorted(order) == list(range(len(lengths)))
    sorted_lengths = [lengths[b] for b in order]
    assert sorted_lengths == sorted(lengths, reverse=True)
    assert to_np(packed.unsorted_indices).tolist() == np.argsort(order).tolist()
    padded_sorted = np.zeros((max(lengths), len(lengths), 2))
    for j, b in enumerate(order):
        padded_sorted[: lengths[b], j] = seqs[b]
    ref_rows, ref_batch_sizes = np_pack(padded_sorted, sorted_lengths)
    assert to_np(packed.batch_sizes).tolist() == ref_batch_sizes
    assert_close_np(packed.data, ref_rows)
    total = max(lengths) + extra
    padded, got_lengths = pad_packed_sequence(packed, batch_first=batch_first, total_length=total)
    assert to_np(got_lengths).tolist() == lengths
    padded = to_np(padded) if batch_first else to_np(padded).transpose(1, 0, 2)
    assert padded.shape == (len(lengths), total, 2)
    for b, s in enumerate(seqs):
        np.testing.assert_array_equal(padded[b, : len(s)], s)
        np.testing.assert_array_equal(padded[b, len(s) :], 0.0)
