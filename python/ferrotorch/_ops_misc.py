"""Module-level functions of this op family (most are Tensor methods used as functions)."""

__all__ = []
