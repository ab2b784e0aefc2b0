# %% [markdown]
# # 第 2 章：如何衡量遺忘 (Metrics for Continual Learning)
#
# 「忘了多少」要能用數字比較，才能判斷 EWC 或 replay 到底有沒有幫助。**這一章你會學到：**
# 1. 定義 **accuracy matrix** $R$；
# 2. 在一個小矩陣上**手算** ACC、forgetting、BWT、FWT，再用 `cl_helpers.metrics` 驗證；
# 3. 練習：自己寫 forgetting 與 BWT（有自動檢查）；
# 4. 比較三種 forgetting 的定義（其中兩種常被混用），以及什麼情況下哪一個比較大；
# 5. 在真實的 permuted MNIST 實驗上計算所有指標，再加上 forgetting 的另一面：**intransigence**（新任務學不好的程度）。

# %% [markdown]
# 資料：permuted MNIST 的每個任務都取 MNIST 訓練集**最前面**的 5,000 張圖。課程附的 MNIST 子集存的正是最前面的
# 6,309 張，所以用它或下載完整的 MNIST，拿到的是同一批圖。資料依序從 `$CL_HELPERS_DATA`（課程的機器已設好）
# 或 `~/.cache/cl_helpers` 讀取，都沒有就下載到後者；離線又沒有資料時，改用 scikit-learn 內建的 digits（會印出提示）。
#
# ⏱️ 執行時間：這一章最後一個 cell 印出這次從頭跑到尾的實測時間；README 的章節表列出 full mode 在 2-core CPU 上的時間。模型很小，CPU 就夠了。

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
# 另外記 $b_j$：模型在隨機初始化（random initialization）時於 task $j$ 的 accuracy（用來算 forward transfer）。
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
# | 指標 | 定義 |
# |---|---|
# | **ACC**（average accuracy） | $\frac{1}{T}\sum_j R_{T-1,j}$ |
# | **Forgetting** $f_j$（Chaudhry et al. 2018 的延伸，見 2.3 節） | $\max_{l<T-1} R_{l,j} - R_{T-1,j}$，對 $j<T-1$ 平均（$\max$ 取最後一列之前的每一列；論文只取 $l \geq j$） |
# | **BWT**（backward transfer, Lopez-Paz & Ranzato 2017） | $\frac{1}{T-1}\sum_{j<T-1} (R_{T-1,j} - R_{j,j})$ |
# | **FWT**（forward transfer, Lopez-Paz & Ranzato 2017） | $\frac{1}{T-1}\sum_{j>0} (R_{j-1,j} - b_j)$ |

# %% [markdown]
# - BWT < 0 表示學新任務讓舊任務變差（遺忘）；BWT > 0 表示學新任務反而幫了舊任務。
# - FWT 衡量「還沒訓練 task $j$ 時」的 accuracy $R_{j-1,j}$，比隨機初始化的 $b_j$ 好多少。
#   它只看訓練 task $j$ **之前**，不回答「先前的學習能不能讓 task $j$ 學得更快、更好」。
# - 分母：論文用 $T-1$（BWT 只有前 $T-1$ 個任務能被遺忘；FWT 只有後 $T-1$ 個任務有前一個任務）；作者釋出的程式碼除以 $T$。
#   `cl_helpers` 依論文用 $T-1$，並寫在 docstring 裡。
#
# 先**遮住下面的輸出**，用紙筆在上面的 $R$、$b$ 上把四個指標算一次。下一個 cell 用 NumPy 照公式算 ACC 與 FWT
# （forgetting 與 BWT 留給後面的練習自己寫），再用 `cl_helpers.metrics` 把四個都算出來，對對看：

# %%
# NBVAL_CHECK_OUTPUT
T = len(R)
acc = R[T - 1].mean()                                     # the last row, averaged
fwt = np.mean([R[j - 1, j] - b[j] for j in range(1, T)])  # just before training task j, minus b_j
print(f"NumPy by the formula: ACC={acc:.3f}  FWT={fwt:.3f}")
print(f"cl_helpers.metrics:   ACC={metrics.average_accuracy(R):.3f}  "
      f"forgetting per task={', '.join(f'{x:.3f}' for x in metrics.forgetting_per_task(R))}  "
      f"avg forgetting={metrics.average_forgetting(R):.3f}  "
      f"BWT={metrics.backward_transfer(R):.3f}  FWT={metrics.forward_transfer(R, b):.3f}")
