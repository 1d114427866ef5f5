"""``nn.Module``: registration, traversal, state_dict round trips and torch's error texts,
conversion (``to``/``double``/``cuda``) keeping Parameter identity, hooks (forward, forward
pre, full backward, backward pre), printing, deepcopy; the containers; ``RemovableHandle``;
uninitialized parameters."""

import copy
import re
from collections import OrderedDict

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch.nn.modules.container import (
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)
from ferrotorch.nn.modules.module import Module
from ferrotorch.nn.parameter import (
    Buffer,
    Parameter,
    UninitializedBuffer,
    UninitializedParameter,
    is_lazy,
)
from ferrotorch.utils.hooks import RemovableHandle
from helpers import to_np


# ------------------------------------------------------------------------------------------
# Small modules of our own
# ------------------------------------------------------------------------------------------

class Affine(Module):
    """y = x W^T + b with known weights: W[i, j] = i + j / 10, b[i] = i."""

    def __init__(self, in_features, out_features, bias=True, device=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        w = np.add.outer(np.arange(out_features), np.arange(in_features) / 10)
        self.weight = Parameter(torch.tensor(w, dtype=torch.float32, device=device))
        if bias:
            self.bias = Parameter(torch.arange(out_features, dtype=torch.float32, device=device))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        y = x.matmul(self.weight.t())
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Scale(Module):
    """y = x * factor (no parameters); ``factor`` is a plain attribute."""

    def __init__(self, factor=2.0):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


class Stats(Module):
    """A parameter, a persistent buffer, a non-persistent buffer and an integer buffer."""

    def __init__(self, device=None):
        super().__init__()
        self.gamma = Parameter(torch.ones(3, device=device))
        self.register_buffer("running", torch.zeros(3, device=device))
        self.register_buffer("scratch", torch.full((2,), 7.0, device=device), persistent=False)
        self.register_buffer("count", torch.tensor(0, dtype=torch.int64, device=device))

    def forward(self, x):
        return x * self.gamma + self.running


class Net(Module):
    def __init__(self, device=None):
        super().__init__()
        self.fc1 = Affine(2, 3, device=device)
        self.stats = Stats(device=device)
        self.fc2 = Affine(3, 1, bias=False, device=device)

    def forward(self, x):
        return self.fc2(self.stats(self.fc1(x)))


class NoForward(Module):
    pass


def leaf(values, device, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype, device=device, requires_grad=True)


# ------------------------------------------------------------------------------------------
# Registration
# ------------------------------------------------------------------------------------------

def test_assignment_registers_parameters_buffers_and_modules():
    net = Net()
    assert list(net._modules) == ["fc1", "stats", "fc2"]
    assert list(net.fc1._parameters) == ["weight", "bias"]
    assert list(net.fc2._parameters) == ["weight", "bias"] and net.fc2.bias is None
    assert list(net.stats._buffers) == ["running", "scratch", "count"]
    assert net.stats._non_persistent_buffers_set == {"scratch"}
    assert "weight" not in net.fc1.__dict__ and "fc1" not in net.__dict__
    assert isinstance(net.fc1.weight, Parameter) and net.fc1.weight.requires_grad
    assert net.training is True


def test_reassignment_moves_a_name_between_registries():
    m = Module()
    m.x = Parameter(torch.ones(1))
    m.x = None  # a registered parameter may be cleared
    assert "x" in m._parameters and m.x is None
    with pytest.raises(TypeError, match="cannot assign 'test_nn_module.Scale' as parameter 'x'"):
        m.x = Scale()  # a parameter slot takes only a Parameter or None
    del m.x
    m.x = Scale()
    assert "x" not in m._parameters and isinstance(m._modules["x"], Scale)
    m.x = Parameter(torch.ones(2))
    assert "x" not in m._modules and m._parameters["x"].shape == (2,)
    m.y = 3
    assert m.__dict__["y"] == 3
    m.y = Parameter(torch.ones(1))
    assert "y" not in m.__dict__ and "y" in m._parameters


def test_assigning_a_buffer_object_registers_it():
    m = Module()
    m.a = Buffer(torch.ones(2))
    m.b = Buffer(torch.zeros(2), persistent=False)
    assert set(m._buffers) == {"a", "b"} and m._non_persistent_buffers_set == {"b"}
    assert list(m.state_dict()) == ["a"]
    # Assigning a plain tensor to a registered buffer keeps it a (non-persistent) buffer.
    m.b = torch.full((3,), 2.0)
    assert "b" in m._buffers and m._non_persistent_buffers_set == {"b"}
    np.testing.assert_array_equal(to_np(m.b), [2.0, 2.0, 2.0])


def test_registration_errors_use_torchs_texts():
    m = Module()
    m.p = Parameter(torch.ones(1))
    with pytest.raises(TypeError, match=re.escape(
            "cannot assign 'torch.FloatTensor' as parameter 'p' (torch.nn.Parameter or None "
            "expected)")):
        m.p = torch.ones(1)
    with pytest.raises(TypeError, match=re.escape(
            "cannot assign 'torch.FloatTensor' object to parameter 'q' (torch.nn.Parameter or "
            "None required)")):
        m.register_parameter("q", torch.ones(1))
    with pytest.raises(KeyError, match="parameter name can.+t contain \".\""):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="parameter name can.+t be empty string \"\""):
        m.register_parameter("", None)
    with pytest.raises(TypeError, match="parameter name should be a string. Got int"):
        m.register_parameter(1, None)
    m.plain = 5
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", torch.ones(1))
    with pytest.raises(TypeError, match=re.escape(
            "cannot assign 'int' object to buffer 'b' (torch Tensor or None required)")):
        m.register_buffer("b", 3)
    m.register_buffer("b", torch.ones(1))
    with pytest.raises(TypeError, match=re.escape(
            "cannot assign 'str' as buffer 'b' (torch.Tensor or None expected)")):
        m.b = "x"
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        m.add_module("c", 3)
    with pytest.raises(KeyError, match="module name can.+t contain \".\", got: c.d"):
        m.add_module("c.d", Scale())
    m.child = Scale()
    with pytest.raises(TypeError, match=re.escape(
            "cannot assign 'int' as child module 'child' (torch.nn.Module or None expected)")):
        m.child = 3


