"""Printing of tensors as torch prints them."""
