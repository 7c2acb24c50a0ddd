"""PyTorch's side of `tessel-bench --train`: the median time of one training
step (zero_grad, forward, cross-entropy, backward, SGD with momentum 0.9) of
a torchvision model in eager mode, and the process's peak resident memory.

usage: train_step.py MODEL BATCH SIZE THREADS RUNS
prints: <median ms> <peak MiB>
"""

import resource
import statistics
import sys
import time

import torch
import torchvision

name, batch, size, threads, runs = sys.argv[1], *map(int, sys.argv[2:6])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = getattr(torchvision.models, name)()
model.train()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
loss_fn = torch.nn.CrossEntropyLoss()
x = torch.randn(batch, 3, size, size)
y = torch.randint(0, 1000, (batch,))


def step():
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()


for _ in range(2):
    step()
times = []
for _ in range(runs):
    start = time.perf_counter()
    step()
    times.append((time.perf_counter() - start) * 1e3)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{statistics.median(times):.2f} {peak:.0f}")