def test_parameter_slot_refuses_a_plain_tensor_with_history():
    x = torch.ones(2, requires_grad=True)
    m = Module()
    with pytest.raises(TypeError, match=re.escape(
            "cannot assign 'torch.FloatTensor' object to parameter 'w' (torch.nn.Parameter or "
            "None required)")):
        m.register_parameter("w", x * 2)


def test_assignment_before_init_raises():
    class Early(Module):
        def __init__(self):
            self.w = Parameter(torch.ones(1))
            super().__init__()

    class EarlyModule(Module):
        def __init__(self):
            self.sub = Scale()
            super().__init__()

    class EarlyBuffer(Module):
        def __init__(self):
            self.register_buffer("b", torch.ones(1))

    with pytest.raises(AttributeError, match=re.escape(
            "cannot assign parameters before Module.__init__() call")):
        Early()
    with pytest.raises(AttributeError, match=re.escape(
            "cannot assign module before Module.__init__() call")):
        EarlyModule()
    with pytest.raises(AttributeError, match=re.escape(
            "cannot assign buffer before Module.__init__() call")):
        EarlyBuffer()


def test_init_refuses_arguments():
    with pytest.raises(TypeError, match=re.escape(
            "Module.__init__() takes 1 positional argument but 2 were given")):
        Module(1)
    with pytest.raises(TypeError, match=re.escape(
            "Module.__init__() got an unexpected keyword argument 'x'")):
        Module(x=1)


def test_getattr_and_delattr():
    net = Net()
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        net.nope
    del net.fc2
    assert "fc2" not in net._modules
    del net.stats.scratch
    assert "scratch" not in net.stats._buffers
    assert "scratch" not in net.stats._non_persistent_buffers_set
    del net.fc1.bias
    assert list(net.fc1._parameters) == ["weight"]
    net.other = 1
    del net.other
    assert not hasattr(net, "other")


def test_get_submodule_parameter_buffer():
    net = Net()
    assert net.get_submodule("") is net
    assert net.get_submodule("stats") is net.stats
    assert net.get_parameter("fc1.weight") is net.fc1.weight
    assert net.get_buffer("stats.running") is net.stats.running
    with pytest.raises(AttributeError, match="Net has no attribute `missing`"):
        net.get_submodule("missing")
    with pytest.raises(AttributeError, match="`in_features` is not an nn.Module"):
        net.get_submodule("fc1.in_features")
    with pytest.raises(AttributeError, match="`running` is not an nn.Parameter"):
        net.get_parameter("stats.running")
    with pytest.raises(AttributeError, match="`gamma` is not a buffer"):
        net.get_buffer("stats.gamma")
    with pytest.raises(AttributeError, match="Stats has no attribute `zzz`"):
        net.get_buffer("stats.zzz")


# ------------------------------------------------------------------------------------------
# Traversal
# ------------------------------------------------------------------------------------------

def test_named_parameters_buffers_children_modules():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "fc1.weight", "fc1.bias", "stats.gamma", "fc2.weight"]
    assert [n for n, _ in net.named_parameters(prefix="model")] == [
        "model.fc1.weight", "model.fc1.bias", "model.stats.gamma", "model.fc2.weight"]
    assert list(net.parameters(recurse=False)) == []
    assert [n for n, _ in net.fc1.named_parameters(recurse=False)] == ["weight", "bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "stats.running", "stats.scratch", "stats.count"]
    assert [b is net.stats.running for b in net.buffers()] == [True, False, False]
    assert [n for n, _ in net.named_children()] == ["fc1", "stats", "fc2"]
    assert list(net.children()) == [net.fc1, net.stats, net.fc2]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "stats", "fc2"]
    assert [n for n, _ in net.named_modules(prefix="m")] == ["m", "m.fc1", "m.stats", "m.fc2"]
    assert list(net.modules())[0] is net


def test_shared_modules_and_parameters_are_yielded_once():
    shared = Affine(2, 2)
    net = Module()
    net.a = shared
    net.b = shared
    net.c = Affine(2, 2)
    net.c.weight = shared.weight
    assert [n for n, _ in net.named_modules()] == ["", "a", "c"]
    assert [n for n, _ in net.named_modules(remove_duplicate=False)] == ["", "a", "b", "c"]
    assert [n for n, _ in net.named_children()] == ["a", "c"]
    assert [n for n, _ in net.named_parameters()] == ["a.weight", "a.bias", "c.bias"]
    assert [n for n, _ in net.named_parameters(remove_duplicate=False)] == [
        "a.weight", "a.bias", "b.weight", "b.bias", "c.weight", "c.bias"]
    memo = {net.a}
    assert [n for n, _ in net.named_modules(memo=memo)] == ["", "c"]
    # state_dict keeps every name (it is a dict of names, not of distinct tensors).
    assert list(net.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias", "c.weight",
                                      "c.bias"]


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Affine", "Stats", "Affine", "Net"]


# ------------------------------------------------------------------------------------------
# state_dict / load_state_dict
# ------------------------------------------------------------------------------------------

def test_state_dict_keys_values_and_detaching(device):
    net = Net(device)
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["fc1.weight", "fc1.bias", "stats.gamma", "stats.running", "stats.count",
                        "fc2.weight"]
    w = sd["fc1.weight"]
    assert type(w) is torch.Tensor and not w.requires_grad
    np.testing.assert_allclose(to_np(w), [[0, 0.1], [1, 1.1], [2, 2.1]], rtol=1e-6)
    # The entries alias the parameters.
    with torch.no_grad():
        net.fc1.weight.mul_(2)
    np.testing.assert_allclose(to_np(sd["fc1.weight"]), [[0, 0.2], [2, 2.2], [4, 4.2]],
                               rtol=1e-6)
    kept = net.state_dict(keep_vars=True)
    assert kept["fc1.weight"] is net.fc1.weight
    assert kept["stats.running"] is net.stats.running
    assert sd._metadata == OrderedDict([("", {"version": 1}), ("fc1", {"version": 1}),
                                        ("stats", {"version": 1}), ("fc2", {"version": 1})])


