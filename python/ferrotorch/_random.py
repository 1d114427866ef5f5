"""Random numbers: seeding, ``Generator``, random factories and sampling functions.

Every function takes ``generator=``; without it the default generator is used. Streams come
from a counter-based Philox4x32-10 generator (layout documented in ``rust/core/src/random.rs``),
so results do not depend on the number of threads.
"""

import sys as _sys

from . import _C

Generator = _C.Generator
default_generator = _C.default_generator
rand = _C.rand
randn = _C.randn
randperm = _C.randperm
normal = _C.normal
rand_like = _C.rand_like
randn_like = _C.randn_like
get_rng_state = _C.get_rng_state
set_rng_state = _C.set_rng_state
bernoulli = _C.Tensor.bernoulli
multinomial = _C.Tensor.multinomial


def manual_seed(seed):
    """Sets the seed of the default generator and returns it (a ``torch.Generator``)."""
    _C.manual_seed(int(seed))
    return default_generator


def seed():
    """Seeds the default generator non-deterministically and returns the seed used."""
    return default_generator.seed()


def initial_seed():
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def _is_size(x):
    return isinstance(x, (tuple, list))


def randint(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False, low=None, high=None):
    """randint(low=0, high, size, *, generator=None, out=None, dtype=None, layout=torch.strided,
    device=None, requires_grad=False) -> Tensor

    Integers drawn uniformly from ``[low, high)``; int64 unless ``dtype`` is given.
    """
    args = list(args)
    if size is None and args and _is_size(args[-1]):
        size = args.pop()
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif len(args) > 2:
        raise TypeError(f"randint() takes at most 3 positional arguments ({len(args) + (size is not None)} given)")
    if high is None or size is None:
        raise TypeError("randint() missing required arguments: 'high' and 'size'")
    low = 0 if low is None else low
    return _C._randint(int(low), int(high), size, generator=generator, out=out, dtype=dtype,
                       layout=layout, device=device, requires_grad=requires_grad, pin_memory=pin_memory)


def randint_like(input, *args, low=None, high=None, generator=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None):
    """randint_like(input, low=0, high, *, dtype=None, ...) -> Tensor

    A tensor shaped like ``input`` with integers drawn uniformly from ``[low, high)``.
    """
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    if high is None:
        raise TypeError("randint_like() missing required argument 'high'")
    low = 0 if low is None else low
    return _C._randint_like(input, int(low), int(high), generator=generator, dtype=dtype, layout=layout,
                            device=device, requires_grad=requires_grad, memory_format=memory_format)


# ``torch.random.manual_seed(...)`` and friends: this module stands in for torch.random.
random = _sys.modules[__name__]

__all__ = [
    "random",
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial",
    "rand_like", "randn_like", "randint_like",
]
