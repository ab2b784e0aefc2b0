# %% [markdown]
# # 第 2 章：如何衡量遺忘 (Metrics for Continual Learning)
#
# 「忘了多少」要能用數字比較，才能判斷 EWC 或 replay 到底有沒有幫助。**這一章你會學到：**
# 1. 定義 **accuracy matrix** $R$；
# 2. 在一個小矩陣上**手算** ACC、forgetting、BWT、FWT，再用 `cl_helpers.metrics` 驗證；
# 3. 練習：自己寫 forgetting 與 BWT（有自動檢查）；
# 4. 比較文獻中兩種常被混用的 forgetting 定義；
# 5. 在真實的 permuted MNIST 實驗上計算所有指標。
#
# 資料：permuted MNIST 取訓練集最前面的 5,000 張圖，課程附的 MNIST 子集（前 6,309 張）與完整 MNIST 結果相同。
#
# ⏱️ 執行時間（full mode，實測）：2-core CPU 約 13 秒。本次沒有 GPU 可測；模型很小，CPU 就夠了。

# %%
# 環境設定 / Setup：同一個 cell 在 JupyterLab 與 Colab 都能用。
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install cl_helpers from the course repository (torch/ipywidgets untouched)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/__REPO__"], check=True)

import numpy as np
import matplotlib.pyplot as plt
from cl_helpers import course, make_stream, train_stream, plots, metrics, format_table
from cl_helpers.teaching.course import pick

device = course.setup(seed=0)

# %% [markdown]
# ## 2.1 Accuracy matrix
#
# 有 $T$ 個任務。每學完 task $i$，就在**所有** task $j$（包括還沒學的）上評估：
#
# $$R_{i,j} = \text{學完 task } i \text{ 之後，在 task } j \text{ 的 test accuracy}$$
#
# 另外記 $b_j$：模型在 random initialization 時於 task $j$ 的 accuracy（用來算 forward transfer）。
# 下面是一個 3 個任務的小例子：

# %%
# NBVAL_CHECK_OUTPUT
R = np.array([[0.90, 0.10, 0.12],
              [0.70, 0.95, 0.20],
              [0.60, 0.80, 0.97]])
b = np.array([0.10, 0.11, 0.09])
print(R)

# %% [markdown]
# ## 2.2 四個指標，先手算
#
# | 指標 | 定義 | 這個例子 |
# |---|---|---|
# | **ACC**（average accuracy） | $\frac{1}{T}\sum_j R_{T-1,j}$ | $(0.60+0.80+0.97)/3 = 0.79$ |
# | **Forgetting** $f_j$（Chaudhry et al. 2018） | $\max_{l<T-1} R_{l,j} - R_{T-1,j}$，對 $j<T-1$ 平均 | $f_0 = 0.90-0.60 = 0.30$，$f_1 = 0.95-0.80 = 0.15$，平均 $0.225$ |
# | **BWT**（backward transfer, Lopez-Paz & Ranzato 2017） | $\frac{1}{T-1}\sum_{j<T-1} (R_{T-1,j} - R_{j,j})$ | $((0.60-0.90)+(0.80-0.95))/2 = -0.225$ |
# | **FWT**（forward transfer） | $\frac{1}{T-1}\sum_{j>0} (R_{j-1,j} - b_j)$ | $((0.10-0.11)+(0.20-0.09))/2 = 0.05$ |
#
# - BWT < 0 表示學新任務讓舊任務變差（遺忘）；BWT > 0 表示學新任務反而幫了舊任務。
# - FWT 衡量「還沒學到 task $j$ 之前」，先前的學習對它有沒有幫助（和隨機初始化比）。
# - 分母：論文用 $T-1$（只有前 $T-1$ 個任務能被遺忘 / 有前一個任務）；作者釋出的程式碼除以 $T$。
#   `cl_helpers` 依論文用 $T-1$，並寫在 docstring 裡。
#
# 用 NumPy 直接照公式算一次：

# %%
# NBVAL_CHECK_OUTPUT
T = len(R)
acc = R[T - 1].mean()
f = [R[:T - 1, j].max() - R[T - 1, j] for j in range(T - 1)]
bwt = np.mean([R[T - 1, j] - R[j, j] for j in range(T - 1)])
fwt = np.mean([R[j - 1, j] - b[j] for j in range(1, T)])
print(f"ACC={acc:.3f}  forgetting per task={np.round(f, 3)}  avg forgetting={np.mean(f):.3f}  BWT={bwt:.3f}  FWT={fwt:.3f}")