def test_state_dict_prefix_destination_and_positional_args():
    net = Net()
    dest = {}
    out = net.fc1.state_dict(destination=dest, prefix="enc.")
    assert out is dest and list(dest) == ["enc.weight", "enc.bias"]
    with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
        out = net.fc1.state_dict(None, "p.")
    assert list(out) == ["p.weight", "p.bias"]


def test_load_state_dict_round_trip_keeps_parameter_identity(device):
    src, dst = Net(device), Net(device)
    with torch.no_grad():
        for p in src.parameters():
            p.add_(1.5)
        src.stats.running.fill_(3.0)
        src.stats.count.fill_(4)
    w = dst.fc1.weight
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>" == str(result)
    assert dst.fc1.weight is w and w.requires_grad
    for (n, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items()):
        np.testing.assert_array_equal(to_np(a), to_np(b), err_msg=n)
    assert dst.stats.count.item() == 4
    # Copied, not aliased.
    with torch.no_grad():
        src.fc1.weight.zero_()
    assert to_np(dst.fc1.weight).sum() != 0


def test_load_state_dict_errors_use_torchs_text():
    m = Affine(2, 3)
    sd = m.state_dict()
    bad = OrderedDict(sd)
    bad["weight"] = torch.zeros(4, 2)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(bad)
    assert str(e.value) == (
        "Error(s) in loading state_dict for Affine:\n\tsize mismatch for weight: copying a param "
        "with shape torch.Size([4, 2]) from checkpoint, the shape in current model is "
        "torch.Size([3, 2]).")

    missing = OrderedDict(sd)
    del missing["bias"]
    missing["extra"] = torch.ones(1)
    missing["sub.x"] = torch.ones(1)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(missing)
    assert str(e.value) == (
        "Error(s) in loading state_dict for Affine:\n\tMissing key(s) in state_dict: \"bias\". "
        "\n\tUnexpected key(s) in state_dict: \"extra\", \"sub.x\". ")

    # strict=False reports the mismatches instead of raising.
    res = m.load_state_dict(missing, strict=False)
    assert res.missing_keys == ["bias"] and res.unexpected_keys == ["extra", "sub.x"]
    assert repr(res) == ("_IncompatibleKeys(missing_keys=['bias'], "
                         "unexpected_keys=['extra', 'sub.x'])")

    with pytest.raises(RuntimeError) as e:
        m.load_state_dict({"weight": 1.0, "bias": torch.zeros(3)})
    assert str(e.value) == (
        "Error(s) in loading state_dict for Affine:\n\tWhile copying the parameter named "
        "\"weight\", expected torch.Tensor or Tensor-like object from checkpoint but received "
        "<class 'float'>")
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like, got <class 'list'>"):
        m.load_state_dict([])


def test_load_state_dict_nested_missing_and_unexpected_keys():
    net = Net()
    sd = net.state_dict()
    del sd["stats.running"]
    sd["stats.bogus"] = torch.ones(1)
    sd["nothere.weight"] = torch.ones(1)
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["stats.running"]
    assert res.unexpected_keys == ["nothere.weight", "stats.bogus"]
    with pytest.raises(RuntimeError, match=re.escape(
            'Missing key(s) in state_dict: "stats.running". \n\tUnexpected key(s) in '
            'state_dict: "nothere.weight", "stats.bogus". ')):
        net.load_state_dict(sd)


def test_load_state_dict_converts_dtype_and_loads_old_scalar_format():
    m = Stats()
    sd = m.state_dict()
    sd["gamma"] = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    sd["count"] = torch.tensor([9])  # torch 0.3 stored scalars as 1-element 1-d tensors
    m.load_state_dict(sd)
    assert m.gamma.dtype == torch.float32 and m.count.shape == ()
    np.testing.assert_array_equal(to_np(m.gamma), [1, 2, 3])
    assert m.count.item() == 9


def test_load_state_dict_assign():
    m = Affine(2, 3)
    w = torch.full((3, 2), 5.0, dtype=torch.float64)
    m.load_state_dict({"weight": w, "bias": Parameter(torch.zeros(3), requires_grad=False)},
                      assign=True)
    assert isinstance(m.weight, Parameter) and m.weight.requires_grad
    assert m.weight.dtype == torch.float64  # the checkpoint's tensor, not a copy into the old
    assert m.bias.requires_grad  # takes the module's requires_grad
    with torch.no_grad():
        w.fill_(1.0)
    np.testing.assert_array_equal(to_np(m.weight), np.ones((3, 2)))  # aliases the checkpoint
    s = Stats()
    buf = torch.full((3,), 2.0)
    s.load_state_dict({"gamma": torch.ones(3), "running": buf, "count": torch.tensor(1)},
                      assign=True)
    assert s.running is buf


def test_load_from_state_dict_override_and_version_metadata():
    class Versioned(Module):
        _version = 2

        def __init__(self):
            super().__init__()
            self.register_buffer("steps", torch.tensor(0))
            self.w = Parameter(torch.zeros(2))
            self.seen = []

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                                  missing_keys, unexpected_keys, error_msgs):
            self.seen.append((prefix, local_metadata.get("version")))
            key = prefix + "steps"
            if local_metadata.get("version", 1) < 2 and key not in state_dict:
                state_dict[key] = torch.tensor(7)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)

    outer = Module()
    outer.inner = Versioned()
    sd = outer.state_dict()
    assert sd._metadata["inner"] == {"version": 2}
    outer.load_state_dict(sd)
    assert outer.inner.seen == [("inner.", 2)]
    # An old checkpoint without metadata and without the new buffer.
    old = OrderedDict([("inner.w", torch.ones(2))])
    outer.load_state_dict(old)
    assert outer.inner.seen[-1] == ("inner.", None) and outer.inner.steps.item() == 7


def test_save_to_state_dict_override():
    class Packed(Module):
        def __init__(self):
            super().__init__()
            self.a = Parameter(torch.ones(2))

        def _save_to_state_dict(self, destination, prefix, keep_vars):
            super()._save_to_state_dict(destination, prefix, keep_vars)
            destination[prefix + "a_sum"] = self.a.detach().sum()

    outer = Module()
    outer.p = Packed()
    sd = outer.state_dict()
    assert list(sd) == ["p.a", "p.a_sum"] and sd["p.a_sum"].item() == 2.0


