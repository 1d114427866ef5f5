"""ferrotorch.optim.lr_scheduler: each schedule's lr sequence against its closed form (or values
computed here), state_dict round trips, chaining, and torch's warnings and argument checks."""

import copy
import math
import warnings
from bisect import bisect_right

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import optim
from ferrotorch.optim import lr_scheduler as lrs

N = 30
BASE = 0.5


def _opt(cls=optim.SGD, groups=1, **kw):
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(groups)]
    if groups == 1:
        return cls(params, lr=BASE, **kw)
    return cls([{"params": [p], "lr": BASE * (i + 1)} for i, p in enumerate(params)], **kw)


def _lrs(opt, sched, n=N, key=None):
    """lr (or another group option) after construction and after each of n steps."""

    def read():
        if key is None:
            return sched.get_last_lr()[0]
        return opt.param_groups[0][key]

    out = [read()]
    for _ in range(n):
        opt.step()
        sched.step()
        out.append(read())
    return out


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-15)


CLOSED_FORMS = {
    "StepLR": (lambda o: lrs.StepLR(o, step_size=3, gamma=0.5), lambda e: BASE * 0.5 ** (e // 3)),
    "MultiStepLR": (
        lambda o: lrs.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.1),
        lambda e: BASE * 0.1 ** bisect_right([2, 5, 5, 9], e),
    ),
    "ExponentialLR": (lambda o: lrs.ExponentialLR(o, gamma=0.9), lambda e: BASE * 0.9**e),
    "CosineAnnealingLR": (
        lambda o: lrs.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
        lambda e: 0.01 + (BASE - 0.01) * (1 + math.cos(math.pi * e / 7)) / 2,
    ),
    "LambdaLR": (lambda o: lrs.LambdaLR(o, lambda e: 1 / (1 + e)), lambda e: BASE / (1 + e)),
    "MultiplicativeLR": (
        lambda o: lrs.MultiplicativeLR(o, lambda e: 0.95),
        lambda e: BASE * 0.95**e,
    ),
    "LinearLR": (
        lambda o: lrs.LinearLR(o, start_factor=0.25, end_factor=0.75, total_iters=8),
        lambda e: BASE * (0.25 + 0.5 * min(e, 8) / 8),
    ),
    "LinearLR-default": (
        lambda o: lrs.LinearLR(o),
        lambda e: BASE * (1 / 3 + (2 / 3) * min(e, 5) / 5),
    ),
    "ConstantLR": (
        lambda o: lrs.ConstantLR(o, factor=0.5, total_iters=4),
        lambda e: BASE * (0.5 if e < 4 else 1.0),
    ),
    "PolynomialLR": (
        lambda o: lrs.PolynomialLR(o, total_iters=10, power=2.0),
        lambda e: BASE * (1 - min(e, 10) / 10) ** 2,
    ),
    "SequentialLR": (
        lambda o: lrs.SequentialLR(
            o,
            [lrs.ConstantLR(o, factor=0.1, total_iters=5), lrs.ExponentialLR(o, gamma=0.9)],
            milestones=[5],
        ),
        lambda e: BASE * 0.1 if e < 5 else BASE * 0.9 ** (e - 5),
    ),
    "ChainedScheduler": (
        lambda o: lrs.ChainedScheduler(
            [lrs.ConstantLR(o, factor=0.1, total_iters=5), lrs.ExponentialLR(o, gamma=0.9)]
        ),
        lambda e: BASE * 0.9**e * (0.1 if e < 5 else 1.0),
    ),
    "Chained-Step-Multi": (
        lambda o: lrs.ChainedScheduler([lrs.StepLR(o, 4, 0.5), lrs.MultiStepLR(o, [10], 0.1)]),
        lambda e: BASE * 0.5 ** (e // 4) * (0.1 if e >= 10 else 1),
    ),
}


@pytest.mark.parametrize("name", list(CLOSED_FORMS))
def test_closed_forms(name):
    make, form = CLOSED_FORMS[name]
    opt = _opt()
    sched = make(opt)
    _close(_lrs(opt, sched), [form(e) for e in range(N + 1)])


def test_multiple_groups_follow_their_own_base_lr():
    opt = _opt(groups=2)
    sched = lrs.LambdaLR(opt, [lambda e: 0.5**e, lambda e: 1.0 + e])
    for e in range(1, 6):
        opt.step()
        sched.step()
        _close(sched.get_last_lr(), [BASE * 0.5**e, 2 * BASE * (1.0 + e)])
    assert sched.base_lrs == [BASE, 2 * BASE]
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lrs.LambdaLR(_opt(groups=2), [lambda e: 1.0])


def _sgdr(e, T_0, T_mult, eta_min):
    T_i, T_cur = T_0, e
    while T_cur >= T_i:
        T_cur -= T_i
        T_i *= T_mult
    return eta_min + (BASE - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2


@pytest.mark.parametrize("T_0, T_mult", [(5, 1), (3, 2), (2, 3)])
def test_cosine_annealing_warm_restarts(T_0, T_mult):
    opt = _opt()
    sched = lrs.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult, eta_min=0.001)
    _close(_lrs(opt, sched), [_sgdr(e, T_0, T_mult, 0.001) for e in range(N + 1)])


def test_cosine_annealing_warm_restarts_fractional_epochs():
    opt = _opt()
    sched = lrs.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2, eta_min=0.0)
    iters = 5
    for epoch in range(12):
        for i in range(iters):
            e = epoch + i / iters
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sched.step(e)
            _close(sched.get_last_lr()[0], _sgdr(e, 4, 2, 0.0))
    assert sched.last_epoch == 11
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        sched.step(-1)


def test_cosine_annealing_warm_restarts_argument_checks():
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        lrs.CosineAnnealingWarmRestarts(_opt(), T_0=0)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1, but got 0"):
        lrs.CosineAnnealingWarmRestarts(_opt(), T_0=2, T_mult=0)


def _one_cycle(step, total, max_lr, pct, div, final_div, three_phase, anneal, lo_m, hi_m):
    init, low = max_lr / div, max_lr / div / final_div

    def cos(a, b, p):
        return b + (a - b) / 2 * (math.cos(math.pi * p) + 1)

    def lin(a, b, p):
        return (b - a) * p + a

    f = cos if anneal == "cos" else lin
    up = pct * total - 1
    if three_phase:
        phases = [
            (up, init, max_lr, hi_m, lo_m),
            (2 * pct * total - 2, max_lr, init, lo_m, hi_m),
            (total - 1, init, low, hi_m, hi_m),
        ]
    else:
        phases = [(up, init, max_lr, hi_m, lo_m), (total - 1, max_lr, low, lo_m, hi_m)]
    start = 0.0
    for i, (end, a, b, ma, mb) in enumerate(phases):
        if step <= end or i == len(phases) - 1:
            p = (step - start) / (end - start)
            return f(a, b, p), f(ma, mb, p)
        start = end


@pytest.mark.parametrize(
    "anneal, three_phase", [("cos", False), ("linear", False), ("cos", True), ("linear", True)]
)
def test_one_cycle(anneal, three_phase):
    opt = _opt(momentum=0.9)
    sched = lrs.OneCycleLR(
        opt,
        max_lr=1.0,
        total_steps=N + 1,
        pct_start=0.25,
        anneal_strategy=anneal,
        three_phase=three_phase,
        div_factor=10.0,
        final_div_factor=100.0,
    )
    got_lr, got_m = [], []
    for _ in range(N + 1):
        got_lr.append(opt.param_groups[0]["lr"])
        got_m.append(opt.param_groups[0]["momentum"])
        opt.step()
        if len(got_lr) <= N:
            sched.step()
    want = [
        _one_cycle(s, N + 1, 1.0, 0.25, 10.0, 100.0, three_phase, anneal, 0.85, 0.95)
        for s in range(N + 1)
    ]
    _close(got_lr, [w[0] for w in want])
    _close(got_m, [w[1] for w in want])
    assert got_lr[-1] == pytest.approx(1.0 / 10 / 100)
    sched.step()  # step N + 1 is still within the schedule, N + 2 is not
    with pytest.raises(
        ValueError,
        match=f"Tried to step {N + 2} times. The specified number of total steps is {N + 1}",
    ):
        sched.step()


def test_one_cycle_cycles_adam_beta1():
    opt = _opt(optim.Adam, betas=(0.9, 0.99))
    sched = lrs.OneCycleLR(
        opt, max_lr=0.1, epochs=2, steps_per_epoch=5, base_momentum=0.8, max_momentum=0.9
    )
    betas = [opt.param_groups[0]["betas"]]
    for _ in range(9):
        opt.step()
        sched.step()
        betas.append(opt.param_groups[0]["betas"])
    want = [_one_cycle(s, 10, 0.1, 0.3, 25.0, 1e4, False, "cos", 0.8, 0.9)[1] for s in range(10)]
    _close([b[0] for b in betas], want)
    assert all(b[1] == 0.99 for b in betas)
    assert "momentum" not in opt.param_groups[0]


def test_one_cycle_argument_checks():
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        lrs.OneCycleLR(_opt(), max_lr=1.0)
    with pytest.raises(ValueError, match="Expected positive integer total_steps, but got 0"):
        lrs.OneCycleLR(_opt(), max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="Expected float between 0 and 1 pct_start, but got 1.5"):
        lrs.OneCycleLR(_opt(), max_lr=1.0, total_steps=10, pct_start=1.5)
    with pytest.raises(
        ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"
    ):
        lrs.OneCycleLR(_opt(), max_lr=1.0, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lrs.OneCycleLR(_opt(optim.Adagrad), max_lr=1.0, total_steps=10)
    with pytest.raises(
        ValueError, match="max_lr must have the same length as optimizer.param_groups"
    ):
        lrs.OneCycleLR(_opt(groups=2, momentum=0.9), max_lr=[1.0], total_steps=10)


def _cyclic(e, base, top, up, down, mode, gamma):
    total = up + down
    cycle = math.floor(1 + e / total)
    x = 1.0 + e / total - cycle
    frac = x / (up / total) if x <= up / total else (x - 1) / (up / total - 1)
    scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma**e}[mode]
    return base + (top - base) * frac * scale, frac * scale


@pytest.mark.parametrize("mode, down", [("triangular", None), ("triangular2", 3), ("exp_range", 6)])
def test_cyclic(mode, down):
    opt = _opt(momentum=0.9)
    sched = lrs.CyclicLR(
        opt, base_lr=0.1, max_lr=1.0, step_size_up=4, step_size_down=down, mode=mode, gamma=0.97
    )
    got_lr, got_m = [sched.get_last_lr()[0]], [opt.param_groups[0]["momentum"]]
    for _ in range(N):
        opt.step()
        sched.step()
        got_lr.append(sched.get_last_lr()[0])
        got_m.append(opt.param_groups[0]["momentum"])
    want = [_cyclic(e, 0.1, 1.0, 4, down or 4, mode, 0.97) for e in range(N + 1)]
    _close(got_lr, [w[0] for w in want])
    _close(got_m, [0.9 - 0.1 * w[1] for w in want])


def test_cyclic_custom_scale_fn_and_beta1():
    opt = _opt(optim.Adam)
    sched = lrs.CyclicLR(
        opt,
        base_lr=0.01,
        max_lr=0.1,
        step_size_up=2,
        scale_fn=lambda x: 0.5,
        scale_mode="iterations",
    )
    for e in range(1, 8):
        opt.step()
        sched.step()
        lr, frac = _cyclic(e, 0.01, 0.1, 2, 2, "triangular", 1.0)
        _close(sched.get_last_lr()[0], 0.01 + (lr - 0.01) * 0.5)
        _close(opt.param_groups[0]["betas"][0], 0.9 - 0.1 * frac * 0.5)
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        lrs.CyclicLR(_opt(momentum=0.9), 0.1, 1.0, mode="sine")


def _plateau_reference(
    metrics, lr, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps
):
    best = math.inf if mode == "min" else -math.inf
    bad = cool = 0
    out = []
    for m in metrics:
        if mode == "min":
            better = m < (best * (1 - threshold) if threshold_mode == "rel" else best - threshold)
        else:
            better = m > (best * (1 + threshold) if threshold_mode == "rel" else best + threshold)
        if better:
            best, bad = m, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cool, bad = cooldown, 0
        out.append(lr)
    return out


@pytest.mark.parametrize(
    "options",
    [
        dict(
            mode="min",
            factor=0.5,
            patience=2,
            threshold=1e-4,
            threshold_mode="rel",
            cooldown=0,
            min_lr=0,
            eps=1e-8,
        ),
        dict(
            mode="min",
            factor=0.1,
            patience=0,
            threshold=0.05,
            threshold_mode="abs",
            cooldown=2,
            min_lr=0.001,
            eps=1e-8,
        ),
        dict(
            mode="max",
            factor=0.5,
            patience=1,
            threshold=0.01,
            threshold_mode="rel",
            cooldown=1,
            min_lr=0.05,
            eps=1e-8,
        ),
        dict(
            mode="max",
            factor=0.5,
            patience=3,
            threshold=0.1,
            threshold_mode="abs",
            cooldown=0,
            min_lr=0,
            eps=0.1,
        ),
    ],
)
def test_reduce_lr_on_plateau(options):
    rng = np.random.default_rng(5)
    metrics = list(np.round(rng.uniform(0, 1, N), 1))
    opt = _opt()
    sched = lrs.ReduceLROnPlateau(opt, **options)
    got = []
    for m in metrics:
        opt.step()
        sched.step(torch.tensor(m))
        got.append(opt.param_groups[0]["lr"])
        assert sched.get_last_lr() == [got[-1]]
    _close(got, _plateau_reference(metrics, BASE, **options))
    assert len(set(got)) > 1  # the scripted metrics do trigger reductions


def test_reduce_lr_on_plateau_checks_and_min_lrs():
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        lrs.ReduceLROnPlateau(_opt(), factor=1.0)
    with pytest.raises(ValueError, match="mode up is unknown!"):
        lrs.ReduceLROnPlateau(_opt(), mode="up")
    with pytest.raises(ValueError, match="threshold mode pct is unknown!"):
        lrs.ReduceLROnPlateau(_opt(), threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
        lrs.ReduceLROnPlateau(_opt(groups=2), min_lr=[0.1])
    opt = _opt(groups=2)
    sched = lrs.ReduceLROnPlateau(opt, patience=0, factor=0.1, min_lr=[0.3, 0.0])
    for m in (1.0, 2.0, 3.0):
        sched.step(m)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.3, 1.0 * 0.01])