course.expect(np.isclose(metrics.average_forgetting(R), -metrics.backward_transfer(R)),
              "這個例子裡 forgetting 的平均剛好等於 −BWT")

# %% [markdown]
# 手算的過程（數字就是上面印出的）：
#
# | 指標 | 這個例子 |
# |---|---|
# | **ACC** | $(0.60+0.80+0.97)/3 = 0.790$ |
# | **Forgetting** | $f_0 = \max(0.90, 0.70) - 0.60 = 0.300$，$f_1 = \max(0.10, 0.95) - 0.80 = 0.150$，平均 $0.225$ |
# | **BWT** | $((0.60-0.90)+(0.80-0.95))/2 = -0.225$ |
# | **FWT** | $((0.10-0.11)+(0.20-0.09))/2 = 0.050$ |
#
# 這個例子裡 forgetting 的平均剛好等於 $-$BWT：每個任務最好的時候都是剛學完時（$\max$ 落在 $R_{j,j}$）。
# 2.3 節會看到兩者不同的情形。`cl_helpers.metrics` 的這些函式都是 accuracy matrix 的 pure functions，有 unit tests。

# %% [markdown]
# ## 練習 A、B：自己寫 forgetting 與 BWT
#
# 完成下面兩個函式（輸入是 $T \times T$ 的 NumPy array，回傳一個 float），然後執行下一個 cell 檢查。
# 卡住了？`forgetting_exercise.hint(1)`、`bwt_exercise.hint(1)` 一步一步給提示，最後一步印出解答。
# 就算還沒寫完，這一章後面的 cell 仍會用 `cl_helpers` 的參考答案繼續執行。

# %% tags=["exercise"]
def average_forgetting(R):
    """Mean over j < T-1 of (best accuracy on task j in rows 0..T-2, the rows before the last one, including rows
    before task j was trained: this course's definition) - (final accuracy on task j)."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    # BEGIN SOLUTION: Exercise A: compute the average forgetting (try forgetting_exercise.hint(1))
    return float(np.mean([R[:T - 1, j].max() - R[T - 1, j] for j in range(T - 1)]))
    # END SOLUTION


def backward_transfer(R):
    """Mean over j < T-1 of (final accuracy on task j) - (accuracy right after learning task j)."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    # BEGIN SOLUTION: Exercise B: compute BWT (try bwt_exercise.hint(1))
    return float(np.mean([R[T - 1, j] - R[j, j] for j in range(T - 1)]))
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch02_metrics import forgetting_exercise, bwt_exercise

my_forgetting = forgetting_exercise.check(average_forgetting)
my_bwt = bwt_exercise.check(backward_transfer)

# %% [markdown]
# 檢查器會在固定的小矩陣上比較你的答案與參考答案，並指出常見錯誤，例如：用 $R_{j,j}$ 取代 max、
# 分母用 $T$、正負號相反。如果你只在 task $j$ 學完之後的列取 max，那是 Chaudhry et al. (2018) 論文的讀法，
# 本身沒有錯；但這一章的定義取最後一列之前的每一列，檢查器會提醒你改成這一章的定義（差別在 2.3 節）。

# %% [markdown]
# ## 2.3 三種 forgetting：max、「剛學完」、history
#
# 文獻與工具裡有兩種常被混用的定義；這一章固定用粗體的名字稱呼它們：
# - **max**（依 Chaudhry et al. 2018，`metrics.forgetting_per_task`）：$\max_{l<T-1} R_{l,j} - R_{T-1,j}$，
#   和最後一列之前最好的時候比。這門課取最後一列之前的每一列；論文只取 task $j$ 學完之後的列，差別在本節最後。
# - **「剛學完」**（since learned，Avalanche 等函式庫，`metrics.forgetting_since_learned`）：$R_{j,j} - R_{T-1,j}$，
#   和剛學完 task $j$ 時比。
#
# 只有當 task $j$ 在最後一列之前曾經比剛學完時**更好**（某一列 $R_{l,j} > R_{j,j}$），兩者才會不同，
# 不論最後的 BWT 是正是負。先猜猜看：