def test_extra_state():
    class WithExtra(Module):
        def __init__(self):
            super().__init__()
            self.x = Parameter(torch.zeros(1))
            self.cfg = {"k": 1}

        def get_extra_state(self):
            return dict(self.cfg)

        def set_extra_state(self, state):
            self.cfg = state

    m = WithExtra()
    sd = m.state_dict()
    assert list(sd) == ["x", "_extra_state"] and sd["_extra_state"] == {"k": 1}
    sd["_extra_state"] = {"k": 2}
    m.load_state_dict(sd)
    assert m.cfg == {"k": 2}
    del sd["_extra_state"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        m.load_state_dict(sd)
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "_extra_state"'):
        Affine(1, 1).load_state_dict({"weight": torch.zeros(1, 1), "bias": torch.zeros(1),
                                      "_extra_state": 3})


def test_state_dict_and_load_hooks():
    m = Affine(2, 2)
    calls = []
    h1 = m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: calls.append(
        ("pre", prefix, keep_vars)))

    def drop_bias(mod, sd, prefix, meta):
        del sd[prefix + "bias"]

    h2 = m.register_state_dict_post_hook(drop_bias)
    sd = m.state_dict(prefix="x.")
    assert calls == [("pre", "x.", False)] and list(sd) == ["x.weight"]
    h1.remove()
    h2.remove()
    assert list(m.state_dict()) == ["weight", "bias"]

    m._register_state_dict_hook(lambda mod, sd, prefix, meta: OrderedDict(a=1))
    assert m.state_dict() == OrderedDict(a=1)

    m2 = Affine(2, 2)
    seen = []
    m2.register_load_state_dict_pre_hook(
        lambda mod, sd, prefix, *rest: seen.append((mod is m2, prefix, sorted(sd))))

    def post(mod, incompatible):
        seen.append(("post", list(incompatible.missing_keys)))
        incompatible.missing_keys.clear()

    m2.register_load_state_dict_post_hook(post)
    m2.load_state_dict({"weight": torch.zeros(2, 2)})  # the hook clears the missing "bias"
    assert seen == [(True, "", ["weight"]), ("post", ["bias"])]


# ------------------------------------------------------------------------------------------
# Modes, gradients, conversion
# ------------------------------------------------------------------------------------------

def test_train_eval_recurse():
    net = Net()
    assert net.eval() is net
    assert [m.training for m in net.modules()] == [False] * 4
    net.fc1.train()
    assert net.fc1.training and not net.training
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train(1)


def test_requires_grad_and_zero_grad(device):
    net = Net(device)
    out = net(torch.ones(4, 2, device=device)).sum()
    out.backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    for p in net.parameters():
        assert p.grad is not None and not p.grad.requires_grad
        np.testing.assert_array_equal(to_np(p.grad), 0)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.fc1.requires_grad_()
    assert [p.requires_grad for p in net.parameters()] == [True, True, False, False]


def test_forward_and_backward_values(device):
    m = Affine(2, 3, device=device)
    x = torch.tensor([[1.0, 2.0]], device=device)
    y = m(x)
    np.testing.assert_allclose(to_np(y), [[0.2, 4.2, 8.2]], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(to_np(m.weight.grad), np.tile([[1.0, 2.0]], (3, 1)))
    np.testing.assert_allclose(to_np(m.bias.grad), [1, 1, 1])


def test_double_float_half_keep_identity_and_move_grads():
    net = Net()
    net(torch.ones(1, 2)).sum().backward()
    params = list(net.parameters())
    grads = [to_np(p.grad) for p in params]
    assert net.double() is net
    assert list(net.parameters()) == params  # same Parameter objects
    assert all(p.dtype == torch.float64 and p.grad.dtype == torch.float64 for p in params)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(to_np(p.grad), g, rtol=1e-6)
    assert net.stats.running.dtype == torch.float64
    assert net.stats.count.dtype == torch.int64  # integer buffers keep their dtype
    assert all(isinstance(p, Parameter) and p.requires_grad and p.is_leaf for p in params)
    # Gradients keep flowing into the same objects after the conversion.
    net.zero_grad()
    net(torch.ones(1, 2, dtype=torch.float64)).sum().backward()
    assert params[0].grad is not None and params[0].grad.dtype == torch.float64
    net.half()
    assert params[0].dtype == torch.float16 and net.stats.count.dtype == torch.int64
    net.bfloat16()
    assert params[0].dtype == torch.bfloat16
    net.float()
    assert params[0].dtype == torch.float32


def test_to_call_forms(device):
    net = Net()
    w = net.fc1.weight
    assert net.to(torch.float64) is net and w.dtype == torch.float64
    net.to(dtype=torch.float32)
    assert w.dtype == torch.float32
    net.to(torch.zeros(1, dtype=torch.float64, device=device))
    assert w.dtype == torch.float64 and w.device.type == device
    assert net.stats.count.device.type == device and net.stats.count.dtype == torch.int64
    net.to("cpu", torch.float32)
    assert w.device.type == "cpu" and w.dtype == torch.float32
    net.to(device, dtype=torch.float64, non_blocking=True)
    assert w.device.type == device and w.dtype == torch.float64
    net.to(torch.device("cpu"))
    assert w.device.type == "cpu" and net.fc1.weight is w
    with pytest.raises(TypeError, match=re.escape(
            "nn.Module.to only accepts floating point or complex dtypes, but got desired "
            "dtype=torch.int64")):
        net.to(torch.int64)


def test_type_and_cpu():
    net = Net()
    net.type(torch.float64)
    assert net.fc1.weight.dtype == torch.float64
    # Module.type casts every tensor, integer buffers included.
    assert net.stats.count.dtype == torch.float64
    assert net.cpu() is net


def test_cuda_moves_parameters_buffers_and_grads(device):
    if device != "cuda":
        pytest.skip("needs a CUDA device")
    net = Net()
    net(torch.ones(1, 2)).sum().backward()
    w = net.fc1.weight
    assert net.cuda() is net
    assert w.is_cuda and w.grad.is_cuda and net.stats.running.is_cuda and net.fc1.weight is w
    y = net(torch.ones(1, 2, device="cuda"))
    assert y.is_cuda
    net.cpu()
    assert not w.is_cuda and not w.grad.is_cuda


def test_to_empty_keeps_shapes():
    net = Net()
    net.to_empty(device="cpu")
    assert net.fc1.weight.shape == (3, 2) and isinstance(net.fc1.weight, Parameter)


def test_apply_fn_sees_parameters_and_buffers():
    seen = []
    Stats()._apply(lambda t: seen.append(type(t).__name__) or t)
    assert seen == ["Parameter", "Tensor", "Tensor", "Tensor"]


# ------------------------------------------------------------------------------------------
# Calling and hooks
# ------------------------------------------------------------------------------------------

def test_missing_forward_raises_torchs_error():
    with pytest.raises(NotImplementedError, match=re.escape(
            'Module [NoForward] is missing the required "forward" function')):
        NoForward()(torch.ones(1))


def test_forward_pre_hooks_modify_input_in_order(device):
    m = Scale(2.0)
    order = []

    def add_one(mod, args):
        order.append("add_one")
        return args[0] + 1  # a single value is wrapped in a tuple

    def times_ten(mod, args):
        order.append("times_ten")
        return (args[0] * 10,)

    h1 = m.register_forward_pre_hook(add_one)
    m.register_forward_pre_hook(times_ten, prepend=True)
    y = m(torch.ones(2, device=device))
    assert order == ["times_ten", "add_one"]
    np.testing.assert_array_equal(to_np(y), [22.0, 22.0])  # (1 * 10 + 1) * 2
    h1.remove()
    h1.remove()  # a second remove does nothing
    np.testing.assert_array_equal(to_np(m(torch.ones(1, device=device))), [20.0])


def test_forward_pre_hook_with_kwargs():
    class KW(Module):
        def forward(self, x, *, scale=1.0):
            return x * scale

    m = KW()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"scale": 3.0}),
                                with_kwargs=True)
    np.testing.assert_array_equal(to_np(m(torch.ones(1), scale=2.0)), [3.0])
    m2 = KW()
    m2.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple of "
                                           r"\(new_args, new_kwargs\)"):
        m2(torch.ones(1))


