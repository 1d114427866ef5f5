"""``torch.testing``: comparing tensors in tests."""