STATEFUL = {
    "StepLR": lambda o: lrs.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda o: lrs.MultiStepLR(o, milestones=[4, 12], gamma=0.3),
    "ExponentialLR": lambda o: lrs.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda o: lrs.CosineAnnealingLR(o, T_max=6, eta_min=0.05),
    "CosineAnnealingWarmRestarts": lambda o: lrs.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "LambdaLR": lambda o: lrs.LambdaLR(o, lambda e: 0.9**e),
    "MultiplicativeLR": lambda o: lrs.MultiplicativeLR(o, lambda e: 0.9),
    "LinearLR": lambda o: lrs.LinearLR(o, start_factor=0.1, total_iters=15),
    "ConstantLR": lambda o: lrs.ConstantLR(o, factor=0.2, total_iters=13),
    "PolynomialLR": lambda o: lrs.PolynomialLR(o, total_iters=25, power=0.5),
    "OneCycleLR": lambda o: lrs.OneCycleLR(o, max_lr=1.0, total_steps=25),
    "CyclicLR": lambda o: lrs.CyclicLR(o, 0.1, 1.0, step_size_up=3, mode="triangular2"),
    "SequentialLR": lambda o: lrs.SequentialLR(
        o, [lrs.LinearLR(o, 0.1, total_iters=4), lrs.ExponentialLR(o, 0.8)], milestones=[6]
    ),
    "ChainedScheduler": lambda o: lrs.ChainedScheduler(
        [lrs.ExponentialLR(o, 0.9), lrs.StepLR(o, 5, 0.5)]
    ),
}


