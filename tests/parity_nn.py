"""Parity of every nn module with torch (run where torch is installed, e.g. the GPU machine):
the same weights (copied from torch's module through its state_dict), the same inputs; outputs,
input gradients and parameter gradients compared, on CPU and, when present, CUDA.

    python tests/parity_nn.py [--device cpu|cuda|all]

Each case is written once against the torch API; `nn` is torch.nn or ferrotorch.nn.
"""

import argparse
import sys

import numpy as np
import torch

import ferrotorch as ft

RTOL, ATOL = 2e-4, 2e-5


class Const:
    """A float input that takes no gradient (a loss's target)."""

    def __init__(self, array):
        self.array = np.asarray(array)


def seq_input(shape):
    return lambda rng: [rng.standard_normal(shape).astype(np.float32)]


def ints(high, shape):
    return lambda rng: [rng.integers(0, high, shape)]


CASES = [
    ("Linear", lambda nn: nn.Linear(8, 5), seq_input((3, 8))),
    ("Bilinear", lambda nn: nn.Bilinear(4, 3, 2), lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 3))]),
    ("Conv1d", lambda nn: nn.Conv1d(3, 4, 3, stride=2, padding=1), seq_input((2, 3, 11))),
    ("Conv2d", lambda nn: nn.Conv2d(3, 6, 3, padding=1, groups=3), seq_input((2, 3, 8, 8))),
    ("Conv2d_same_dil", lambda nn: nn.Conv2d(2, 4, 3, padding="same", dilation=2), seq_input((1, 2, 9, 7))),
    ("Conv2d_reflect", lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), seq_input((1, 2, 6, 6))),
    ("Conv3d", lambda nn: nn.Conv3d(2, 3, 2), seq_input((1, 2, 4, 4, 4))),
    ("ConvTranspose1d", lambda nn: nn.ConvTranspose1d(3, 2, 3, stride=2, output_padding=1), seq_input((2, 3, 5))),
    ("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, groups=2), seq_input((1, 4, 5, 5))),
    ("MaxPool2d", lambda nn: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), seq_input((2, 3, 9, 9))),
    ("AvgPool2d", lambda nn: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), seq_input((2, 3, 8, 8))),
    ("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d((3, 5)), seq_input((2, 3, 7, 9))),
    ("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d(3), seq_input((2, 3, 7, 8))),
    ("MaxPool1d", lambda nn: nn.MaxPool1d(2), seq_input((2, 3, 9))),
    ("AvgPool1d", lambda nn: nn.AvgPool1d(3, 2), seq_input((2, 3, 9))),
    ("BatchNorm1d", lambda nn: nn.BatchNorm1d(4), seq_input((6, 4))),
    ("BatchNorm2d", lambda nn: nn.BatchNorm2d(3), seq_input((4, 3, 5, 5))),
    ("LayerNorm", lambda nn: nn.LayerNorm((4, 6)), seq_input((3, 4, 6))),
    ("GroupNorm", lambda nn: nn.GroupNorm(2, 6), seq_input((3, 6, 4))),
    ("InstanceNorm2d", lambda nn: nn.InstanceNorm2d(3, affine=True), seq_input((2, 3, 5, 5))),
    ("RMSNorm", lambda nn: nn.RMSNorm(6), seq_input((3, 6))),
    ("LocalResponseNorm", lambda nn: nn.LocalResponseNorm(3), seq_input((2, 5, 4, 4))),
    ("Embedding", lambda nn: nn.Embedding(10, 4, padding_idx=0), ints(10, (3, 5))),
    ("EmbeddingBag", lambda nn: nn.EmbeddingBag(10, 4, mode="max"), ints(10, (3, 5))),
    ("RNN", lambda nn: nn.RNN(4, 5, num_layers=2, bidirectional=True), seq_input((6, 2, 4))),
    ("LSTM", lambda nn: nn.LSTM(4, 5, batch_first=True, proj_size=3), seq_input((2, 6, 4))),
    ("GRU", lambda nn: nn.GRU(4, 5, num_layers=2), seq_input((6, 2, 4))),
    ("LSTMCell", lambda nn: nn.LSTMCell(4, 5), seq_input((3, 4))),
    ("GRUCell", lambda nn: nn.GRUCell(4, 5), seq_input((3, 4))),
    ("MultiheadAttention", lambda nn: nn.MultiheadAttention(8, 2, batch_first=True),
     lambda r: [r.standard_normal((2, 5, 8))] * 3),
    ("TransformerEncoderLayer", lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
     seq_input((2, 5, 8))),
    ("TransformerDecoderLayer", lambda nn: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True),
     lambda r: [r.standard_normal((5, 2, 8)), r.standard_normal((4, 2, 8))]),
    ("PReLU", lambda nn: nn.PReLU(3), seq_input((2, 3, 4))),
    ("GELU_tanh", lambda nn: nn.GELU("tanh"), seq_input((3, 7))),
    ("Mish", lambda nn: nn.Mish(), seq_input((3, 7))),
    ("Softplus", lambda nn: nn.Softplus(2.0, 1.0), seq_input((3, 7))),
    ("LogSoftmax", lambda nn: nn.LogSoftmax(1), seq_input((3, 7))),
    # The fused row kernels' paths: a middle dim (a thread per column on a GPU), rows of more than
    # 1024 and 4096 elements (a block per row), long layer-norm rows.
    ("Softmax_middle_dim", lambda nn: nn.Softmax(1), seq_input((2, 9, 5))),
    ("Softmax_long_rows", lambda nn: nn.Softmax(-1), seq_input((3, 2500))),
    ("LogSoftmax_long_rows", lambda nn: nn.LogSoftmax(-1), seq_input((2, 6000))),
    ("LayerNorm_long_rows", lambda nn: nn.LayerNorm(3000), seq_input((4, 3000))),
    ("RMSNorm_2d", lambda nn: nn.RMSNorm((3, 700)), seq_input((2, 3, 700))),
    ("Upsample_bilinear", lambda nn: nn.Upsample(scale_factor=1.5, mode="bilinear"), seq_input((1, 2, 4, 5))),
    ("Upsample_bicubic_ac", lambda nn: nn.Upsample(size=(7, 3), mode="bicubic", align_corners=True),
     seq_input((1, 2, 4, 5))),
    ("PixelShuffle", lambda nn: nn.PixelShuffle(2), seq_input((1, 8, 3, 3))),
    ("ReflectionPad2d", lambda nn: nn.ReflectionPad2d((1, 2, 2, 0)), seq_input((1, 2, 4, 4))),
    ("Flatten", lambda nn: nn.Flatten(), seq_input((2, 3, 4))),
    ("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=2),
     lambda r: [r.standard_normal((6, 5)), r.integers(0, 5, 6)]),
    ("NLLLoss_2d", lambda nn: nn.NLLLoss(), lambda r: [r.standard_normal((2, 4, 3, 3)), r.integers(0, 4, (2, 3, 3))]),
    ("NLLLoss_sum_ignore", lambda nn: nn.NLLLoss(reduction="sum", ignore_index=1),
     lambda r: [r.standard_normal((7, 4)), r.integers(0, 4, 7)]),
    ("CrossEntropyLoss_vocab", lambda nn: nn.CrossEntropyLoss(), lambda r: [r.standard_normal((5, 3000)), r.integers(0, 3000, 5)]),
    ("BCEWithLogitsLoss", lambda nn: nn.BCEWithLogitsLoss(), lambda r: [r.standard_normal((4, 3)), r.random((4, 3))]),
    ("MSELoss", lambda nn: nn.MSELoss(reduction="sum"), lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))]),
    ("SmoothL1Loss", lambda nn: nn.SmoothL1Loss(beta=0.5),
     lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))]),
    ("KLDivLoss", lambda nn: nn.KLDivLoss(reduction="batchmean"),
     lambda r: [np.log(r.random((4, 3)) + 0.1), r.random((4, 3))]),
    # Every other module of the nn issue (LazyLinear is left out: torch's state_dict holds
    # uninitialised parameters until the first call). Dropouts run with p=0: their masks come
    # from each library's own generator.
    ("Identity", lambda nn: nn.Identity(), seq_input((3, 4))),
    ("Unflatten", lambda nn: nn.Unflatten(1, (2, 3)), seq_input((4, 6))),
    ("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(4), seq_input((2, 3, 9))),
    ("Dropout", lambda nn: nn.Dropout(0.0), seq_input((3, 4))),
    ("Dropout1d", lambda nn: nn.Dropout1d(0.0), seq_input((2, 3, 4))),
    ("Dropout2d", lambda nn: nn.Dropout2d(0.0), seq_input((2, 3, 4, 4))),
    ("AlphaDropout", lambda nn: nn.AlphaDropout(0.0), seq_input((3, 4))),
    ("RNNCell", lambda nn: nn.RNNCell(4, 5, nonlinearity="relu"), seq_input((3, 4))),
    ("TransformerEncoder", lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2, enable_nested_tensor=False), seq_input((5, 2, 8))),
    ("TransformerDecoder", lambda nn: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2),
     lambda r: [r.standard_normal((4, 2, 8)), r.standard_normal((5, 2, 8))]),
    ("Transformer", lambda nn: nn.Transformer(8, 2, 1, 1, 16, dropout=0.0),
     lambda r: [r.standard_normal((5, 2, 8)), r.standard_normal((4, 2, 8))]),
    ("ReLU", lambda nn: nn.ReLU(), seq_input((3, 7))),
    ("ReLU6", lambda nn: nn.ReLU6(), lambda r: [r.standard_normal((3, 7)) * 5]),
    ("LeakyReLU", lambda nn: nn.LeakyReLU(0.2), seq_input((3, 7))),
    ("ELU", lambda nn: nn.ELU(0.7), seq_input((3, 7))),
    ("SELU", lambda nn: nn.SELU(), seq_input((3, 7))),
    ("CELU", lambda nn: nn.CELU(1.3), seq_input((3, 7))),
    ("SiLU", lambda nn: nn.SiLU(), seq_input((3, 7))),
    ("Sigmoid", lambda nn: nn.Sigmoid(), seq_input((3, 7))),
    ("Tanh", lambda nn: nn.Tanh(), seq_input((3, 7))),
    ("Hardtanh", lambda nn: nn.Hardtanh(-0.5, 0.8), seq_input((3, 7))),
    ("Hardsigmoid", lambda nn: nn.Hardsigmoid(), lambda r: [r.standard_normal((3, 7)) * 4]),
    ("Hardswish", lambda nn: nn.Hardswish(), lambda r: [r.standard_normal((3, 7)) * 4]),
    ("Softsign", lambda nn: nn.Softsign(), seq_input((3, 7))),
    ("Tanhshrink", lambda nn: nn.Tanhshrink(), seq_input((3, 7))),
    ("Threshold", lambda nn: nn.Threshold(0.1, -2.0), seq_input((3, 7))),
    ("GLU", lambda nn: nn.GLU(1), seq_input((3, 8))),
    ("Softmin", lambda nn: nn.Softmin(1), seq_input((3, 7))),
    ("ZeroPad2d", lambda nn: nn.ZeroPad2d((1, 0, 2, 1)), seq_input((1, 2, 3, 3))),
    ("ConstantPad2d", lambda nn: nn.ConstantPad2d((2, -1, 0, 1), 0.5), seq_input((1, 2, 3, 4))),
    ("ReplicationPad2d", lambda nn: nn.ReplicationPad2d((1, 2, 0, 3)), seq_input((1, 2, 3, 3))),
    ("CosineSimilarity", lambda nn: nn.CosineSimilarity(1), lambda r: [r.standard_normal((4, 5))] * 2),
    ("PairwiseDistance", lambda nn: nn.PairwiseDistance(3.0), lambda r: [r.standard_normal((4, 5)), r.standard_normal((4, 5))]),
    ("ChannelShuffle", lambda nn: nn.ChannelShuffle(2), seq_input((1, 4, 2, 2))),
    ("L1Loss", lambda nn: nn.L1Loss(), lambda r: [r.standard_normal((4, 3)), Const(r.standard_normal((4, 3)))]),
    ("HuberLoss", lambda nn: nn.HuberLoss(delta=0.7), lambda r: [r.standard_normal((4, 3)), Const(r.standard_normal((4, 3)))]),
    ("BCELoss", lambda nn: nn.BCELoss(), lambda r: [r.random((4, 3)) * 0.9 + 0.05, Const(r.random((4, 3)))]),
    ("PoissonNLLLoss", lambda nn: nn.PoissonNLLLoss(full=True), lambda r: [r.standard_normal((4, 3)), Const(r.random((4, 3)) * 3)]),
    ("GaussianNLLLoss", lambda nn: nn.GaussianNLLLoss(), lambda r: [r.standard_normal((4, 3)), Const(r.standard_normal((4, 3))),
                                                                     r.random((4, 3)) + 0.5]),
    ("CosineEmbeddingLoss", lambda nn: nn.CosineEmbeddingLoss(margin=0.2),
     lambda r: [r.standard_normal((4, 5)), r.standard_normal((4, 5)), np.array([1, -1, 1, -1])]),
    ("MarginRankingLoss", lambda nn: nn.MarginRankingLoss(0.3),
     lambda r: [r.standard_normal(6), r.standard_normal(6), np.array([1, -1, 1, 1, -1, -1])]),
    ("HingeEmbeddingLoss", lambda nn: nn.HingeEmbeddingLoss(1.5), lambda r: [r.standard_normal((4, 3)), np.array([[1, -1, 1]] * 4)]),
    ("MultiMarginLoss", lambda nn: nn.MultiMarginLoss(p=2, margin=0.8), lambda r: [r.standard_normal((4, 5)), r.integers(0, 5, 4)]),
    ("MultiLabelMarginLoss", lambda nn: nn.MultiLabelMarginLoss(),
     lambda r: [r.standard_normal((2, 4)), np.array([[3, 0, -1, 1], [1, 2, 3, -1]])]),
    ("MultiLabelSoftMarginLoss", lambda nn: nn.MultiLabelSoftMarginLoss(),
     lambda r: [r.standard_normal((3, 4)), Const(r.integers(0, 2, (3, 4)).astype(np.float64))]),
    ("SoftMarginLoss", lambda nn: nn.SoftMarginLoss(), lambda r: [r.standard_normal((3, 4)), Const(np.sign(r.standard_normal((3, 4))))]),
    ("TripletMarginLoss", lambda nn: nn.TripletMarginLoss(margin=0.5, p=1.5),
     lambda r: [r.standard_normal((4, 5)), r.standard_normal((4, 5)), r.standard_normal((4, 5))]),
    ("CTCLoss", lambda nn: nn.CTCLoss(), None),
]