# %%
from cl_helpers.teaching.quiz import ask

ask("task 0 的 accuracy：剛學完時 0.80，學完 task 1 後升到 0.95，最後是 0.85。兩種定義的 forgetting 各是多少？",
    ["兩種都是 0.10", "max 0.10；「剛學完」-0.05", "max -0.05；「剛學完」0.10"],
    answer=1, key="ch2-forgetting",
    explain="max 和最好時的 0.95 比：0.95 - 0.85 = 0.10。「剛學完」和 0.80 比：0.80 - 0.85 = -0.05，"
            "看起來反而變好了。下一個 cell 用 cl_helpers.metrics 算給你看。")

# %%
# NBVAL_CHECK_OUTPUT
R2 = np.array([[0.80, 0.10, 0.10, 0.10],
               [0.95, 0.80, 0.10, 0.10],
               [0.90, 0.95, 0.90, 0.10],
               [0.85, 0.70, 0.90, 0.90]])
T2 = len(R2)
rows = {"max (Chaudhry)": metrics.forgetting_per_task(R2),
        "since learned": metrics.forgetting_since_learned(R2),
        "BWT terms R[T-1,j]-R[j,j]": [R2[T2 - 1, j] - R2[j, j] for j in range(T2 - 1)]}
for label, values in rows.items():
    print(f"{label + ':':<27}" + "  ".join(f"{x:5.2f}" for x in values))

# %% [markdown]
# 這個 $R_2$ 有 4 個任務，前兩欄是兩種不同的情形：
# - **task 0**（就是上面的問題）：max 是 $0.95 - 0.85 = 0.10$（確實從最好時掉了 10 個百分點）；
#   「剛學完」是 $0.80 - 0.85 = -0.05$（看起來沒忘，甚至變好）。
# - **task 1**：$0.80 \to 0.95 \to 0.70$，最後比剛學完時差（它的 BWT 項是負的），兩種定義仍然不同：
#   max 是 $0.95 - 0.70 = 0.25$，「剛學完」只有 $0.80 - 0.70 = 0.10$。
#
# 報告數字時一定要說清楚用哪一個。另外，Avalanche 的 stream accuracy 以樣本數加權，這裡的 ACC 是每個任務等權平均；
# 這一章每個任務的 test set 一樣大（`make_stream` 的 `test_size`），所以兩者相同。

# %% [markdown]
# 第三種是 **history**（`metrics.history_forgetting`）：從 task $j$ 開始訓練之後，**每個 epoch** 都評估一次，
# 取這整段紀錄的最大值，再減掉最後的 accuracy。三者的大小關係，對每個 $j < T-1$：
# - **max $\geq$「剛學完」，永遠成立**：max 取的列包含 $l = j$，所以 $\max_{l<T-1} R_{l,j} \geq R_{j,j}$。
#   只有在最好的那一列就是剛學完時，兩者才相等。
# - **history $\geq$ max，通常成立**：這一章的 `train_stream` 把每個任務最後一個 epoch 的評估記成 $R$ 的一列，
#   所以 history 看得到 max 看的每一列（$l \geq j$ 的），再加上兩個任務結束之間的評估。最好的時候若落在兩個任務的
#   結束之間（例如 task $j$ 自己的第 2 個 epoch 比第 3 個好，或舊任務在下一個任務的第 1 個 epoch 後最好），history 就比 max 大。
# - **例外**：`cl_helpers` 的 max 也看 task $j$ **還沒訓練**時的列（$l < j$），history 不看。若 task $j$ 訓練前的
#   accuracy 比之後任何時候都高，max 就比 history 大。
# - **正負號**：history 的紀錄包含最後一次評估，所以 history 永遠 $\geq 0$；max 與「剛學完」則可能是負的
#   （最後一列比之前每一列都好的時候）。

