"""Packing and padding of variable-length sequences for the recurrent layers, as in
``torch.nn.utils.rnn``.

A :class:`PackedSequence` stores the time steps of a batch of sequences, sorted by decreasing
length, one after another: step ``t`` holds the ``batch_sizes[t]`` sequences that are still
running. Packing and unpacking are one gather (``index_select``) each, with the row indices
computed from the lengths by tensor ops, so they are differentiable and device-agnostic.
"""

from collections import namedtuple
from collections.abc import Iterable

import ferrotorch as torch

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]

_PackedSequenceBase = namedtuple(
    "PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"]
)


def _bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(_PackedSequenceBase):
    r"""Holds the data and list of ``batch_sizes`` of a packed sequence.

    Made by :func:`pack_padded_sequence` or :func:`pack_sequence`, accepted by every RNN module.
    ``batch_sizes[t]`` is the number of sequences still running at step ``t`` (not the sequence
    lengths): sequences ``abc`` and ``x`` pack to ``data = axbc`` with ``batch_sizes = [2, 1, 1]``.

    Attributes:
        data (Tensor): the packed steps, ``(sum(batch_sizes), *)``.
        batch_sizes (Tensor): CPU int64 tensor, the batch size at each step.
        sorted_indices (Tensor, optional): how the sequences were reordered by decreasing length.
        unsorted_indices (Tensor, optional): the inverse permutation, to restore the original order.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            # ``PackedSequence((data, batch_sizes), sorted_indices=...)``
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError(
                    "PackedSequence expects data and batch_sizes, or a (data, batch_sizes) pair"
                )
            data, batch_sizes = data
        if batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                "created manually. They should be instantiated by functions like pack_sequence and "
                "pack_padded_sequences in nn.utils.rnn."
            )
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data, index_fn=None):
        # batch_sizes always stays a CPU int64 tensor; the indices follow data's device.
        if index_fn is None:
            return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)
        return type(self)(
            data,
            self.batch_sizes,
            _bind(self.sorted_indices, index_fn),
            _bind(self.unsorted_indices, index_fn),
        )

    def to(self, *args, **kwargs):
        r"""Converts ``data`` like :meth:`Tensor.to`; returns ``self`` when nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return self._with_data(data, lambda t: t.to(data.device))

    def cuda(self, *args, **kwargs):
        r"""A copy with ``data`` on the GPU (``self`` if it is there already)."""
        if self.is_cuda:
            return self
        data = self.data.cuda(*args, **kwargs)
        return self._with_data(data, lambda t: t.to(data.device))

    def cpu(self):
        r"""A copy with ``data`` on the CPU (``self`` if it is there already)."""
        if not self.is_cuda:
            return self
        return self._with_data(self.data.cpu(), lambda t: t.cpu())

    def pin_memory(self):
        return self._with_data(self.data.pin_memory(), lambda t: t.pin_memory())

    def double(self):
        return self._with_data(self.data.double())

    def float(self):
        return self._with_data(self.data.float())

    def half(self):
        return self._with_data(self.data.half())

    def long(self):
        return self._with_data(self.data.long())

    def int(self):
        return self._with_data(self.data.int())

    def short(self):
        return self._with_data(self.data.short())

    def char(self):
        return self._with_data(self.data.char())

    def byte(self):
        return self._with_data(self.data.byte())

    @property
    def is_cuda(self):
        r"""Whether ``data`` is on a GPU."""
        return self.data.is_cuda

    def is_pinned(self):
        r"""Whether ``data`` is in pinned memory."""
        return self.data.is_pinned()


def invert_permutation(permutation):
    r"""The inverse of a permutation given as an index tensor (``None`` stays ``None``)."""
    if permutation is None:
        return None
    output = torch.empty_like(permutation)
    src = torch.arange(0, permutation.numel(), device=permutation.device, dtype=torch.int64)
    return output.scatter_(0, permutation, src)