def ctc_inputs(lib, rng, device):
    # torch's CTC backward returns the gradient for log_probs that come out of a log_softmax
    # (it folds in that Jacobian), so gradients are compared at the logits.
    logits = lib.tensor(rng.standard_normal((8, 2, 5)), dtype=lib.float32, device=device, requires_grad=True)
    inputs = [lib.nn.functional.log_softmax(logits, 2), lib.tensor(rng.integers(1, 5, (2, 3)), device=device),
              lib.tensor([8, 7], device=device), lib.tensor([3, 2], device=device)]
    return inputs, [logits]


def make_inputs(lib, arrays, device):
    out = []
    for a in arrays:
        if isinstance(a, Const):
            out.append(lib.tensor(a.array.astype(np.float32), device=device))
            continue
        a = np.asarray(a)
        if a.dtype.kind in "iu":
            out.append(lib.tensor(a, dtype=lib.int64, device=device))
        else:
            out.append(lib.tensor(a.astype(np.float32), device=device, requires_grad=True))
    return out


def first_tensor(out):
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


def host(t):
    return t.detach().cpu().float().numpy() if t is not None else None


def run(lib, build, arrays, device, state, seed_rng, is_ctc):
    module = build(lib.nn)
    if state is not None:
        module.load_state_dict({k: ft.tensor(v) for k, v in state.items()})
    module = module.to(device)
    if is_ctc:
        inputs, leaves = ctc_inputs(lib, np.random.default_rng(seed_rng), device)
    else:
        inputs = leaves = make_inputs(lib, arrays, device)
    out = first_tensor(module(*inputs))
    weights = lib.tensor(np.random.default_rng(7).standard_normal(tuple(out.shape)).astype(np.float32), device=device)
    (out * weights).sum().backward()
    grads = {n: host(p.grad) for n, p in module.named_parameters()}
    input_grads = [host(x.grad) for x in leaves if x.requires_grad]
    return module, host(out), input_grads, grads


