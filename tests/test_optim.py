"""ferrotorch.optim against NumPy references written from torch's documented algorithms.

Each reference below follows the pseudo-code of the optimizer's torch documentation (with the
gradient negated first under ``maximize``, as torch's implementation does). Ten steps on two
float64 parameters with fixed random gradients must agree to ~1e-12 relative.
"""

import copy
import math
import warnings

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import optim

SHAPES = [(4, 3), (5,)]
STEPS = 10


# -- NumPy references (one update of one parameter; ``s`` is that parameter's state) ---------


def _decay(p, g, lr, wd, decoupled=False):
    if wd != 0:
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
    return p, g


def ref_sgd(
    p, g, s, t, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False
):
    g = -g if maximize else g
    p, g = _decay(p, g, lr, weight_decay)
    if momentum != 0:
        s["b"] = g.copy() if t == 1 else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return p - lr * g


def ref_adam(
    p,
    g,
    s,
    t,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    amsgrad=False,
    maximize=False,
    decoupled_weight_decay=False,
):
    b1, b2 = betas
    g = -g if maximize else g
    p, g = _decay(p, g, lr, weight_decay, decoupled_weight_decay)
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    v = s["v"]
    if amsgrad:
        s["vmax"] = v = np.maximum(s.get("vmax", 0), v)
    m_hat = s["m"] / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_adamw(p, g, s, t, weight_decay=1e-2, **kw):
    return ref_adam(p, g, s, t, weight_decay=weight_decay, decoupled_weight_decay=True, **kw)


def ref_rmsprop(
    p,
    g,
    s,
    t,
    lr=1e-2,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0,
    momentum=0,
    centered=False,
    maximize=False,
):
    g = -g if maximize else g
    p, g = _decay(p, g, lr, weight_decay)
    s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
    v = s["v"]
    if centered:
        s["gavg"] = alpha * s.get("gavg", 0) + (1 - alpha) * g
        v = v - s["gavg"] ** 2
    denom = np.sqrt(v) + eps
    if momentum > 0:
        s["b"] = momentum * s.get("b", 0) + g / denom
        return p - lr * s["b"]
    return p - lr * g / denom


def ref_adagrad(
    p,
    g,
    s,
    t,
    lr=1e-2,
    lr_decay=0,
    weight_decay=0,
    initial_accumulator_value=0,
    eps=1e-10,
    maximize=False,
):
    g = -g if maximize else g
    p, g = _decay(p, g, lr, weight_decay)
    clr = lr / (1 + (t - 1) * lr_decay)
    s["sum"] = s.get("sum", initial_accumulator_value) + g * g
    return p - clr * g / (np.sqrt(s["sum"]) + eps)


def ref_adadelta(p, g, s, t, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    g = -g if maximize else g
    p, g = _decay(p, g, lr, weight_decay)
    s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
    dx = np.sqrt(s.get("u", 0) + eps) / np.sqrt(s["v"] + eps) * g
    s["u"] = rho * s.get("u", 0) + (1 - rho) * dx * dx
    return p - lr * dx


def ref_adamax(p, g, s, t, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False):
    b1, b2 = betas
    g = -g if maximize else g
    p, g = _decay(p, g, lr, weight_decay)
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g) + eps)
    return p - lr / (1 - b1**t) * s["m"] / s["u"]


def ref_nadam(
    p,
    g,
    s,
    t,
    lr=2e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    momentum_decay=4e-3,
    decoupled_weight_decay=False,
    maximize=False,
):
    b1, b2 = betas
    g = -g if maximize else g
    p, g = _decay(p, g, lr, weight_decay, decoupled_weight_decay)
    mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    # torch keeps the running product in a float32 scalar tensor (the default scalar dtype).
    s["mu_prod"] = np.float32(s.get("mu_prod", np.float32(1.0)) * np.float32(mu))
    mu_prod = float(s["mu_prod"])
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    denom = np.sqrt(s["v"] / (1 - b2**t)) + eps
    p = p - lr * (1 - mu) / (1 - mu_prod) * g / denom
    return p - lr * mu_next / (1 - mu_prod * mu_next) * s["m"] / denom