def test_forward_hooks_modify_output_and_see_kwargs():
    class KW(Module):
        def forward(self, x, bias=0.0):
            return x + bias

    m = KW()
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(("plain", len(args))))
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(("kw", dict(kwargs))),
                            with_kwargs=True)
    h = m.register_forward_hook(lambda mod, args, out: out * 100)
    y = m(torch.ones(1), bias=1.0)
    assert seen == [("plain", 1), ("kw", {"bias": 1.0})]
    np.testing.assert_array_equal(to_np(y), [200.0])
    with h:  # the handle as a context manager removes the hook on exit
        pass
    np.testing.assert_array_equal(to_np(m(torch.ones(1))), [1.0])
    assert len(m._forward_hooks) == 2 and len(m._forward_hooks_with_kwargs) == 1


def test_forward_hook_always_call_runs_when_forward_raises():
    class Boom(Module):
        def forward(self, x):
            raise RuntimeError("failing in forward")

    m = Boom()
    stack = []
    m.register_forward_pre_hook(lambda mod, args: stack.append(1))
    m.register_forward_hook(lambda mod, args, out: stack.append(-1), always_call=True)
    m.register_forward_hook(lambda mod, args, out: stack.append("never"))
    assert len(m._forward_hooks_always_called) == 1
    with pytest.raises(RuntimeError, match="failing in forward"):
        m(torch.ones(1))
    assert stack == [1, -1]

    def bad_hook(mod, args, out):
        raise ValueError("hook failed")

    m2 = Boom()
    m2.register_forward_hook(bad_hook, always_call=True)
    with pytest.warns(UserWarning, match="hook failed"):
        with pytest.raises(RuntimeError, match="failing in forward"):
            m2(torch.ones(1))


def test_full_backward_hook_sees_and_replaces_grads(device):
    m = Scale(3.0)
    seen = {}

    def hook(mod, grad_input, grad_output):
        seen["mod"] = mod
        seen["gi"] = [to_np(g) for g in grad_input]
        seen["go"] = [to_np(g) for g in grad_output]

    m.register_full_backward_hook(hook)
    x = leaf([1.0, 2.0], device)
    y = m(x)
    assert y.grad_fn.name() == "BackwardHookFunctionBackward"
    y.backward(torch.tensor([1.0, 10.0], device=device))
    assert seen["mod"] is m
    np.testing.assert_array_equal(seen["go"][0], [1.0, 10.0])
    np.testing.assert_array_equal(seen["gi"][0], [3.0, 30.0])
    np.testing.assert_array_equal(to_np(x.grad), [3.0, 30.0])

    m2 = Scale(3.0)
    m2.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0 + 7,))
    x2 = leaf([1.0, 2.0], device)
    m2(x2).sum().backward()
    np.testing.assert_array_equal(to_np(x2.grad), [7.0, 7.0])

    m3 = Scale(3.0)
    m3.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of "
                                           "grad_input, got 2, but expected 1"):
        m3(leaf([1.0], device)).sum().backward()


def test_backward_pre_hook_replaces_grad_output(device):
    m = Scale(3.0)
    order = []
    m.register_full_backward_pre_hook(
        lambda mod, go: order.append("pre") or (go[0] * 2,))
    m.register_full_backward_hook(
        lambda mod, gi, go: order.append(("hook", to_np(go[0]).tolist())))
    x = leaf([1.0], device)
    m(x).sum().backward()
    assert order == ["pre", ("hook", [2.0])]
    np.testing.assert_array_equal(to_np(x.grad), [6.0])

    m2 = Scale(3.0)
    m2.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="Backward pre hook returned an invalid number of "
                                           "grad_output, got 2, but expected 1"):
        m2(leaf([1.0], device)).sum().backward()