# %% [markdown]
# 最後這一點是這門課的延伸，不是論文的寫法：Chaudhry et al. (2018) 只對已經學過的任務定義 accuracy
# $a_{l,j}$（$l \geq j$），所以論文的 max 實際上只看 $l \geq j$ 的列。在 2.4 節的 permuted MNIST 上兩者沒有差別：
# 不同的 permutation 彼此毫不相像，還沒訓練的 task 上 accuracy 很低，最好的列不會落在那裡（2.4 節會檢查）。
# rotated MNIST 和 permuted MNIST 一樣是 domain-incremental 的 stream，但不同角度的圖彼此很像，task $j$ 還沒訓練時
# 可能就已經不錯，這時兩種讀法會給出不同的數字。

# %% [markdown]
# ## 2.4 真實實驗：permuted MNIST
#
# 用第 1 章的設定跑兩個 run：naive fine-tuning，和 joint training（每個階段都用目前為止所有任務的資料訓練）。先猜猜看：

# %%
ask("joint training 每個階段都用目前為止所有任務的資料訓練。它的 average forgetting 會是多少？",
    ["和 naive 差不多：模型還是一直在改", "接近 0", "比 naive 大：資料越多越容易互相干擾"],
    answer=1, key="ch2-joint",
    explain="舊任務的資料一直都在訓練集裡，每一步都同時照顧所有任務，所以舊任務幾乎不會變差。"
            "所以 joint 常被拿來當 ACC 的參考點（文獻常叫它 upper bound，指的通常是用全部資料從頭訓練的 offline joint；"
            "這一章的 joint 每個階段接著前一個階段訓練）。continual learning 的方法不能存下所有舊資料。")

# %%
stream = make_stream("permuted", n_tasks=3, train_size=pick(5000, 1000), test_size=pick(1000, 500),
                     seed=0, device=device)
runs = [train_stream(stream, method, epochs=pick(3, 1)) for method in ("naive", "joint")]
print(stream.source)
print("test images per task:", [len(task.y_test) for task in stream])
print(format_table(runs))
course.expect(runs[1].summary()["forgetting"] < 0.03 < runs[0].summary()["forgetting"],
              "naive 會遺忘；joint 每個階段都用到所有任務的資料，幾乎不遺忘")
course.expect(runs[1].summary()["acc"] > runs[0].summary()["acc"], "joint 的 ACC 比 naive 高")
course.expect(len({len(task.y_test) for task in stream}) == 1, "每個任務的 test set 一樣大")
course.expect(runs[1].summary()["fwt"] < runs[0].summary()["fwt"] + 0.01, "joint 的 FWT 沒有明顯比 naive 高",
              full_only=True)

# %% [markdown]
# joint 的 ACC 比 naive 高，所以常被拿來當 **ACC 的參考點**，文獻常叫它 upper bound。但這不是定理：一次實驗裡
# joint 比 naive 好，不代表它是上界；而且文獻的 joint 通常是用全部任務的資料從頭訓練一次（offline joint），
# 這一章的 joint 則是每個階段接著前一個階段、用累積的資料繼續訓練（cumulative, warm start）。
# joint 也不是每個指標都比較好：上表的 FWT，以及 task 1 剛學完時的 accuracy（對角線的 $R_{1,1}$，見下面的矩陣），
# joint 都沒有明顯比 naive 高。下面是兩個 run 的 accuracy matrix：

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for r, ax in zip(runs, axes):
    plots.plot_acc_matrix(r, ax=ax)
for cax in fig.axes[len(axes):]:  # the colorbars
    cax.set_ylabel("test accuracy (0-1)")
fig.tight_layout()
plt.show()
R_naive, R_joint = runs[0].acc_matrix, runs[1].acc_matrix
with np.printoptions(precision=3, floatmode="fixed"):
    print(f"naive R (3 decimals):\n{R_naive}\njoint R (3 decimals):\n{R_joint}")
