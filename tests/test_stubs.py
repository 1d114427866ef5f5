"""The checked-in type stub of the extension (python/ferrotorch/_C.pyi) matches the extension.

A failure here after adding an op or a method means: run ``python scripts/gen_stubs.py`` (with the
new extension built) and commit the regenerated ``_C.pyi``.
"""

import ast
import importlib.util
from pathlib import Path

import ferrotorch._C as C

ROOT = Path(__file__).resolve().parent.parent
STUB = ROOT / "python" / "ferrotorch" / "_C.pyi"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_stubs", ROOT / "scripts" / "gen_stubs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stub_is_valid_python():
    ast.parse(STUB.read_text(), filename=str(STUB))


def test_stub_is_up_to_date():
    assert _generator().generate() == STUB.read_text(), (
        "python/ferrotorch/_C.pyi is stale: run `python scripts/gen_stubs.py` and commit it"
    )


def test_every_public_name_is_in_the_stub():
    tree = ast.parse(STUB.read_text())
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
    public = {n for n in dir(C) if not n.startswith("_")}
    assert public <= defined, sorted(public - defined)


def test_tensor_methods_are_in_the_stub():
    tree = ast.parse(STUB.read_text())
    (tensor,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor"]
    methods = {n.name for n in tensor.body if isinstance(n, ast.FunctionDef)}
    public = {n for n in vars(C.Tensor) if not n.startswith("_")}
    assert public <= methods, sorted(public - methods)
    assert {"add", "backward", "shape", "grad", "requires_grad"} <= methods


def test_py_typed_marker_ships():
    assert (ROOT / "python" / "ferrotorch" / "py.typed").is_file()
