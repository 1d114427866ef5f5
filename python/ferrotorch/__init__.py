"""ferrotorch: the PyTorch API on a Rust core.

Use it as ``import ferrotorch as torch``.
"""

from . import _C  # noqa: F401
from ._C import (  # noqa: F401
    Tensor,
    as_tensor,
    bfloat16,
    device,
    dtype,
    empty,
    empty_like,
    from_numpy,
    full,
    full_like,
    get_num_threads,
    ones,
    ones_like,
    set_num_threads,
    tensor,
    zeros,
    zeros_like,
)
from ._C import bool, float16, float32, float64, int8, int16, int32, int64, uint8  # noqa: A004,F401
from ._dtype import finfo, get_default_dtype, iinfo, is_floating_point, promote_types, result_type, set_default_dtype  # noqa: F401
from ._size import Size  # noqa: F401
from . import _tensor  # noqa: F401  (attaches the Python-side Tensor methods)
from . import _tensor_str  # noqa: F401
from ._ops_binary import *  # noqa: F401,F403
from ._ops_unary import *  # noqa: F401,F403
from ._ops_reduce import *  # noqa: F401,F403
from ._ops_shape import *  # noqa: F401,F403
from ._ops_index import *  # noqa: F401,F403
from ._ops_matmul import *  # noqa: F401,F403
from ._ops_factory import *  # noqa: F401,F403
from ._ops_misc import *  # noqa: F401,F403
from ._ops_nn import *  # noqa: F401,F403
from ._random import *  # noqa: F401,F403
from . import autograd, backends, cuda, linalg, testing  # noqa: F401
from .serialization import load, save  # noqa: F401
from .autograd.grad_mode import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

OutOfMemoryError = _C.OutOfMemoryError

# torch's aliases of dtype names.
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
cfloat = None

__version__ = "0.1.0"

# Last: nn, optim and amp use the names above (no_grad, dtype aliases) at import time.
from . import amp, nn, optim, utils  # noqa: E402,F401
from .amp import (  # noqa: E402,F401
    autocast,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from .cuda import amp as _cuda_amp  # noqa: E402,F401  (torch.cuda.amp without an import)