def _lengths_tensor(lengths):
    if isinstance(lengths, torch.Tensor):
        return lengths.to(dtype=torch.int64)
    return torch.as_tensor(lengths, dtype=torch.int64, device="cpu")


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    r"""Packs a tensor of padded variable-length sequences.

    Args:
        input (Tensor): ``(T, B, *)`` padded batch (``(B, T, *)`` if ``batch_first``).
        lengths (Tensor or list(int)): the length of each sequence; a tensor must be on the CPU.
        batch_first (bool): whether ``input`` is ``(B, T, *)``. Default: ``False``.
        enforce_sorted (bool): if ``True``, ``lengths`` must be decreasing; if ``False`` the
            sequences are sorted here and the permutation is kept in the result. Default: ``True``.

    Returns:
        a :class:`PackedSequence`.
    """
    lengths = _lengths_tensor(lengths)
    if enforce_sorted:
        sorted_indices = None
    else:
        lengths, sorted_indices = torch.sort(lengths, descending=True)
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)

    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if lengths.dim() != 1 or lengths.device.type != "cpu":
        raise RuntimeError(
            "'lengths' argument should be a 1D CPU int64 tensor, but got "
            f"{lengths.dim()}D {lengths.device} Long tensor"
        )
    steps = input.transpose(0, 1) if batch_first else input
    seq_len, batch_size = steps.shape[0], steps.shape[1]
    if lengths.shape[0] != batch_size:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.shape[0]} "
            f"(batch_size={batch_size})"
        )
    if int(lengths[-1]) <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    if bool((lengths[1:] > lengths[:-1]).any()):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
            "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
            "sidestep this requirement if you do not need ONNX exportability."
        )
    max_len = int(lengths[0])
    if max_len > seq_len:
        raise RuntimeError(
            f"pack_padded_sequence: the longest length ({max_len}) exceeds the padded sequence "
            f"length ({seq_len})"
        )

    # Step t keeps the sequences with length > t; in time-major order those are the first
    # batch_sizes[t] entries of the step, so the running (t, b) pairs in row-major order are
    # exactly the packed rows.
    running = torch.arange(max_len)[:, None] < lengths[None, :]
    batch_sizes = running.sum(1)
    rows = running.reshape(-1).nonzero().squeeze(1).to(input.device)
    flat = steps[:max_len].reshape([max_len * batch_size] + list(steps.shape[2:]))
    return PackedSequence(flat.index_select(0, rows), batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    r"""Pads a packed batch of variable-length sequences: the inverse of :func:`pack_padded_sequence`.

    Args:
        sequence (PackedSequence): the batch to pad.
        batch_first (bool): if ``True``, the output is ``(B, T, *)``. Default: ``False``.
        padding_value (float): the value of padded elements. Default: ``0.0``.
        total_length (int, optional): pad the time dimension to this length (at least the
            longest sequence's, else ``ValueError``).

    Returns:
        ``(padded, lengths)``: the ``(T, B, *)`` (or ``(B, T, *)``) tensor, and the CPU int64
        lengths, both in the batch's original order.
    """
    data, batch_sizes = sequence.data, sequence.batch_sizes
    if batch_sizes.numel() == 0:
        raise RuntimeError("batch_sizes can not be empty")
    max_seq_length = batch_sizes.shape[0]
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, "
                f"but got total_length={total_length} and max sequence length being {max_seq_length}"
            )
    else:
        total_length = max_seq_length

    # Each padded (t, b) position reads packed row offset[t] + b, or the extra padding row
    # appended after the data when sequence b has ended.
    batch_sizes = batch_sizes.to(dtype=torch.int64)
    max_batch = int(batch_sizes[0])
    n = data.shape[0]
    offsets = torch.cumsum(batch_sizes, 0) - batch_sizes
    b = torch.arange(max_batch)
    running = b[None, :] < batch_sizes[:, None]
    src = torch.where(running, offsets[:, None] + b[None, :], n)
    if total_length > max_seq_length:
        src = torch.cat(
            [src, torch.full((total_length - max_seq_length, max_batch), n, dtype=torch.int64)]
        )
    rest = list(data.shape[1:])
    pad_row = torch.full([1] + rest, padding_value, dtype=data.dtype, device=data.device)
    padded = torch.cat([data, pad_row]).index_select(0, src.reshape(-1).to(data.device))
    padded = padded.reshape([total_length, max_batch] + rest)
    lengths = running.sum(0)
    if batch_first:
        padded = padded.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths.index_select(0, sequence.unsorted_indices.cpu())
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    r"""Stacks variable-length sequences ``(L_i, *)`` into one padded tensor.

    Args:
        sequences (list[Tensor]): the sequences (a tensor counts as the sequence of its rows).
        batch_first (bool): if ``True`` the result is ``(B, T, *)``, else ``(T, B, *)``.
            Default: ``False``.
        padding_value (float): the value of padded elements. Default: ``0.0``.
        padding_side (str): ``"right"`` or ``"left"``: where the padding goes. Default: ``"right"``.

    Returns:
        ``(T, B, *)`` (or ``(B, T, *)``) tensor, ``T`` the longest length.
    """
    if isinstance(sequences, torch.Tensor):
        sequences = sequences.unbind(0)
    elif not isinstance(sequences, Iterable):
        raise RuntimeError(
            f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}"
        )
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    max_len = max(s.shape[0] for s in sequences)
    trailing = list(sequences[0].shape[1:])
    first = sequences[0]
    padded = []
    for s in sequences:
        extra = max_len - s.shape[0]
        if extra:
            fill = torch.full(
                [extra] + trailing, padding_value, dtype=first.dtype, device=first.device
            )
            s = torch.cat([s, fill] if padding_side == "right" else [fill, s])
        padded.append(s)
    return torch.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    r"""Splits a padded tensor back into a list of variable-length sequences.

    Args:
        padded_sequences (Tensor): ``(T, B, *)`` (or ``(B, T, *)`` if ``batch_first``).
        lengths (Tensor): the length of each sequence.
        batch_first (bool): whether the input is ``(B, T, *)``. Default: ``False``.

    Returns:
        a list of ``B`` tensors ``(L_i, *)``.
    """
    batch = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    lengths = lengths.tolist() if isinstance(lengths, torch.Tensor) else list(lengths)
    return [batch[i, : int(n)] for i, n in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    r"""Packs a list of variable-length sequences ``(L_i, *)``.

    Args:
        sequences (list[Tensor]): the sequences, by decreasing length if ``enforce_sorted``.
        enforce_sorted (bool): see :func:`pack_padded_sequence`. Default: ``True``.

    Returns:
        a :class:`PackedSequence`.
    """
    lengths = torch.as_tensor([s.shape[0] for s in sequences], dtype=torch.int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    r"""Unpacks a :class:`PackedSequence` into the list of its sequences, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
