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
# 資料：permuted MNIST 的每個任務都取 MNIST training set **最前面**的 `train_size` 張圖（2.4 節設成 5,000），
# 測試用 MNIST test set **最前面**的 `test_size` 張（2.4 節設成 1,000）；2.4 節會印出每個任務實際的張數。
# `cl_helpers` 依序在兩個資料夾找 MNIST：環境變數 `$CL_HELPERS_DATA` 指的資料夾，和預設的快取資料夾
# （`$XDG_CACHE_HOME/cl_helpers`；沒設 `XDG_CACHE_HOME` 時是 `~/.cache/cl_helpers`）。資料夾裡要是 torchvision 的格式：
# `MNIST/raw/` 底下 training 與 test 的四個 `*-ubyte` 檔。都找不到就下載完整的 MNIST 到其中的第一個（有設
# `$CL_HELPERS_DATA` 時就是它，否則是快取資料夾）；離線又沒有資料時，改用 scikit-learn 內建的 digits
# （8×8 的手寫數字，會印出提示，數字也會和存下來的輸出不同）。
#
# 存下來的輸出是在作者的機器上跑的：那裡的 `$CL_HELPERS_DATA` 指向一個 MNIST 子集（training set 最前面的 6,309 張，
# 加上完整的 test set）。這個子集**沒有**放在 repository 裡；這一章用到的圖都在其中，所以你下載的完整 MNIST
# 給出同一批圖（2.4 節印出的 `source` 說明這次用的是哪一份資料）。
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
# 這門課的任務從 0 編號（task $0, \dots, T-1$），$R$ 的列與欄也一樣；論文從 1 編號，所以論文的 $R_{T,j}$
# 就是這裡的 $R_{T-1,j}$，讀論文時要換算。下面是一個 3 個任務的小例子：

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
# | **Forgetting** $f_j$（Chaudhry et al. (2018) 的延伸，見 2.3 節） | $\max_{l<T-1} R_{l,j} - R_{T-1,j}$，對 $j<T-1$ 平均（$\max$ 取最後一列之前的每一列；論文只取 task $j$ 學完之後的列，原因見 2.3 節最後） |
# | **BWT**（backward transfer，Lopez-Paz & Ranzato (2017)） | $\frac{1}{T-1}\sum_{j<T-1} (R_{T-1,j} - R_{j,j})$ |
# | **FWT**（forward transfer，Lopez-Paz & Ranzato (2017)） | $\frac{1}{T-1}\sum_{j>0} (R_{j-1,j} - b_j)$ |

# %% [markdown]
# - BWT < 0 表示學完所有任務後，舊任務比剛學完時差（遺忘）；BWT > 0 表示舊任務反而變好。Lopez-Paz & Ranzato (2017)
#   把 BWT > 0 讀成「學新任務幫了舊任務」，前提是舊任務的資料不再拿來訓練（2.4 節的 joint 就不符合這個前提）。
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
              "手算例子的 forgetting 平均與 BWT 的關係和下面的說明一致")

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
# 卡住了？先執行下一個（檢查）cell，還沒寫完也可以執行；之後 `forgetting_exercise.hint(1)`、`bwt_exercise.hint(1)`
# 一步一步給提示，最後一步印出解答。
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
# 本身沒有錯；但這一章的定義也取 task $j$ 訓練前的列，檢查器會提醒你（差別在 2.3 節）。

# %% [markdown]
# ## 2.3 三種 forgetting：max、「剛學完」、history
#
# 文獻與工具裡有兩種常被混用的定義；這一章一律用下面粗體的名稱稱呼它們：
# - **max**（依 Chaudhry et al. (2018)，`metrics.forgetting_per_task`）：$\max_{l<T-1} R_{l,j} - R_{T-1,j}$，
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
rows = {"max (course)": metrics.forgetting_per_task(R2),
        "since learned": metrics.forgetting_since_learned(R2),
        "BWT terms R[T-1,j]-R[j,j]": [R2[T2 - 1, j] - R2[j, j] for j in range(T2 - 1)]}
for label, values in rows.items():
    print(f"{label + ':':<27}" + "  ".join(f"{x:5.2f}" for x in values))