course.expect(np.all(np.diff(R_naive[:, 0]) < 0), "naive 的 task 0 那一欄一路往下掉")
course.expect(R_joint[1, 1] < R_naive[1, 1] + 0.01, "task 1 剛學完時，joint 沒有明顯比 naive 高", full_only=True)
course.expect(R_joint[-1, 0] > R_joint[0, 0], "joint 的 task 0 最後反而比剛學完時高", full_only=True)
course.expect(np.triu(R_naive, 1).max() < 0.2 and np.triu(R_joint, 1).max() < 0.2,
              "對角線以上（還沒訓練的任務）的 accuracy 都很低", full_only=True)

# %% [markdown]
# 讀這兩張圖：**對角線**是每個任務剛學完時的 accuracy；**對角線以下**是舊任務後來的 accuracy：naive 的 task 0
# 那一欄一路往下掉，joint 的 task 0 最後反而比剛學完時高；**對角線以上**是還沒訓練的任務，accuracy 都很低
# （FWT 用的就是緊鄰對角線上方那幾格）。格子裡的數字只到小數第二位；圖下面印出的矩陣到小數第三位。
#
# 先用你在練習中寫的函式算 naive run 的 forgetting 與 BWT，應該和上面 `format_table` 的 naive 那一列一致：

# %%
naive, joint = runs
for name, mine, exercise in (("forgetting", my_forgetting, forgetting_exercise), ("BWT", my_bwt, bwt_exercise)):
    who = "the reference (your exercise has not passed yet)" if mine is exercise.reference else "your function"
    print(f"naive {name} by {who}: {mine(R_naive):.4f}")
f_naive = metrics.forgetting_per_task(R_naive)
print(f"naive, largest forgetting over tasks: {f_naive.max():.3f} (task {int(f_naive.argmax())})")

# %% [markdown]
# 再把三種 forgetting 放在一起，兩個 run 各看一次。history 要用每個 epoch 的評估：`train_stream` 在每個 epoch
# 結束時評估所有任務，`r.curve_acc[k, j]` 是第 $k$ 次評估時 task $j$ 的 accuracy，`r.steps[k]` 是那時做過的
# optimizer steps，`r.task_boundaries[j]` 是 task $j$ 開始訓練時的 step。下面也印出每個舊任務最好的 accuracy
# 出現在哪一列（max 取到哪一列），以及在每個 epoch 的紀錄裡最好的一次出現在訓練哪個任務的第幾個 epoch：

# %%
three = {r.method: (metrics.forgetting_per_task(r.acc_matrix), metrics.forgetting_since_learned(r.acc_matrix),
                    metrics.history_forgetting(r.curve_acc, r.task_boundaries, r.steps)) for r in runs}
peak = {}  # (method, task j) -> the evaluation k with the best accuracy on task j since its training began
for r in runs:
    Rr, (mx, since, hist), E = r.acc_matrix, three[r.method], r.config["epochs"]
    print(f"{r.method}: max (Chaudhry) {' '.join(f'{x:.3f}' for x in mx)}  since learned "
          f"{' '.join(f'{x:.3f}' for x in since)}  history (per epoch) {' '.join(f'{x:.3f}' for x in hist)}")
    for j in range(len(Rr) - 1):
        seen, best = np.flatnonzero(r.steps > r.task_boundaries[j]), int(Rr[:-1, j].argmax())
        k = peak[r.method, j] = int(seen[r.curve_acc[seen, j].argmax()])
        print(f"  task {j}: best row after task {best} ({Rr[best, j]:.3f}), final {Rr[-1, j]:.3f}, best at any epoch "
              f"{r.curve_acc[k, j]:.3f} (while training task {(k - 1) // E}, epoch {(k - 1) % E + 1} of {E})")
(mx_n, since_n, hist_n), (mx_j, since_j, hist_j) = three["naive"], three["joint"]
course.expect(np.all(mx_n >= since_n - 1e-9) and np.all(mx_j >= since_j - 1e-9), "max 的 forgetting 不小於「剛學完」的")
course.expect(np.allclose(mx_n, since_n) and np.allclose(mx_n, hist_n)
              and all(int(R_naive[:-1, j].argmax()) == j for j in range(len(R_naive) - 1)),
              "naive 的三種 forgetting 相同：每個任務最好的時候就是剛學完時", full_only=True)
