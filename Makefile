# Developer entry points. `make test` is what CI runs.
PYTHON ?= python3

.PHONY: dev test test-rust test-python docs demo bench wheel

# Debug-profile extension copied next to the Python sources: the fast edit-test loop.
dev:
	cargo build -p ferrotorch-python
	cp target/debug/libferrotorch_python.so python/ferrotorch/_C.abi3.so

test-rust:
	cargo test -p ferrotorch-core

test-python:
	$(PYTHON) -m pytest tests

# Installs the package (release build) with its test extras, then runs both test suites.
test:
	$(PYTHON) -m pip install -q ".[test]"
	cargo test -p ferrotorch-core
	cd tests && $(PYTHON) -m pytest -p no:cacheprovider .

# The documentation site (mkdocs.yml, docs/), API reference from the docstrings and _C.pyi read
# statically: no build needed. --strict: any warning (broken link, bad docstring) fails.
DOCS_SITE ?= site
docs:
	$(PYTHON) -m pip install -q -r docs/requirements.txt
	NO_MKDOCS_2_WARNING=1 $(PYTHON) -m mkdocs build --strict --site-dir $(DOCS_SITE)

demo:
	$(PYTHON) examples/seed_mlp.py

bench:
	$(PYTHON) benches/bench_ops.py

wheel:
	maturin build --release
