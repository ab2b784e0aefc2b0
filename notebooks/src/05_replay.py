# %% [markdown]
# # 第 5 章：Replay 與三大類方法 (Experience Replay)
#
# 前兩章的 EWC 與 LoRA 各自代表一類方法。這一章先把 continual learning 的方法整理成三大類，
# 再深入第二類：**replay**（重播舊資料）。**這一章你會學到：**
# 1. 三大類方法：regularization、replay、architecture，以及它們在記憶體、新任務、舊任務之間的取捨；
# 2. **Experience replay** 與 **reservoir sampling**：固定大小的記憶體，如何公平地保留整條資料流；
# 3. 練習：自己寫 reservoir sampling（有自動檢查），並看看課程原本 notebook 的 bug 會造成什麼；
# 4. **Class-incremental split MNIST**：EWC、SI 和 naive 一樣停在約 0.2，replay 卻高得多；同樣的 EWC、SI 在
#    **task-incremental** 情境（同一份資料）卻幾乎不遺忘。這是本章最重要、也最令人意外的結果；
# 5. 用 slider 調 buffer size，看記憶體大小與遺忘的關係；
# 6. 簡介 **A-GEM** 與 **LwF**，各跑一次。
#
# 資料：split MNIST 每兩個數字取訓練集最前面的 1,100 張圖（測試 1,000 張），課程附的 MNIST 子集（前 6,309 張）
# 與完整 MNIST 結果相同。完整 MNIST 每兩個數字約有 12,000 張；用全部的資料，replay 的數字會更高（見 5.3 節的文獻值）。
#
# ⏱️ 執行時間（full mode，實測）：2-core CPU 約 36 秒。本次沒有 GPU 可測；模型很小，CPU 就夠了。

# %%
# 環境設定 / Setup：同一個 cell 在 JupyterLab 與 Colab 都能用。
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install cl_helpers from the course repository (torch/ipywidgets untouched)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/__REPO__"], check=True)

import matplotlib.pyplot as plt
from cl_helpers import course, make_stream, train_stream, get_strategy, run_methods, TrainConfig, plots, format_table
from cl_helpers.teaching.course import pick

device = course.setup(seed=0)

# %% [markdown]
# ## 5.1 三大類方法
#
# 面對 catastrophic forgetting，文獻中的方法大致分成三類（例如 De Lange et al. 2021 的綜述）：
#
# | 類別 | 核心想法 | 例子 | 額外記憶體 | 新任務（plasticity） | 舊任務（stability） | 限制 |
# |---|---|---|---|---|---|---|
# | **Regularization** | 在 loss 加一項，保護對舊任務重要的參數（或舊模型的輸出） | EWC、SI、MAS（參數）；LwF（輸出） | 每個參數一個重要性與一個 anchor，與資料量無關；不存任何資料 | 被 penalty 拉住，強度 $\lambda$ / $c$ 越大學得越少 | task- / domain-incremental 有效；**class-incremental 幾乎無效** | 只看得到舊任務「自己內部」的區分 |
# | **Replay** | 存一小部分舊資料（或用生成模型產生），和新資料一起訓練 | Experience replay、A-GEM、GEM、iCaRL、generative replay | buffer：$M$ 個樣本（$M \times$ 輸入大小） | 幾乎不受限；每步的計算約兩倍 | 三種情境都有效，$M$ 越大越好 | 要存原始資料（隱私、儲存） |
# | **Architecture** | 每個任務用（部分）不同的參數，舊參數凍結 | Progressive Networks、PackNet、每個任務一個 LoRA adapter | 隨任務數成長（每個任務一組 adapter） | 受新參數的容量（例如 LoRA rank）限制 | 舊參數不變：知道 task id 時**完全不遺忘** | 測試時通常需要 task id |
#
# 這三類不互斥：實務上常見 replay + regularization（例如 replay 加上 distillation）。
# 這一章的結論之一是：**在 class-incremental 情境中，replay 是三者裡唯一真正有效的**。

