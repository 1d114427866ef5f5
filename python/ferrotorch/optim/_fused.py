"""The fused multi-tensor path of the optimizers: each functional API (``sgd``, ``adam`` ...)
computes one row of constants per parameter (learning rate, bias corrections from that
parameter's own step count) and hands every parameter of the group to ``_C._fused_step``, one
Rust op that updates parameters and state buffers in a single pass (one kernel launch per
device and dtype on CUDA). The element-wise math lives in ``rust/core/src/cpu/optim.rs`` and
``rust/core/src/cuda/kernels/optim.cu``; the rows below follow the layouts documented there.

The single-tensor loops in each optimizer file remain the reference and the fallback when the
fused op does not apply: a differentiable step, or buffers that are not contiguous.
"""

import math

from .. import _C


def applies(params, grads, *state_lists, differentiable=False):
    """Whether the fused op can take these tensors: contiguous floating tensors whose
    gradients and states match their parameter's dtype, device and size."""
    if differentiable or not params:
        return False
    for i, p in enumerate(params):
        group = [grads[i]] + [s[i] for s in state_lists if s]
        if not p.is_floating_point() or not p.is_contiguous():
            return False
        for t in group:
            if t is None:  # a buffer created on this step (SGD's momentum)
                continue
            if (t.dtype != p.dtype or t.device != p.device or not t.is_contiguous()
                    or t.numel() != p.numel()):
                return False
    return True


def step(rule, params, grads, state_lists, rows):
    """Runs ``rule`` once per (device, dtype) group of ``params``; ``state_lists`` holds up to
    three lists of buffers (an empty list: a buffer the rule does not use)."""
    groups = {}
    for i, p in enumerate(params):
        groups.setdefault((str(p.device), p.dtype), []).append(i)
    for index in groups.values():
        def pick(xs):
            return [xs[i] for i in index]

        _C._fused_step(
            rule,
            pick(params),
            [g.detach() for g in pick(grads)],
            [pick(s) if s else [] for s in state_lists],
            pick(rows),
        )


def advance(state_steps):
    """Adds one to each parameter's step count (0-d tensors, as torch keeps them) and returns
    the new counts as numbers."""
    steps = []
    for step_t in state_steps:
        step_t += 1
        steps.append(step_t.item())
    return steps


def _flag(b):
    return 1.0 if b else 0.0


def sgd_rows(n, first, *, lr, weight_decay, momentum, dampening, nesterov, maximize):
    return [[lr, weight_decay, momentum, dampening, _flag(nesterov), _flag(maximize),
             _flag(first[i])] for i in range(n)]


def adam_rows(steps, *, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled):
    rows = []
    for step in steps:
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        rows.append([lr, beta1, beta2, eps, weight_decay, lr / bias_correction1,
                     math.sqrt(bias_correction2), _flag(amsgrad), _flag(maximize),
                     _flag(decoupled)])
    return rows


def rmsprop_rows(n, *, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    return [[lr, alpha, eps, weight_decay, momentum, _flag(centered), _flag(maximize)]] * n


def adagrad_rows(steps, *, lr, lr_decay, weight_decay, eps, maximize):
    return [[lr / (1 + (step - 1) * lr_decay), weight_decay, eps, _flag(maximize)]
            for step in steps]


def adadelta_rows(n, *, lr, rho, eps, weight_decay, maximize):
    return [[lr, rho, eps, weight_decay, _flag(maximize)]] * n


def adamax_rows(steps, *, lr, beta1, beta2, eps, weight_decay, maximize):
    return [[lr / (1 - beta1**step), beta1, beta2, eps, weight_decay, _flag(maximize)]
            for step in steps]


def nadam_rows(steps, mu_products, *, lr, beta1, beta2, eps, weight_decay, momentum_decay,
               decoupled, maximize):
    """Also advances each parameter's ``mu_product`` (a 0-d tensor) as torch does."""
    rows = []
    for step, mu_product in zip(steps, mu_products):
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product *= mu
        product = mu_product.item()
        rows.append([lr, beta1, beta2, eps, weight_decay, _flag(decoupled), _flag(maximize),
                     1 - beta2**step, lr * (1.0 - mu) / (1.0 - product),
                     lr * mu_next / (1.0 - product * mu_next)])
    return rows


def radam_rows(steps, *, lr, beta1, beta2, eps, weight_decay, decoupled, maximize):
    rows = []
    rho_inf = 2 / (1 - beta2) - 1
    for step in steps:
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        rect = 0.0
        if rho_t > 5.0:
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
        rows.append([lr, beta1, beta2, eps, weight_decay, _flag(decoupled), _flag(maximize),
                     bias_correction1, math.sqrt(bias_correction2), rect])
    return rows