# %% [markdown]
# 這個 $R_2$ 有 4 個任務，前兩欄是兩種不同的情形：
# - **task 0**：上面的問題多了一列，$0.80 \to 0.95 \to 0.90 \to 0.85$，計算方式不變。max 是 $0.95 - 0.85 = 0.10$
#   （確實從最好時掉了 10 個百分點）；「剛學完」是 $0.80 - 0.85 = -0.05$（看起來沒忘，甚至變好）。
# - **task 1**：$0.80 \to 0.95 \to 0.70$，最後比剛學完時差（它的 BWT 項是負的），兩種定義仍然不同：
#   max 是 $0.95 - 0.70 = 0.25$，「剛學完」只有 $0.80 - 0.70 = 0.10$。
#
# 報告數字時一定要說清楚用哪一個。另外，Avalanche 的 stream accuracy 以樣本數加權，這裡的 ACC 是每個任務等權平均；
# 這一章每個任務的 test set 一樣大（`make_stream` 的 `test_size`），所以兩者相同。

# %% [markdown]
# 第三種是 **history**（`metrics.history_forgetting`）：從 task $j$ 開始訓練之後，**每個 epoch** 都評估一次，
# 取這整段紀錄的最大值，再減掉最後一次評估的 accuracy。三者的大小關係，對每個 $j < T-1$：
# - **max $\geq$「剛學完」，永遠成立**：max 取的列包含 $l = j$，所以 $\max_{l<T-1} R_{l,j} \geq R_{j,j}$。
#   只有在最好的那一列就是剛學完時，兩者才相等。
# - **history $\geq$ max，通常成立**：naive 與 joint 的 $R$ 的一列，就等於那個任務最後一個 epoch 的評估，
#   所以 history 看得到 max 看的每一列（$l \geq j$ 的），再加上兩個任務結束之間的評估。最好的時候若落在兩個任務的
#   結束之間（例如 task $j$ 自己的第 2 個 epoch 比第 3 個好，或舊任務在下一個任務的第 1 個 epoch 後最好），history 就比 max 大。
# - **正負號**：history 的紀錄包含最後一次評估，所以 history 永遠 $\geq 0$。「剛學完」只要最後一列比剛學完時好
#   （$R_{T-1,j} > R_{j,j}$）就是負的；max 則要最後一列比之前每一列都好，才是負的。

# %% [markdown]
# 「history $\geq$ max」有兩個例外，兩種情形下 max 都可能比 history 大：
# - **max 看 task $j$ 還沒訓練時的列**：`cl_helpers` 的 max 也取 $l < j$ 的列，history 不看。若 task $j$ 訓練前的
#   某一列比之後任何時候都高，max 就比 history 大。
# - **策略在任務結束時又改動模型**：`train_stream` 在策略的 `after_task` 之後才評估 $R$ 的一列。naive 與 joint
#   在那裡不改模型；第 7 章的 PackNet 則在那裡剪枝（prune）再重新訓練，$R$ 的列就不在每個 epoch 的紀錄裡。

# %% [markdown]
# 第一個例外來自這門課的延伸，不是論文的寫法：Chaudhry et al. (2018) 只對已經學過的任務定義 accuracy
# $a_{l,j}$（$l \geq j$），所以論文的 max 只看 $l \geq j$ 的列。兩種讀法只在一種情形下給出不同的數字：task $j$
# 還沒訓練時的某一列，比 $R_{j,j}$ 以及之後（最後一列之前）的每一列都高；也就是說，訓練 task $j$ 本身之後，
# 它的 accuracy 反而比訓練前的某一列低。2.4 節的 permuted MNIST run 沒有這樣（下面印出的 best row after task $j$
# 會顯示）：不同的 permutation 彼此毫不相像，還沒訓練的任務上 accuracy 很低。
# rotated MNIST 和 permuted MNIST 一樣是 domain-incremental 的 stream，但不同角度的圖彼此很像，task $j$ 還沒訓練時
# 就可能已經不錯。即使如此，訓練 task $j$ 通常還是會讓它更高，所以兩種讀法不同的情形在那裡也不常見
# （這門課沒有跑這個例子）。

# %% [markdown]
# ## 2.4 真實實驗：permuted MNIST
#
# 用第 1 章的設定跑兩個 run：naive fine-tuning，和 joint training（每個階段都用目前為止所有任務的資料訓練）。
# task 0 是原本的 MNIST（像素沒有打亂），之後每個任務各用一個固定的隨機 permutation 打亂像素。先猜猜看：

