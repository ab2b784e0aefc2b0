"""Chapter 2 exercises: average forgetting and BWT from an accuracy matrix."""
from __future__ import annotations

import numpy as np

from ... import metrics
from .core import Case, Exercise


def _matrices():
    return {
        "3 tasks, forgetting": np.array([[0.90, 0.10, 0.12], [0.70, 0.95, 0.20], [0.60, 0.80, 0.97]]),
        "3 tasks, task 0 peaks after task 1": np.array([[0.80, 0.1, 0.1], [0.95, 0.9, 0.1], [0.85, 0.9, 0.9]]),
        "4 tasks": np.array([[0.99, 0.1, 0.1, 0.1], [0.90, 0.98, 0.1, 0.1], [0.85, 0.80, 0.97, 0.1],
                             [0.80, 0.75, 0.90, 0.96]]),
        "3 tasks, old tasks end at their best": np.array([[0.70, 0.1, 0.1], [0.60, 0.9, 0.1], [0.80, 0.95, 0.9]]),
    }


def _forgetting_cases():
    wrong = {
        "used R[j, j] (accuracy right after learning task j) instead of the max over all earlier rows":
            lambda R: float(np.mean([R[j, j] - R[-1, j] for j in range(len(R) - 1)])),
        "sign flipped: forgetting is (best earlier accuracy) - (final accuracy)":
            lambda R: -metrics.average_forgetting(R),
        "averaged over all T tasks; the last task cannot be forgotten yet, average over the first T-1":
            lambda R: float(np.sum(metrics.forgetting_per_task(R)) / len(R)),
        "the max included the last row R[T-1, j]; take it over rows 0..T-2 only":
            lambda R: float(np.mean([R[:, j].max() - R[-1, j] for j in range(len(R) - 1)])),
    }
    return [Case(name, (R,), mistakes=wrong) for name, R in _matrices().items()]


def _bwt_cases():
    wrong = {
        "divided by T instead of T-1, or averaged in the last task whose term is always 0 (average over the "
        "first T-1 tasks only)":
            lambda R: float(np.mean([R[-1, j] - R[j, j] for j in range(len(R))])),
        "sign flipped: BWT is R[T-1, j] - R[j, j], negative when the model forgets":
            lambda R: -metrics.backward_transfer(R),
        "compared with the best earlier accuracy (that is forgetting); BWT compares with R[j, j], right after "
        "learning task j":
            lambda R: -metrics.average_forgetting(R),
    }
    return [Case(name, (R,), mistakes=wrong) for name, R in _matrices().items()]


def reference_average_forgetting(R) -> float:
    """Mean over j < T-1 of max_{l < T-1} R[l, j] - R[T-1, j]."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    return float(np.mean([R[:T - 1, j].max() - R[T - 1, j] for j in range(T - 1)]))


def reference_bwt(R) -> float:
    """Mean over j < T-1 of R[T-1, j] - R[j, j]."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    return float(np.mean([R[T - 1, j] - R[j, j] for j in range(T - 1)]))


forgetting_exercise = Exercise(
    "Exercise 2.1: average forgetting", reference_average_forgetting, _forgetting_cases,
    hints=["For each old task j (all but the last), find its best accuracy before the end: the max of column j "
           "over rows 0..T-2.",
           "f_j = R[:T-1, j].max() - R[T-1, j]; return the mean of f_j over j = 0..T-2 as a float."])

bwt_exercise = Exercise(
    "Exercise 2.2: backward transfer (BWT)", reference_bwt, _bwt_cases,
    hints=["Compare each old task's final accuracy R[T-1, j] with its accuracy right after it was learned, R[j, j].",
           "BWT = mean over j = 0..T-2 of (R[T-1, j] - R[j, j]); negative means forgetting."])
