"""Recurrent layers: RNN, LSTM, GRU and their single-step cells RNNCell, LSTMCell, GRUCell.

Every layer and direction projects its whole input with one matrix product up front
(``x @ W_ih^T`` for all time steps at once), then runs a Python loop over the time steps with
one matrix product per step for the hidden projection; an LSTM or GRU step's gates and state
update are one fused op (``_thnn_fused_lstm_cell`` / ``_thnn_fused_gru_cell``). Sequences are
processed in the packed layout of :class:`~ferrotorch.nn.utils.rnn.PackedSequence` (rows of
step ``t`` follow those of step ``t - 1``); a padded batch is the special case where every step
has the full batch.
"""

import math
import numbers
import warnings

import ferrotorch as torch
from ferrotorch import _C

from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _input_projection(mode, x, w_ih, b_ih, b_hh):
    """``x @ W_ih^T`` plus the biases that can be added before the recurrence, for ``(N, in)`` x."""
    # RNN and LSTM add both biases next to each other, so b_hh folds into the up-front product;
    # GRU's b_hn sits inside r * (W_hn h + b_hn) and must stay in the per-step product.
    if b_ih is None:
        return x.matmul(w_ih.t())
    bias = b_ih if mode == "GRU" else b_ih + b_hh
    return torch.addmm(bias, x, w_ih.t())


def _step(mode, gi, state, w_hh_t, b_hh, w_hr_t):
    """One time step: ``gi`` is the input projection of the step, ``state`` is ``(h,)`` or
    ``(h, c)``; returns the new state. ``b_hh`` is only passed for GRU (folded into ``gi``
    otherwise), ``w_hr_t`` only for LSTM with projections."""
    h = state[0]
    if mode == "GRU":
        gh = h.mm(w_hh_t) if b_hh is None else torch.addmm(b_hh, h, w_hh_t)
        return (_C._thnn_fused_gru_cell(gi, gh, h),)
    gates = torch.addmm(gi, h, w_hh_t)
    if mode == "RNN_TANH":
        return (torch.tanh(gates),)
    if mode == "RNN_RELU":
        return (torch.relu(gates),)
    h, c = _C._thnn_fused_lstm_cell(gates, state[1])
    if w_hr_t is not None:
        h = h.mm(w_hr_t)
    return (h, c)


def _run_direction(mode, gi, batch_sizes, state0, w_hh_t, b_hh, w_hr_t, reverse):
    """Runs one layer in one direction over packed input projections ``gi`` ``(N, gates)``.

    ``batch_sizes`` (list of int, non-increasing) says how many sequences run at each step;
    ``state0`` holds the ``(B, *)`` initial states. Returns the ``(N, H_out)`` outputs in packed
    order and the final states ``(B, *)``.
    """
    if not batch_sizes:
        h0 = state0[0]
        return torch.zeros((0, h0.shape[1]), dtype=h0.dtype, device=h0.device), state0
    # One split, not a slice per step: the backward of a slice is a full-size gradient, which
    # would make the backward quadratic in the sequence length.
    steps = gi.split(batch_sizes)
    outs = []
    if not reverse:
        # Sequences drop out of the end of the batch as they finish; their last state is kept.
        state, finished = state0, []
        for gi_t, bs in zip(steps, batch_sizes):
            running = state[0].shape[0]
            if bs < running:
                halves = [s.split([bs, running - bs]) for s in state]
                finished.append(tuple(done for _, done in halves))
                state = tuple(kept for kept, _ in halves)
            state = _step(mode, gi_t, state, w_hh_t, b_hh, w_hr_t)
            outs.append(state[0])
        if finished:
            parts = [state] + finished[::-1]
            state = tuple(torch.cat([p[k] for p in parts]) for k in range(len(state)))
    else:
        # Walking backwards, each sequence joins at its own last step with its initial state.
        state = tuple(s[: batch_sizes[-1]] for s in state0)
        for gi_t, bs in zip(reversed(steps), reversed(batch_sizes)):
            if bs > state[0].shape[0]:
                state = tuple(torch.cat([s, s0[s.shape[0] : bs]]) for s, s0 in zip(state, state0))
            state = _step(mode, gi_t, state, w_hh_t, b_hh, w_hr_t)
            outs.append(state[0])
        outs.reverse()
    return (outs[0] if len(outs) == 1 else torch.cat(outs)), state


