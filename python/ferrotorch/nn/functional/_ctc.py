"""``ctc_loss``: the connectionist temporal classification loss, by the forward (alpha)
recursion in log space, vectorised over the batch and the extended label states."""

import math

import ferrotorch as torch

from ._loss import _check_reduction, _type_name, _zeros_like_scalar

# Stands in for log(0) in the CTC recursion: finite, so that the gradient of logsumexp over
# unreachable states is 0 rather than 0 * inf = nan, and far below any reachable log-likelihood.
_CTC_NEG = -1e30

_CTC_FROM = "(while checking arguments for ctc_loss_allocate_outputs)"


def _host_lengths(lengths, name):
    """Lengths as a list of Python ints (torch reads them on the host too)."""
    if isinstance(lengths, torch.Tensor):
        if lengths.is_floating_point() or lengths.dtype == torch.bool:
            raise RuntimeError(f"{name} must be integral")
        values = lengths.tolist()
        return values if isinstance(values, list) else [values]
    if isinstance(lengths, (list, tuple)):
        return [int(v) for v in lengths]
    raise TypeError(f"ctc_loss(): argument '{name}' must be a Tensor or a tuple of ints, not {type(lengths).__name__}")


def _ctc_check(log_probs, targets, in_lens, tg_lens, blank):
    if log_probs.dim() != 3:
        raise RuntimeError(
            f"Expected 3-dimensional tensor, but got {log_probs.dim()}-dimensional tensor for argument #1 "
            f"'log_probs' {_CTC_FROM}"
        )
    if targets.dim() not in (1, 2):
        raise RuntimeError(
            f"Expected 1 to 2 dimensions, but got {targets.dim()}-dimensional tensor for argument #2 'targets' "
            f"{_CTC_FROM}"
        )
    if log_probs.dtype not in (torch.float32, torch.float64):
        kernel = "ctc_loss_cuda" if log_probs.is_cuda else "ctc_loss_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(log_probs)}'")
    t_max, batch, n_labels = log_probs.shape
    if not 0 <= blank < n_labels:
        raise RuntimeError("blank must be in label range")
    if len(in_lens) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(tg_lens) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    for length in tg_lens:
        if length < 0:
            raise RuntimeError(
                f"Expected target_lengths to have value at least 0, but got value {length} {_CTC_FROM}"
            )
    if targets.dim() == 1:
        if targets.shape[0] != sum(tg_lens):
            raise RuntimeError(
                f"Expected tensor to have size {sum(tg_lens)} at dimension 0, but got size {targets.shape[0]} for "
                f"argument #2 'targets' {_CTC_FROM}"
            )
    else:
        if targets.shape[0] != batch:
            raise RuntimeError(
                f"Expected tensor to have size {batch} at dimension 0, but got size {targets.shape[0]} for "
                f"argument #2 'targets' {_CTC_FROM}"
            )
        longest = max(tg_lens, default=0)
        if targets.shape[1] < longest:
            raise RuntimeError(
                f"Expected tensor to have size at least {longest} at dimension 1, but got size {targets.shape[1]} "
                f"for argument #2 'targets' {_CTC_FROM}"
            )
    for length in in_lens:
        if length < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {length} {_CTC_FROM}")
        if length > t_max:
            raise RuntimeError(
                f"Expected input_lengths to have value at most {t_max}, but got value {length} {_CTC_FROM}"
            )


