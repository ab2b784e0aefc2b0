"""Chapter 2 exercises: average forgetting and BWT from an accuracy matrix."""
from __future__ import annotations

import numpy as np

from ... import metrics
from .core import Case, Exercise


def _matrices():
    return {
        "3 個任務，有遺忘": np.array([[0.90, 0.10, 0.12], [0.70, 0.95, 0.20], [0.60, 0.80, 0.97]]),
        "3 個任務，task 0 在學完 task 1 後反而最好": np.array([[0.80, 0.1, 0.1], [0.95, 0.9, 0.1], [0.85, 0.9, 0.9]]),
        "4 個任務": np.array([[0.99, 0.1, 0.1, 0.1], [0.90, 0.98, 0.1, 0.1], [0.85, 0.80, 0.97, 0.1],
                             [0.80, 0.75, 0.90, 0.96]]),
        "3 個任務，舊任務最後反而最好": np.array([[0.70, 0.1, 0.1], [0.60, 0.9, 0.1], [0.80, 0.95, 0.9]]),
        # task 1's best row is row 0, before it was trained: the max runs over every row 0..T-2
        "4 個任務，task 1 還沒訓練時的 accuracy 比之後都高": np.array(
            [[0.95, 0.90, 0.10, 0.10], [0.85, 0.80, 0.10, 0.10], [0.80, 0.85, 0.90, 0.10],
             [0.75, 0.70, 0.85, 0.95]]),
    }


def _forgetting_cases():
    wrong = {
        "用了 R[j, j]（剛學完 task j 時的 accuracy），而不是之前所有列的最大值":
            lambda R: float(np.mean([R[j, j] - R[-1, j] for j in range(len(R) - 1)])),
        "正負號相反：forgetting 是（之前最好的 accuracy）−（最後的 accuracy）":
            lambda R: -metrics.average_forgetting(R),
        "對全部 T 個任務平均；最後一個任務還不可能被遺忘，只對前 T-1 個平均":
            lambda R: float(np.sum(metrics.forgetting_per_task(R)) / len(R)),
        "取最大值時包含了最後一列 R[T-1, j]；只能在第 0 到 T-2 列中取":
            lambda R: float(np.mean([R[:, j].max() - R[-1, j] for j in range(len(R) - 1)])),
        "只在 task j 學完之後的列（R[j:T-1, j]）取最大值；這一章的定義（和 cl_helpers）取第 0 到 T-2 的每一列，"
        "包括 task j 還沒訓練時的列":
            lambda R: float(np.mean([R[j:len(R) - 1, j].max() - R[-1, j] for j in range(len(R) - 1)])),
    }
    return [Case(name, (R,), mistakes=wrong) for name, R in _matrices().items()]


def _bwt_cases():
    wrong = {
        "除以 T 而不是 T-1，或把最後一個任務（它的項永遠是 0）也平均進去了：只對前 T-1 個任務平均":
            lambda R: float(np.mean([R[-1, j] - R[j, j] for j in range(len(R))])),
        "正負號相反：BWT 是 R[T-1, j] − R[j, j]，模型遺忘時是負的":
            lambda R: -metrics.backward_transfer(R),
        "和之前最好的 accuracy 比（那是 forgetting）；BWT 是和剛學完 task j 時的 R[j, j] 比":
            lambda R: -metrics.average_forgetting(R),
    }
    return [Case(name, (R,), mistakes=wrong) for name, R in _matrices().items()]


def reference_average_forgetting(R) -> float:
    """Mean over j < T-1 of max_{l < T-1} R[l, j] - R[T-1, j] (every row before the last, trained on j or not)."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    return float(np.mean([R[:T - 1, j].max() - R[T - 1, j] for j in range(T - 1)]))


def reference_bwt(R) -> float:
    """Mean over j < T-1 of R[T-1, j] - R[j, j]."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    return float(np.mean([R[T - 1, j] - R[j, j] for j in range(T - 1)]))


forgetting_exercise = Exercise(
    "練習 2.1：average forgetting", reference_average_forgetting, _forgetting_cases,
    hints=["對每個舊任務 j（最後一個以外），找出它在最後一列之前最好的 accuracy：第 j 欄、第 0 到 T-2 列中的最大值"
           "（包括 task j 還沒訓練時的列），再減掉它最後的 accuracy。",
           "NumPy 的切片 R[a:b, j] 取出第 j 欄的第 a 到 b-1 列，.max() 取最大值；用 for j in range(T - 1) 逐一算，"
           "最後用 np.mean 平均，再用 float(...) 轉成一個數。"],
    name="forgetting_exercise")

bwt_exercise = Exercise(
    "練習 2.2：backward transfer (BWT)", reference_bwt, _bwt_cases,
    hints=["把每個舊任務最後的 accuracy R[T-1, j]，和它剛學完時的 accuracy R[j, j] 比較：哪個減哪個，遺忘時 BWT 才是負的？",
           "只對前 T-1 個任務（j = 0..T-2）平均，最後一個任務不算；回傳一個 float。"],
    name="bwt_exercise")