# %% [markdown]
# ## 5.2 Experience replay
#
# 想法非常簡單：學 task $t$ 時，保留一個固定大小的 **replay buffer**，裡面是 task $0, \dots, t-1$ 的一些樣本。
# 每個 mini-batch 都附加一個從 buffer 均勻抽出的 replay batch（大小和目前的 batch 一樣），loss 是兩者合起來的 cross-entropy：
#
# $$\mathcal{L} = \frac{1}{|B| + |B_M|} \sum_{(x, y) \in B \,\cup\, B_M} \ell\big(f_\theta(x), y\big),$$
#
# 其中 $B$ 是目前任務的 mini-batch，$B_M$ 是從 buffer 抽出的 replay batch，$\ell$ 是 cross-entropy。
#
# `cl_helpers` 的 `replay` strategy 就是這樣：每個任務結束時，把該任務的訓練樣本依序「提供」給 buffer
# （`cl_helpers.buffer.ReplayBuffer`），由 buffer 決定留下哪些。問題是：**buffer 滿了以後，該丟掉誰？**
#
# ### Reservoir sampling（Vitter 1985, algorithm R）
#
# 資料是一條長度未知的 stream，記憶體只能放 $M$ 個。我們希望任何時刻，buffer 都是「到目前為止所有樣本」的
# **均勻隨機樣本**：每個看過的樣本留在 buffer 裡的機率都相同。做法：第 $n$ 個樣本（$n = 0, 1, 2, \dots$）來的時候，
#
# - 如果 buffer 還沒滿（$n < M$）：直接放進去；
# - 否則：抽一個均勻整數 $j \in \{0, 1, \dots, n\}$（共 $n+1$ 個值，**包含新樣本自己**）；若 $j < M$，用新樣本取代 buffer 第 $j$ 格，否則丟掉新樣本。
#
# 為什麼是均勻的？用歸納法：假設看完 $n$ 個樣本後，每個都以機率 $M/n$ 在 buffer 裡。第 $n$ 個（新）樣本被留下的機率是
# $M/(n+1)$；一個舊樣本要繼續留著，必須「新樣本沒被留下，或被留下但沒剛好取代它」：
# $$\frac{M}{n}\left(1 - \frac{M}{n+1}\cdot\frac{1}{M}\right) = \frac{M}{n}\cdot\frac{n}{n+1} = \frac{M}{n+1}.$$
# 所以看完 $n+1$ 個樣本後，每個樣本留下的機率都是 $M/(n+1)$。
#
# **課程原本 notebook 的 bug**：它的 `add_task_samples` 一加完這個任務的 `num_samples` 個樣本就 `return`，
# 後面負責把 buffer 縮回容量的 eviction 迴圈**永遠執行不到**。結果 buffer 每個任務都變大，**超過**它的容量 $M$，
# 而且（另一個 bug）訓練時從來沒有用到這個 buffer：所謂的 replay 其實就是 naive fine-tuning。

# %% [markdown]
# ## 練習 5.1：reservoir sampling
#
# 完成 `reservoir_add`：把 stream 中的第 `n_seen` 個 item（從 0 開始數）提供給 `buffer`（一個 Python list），
# **直接修改** `buffer`（in place），不回傳任何東西。`rand_int(n)` 會回傳 $[0, n)$ 中的一個均勻隨機整數：
# 所有的隨機抽樣都請用它（每個 item 最多抽一次），檢查器會提供固定的 `rand_int`，所以結果是可重現的。
# 卡住了？`reservoir_exercise.hint(1)`、`reservoir_exercise.hint(2)`……最後一步是解答。沒寫完也沒關係，後面會用參考答案。

# %% tags=["exercise"]
def reservoir_add(buffer, capacity, n_seen, item, rand_int):
    """Offer `item`, the stream's item number n_seen (counting from 0), to `buffer` in place (algorithm R)."""
    # BEGIN SOLUTION: Exercise 5.1: reservoir sampling (try reservoir_exercise.hint(1))
    if len(buffer) < capacity:
        buffer.append(item)
    else:
        j = rand_int(n_seen + 1)
        if j < capacity:
            buffer[j] = item
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch05_replay import reservoir_exercise

my_reservoir_add = reservoir_exercise.check(reservoir_add)