def test_backward_hook_with_non_tensor_args_and_multiple_outputs(device):
    class Two(Module):
        def forward(self, a, k, b):
            return a * k, b * 2, "tag"

    m = Two()
    seen = {}
    m.register_full_backward_hook(
        lambda mod, gi, go: seen.update(gi=gi, go=go))
    a = leaf([1.0], device)
    b = torch.ones(1, device=device)  # does not require grad
    ya, yb, tag = m(a, 5.0, b)
    assert tag == "tag" and not yb.requires_grad
    ya.sum().backward()
    assert len(seen["gi"]) == 3 and seen["gi"][1] is None and seen["gi"][2] is None
    np.testing.assert_array_equal(to_np(seen["gi"][0]), [5.0])
    assert len(seen["go"]) == 3 and seen["go"][2] is None
    np.testing.assert_array_equal(to_np(seen["go"][0]), [1.0])
    assert seen["go"][1] is None  # the second output got no gradient


def test_backward_hook_when_only_parameters_require_grad(device):
    m = Affine(2, 1, device=device)
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, to_np(go[0]))))
    m(torch.ones(1, 2, device=device)).sum().backward()
    assert len(seen) == 1 and seen[0][0] == (None,)
    np.testing.assert_array_equal(seen[0][1], [[1.0]])
    assert m.weight.grad is not None

    m2 = Affine(2, 1, device=device)
    m2.register_full_backward_hook(lambda mod, gi, go: (torch.ones(1),))
    with pytest.raises(RuntimeError, match="Backward hook for Modules where no input requires "
                                           "gradient should always return None"):
        m2(torch.ones(1, 2, device=device)).sum().backward()


def test_backward_hooks_inside_a_network(device):
    net = Net(device)
    grads = {}
    for name, mod in net.named_children():
        mod.register_full_backward_hook(
            lambda mod, gi, go, name=name: grads.update({name: to_np(go[0])}))
    x = leaf([[1.0, -1.0]], device)
    net(x).sum().backward()
    assert set(grads) == {"fc1", "stats", "fc2"}
    np.testing.assert_array_equal(grads["fc2"], [[1.0]])
    # d(sum)/d(fc1 output) = W2 (gamma = 1), W2 = [[0, 0.1, 0.2]].
    np.testing.assert_allclose(grads["stats"], [[0.0, 0.1, 0.2]], rtol=1e-6)
    np.testing.assert_allclose(grads["fc1"], [[0.0, 0.1, 0.2]], rtol=1e-6)
    assert x.grad is not None


def test_backward_hook_is_skipped_without_grad_mode():
    m = Scale()
    calls = []
    m.register_full_backward_hook(lambda *a: calls.append(a))
    with torch.no_grad():
        y = m(torch.ones(1, requires_grad=True))
    assert y.grad_fn is None and calls == []


def test_backward_hook_non_tensor_output_warns():
    class Dict(Module):
        def forward(self, x):
            return {"y": x}

    m = Dict()
    m.register_full_backward_hook(lambda *a: None)
    x = torch.ones(1, requires_grad=True)
    with pytest.warns(UserWarning, match="For backward hooks to be called, module output "
                                         "should be a Tensor or a tuple of Tensors"):
        out = m(x)
    assert list(out) == ["y"] and out["y"].grad_fn.name() == "BackwardHookFunctionBackward"


def test_removable_handle():
    d = OrderedDict()
    extra = OrderedDict()
    h1 = RemovableHandle(d)
    h2 = RemovableHandle(d, extra_dict=extra)
    assert h2.id == h1.id + 1
    d[h1.id] = "a"
    d[h2.id] = "b"
    extra[h2.id] = True
    h2.remove()
    assert list(d) == [h1.id] and not extra
    with h1 as same:
        assert same is h1
    assert not d
    h1.remove()
    # Handles do not keep their dictionary alive.
    d2 = OrderedDict()
    h3 = RemovableHandle(d2)
    del d2
    h3.remove()


# ------------------------------------------------------------------------------------------
# Printing, dir, copying
# ------------------------------------------------------------------------------------------

def test_repr_matches_torch():
    assert repr(Scale()) == "Scale()"
    assert repr(Affine(2, 3)) == "Affine(in_features=2, out_features=3, bias=True)"
    assert repr(Net()) == (
        "Net(\n"
        "  (fc1): Affine(in_features=2, out_features=3, bias=True)\n"
        "  (stats): Stats()\n"
        "  (fc2): Affine(in_features=3, out_features=1, bias=False)\n"
        ")")
    outer = Module()
    outer.net = Net()
    outer.act = Scale()
    assert repr(outer) == (
        "Module(\n"
        "  (net): Net(\n"
        "    (fc1): Affine(in_features=2, out_features=3, bias=True)\n"
        "    (stats): Stats()\n"
        "    (fc2): Affine(in_features=3, out_features=1, bias=False)\n"
        "  )\n"
        "  (act): Scale()\n"
        ")")

    class Multi(Affine):
        def extra_repr(self):
            return "line one\nline two"

    m = Multi(1, 1)
    m.sub = Scale()
    assert repr(m) == "Multi(\n  line one\n  line two\n  (sub): Scale()\n)"


def test_dir_lists_registered_names():
    net = Net()
    d = dir(net)
    assert {"fc1", "stats", "fc2", "forward", "training"} <= set(d)
    assert "weight" in dir(net.fc1) and "running" in dir(net.stats)
    assert d == sorted(d)
    assert not any(k[0].isdigit() for k in dir(Sequential(Scale(), Scale())))


def test_deepcopy_gives_independent_parameters(device):
    net = Module()
    net.a = Affine(2, 2, device=device)
    net.b = net.a  # shared submodule stays shared in the copy
    net.a.weight.grad = torch.ones(2, 2, device=device)
    clone = copy.deepcopy(net)
    assert clone.a is clone.b and clone.a is not net.a
    assert clone.a.weight is not net.a.weight and isinstance(clone.a.weight, Parameter)
    assert clone.a.weight.requires_grad
    np.testing.assert_array_equal(to_np(clone.a.weight), to_np(net.a.weight))
    with torch.no_grad():
        clone.a.weight.fill_(9.0)
    assert to_np(net.a.weight).max() < 9.0
    assert clone.training and clone.a.in_features == 2


def test_deepcopy_copies_buffers():
    s = Stats()
    clone = copy.deepcopy(s)
    assert clone.running is not s.running
    with torch.no_grad():
        clone.running.fill_(1.0)
    np.testing.assert_array_equal(to_np(s.running), [0.0, 0.0, 0.0])
    assert clone._non_persistent_buffers_set == {"scratch"}


