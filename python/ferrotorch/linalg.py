"""``torch.linalg``."""