# %% [markdown]
# 再用 `cl_helpers.metrics`（這些函式是 accuracy matrix 的 pure functions，有 unit tests），結果應該完全一樣：

# %%
# NBVAL_CHECK_OUTPUT
print(f"ACC={metrics.average_accuracy(R):.3f}  "
      f"forgetting per task={np.round(metrics.forgetting_per_task(R), 3)}  "
      f"avg forgetting={metrics.average_forgetting(R):.3f}  "
      f"BWT={metrics.backward_transfer(R):.3f}  FWT={metrics.forward_transfer(R, b):.3f}")

# %% [markdown]
# ## 2.3 練習：自己寫 forgetting 與 BWT
#
# 完成下面兩個函式（輸入是 $T \times T$ 的 NumPy array，回傳一個 float），然後執行下一個 cell 檢查。
# 卡住了？`forgetting_exercise.hint(1)`、`forgetting_exercise.hint(2)`……一步一步提示，最後一步是解答。
# 就算還沒寫完，這一章後面的 cell 仍會用 `cl_helpers` 的參考答案繼續執行。

# %% tags=["exercise"]
def average_forgetting(R):
    """Mean over j < T-1 of (best accuracy on task j before the end) - (final accuracy on task j)."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    # BEGIN SOLUTION: Exercise 2.1: compute the average forgetting (try forgetting_exercise.hint(1))
    return float(np.mean([R[:T - 1, j].max() - R[T - 1, j] for j in range(T - 1)]))
    # END SOLUTION


def backward_transfer(R):
    """Mean over j < T-1 of (final accuracy on task j) - (accuracy right after learning task j)."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    # BEGIN SOLUTION: Exercise 2.2: compute BWT (try bwt_exercise.hint(1))
    return float(np.mean([R[T - 1, j] - R[j, j] for j in range(T - 1)]))
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch02_metrics import forgetting_exercise, bwt_exercise

my_forgetting = forgetting_exercise.check(average_forgetting)
my_bwt = bwt_exercise.check(backward_transfer)

# %% [markdown]
# 檢查器會在固定的小矩陣上比較你的答案與參考答案，並指出常見錯誤，例如：用 $R_{j,j}$ 取代 max、
# 分母用 $T$、正負號相反。老師在課堂上可以用 `forgetting_exercise.reveal()` 顯示解答。
#
# ## 2.4 兩種 forgetting：max 還是「剛學完」？
#
# 文獻與工具裡有兩種常被混用的定義：
# - **Chaudhry et al. (2018)**（`cl_helpers.metrics.forgetting_per_task`）：$\max_{l<T-1} R_{l,j} - R_{T-1,j}$，和「歷史最好」比。
# - **Avalanche** 等函式庫（`forgetting_since_learned`）：$R_{j,j} - R_{T-1,j}$，和「剛學完時」比。
#
# 若 task 0 在學 task 1 之後反而變好（backward transfer 為正），兩者就不同：

# %%
from cl_helpers.teaching.quiz import ask

ask("task 0 的 accuracy：剛學完時 0.80，學完 task 1 後升到 0.95，最後是 0.85。兩種定義的 forgetting 各是多少？",
    ["兩種都是 0.10", "Chaudhry 0.10；「剛學完」-0.05", "Chaudhry -0.05；「剛學完」0.10"],
    answer=1, key="ch2-forgetting",
    explain="Chaudhry 和歷史最好的 0.95 比：0.95 - 0.85 = 0.10。「剛學完」和 0.80 比：0.80 - 0.85 = -0.05，"
            "看起來反而變好了。下一個 cell 用 cl_helpers.metrics 算給你看。")

# %%
# NBVAL_CHECK_OUTPUT
R2 = np.array([[0.80, 0.10, 0.10],
               [0.95, 0.90, 0.10],
               [0.85, 0.90, 0.90]])
print("Chaudhry (max over earlier rows):", np.round(metrics.forgetting_per_task(R2), 3))
print("Avalanche (right after learning): ", np.round(metrics.forgetting_since_learned(R2), 3))

# %% [markdown]
# 對 task 0：Chaudhry 的定義是 $0.95 - 0.85 = 0.10$（確實從最好時掉了 10 個百分點）；
# 「剛學完」的定義是 $0.80 - 0.85 = -0.05$（看起來沒忘，甚至變好）。報告數字時一定要說清楚用哪一個。
# 另外，Avalanche 的 stream accuracy 以樣本數加權，而這裡的 ACC 是每個任務等權平均。
#
# 課程原本的 notebook 還有第三種：從每個 epoch 的**歷史紀錄**取最大值（`metrics.history_forgetting`），
# 它看得到任務中途的高點，所以永遠 $\geq$ Chaudhry 的數字。
#
# ## 2.5 真實實驗：permuted MNIST
#
# 用第 1 章的設定跑 naive fine-tuning 與 joint training（每個階段都用到目前為止所有任務的資料，是上界）：