def test_getstate_setstate_fill_missing_hook_dicts():
    m = Affine(1, 1)
    state = m.__getstate__()
    del state["_forward_hooks_always_called"], state["_state_dict_pre_hooks"]
    fresh = Affine.__new__(Affine)
    fresh.__setstate__(state)
    assert fresh._forward_hooks_always_called == OrderedDict()
    assert fresh._state_dict_pre_hooks == OrderedDict()
    np.testing.assert_array_equal(to_np(fresh(torch.ones(1, 1))), [[0.0]])


# ------------------------------------------------------------------------------------------
# Containers
# ------------------------------------------------------------------------------------------

def test_sequential_forward_indexing_and_names(device):
    a, b, c = Scale(2.0), Scale(3.0), Affine(1, 1, device=device)
    seq = Sequential(a, b, c)
    assert list(seq._modules) == ["0", "1", "2"] and len(seq) == 3
    np.testing.assert_allclose(to_np(seq(torch.ones(1, 1, device=device))), [[0.0]])
    assert seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    with pytest.raises(IndexError, match="index -4 is out of range"):
        seq[-4]
    sl = seq[1:]
    assert type(sl) is Sequential and list(sl._modules) == ["1", "2"] and sl[0] is b
    assert [n for n, _ in seq.named_parameters()] == ["2.weight", "2.bias"]
    named = Sequential(OrderedDict([("first", a), ("second", b)]))
    assert list(named._modules) == ["first", "second"] and named.first is a
    np.testing.assert_array_equal(to_np(named(torch.ones(1))), [6.0])


def test_sequential_mutation():
    a, b, c, d = Scale(1.0), Scale(2.0), Scale(3.0), Scale(4.0)
    seq = Sequential(a, b, c)
    seq[1] = d
    assert list(seq) == [a, d, c]
    del seq[0]
    assert list(seq._modules) == ["0", "1"] and list(seq) == [d, c]
    seq.append(a)
    seq.insert(0, b)
    seq.insert(-1, Scale(5.0))
    assert [m.factor for m in seq] == [2.0, 4.0, 3.0, 5.0, 1.0]
    assert list(seq._modules) == ["0", "1", "2", "3", "4"]
    with pytest.raises(IndexError, match="Index out of range: 9"):
        seq.insert(9, a)
    with pytest.raises(AssertionError, match="module should be of type"):
        seq.insert(0, 3)
    assert seq.pop(1).factor == 4.0 and len(seq) == 4
    del seq[1:3]
    assert [m.factor for m in seq] == [2.0, 1.0]
    seq.extend([c, d])
    assert [m.factor for m in seq] == [2.0, 1.0, 3.0, 4.0]
    both = Sequential(a) + Sequential(b, c)
    assert [m.factor for m in both] == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential "
                                         "class, but <class 'int'> is given."):
        Sequential(a) + 1
    s = Sequential(a)
    s += Sequential(b)
    assert list(s) == [a, b]
    assert list(Sequential(a, b) * 2) == [a, b, a, b]
    assert list(2 * Sequential(a)) == [a, a]
    s *= 2
    assert list(s) == [a, b, a, b]
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
        Sequential(a) * 0


def test_sequential_repr_and_state_dict():
    seq = Sequential(Affine(2, 2), Scale(), Affine(2, 1, bias=False))
    assert repr(seq) == (
        "Sequential(\n"
        "  (0): Affine(in_features=2, out_features=2, bias=True)\n"
        "  (1): Scale()\n"
        "  (2): Affine(in_features=2, out_features=1, bias=False)\n"
        ")")
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight"]
    assert repr(Sequential()) == "Sequential()"


def test_module_list():
    a, b, c = Scale(1.0), Scale(2.0), Affine(1, 1)
    ml = ModuleList([a, b])
    assert len(ml) == 2 and ml[-1] is b and list(ml) == [a, b]
    ml.append(c)
    assert [n for n, _ in ml.named_parameters()] == ["2.weight", "2.bias"]
    ml.insert(0, c)
    assert list(ml) == [c, a, b, c] and list(ml._modules) == ["0", "1", "2", "3"]
    assert ml.pop(0) is c and list(ml) == [a, b, c]
    ml[0] = b
    assert list(ml) == [b, b, c]
    del ml[:2]
    assert list(ml) == [c] and list(ml._modules) == ["0"]
    ml += [a]
    ml.extend((b,))
    assert list(ml) == [c, a, b]
    assert type(ml[1:]) is ModuleList and list(ml[1:]) == [a, b]
    assert list((ml + ModuleList([c]))._modules) == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        ml[3]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable, "
                                        "but got int"):
        ml.extend(1)
    with pytest.raises(NotImplementedError, match=re.escape(
            'Module [ModuleList] is missing the required "forward" function')):
        ml(torch.ones(1))
    assert repr(ModuleList()) == "ModuleList()"
    rep = ModuleList([Scale(), Scale(), Affine(1, 2), Scale(), Scale(), Scale()])
    assert repr(rep) == (
        "ModuleList(\n"
        "  (0-1): 2 x Scale()\n"
        "  (2): Affine(in_features=1, out_features=2, bias=True)\n"
        "  (3-5): 3 x Scale()\n"
        ")")


def test_module_dict():
    a, b, c = Scale(1.0), Scale(2.0), Scale(3.0)
    md = ModuleDict({"b": b, "a": a})
    assert list(md) == ["b", "a"] and list(md.keys()) == ["b", "a"]  # insertion order
    md.update([("c", c)])
    md["d"] = a
    assert list(md.items()) == [("b", b), ("a", a), ("c", c), ("d", a)]
    assert "c" in md and len(md) == 4 and md["c"] is c
    assert md.pop("b") is b and "b" not in md
    del md["d"]
    assert list(md.values()) == [a, c]
    md.update(ModuleDict([("z", b)]))
    assert list(md) == ["a", "c", "z"]
    with pytest.raises(TypeError, match="ModuleDict.update should be called with an iterable "
                                        "of key/value pairs, but got int"):
        md.update(3)
    with pytest.raises(ValueError, match="ModuleDict update sequence element #0 has length 1; "
                                         "2 is required"):
        md.update([("x",)])
    with pytest.raises(TypeError, match="ModuleDict update sequence element #0 should be "
                                        "Iterable; isint"):
        md.update([3])
    md.clear()
    assert len(md) == 0
    assert repr(ModuleDict({"act": Scale()})) == "ModuleDict(\n  (act): Scale()\n)"


