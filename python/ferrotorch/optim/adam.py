"""Adam (and the shared implementation AdamW builds on)."""

import ferrotorch as torch

from . import _fused
from .optimizer import (
    Optimizer,
    _check_fused_foreach,
    _check_not_sparse,
    _dispatch_sqrt,
    _get_scalar_dtype,
    _get_value,
    _use_grad_for_differentiable,
)

__all__ = ["Adam", "adam"]


class Adam(Optimizer):
    r"""Implements the Adam algorithm (Kingma & Ba).

    .. math::
        g_t = \pm\nabla f(\theta_{t-1});\ \text{weight decay: } g_t \mathrel{+}= \lambda\theta_{t-1}
        \text{ or (decoupled) } \theta_{t-1} \mathrel{*}= 1-\gamma\lambda \\
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t;\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat v = \max(\hat v_{t-1}, v_t) \text{ (amsgrad) else } v_t \\
        \theta_t = \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\, m_t \Big/
            \left(\sqrt{\hat v} / \sqrt{1-\beta_2^t} + \epsilon\right)

    Args:
        params (iterable): parameters or parameter groups to optimize
        lr (float, optional): learning rate (default: 1e-3)
        betas (Tuple[float, float], optional): coefficients of the running averages of the
            gradient and its square (default: (0.9, 0.999))
        eps (float, optional): term added to the denominator for numerical stability (default: 1e-8)
        weight_decay (float, optional): weight decay coefficient (default: 0)
        decoupled_weight_decay (bool, optional): decay the weights directly, as AdamW (default: False)
        amsgrad (bool, optional): use the AMSGrad variant (default: False)
        maximize (bool, optional): maximize the objective instead of minimizing (default: False)
        foreach, capturable, differentiable, fused: accepted for compatibility; the math is the same

    Example:
        >>> optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
        decoupled_weight_decay=False,
    ):
        if isinstance(lr, torch.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)
        _check_fused_foreach(fused, foreach)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)

    def _init_group(
        self, group, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps
    ):
        for p in group["params"]:
            if p.grad is None:
                continue
            params.append(p)
            _check_not_sparse(
                p.grad, "Adam does not support sparse gradients, please consider SparseAdam instead"
            )
            grads.append(p.grad)
            state = self.state[p]
            if len(state) == 0:
                # Lazy state: created on the first step that sees a gradient, as torch.
                state["step"] = torch.tensor(0.0, dtype=_get_scalar_dtype())
                state["exp_avg"] = torch.zeros_like(p)
                state["exp_avg_sq"] = torch.zeros_like(p)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = torch.zeros_like(p)
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            if group["amsgrad"]:
                max_exp_avg_sqs.append(state["max_exp_avg_sq"])
            state_steps.append(state["step"])

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Performs a single optimization step.

        Args:
            closure (Callable, optional): a closure that reevaluates the model and returns the loss.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps = (
                [],
                [],
                [],
                [],
                [],
                [],
            )
            beta1, beta2 = group["betas"]
            self._init_group(
                group, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps
            )
            adam(
                params,
                grads,
                exp_avgs,
                exp_avg_sqs,
                max_exp_avg_sqs,
                state_steps,
                amsgrad=group["amsgrad"],
                beta1=beta1,
                beta2=beta2,
                lr=group["lr"],
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
            )
        return loss


def adam(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    max_exp_avg_sqs,
    state_steps,
    foreach=None,
    capturable=False,
    differentiable=False,
    fused=None,
    grad_scale=None,
    found_inf=None,
    has_complex=False,
    *,
    amsgrad,
    beta1,
    beta2,
    lr,
    weight_decay,
    eps,
    maximize,
    decoupled_weight_decay=False,
):
    r"""Functional API of :class:`Adam`/:class:`AdamW`: updates ``params`` and the state lists in
    place: one fused multi-tensor op (``optim/_fused.py``) when it applies, else the single-tensor
    reference loop."""
    if _fused.applies(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs if amsgrad else [],
                      differentiable=differentiable):
        rows = _fused.adam_rows(_fused.advance(state_steps), lr=float(lr), beta1=beta1,
                                beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                maximize=maximize, decoupled=decoupled_weight_decay)
        states = [exp_avgs, exp_avg_sqs, max_exp_avg_sqs if amsgrad else []]
        _fused.step("adam", params, grads, states, rows)
        return
    _single_tensor_adam(
        params,
        grads,
        exp_avgs,
        exp_avg_sqs,
        max_exp_avg_sqs,
        state_steps,
        amsgrad=amsgrad,
        beta1=beta1,
        beta2=beta2,
        lr=lr,
        weight_decay=weight_decay,
        eps=eps,
        maximize=maximize,
        decoupled_weight_decay=decoupled_weight_decay,
    )


def _single_tensor_adam(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    max_exp_avg_sqs,
    state_steps,
    *,
    amsgrad,
    beta1,
    beta2,
    lr,
    weight_decay,
    eps,
    maximize,
    decoupled_weight_decay,
):
    lr = _get_value(lr)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        exp_avg, exp_avg_sq, step_t = exp_avgs[i], exp_avg_sqs[i], state_steps[i]

        step_t += 1
        if weight_decay != 0:
            if decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)

        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)

        step = _get_value(step_t)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = _dispatch_sqrt(bias_correction2)

        if amsgrad:
            # The running maximum is kept in its own buffer so that exp_avg_sq stays the true
            # moving average.
            torch.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=max_exp_avg_sqs[i])
            denom = (max_exp_avg_sqs[i].sqrt() / bias_correction2_sqrt).add_(eps)
        else:
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        param.add_(exp_avg / denom, alpha=-step_size)