# %% [markdown]
# 檢查器會在固定的情況（buffer 還沒滿、滿了且抽到要留下、滿了且抽到要丟掉）與很多條隨機 stream 上比較你的答案，
# 並指出常見錯誤：超過容量（原 notebook 的 bug：一直 append、從不 evict）、滿了就不再取代、每次都取代、
# $n$ 差一（`rand_int(n_seen)`）。
#
# 實際驗證「均勻」：把 item 0..199 依序丟進容量 20 的 buffer，重複很多次，數每個 item 最後留在 buffer 裡的比例。
# 左邊是你的函式（或參考答案），右邊是原 notebook 的行為（加進去就 return，從不 evict）：

# %%
from cl_helpers.experiments.reservoir import keep_frequencies
from cl_helpers.plots import plot_keep_frequencies

def course_notebook_add(buffer, capacity, n_seen, item, rand_int):   # the original notebook's behaviour
    buffer.append(item)   # it returns right after adding, so the eviction that follows never runs

fig, axes = plt.subplots(1, 2, figsize=(13, 3.4), sharey=True)
for fn, ax, name in ((my_reservoir_add, axes[0], "reservoir_add"), (course_notebook_add, axes[1], "never evicts (bug)")):
    freq = keep_frequencies(fn, n_items=200, capacity=20, repeats=pick(1000, 200), seed=0)
    plot_keep_frequencies(freq, capacity=20, ax=ax, title=f"{name}: keep rate of each item")
    buffer = []
    for n in range(200):
        fn(buffer, 20, n, n, lambda k: 0)
    print(f"{name:>20}: items 0-19 kept {freq[:20].mean():.2f}, items 180-199 kept {freq[180:].mean():.2f}, "
          f"buffer holds {len(buffer)} items (capacity 20)")
fig.tight_layout()
plt.show()

# %% [markdown]
# `cl_helpers.buffer.ReplayBuffer` 用的是同一個 algorithm R，只是一次處理整個 batch、而且資料一直留在 device 上
# （`reservoir_slots` 一次抽出整個 batch 的 $j$）。把 split MNIST 的 5 個任務依序放進容量 1000 的 buffer，
# 每個任務結束後 buffer 裡各任務的樣本數應該大致相等（每個任務的訓練樣本數一樣），而且永遠不超過容量：

# %%
from cl_helpers.buffer import ReplayBuffer

SPLIT_TRAIN = pick(1100, 300)   # first images of each digit pair: the same on the course subset and full MNIST
split = make_stream("split", scenario="class", train_size=SPLIT_TRAIN, test_size=pick(1000, 300), device=device)
print(split)
buffer = ReplayBuffer(capacity=1000, policy="reservoir", seed=0)
for task in split:
    buffer.add(task.x_train, task.y_train, task.id)
    print(f"after task {task.id} ({task.name}): {len(buffer)} stored, per task: {buffer.task_counts()}")
counts = buffer.task_counts().values()
course.expect(len(buffer) == 1000 and max(counts) < 1.5 * min(counts), "buffer 不超過容量，而且各任務的樣本數大致相等")

# %% [markdown]
# ## 5.3 Class-incremental split MNIST：regularization 失效，replay 有效
#
# 回到第 1 章最極端的情境：split MNIST，5 個任務 {0,1}, {2,3}, …, {8,9}，**一個 10 類的 head**，
# 測試時不給 task id。比較 naive、EWC、SI（兩個 regularization 方法，用套件預設的強度）與 replay（buffer 1100 個樣本）。
# 同樣的 MLP、同樣的 Adam 設定、每個任務同樣的 epochs。

# %%
from cl_helpers.teaching.quiz import ask

ask("class-incremental split MNIST，5 個任務學完之後：EWC、SI（保護重要的參數）與 replay（存 1,100 個舊樣本）的 ACC 各是多少？",
    ["都接近 0.2：class-incremental 誰都救不了", "EWC、SI 接近 0.2（和 naive 一樣），replay 高得多",
     "三者都遠高於 naive"],
    answer=1, key="ch5-cil",
    explain="EWC、SI 保護的是「對舊任務的 loss 重要」的參數，但舊任務的 loss 從來沒要求模型比較舊類別與新類別，"
            "新的 head 照樣把舊類別壓下去。replay 讓舊類別的樣本和新類別一起出現在 batch 裡，直接學到跨任務的比較。")

