"""``torch.backends.cuda``: cuBLAS settings."""

from ... import _C


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: ``allow_tf32`` lets float32 products round their inputs
    to TF32 on tensor cores (faster, about 10 bits of mantissa). Off by default, as in torch."""

    @property
    def allow_tf32(self):
        return _C._cuda_matmul_allow_tf32()

    @allow_tf32.setter
    def allow_tf32(self, value):
        _C._cuda_set_matmul_allow_tf32(bool(value))

    def __setattr__(self, name, value):
        if name != "allow_tf32":
            raise AttributeError(f"Unknown attribute {name}")
        super().__setattr__(name, value)


matmul = _MatmulFlags()