# %%
ask("joint training 每個階段都用目前為止所有任務的資料訓練。它的 average forgetting 會是多少？",
    ["和 naive 差不多：模型還是一直在改", "接近 0", "比 naive 大：資料越多越容易互相干擾"],
    answer=1, key="ch2-joint",
    explain="舊任務的資料一直都在訓練集裡，每一步都同時照顧所有任務，所以舊任務幾乎不會變差。"
            "這也是它被當作上界的原因：continual learning 的方法不能存下所有舊資料。")

# %%
stream = make_stream("permuted", n_tasks=3, train_size=pick(5000, 1000), test_size=pick(1000, 500),
                     seed=0, device=device)
runs = [train_stream(stream, method, epochs=pick(3, 1)) for method in ("naive", "joint")]
print(stream.source)
print(format_table(runs))
course.expect(runs[1].summary()["forgetting"] < 0.03 < runs[0].summary()["forgetting"],
              "naive 會遺忘；joint 每個階段都用到所有任務的資料，幾乎不遺忘")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for r, ax in zip(runs, axes):
    plots.plot_acc_matrix(r, ax=ax)
fig.tight_layout()
plt.show()

# %% [markdown]
# 用你在練習中寫的函式（若尚未完成則是參考答案）算同一個 naive run，應該和 `format_table` 一致；
# 再加上三種 forgetting 的比較：

# %%
naive = runs[0]
print(f"your forgetting: {my_forgetting(naive.acc_matrix):.4f}   your BWT: {my_bwt(naive.acc_matrix):.4f}")
print("Chaudhry per task:  ", np.round(metrics.forgetting_per_task(naive.acc_matrix), 3))
print("since learned:      ", np.round(metrics.forgetting_since_learned(naive.acc_matrix), 3))
print("history (per epoch):", np.round(metrics.history_forgetting(naive.curve_acc, naive.task_boundaries,
                                                                     naive.steps), 3))
fwt = metrics.forward_transfer(naive.acc_matrix, naive.init_acc)
print(f"FWT = {fwt:.3f} (a new permutation looks like noise: earlier tasks barely help it)")
course.expect(abs(fwt) < 0.1, "permuted MNIST 的 FWT 接近 0：先學的任務對新的 permutation 幾乎沒有幫助")

# %% [markdown]
# ## 小結
#
# - 一個實驗的完整紀錄是 accuracy matrix $R$ 加上 $b$；ACC、forgetting、BWT、FWT 都是它的函數。
# - ACC 高不代表沒遺忘（可能只是最後一個任務很好）；要同時看 forgetting / BWT。
# - 報告 forgetting 時寫明定義（max 或剛學完）、分母（$T$ 或 $T-1$）、是否按樣本數加權。
# - Joint training 幾乎不遺忘，forgetting 甚至可以是負的：學後面的任務時，前面任務的資料還在訓練裡，它們可能反而變好。
#
# 下一章：第一個對抗遺忘的方法，**EWC**。
#
# ## 延伸閱讀
#
# - D. Lopez-Paz, M. Ranzato. Gradient episodic memory for continual learning.
#   [arXiv:1706.08840](https://arxiv.org/abs/1706.08840), 2017.（ACC、BWT、FWT 的定義）
# - A. Chaudhry, P. K. Dokania, T. Ajanthan, P. H. S. Torr. Riemannian walk for incremental learning: understanding
#   forgetting and intransigence. [arXiv:1801.10112](https://arxiv.org/abs/1801.10112), 2018.（以 max 定義的 forgetting）
# - N. Díaz-Rodríguez, V. Lomonaco, D. Filliat, D. Maltoni. Don't forget, there is more than forgetting: new metrics for
#   continual learning. [arXiv:1810.13166](https://arxiv.org/abs/1810.13166), 2018.
# - 李宏毅，機器學習 2021 春，Life-long Learning：[課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)
#   （第一講講到怎麼評估，包含這裡的 accuracy matrix 與 BWT、FWT）。
# - 作業：[ML 2022 春 HW14](https://speech.ee.ntu.edu.tw/~hylee/ml/2022-spring.php) 畫的正是這一章的 accuracy matrix。
