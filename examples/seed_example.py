"""PyTorch's beginner example, verbatim except for the imports and a --device flag.

Run: python examples/seed_example.py [--device cuda]
"""

import argparse

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.optim as optim

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cpu")
device = torch.device(parser.parse_args().device)


# Define a simple neural network
class SimpleNN(nn.Module):
    def __init__(self):
        super(SimpleNN, self).__init__()
        self.fc1 = nn.Linear(2, 4)
        self.fc2 = nn.Linear(4, 1)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.relu(self.fc1(x))
        x = self.fc2(x)
        return x


# Create the model, loss function and optimizer
model = SimpleNN().to(device)
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.01)

# Sample data
inputs = torch.tensor([[2.0, 3.0], [1.0, 4.0]]).to(device)
targets = torch.tensor([[1.0], [0.0]]).to(device)

# Training loop
for epoch in range(100):
    optimizer.zero_grad()
    outputs = model(inputs)
    loss = criterion(outputs, targets)
    loss.backward()
    optimizer.step()

print(f"Final loss: {loss.item()}")