# %%
ask("joint training 每個階段都用目前為止所有任務的資料訓練。它的 average forgetting 會是多少？",
    ["和 naive 差不多：模型還是一直在改", "接近 0", "比 naive 大：資料越多越容易互相干擾"],
    answer=1, key="ch2-joint",
    explain="舊任務的資料一直都在訓練資料裡，每一步都同時照顧所有任務，所以舊任務幾乎不會變差。"
            "continual learning 的方法不能存下所有舊資料；joint 沒有這個限制，因此常被拿來當參考點（下面再談）。")

# %%
# pick(full, fast): the first value in full mode, the second in fast mode (CL_FAST=1)
stream = make_stream("permuted", n_tasks=3, train_size=pick(5000, 1000), test_size=pick(1000, 500),
                     seed=0, device=device)
runs = [train_stream(stream, method, epochs=pick(3, 1)) for method in ("naive", "joint")]
print(stream.source)
print("images per task: train", [len(task.y_train) for task in stream], "test", [len(task.y_test) for task in stream])
print(format_table(runs))
course.expect(runs[1].summary()["forgetting"] < 0.03 < runs[0].summary()["forgetting"],
              "兩個 run 的 forgetting 和上面猜題的答案一致")
course.expect(runs[1].summary()["acc"] > runs[0].summary()["acc"], "joint 的 ACC 比 naive 高")
course.expect(len({len(task.y_test) for task in stream}) == 1, "每個任務的 test set 一樣大")
course.expect(runs[1].summary()["fwt"] < runs[0].summary()["fwt"] + 0.01, "joint 的 FWT 沒有明顯比 naive 高",
              full_only=True)
course.expect(0 < runs[1].summary()["bwt"] < 0.03, "joint 的 BWT 是正的，但很小", full_only=True)

# %% [markdown]
# joint 沒有 continual learning 的限制：每個階段都看得到目前為止所有任務的資料。所以它常被拿來當 **ACC 的參考點**，
# 文獻常叫它 upper bound；上表裡它的 ACC 也比 naive 高。但這不是定理：一次實驗裡 joint 比 naive 好，不代表它是上界；
# 而且文獻的 joint 通常是用全部任務的資料從頭訓練一次（offline joint），這一章的 joint 則是每個階段接著前一個階段、
# 用累積的資料繼續訓練（cumulative, warm start）。
# joint 也不是每個指標都比較好：上表的 FWT，以及 task 1 剛學完時的 accuracy（對角線的 $R_{1,1}$；圖上的格子只到
# 小數第二位，要看圖下面印出的矩陣），joint 都沒有明顯比 naive 高。
# 上表 joint 的 BWT 是正的，但這不是 Lopez-Paz & Ranzato 說的「學新任務幫了舊任務」：joint 每個階段仍用舊任務
# 自己的資料繼續訓練，舊任務變好可以只是因為它們自己的資料多訓練了幾輪（差距也很小，見 intransigence 之後對雜訊的說明）。
# 下面是兩個 run 的 accuracy matrix：

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
# 再把三種 forgetting 放在一起，兩個 run 各看一次。history 要用每個 epoch 的評估：`r.curve_acc[0]` 是開始訓練前
# （隨機初始化時）的評估，也就是 $b$；之後 `train_stream` 在每個 epoch 結束時評估所有任務，`r.curve_acc[k, j]`
# 是第 $k$ 個 epoch 結束時 task $j$ 的 accuracy（epoch 跨任務連續編號，每個任務 $E$ 個 epoch，所以第 $k$ 個 epoch
# 屬於 task $\lfloor (k-1)/E \rfloor$）。`r.steps[k]` 是那時做過的 optimizer steps，`r.task_boundaries[j]` 是 task $j$
# 開始訓練時的 step。下面也印出每個舊任務最好的 accuracy 出現在哪一列（max 取到哪一列），以及在每個 epoch
# 的紀錄裡最好的一次出現在訓練哪個任務的第幾個 epoch：

# %%
three = {r.method: (metrics.forgetting_per_task(r.acc_matrix), metrics.forgetting_since_learned(r.acc_matrix),
                    metrics.history_forgetting(r.curve_acc, r.task_boundaries, r.steps)) for r in runs}