def _rnn(
    mode, data, batch_sizes, hx, weights, has_biases, num_layers, dropout, train, bidirectional
):
    """The multi-layer recurrence over packed rows ``data`` ``(N, input_size)``.

    ``hx`` is ``(h0,)`` or ``(h0, c0)`` of shape ``(num_layers * D, B, *)``; ``weights`` is the
    flat list ``[w_ih, w_hh, (b_ih, b_hh), (w_hr)]`` per layer and direction. Returns the last
    layer's ``(N, D * H_out)`` outputs and the final states, shaped as ``hx``.
    """
    num_directions = 2 if bidirectional else 1
    per_layer = len(weights) // (num_layers * num_directions)
    has_proj = per_layer == (4 if has_biases else 2) + 1
    finals = [[] for _ in hx]
    layer_input = data
    for layer in range(num_layers):
        outs = []
        for direction in range(num_directions):
            k = layer * num_directions + direction
            w = weights[k * per_layer : (k + 1) * per_layer]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            w_hr_t = w[-1].t() if has_proj else None
            gi = _input_projection(mode, layer_input, w[0], b_ih, b_hh)
            out, state = _run_direction(
                mode,
                gi,
                batch_sizes,
                tuple(s[k] for s in hx),
                w[1].t(),
                b_hh if mode == "GRU" else None,
                w_hr_t,
                reverse=direction == 1,
            )
            outs.append(out)
            for f, s in zip(finals, state):
                f.append(s)
        layer_input = outs[0] if num_directions == 1 else torch.cat(outs, 1)
        if dropout > 0 and train and layer < num_layers - 1:
            layer_input = F.dropout(layer_input, dropout, training=True)
    return layer_input, tuple(torch.stack(f) for f in finals)


def _check_cell_args(input, hiddens, w_ih, w_hh):
    if input.shape[1] != w_ih.shape[1]:
        raise RuntimeError(
            f"input has inconsistent input_size: got {input.shape[1]} expected {w_ih.shape[1]}"
        )
    for label, hx in enumerate(hiddens):
        if input.shape[0] != hx.shape[0]:
            raise RuntimeError(
                f"Input batch size {input.shape[0]} doesn't match hidden{label} batch size {hx.shape[0]}"
            )
        expected = w_hh.shape[1] if label == 0 else hx.shape[1]
        if hx.shape[1] != expected:
            raise RuntimeError(
                f"hidden{label} has inconsistent hidden_size: got {hx.shape[1]}, expected {expected}"
            )