# %%
EPOCHS = pick(5, 2)
config = TrainConfig(epochs=EPOCHS)
cil = run_methods(split, ["naive", "ewc", "si", "replay"], config, hparams={"replay": {"buffer_size": 1100}})
print(format_table(cil))
plots.plot_comparison(cil, title="class-incremental split MNIST (5 tasks, one 10-way head)")
plt.show()

# %%
acc = {r.method: r.summary()["acc"] for r in cil}
old_tasks = {r.method: r.acc_matrix[-1, :-1].max() for r in cil}
print(", ".join(f"{m}: ACC {a:.3f} (best old task at the end {old_tasks[m]:.2f})" for m, a in acc.items()))
for m in ("naive", "ewc", "si"):
    course.expect(acc[m] < 0.25 and old_tasks[m] < 0.05, f"{m} 在 class-incremental 中只剩最後一個任務，ACC 約 0.2",
                  full_only=True)
course.expect(acc["replay"] > acc["naive"] + 0.4, "replay 遠高於 naive", full_only=True)
course.expect(acc["replay"] > acc["naive"], "replay 比 naive 好")
fwt = {round(r.summary()["fwt"], 6) for r in cil}
print(f"FWT of every method: {sorted(fwt)}")
course.expect(len(fwt) == 1, "class-incremental 中每個方法的 FWT 都一樣")

# %% [markdown]
# EWC 與 SI 和 naive 幾乎一樣：ACC 約 0.2，而且舊任務全部是 0，只剩最後一個任務有分數（上面印出的數字）。
# replay 則高出很多。這**不是**我們的實作有問題，而是文獻中的標準結果。Hsu et al. (2018) 在完整的 split MNIST 上
# （每兩個數字約 12,000 張訓練圖；我們每兩個數字只用前 1,100 張）得到：
#
# | 方法 | class-incremental split MNIST ACC（Hsu et al. 2018） |
# |---|---|
# | Naive (Adam) | 19.7% |
# | EWC | 19.8% |
# | SI | 19.7% |
# | Naive rehearsal（replay，1100 個樣本） | 90.8% |
#
# van de Ven & Tolias (2019) 的三種情境比較也是同樣的結論：同樣的 EWC、SI，在 task-incremental 情境表現很好，
# 到了 class-incremental 就和 naive 一樣。
#
# **為什麼 regularization 在 class-incremental 會失效？**
# 1. 學 task $k$ 時只有類別 $2k, 2k+1$ 的資料。cross-entropy 會把**所有其他類別**（包括舊類別）的 logits 往下壓，
#    模型學到「答案永遠是最新的兩類之一」。
# 2. EWC / SI 保護的是「對舊任務的 loss 重要」的參數，而舊任務的 loss 只要求分辨 0 和 1，從來沒要求分辨 0 和 8。
#    penalty 能讓舊的特徵留著，但**從來沒有任何 loss 要求模型比較舊類別與新類別**：決定 0 vs 8 的那條界線
#    根本沒被學過，也就沒有東西可以保護。
# 3. Replay 讓舊類別的樣本和新類別的樣本出現在同一個 batch：模型直接學到跨任務的比較。這正是 class-incremental 需要的。
#
# **表中的 FWT 為什麼每個方法都一樣（而且是負的）？** FWT 比較「還沒學 task $j$ 時」的 accuracy $R_{j-1,j}$ 與隨機初始化的
# $b_j$。在 class-incremental 中，task $j$ 的類別在學到它之前從來不是訓練目標，cross-entropy 一直把它們的 logits 往下壓，
# 模型**從不**預測它們：$R_{j-1,j} = 0$，不管用哪個方法。於是 FWT $= -\text{mean}_j\, b_j$，只由（每個方法都相同的）
# 隨機初始化決定。在這個情境中 FWT 量不到任何方法的差別。
#
# 看看 EWC 的最終模型把 task 0（數字 0 和 1）的測試圖片判成什麼：

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 3.4))
plots.plot_predictions(cil[1], task_id=0, ax=axes[0])
plots.plot_predictions(cil[3], task_id=0, ax=axes[1])
fig.tight_layout()
plt.show()

# %% [markdown]
# 左邊（EWC）：0 和 1 都被判成最後學的類別，沒有一張判對。右邊（replay）：大部分仍然是 0 和 1。

