"""``ferrotorch.nn.functional`` (minimal: ``one_hot``)."""

from .. import _C


def one_hot(tensor, num_classes=-1):
    """one_hot(tensor, num_classes=-1) -> LongTensor

    Takes a LongTensor of class indices of shape ``(*)`` and returns a tensor of shape
    ``(*, num_classes)`` that is 1 at each index's class and 0 elsewhere. With
    ``num_classes=-1`` the number of classes is one more than the largest value.
    """
    return _C._one_hot(tensor, num_classes)


__all__ = ["one_hot"]