course.expect(all(int(r.acc_matrix[:-1, j].argmax()) >= j for r in runs for j in range(len(R_naive) - 1)),
              "max 從不取在 task j 還沒訓練的列：論文與 cl_helpers 的讀法在這裡相同")
course.expect(since_j[0] < mx_j[0] < hist_j[0], "joint 的 task 0：「剛學完」< max < history", full_only=True)
course.expect(joint.curve_acc[peak["joint", 0], 0] > R_joint[:, 0].max(),
              "joint 的 task 0 在某個不是任務結束的 epoch，到過比 R 的每一列都高的點", full_only=True)
course.expect(np.isclose(mx_j[1], since_j[1]), "joint 的 task 1：max 與「剛學完」相同")
course.expect(np.all(mx_j < 0), "joint 的 max forgetting 是負的：最後一列比之前每一列都好", full_only=True)

# %% [markdown]
# **naive**：三種定義給出一樣的數字。每個舊任務最好的那一列就是剛學完時（best row after task $j$），之後每個 epoch
# 的評估也沒有更高的點，所以 max 都取在 $R_{j,j}$。
#
# **joint** 的 task 0 正好是三者都不同的例子：學完 task 1 之後它比剛學完時還好，max 取在後面的列，所以 max 比
# 「剛學完」大；在某個不是任務結束的 epoch，它又到過比 $R$ 的每一列都高的點（best at any epoch，上面印出是
# 訓練哪個任務的第幾個 epoch），history 看得到這一點，所以又比 max 大。joint 的 task 1 則只有兩列可取
# （還沒訓練時，和剛學完時），max 與「剛學完」相同。
# joint 的 max forgetting 是負的：最後一列比之前每一列都好。這也解釋了上面表格裡 joint 的 forgetting 與 BWT
# 為什麼不再互為相反數：BWT 是「剛學完」的平均加上負號，表格的 forgetting 是 max 的平均。
# 兩個 run 的 max 都取在 task $j$ 學完之後的列（best row after task $j$ 或更後面），所以論文的讀法在這裡給出同樣的數字。

# %% [markdown]
# 最後看 FWT：還沒訓練 task $j$ 時的 $R_{j-1,j}$，和隨機初始化的 $b_j$ 比。

# %%
course.expect(np.allclose(naive.init_acc, joint.init_acc), "兩個 run 從同一個隨機初始化出發，b_j 相同")
print(f"{'b_j, the untrained model on task j (j >= 1):':<48}", "  ".join(f"{x:.3f}" for x in naive.init_acc[1:]))
for r in runs:
    print(f"{f'R[j-1, j], {r.method} just before training task j:':<48}",
          "  ".join(f"{r.acc_matrix[j - 1, j]:.3f}" for j in range(1, r.n_tasks)))
fwt = {r.method: metrics.forward_transfer(r.acc_matrix, r.init_acc) for r in runs}
print(f"FWT naive {fwt['naive']:.4f}, joint {fwt['joint']:.4f}")
course.expect(abs(fwt["naive"]) < 0.1, "permuted MNIST 的 FWT 接近 0")
course.expect(fwt["naive"] < 0 and fwt["joint"] < 0, "兩個 run 的 FWT 都小於 0", full_only=True)
course.expect(abs(fwt["naive"] - fwt["joint"]) < 0.01, "naive 與 joint 的 FWT 差不多", full_only=True)
course.expect(all(r.init_acc[1] - r.acc_matrix[0, 1] > 0.03 and abs(r.acc_matrix[1, 2] - r.init_acc[2]) < 0.02
                  for r in runs), "task 1 的 R[0,1] 明顯低於 b_1；task 2 的 R[1,2] 和 b_2 差不多", full_only=True)
course.expect(np.isclose(R_naive[0, 1], R_joint[0, 1]), "兩個 run 在 task 0 的訓練相同，R[0,1] 也相同")
course.expect(R_naive[0, 1] < 0.1, "R[0,1] 比 10 個類別亂猜的 0.1 還低", full_only=True)