# %%
ewc_pred = cil[1].acc_matrix[-1, 0]
course.expect(ewc_pred < 0.05 and cil[3].acc_matrix[-1, 0] > 0.5, "EWC 把 task 0 全部判錯；replay 大部分判對",
              full_only=True)

# %% [markdown]
# ### 同一份資料，換成 task-incremental
#
# 問題出在情境，不在 EWC、SI 本身。同樣的圖片、同樣的訓練順序，只把模型換成每個任務一個 2 類的 head，
# 測試時告訴它 task id（第 1 章的 task-incremental）：

# %%
split_til = make_stream("split", scenario="task", train_size=SPLIT_TRAIN, test_size=pick(1000, 300), device=device)
til = run_methods(split_til, ["naive", "ewc", "si"], config)
print(f"{'method':<8}{'task-IL ACC':>13}{'class-IL ACC':>14}")
for t_run, c_run in zip(til, cil):
    print(f"{t_run.method:<8}{t_run.summary()['acc']:>13.3f}{c_run.summary()['acc']:>14.3f}")
til_acc = {r.method: r.summary()["acc"] for r in til}
course.expect(min(til_acc.values()) > 0.9, "task-incremental 中，naive、EWC、SI 的 ACC 都在 0.9 以上", full_only=True)
course.expect(til_acc["ewc"] >= til_acc["naive"] - 0.005 and til_acc["si"] >= til_acc["naive"] - 0.005,
              "task-incremental 中 EWC、SI 不比 naive 差", full_only=True)

# %% [markdown]
# 同樣的 EWC、SI，task-incremental 中幾乎不遺忘（naive 本身在這裡也忘得不多：每個任務有自己的 head，
# 新任務改不到舊任務的「答案格式」），class-incremental 中卻和 naive 一樣只剩約 0.2。
#
# 自己切換看看：選一個方法和情境（放開後才訓練；看過的組合會被 cache）：

# %%
import ipywidgets as W
from cl_helpers.teaching.widgets import explore

streams = {"class": split, "task": split_til}

def run(scenario, method, report):   # report(done, total) drives the slider's progress bar
    return train_stream(streams[scenario], get_strategy(method), config, progress=False, report=report)

def show(r):
    s = r.summary()
    text = (f"{r.config['scenario']}-incremental | {r.method} | ACC {s['acc']:.3f} | forgetting {s['forgetting']:.3f}")
    return plots.plot_run(r), text

explore(run, show, scenario=W.ToggleButtons(options=["task", "class"], value="task", description="scenario"),
        method=W.ToggleButtons(options=["naive", "ewc", "si", "replay"], value="si", description="method"))

# %% [markdown]
#
# ## 5.4 動手試試：buffer size
#
# buffer 越大，replay 越接近「把所有舊資料都留著」（joint training）；越小，越便宜但越容易遺忘。
# 拖動 slider 改變 buffer size（放開滑鼠才會重新訓練）：左圖累積所有試過的 buffer size，右圖是這次的 accuracy matrix。
# 先跑幾個大小當起點：

# %%
ask("buffer 從 100 個樣本一路加大，ACC 會怎樣？",
    ["和 buffer size 成正比地上升", "前幾百個樣本就拉高很多，之後報酬遞減", "幾乎不變：replay 的效果和 buffer 大小無關"],
    answer=1, key="ch5-buffer",
    explain="少量舊樣本就足以讓模型每一步都比較新舊類別，所以第一批樣本的效果最大；再加更多，每個舊類別已經有足夠的代表，"
            "ACC 只再慢慢上升。下面印出實測的數字。")

# %%
from cl_helpers.teaching.widgets import buffer_slider
from cl_helpers.plots import plot_buffer_effect

n_train = sum(len(task.y_train) for task in split)
acc_by_size = {}
for size in pick([100, 300, 1100, 3000], [100, 1100]):
    r = train_stream(split, get_strategy("replay", buffer_size=size), config, progress=False)
    acc_by_size[size] = r.summary()["acc"]
    print(f"buffer size {size:>5} ({size / n_train:5.1%} of the training data): ACC {acc_by_size[size]:.3f}")