def ref_radam(
    p,
    g,
    s,
    t,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    decoupled_weight_decay=False,
    maximize=False,
):
    b1, b2 = betas
    g = -g if maximize else g
    p, g = _decay(p, g, lr, weight_decay, decoupled_weight_decay)
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    m_hat = s["m"] / (1 - b1**t)
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
    if rho_t > 5:
        adaptive = math.sqrt(1 - b2**t) / (np.sqrt(s["v"]) + eps)
        rect = math.sqrt(
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        )
        return p - lr * m_hat * adaptive * rect
    return p - lr * m_hat


CASES = {
    "SGD": (
        optim.SGD,
        ref_sgd,
        [
            {},
            {"lr": 0.1},
            {"lr": 0.1, "momentum": 0.9},
            {"lr": 0.1, "momentum": 0.9, "dampening": 0.3},
            {"lr": 0.1, "momentum": 0.9, "nesterov": True},
            {"lr": 0.1, "weight_decay": 0.1},
            {"lr": 0.1, "maximize": True},
            {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.2, "maximize": True},
        ],
    ),
    "Adam": (
        optim.Adam,
        ref_adam,
        [
            {},
            {"lr": 0.1},
            {"lr": 0.1, "amsgrad": True},
            {"lr": 0.1, "weight_decay": 0.1},
            {"lr": 0.1, "maximize": True},
            {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-3},
            {"lr": 0.1, "weight_decay": 0.3, "decoupled_weight_decay": True},
            {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1, "maximize": True},
        ],
    ),
    "AdamW": (
        optim.AdamW,
        ref_adamw,
        [
            {},
            {"lr": 0.1},
            {"lr": 0.1, "amsgrad": True},
            {"lr": 0.1, "weight_decay": 0.5},
            {"lr": 0.1, "maximize": True, "betas": (0.5, 0.6)},
        ],
    ),
    "RMSprop": (
        optim.RMSprop,
        ref_rmsprop,
        [
            {},
            {"lr": 0.05, "centered": True},
            {"lr": 0.05, "momentum": 0.9},
            {"lr": 0.05, "momentum": 0.9, "centered": True},
            {"lr": 0.05, "weight_decay": 0.1},
            {"lr": 0.05, "alpha": 0.9, "eps": 1e-3},
            {"lr": 0.05, "maximize": True},
        ],
    ),
    "Adagrad": (
        optim.Adagrad,
        ref_adagrad,
        [
            {},
            {"lr": 0.1, "lr_decay": 0.1},
            {"lr": 0.1, "initial_accumulator_value": 0.5},
            {"lr": 0.1, "weight_decay": 0.1},
            {"lr": 0.1, "maximize": True, "eps": 1e-3},
        ],
    ),
    "Adadelta": (
        optim.Adadelta,
        ref_adadelta,
        [
            {},
            {"rho": 0.5},
            {"weight_decay": 0.1},
            {"lr": 0.5, "eps": 1e-3},
            {"maximize": True},
        ],
    ),
    "Adamax": (
        optim.Adamax,
        ref_adamax,
        [
            {},
            {"lr": 0.1, "weight_decay": 0.1},
            {"lr": 0.1, "betas": (0.5, 0.7)},
            {"lr": 0.1, "maximize": True},
        ],
    ),
    "NAdam": (
        optim.NAdam,
        ref_nadam,
        [
            {},
            {"lr": 0.1, "momentum_decay": 0.1},
            {"lr": 0.1, "weight_decay": 0.1},
            {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True},
            {"lr": 0.1, "maximize": True},
        ],
    ),
    "RAdam": (
        optim.RAdam,
        ref_radam,
        [
            {},
            {"lr": 0.1, "weight_decay": 0.1},
            {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True},
            {"lr": 0.1, "maximize": True},
            {"lr": 0.1, "betas": (0.9, 0.99)},
        ],
    ),
}

PARAMS = [
    pytest.param(name, i, id=f"{name}-{i}")
    for name, (_, _, opts) in CASES.items()
    for i in range(len(opts))
]


