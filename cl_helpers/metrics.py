"""Continual-learning metrics, as pure functions of the accuracy matrix.

Notation: R[i, j] is the accuracy on task j after training task i (T x T, every task evaluated after every
stage, also tasks not trained yet); b[j] is the accuracy on task j of the model at its random initialisation.
"""
from __future__ import annotations

import numpy as np


def _matrix(R) -> np.ndarray:
    R = np.asarray(R, dtype=float)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] == 0:
        raise ValueError(f"an accuracy matrix must be square T x T with T >= 1, got shape {R.shape}")
    return R


def average_accuracy(R) -> float:
    """ACC = (1/T) * sum_j R[T-1, j]: mean accuracy over all tasks after the last one."""
    R = _matrix(R)
    return float(R[-1].mean())


def forgetting_per_task(R) -> np.ndarray:
    """f_j = max_{l < T-1} R[l, j] - R[T-1, j] for each j < T-1 (Chaudhry et al. 2018); length T-1.

    The max runs over the rows of the accuracy matrix (task ends), including rows before task j was
    trained: the course's extension, since Chaudhry et al. 2018 define a_{l,j} only for l >= j (the two agree
    unless a task scores best before it was trained, as a domain-incremental stream can).
    """
    R = _matrix(R)
    T = len(R)
    return np.array([R[:T - 1, j].max() - R[T - 1, j] for j in range(T - 1)])


def average_forgetting(R) -> float:
    """Mean of forgetting_per_task over the first T-1 tasks (0.0 for a single task)."""
    f = forgetting_per_task(R)
    return float(f.mean()) if len(f) else 0.0


def forgetting_since_learned(R) -> np.ndarray:
    """R[j, j] - R[T-1, j] for each j < T-1: accuracy right after learning j minus now (Avalanche's definition)."""
    R = _matrix(R)
    T = len(R)
    return np.array([R[j, j] - R[T - 1, j] for j in range(T - 1)])


def backward_transfer(R) -> float:
    """BWT = 1/(T-1) * sum_{j<T-1} (R[T-1, j] - R[j, j]) (Lopez-Paz & Ranzato 2017, the paper's T-1 denominator).

    Negative BWT is forgetting. Their released code divides by T instead; 0.0 for a single task.
    """
    R = _matrix(R)
    T = len(R)
    if T < 2:
        return 0.0
    return float(np.mean([R[T - 1, j] - R[j, j] for j in range(T - 1)]))


def forward_transfer(R, b) -> float:
    """FWT = 1/(T-1) * sum_{j>0} (R[j-1, j] - b[j]) (Lopez-Paz & Ranzato 2017, the paper's T-1 denominator).

    How much training on earlier tasks helps a task before it is trained; b is the accuracy at random
    initialisation. 0.0 for a single task.
    """
    R = _matrix(R)
    b = np.asarray(b, dtype=float)
    T = len(R)
    if b.shape != (T,):
        raise ValueError(f"b must hold one accuracy per task ({T}), got shape {b.shape}")
    if T < 2:
        return 0.0
    return float(np.mean([R[j - 1, j] - b[j] for j in range(1, T)]))


def history_forgetting(curve_acc, task_boundaries, steps) -> np.ndarray:
    """The course notebook's history-based forgetting: for each task j < T-1, the best accuracy in its whole
    evaluation history (every epoch) from the start of its training on, minus its final accuracy.

    `curve_acc[k, j]` is the accuracy on task j at evaluation k, taken after `steps[k]` optimizer steps;
    `task_boundaries[j]` is the step at which task j's training began.
    """
    A = np.asarray(curve_acc, dtype=float)
    steps = np.asarray(steps)
    T = A.shape[1]
    out = []
    for j in range(T - 1):
        seen = steps > task_boundaries[j]
        out.append(A[seen, j].max() - A[-1, j])
    return np.array(out)


def new_task_accuracy(R) -> float:
    """Mean of R[j, j] over j >= 1: accuracy on each later task right after learning it (R[0, 0] for one task)."""
    R = np.asarray(R, dtype=float)
    d = np.diag(R)
    return float(d[1:].mean()) if len(d) > 1 else float(d[0])


def intransigence_per_task(R, reference) -> np.ndarray:
    """I_j = a*_j - R[j, j] for each task j (Chaudhry et al. 2018): how far below a reference model the run is on
    task j right after learning it.

    `reference` holds a*_j, the accuracy on task j of a model trained on the data of tasks 0..j together (the
    paper trains it from scratch; the course's `joint` run warm-starts each stage, its diagonal serves here):
    one accuracy per task, or that model's T x T accuracy matrix (its diagonal is used). Positive I_j: the run
    could not learn task j as well as the reference did (too stable); near 0 or negative: no intransigence.
    """
    R = _matrix(R)
    ref = np.asarray(reference, dtype=float)
    if ref.shape == R.shape:
        ref = np.diag(ref)
    if ref.shape != (len(R),):
        raise ValueError(f"reference must hold one accuracy per task ({len(R)}) or a {R.shape} matrix, "
                         f"got shape {ref.shape}")
    return ref - np.diag(R)


def average_intransigence(R, reference) -> float:
    """Mean of intransigence_per_task over all T tasks."""
    return float(intransigence_per_task(R, reference).mean())