baselines = {"naive": cil[0].summary()["acc"], "EWC": cil[1].summary()["acc"]}
small, large = min(acc_by_size), max(acc_by_size)
course.expect(acc_by_size[small] > baselines["naive"] + 0.3, "幾百個樣本的 buffer 就讓 ACC 遠高於 naive", full_only=True)
course.expect(acc_by_size[large] - acc_by_size[small] < acc_by_size[small] - baselines["naive"],
              "再加大 buffer，報酬遞減", full_only=True)

# %%
def run(buffer_size, report):   # report(done, total) drives the slider's progress bar
    return train_stream(split, get_strategy("replay", buffer_size=buffer_size), config, progress=False, report=report)

def show(r):
    size, s = r.config["hparams"]["buffer_size"], r.summary()
    acc_by_size[size] = s["acc"]
    text = (f"buffer size = {size} ({size / n_train:.1%} of the training data) | ACC {s['acc']:.3f} | "
            f"forgetting {s['forgetting']:.3f}")
    return plot_buffer_effect(acc_by_size, r, baselines), text

explore(run, show, buffer_size=buffer_slider(500, 50, 5000, 50))

# %% [markdown]
# 觀察：只要幾百個樣本（訓練資料的幾個百分比），ACC 就從 naive 的約 0.2 大幅跳升；再加大 buffer，報酬很快遞減
# （上面印出的數字）。ACC 仍低於 joint training（第 6 章），原因有二：每個任務只訓練幾個 epochs；
# 而且每個 mini-batch 有一半是最新的兩個類別、另一半由所有舊類別分，新舊類別不平衡，模型偏向新類別。
# Hsu et al. 用完整的 MNIST（每個任務約 12,000 張）得到 90.8%。
#
# ## 5.5 另外兩個方法：A-GEM 與 LwF
#
# - **A-GEM**（Chaudhry et al. 2019，GEM 的便宜版）也有一個 episodic memory，但**不直接在舊資料上訓練**：
#   每一步先算 memory 上的 gradient $g_{\text{ref}}$，如果目前的 gradient $g$ 和它衝突（$g \cdot g_{\text{ref}} < 0$），
#   就把 $g$ 投影成 $g - \frac{g \cdot g_{\text{ref}}}{g_{\text{ref}} \cdot g_{\text{ref}}} g_{\text{ref}}$，
#   也就是「不讓 memory 上的 loss 上升（一階近似）」的最近方向。它只要求不變差，不要求舊類別與新類別的比較變好。
# - **LwF**（Learning without Forgetting, Li & Hoiem 2016）**不存任何資料**：學新任務時，把上一個任務結束時的模型凍結，
#   要求新模型在**目前的輸入**上，舊類別的輸出（softmax with temperature）和舊模型一樣（knowledge distillation）。
#   它屬於 regularization（保護輸出而不是參數），所以在 class-incremental 情境遇到和 EWC 一樣的問題。
#   `cl_helpers` 的 distillation 項乘上 $T^2$（Hinton et al. 2015 的做法，讓 gradient 的大小不隨 $T$ 改變），
#   Li & Hoiem 原文沒有這個係數：這裡 $T = 2$、`alpha = 1` 相當於原文的 $\lambda_o = 4$。
#
# 在同一條 stream 上各跑一次（memory 同樣 1100 個樣本）：

# %%
others = run_methods(split, ["agem", "lwf"], config, hparams={"agem": {"buffer_size": 1100}})
lwf_paper = train_stream(split, get_strategy("lwf", alpha=0.25), config, progress=False)   # Li & Hoiem's weight 1
lwf_paper.method = "lwf (no T^2)"
print(format_table([cil[0], cil[3], *others, lwf_paper]))
agem, lwf = others
for r in (cil[0], lwf, lwf_paper):
    print(f"{r.method:<13} final accuracy per task: {', '.join(f'{a:.2f}' for a in r.acc_matrix[-1])}")
course.expect(acc["naive"] + 0.2 < agem.summary()["acc"] < acc["replay"], "A-GEM 比 naive 好很多，但不如 replay", full_only=True)
course.expect(max(lwf.summary()["acc"], lwf_paper.summary()["acc"]) < 0.3, "LwF 在 class-incremental 中救不回舊類別", full_only=True)
course.expect(abs(lwf_paper.summary()["acc"] - acc["naive"]) <= abs(lwf.summary()["acc"] - acc["naive"]) + 0.005,
              "拿掉 T^2 之後，LwF 更接近 naive", full_only=True)