def _cell(mode, input, hiddens, w_ih, w_hh, b_ih, b_hh):
    _check_cell_args(input, hiddens, w_ih, w_hh)
    gi = _input_projection(mode, input, w_ih, b_ih, b_hh)
    return _step(mode, gi, hiddens, w_hh.t(), b_hh if mode == "GRU" else None, None)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` for ``(N, in)`` input and ``(N, H)`` hx."""
    return _cell("RNN_TANH", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""``h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)`` for ``(N, in)`` input and ``(N, H)`` hx."""
    return _cell("RNN_RELU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""One LSTM step (gates ordered i, f, g, o); ``hx = (h, c)``; returns ``(h', c')``."""
    return _cell("LSTM", input, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    r"""One GRU step (gates ordered r, z, n; ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``)."""
    return _cell("GRU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


class RNNBase(Module):
    r"""Base class of :class:`RNN`, :class:`LSTM` and :class:`GRU`: builds the parameters with
    torch's names (``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``,
    ``weight_hr_l{k}``, with ``_reverse`` for the backward direction) and runs the recurrence."""

    def __init__(
        self,
        mode,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not 0 <= dropout <= 1
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=2,
            )
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)

        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size

        kw = {"device": device, "dtype": dtype}
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                params = [
                    (f"weight_ih_l{layer}{suffix}", (gate_size, layer_input_size)),
                    (f"weight_hh_l{layer}{suffix}", (gate_size, real_hidden_size)),
                ]
                if bias:
                    params += [
                        (f"bias_ih_l{layer}{suffix}", (gate_size,)),
                        (f"bias_hh_l{layer}{suffix}", (gate_size,)),
                    ]
                if proj_size > 0:
                    params.append((f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size)))
                for name, shape in params:
                    setattr(self, name, Parameter(torch.empty(shape, **kw)))
                names = [name for name, _ in params]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        # Read by name at every use, so reassigned parameters are always the ones used.
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        r"""The parameters as a list per layer and direction, in ``_all_weights`` order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        r"""Kept for compatibility: the weights are used where they are, so this does nothing."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def check_input(self, input, batch_sizes):
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype:
            raise ValueError(f"input must have the type {weight_dtype}, got type {input.dtype}")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(
                f"input must have {expected_input_dim} dimensions, got {input.dim()}"
            )
        if self.input_size != input.shape[-1]:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.shape[0] if self.batch_first else input.shape[1]
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.shape)))

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return hx.index_select(1, permutation)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _zeros_state(self, input, batch):
        num_directions = 2 if self.bidirectional else 1
        out_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        sizes = [out_size, self.hidden_size] if self.mode == "LSTM" else [out_size]
        return tuple(
            torch.zeros(
                (self.num_layers * num_directions, batch, n), dtype=input.dtype, device=input.device
            )
            for n in sizes
        )

    def _check_hx_dims(self, hx, expected_dim):
        batched = expected_dim == 3
        if self.mode == "LSTM":
            if hx[0].dim() != expected_dim or hx[1].dim() != expected_dim:
                what = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(
                    f"For {what} input, hx and cx should also be {expected_dim}-D but got "
                    f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors"
                )
        elif hx.dim() != expected_dim:
            what = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(
                f"For {what} input, hx should also be {expected_dim}-D but got {hx.dim()}-D tensor"
            )

    def _forward(self, input, hx):
        """Shared forward of RNN, LSTM and GRU; ``hx`` is a tensor, or an ``(h, c)`` pair for LSTM."""
        is_lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        if packed:
            input, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = batch_sizes_t.tolist()
            max_batch = batch_sizes[0]
            # The state's batch follows the caller's order; the packed rows are sorted by length.
            hx = self.permute_hidden(hx, sorted_indices) if hx is not None else None
        else:
            batch_sizes_t = sorted_indices = unsorted_indices = None
            if input.dim() not in (2, 3):
                tail = "D instead" if is_lstm or self.mode == "GRU" else "D tensor instead"
                name = {"LSTM": "LSTM", "GRU": "GRU"}.get(self.mode, "RNN")
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}{tail}")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
            if hx is not None:
                self._check_hx_dims(hx, 3 if is_batched else 2)
                if not is_batched:
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1)) if is_lstm else hx.unsqueeze(1)
            max_batch = input.shape[0] if self.batch_first else input.shape[1]

        if hx is None:
            state = self._zeros_state(input, max_batch)
        else:
            state = tuple(hx) if is_lstm else (hx,)
        self.check_forward_args(input, state if is_lstm else state[0], batch_sizes_t)

        if packed:
            data = input
        else:
            steps = input.transpose(0, 1) if self.batch_first else input
            seq_len = steps.shape[0]
            data = steps.reshape(seq_len * max_batch, self.input_size)
            batch_sizes = [max_batch] * seq_len
        out, state = _rnn(
            self.mode,
            data,
            batch_sizes,
            state,
            self._flat_weights,
            self.bias,
            self.num_layers,
            self.dropout,
            self.training,
            self.bidirectional,
        )
        hidden = state if is_lstm else state[0]
        if packed:
            output = PackedSequence(out, batch_sizes_t, sorted_indices, unsorted_indices)
            return output, self.permute_hidden(hidden, unsorted_indices)
        output = out.reshape(seq_len, max_batch, out.shape[-1])
        if self.batch_first:
            output = output.transpose(0, 1)
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = tuple(s.squeeze(1) for s in state) if is_lstm else hidden.squeeze(1)
        return output, hidden


class RNN(RNNBase):
    r"""A multi-layer Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``
    (``relu`` instead of ``tanh`` with ``nonlinearity='relu'``).

    Args:
        input_size: the number of features of the input ``x``
        hidden_size: the number of features of the hidden state ``h``
        num_layers: the number of stacked recurrent layers. Default: 1
        nonlinearity: ``'tanh'`` or ``'relu'``. Default: ``'tanh'``
        bias: if ``False``, the layers have no ``b_ih`` and ``b_hh``. Default: ``True``
        batch_first: if ``True``, input and output are ``(N, L, H)`` instead of ``(L, N, H)``
            (the hidden state is not affected). Default: ``False``
        dropout: if non-zero, dropout with this probability on the outputs of every layer but the
            last, in training mode. Default: 0
        bidirectional: if ``True``, a bidirectional RNN. Default: ``False``

    Shape:
        - input: ``(L, H_in)`` unbatched, ``(L, N, H_in)`` or ``(N, L, H_in)`` with
          ``batch_first``, or a :class:`~ferrotorch.nn.utils.rnn.PackedSequence`.
        - hx: ``(D * num_layers, H_out)`` or ``(D * num_layers, N, H_out)``; zeros if omitted.
        - output: ``(L, D * H_out)``, ``(L, N, D * H_out)`` or ``(N, L, D * H_out)`` (packed if the
          input is); h_n: like hx.

    All weights and biases are drawn from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
        **kwargs,
    ):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(
                f"RNN.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'"
            )
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if nonlinearity not in modes:
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(
            modes[nonlinearity],
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class LSTM(RNNBase):
    r"""A multi-layer long short-term memory RNN. Each layer computes (gates ordered i, f, g, o
    in the weights)::

        i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
        f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
        o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    With ``proj_size > 0``, ``h_t = W_hr (o_t * tanh(c_t))`` has ``proj_size`` features.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional: as
            :class:`RNN`
        proj_size: if ``> 0``, an LSTM with projections of this size. Default: 0

    Shape:
        - input: as :class:`RNN`; hx: an optional pair ``(h_0, c_0)`` of ``(D * num_layers, N,
          H_out)`` and ``(D * num_layers, N, hidden_size)`` (without ``N`` when unbatched).
        - output: as :class:`RNN`; ``(h_n, c_n)`` shaped as ``(h_0, c_0)``.

    All weights and biases are drawn from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device=device,
            dtype=dtype,
        )

    def get_expected_cell_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.shape[0] if self.batch_first else input.shape[1]
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(
            hidden[0],
            self.get_expected_hidden_size(input, batch_sizes),
            "Expected hidden[0] size {}, got {}",
        )
        self.check_hidden_size(
            hidden[1],
            self.get_expected_cell_size(input, batch_sizes),
            "Expected hidden[1] size {}, got {}",
        )

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return hx[0].index_select(1, permutation), hx[1].index_select(1, permutation)

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class GRU(RNNBase):
    r"""A multi-layer gated recurrent unit RNN. Each layer computes (gates ordered r, z, n in the
    weights)::

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    Args and shapes as :class:`RNN` (without ``nonlinearity``).

    All weights and biases are drawn from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
        **kwargs,
    ):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(
                f"GRU.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'"
            )
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class RNNCellBase(Module):
    r"""Base class of the cells: ``weight_ih`` ``(chunks * hidden, input)``, ``weight_hh``
    ``(chunks * hidden, hidden)``, ``bias_ih`` and ``bias_hh`` ``(chunks * hidden)``."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(torch.empty((num_chunks * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(torch.empty((num_chunks * hidden_size, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(torch.empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(torch.empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _batch(self, name, input, hx, labels):
        """Checks dimensions as torch does, then adds the batch dimension to unbatched ``input``
        and ``hx`` (a tuple, one tensor per label; zeros when ``None``)."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None:
            for label, value in zip(labels, hx):
                if value.dim() not in (1, 2):
                    raise ValueError(
                        f"{name}: Expected {label} to be 1D or 2D, got {value.dim()}D instead"
                    )
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = torch.zeros(
                (input.shape[0], self.hidden_size), dtype=input.dtype, device=input.device
            )
            hx = (zeros,) * len(labels)
        elif not is_batched:
            hx = tuple(h.unsqueeze(0) for h in hx)
        return input, hx, is_batched


class RNNCell(RNNCellBase):
    r"""An Elman RNN cell: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (``relu`` with
    ``nonlinearity='relu'``).

    Args:
        input_size: the number of features of the input ``x``
        hidden_size: the number of features of the hidden state ``h``
        bias: if ``False``, no ``b_ih`` and ``b_hh``. Default: ``True``
        nonlinearity: ``'tanh'`` or ``'relu'``. Default: ``'tanh'``

    Shape:
        - input ``(N, H_in)`` or ``(H_in)``; hidden ``(N, H_out)`` or ``(H_out)`` (zeros if
          omitted); output like hidden.
    """

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (hx,), is_batched = self._batch(
            "RNNCell", input, None if hx is None else (hx,), ("hidden",)
        )
        if self.nonlinearity == "tanh":
            ret = rnn_tanh_cell(
                input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
            )
        elif self.nonlinearity == "relu":
            ret = rnn_relu_cell(
                input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
            )
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return ret if is_batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    r"""A long short-term memory cell (gates ordered i, f, g, o)::

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
        f = sigmoid(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)
        o = sigmoid(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g
        h' = o * tanh(c')

    Args:
        input_size, hidden_size, bias: as :class:`RNNCell`

    Shape:
        - input ``(N, H_in)`` or ``(H_in)``; hx an optional pair ``(h_0, c_0)`` of ``(N, H)`` or
          ``(H)`` (zeros if omitted); returns ``(h_1, c_1)`` shaped likewise.
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        hx = None if hx is None else tuple(hx)
        input, hx, is_batched = self._batch("LSTMCell", input, hx, ("hx[0]", "hx[1]"))
        h, c = lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    r"""A gated recurrent unit cell (gates ordered r, z, n)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Args and shapes as :class:`RNNCell` (without ``nonlinearity``).
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (hx,), is_batched = self._batch(
            "GRUCell", input, None if hx is None else (hx,), ("hidden",)
        )
        ret = gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return ret if is_batched else ret.squeeze(0)


__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