@pytest.mark.parametrize("name", list(STATEFUL))
def test_state_dict_round_trip(name):
    make = STATEFUL[name]
    opt = _opt(momentum=0.9)
    straight = _lrs(opt, make(opt), n=20)

    opt = _opt(momentum=0.9)
    sched = make(opt)
    first = _lrs(opt, sched, n=10)
    opt_sd, sched_sd = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    assert "optimizer" not in sched_sd

    opt2 = _opt(momentum=0.9)
    sched2 = make(opt2)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    rest = _lrs(opt2, sched2, n=10)
    assert first[:-1] + rest == straight


def test_reduce_lr_on_plateau_state_dict_round_trip():
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9]
    opt = _opt()
    sched = lrs.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    for m in metrics[:5]:
        sched.step(m)
    opt2 = _opt()
    sched2 = lrs.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    sched2.load_state_dict(copy.deepcopy(sched.state_dict()))
    for m in metrics[5:]:
        sched.step(m)
        sched2.step(m)
    assert opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"] < BASE


def test_lambda_state_dict_saves_callable_objects_only():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, e):
            return self.rate**e

    opt = _opt(groups=2)
    sd = lrs.LambdaLR(opt, [Decay(), lambda e: 1.0]).state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.5}, None]
    sd["lr_lambdas"][0]["rate"] = 0.25
    target = lrs.LambdaLR(_opt(groups=2), [Decay(), lambda e: 1.0])
    target.load_state_dict(sd)
    assert target.lr_lambdas[0].rate == 0.25 and "lr_lambdas" in sd


