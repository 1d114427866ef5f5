"""Custom differentiable operations: ``autograd.Function``.

``forward`` runs with grad mode off; if grad mode was on and an input requires grad, the outputs
are recorded as one graph node whose backward calls the class's ``backward`` (with the GIL held
only for that call; the rest of backward runs in Rust).
"""

from .. import _C
from .._C import Tensor
from .grad_mode import no_grad

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class FunctionCtx:
    """The ``ctx`` of a custom Function: what forward leaves for backward."""

    def __init__(self):
        self._saved = None
        self._released = False
        self._non_differentiable = set()
        self._dirty = set()
        self._materialize_grads = True
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        """Saves tensors (or None) for backward; read them back with ``saved_tensors``."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self._saved = [(t, None if t is None else t._version) for t in tensors]

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(_FREED)
        if self._saved is None:
            return ()
        out = []
        for t, version in self._saved:
            if t is not None and t._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [{t.type()} {list(t.shape)}] is at version "
                    f"{t._version}; expected version {version} instead.")
            out.append(t)
        return tuple(out)

    def mark_non_differentiable(self, *tensors):
        """Marks outputs that get no gradient (e.g. indices)."""
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        """Marks inputs that forward modified in place."""
        self._dirty.update(id(t) for t in tensors)

    def set_materialize_grads(self, value):
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self._materialize_grads = bool(value)

    def _release(self):
        if self._saved is not None:
            self._saved = None
            self._released = True


class _FunctionMeta(type):
    pass


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable operations.

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

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        separate_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate_setup:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        tensor_args = [(i, a) for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not (_C.is_grad_enabled() and any(a.requires_grad for _, a in tensor_args)):
            return out
        is_tuple = isinstance(out, tuple)
        outs = out if is_tuple else (out,)
        diff = [(k, o) for k, o in enumerate(outs)
                if isinstance(o, Tensor) and o.is_floating_point()
                and id(o) not in ctx._non_differentiable]
        # Saved outputs are kept as detached aliases: holding the recorded output itself would
        # make output -> node -> ctx -> output, a cycle Python's collector cannot see.
        if ctx._saved:
            out_ids = {id(o) for _, o in diff}
            ctx._saved = [(t.detach() if t is not None and id(t) in out_ids else t, v)
                          for t, v in ctx._saved]
        n_args = len(args)

        def backward(*grads):
            full = [None] * len(outs)
            for (k, _), g in zip(diff, grads):
                full[k] = g
            if ctx._materialize_grads:
                for k, o in enumerate(outs):
                    if full[k] is None and isinstance(o, Tensor):
                        full[k] = _C.zeros_like(o)
            res = cls.backward(ctx, *full)
            if not isinstance(res, tuple):
                res = (res,)
            if len(res) > n_args and all(r is None for r in res[n_args:]):
                res = res[:n_args]
            if len(res) != n_args:
                raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number "
                                   f"of gradients (expected {n_args}, got {len(res)})")
            for (i, a) in tensor_args:
                g = res[i]
                if g is not None and not isinstance(g, Tensor):
                    raise TypeError(f"function {cls.__name__}Backward returned a gradient "
                                    f"different than None at position {i + 1}, but the "
                                    "corresponding forward input was not a Variable")
            return [res[i] for i, _ in tensor_args]

        recorded = _C._record_function(cls.__name__ + "Backward", backward, ctx._release,
                                       [a for _, a in tensor_args], [o for _, o in diff],
                                       ctx._materialize_grads)
        new = list(outs)
        for (k, _), r in zip(diff, recorded):
            new[k] = r
        return tuple(new) if is_tuple else new[0]


def once_differentiable(fn):
    """Marks a ``backward`` as not differentiable itself: it runs with grad mode off."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)

    return wrapper
