"""A tour of the tensor core: creation, views, broadcasting math, NumPy interop.

Run: python examples/tensor_demo.py
"""

import numpy as np

import ferrotorch as torch

x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print("x =", x.tolist(), x.dtype, x.shape)
y = x + torch.tensor([10, 20, 30])
print("x + [10, 20, 30] =", y.tolist())
print("(x * 2) / 4 =", ((x * 2) / 4).tolist())

arr = np.arange(6, dtype=np.float32).reshape(2, 3)
t = torch.from_numpy(arr)
arr[0, 0] = 42.0
print("from_numpy shares memory:", t.tolist()[0][0] == 42.0)
