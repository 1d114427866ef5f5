"""Custom differentiable operations: ``autograd.Function``.

``forward`` runs with grad mode off; if grad mode was on and an input requires grad, the outputs
are recorded as one graph node (named ``<ClassName>Backward``) whose backward calls the class's
``backward`` (with the GIL held only for that call; the rest of backward runs in Rust).

Reference cycles: the node lives in Rust, where Python's cycle collector cannot see it, so
nothing reachable from the node (the backward closure, the ``ctx``) may hold a recorded output.
Outputs saved with ``save_for_backward`` are therefore kept as detached aliases, and backward
(which receives the node) re-attaches them to it when it builds a graph
(``create_graph=True``); the closure keeps only the outputs' shapes.
"""

import functools
import inspect

from .. import _C
from .._C import Tensor
from .grad_mode import enable_grad, no_grad

__all__ = ["Function", "FunctionCtx", "once_differentiable", "InplaceFunction",
           "NestedIOFunction"]

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class _SavedTensor:
    """One ``save_for_backward`` entry: the tensor, the version it must still have when used,
    and (for a saved output) which output of the node it is."""

    __slots__ = ("tensor", "version", "output_nr", "origin")

    def __init__(self, tensor):
        self.tensor = tensor
        self.version = None
        self.output_nr = None
        self.origin = None

    def unpack(self, node):
        """The saved tensor; a saved output comes back as output of ``node`` (the Function's
        node, known while its backward runs) when grad mode is on."""
        t = self.tensor
        if t is None:
            return None
        if self.version is not None and t._version != self.version:
            origin = ""
            where = self.origin
            if where is None and t.grad_fn is not None:
                where = (t.grad_fn.name(), t.output_nr)
            if where is not None:
                origin = f", which is output {where[1]} of {where[0]},"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{t.type()} {list(t.shape)}]{origin} is at version "
                f"{t._version}; expected version {self.version} instead. Hint: enable anomaly "
                "detection to find the operation that failed to compute its gradient, with "
                "torch.autograd.set_detect_anomaly(True).")
        if self.output_nr is not None and node is not None and _C.is_grad_enabled():
            return _C._attach_output(t, node, self.output_nr)
        return t


class FunctionCtx:
    """The ``ctx`` of a custom Function: what forward leaves for backward."""

    def __init__(self):
        self._saved = None
        self._released = False
        self._node = None  # the recorded node, while its backward runs
        self._non_differentiable = set()
        self._dirty = []
        self.materialize_grads = True
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        """Saves tensors (or None) for backward; read them back with ``saved_tensors``.

        Only tensors go here (other values can be stored as attributes of ``ctx``). Saved
        tensors are checked for in-place changes when backward reads them, and freed after
        backward unless ``retain_graph=True``.
        """
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self._saved = [_SavedTensor(t) for t in tensors]

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, in order."""
        if self._released:
            raise RuntimeError(_FREED)
        if self._saved is None:
            return ()
        return tuple(s.unpack(self._node) for s in self._saved)

    @property
    def saved_variables(self):
        import warnings
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning,
                      stacklevel=2)
        return self.saved_tensors

    def mark_non_differentiable(self, *tensors):
        """Marks outputs that get no gradient (e.g. indices); backward still receives a
        (zero) gradient argument for them."""
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        """Marks inputs that forward modified in place; they must be returned as outputs."""
        self._dirty.extend(tensors)

    def set_materialize_grads(self, value):
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)

    def _release(self):
        if self._saved is not None:
            self._saved = None
            self._released = True


# torch names the ctx class of a Function ``BackwardCFunction``; user code sometimes checks it.
BackwardCFunction = FunctionCtx


class _FunctionMeta(type):
    """Gives each Function subclass the name torch gives its node: ``<ClassName>Backward``."""

    def __init__(cls, name, bases, attrs):
        cls._backward_name = name + "Backward"
        super().__init__(name, bases, attrs)


def _tensor_meta(t):
    return (tuple(t.shape), t.dtype, t.device)


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable operations.

    Subclass it and write ``forward`` and ``backward`` as static methods; call the operation
    with ``apply``. Either ``forward(ctx, *args)`` takes the context itself, or
    ``forward(*args)`` does not and a separate ``setup_context(ctx, inputs, output)`` fills it.

    Example::

        >>> class Exp(Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         y = x.exp()
        ...         ctx.save_for_backward(y)
        ...         return y
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (y,) = ctx.saved_tensors
        ...         return grad * y
        >>> Exp.apply(torch.ones(2, requires_grad=True))
    """

    def __init__(self, *args, **kwargs):
        import warnings
        warnings.warn(f"{self.__class__} should not be instantiated. Methods on autograd "
                      "functions are all static, so you should invoke them on the class itself. "
                      "Instantiating an autograd function will raise an error in a future "
                      "version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method. (Example: https://pytorch.org/docs/stable/autograd."
                           "html#torch.autograd.Function)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def _backward_fn(cls):
        backward_fn, vjp_fn = cls.backward, cls.vjp
        if backward_fn is not Function.backward and vjp_fn is not Function.vjp:
            raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is "
                               "not allowed. You should only implement one of them.")
        return vjp_fn if vjp_fn is not Function.vjp else backward_fn

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs ``forward`` on ``args`` and, when a graph is being recorded, attaches the
        outputs to a node whose backward is this class's ``backward``."""
        if kwargs:
            raise TypeError("apply() takes no keyword arguments")
        separate_setup = cls.setup_context is not Function.setup_context
        if separate_setup:
            # As torch: default arguments become positional ones, so that backward returns one
            # gradient per parameter of forward's signature.
            sig = cls.__dict__.get("_forward_signature")
            if sig is None:
                sig = inspect.signature(cls.forward)
                cls._forward_signature = sig
            bound = sig.bind(*args)
            bound.apply_defaults()
            args = bound.args
        ctx = FunctionCtx()
        recording = _C.is_grad_enabled() and any(
            isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad():
            if separate_setup:
                out = cls.forward(*args)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args)
        if not recording:
            return out
        return _record(cls, ctx, args, out)


