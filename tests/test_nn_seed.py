"""PyTorch's beginner example (examples/seed_mlp.py) runs unchanged and fits its two points."""

import os
import runpy

import pytest

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.optim as optim

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "seed_mlp.py")


def test_seed_example_loss_goes_below_one_hundredth():
    train = runpy.run_path(EXAMPLE)["train"]
    assert train() < 0.01


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_seed_example_on_each_device(seed, device):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)).to(device)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    inputs = torch.tensor([[2.0, 3.0], [1.0, 4.0]], device=device)
    targets = torch.tensor([[1.0], [0.0]], device=device)
    first = None
    for _ in range(300):
        optimizer.zero_grad()
        loss = nn.MSELoss()(model(inputs), targets)
        loss.backward()
        optimizer.step()
        first = first if first is not None else loss.item()
    assert model[0].weight.device.type == device
    assert loss.item() < min(0.01, first)
