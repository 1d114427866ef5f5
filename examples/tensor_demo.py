"""A tour of the tensor core: creation, views, broadcasting math, reductions, matmul, indexing,
random numbers and NumPy interop.

Run: python examples/tensor_demo.py
"""

import numpy as np

import ferrotorch as torch

x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print("x =\n", x)
print("x + [10, 20, 30] =\n", x + torch.tensor([10, 20, 30]))
print("x.T (a view) =\n", x.T, "shares memory:", x.T.data_ptr() == x.data_ptr())
print("sum over rows:", x.sum(dim=0), " max per row:", x.max(dim=1))
print("log-sum-exp per row:", x.logsumexp(dim=1))
print("x @ x.T =\n", x @ x.T)
print("x[:, 1:] =\n", x[:, 1:], "\nx[x > 2] =", x[x > 2])

torch.manual_seed(0)
w = torch.randn(3, 2)
print("randn(3, 2) with seed 0 =\n", w)

arr = np.arange(6, dtype=np.float32).reshape(2, 3)
t = torch.from_numpy(arr)
arr[0, 0] = 42.0
print("from_numpy shares memory:", t[0, 0].item() == 42.0)