# %% [markdown]
# - A-GEM 比 naive 好很多，但不如 replay：投影只防止 memory 上的 loss 上升，卻沒有直接訓練舊類別與新類別的比較。
# - LwF 也停在 0.2 附近：舊任務一樣歸零。它只要求新模型在新圖片上「舊類別之間的相對機率」和舊模型一樣，
#   從來沒有要求舊類別的 logit 和新類別比，所以新類別照樣把舊類別壓下去。
# - LwF 的 ACC 和 naive 差幾個百分點，差在**最後學的一兩個任務**（上面印出的每個任務的 accuracy）：distillation 項
#   把模型拉住，最新的任務學得少一點、前一個任務偶爾留下一點，ACC 就跟著上下變。把 $T^2$ 拿掉（`alpha = 0.25`，
#   原文的權重），拉力變小，結果更接近 naive。

# %% [markdown]
# ## 練習 5.2：把 replay 放進你的 training loop
#
# 第 1 章的 `train_task` 只要改一個地方：每個 mini-batch 接上一個從 buffer 抽出、一樣大的 replay batch。完成
# `train_task_replay(model, task, epochs, batch_size, lr, gen, buffer)`：`buffer` 是 `cl_helpers.buffer.ReplayBuffer`，
# 由套件在每個任務結束時把該任務的訓練樣本放進去（和 `replay` strategy 的 `after_task` 一樣）。
# `buffer.sample(n)` 回傳 `(x, y, task_ids)`；buffer 是空的時候（第一個任務）不能抽。
# 檢查器在 3 個 class-incremental split MNIST 任務上，把它和 `train_stream(split, get_strategy("replay", buffer_size=200))` 比較。
# 卡住了？`replay_loop_exercise.hint(1)`。

# %% tags=["exercise"]
import torch
import torch.nn.functional as F

def train_task_replay(model, task, epochs, batch_size, lr, gen, buffer):
    """The chapter 1 loop; each mini-batch is extended by as many examples drawn from the replay buffer."""
    # BEGIN SOLUTION: Exercise 5.2: replay in the training loop (try replay_loop_exercise.hint(1))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    n = len(task.y_train)
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen, device=gen.device)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            x, y = task.x_train[idx], task.y_train[idx]
            tids = torch.full_like(y, task.id)
            if len(buffer) > 0:
                rx, ry, rt = buffer.sample(len(y))
                x, y, tids = torch.cat([x, rx]), torch.cat([y, ry]), torch.cat([tids, rt])
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x, tids), y)
            loss.backward()
            optimizer.step()
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch05_loop import replay_loop_exercise

my_train_task_replay = replay_loop_exercise.check(train_task_replay)

# %% [markdown]
# 在 engine 裡，接上 replay batch 的就是 `strategy.make_batch(x, y, tids, t)`，把任務的樣本放進 buffer 的是
# `strategy.after_task`。A-GEM 則不改 batch，而是在 `loss.backward()` 之後、`optimizer.step()` 之前
# （`strategy.after_backward`）用 memory 上的 gradient 投影 `.grad`：同一個 loop，不同的 hook。

# %% [markdown]
# ## 練習 5.3（選做）：A-GEM 的投影
#
# 同一個 loop，這次不改 batch，只改 `loss.backward()` 和 `optimizer.step()` 之間：memory 不是空的時候，
# 抽 64 個 memory 樣本算 reference gradient $g_{ref}$；如果這一步的 gradient $g$ 和它夾角超過 90 度
# （$g \cdot g_{ref} < 0$，照 $g$ 走會讓 memory 的 loss 上升），就把 `.grad` 換成投影
# $g - \frac{g \cdot g_{ref}}{g_{ref} \cdot g_{ref}} g_{ref}$。$g$ 與 $g_{ref}$ 是所有參數攤平接成的一個向量。
# 檢查器在同樣 3 個任務上，把它和 `train_stream(split, get_strategy("agem", buffer_size=200, replay_batch_size=64))`
# 比較，並認得兩個常見錯誤（沒投影、每一步都投影）。卡住了？`agem_loop_exercise.hint(1)`。

