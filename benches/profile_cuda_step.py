"""Kernel-level profile of one ferrotorch workload on the GPU, read through torch's profiler
(CUPTI traces every kernel of the process, whichever library launched it). Needs torch.

    python benches/profile_cuda_step.py [--workload gpt2_step] [--steps 3] [--top 30]
"""

import argparse
import os
import sys

import torch
from torch.profiler import ProfilerActivity, profile

import ferrotorch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", default="gpt2_step")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    step = getattr(suite, args.workload)(ferrotorch, "cuda")
    for _ in range(2):
        step()
    ferrotorch.cuda.synchronize()
    torch.cuda.init()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(args.steps):
            step()
        ferrotorch.cuda.synchronize()
    table = prof.key_averages().table(sort_by="cuda_time_total", row_limit=args.top, max_name_column_width=70)
    print(f"{args.steps} steps of {args.workload}")
    print(table)


if __name__ == "__main__":
    main()
