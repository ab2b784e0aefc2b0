"""The course notebook's workload written as the course notebook writes it: the reference for speed and accuracy.

torchvision datasets with per-sample transforms (ToTensor + Normalize), a DataLoader, the task's pixel
permutation applied to every batch, evaluation of the tasks seen so far after each epoch through test
DataLoaders, a fresh Adam per task, the Fisher by one backward per sample, and LoRA written by hand.
Everything cl_helpers does differently for speed (tensors on the device, permutations applied once, the
closed-form Fisher) is deliberately absent here. Only the permutations are taken from the caller, so that
both sides train on exactly the same tasks.

EWC penalty convention: (lambda / 2) * sum_k sum_i F_k,i (theta_i - theta*_k,i)^2 with F the mean over
samples of squared per-sample gradients of log p(argmax | x), as cl_helpers' EWC with fisher_kind="argmax".
A notebook that writes lambda * sum F (theta - theta*)^2 (no 1/2) at lambda L matches lambda 2L here.
"""
from __future__ import annotations

import copy
import math
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

MEAN, STD = 0.1307, 0.3081


def load_mnist(root: str, train_size: int, test_size: int):
    """The first `train_size` training and `test_size` test images, transformed per sample when read."""
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    train = datasets.MNIST(root, train=True, download=False, transform=transform)
    test = datasets.MNIST(root, train=False, download=False, transform=transform)
    return Subset(train, range(train_size)), Subset(test, range(test_size))


class MLP(nn.Module):
    """784-256-256-10 with ReLU, as in the course notebook."""

    def __init__(self, hidden: int = 256):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def permute(x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Flatten a batch of images and shuffle its pixels with the task's permutation."""
    return x.view(x.size(0), -1)[:, perm]


def evaluate(model, loader, perm, device) -> float:
    """Accuracy on one task's test loader."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            pred = model(permute(x, perm)).argmax(dim=1)
            correct += (pred == y).sum().item()
            total += y.size(0)
    model.train()
    return correct / total


def compute_fisher(model, dataset, perm, n_samples, device) -> dict:
    """Diagonal Fisher from n_samples single-sample backward passes, label = the model's prediction."""
    model.eval()
    fisher = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    loader = DataLoader(dataset, batch_size=1, shuffle=True)
    for i, (x, _) in enumerate(loader):
        if i >= n_samples:
            break
        x = x.to(device)
        model.zero_grad()
        output = model(permute(x, perm))
        label = output.argmax(dim=1)
        loss = F.nll_loss(F.log_softmax(output, dim=1), label)
        loss.backward()
        for n, p in model.named_parameters():
            fisher[n] += p.grad.detach() ** 2
    model.train()
    return {n: f / n_samples for n, f in fisher.items()}


def ewc_penalty(model, fishers, anchors, lam) -> torch.Tensor:
    """(lam / 2) * sum over past tasks of sum F (theta - theta*)^2."""
    loss = 0.0
    for fisher, anchor in zip(fishers, anchors):
        for n, p in model.named_parameters():
            loss = loss + (fisher[n] * (p - anchor[n]) ** 2).sum()
    return lam / 2 * loss


def train_sequence(method, train_set, test_set, perms, epochs, lam, fisher_samples, device,
                   batch_size=128, lr=1e-3, seed=0) -> dict:
    """Naive or EWC over the permuted tasks; R[i][j] = accuracy on task j <= i after task i (None above)."""
    torch.manual_seed(seed)
    model = MLP().to(device)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000, shuffle=False)
    T = len(perms)
    R = [[None] * T for _ in range(T)]
    history = []
    fishers, anchors = [], []
    for t in range(T):
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        for epoch in range(epochs):
            for x, y in train_loader:
                x, y = x.to(device), y.to(device)
                optimizer.zero_grad()
                loss = F.cross_entropy(model(permute(x, perms[t])), y)
                if method == "ewc" and fishers:
                    loss = loss + ewc_penalty(model, fishers, anchors, lam)
                loss.backward()
                optimizer.step()
            history.append([evaluate(model, test_loader, perms[j], device) for j in range(t + 1)])
        R[t][:t + 1] = history[-1]
        if method == "ewc":
            fishers.append(compute_fisher(model, train_set, perms[t], fisher_samples, device))
            anchors.append({n: p.detach().clone() for n, p in model.named_parameters()})
    return {"R": R, "history": history}


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus (alpha / r) * B A x, A random and B zero at the start."""

    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__()
        self.base = base
        for p in self.base.parameters():
            p.requires_grad = False
        self.A = nn.Parameter(torch.empty(r, base.in_features, device=base.weight.device))
        self.B = nn.Parameter(torch.zeros(base.out_features, r, device=base.weight.device))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.A.T @ self.B.T) * self.scaling


def train_task(model, train_set, perm, epochs, device, batch_size=128, lr=1e-3):
    """Train the parameters that require grad on one task with a fresh Adam."""
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    for epoch in range(epochs):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            F.cross_entropy(model(permute(x, perm)), y).backward()
            optimizer.step()


def lora_vs_full(train_set, test_set, perms, epochs, rank, device, seed=0) -> dict:
    """Pretrain on task 0, then fine-tune a copy on task 1 fully and another with LoRA on every layer."""
    torch.manual_seed(seed)
    test_loader = DataLoader(test_set, batch_size=1000, shuffle=False)
    old, new = perms[0], perms[1]
    pretrained = MLP().to(device)
    train_task(pretrained, train_set, old, epochs, device)
    out = {"old_before": evaluate(pretrained, test_loader, old, device),
           "new_before": evaluate(pretrained, test_loader, new, device)}
    full = copy.deepcopy(pretrained)
    train_task(full, train_set, new, epochs, device)
    lora = copy.deepcopy(pretrained)
    for name in ("fc1", "fc2", "fc3"):
        setattr(lora, name, LoRALinear(getattr(lora, name), rank, alpha=rank))
    train_task(lora, train_set, new, epochs, device)
    for label, model in (("full", full), ("lora", lora)):
        out[label] = {"old_after": evaluate(model, test_loader, old, device),
                      "new_after": evaluate(model, test_loader, new, device),
                      "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad)}
    return out


def run_workload(root: str, perms: list[torch.Tensor], train_size: int, test_size: int, epochs: int,
                 ft_epochs: int, lam: float, fisher_samples: int, rank: int, device, seed: int = 0) -> dict:
    """The whole course workload; seconds per phase (data, naive, ewc, lora) and every accuracy."""
    perms = [p.to(device) for p in perms]
    seconds = {}
    start = time.perf_counter()
    train_set, test_set = load_mnist(root, train_size, test_size)
    seconds["data"] = time.perf_counter() - start
    out = {}
    for method in ("naive", "ewc"):
        start = time.perf_counter()
        out[method] = train_sequence(method, train_set, test_set, perms, epochs, lam, fisher_samples, device,
                                     seed=seed)
        seconds[method] = time.perf_counter() - start
    start = time.perf_counter()
    out["lora"] = lora_vs_full(train_set, test_set, perms, ft_epochs, rank, device, seed=seed)
    seconds["lora"] = time.perf_counter() - start
    out["seconds"] = seconds
    return out
