"""Kernel-level profile of one ferrotorch workload on the GPU, read through torch's profiler
(CUPTI traces every kernel of the process, whichever library launched it). Needs torch.

    python benches/profile_cuda_step.py [--workload gpt2_step] [--steps 3] [--top 30] [--gaps]

With ``--gaps`` it also lists where the GPU sat idle between kernels (a host that cannot queue
work as fast as the GPU runs it): the idle time summed by the pair of kernels around each gap.
"""

import argparse
import collections
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
    ap.add_argument("--gaps", action="store_true")
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
    if args.gaps:
        print_gaps(prof, args.steps, args.top)


def print_gaps(prof, steps, top):
    """Idle time between consecutive kernels, summed per (kernel before, kernel after)."""
    kernels = sorted(
        (e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA),
        key=lambda e: e.time_range.start,
    )
    idle, count, busy = collections.Counter(), collections.Counter(), 0.0
    for before, after in zip(kernels, kernels[1:]):
        busy += before.time_range.end - before.time_range.start
        gap = after.time_range.start - before.time_range.end
        if gap > 2.0:  # microseconds; below this a launch is simply back to back
            idle[(before.name[:40], after.name[:40])] += gap
            count[(before.name[:40], after.name[:40])] += 1
    span = kernels[-1].time_range.end - kernels[0].time_range.start
    print(f"GPU span {span / steps / 1e3:.2f} ms a step, kernels {busy / steps / 1e3:.2f} ms, "
          f"idle gaps over 2 us {sum(idle.values()) / steps / 1e3:.2f} ms")
    for (b, a), us in idle.most_common(top):
        print(f"{us / steps:9.1f} us/step {count[(b, a)] / steps:6.1f}x  {b:40s} -> {a}")


if __name__ == "__main__":
    main()