def test_initial_lr_and_resuming():
    opt = _opt()
    sched = lrs.StepLR(opt, step_size=2)
    assert opt.param_groups[0]["initial_lr"] == BASE and sched.base_lrs == [BASE]
    assert sched.last_epoch == 0
    with pytest.raises(
        KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\] when resuming"
    ):
        lrs.StepLR(_opt(), step_size=2, last_epoch=3)
    # Resuming with last_epoch does not move a recursive schedule one step ahead.
    opt = _opt()
    opt.param_groups[0]["initial_lr"] = BASE
    opt.param_groups[0]["lr"] = 0.25
    sched = lrs.ExponentialLR(opt, gamma=0.5, last_epoch=4)
    assert sched.get_last_lr() == [0.25] and sched.last_epoch == 5


def test_warns_when_scheduler_steps_first():
    opt = _opt()
    sched = lrs.StepLR(opt, step_size=2)
    with pytest.warns(
        UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"
    ):
        sched.step()
    opt = _opt()
    sched = lrs.StepLR(opt, step_size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
        sched.step()


def test_warns_when_optimizer_step_replaced():
    opt = _opt()
    sched = lrs.ExponentialLR(opt, gamma=0.9)
    opt.step = lambda closure=None: None
    with pytest.warns(UserWarning, match=r"Seems like `optimizer.step\(\)` has been overridden"):
        sched.step()


def test_get_lr_outside_step_warns_and_epoch_argument_deprecated():
    opt = _opt()
    sched = lrs.StepLR(opt, step_size=3, gamma=0.1)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    opt.step()
    with pytest.warns(
        UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"
    ):
        sched.step(7)
    # An explicit epoch uses the closed form.
    _close(sched.get_last_lr()[0], BASE * 0.01)


def test_scheduler_rejects_non_optimizer_and_bad_factors():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lrs.StepLR([], step_size=1)
    with pytest.raises(
        ValueError, match="Constant multiplicative factor expected to be between 0 and 1."
    ):
        lrs.ConstantLR(_opt(), factor=2.0)
    with pytest.raises(
        ValueError, match="Starting multiplicative factor expected to be greater than 0"
    ):
        lrs.LinearLR(_opt(), start_factor=0)
    with pytest.raises(
        ValueError, match="Ending multiplicative factor expected to be between 0 and 1."
    ):
        lrs.LinearLR(_opt(), end_factor=1.5)
    with pytest.raises(TypeError, match="lr_lambda should be a function, but got float"):
        lrs.MultiplicativeLR(_opt(), 0.9)


def test_sequential_and_chained_checks():
    opt, other = _opt(), _opt()
    with pytest.raises(ValueError, match="SequentialLR expects at least one scheduler"):
        lrs.SequentialLR(opt, [], milestones=[])
    with pytest.raises(
        ValueError,
        match="Sequential Schedulers expects number of schedulers provided to be one more",
    ):
        lrs.SequentialLR(opt, [lrs.StepLR(opt, 2), lrs.StepLR(opt, 3)], milestones=[])
    with pytest.raises(
        ValueError, match="SequentialLR expects all schedulers to belong to the same optimizer"
    ):
        lrs.SequentialLR(opt, [lrs.StepLR(opt, 2), lrs.StepLR(other, 3)], milestones=[2])
    with pytest.raises(ValueError, match="ChainedScheduler does not support `ReduceLROnPlateau`"):
        lrs.ChainedScheduler([lrs.StepLR(opt, 2), lrs.ReduceLROnPlateau(opt)])
    with pytest.raises(
        ValueError, match="ChainedScheduler expects at least one scheduler to be chained"
    ):
        lrs.ChainedScheduler([])


def test_schedulers_drive_training():
    # The lr the scheduler sets is the one the optimizer uses.
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = optim.SGD([p], lr=1.0)
    sched = lrs.ExponentialLR(opt, gamma=0.5)
    for _ in range(4):
        p.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        sched.step()
    assert p.item() == -(1 + 0.5 + 0.25 + 0.125)
