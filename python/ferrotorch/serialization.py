"""``ferrotorch.save`` / ``ferrotorch.load``: checkpoints that are safe to open.

A checkpoint is a safetensors file. Its tensors are stored under readable names (a state dict's
own keys, so other safetensors tools read it as a plain state dict); everything around them
(dicts, lists, tuples, numbers, strings, dtypes, devices) is JSON in the file's metadata under
the key ``"ferrotorch"``. Loading parses JSON and raw tensor bytes only -- never pickle -- so a
file from a stranger cannot run code. Writes go to a temporary file that is flushed and then
renamed over the target, so a crash mid-save leaves the previous checkpoint intact. Loads
memory-map the file: CPU tensors use its pages without a copy (copy-on-write: writing to a
loaded tensor never changes the file).
"""

import collections
import json
import math
import os

from . import _C
from ._C import Tensor

__all__ = ["save", "load"]

_FORMAT_KEY = "ferrotorch"
_FORMAT_VERSION = 1
_TAG = "@"


class _Writer:
    """Turns an object into JSON-able structure plus a list of named tensors."""

    def __init__(self):
        self.tensors = []  # (name, tensor) in the order first seen
        self._names = set()
        self._seen = {}  # id(tensor) -> name: one object saved once, loaded as one object
        self._alive = []  # keeps ids in _seen valid while saving

    def encode(self, obj, path):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            if math.isfinite(obj):
                return float(obj)
            return {_TAG: "float", "value": repr(float(obj))}
        if isinstance(obj, Tensor):
            return self._tensor(obj, path)
        if isinstance(obj, _C.dtype):
            return {_TAG: "dtype", "value": str(obj).removeprefix("torch.")}
        if isinstance(obj, _C.device):
            return {_TAG: "device", "value": str(obj)}
        if isinstance(obj, (bytes, bytearray)):
            return {_TAG: "bytes", "hex": bytes(obj).hex()}
        if isinstance(obj, dict):
            tag = "odict" if isinstance(obj, collections.OrderedDict) else "dict"
            items = [[self.encode(k, path), self.encode(v, path + [k])] for k, v in obj.items()]
            return {_TAG: tag, "items": items}
        if isinstance(obj, list):
            return [self.encode(v, path + [i]) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            from ._size import Size

            tag = "size" if isinstance(obj, Size) else "tuple"
            return {_TAG: tag, "items": [self.encode(v, path + [i]) for i, v in enumerate(obj)]}
        raise TypeError(
            f"ferrotorch.save: cannot save an object of type {type(obj).__name__} (at "
            f"{_where(path)}): checkpoints hold tensors, numbers, strings, bytes, None, dtypes, "
            "devices, and lists, tuples and dicts of them -- no pickled objects, so that loading "
            "a checkpoint can never run code"
        )

    def _tensor(self, t, path):
        from .nn.parameter import Parameter

        name = self._seen.get(id(t))
        if name is None:
            name = self._unique(".".join(str(p) for p in path) or "tensor")
            self._seen[id(t)] = name
            self._alive.append(t)
            self.tensors.append((name, t.detach()))
        entry = {_TAG: "tensor", "name": name, "device": str(t.device)}
        if t.requires_grad:
            entry["requires_grad"] = True
        if isinstance(t, Parameter):
            entry["parameter"] = True
        return entry

    def _unique(self, name):
        candidate, n = name, 1
        while candidate in self._names:
            n += 1
            candidate = f"{name}#{n}"
        self._names.add(candidate)
        return candidate


def _where(path):
    return "".join(f"[{p!r}]" for p in path) or "the top level"


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Saves ``obj`` (tensors, state dicts, optimizer state, nested containers of them and of
    plain values) to ``f``, a path or a writable binary file object.

    Saving to a path is atomic: the file at ``f`` is either the previous one or the complete new
    one, whatever happens during the save. ``pickle_module`` and ``pickle_protocol`` are accepted
    for compatibility with torch and must be left at their defaults.
    """
    if pickle_module is not None or pickle_protocol is not None:
        raise ValueError(
            "ferrotorch.save: pickle_module/pickle_protocol are not supported: ferrotorch "
            "checkpoints are safetensors files, never pickle"
        )
    writer = _Writer()
    structure = writer.encode(obj, [])
    metadata = {
        "format": "pt",
        _FORMAT_KEY: json.dumps(
            {"version": _FORMAT_VERSION, "object": structure}, allow_nan=False,
            separators=(",", ":"),
        ),
    }
    if isinstance(f, (str, os.PathLike)):
        _C._safetensors_save_file(os.fspath(f), writer.tensors, metadata)
    elif hasattr(f, "write"):
        f.write(_C._safetensors_save_bytes(writer.tensors, metadata))
    else:
        raise TypeError(
            f"ferrotorch.save: f must be a path or a binary file object, got {type(f).__name__}"
        )


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **kwargs):
    """Loads an object saved by :func:`save`, or the tensors of any safetensors file (as a dict
    of name to tensor).

    ``f`` is a path or a readable binary file object. ``map_location`` works as in torch: ``None``
    puts every tensor back on the device it was saved from; a device or string puts all of them
    on that device; a dict maps saved locations to new ones (``{"cuda:0": "cpu"}``); a callable
    is called as ``map_location(tensor, location)`` with the CPU tensor and its saved location
    and returns the tensor to use (or ``None`` for the default). Nothing in the file is ever
    executed, whatever ``weights_only`` says. Files are memory-mapped unless ``mmap=False``.
    """
    if pickle_module is not None:
        raise ValueError("ferrotorch.load: pickle_module is not supported (no pickle)")
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        _refuse_pickle(path, _head(path))
        if mmap is False:
            with open(path, "rb") as fh:
                tensors, metadata = _C._safetensors_load_bytes(fh.read())
        else:
            tensors, metadata = _C._safetensors_load_file(path)
    elif hasattr(f, "read"):
        data = f.read()
        _refuse_pickle(getattr(f, "name", "file object"), data[:9])
        tensors, metadata = _C._safetensors_load_bytes(data)
    else:
        raise TypeError(
            f"ferrotorch.load: f must be a path or a binary file object, got {type(f).__name__}"
        )
    tensors = dict(tensors)
    where = f if isinstance(f, (str, os.PathLike)) else "file object"
    if _FORMAT_KEY not in metadata:
        # A plain safetensors file (e.g. model weights from another tool): a state dict.
        place = _placer(map_location, where)
        return collections.OrderedDict((n, place(t, "cpu")) for n, t in tensors.items())
    try:
        header = json.loads(metadata[_FORMAT_KEY])
    except (ValueError, RecursionError) as e:
        raise RuntimeError(f"ferrotorch.load: {where}: the checkpoint's structure is not valid "
                           f"JSON ({e})") from None
    if not isinstance(header, dict) or header.get("version") != _FORMAT_VERSION:
        raise RuntimeError(f"ferrotorch.load: {where}: unsupported checkpoint format version "
                           f"{header.get('version') if isinstance(header, dict) else header!r}")
    reader = _Reader(tensors, _placer(map_location, where), where)
    try:
        return reader.decode(header.get("object"))
    except RecursionError:
        raise RuntimeError(f"ferrotorch.load: {where}: the checkpoint's structure is nested "
                           "too deeply") from None


def _head(path):
    with open(path, "rb") as fh:
        return fh.read(9)


def _refuse_pickle(where, head):
    # A safetensors file is an 8-byte header length, then the JSON header ("{"). torch.save
    # writes a zip archive (PK\x03\x04) or, in its legacy format, a pickle (\x80 + protocol).
    if head[8:9] == b"{":
        return
    if head.startswith(b"PK\x03\x04") or (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05"):
        raise RuntimeError(
            f"ferrotorch.load: {where} is a PyTorch pickle checkpoint. ferrotorch never unpickles "
            "(unpickling can run arbitrary code). Convert it once with PyTorch, e.g. "
            "safetensors.torch.save_file(torch.load(path), 'model.safetensors'), or "
            "torch.save -> ferrotorch.save via a state dict of tensors."
        )


def _placer(map_location, where):
    """``place(cpu_tensor, saved_location) -> tensor`` following torch's map_location rules."""
    from . import cuda

    def default(t, location):
        if location.startswith("cuda") and not cuda.is_available():
            raise RuntimeError(
                f"ferrotorch.load: {where}: attempting to deserialize object on a CUDA device but "
                "ferrotorch.cuda.is_available() is False. If you are running on a CPU-only "
                "machine, please use ferrotorch.load with map_location=torch.device('cpu') to "
                "map your storages to the CPU."
            )
        return t if location == "cpu" else t.to(location)

    if map_location is None:
        return default
    if isinstance(map_location, (str, _C.device)):
        target = str(map_location)
        return lambda t, location: t if target == "cpu" else t.to(target)
    if isinstance(map_location, dict):
        mapping = {str(k): str(v) for k, v in map_location.items()}
        return lambda t, location: default(t, mapping.get(location, location))
    if callable(map_location):
        def call(t, location):
            result = map_location(t, location)
            return default(t, location) if result is None else result
        return call
    raise TypeError(
        "ferrotorch.load: map_location must be None, a device, a string, a dict or a callable, "
        f"got {type(map_location).__name__}"
    )


class _Reader:
    """Rebuilds an object from the JSON structure, checking every entry (the file may be
    hostile: anything unexpected is a RuntimeError, never a crash or a silent guess)."""

    def __init__(self, tensors, place, where):
        self._tensors = tensors
        self._place = place
        self._where = where
        self._made = {}  # tensor name -> object: one saved object loads as one object

    def _bad(self, what):
        return RuntimeError(f"ferrotorch.load: {self._where}: malformed checkpoint ({what})")

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or not isinstance(node.get(_TAG), str):
            raise self._bad(f"unexpected entry {str(node)[:80]!r}")
        tag = node[_TAG]
        if tag in ("dict", "odict"):
            items = self._items(node)
            pairs = []
            for pair in items:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self._bad("a dict item is not a [key, value] pair")
                key = self.decode(pair[0])
                try:
                    hash(key)
                except TypeError:
                    raise self._bad(f"unhashable dict key {key!r}") from None
                pairs.append((key, self.decode(pair[1])))
            return collections.OrderedDict(pairs) if tag == "odict" else dict(pairs)
        if tag in ("tuple", "size"):
            values = tuple(self.decode(v) for v in self._items(node))
            if tag == "size":
                from ._size import Size

                if not all(type(v) is int for v in values):
                    raise self._bad("a Size holds non-integers")
                return Size(values)
            return values
        if tag == "tensor":
            return self._tensor(node)
        value = node.get("value")
        if tag == "float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag == "dtype" and isinstance(value, str):
            import ferrotorch

            dtype = getattr(ferrotorch, value, None)
            if not isinstance(dtype, _C.dtype):
                raise self._bad(f"unknown dtype {value!r}")
            return dtype
        if tag == "device" and isinstance(value, str):
            try:
                return _C.device(value)
            except Exception:
                raise self._bad(f"bad device {value!r}") from None
        if tag == "bytes" and isinstance(node.get("hex"), str):
            try:
                return bytes.fromhex(node["hex"])
            except ValueError:
                raise self._bad("bad bytes entry") from None
        raise self._bad(f"unknown entry {tag!r}")

    def _items(self, node):
        items = node.get("items")
        if not isinstance(items, list):
            raise self._bad(f"{node[_TAG]} without items")
        return items

    def _tensor(self, node):
        name = node.get("name")
        if name in self._made:
            return self._made[name]
        if not isinstance(name, str) or name not in self._tensors:
            raise self._bad(f"tensor {name!r} is not in the file")
        location = node.get("device", "cpu")
        if not isinstance(location, str):
            raise self._bad("a tensor's device is not a string")
        t = self._place(self._tensors[name], location)
        if node.get("parameter"):
            from .nn.parameter import Parameter

            t = Parameter(t, requires_grad=bool(node.get("requires_grad")))
        elif node.get("requires_grad"):
            t.requires_grad_(True)
        self._made[name] = t
        return t