def check(name, device):
    case = next(c for c in CASES if c[0] == name)
    _, build, make = case
    is_ctc = make is None
    arrays = None if is_ctc else [a if isinstance(a, Const) else np.asarray(a) for a in make(np.random.default_rng(0))]
    torch.manual_seed(0)
    tm, t_out, t_in, t_par = run(torch, build, arrays, device, None, 1, is_ctc)
    state = {k: v.detach().cpu().numpy() for k, v in tm.state_dict().items()}
    if "BatchNorm" in name:  # compare the training step from the same starting statistics
        state = {k: v.detach().cpu().numpy() for k, v in build(torch.nn).state_dict().items()}
    fm, f_out, f_in, f_par = run(ft, build, arrays, device, state, 1, is_ctc)
    problems = []
    if sorted(tm.state_dict()) != sorted(fm.state_dict()):
        problems.append(f"state_dict keys differ: {sorted(tm.state_dict())} vs {sorted(fm.state_dict())}")

    def compare(what, a, b):
        if a is None or b is None:
            if (a is None) != (b is None):
                problems.append(f"{what}: one side has no gradient")
            return
        if a.shape != b.shape:
            problems.append(f"{what}: shape {a.shape} vs {b.shape}")
        elif not np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True):
            problems.append(f"{what}: max |diff| {np.nanmax(np.abs(a - b)):.3g}")

    compare("output", t_out, f_out)
    for i, (a, b) in enumerate(zip(t_in, f_in)):
        compare(f"input {i} grad", a, b)
    for k in t_par:
        compare(f"{k} grad", t_par[k], f_par.get(k))
    if "BatchNorm" in name:
        for k in ("running_mean", "running_var"):
            compare(k, host(tm.state_dict()[k]), host(fm.state_dict()[k]))
    return problems


def main():
    # torch lets cuDNN convolutions and RNNs round through TF32 by default; compare full float32.
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="all")
    args = parser.parse_args()
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    if "cuda" in devices and not (torch.cuda.is_available() and ft.cuda.is_available()):
        devices.remove("cuda")
    failed = 0
    for device in devices:
        for name, _, _ in CASES:
            try:
                problems = check(name, device)
            except Exception as e:  # a crash is a failure of the case, reported with the others
                problems = [f"raised {type(e).__name__}: {e}"]
            failed += bool(problems)
            print(f"{'ok  ' if not problems else 'FAIL'}  {device:4}  {name}" + ("" if not problems else "  " + "; ".join(problems)))
    total = len(CASES) * len(devices)
    print(f"nn parity: {total - failed}/{total} module cases match torch")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