def _problem(seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    return init, grads


def _params(arrays, device="cpu"):
    return [torch.nn.Parameter(torch.tensor(a, dtype=torch.float64, device=device)) for a in arrays]


def _run(opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g, dtype=p.dtype, device=p.device)
        opt.step()


def _reference(ref, init, grads, options):
    out = []
    for k, p in enumerate(init):
        state = {}
        for t, step_grads in enumerate(grads, start=1):
            p = ref(p, step_grads[k], state, t, **options)
        out.append(p)
    return out


@pytest.mark.parametrize("name, case", PARAMS)
def test_matches_reference(name, case, device):
    cls, ref, options = CASES[name]
    options = options[case]
    init, grads = _problem(seed=case)
    params = _params(init, device)
    opt = cls(params, **options)
    ptrs = [p.data_ptr() for p in params]
    _run(opt, params, grads)
    expected = _reference(ref, init, grads, options)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.detach().cpu().numpy(), e, rtol=1e-11, atol=1e-13)
    # Updated in place: same tensors, same storage.
    assert [p.data_ptr() for p in params] == ptrs
    assert all(p.device.type == device for p in params)


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_round_trip_resumes_exactly(name):
    cls, _, options = CASES[name]
    options = options[min(2, len(options) - 1)]
    init, grads = _problem(seed=7)

    straight = _params(init)
    _run(cls(straight, **options), straight, grads)

    first = _params(init)
    opt = cls(first, **options)
    _run(opt, first, grads[:5])
    saved = copy.deepcopy(opt.state_dict())  # as if through torch.save / torch.load
    second = [torch.nn.Parameter(p.detach().clone()) for p in first]
    resumed = cls(second, **options)
    resumed.load_state_dict(saved)
    _run(resumed, second, grads[5:])
    for a, b in zip(straight, second):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_state_dict_layout():
    params = _params(_problem()[0])
    opt = optim.Adam(params, lr=0.1, amsgrad=True)
    _run(opt, params, _problem()[1][:2])
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert list(sd["state"]) == [0, 1]
    assert list(sd["state"][0]) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    step = sd["state"][0]["step"]
    assert (
        isinstance(step, torch.Tensor)
        and step.dim() == 0
        and step.dtype == torch.float32
        and step.item() == 2
    )
    group = sd["param_groups"][0]
    assert group["params"] == [0, 1]
    assert group["lr"] == 0.1 and group["betas"] == (0.9, 0.999) and group["amsgrad"] is True
    assert set(group) == {
        "params",
        "lr",
        "betas",
        "eps",
        "weight_decay",
        "amsgrad",
        "maximize",
        "foreach",
        "capturable",
        "differentiable",
        "fused",
        "decoupled_weight_decay",
    }


def test_state_dict_ids_across_groups():
    a, b, c = _params([np.ones(2), np.ones(3), np.ones(4)])
    opt = optim.SGD([{"params": [a]}, {"params": [b, c], "lr": 0.5}], lr=0.1, momentum=0.9)
    for p in (a, b, c):
        p.grad = torch.ones_like(p)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert sorted(sd["state"]) == [0, 1, 2]
    assert sd["state"][2]["momentum_buffer"].shape == (4,)


def test_sgd_without_momentum_keeps_no_state():
    params = _params(_problem()[0])
    opt = optim.SGD(params, lr=0.1)
    _run(opt, params, _problem()[1][:2])
    assert opt.state_dict()["state"] == {}


def test_load_state_dict_casts_to_param_dtype_but_not_step():
    src = _params([np.ones(3)])
    opt = optim.Adam(src, lr=0.1)
    src[0].grad = torch.ones(3, dtype=torch.float64)
    opt.step()
    dst = [torch.nn.Parameter(torch.ones(3, dtype=torch.float32))]
    opt2 = optim.Adam(dst, lr=0.5)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    state = opt2.state[dst[0]]
    assert state["exp_avg"].dtype == torch.float32
    assert state["step"].dtype == torch.float32 and state["step"].item() == 1
    assert opt2.param_groups[0]["lr"] == 0.1
    assert opt2.param_groups[0]["params"][0] is dst[0]


def test_load_state_dict_errors():
    a, b = _params([np.ones(2), np.ones(3)])
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(
        ValueError, match="loaded state dict has a different number of parameter groups"
    ):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)


def test_load_state_dict_does_not_modify_input():
    params = _params([np.ones(2)])
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    groups_before = copy.deepcopy(sd["param_groups"])
    optim.SGD(_params([np.ones(2)]), lr=0.3).load_state_dict(sd)
    assert sd["param_groups"] == groups_before


