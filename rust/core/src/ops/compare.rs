//! Comparisons of whole tensors (isclose, allclose, equal) (in progress)
