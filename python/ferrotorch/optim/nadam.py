"""NAdam: Adam with Nesterov momentum."""

import ferrotorch as torch

from . import _fused
from .optimizer import (
    Optimizer,
    _check_not_sparse,
    _get_scalar_dtype,
    _get_value,
    _use_grad_for_differentiable,
)

__all__ = ["NAdam", "nadam"]


class NAdam(Optimizer):
    r"""Implements the NAdam algorithm (Dozat), with torch's momentum-decay schedule.

    .. math::
        \mu_t = \beta_1 (1 - \tfrac12 0.96^{t\psi});\quad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t;\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t = \theta_{t-1} - \gamma\Big(\frac{\mu_{t+1} m_t}{1-\prod_{i\le t+1}\mu_i}
            + \frac{(1-\mu_t) g_t}{1-\prod_{i\le t}\mu_i}\Big) \Big/ \Big(\sqrt{v_t/(1-\beta_2^t)} + \epsilon\Big)

    Args:
        params (iterable): parameters or parameter groups to optimize
        lr (float, optional): learning rate (default: 2e-3)
        betas (Tuple[float, float], optional): coefficients of the running averages (default: (0.9, 0.999))
        eps (float, optional): term added to the denominator (default: 1e-8)
        weight_decay (float, optional): weight decay (default: 0)
        momentum_decay (float, optional): momentum decay :math:`\psi` (default: 4e-3)
        decoupled_weight_decay (bool, optional): decay the weights directly, as AdamW (NAdamW)
            (default: False)
        maximize (bool, optional): maximize the objective instead of minimizing (default: False)
        foreach, capturable, differentiable: accepted for compatibility
    """

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
    ):
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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)

    def _init_group(self, group, params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps):
        for p in group["params"]:
            if p.grad is None:
                continue
            params.append(p)
            _check_not_sparse(p.grad, "NAdam does not support sparse gradients")
            grads.append(p.grad)
            state = self.state[p]
            if len(state) == 0:
                state["step"] = torch.tensor(0.0, dtype=_get_scalar_dtype())
                # The running product of the mu_t lives in a scalar tensor of the step's dtype,
                # as torch (so it is rounded to float32 under the default dtype).
                state["mu_product"] = torch.tensor(1.0, dtype=_get_scalar_dtype())
                state["exp_avg"] = torch.zeros_like(p)
                state["exp_avg_sq"] = torch.zeros_like(p)
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            mu_products.append(state["mu_product"])
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
            params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps = [], [], [], [], [], []
            beta1, beta2 = group["betas"]
            self._init_group(group, params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps)
            nadam(
                params,
                grads,
                exp_avgs,
                exp_avg_sqs,
                mu_products,
                state_steps,
                beta1=beta1,
                beta2=beta2,
                lr=group["lr"],
                weight_decay=group["weight_decay"],
                momentum_decay=group["momentum_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
            )
        return loss


def nadam(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    mu_products,
    state_steps,
    decoupled_weight_decay=False,
    foreach=None,
    capturable=False,
    differentiable=False,
    has_complex=False,
    maximize=False,
    *,
    beta1,
    beta2,
    lr,
    weight_decay,
    momentum_decay,
    eps,
):
    r"""Functional API of :class:`NAdam`: one fused multi-tensor
    op (``optim/_fused.py``) when it applies, else the single-tensor reference loop."""
    if _fused.applies(params, grads, exp_avgs, exp_avg_sqs, differentiable=differentiable):
        rows = _fused.nadam_rows(_fused.advance(state_steps), mu_products, lr=float(lr),
                                 beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                                 momentum_decay=momentum_decay,
                                 decoupled=decoupled_weight_decay, maximize=maximize)
        _fused.step("nadam", params, grads, [exp_avgs, exp_avg_sqs], rows)
        return
    _single_tensor_nadam(
        params,
        grads,
        exp_avgs,
        exp_avg_sqs,
        mu_products,
        state_steps,
        beta1=beta1,
        beta2=beta2,
        lr=lr,
        weight_decay=weight_decay,
        momentum_decay=momentum_decay,
        eps=eps,
        maximize=maximize,
        decoupled_weight_decay=decoupled_weight_decay,
    )


def _single_tensor_nadam(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    mu_products,
    state_steps,
    *,
    beta1,
    beta2,
    lr,
    weight_decay,
    momentum_decay,
    eps,
    maximize,
    decoupled_weight_decay,
):
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        exp_avg, exp_avg_sq, mu_product, step_t = (
            exp_avgs[i],
            exp_avg_sqs[i],
            mu_products[i],
            state_steps[i],
        )

        step_t += 1
        step = _get_value(step_t)
        bias_correction2 = 1 - beta2**step

        if weight_decay != 0:
            if decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)

        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product *= mu

        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)

        mu_product_value = _get_value(mu_product)
        mu_product_next = mu_product_value * mu_next
        param.add_(grad / denom, alpha=-lr * (1.0 - mu) / (1.0 - mu_product_value))
        param.add_(exp_avg / denom, alpha=-lr * mu_next / (1.0 - mu_product_next))