peak = {}  # (method, task j) -> the evaluation k with the best accuracy on task j since its training began
for r in runs:
    Rr, (mx, since, hist), E = r.acc_matrix, three[r.method], r.config["epochs"]
    print(f"{r.method}: max (course) {' '.join(f'{x:.3f}' for x in mx)}  since learned "
          f"{' '.join(f'{x:.3f}' for x in since)}  history (per epoch) {' '.join(f'{x:.3f}' for x in hist)}")
    for j in range(len(Rr) - 1):
        best = int(Rr[:-1, j].argmax())                        # the row max picks
        seen = np.flatnonzero(r.steps > r.task_boundaries[j])  # evaluations since task j began training
        k = int(seen[r.curve_acc[seen, j].argmax()])           # the best of them; evaluation 0 is the init
        peak[r.method, j] = k
        print(f"  task {j}: best row after task {best} ({Rr[best, j]:.3f}), final {Rr[-1, j]:.3f}, best at any epoch "
              f"{r.curve_acc[k, j]:.3f} (while training task {(k - 1) // E}, epoch {(k - 1) % E + 1} of {E})")
(mx_n, since_n, hist_n), (mx_j, since_j, hist_j) = three["naive"], three["joint"]
course.expect(all(np.allclose(r.acc_matrix, r.curve_acc[r.config["epochs"]::r.config["epochs"]]) for r in runs),
              "naive 與 joint 的 R 的每一列，都等於那個任務最後一個 epoch 的評估")
course.expect(np.all(mx_n >= since_n - 1e-9) and np.all(mx_j >= since_j - 1e-9), "max 的 forgetting 不小於「剛學完」的")
course.expect(np.allclose(mx_n, since_n) and np.allclose(mx_n, hist_n)
              and all(int(R_naive[:-1, j].argmax()) == j for j in range(len(R_naive) - 1)),
              "naive 的三種 forgetting 相同：每個任務最好的時候就是剛學完時", full_only=True)
course.expect(all(int(r.acc_matrix[:-1, j].argmax()) >= j for r in runs for j in range(len(R_naive) - 1)),
              "max 從不取在 task j 還沒訓練的列：論文與 cl_helpers 的讀法在這裡相同")
course.expect(since_j[0] < mx_j[0] < hist_j[0], "joint 的 task 0：「剛學完」< max < history", full_only=True)
course.expect(joint.curve_acc[peak["joint", 0], 0] > R_joint[:, 0].max(),
              "joint 的 task 0 在任務中途的某個 epoch，一度高於 R 這一欄的每一格", full_only=True)
course.expect(R_joint[0, 1] < R_joint[1, 1] and np.isclose(mx_j[1], since_j[1]),
              "joint 的 task 1：還沒訓練時的 R[0,1] 比 R[1,1] 低，max 與「剛學完」相同")
course.expect(np.all(mx_j < 0) and np.all(np.abs(mx_j) < 0.01),
              "joint 的 max forgetting 是負的，但絕對值都不到 0.01", full_only=True)

# %% [markdown]
# **naive**：三種定義給出一樣的數字。每個舊任務最好的那一列就是剛學完時（best row after task $j$），之後每個 epoch
# 的評估也沒有更高的點，所以 max 都取在 $R_{j,j}$。
#
# **joint** 的 task 0 正好是三者都不同的例子：學完 task 1 之後它比剛學完時還好，最大值落在後面的列，所以 max 比
# 「剛學完」大；在任務中途的某個 epoch（上面印出的 best at any epoch：訓練哪個任務的第幾個 epoch），它一度高於
# $R$ 這一欄的每一格，history 看得到這一點，所以又比 max 大。joint 的 task 1 則只有兩列可取（還沒訓練時，和剛學完時），
# 而還沒訓練時的 $R_{0,1}$ 比 $R_{1,1}$ 低，所以 max 與「剛學完」相同（若還沒訓練時反而比較高，max 就會取到那一列）。
# 上面表格裡 joint 的 forgetting 與 BWT 不再互為相反數，原因也在 task 0：表格的 forgetting 是 max 的平均，BWT 是
# 「剛學完」的平均加上負號，而 joint 的 task 0 兩者不同。
# joint 的 max forgetting 是負的：最後一列比之前每一列都好。不過它的絕對值都不到 0.01（每個任務 1,000 張 test 圖裡
# 不到 10 張），又只跑了一個 seed，可能只是雜訊；這裡只拿這些數字說明定義，不當成 joint 的性質。
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
course.expect(abs(naive.init_acc[1] - naive.init_acc[2]) > 0.02, "b_1 與 b_2 差了不只 0.02", full_only=True)