def test_param_groups_with_different_options():
    init, grads = _problem(seed=3)
    params = _params(init)
    groups = [
        {"params": [params[0]], "lr": 0.05, "momentum": 0.5},
        {"params": [params[1]], "nesterov": True},
    ]
    opt = optim.SGD(groups, lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.05 and opt.param_groups[1]["lr"] == 0.1
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[0]["nesterov"] is False
    _run(opt, params, grads)
    opts = [dict(lr=0.05, momentum=0.5), dict(lr=0.1, momentum=0.9, nesterov=True)]
    for k, (p, o) in enumerate(zip(params, opts)):
        expected = _reference(ref_sgd, [init[k]], [[g[k]] for g in grads], o)[0]
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-12)


def test_skips_params_without_grad():
    a, b = _params([np.ones(2), np.ones(2)])
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = torch.ones(2, dtype=torch.float64)
    opt.step()
    assert b.grad is None and np.array_equal(b.detach().numpy(), np.ones(2))
    assert [id(k) for k in opt.state] == [id(a)]


def test_add_param_group():
    a, b, c = _params([np.ones(2), np.ones(3), np.ones(4)])
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["params"] == [b] or opt.param_groups[1]["params"][0] is b
    assert opt.param_groups[1]["lr"] == 0.01
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(
        TypeError, match="optimizer parameters need to be organized in ordered collections"
    ):
        opt.add_param_group({"params": {c}})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([c])
    with pytest.raises(
        TypeError, match="optimizer can only optimize Tensors, but one of the params is"
    ):
        opt.add_param_group({"params": [1.0]})
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        opt.add_param_group({"params": [c * 2]})
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt.add_param_group({"params": [c, c]})