def _ctc_padded_targets(targets, tg_lens, blank, device):
    """``(N, S)`` int64 targets, ``S`` the longest target, padded with ``blank``."""
    batch, longest = len(tg_lens), max(tg_lens, default=0)
    targets = targets.long()
    lens = torch.tensor(tg_lens, dtype=torch.int64, device=device)
    pos = torch.arange(longest, device=device).unsqueeze(0)
    valid = pos < lens.unsqueeze(1)
    if targets.dim() == 1:
        # Concatenated targets: sample n's labels start at the sum of the earlier lengths.
        starts = [0]
        for length in tg_lens[:-1]:
            starts.append(starts[-1] + length)
        index = torch.tensor(starts, dtype=torch.int64, device=device).unsqueeze(1) + pos
        index = torch.where(valid, index, torch.zeros((), dtype=torch.int64, device=device))
        padded = targets.index_select(0, index.reshape(-1)).reshape(batch, longest) if targets.numel() else index
    else:
        padded = targets[:, :longest]
    return torch.where(valid, padded, torch.full((), blank, dtype=torch.int64, device=device))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification loss: ``-log`` of the total probability of all
    alignments of each target to its input (the forward recursion over the blank-extended target,
    in log space).

    Args:
        log_probs: ``(T, N, C)`` or ``(T, C)`` log-probabilities (e.g. ``log_softmax`` output).
        targets: ``(N, S)`` padded, or 1-D concatenated, class indices (``blank`` excluded).
        input_lengths: ``(N)`` tensor or tuple of ints, each ``<= T``.
        target_lengths: ``(N)`` tensor or tuple of ints.
        blank: the blank label. Default: 0
        reduction: ``'none'`` | ``'mean'`` (each loss divided by its target length, then the batch
            mean) | ``'sum'``. Default: ``'mean'``
        zero_infinity: zero the infinite losses (inputs too short for their targets) and their
            gradients. Default: ``False``

    See :class:`~ferrotorch.nn.CTCLoss` for details.
    """
    reduction = _check_reduction(reduction)
    unbatched = log_probs.dim() == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    in_lens = _host_lengths(input_lengths, "input_lengths")
    tg_lens = _host_lengths(target_lengths, "target_lengths")
    _ctc_check(lp, targets, in_lens, tg_lens, blank)
    dev, dt = lp.device, lp.dtype
    _, batch, _ = lp.shape

    labels = _ctc_padded_targets(targets, tg_lens, blank, dev)
    # Extended labels: blank, l1, blank, l2, ..., blank.
    blanks = torch.full((batch, labels.shape[1]), blank, dtype=torch.int64, device=dev)
    ext = torch.stack([blanks, labels], 2).reshape(batch, -1)
    ext = torch.cat([ext, torch.full((batch, 1), blank, dtype=torch.int64, device=dev)], 1)
    n_states = ext.shape[1]
    prev2 = torch.cat([torch.full((batch, 2), blank, dtype=torch.int64, device=dev), ext[:, :-2]], 1)
    can_skip = (ext != blank) & (ext != prev2)  # a label may follow the previous label directly

    steps = max(in_lens, default=0)
    neg = torch.full((), _CTC_NEG, dtype=dt, device=dev)
    neg_col = torch.full((batch, 1), _CTC_NEG, dtype=dt, device=dev)
    in_t = torch.tensor(in_lens, dtype=torch.int64, device=dev)
    tg_t = torch.tensor(tg_lens, dtype=torch.int64, device=dev)

    if steps > 0:
        emit = lp[:steps].gather(2, ext.unsqueeze(0).expand(steps, batch, n_states)).clamp(min=_CTC_NEG)
        first = torch.arange(n_states, device=dev).unsqueeze(0) < 2
        alpha = torch.where(first, emit[0], neg)
        for t in range(1, steps):
            from1 = torch.cat([neg_col, alpha[:, :-1]], 1)
            from2 = torch.where(can_skip, torch.cat([neg_col, neg_col, alpha[:, :-2]], 1), neg)
            step = torch.logsumexp(torch.stack([alpha, from1, from2]), 0) + emit[t]
            alpha = torch.where((in_t > t).unsqueeze(1), step, alpha)  # finished inputs keep their alpha
        last = alpha.gather(1, (2 * tg_t).unsqueeze(1))
        before = alpha.gather(1, (2 * tg_t - 1).clamp(min=0).unsqueeze(1))
        before = torch.where((tg_t > 0).unsqueeze(1), before, neg_col)
        ll = torch.logsumexp(torch.cat([last, before], 1), 1)
    else:
        ll = torch.zeros(batch, dtype=dt, device=dev)
    # An empty input explains only an empty target.
    ll = torch.where(in_t == 0, torch.where(tg_t == 0, _zeros_like_scalar(neg), neg), ll)

    impossible = ll < _CTC_NEG / 2
    fill = torch.full((), 0.0 if zero_infinity else math.inf, dtype=dt, device=dev)
    loss = torch.where(impossible, fill, -ll)
    if reduction == "mean":
        loss = (loss / tg_t.clamp(min=1).to(dt)).mean()
    elif reduction == "sum":
        loss = loss.sum()
    elif unbatched:
        loss = loss.squeeze(0)
    return loss


__all__ = ["ctc_loss"]
