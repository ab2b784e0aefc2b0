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
        "你只在 task j 學完之後的列（R[j:T-1, j]）取最大值：這是 Chaudhry et al. (2018) 論文的讀法，本身沒有錯；"
        "但這一章的定義（和 cl_helpers）是延伸版，取第 0 到 T-2 的每一列，包括 task j 還沒訓練時的列":
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
    "練習 A：average forgetting", reference_average_forgetting, _forgetting_cases,
    hints=["forgetting 問的是：每個舊任務從「最好的時候」掉了多少？想想看：task j 在每個階段的 accuracy 在 R 的哪裡"
           "（哪一列、哪一欄）？「現在」是哪一列？最後一個任務要不要算？",
           "「最好的時候」要在最後一列之前的所有列裡找（這一章連 task j 還沒訓練時的列也算），不能包括最後一列本身；"
           "每個舊任務得到一個數，最後對 T-1 個舊任務平均，回傳一個 float。"],
    name="forgetting_exercise")

bwt_exercise = Exercise(
    "練習 B：backward transfer (BWT)", reference_bwt, _bwt_cases,
    hints=["BWT 比較每個舊任務的兩個時間點：「現在」和「剛學完它的時候」。這兩個 accuracy 在 R 的哪兩格？",
           "模型遺忘時 BWT 應該是負的：想清楚哪個減哪個。最後一個任務剛學完就是現在，它不算；"
           "對 T-1 個舊任務平均，回傳一個 float。"],
    name="bwt_exercise")