# %% [markdown]
# 兩個 run 的 FWT 都小於 0，而且差不多：先學過的 permutation 沒有讓模型在新的 permutation 上猜得比較準。
# 看上面印出的每一格：task 2 的 $R_{1,2}$ 和 $b_2$ 差不多；task 1 則明顯比 $b_1$ 低，$R_{0,1}$ 甚至比 10 個類別亂猜的
# 0.1 還低（兩個 run 在 task 0 的訓練相同，所以 $R_{0,1}$ 也相同）。FWT 就是這兩項的平均，主要來自 task 1 那一項。
# 這**不**代表先學的任務對「學會」task $j$ 沒有幫助：FWT 只看訓練 task $j$ 之前。新的 permutation 對模型而言就像雜訊，
# 還沒訓練的任務上 accuracy 都很低（上面的矩陣，對角線以上）；至於 $R_{0,1}$ 為什麼比亂猜還低，上面的輸出沒有回答。
#
# 也別把 FWT 的正負號當成 permuted MNIST 的性質：$b_j$ 是同一個沒訓練過的模型在亂猜附近的 accuracy，本身就隨任務
# 跳動（上面印出的 $b_1$ 與 $b_2$ 差了不只 0.02）；只跑一個隨機初始化，分不出 FWT 是真的小於 0，還是雜訊。

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
# task $j$ 的階段用 task $0..j$ 的資料訓練同樣多的 epochs：task 0 的階段和 naive 完全相同；$j \geq 1$ 時每個 epoch
# 的資料是 naive 的 $j+1$ 倍，optimizer steps 也大約是 $j+1$ 倍（下面印出；不剛好是，因為每個 epoch 最後一個 batch
# 可能不滿）。所以 $I_j$ 裡也有一部分是資料量與計算量的差別。比較計算量要數 optimizer steps，不要看上面表格的
# seconds：那是實際經過的時間（wall-clock，包含每個 epoch 後的評估），還會受機器當時的負載、第一次執行時的暖機
# （warm-up）等影響。下面把 joint 對 naive 的 seconds 比與 optimizer steps 比並列印出：換一台機器或換個時間執行，
# seconds 比就可能不同，steps 比則不變。task 0 兩個 run 的訓練完全相同，所以 $I_0 = 0$；下面的平均因此分成
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
print(f"joint / naive over the whole run: optimizer steps {steps['joint'].sum() / steps['naive'].sum():.1f}x, "
      f"seconds {joint.seconds / naive.seconds:.1f}x")
n_test, p = len(stream[0].y_test), np.diag(R_naive).mean()
se = np.sqrt(p * (1 - p) / n_test)  # binomial standard error of one accuracy measured on n_test images
print(f"standard error of one accuracy near {p:.2f} on {n_test} test images: {se:.3f}; "
      f"I_2 = {intr[2] / se:.1f} standard errors")
course.expect(abs(intr[0]) < 1e-6, "task 0 的 intransigence 是 0：兩個 run 在 task 0 的訓練相同")
course.expect(np.allclose(steps["joint"] / steps["naive"], np.arange(1, len(intr) + 1), rtol=0.05),
              "joint 在 task j 的階段，optimizer steps 大約是 naive 的 j+1 倍（task 0 相同）")
course.expect(intr[2] < 4 * se, "I_2 只有上面印出的標準誤的幾倍", full_only=True)
course.expect(intr[1:].mean() < 0.5 * naive.summary()["forgetting"],
              "naive 的平均 intransigence 比平均 forgetting 小得多", full_only=True)
course.expect(abs(intr[1]) < 0.02 and intr[2] > 0.01,
              "task 1 剛學完時兩個 run 差不多；task 2 剛學完時 naive 比 joint 低", full_only=True)