# %% [markdown]
# 兩個 run 的 FWT 都小於 0，而且差不多：先學過的 permutation 沒有讓模型在新的 permutation 上猜得比較準。
# 看上面印出的每一格：task 2 的 $R_{1,2}$ 和 $b_2$ 差不多；task 1 則明顯比 $b_1$ 低，$R_{0,1}$ 甚至比 10 個類別亂猜的
# 0.1 還低（兩個 run 在 task 0 的訓練相同，所以 $R_{0,1}$ 也相同）。FWT 就是這兩項的平均。這**不**代表先學的任務對
# 「學會」task $j$ 沒有幫助：FWT 只看訓練 task $j$ 之前。新的 permutation 對模型像雜訊，所有任務又共用一個
# output head：還沒訓練時的 accuracy 本來就只在亂猜的水準上下（上面的 $b_j$ 也是），甚至更低。

# %% [markdown]
# ### Intransigence：forgetting 的另一面
#
# Forgetting 只看舊任務保住多少；一個什麼都不學的模型完全不會遺忘。Chaudhry et al. (2018) 因此同時定義
# **intransigence**（新任務學不好的程度）：
#
# $$I_j = a^*_j - R_{j,j}$$
#
# 其中 $a^*_j$ 是一個參考模型在 task $j$ 上的 accuracy：它用 task $0..j$ 的全部資料一起訓練。$I_j$ 大，表示這個方法
# 學完 task $j$ 時就已經比參考模型差：問題不在事後忘記，而是一開始就沒學好。

# %% [markdown]
# 論文的參考模型每次從頭訓練；這裡用上面 joint run 的對角線 $R^{\text{joint}}_{j,j}$ 代替
# （`metrics.intransigence_per_task`），差別是它每個階段從前一個階段繼續訓練（warm start）。另外，參考模型在
# task $j$ 的階段用 $j+1$ 個任務的資料訓練同樣多的 epochs，optimizer steps 比 naive 多（下面印出），所以 $I_j$
# 裡也有一部分是資料量與計算量的差別。比較計算量要數 optimizer steps，不要看 2.4 節表格的 seconds：那是實際經過的
# 時間（wall-clock，包含每個 epoch 後的評估），會受機器當時的負載、第一次執行時的暖機（warm-up）等影響，
# 所以表格裡 joint 的秒數不一定比 naive 多。task 0 兩個 run 的訓練完全相同，所以 $I_0 = 0$；下面的平均因此分成
# 兩種：對全部 $T$ 個任務平均（含 $I_0 = 0$），以及只對 $j \geq 1$ 平均。

# %%
intr = metrics.intransigence_per_task(R_naive, R_joint)
print("joint R[j, j]:                ", "  ".join(f"{x:6.3f}" for x in np.diag(R_joint)))
print("naive R[j, j]:                ", "  ".join(f"{x:6.3f}" for x in np.diag(R_naive)))
print("naive intransigence per task: ", "  ".join(f"{x:6.3f}" for x in intr))
print(f"naive average intransigence: over all {len(intr)} tasks (with I_0 = 0) {intr.mean():.3f}, "
      f"over j >= 1 {intr[1:].mean():.3f}; average forgetting {naive.summary()['forgetting']:.3f}")
steps = {r.method: np.diff(r.task_boundaries + [int(r.steps[-1])]) for r in runs}
print("optimizer steps per stage:", {name: s.tolist() for name, s in steps.items()})
course.expect(abs(intr[0]) < 1e-6, "task 0 的 intransigence 是 0：兩個 run 在 task 0 的訓練相同")
course.expect(steps["joint"][-1] > steps["naive"][-1], "最後一個階段 joint 的 optimizer steps 比 naive 多")
course.expect(intr[1:].mean() < 0.5 * naive.summary()["forgetting"],
              "naive 的平均 intransigence 比平均 forgetting 小得多", full_only=True)
course.expect(abs(intr[1]) < 0.02 and intr[2] > 0.01,
              "task 1 剛學完時兩個 run 差不多；task 2 剛學完時 naive 比 joint 低", full_only=True)

