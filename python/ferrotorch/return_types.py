"""``torch.return_types``: the named tuples returned by ops with two results.

Each class is a tuple (unpacks, indexes and compares like one) whose fields are also
attributes, e.g. ``torch.max(x, 0).values``, as torch's structseq types.
"""

import operator

__all__ = [
    "max",
    "min",
    "sort",
    "topk",
    "kthvalue",
    "median",
    "nanmedian",
    "mode",
    "cummax",
    "cummin",
    "aminmax",
]


class _StructSeq(tuple):
    """Base of the return types: a tuple of a fixed number of named fields."""

    _fields = ()

    def __new__(cls, sequence):
        sequence = tuple(sequence)
        if len(sequence) != len(cls._fields):
            raise TypeError(
                f"torch.return_types.{cls.__name__}() takes a {len(cls._fields)}-sequence "
                f"({len(sequence)}-sequence given)"
            )
        return super().__new__(cls, sequence)

    @property
    def n_fields(self):
        return len(self._fields)

    n_sequence_fields = n_fields

    def __repr__(self):
        body = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{body})"

    def __reduce__(self):
        return (type(self), (tuple(self),))


def _make(name, fields):
    attrs = {f: property(operator.itemgetter(i), doc=f"Field {i}.") for i, f in enumerate(fields)}
    attrs.update(_fields=fields, __module__=__name__, __qualname__=name, __slots__=())
    return type(name, (_StructSeq,), attrs)


max = _make("max", ("values", "indices"))  # noqa: A001
min = _make("min", ("values", "indices"))  # noqa: A001
sort = _make("sort", ("values", "indices"))
topk = _make("topk", ("values", "indices"))
kthvalue = _make("kthvalue", ("values", "indices"))
median = _make("median", ("values", "indices"))
nanmedian = _make("nanmedian", ("values", "indices"))
mode = _make("mode", ("values", "indices"))
cummax = _make("cummax", ("values", "indices"))
cummin = _make("cummin", ("values", "indices"))
aminmax = _make("aminmax", ("min", "max"))