# %% [markdown]
# naive fine-tuning 的平均 intransigence（兩種平均都是）比它的平均 forgetting 小得多：它大致學得會新任務，主要的問題是事後的遺忘。
# 但不是全部：task 1 剛學完時兩個 run 差不多，task 2 剛學完時 naive 比 joint 低（上面印出的 $I_2$）。
# 先別急著解釋這個差距：每個任務的 test 圖是有限的，一格 accuracy 本身就有上面印出的標準誤（standard error），
# $I_2$ 只有它的幾倍，又只跑了一個 seed，這個差距可能只是雜訊；要下結論，得先換幾個 seed 重跑。
# 就算差距是真的，只憑這兩個 run 也無法判斷它從何而來：可能是 naive 學新任務的能力變差了，也可能只是 joint 在這個
# 階段多用了資料與 optimizer steps（上面印出的 steps），或兩者都有。
#
# 有些對抗遺忘的方法（例如第 3 章 EWC 這類 regularization 方法）把權重拉住不讓它動，forgetting 變小、
# intransigence 卻可能變大：這就是第 1 章提過、第 3 章會實際看到的 stability–plasticity dilemma 的兩端。所以比較方法時，forgetting 和「剛學完時學得多好」要一起看。

# %% [markdown]
# ## 小結
#
# - ACC、forgetting（max 與「剛學完」）、BWT 只要 accuracy matrix $R$，FWT 再加上 $b$；history forgetting 還要
#   每個 epoch 的評估（`curve_acc`），intransigence 還要一個參考 run。
# - ACC 把兩件事混在一起：每個任務學得多好，和之後忘了多少。所以要同時看 forgetting / BWT（2.4 節的表格把兩者並列）。
# - 報告 forgetting 時寫明定義（max 或「剛學完」）、分母（$T$ 或 $T-1$）、是否按樣本數加權。
#   max 永遠 $\geq$「剛學完」（joint 的 task 0 就是兩者不同的例子）；history 通常 $\geq$ max（例外見 2.3 節），
#   而且永遠 $\geq 0$。
# - FWT 只看還沒訓練 task $j$ 時比隨機初始化好多少；這一章的 permuted MNIST 上，兩個 run 的 FWT 都略小於 0，
#   但 $b_j$ 本身就會跳動，這麼小的實驗裡這個正負號沒有意義。

# %% [markdown]
# 再加上 intransigence 與 joint 這兩個參考點：
# - forgetting 小不代表方法好：還要看 intransigence（新任務學不好的程度：剛學完時比參考模型差多少）。
# - joint training 幾乎不遺忘，max 與「剛學完」的 forgetting 甚至可以是負的（上面的 joint 就是，只是差距小到可能只是雜訊）：學後面的任務時，
#   前面任務的資料還在訓練裡，它們可能反而變好。joint 常被當作 ACC 的參考點，但不是每個指標都比較好
#   （upper bound 這個說法的限制見 2.4 節）。

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
#   continual learning. [arXiv:1810.13166](https://arxiv.org/abs/1810.13166), 2018.（另一套寫法：ACC、BWT 不只看
#   最後一列，而是對 $R$ 下三角的所有格子或所有配對平均，另外加上模型大小、記憶體、計算量等指標；引用數字前先看用的是哪一套）

# %% [markdown]
# 李宏毅老師的課程與作業：
#
# - 李宏毅，機器學習 2021 春，Life-long Learning：[課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)
#   （第一講講到怎麼評估，包含這裡的 accuracy matrix 與 BWT、FWT）。
# - 作業：[ML 2022 春 HW14](https://speech.ee.ntu.edu.tw/~hylee/ml/2022-spring.php) 畫的正是這一章的 accuracy matrix。
#   [NTU ML 2025 春 HW6](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php)（也是
#   [GenAI-ML 2025 秋 HW8](https://speech.ee.ntu.edu.tw/~hylee/GenAI-ML/2025-fall.php)）用 LoRA 在 GSM8K 上
#   fine-tune Llama-3.2-1B-Instruct，兩個數字都要過門檻：GSM8K accuracy（新任務學得多好）與 safety rate（guard model
#   判斷回答是否安全：原本的安全行為保住多少）。這正是這一章的 intransigence 與 forgetting 兩面：學會新任務，又不忘記舊的。

# %%
course.run_time()