# %% [markdown]
# naive fine-tuning 的平均 intransigence（兩種平均都是）比它的平均 forgetting 小得多：它大致學得會新任務，主要的問題是事後的遺忘。
# 但不是全部：task 1 剛學完時兩個 run 差不多，task 2 剛學完時 naive 比 joint 低（上面印出的 $I_2$）；
# 這個差距有一部分來自 joint 在這個階段多用的資料與 optimizer steps，不全是 naive 學不好。
#
# 對抗遺忘的方法往往把權重拉住不讓它動，forgetting 變小、intransigence 卻可能變大：這正是第 1 章的
# stability–plasticity dilemma 的兩端。所以比較方法時，forgetting 和「剛學完時學得多好」要一起看。

# %% [markdown]
# ## 小結
#
# - 一個實驗的完整紀錄是 accuracy matrix $R$ 加上 $b$；ACC、forgetting、BWT、FWT 都由它算出來。
# - ACC 高不代表沒遺忘（可能只是最後一個任務很好）；要同時看 forgetting / BWT。
# - 報告 forgetting 時寫明定義（max 或「剛學完」）、分母（$T$ 或 $T-1$）、是否按樣本數加權。
#   max 的定義永遠 $\geq$「剛學完」的（joint 的 task 0 就是兩者不同的例子）；history 通常 $\geq$ max，
#   例外是 max 取到 task $j$ 還沒訓練時的列（這門課的延伸，論文不看那些列）。history 永遠 $\geq 0$。
# - FWT 只看還沒訓練 task $j$ 時比隨機初始化好多少；在 permuted MNIST 上它接近 0。
# - forgetting 小不代表方法好：還要看 intransigence（新任務學不好的程度：剛學完時比參考模型差多少）。
# - joint training 幾乎不遺忘，max 與「剛學完」的 forgetting 甚至可以是負的（上面的 joint 就是）：學後面的任務時，
#   前面任務的資料還在訓練裡，它們可能反而變好。joint 常被當作 ACC 的參考點（文獻稱 upper bound，通常指從頭訓練的
#   offline joint；這一章的是每個階段 warm start 的 cumulative joint），但它不是定理上的上界，也不是每個指標都比較好。

# %% [markdown]
# 下一章：第一個對抗遺忘的方法，**EWC**。

# %% [markdown]
# ## 延伸閱讀
#
# - D. Lopez-Paz, M. Ranzato. Gradient episodic memory for continual learning.
#   [arXiv:1706.08840](https://arxiv.org/abs/1706.08840), 2017.（ACC、BWT、FWT 的定義）
# - A. Chaudhry, P. K. Dokania, T. Ajanthan, P. H. S. Torr. Riemannian walk for incremental learning: understanding
#   forgetting and intransigence. [arXiv:1801.10112](https://arxiv.org/abs/1801.10112), 2018.（以 max 定義的 forgetting）
# - N. Díaz-Rodríguez, V. Lomonaco, D. Filliat, D. Maltoni. Don't forget, there is more than forgetting: new metrics for
#   continual learning. [arXiv:1810.13166](https://arxiv.org/abs/1810.13166), 2018.

# %% [markdown]
# 李宏毅老師的課程與作業：
#
# - 李宏毅，機器學習 2021 春，Life-long Learning：[課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)
#   （第一講講到怎麼評估，包含這裡的 accuracy matrix 與 BWT、FWT）。
# - 作業：[ML 2022 春 HW14](https://speech.ee.ntu.edu.tw/~hylee/ml/2022-spring.php) 畫的正是這一章的 accuracy matrix。
#   [NTU ML 2025 春 HW6](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php)（也是
#   [GenAI-ML 2025 秋 HW8](https://speech.ee.ntu.edu.tw/~hylee/GenAI-ML/2025-fall.php)）用 LoRA 在 GSM8K 上
#   fine-tune Llama-3.2-1B-Instruct，兩個數字都要過門檻：GSM8K accuracy（新任務學得多好）與 safety rate（guard model
#   判斷回答是否安全：原本的安全行為保住多少）。這正是這一章的兩面：學會新任務，又不忘記舊的。

# %%
course.run_time()
