"""Polynomial regression two ways, as in PyTorch's tutorials: fit y = sin(x) on [-pi, pi] with a
cubic, first with raw tensors and autograd (the update written by hand), then with nn + optim.

    python examples/regression.py [--device cuda] [--steps 2000]
"""

import argparse
import math

import ferrotorch as torch


def data(device):
    x = torch.linspace(-math.pi, math.pi, 2000, device=device)
    return x, torch.sin(x)


def fit_with_autograd(device, steps, lr=1e-6):
    """a + b x + c x^2 + d x^3 by gradient descent on the summed squared error."""
    x, y = data(device)
    torch.manual_seed(0)
    a, b, c, d = (torch.randn((), device=device, requires_grad=True) for _ in range(4))
    for _ in range(steps):
        pred = a + b * x + c * x**2 + d * x**3
        loss = (pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad = None
    return loss.item(), [p.item() for p in (a, b, c, d)]


def fit_with_nn(device, steps, lr=1e-3):
    """The same cubic as a Linear layer over the features (x, x^2, x^3), trained with RMSprop."""
    x, y = data(device)
    features = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3], device=device))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)).to(device)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.RMSprop(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = loss_fn(model(features), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    linear = model[0]
    return loss.item(), [linear.bias.item()] + linear.weight.flatten().tolist()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    for name, fit in (("autograd", fit_with_autograd), ("nn + optim", fit_with_nn)):
        loss, (a, b, c, d) = fit(args.device, args.steps)
        print(f"{name:10}: loss {loss:9.3f}   y = {a:+.4f} {b:+.4f} x {c:+.4f} x^2 {d:+.4f} x^3")


if __name__ == "__main__":
    main()