def _record(cls, ctx, args, out):
    """Records ``out = cls.forward(ctx, *args)`` in the graph; returns the outputs with history."""
    is_tuple = isinstance(out, tuple)
    outs = out if is_tuple else (out,)
    dirty_ids = {id(t) for t in ctx._dirty}
    ctx._dirty = []
    if dirty_ids - {id(o) for o in outs}:
        raise RuntimeError("Some elements marked as dirty during the forward method were not "
                           "returned as output. The inputs that are modified inplace must all be "
                           "outputs of the Function.")
    tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    wants = [isinstance(a, Tensor) and a.requires_grad for a in args]
    diff = [k for k, o in enumerate(outs)
            if isinstance(o, Tensor) and o.is_floating_point()
            and id(o) not in ctx._non_differentiable]
    # The closure below is owned by the node: it may hold shapes and flags, never a tensor
    # (an input modified in place becomes an output, and an output would close a cycle).
    metas = [_tensor_meta(o) if isinstance(o, Tensor) else None for o in outs]
    n_args = len(args)
    name = cls._backward_name
    user_backward = cls._backward_fn()

    def backward(node, *grads):
        ctx._node = node
        try:
            return run_backward(grads)
        finally:
            ctx._node = None

    def run_backward(grads):
        full = [None] * len(metas)
        for k, g in zip(diff, grads):
            full[k] = g
        if ctx.materialize_grads:
            for k, m in enumerate(metas):
                if full[k] is None and m is not None:
                    full[k] = _C.zeros(m[0], dtype=m[1], device=m[2])
        res = user_backward(ctx, *full)
        if not isinstance(res, tuple):
            res = (res,)
        if len(res) > n_args and all(r is None for r in res[n_args:]):
            res = res[:n_args]
        if len(res) != n_args:
            raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                               f"(expected {n_args}, got {len(res)})")
        for i, g in enumerate(res):
            if g is None:
                continue
            if i not in tensor_pos:
                raise RuntimeError(f"function {name} returned a gradient different than None at "
                                   f"position {i + 1}, but the corresponding forward input was "
                                   "not a Variable")
            if wants[i] and not isinstance(g, Tensor):
                raise TypeError(f"function {name} returned a gradient of type "
                                f"{type(g).__name__} at position {i + 1}; expected a Tensor "
                                "or None")
        return [res[i] if wants[i] else None for i in tensor_pos]

    recorded = _C._record_function(name, backward, ctx._release,
                                   [args[i] for i in tensor_pos], [outs[k] for k in diff],
                                   ctx.materialize_grads)
    new = list(outs)
    for k, r in zip(diff, recorded):
        new[k] = r
    # Inputs modified in place take the node's output as their history (a leaf that requires
    # grad is refused here, as torch refuses it); the user gets the same object back.
    for k in diff:
        if id(outs[k]) in dirty_ids:
            if outs[k].is_leaf and outs[k].requires_grad:
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   "in-place operation.")
            with enable_grad():
                outs[k].copy_(new[k])
            new[k] = outs[k]
    if ctx._saved:
        input_ids = {id(args[i]) for i in tensor_pos}
        out_pos = {id(outs[k]): k for k in diff
                   if id(outs[k]) not in input_ids or id(outs[k]) in dirty_ids}
        for s in ctx._saved:
            t = s.tensor
            if t is None:
                continue
            k = out_pos.get(id(t))
            if k is not None:
                # A saved output: a detached alias, re-attached to the node when backward
                # builds a graph (create_graph=True).
                s.tensor = t.detach()
                s.output_nr = diff.index(k)
                s.origin = (name, s.output_nr)
            s.version = s.tensor._version
    return tuple(new) if is_tuple else new[0]


class InplaceFunction(Function):
    """A Function with an ``inplace`` flag (kept for torch compatibility)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class NestedIOFunction(Function):
    """Legacy torch class; kept so that imports of it keep working."""


_DIFF_TWICE = ("trying to differentiate twice a function that was marked with "
               "@once_differentiable")


class _DelayedError(Function):
    """Passes its first ``n`` arguments through; raises if backward ever reaches it. The other
    arguments only connect the node to the graph, so that both ``backward()`` and
    ``autograd.grad`` with respect to anything upstream run into the error."""

    _backward_name = "DelayedError"

    @staticmethod
    def forward(ctx, n, *xs):
        return tuple(x.view_as(x) if isinstance(x, Tensor) else x for x in xs[:n])

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(_DIFF_TWICE)


def once_differentiable(fn):
    """Marks a ``backward`` as not differentiable itself: it runs with grad mode off, and
    differentiating its results (``create_graph=True`` followed by another backward) raises."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not _C.is_grad_enabled():
            return outputs
        upstream = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        if not upstream:
            return outputs
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        detached = [o.detach() if isinstance(o, Tensor) else o for o in outs]
        return _DelayedError.apply(len(outs), *detached, *upstream)

    return wrapper
