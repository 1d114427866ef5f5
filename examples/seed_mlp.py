"""PyTorch's beginner example, unchanged except for the import: a 2-4-1 MLP fitted with Adam."""

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.optim as optim


class SimpleNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 4)
        self.fc2 = nn.Linear(4, 1)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        return self.fc2(x)


def train(epochs=100, seed=0):
    torch.manual_seed(seed)
    model = SimpleNN()
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    inputs = torch.tensor([[2.0, 3.0], [1.0, 4.0]])
    targets = torch.tensor([[1.0], [0.0]])
    for epoch in range(epochs):
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
    return loss.item()


if __name__ == "__main__":
    print(f"final loss: {train():.6f}")