def test_constructor_errors():
    p = _params([np.ones(2)])
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(
        TypeError, match="params argument given to the optimizer should be an iterable"
    ):
        optim.SGD(p[0], lr=0.1)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": p}, {"params": _params([np.ones(1)])}])


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (optim.SGD, {"lr": -1}, "Invalid learning rate: -1"),
        (optim.SGD, {"momentum": -0.1}, "Invalid momentum value: -0.1"),
        (optim.SGD, {"weight_decay": -1}, "Invalid weight_decay value: -1"),
        (optim.SGD, {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        (
            optim.SGD,
            {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
            "Nesterov momentum requires",
        ),
        (optim.Adam, {"lr": -0.1}, "Invalid learning rate: -0.1"),
        (optim.Adam, {"eps": -1}, "Invalid epsilon value: -1"),
        (optim.Adam, {"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0: 1.0"),
        (optim.AdamW, {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        (optim.AdamW, {"weight_decay": -1}, "Invalid weight_decay value: -1"),
        (optim.RMSprop, {"alpha": -1}, "Invalid alpha value: -1"),
        (optim.RMSprop, {"momentum": -1}, "Invalid momentum value: -1"),
        (optim.Adagrad, {"lr_decay": -1}, "Invalid lr_decay value: -1"),
        (
            optim.Adagrad,
            {"initial_accumulator_value": -1},
            "Invalid initial_accumulator_value value: -1",
        ),
        (optim.Adadelta, {"rho": 1.5}, "Invalid rho value: 1.5"),
        (optim.Adamax, {"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
        (optim.NAdam, {"momentum_decay": -1}, "Invalid momentum_decay value: -1"),
        (optim.RAdam, {"eps": -1}, "Invalid epsilon value: -1"),
        (optim.LBFGS, {"lr": -1}, "Invalid learning rate: -1"),
    ],
)
def test_argument_checks(cls, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        cls(_params([np.ones(2)]), **kwargs)


def test_defaults_as_torch():
    p = _params([np.ones(2)])
    assert optim.SGD(p).defaults["lr"] == 1e-3
    assert optim.Adam(p).defaults["lr"] == 1e-3 and optim.Adam(p).defaults["weight_decay"] == 0
    assert optim.AdamW(p).defaults["weight_decay"] == 1e-2
    assert optim.RMSprop(p).defaults["lr"] == 1e-2 and optim.RMSprop(p).defaults["alpha"] == 0.99
    assert optim.Adagrad(p).defaults["eps"] == 1e-10
    assert optim.Adadelta(p).defaults["lr"] == 1.0 and optim.Adadelta(p).defaults["eps"] == 1e-6
    assert optim.Adamax(p).defaults["lr"] == 2e-3
    assert optim.NAdam(p).defaults["momentum_decay"] == 4e-3
    lbfgs = optim.LBFGS(p)
    assert lbfgs.defaults["max_eval"] == 25 and lbfgs.defaults["history_size"] == 100


def test_zero_grad():
    a, b = _params([np.ones(2), np.ones(3)])
    opt = optim.SGD([a, b], lr=0.1)
    (a.sum() + b.sum()).backward()
    opt.zero_grad(set_to_none=False)
    assert np.array_equal(a.grad.numpy(), np.zeros(2)) and np.array_equal(
        b.grad.numpy(), np.zeros(3)
    )
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_closure_returns_loss_and_runs_with_grad():
    (p,) = _params([np.array([1.0, -2.0])])
    opt = optim.SGD([p], lr=0.25)
    calls = []

    def closure():
        calls.append(torch.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with torch.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == 5.0
    np.testing.assert_allclose(p.detach().numpy(), [0.5, -1.0])
    assert opt.step() is None


def test_step_runs_without_grad():
    (p,) = _params([np.ones(2)])
    p.grad = torch.ones(2, dtype=torch.float64)
    opt = optim.Adam([p], lr=0.1)
    opt.step()
    assert p.grad_fn is None and p.requires_grad


def test_step_hooks():
    (p,) = _params([np.ones(2)])
    opt = optim.SGD([p], lr=0.1)
    seen = []
    h1 = opt.register_step_pre_hook(
        lambda o, args, kwargs: seen.append(("pre", o is opt, args[1:], kwargs))
    )
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", o is opt)))
    h3 = optim.optimizer.register_optimizer_step_pre_hook(lambda o, a, k: seen.append(("global",)))
    try:
        opt.step()
        assert seen == [("global",), ("pre", True, (), {}), ("post", True)]
        # A pre hook may replace the arguments.
        h1.remove()
        h3.remove()
        h4 = opt.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": lambda: 42.0}))
        seen.clear()
        assert opt.step() == 42.0
        h4.remove()
        h2.remove()
        seen.clear()
        opt.step()
        assert seen == []
    finally:
        h3.remove()


def test_state_dict_hooks():
    (p,) = _params([np.ones(2)])
    opt = optim.SGD([p], lr=0.1)
    log = []
    opt.register_state_dict_pre_hook(lambda o: log.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    sd = opt.state_dict()
    assert log == ["pre"] and sd["extra"] == 1

    def drop_extra(o, sd):
        log.append("load_pre")
        sd.pop("extra")

    opt.register_load_state_dict_pre_hook(drop_extra)
    handle = opt.register_load_state_dict_post_hook(lambda o: log.append("load_post"))
    opt.register_load_state_dict_post_hook(lambda o: log.append("first"), prepend=True)
    opt.load_state_dict(sd)
    assert log == ["pre", "load_pre", "first", "load_post"]
    assert "extra" in sd  # the hook saw a shallow copy
    handle.remove()


def test_repr():
    (p,) = _params([np.ones(2)])
    text = repr(optim.SGD([p], lr=0.1, momentum=0.9))
    assert text == (
        "SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n"
        "    fused: None\n    lr: 0.1\n    maximize: False\n    momentum: 0.9\n    nesterov: False\n"
        "    weight_decay: 0\n)"
    )


def test_adagrad_state_exists_before_first_step():
    (p,) = _params([np.ones(3)])
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    state = opt.state_dict()["state"][0]
    assert state["step"].item() == 0 and np.array_equal(state["sum"].numpy(), np.full(3, 0.25))


def test_nadam_and_adam_state_keys():
    params = _params([np.ones(2)])
    opt = optim.NAdam(params)
    params[0].grad = torch.ones(2, dtype=torch.float64)
    opt.step()
    assert list(opt.state[params[0]]) == ["step", "mu_product", "exp_avg", "exp_avg_sq"]
    opt = optim.RMSprop(_params([np.ones(2)]), momentum=0.9, centered=True)
    opt.param_groups[0]["params"][0].grad = torch.ones(2, dtype=torch.float64)
    opt.step()
    assert list(opt.state[opt.param_groups[0]["params"][0]]) == [
        "step",
        "square_avg",
        "momentum_buffer",
        "grad_avg",
    ]


def test_works_on_float32_params():
    (p,) = _params([np.ones(3)])
    q = torch.nn.Parameter(torch.ones(3, dtype=torch.float32))
    for x in (p, q):
        opt = optim.AdamW([x], lr=0.1)
        x.grad = torch.ones(3, dtype=x.dtype)
        opt.step()
        assert x.dtype in (torch.float32, torch.float64)
    np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-6)


# -- LBFGS -------------------------------------------------------------------------------------


def _rosenbrock(xy):
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


@pytest.mark.parametrize(
    "line_search_fn, options",
    [
        ("strong_wolfe", {}),
        (None, {"lr": 0.2, "history_size": 10}),
    ],
)
def test_lbfgs_rosenbrock(line_search_fn, options):
    xy = torch.nn.Parameter(torch.tensor([-1.5, 2.0], dtype=torch.float64))
    opt = optim.LBFGS(
        [xy],
        max_iter=50,
        line_search_fn=line_search_fn,
        tolerance_grad=1e-12,
        tolerance_change=1e-14,
        **options,
    )

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(xy)
        loss.backward()
        return loss

    for _ in range(40):
        opt.step(closure)
    np.testing.assert_allclose(xy.detach().numpy(), [1.0, 1.0], atol=1e-7)
    assert _rosenbrock(xy).item() < 1e-14
    state = opt.state[xy]
    assert state["n_iter"] > 0 and state["func_evals"] >= state["n_iter"]


def test_lbfgs_matches_quadratic_solution():
    # On a convex quadratic with exact line search L-BFGS converges in few iterations.
    rng = np.random.default_rng(1)
    m = rng.standard_normal((6, 6))
    a = m @ m.T + 6 * np.eye(6)
    b = rng.standard_normal(6)
    x = torch.nn.Parameter(torch.zeros(6, dtype=torch.float64))
    at, bt = torch.tensor(a), torch.tensor(b)
    opt = optim.LBFGS(
        [x], line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=1e-16
    )

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x * (at @ x)).sum() - (bt * x).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), np.linalg.solve(a, b), rtol=1e-8, atol=1e-10)


def test_lbfgs_rejects_unknown_line_search():
    (p,) = _params([np.ones(2)])
    opt = optim.LBFGS([p], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_lbfgs_helpers():
    from ferrotorch.optim.lbfgs import _cubic_interpolate

    # The cubic through f(0)=0, f'(0)=-1, f(1)=0, f'(1)=1 ... is symmetric: minimum at 0.5.
    assert _cubic_interpolate(0.0, 0.0, -1.0, 1.0, 0.0, 1.0) == pytest.approx(0.5)
    # A cubic with no real stationary point gives the midpoint of the bounds.
    assert _cubic_interpolate(0.0, 0.0, 3.0, 1.0, 2.0, 3.0, bounds=(0.0, 4.0)) == 2.0


def test_no_warnings_in_normal_use():
    params = _params(_problem()[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cls in (optim.SGD, optim.Adam, optim.RMSprop):
            opt = cls(params, lr=0.1)
            _run(opt, params, _problem()[1][:2])


def test_lbfgs_state_dict_round_trip_resumes_exactly():
    def run(xy, opt, steps):
        def closure():
            opt.zero_grad()
            loss = _rosenbrock(xy)
            loss.backward()
            return loss

        for _ in range(steps):
            opt.step(closure)

    def make(start):
        xy = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
        return xy, optim.LBFGS([xy], max_iter=3, history_size=4, line_search_fn="strong_wolfe")

    straight, straight_opt = make([-1.5, 2.0])
    run(straight, straight_opt, 6)
    first, opt = make([-1.5, 2.0])
    run(first, opt, 3)
    saved = copy.deepcopy(opt.state_dict())
    second, resumed = make(first.detach().numpy().tolist())
    resumed.load_state_dict(saved)
    run(second, resumed, 3)
    assert np.array_equal(straight.detach().numpy(), second.detach().numpy())
    assert resumed.state[second]["n_iter"] == straight_opt.state[straight]["n_iter"]
    assert resumed.state[second]["func_evals"] == straight_opt.state[straight]["func_evals"]