def test_parameter_list(device):
    p = Parameter(torch.ones(2, 3, device=device))
    t = torch.zeros(4, device=device)
    pl = ParameterList([p, t])
    assert len(pl) == 2 and pl[0] is p
    assert isinstance(pl[1], Parameter) and pl[1].requires_grad  # a tensor becomes a Parameter
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pl.append("note")
    assert pl[2] == "note" and len(pl) == 3 and list(pl.parameters()) == [p, pl[1]]
    pl.extend([torch.ones(1, device=device)])
    assert len(pl) == 4 and pl[-1].shape == (1,)
    sl = pl[1:3]
    assert type(sl) is ParameterList and len(sl) == 2 and sl[0] is pl[1]
    pl[0] = torch.full((1,), 2.0, device=device)
    assert isinstance(pl[0], Parameter) and pl[0] is not p
    dev = " (cuda:0)" if device == "cuda" else ""
    assert repr(pl) == (
        "ParameterList(\n"
        f"    (0): Parameter containing: [torch.float32 of size 1{dev}]\n"
        f"    (1): Parameter containing: [torch.float32 of size 4{dev}]\n"
        "    (2): Object of type: str\n"
        f"    (3): Parameter containing: [torch.float32 of size 1{dev}]\n"
        ")")
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        pl(1)
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an "
                                        "iterable, but got Tensor"):
        pl.extend(torch.ones(2))
    with pytest.raises(IndexError, match="index 4 is out of range"):
        pl[4]
    owner = Module()
    owner.params = ParameterList([torch.ones(1)])
    assert [n for n, _ in owner.named_parameters()] == ["params.0"]


def test_parameter_dict(device):
    pd = ParameterDict({"b": torch.ones(2, device=device), "a": torch.zeros(3, device=device)})
    assert list(pd) == ["a", "b"]  # a plain dict is sorted, as torch
    assert isinstance(pd["a"], Parameter)
    od = ParameterDict(OrderedDict([("z", torch.ones(1)), ("y", torch.ones(1))]))
    assert list(od.keys()) == ["z", "y"]
    pd["c"] = "text"
    assert [n for n, _ in pd.named_parameters()] == ["a", "b"]
    assert pd.get("missing", 5) == 5 and "c" in pd and len(pd) == 3
    assert pd.setdefault("d", None) is None and len(pd) == 4
    assert pd.pop("d") is None
    k, v = pd.popitem()
    assert k == "c" and v == "text"
    dev = " (cuda:0)" if device == "cuda" else ""
    tn = "torch.cuda.FloatTensor" if device == "cuda" else "torch.FloatTensor"
    assert repr(pd) == (
        "ParameterDict(\n"
        f"    (a): Parameter containing: [{tn} of size 3{dev}]\n"
        f"    (b): Parameter containing: [{tn} of size 2{dev}]\n"
        ")")
    merged = pd | od
    assert list(merged) == ["a", "b", "z", "y"] and merged["a"] is pd["a"]
    pd |= od
    assert list(pd) == ["a", "b", "z", "y"]
    assert list(reversed(pd)) == ["y", "z", "b", "a"]
    fk = pd.fromkeys(["u", "v"], torch.ones(1))
    assert list(fk) == ["u", "v"]
    del pd["z"]
    assert "z" not in pd and not hasattr(pd, "z")
    cp = pd.copy()
    assert list(cp) == list(pd) and cp["a"] is pd["a"]
    pd.clear()
    assert len(pd) == 0
    with pytest.raises(TypeError, match="Index given to ParameterDict cannot be used as a key as "
                                        "it is not a string \\(type is 'int'\\)"):
        pd[1] = torch.ones(1)
    with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
        pd(1)
    with pytest.raises(ValueError, match="ParameterDict update sequence element #0 has length "
                                         "3; 2 is required"):
        pd.update([("a", 1, 2)])


def test_containers_move_with_their_owner():
    owner = Module()
    owner.seq = Sequential(Affine(1, 1))
    owner.pl = ParameterList([torch.ones(2)])
    owner.pd = ParameterDict({"w": torch.ones(1)})
    owner.double()
    assert all(p.dtype == torch.float64 for p in owner.parameters())
    assert [n for n, _ in owner.named_parameters()] == ["seq.0.weight", "seq.0.bias", "pl.0",
                                                        "pd.w"]


# ------------------------------------------------------------------------------------------
# Parameters
# ------------------------------------------------------------------------------------------

def test_parameter_aliases_its_data():
    t = torch.zeros(2)
    p = Parameter(t)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    with torch.no_grad():
        p.fill_(3.0)
    np.testing.assert_array_equal(to_np(t), [3.0, 3.0])
    assert not Parameter(torch.ones(1), requires_grad=False).requires_grad
    assert repr(Parameter(torch.ones(1))).startswith("Parameter containing:\ntensor([1.]")


def test_uninitialized_parameter_and_buffer():
    p = UninitializedParameter(dtype=torch.float64)
    assert is_lazy(p) and repr(p) == "<UninitializedParameter>" and p.requires_grad
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized "
                                           "parameter or buffer"):
        p.shape
    m = Module()
    m.w = p
    assert "w" in m._parameters
    p.materialize((2, 3))
    assert type(p) is Parameter and not is_lazy(p) and p.shape == (2, 3)
    assert p.dtype == torch.float64 and m.w is p
    b = UninitializedBuffer()
    assert is_lazy(b) and not b.requires_grad and repr(b) == "<UninitializedBuffer>"
    m.register_buffer("b", b)
    b.materialize((4,), dtype=torch.float16)
    assert not is_lazy(b) and b.shape == (4,) and b.dtype == torch.float16
    assert not isinstance(b, Parameter)
    q = copy.deepcopy(UninitializedParameter(requires_grad=False))
    assert is_lazy(q) and not q.requires_grad
    assert not is_lazy(torch.ones(1)) and not is_lazy(Parameter(torch.ones(1)))