# %% tags=["exercise"]
def train_task_agem(model, task, epochs, batch_size, lr, gen, memory):
    """The chapter 1 loop; after backward, .grad is projected so that the memory's loss does not go up."""
    # BEGIN SOLUTION: Exercise 5.3: A-GEM's projection (try agem_loop_exercise.hint(1))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    params = list(model.parameters())
    n = len(task.y_train)
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen, device=gen.device)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            x, y = task.x_train[idx], task.y_train[idx]
            optimizer.zero_grad()
            F.cross_entropy(model(x, torch.full_like(y, task.id)), y).backward()
            if len(memory) > 0:
                mx, my, mt = memory.sample(64)
                ref_loss = F.cross_entropy(model(mx, mt), my)
                g_ref = torch.cat([r.reshape(-1) for r in torch.autograd.grad(ref_loss, params)])
                g = torch.cat([p.grad.reshape(-1) for p in params])
                dot = g @ g_ref
                if dot < 0:
                    g = g - dot / (g_ref @ g_ref) * g_ref
                    torch.nn.utils.vector_to_parameters(g, [p.grad for p in params])
            optimizer.step()
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch05_agem_loop import agem_loop_exercise

my_train_task_agem = agem_loop_exercise.check(train_task_agem)

# %% [markdown]
# ## 小結
#
# - 三大類方法：regularization（EWC、SI、MAS、LwF）不存資料但只保護舊任務「內部」的區分；
#   replay 存少量舊資料；architecture（Progressive Networks、per-task LoRA）不遺忘但需要 task id。
# - Reservoir sampling（algorithm R）讓固定大小的 buffer 隨時都是整條 stream 的均勻樣本：滿了之後，第 $n$ 個樣本以機率
#   $M/(n+1)$ 取代一個隨機位置。課程原本 notebook 的 buffer 一直 append、從不 evict，超過容量，而且訓練時根本沒用到它。
# - **Class-incremental 情境中，EWC、SI、LwF 與 naive 一樣只有約 0.2；replay 用約 1000 個樣本就遠高於它們**
#   （Hsu et al. 2018：EWC 19.8%、SI 19.7% vs replay 90.8%）。同樣的方法在 task-incremental 情境幾乎不遺忘。
#   選方法前，先確認你的問題是哪一種情境（van de Ven & Tolias 2019）。
# - 下一章：自己實作 SI，並在同一張表上比較所有方法。
#
# ## 延伸閱讀
#
# - J. S. Vitter. Random sampling with a reservoir. *ACM Transactions on Mathematical Software*, 1985.
# - Y.-C. Hsu, Y.-C. Liu, A. Ramasamy, Z. Kira. Re-evaluating continual learning scenarios: a categorization and case
#   for strong baselines. [arXiv:1810.12488](https://arxiv.org/abs/1810.12488), 2018.
# - G. M. van de Ven, A. S. Tolias. Three scenarios for continual learning. [arXiv:1904.07734](https://arxiv.org/abs/1904.07734), 2019.
# - D. Rolnick, A. Ahuja, J. Schwarz, T. Lillicrap, G. Wayne. Experience replay for continual learning.
#   [arXiv:1811.11682](https://arxiv.org/abs/1811.11682), 2019.
# - A. Chaudhry, M. Ranzato, M. Rohrbach, M. Elhoseiny. Efficient lifelong learning with A-GEM.
#   [arXiv:1812.00420](https://arxiv.org/abs/1812.00420), 2019.
# - Z. Li, D. Hoiem. Learning without forgetting. [arXiv:1606.09282](https://arxiv.org/abs/1606.09282), 2016.
# - G. Hinton, O. Vinyals, J. Dean. Distilling the knowledge in a neural network.
#   [arXiv:1503.02531](https://arxiv.org/abs/1503.02531), 2015.（$T^2$ 的由來）
# - M. De Lange et al. A continual learning survey: defying forgetting in classification tasks.
#   [arXiv:1909.08383](https://arxiv.org/abs/1909.08383), 2019（*IEEE TPAMI* 2021）。
# - 李宏毅，機器學習 2021 春，Life-long Learning（replay、generative replay 與三類方法）：
#   [課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)。
# - 作業：[ML 2025 春 HW6](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php) 的提示之一「用原模型重新生成的
#   self-instruct 資料一起訓練」，就是 replay 的精神。
