"""``torch.backends``: process-wide switches of the compute backends."""

from . import cuda, cudnn  # noqa: F401
