# %% [markdown]
# # 第 5 章：三大類方法與 Replay（experience replay、A-GEM、LwF）
#
# 前兩章的 EWC 與 LoRA 各代表一類方法。這一章把方法整理成三大類，再深入 **replay**（重播舊資料）。**你會學到：**
# 1. 三大類方法：regularization、replay、architecture，以及它們在記憶體、新任務、舊任務之間的取捨；
# 2. **Experience replay** 與 **reservoir sampling**：固定大小的 buffer，如何公平地保留到目前為止看過的 stream；
# 3. 練習：自己寫 reservoir sampling（有自動檢查），並看原 notebook 的 bug 讓 buffer 變成什麼樣子；
# 4. **Class-incremental split MNIST**：EWC、SI 和 naive 一樣只剩最後一個任務答得對，replay 卻高得多；換成 **task-incremental**，在這一章的執行中連 naive 都幾乎不遺忘：結果首先取決於情境；
# 5. 用 slider 調 buffer size，看 ACC 與 forgetting 隨 buffer size 怎麼變；
# 6. 簡介 **A-GEM** 與 **LwF**，在同一條 stream 上比較。

# %% [markdown]
# 「原 notebook」指本教材據以改寫的原始課程 notebook：它在 3 個 permuted MNIST 任務上示範 naive、EWC 與 replay；它的 replay buffer 有 bug，5.2 節用幾行示意程式說明。
#
# ⏱️ 執行時間：本章最後一個 cell 印出這次從頭跑到尾的實測時間；README 的章節表列出 full mode 在 2-core CPU 上的時間。模型很小，CPU 就夠了。

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
# | 類別 | 核心想法 | 例子 | 限制 |
# |---|---|---|---|
# | **Regularization** | 在 loss 加一項，保護對舊任務重要的參數（或舊模型的輸出） | EWC、SI、MAS（參數）；LwF（輸出） | 只看得到舊任務「自己內部」的區分 |
# | **Replay** | 存一小部分舊資料（或用生成模型產生），和新資料一起訓練，或用來限制更新方向 | Experience replay、A-GEM、GEM、iCaRL、generative replay | 要存原始資料（隱私、儲存） |
# | **Architecture** | 每個任務用（部分）不同的參數，舊參數凍結 | Progressive Networks、PackNet、每個任務一個 LoRA adapter | 測試時通常需要 task id |

# %% [markdown] slideshow={"slide_type": "subslide"}
# 三類方法在記憶體、新任務、舊任務之間的取捨（細節在表下）：
#
# | 類別 | 額外記憶體 | 新任務（plasticity） | 舊任務（stability） |
# |---|---|---|---|
# | **Regularization** | 重要性與 anchor（或舊模型），不存資料 | 被 penalty 拉住 | **class-incremental 幾乎無效** |
# | **Replay** | buffer：$M$ 個舊樣本 | experience replay：一半的 loss 來自舊樣本 | 三種情境都有效 |
# | **Architecture** | 隨任務數成長（PackNet：mask） | 受新參數的容量限制 | 知道 task id 時**完全不遺忘** |

# %% [markdown] slideshow={"slide_type": "subslide"}
# - **記憶體**：本章的 EWC 每個舊任務存一份重要性與 anchor，隨任務數成長；SI 只存一份；LwF 存一份舊模型。Replay 的 buffer 是 $M \times$ 輸入大小。Progressive Networks、adapter 隨任務數成長；PackNet 的網路大小固定，每個任務存一個 mask。
# - **Regularization**：強度 $\lambda$ / $c$ 越大，新任務學得越少。舊任務方面，task-incremental 中文獻報告有幫助，但本章的執行中幫助很小（5.3 節）；domain-incremental 幫助有限（Hsu et al. 2018）；class-incremental 幾乎無效。
# - **Replay**：experience replay 不限制更新方向，但每步多處理一個 replay batch，而且 loss 有一半來自舊樣本：本章的最新任務學得比 naive 少一點（5.5 節印出）。A-GEM、GEM 則用 memory 限制更新方向。$M$ 越大通常越好，但報酬遞減（5.4 節）。
# - **Architecture**：新任務受新參數的容量限制（PackNet：還沒用掉的參數，隨任務減少）。

# %% [markdown]
# 這三類不互斥：實務上常見 replay + regularization（例如 replay 加上 distillation）。這一章的結論之一是：**在 class-incremental 情境中，這一章試的 regularization 方法（EWC、SI、LwF）都救不回舊類別，只有 replay 類的方法（experience replay、A-GEM）有效**；architecture 方法通常要在測試時知道 task id，而 class-incremental 不給 task id，所以這一章不跑它們。

# %% [markdown]
# ## 5.2 Experience replay
#
# 想法非常簡單：學 task $t$ 時，保留一個固定大小的 **replay buffer**，裡面是 task $0, \dots, t-1$ 的一些樣本。每個 mini-batch 都附加一個從 buffer 均勻、可重複抽樣（with replacement）的 replay batch（大小和目前的 batch 一樣），loss 是兩者接在一起之後的平均 cross-entropy：
#
# $$\mathcal{L} = \frac{1}{|B| + |B_M|} \Big( \sum_{(x, y) \in B} \ell\big(f_\theta(x), y\big) + \sum_{(x, y) \in B_M} \ell\big(f_\theta(x), y\big) \Big),$$
#
# 其中 $B$ 是目前任務的 mini-batch，$B_M$ 是從 buffer 抽出的 replay batch（可重複抽樣，同一個樣本可能出現不只一次，每次都算一項），$\ell$ 是 cross-entropy。
#
# `cl_helpers` 的 `replay` strategy 就是這樣：每個任務結束時，把該任務的訓練樣本依序「提供」給 buffer（`cl_helpers.buffer.ReplayBuffer`），由 buffer 決定留下哪些。問題是：**buffer 滿了以後，該丟掉誰？**

# %% [markdown]
# ### Reservoir sampling（algorithm R：Waterman 提出，Vitter 1985 分析）
#
# 資料是一條長度未知的 stream，能存的空間只有 $M$ 個樣本。（本章的 buffer、memory、episodic memory 指的都是這同一個東西。）我們希望任何時刻，buffer 都是「到目前為止所有樣本」的**均勻隨機樣本**：每個大小 $M$ 的子集都同樣可能。Algorithm R 做得到這一點（Knuth 的 *The Art of Computer Programming* 收錄了它，Vitter 1985 證明每個大小 $M$ 的子集機率相同）。下面只證明其中最直觀的一個性質：每個看過的樣本留在 buffer 裡的機率都相同。做法：第 $n$ 個樣本（$n = 0, 1, 2, \dots$）來的時候，
#
# - 如果 buffer 還沒滿（$n < M$）：直接放進去；
# - 否則：抽一個均勻整數 $j \in \{0, 1, \dots, n\}$（共 $n+1$ 個值，**包含新樣本自己**）；若 $j < M$，用新樣本取代 buffer 第 $j$ 格，否則丟掉新樣本。

# %% [markdown]
# 為什麼每個樣本留下的機率相同？用歸納法。起點：看完 $n = M$ 個樣本時 buffer 剛好滿，每個樣本都在裡面，機率 $M/M = 1$。歸納步驟（$n \ge M$）：假設看完 $n$ 個樣本後，每個都以機率 $M/n$ 在 buffer 裡。第 $n$ 個（新）樣本被留下的機率是 $M/(n+1)$；一個舊樣本要繼續留著，必須「新樣本沒被留下，或被留下但沒剛好取代它」：
# $$\frac{M}{n}\left(1 - \frac{M}{n+1}\cdot\frac{1}{M}\right) = \frac{M}{n}\cdot\frac{n}{n+1} = \frac{M}{n+1}.$$
# 所以看完 $n+1$ 個樣本後，每個樣本留下的機率都是 $M/(n+1)$。

# %% [markdown]
# **原 notebook 的 bug**：它的 `add_task_samples` 一加完這個任務的 `num_samples` 個樣本就 `return`，後面負責把 buffer 縮回容量的 eviction 迴圈**永遠執行不到**。示意如下（不是原文，只保留結構）：
#
# ```python
# def add_task_samples(self, x, y, num_samples):
#     for i in range(num_samples):
#         self.buffer.append((x[i], y[i]))
#     return                                # returns here ...
#     while len(self.buffer) > self.capacity:   # ... so the eviction never runs
#         self.buffer.pop(random_index())
# ```
#
# 結果 buffer 一直變大，**超過**它的容量 $M$（練習 5.1 之後的 cell 用 `course_notebook_add` 重現這個行為，`never evicts (bug)` 那一行印出 buffer 最後的大小）。另一個 bug：它的訓練迴圈從來不從 buffer 抽樣，所以它的「replay」實際上就是 naive fine-tuning：訓練的**方式**和 5.3 節表中 naive 那一列一樣（每個任務只用目前任務的資料），但原 notebook 的實驗設定（permuted MNIST、任務數、資料量、epochs）和本章不同。

# %% [markdown]
# ## 練習 5.1：reservoir sampling
#
# 完成 `reservoir_add`：把 stream 中的第 `n_seen` 個 item（從 0 開始數）提供給 `buffer`（一個 Python list），**直接修改** `buffer`（in place），不回傳任何東西。`rand_int(n)` 會回傳 $[0, n)$ 中的一個均勻隨機整數：所有的隨機抽樣都請用它（每個 item 最多抽一次），檢查器會提供固定的 `rand_int`，所以結果是可重現的。卡住了？先看 `reservoir_exercise.hint(1)`；還不行再看 `reservoir_exercise.hint(2)`，它幾乎就是解答。沒寫完也沒關係，後面會用參考答案。

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
# 檢查器會在固定的情況（buffer 還沒滿、滿了且抽到要留下、滿了且抽到要丟掉）檢查你的答案，也用很多條隨機 stream 檢查，並指出常見錯誤：超過容量（原 notebook 的 bug：一直 append、從不 evict）、滿了就不再取代、每次都取代、差一錯誤（off-by-one error：寫成 `rand_int(n_seen)`）。
#
# 實際驗證「均勻」：把 item 0..199 依序丟進容量 20 的 buffer，重複很多次，數每個 item 最後留在 buffer 裡的比例。左邊是你的函式（練習還沒完成時是參考答案，圖的標題會寫 `reference`），右邊是原 notebook 的行為（加進去就 return，從不 evict）。圖中的虛線是完全均勻時每個 item 應有的保留率 20/200；保留率均勻時，長條的頂端就貼著這條虛線。

# %%
from cl_helpers.experiments.reservoir import keep_frequencies
from cl_helpers.plots import plot_keep_frequencies

def course_notebook_add(buffer, capacity, n_seen, item, rand_int):   # the original notebook's behaviour
    buffer.append(item)   # it returns right after adding, so the eviction that follows never runs

fig, axes = plt.subplots(1, 2, figsize=(13, 3.4), sharey=True)
mine = "reservoir_add" if my_reservoir_add is reservoir_add else "reservoir_add (reference)"   # yours once it passes
for fn, ax, name in ((my_reservoir_add, axes[0], mine), (course_notebook_add, axes[1], "never evicts (bug)")):
    freq = keep_frequencies(fn, n_items=200, capacity=20, repeats=pick(1000, 200), seed=0)
    plot_keep_frequencies(freq, capacity=20, ax=ax, title=f"{name}: keep rate of each item")
    buffer = []
    for n in range(200):
        fn(buffer, 20, n, n, lambda k: 0)
    print(f"{name:>25}: items 0-19 kept {freq[:20].mean():.2f}, items 180-199 kept {freq[180:].mean():.2f}, "
          f"buffer holds {len(buffer)} items (capacity 20)")
fig.tight_layout()
plt.show()

# %% [markdown]
# `cl_helpers.buffer.ReplayBuffer` 用的是同一個 algorithm R，只是一次處理整個 batch、而且資料一直留在 device 上（`reservoir_slots` 一次抽出整個 batch 的 $j$）。把 split MNIST 的 5 個任務依序放進容量 `BUFFER` 的 buffer（5.3 節 replay 與 5.5 節 A-GEM 的 memory 就是這麼大；5.4 節會改變大小，練習 5.2 與練習 5.3 用較小的 200），每個任務結束後 buffer 裡各任務的樣本數應該大致相等（每個任務的訓練樣本數一樣），而且永遠不超過容量：

# %%
from cl_helpers.buffer import ReplayBuffer
from cl_helpers.data import load_dataset

SPLIT_TRAIN = pick(1100, 300)   # first images of each digit pair: the same on the course subset and full MNIST
BUFFER = 1100                   # the memory of every replay and A-GEM run in this chapter (Hsu et al.'s size)
split = make_stream("split", scenario="class", train_size=SPLIT_TRAIN, test_size=pick(1000, 300), device=device)
print(split)
buffer = ReplayBuffer(capacity=BUFFER, policy="reservoir", seed=0)
for task in split:
    buffer.add(task.x_train, task.y_train, task.id)
    print(f"after task {task.id} ({task.name}): {len(buffer)} stored, per task: {buffer.task_counts()}")
counts = buffer.task_counts().values()
course.expect(len(buffer) == BUFFER and max(counts) < 1.5 * min(counts), "buffer 不超過容量，而且各任務的樣本數大致相等")
pairs = [int((load_dataset("mnist").y_train // 2 == k).sum()) for k in range(5)]   # training images per digit pair
print(f"each task: {len(split[0].y_train)} training / {len(split[0].y_test)} test images; "
      f"training images per digit pair in the loaded data: {pairs}")
course.expect(min(pairs) >= SPLIT_TRAIN, "載入的資料每兩個數字都至少有 SPLIT_TRAIN 張訓練圖")

# %% [markdown]
# 資料：每個任務用那兩個數字在載入的訓練集中最前面的 `SPLIT_TRAIN` 張圖（最後一行印出每個任務的訓練與測試張數）。`cl_helpers` 依序在 `$CL_HELPERS_DATA` 與快取資料夾找 MNIST，都找不到就自動下載完整的 MNIST（例如在 Colab 上）；第一行印出這次用的是哪一份、共有幾張。課程準備的 MNIST 子集是完整訓練集最前面的一段（README 的說明），而每一對數字在載入的資料中的張數（最後一行）都不少於 `SPLIT_TRAIN`：所以不論載入的是子集還是完整的 MNIST，選到的都是每一對數字最前面的同一批圖片。完整的 MNIST 訓練集中，每一對數字約有 12,000 張訓練圖（資料集本身的事實，不是這次執行的結果）；5.3 節引用的文獻值用的是全部的資料。

# %% [markdown]
# ## 5.3 Class-incremental split MNIST：regularization 失效，replay 有效
#
# 回到第 1 章最極端的情境：split MNIST，5 個任務 {0,1}, {2,3}, …, {8,9}，**一個 10 類的 head**，測試時不給 task id。比較 naive、EWC、SI（兩個 regularization 方法，用套件預設的設定，表格上方會印出）與 replay（buffer `BUFFER` = 1,100 個樣本）。同樣的 MLP、同樣的 Adam 設定、每個任務同樣的 epochs：訓練設定 `config` 印在表格上方的第一行。

# %%
from cl_helpers.teaching.quiz import ask

ask("class-incremental split MNIST，5 個任務學完之後：EWC、SI（保護重要的參數）與 replay（存 1,100 個舊樣本）的 ACC 會是什麼樣子？",
    ["都接近 0.2：class-incremental 誰都救不了", "EWC、SI 接近 0.2（和 naive 一樣），replay 高得多",
     "三者都遠高於 naive"],
    answer=1, key="ch5-cil",
    explain="EWC、SI 的重要性只從舊任務自己的資料與 loss 算出來，從來沒有一項 loss 拿舊類別和之後才出現的類別比；"
            "學 8、9 時，新類別照樣把舊類別壓下去。replay 讓新舊類別的樣本出現在同一個 batch，直接學到跨任務的比較"
            "（下面的實驗之後會再仔細說明）。")

# %%
EPOCHS = pick(5, 2)
config = TrainConfig(epochs=EPOCHS)
cil = run_methods(split, ["naive", "ewc", "si", "replay"], config, hparams={"replay": {"buffer_size": BUFFER}})
print(config)   # the training settings every method shares
for r in cil[1:]:
    print(f"{r.method} settings: {r.strategy.hparams}")
print(format_table(cil))
plots.plot_comparison(cil, title="class-incremental split MNIST (5 tasks, one 10-way head)")
plt.show()

# %%
acc = {r.method: r.summary()["acc"] for r in cil}
old_tasks = {r.method: r.acc_matrix[-1, :-1].max() for r in cil}
print(", ".join(f"{m}: ACC {a:.3f} (best old task at the end {old_tasks[m]:.2f})" for m, a in acc.items()))
for m in ("naive", "ewc", "si"):
    course.expect(abs(acc[m] - 0.2) < 0.03 and old_tasks[m] < 0.005,
                  f"{m} 在 class-incremental 中舊任務全是 0、只剩最後一個任務，ACC 約 0.2", full_only=True)
course.expect(acc["replay"] > acc["naive"] + 0.4, "replay 遠高於 naive", full_only=True)
course.expect(acc["replay"] > acc["naive"], "replay 比 naive 好")
fwt = {round(r.summary()["fwt"], 6) for r in cil}
before = {r.method: [float(r.acc_matrix[j - 1, j]) for j in range(1, r.n_tasks)] for r in cil}
print(f"FWT of every method: {sorted(fwt)}; R[j-1, j] (task j before it is trained): {before}")
course.expect(len(fwt) == 1 and max(fwt) < 0, "class-incremental 中每個方法的 FWT 都一樣，而且是負的")
course.expect(all(a == 0 for b in before.values() for a in b), "還沒學到的任務，每個方法的 accuracy 都是 0")

# %% [markdown]
# 先看表格上方印出的設定：第一行是所有方法共用的訓練設定（`optimizer`、`lr`、`batch_size`、每個任務的 `epochs`）；replay 的 `replay_batch_size: 0` 表示 replay batch 和目前的 batch 一樣大（5.2 節的做法）。表格的 seconds 欄是這一次每個方法的實測時間（上面印出）。模型很小、每個方法只跑幾秒，這一欄除了計算量，還受固定開銷與執行當下機器負載的影響，換一次執行就會變，所以它**不是**計算量的量測，只適合粗略參考。計算量要從做法來推：replay 從第二個任務起每一步處理兩倍的樣本（目前的 batch 加上一樣大的 replay batch），還要維護 buffer；但上面 replay 與 naive 兩列秒數的差距，不一定全來自這些多出來的計算。
#
# EWC 與 SI 和 naive 幾乎一樣：ACC 約 0.2，而且舊任務全部是 0，只剩最後一個任務有分數（5 個任務只對 1 個，平均就是 1/5 左右）。replay 則高出很多。這**不是**我們的實作有問題，而是文獻中的標準結果。注意：這裡的 EWC、SI 只用套件預設的強度（上面印出的 `lam`、`c`），這一章沒有掃強度；文獻的結論是在調過強度之後得到的（例如 van de Ven & Tolias 2019 把 EWC 的 $\lambda$ 試到非常大），這一章只示範預設值下的結果。Hsu et al. (2018) 在完整的 split MNIST 上（每一對數字約 12,000 張訓練圖；我們每一對數字只用前 1,100 張）得到：
#
# | 方法 | class-incremental split MNIST ACC（Hsu et al. 2018） |
# |---|---|
# | Naive (Adam) | 19.7% |
# | EWC | 19.8% |
# | SI | 19.7% |
# | Naive rehearsal（replay，1,100 個樣本） | 90.8% |

# %% [markdown]
# van de Ven & Tolias (2019, *Three scenarios for continual learning*) 比較三種情境也得到同樣的結論：在 class-incremental 情境，EWC、SI 和 naive 一樣低，只有 replay 類的方法明顯較好。在他們的 task-incremental split MNIST 中，EWC、SI 則比 naive 好得多（van de Ven & Tolias 2019：naive 87.19%、EWC 98.64%、SI 99.09%）。同樣兩位作者的另一篇論文 *Generative replay with feedback connections as a general strategy for continual learning*（van de Ven & Tolias 2018，[arXiv:1809.10635](https://arxiv.org/abs/1809.10635)）中，task-incremental 的 EWC 卻幾乎沒有比 naive 好：這個差別取決於設定與調參。我們這次的執行和論文不同：下面換成 task-incremental 時，連 naive 都幾乎不遺忘，EWC、SI 能改善的空間很小。

# %% [markdown] slideshow={"slide_type": "subslide"}
# **為什麼 regularization 在 class-incremental 會失效？**
# 1. 學 task $k$ 時只有類別 $2k, 2k+1$ 的資料。cross-entropy 會把**所有其他類別**（包括舊類別）的 logits 往下壓，模型學到「答案永遠是最新的兩類之一」。
# 2. EWC / SI 的重要性只從舊任務自己的資料與 loss 算出來。學 task 0 時 8、9 從來不是答案：沒有任何一項 loss 要求「在 0 的圖片上，0 要贏過**學過之後的** 8」。penalty 能維持 0 與 1 彼此的區分，卻保護不了一個從來沒被要求過的比較；學 8、9 時，沒有任何東西擋住 8、9 的 logit 蓋過 0 和 1。
# 3. Replay 讓舊類別的樣本和新類別的樣本出現在同一個 batch：模型直接學到跨任務的比較。這正是 class-incremental 需要的。

# %% [markdown]
# 第 2 點的補充（以下是推理，這一章沒有量測）：EWC 的 Fisher 在 task 0 結束時才算，那時 8 的機率已經接近 0、幾乎不產生 gradient，類別 8、9 的輸出權重幾乎得不到保護；SI 的重要性沿著整段訓練累積，但同樣只來自舊任務自己的 loss。

# %% [markdown]
# **表中的 FWT 為什麼每個方法都一樣（而且是負的）？** FWT 比較「還沒學 task $j$ 時」的 accuracy $R_{j-1,j}$ 與隨機初始化的 $b_j$。在 class-incremental 中，task $j$ 的類別在學到它之前從來不是訓練目標，cross-entropy 一直把它們的 logits 往下壓，模型**從不**預測它們：$R_{j-1,j} = 0$，不管用哪個方法（上面印出的 `R[j-1, j]`）。於是 FWT $= -\text{mean}_{j \ge 1}\, b_j$，只由（每個方法都相同的）隨機初始化決定。在這個情境中 FWT 量不到任何方法的差別。
#
# 看看 EWC 的最終模型把 task 0（數字 0 和 1）的測試圖片判成什麼：

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 3.4), sharey=True)   # same test images: same y scale
for run_, ax in ((cil[1], axes[0]), (cil[3], axes[1])):
    plots.plot_predictions(run_, task_id=0, ax=ax)
    true, got = plots.prediction_counts(run_, task_id=0)
    print(f"{run_.method}: task 0 accuracy {run_.acc_matrix[-1, 0]:.3f}, predicted as 8 or 9: {got[8:].sum() / got.sum():.1%}")
fig.tight_layout()
plt.show()
ewc_last = plots.prediction_counts(cil[1], task_id=0)[1][8:].sum() / len(split[0].y_test)
course.expect(cil[1].acc_matrix[-1, 0] == 0 and ewc_last == 1, "EWC 把 task 0 全部判成 8 或 9，沒有一張判對", full_only=True)
course.expect(cil[3].acc_matrix[-1, 0] > 0.5, "replay 把 task 0 大部分判對", full_only=True)

# %% [markdown]
# 左邊（EWC）：0 和 1 全都被判成最後學的兩個類別 8 和 9，沒有一張判對。右邊（replay）：大部分仍然判成 0 和 1。

# %% [markdown]
# ### 同一份資料，換成 task-incremental
#
# 遺忘多少，首先取決於情境。同樣的圖片、同樣的訓練順序，只把模型換成每個任務一個 2 類的 head，測試時告訴它 task id（第 1 章的 task-incremental）：

# %%
split_til = make_stream("split", scenario="task", train_size=SPLIT_TRAIN, test_size=pick(1000, 300), device=device)
til = run_methods(split_til, ["naive", "ewc", "si"], config)
print(f"{'method':<8}{'task-IL ACC':>13}{'task-IL fgt':>13}{'class-IL ACC':>14}{'class-IL fgt':>14}")
for t_run, c_run in zip(til, cil):
    t, c = t_run.summary(), c_run.summary()
    print(f"{t_run.method:<8}{t['acc']:>13.3f}{t['forgetting']:>13.3f}{c['acc']:>14.3f}{c['forgetting']:>14.3f}")
til_acc = {r.method: r.summary()["acc"] for r in til}
til_fgt = {r.method: r.summary()["forgetting"] for r in til}
print(f"task-IL ACC minus naive: EWC {til_acc['ewc'] - til_acc['naive']:+.3f}, SI {til_acc['si'] - til_acc['naive']:+.3f}")
course.expect(min(til_acc.values()) > 0.9, "task-incremental 中，naive、EWC、SI 的 ACC 都在 0.9 以上", full_only=True)
course.expect(til_acc["ewc"] >= til_acc["naive"] - 0.005 and til_acc["si"] >= til_acc["naive"] - 0.005,
              "task-incremental 中 EWC、SI 不比 naive 差", full_only=True)
course.expect(max(til_fgt.values()) < 0.05, "task-incremental 中 naive、EWC、SI 都幾乎不遺忘", full_only=True)
course.expect(til_fgt["naive"] > 0, "task-incremental 中 naive 的 forgetting 不是 0：共用的層仍被新任務改動", full_only=True)
course.expect(max(abs(til_acc[m] - til_acc["naive"]) for m in ("ewc", "si")) < 0.03,
              "task-incremental 中 EWC、SI 和 naive 的 ACC 只差一點", full_only=True)
course.expect(min(c.summary()["forgetting"] for c in cil[:3]) > 0.9, "class-incremental 中三者的 forgetting 都接近 1",
              full_only=True)

# %% [markdown]
# 同樣的三個方法，task-incremental 中都幾乎不遺忘：**連 naive 也是**。（上表的 task-IL、class-IL 是 task-incremental、class-incremental 的縮寫，fgt 是 forgetting。）共用的 hidden layers 其實每個任務都被改動（naive 的 `task-IL fgt` 不是 0），但測試時只要在那個任務的兩個數字之間選，這樣的漂移還不足以破壞這個區分。class-incremental 中三者卻都只剩約 0.2、forgetting 接近 1。這次的執行顯示的是：**情境決定了遺忘多少**。
#
# EWC、SI 在這次的 task-incremental 執行中幫得很少：ACC 不比 naive 差，但差距很小（最後一行印出的差），因為 naive 的 forgetting 本來就很小，能改善的空間不大。文獻的結果並不一致：van de Ven & Tolias 2019 的 naive 在 task-incremental 忘得比這裡多，EWC、SI 的幫助也就明顯（上面引用的數字）；Hsu et al. 2018 則發現，調好的簡單 baseline（例如用 SGD 或 Adagrad 訓練的 naive）在這個情境已經和 EWC 差不多，只有他們用 Adam 的 naive 明顯較低。本章的 naive 用 Adam 也幾乎不遺忘；和文獻的差別可能來自資料量、訓練長度、網路與 optimizer 等設定（這一章沒有逐一驗證）。

# %% [markdown]
# 自己切換看看：選一個方法和情境（點一下按鈕就會訓練；看過的組合會被 cache；replay 的 buffer 一樣是 `BUFFER`）。左圖每條線是一個任務的 test accuracy：實線從開始訓練那個任務起，點線是還沒訓練到它的時候；右圖是 accuracy matrix。
#
# - task-incremental 的點線（和右圖上三角還沒訓練的格子）是那個任務還沒訓練過的 2 類 head 在亂猜：二選一，accuracy 在 1/2 上下，偏高或偏低（也會隨共用層的改動起伏）都不代表學會了那個任務，不是 forward transfer。class-incremental 的點線則都是 0（上面 FWT 的說明）。
# - 訓練過的任務若都接近 1，幾條實線會疊在一起、互相遮住：這時看右圖最後一列的數字。

# %%
import ipywidgets as W
from cl_helpers.teaching.widgets import explore

streams = {"class": split, "task": split_til}

def run(scenario, method, report):   # report(done, total) drives the progress bar under the buttons
    strategy = get_strategy(method, buffer_size=BUFFER) if method == "replay" else get_strategy(method)
    return train_stream(streams[scenario], strategy, config, progress=False, report=report)

def show(r):
    s = r.summary()
    text = (f"{r.config['scenario']}-incremental | {r.method} | ACC {s['acc']:.3f} | forgetting {s['forgetting']:.3f}")
    fig = plots.plot_run(r)
    fig.axes[0].set_title(f"split MNIST, {r.config['scenario']}-incremental, {r.method}: accuracy on each task", pad=16)
    return fig, text

explore(run, show, scenario=W.ToggleButtons(options=["task", "class"], value="task", description="scenario"),
        method=W.ToggleButtons(options=["naive", "ewc", "si", "replay"], value="si", description="method"))

# %% [markdown]
# ## 5.4 動手試試：buffer size
#
# buffer 越大，replay 存的舊資料越多。常用的上限參考是 **joint training**：`cl_helpers` 的 joint 在第 $t$ 個 stage 從上一個 stage 的模型接著訓練，用 task $0, \dots, t$ 的**全部**資料訓練同樣多的 epochs。它**不等於**「buffer 大到放得下所有舊資料的 replay」：replay 的每個 mini-batch 仍有一半是目前任務的樣本，另一半是從 buffer 可重複抽出的舊樣本；joint 則在每個 stage 把到目前為止的所有資料（每一張舊圖片）混在一起、完整再訓練一遍，每個類別在 mini-batch 中的比重一樣。下面看 ACC 與 forgetting 隨 buffer size 怎麼變、ACC 會不會一路逼近 joint。拖動 slider 改變 buffer size（放開滑鼠才會重新訓練）：左圖累積所有試過的 buffer size 的 ACC，右圖是這次的 accuracy matrix，forgetting 印在圖上方的文字裡。先跑幾個大小當起點：

# %%
ask("buffer 從 0（naive）一路加大到 3,000 個樣本，ACC 會怎樣？",
    ["和 buffer size 成正比地上升", "前 100 個樣本就拉高很多，之後每多一個樣本的幫助越來越小（報酬遞減）",
     "幾乎不變：replay 的效果和 buffer size 無關"],
    answer=1, key="ch5-buffer",
    explain="少量舊樣本就足以讓模型每一步都比較新舊類別，所以最前面的樣本效果最大；之後每多一批樣本，ACC 上升得越來越少，"
            "到某個大小後幾乎不再上升。下面印出實測的數字（buffer size 0 就是 naive）。")

# %%
from cl_helpers.teaching.widgets import buffer_slider
from cl_helpers.plots import plot_buffer_effect

n_train = sum(len(task.y_train) for task in split)
n_old = n_train - len(split[-1].y_train)   # old examples while the last task trains
print(f"training images: {n_train} in all, {n_old} of them from the tasks before the last one")
acc_by_size, fgt_by_size = {}, {}
print(f"buffer size     0 (naive): ACC {acc['naive']:.3f}, forgetting {cil[0].summary()['forgetting']:.3f}")
for size in pick([100, 300, BUFFER, 3000], [100, BUFFER]):
    r = train_stream(split, get_strategy("replay", buffer_size=size), config, progress=False)
    acc_by_size[size], fgt_by_size[size] = r.summary()["acc"], r.summary()["forgetting"]
    print(f"buffer size {size:>5} ({size / n_train:5.1%} of the training data): ACC {acc_by_size[size]:.3f}, "
          f"forgetting {fgt_by_size[size]:.3f}")
joint = train_stream(split, "joint", config, progress=False)   # stage t: tasks 0..t, warm-started: the upper reference
baselines = {"naive": acc["naive"], "joint": joint.summary()["acc"]}
small, large = min(acc_by_size), max(acc_by_size)
print(f"joint (each stage trains on every task so far): ACC {baselines['joint']:.3f}, "
      f"{baselines['joint'] - acc_by_size[large]:.3f} above the largest buffer")

# %%
curve = {0: acc["naive"], **acc_by_size}   # buffer size 0 is naive
sizes = sorted(curve)
per_sample = [(curve[b] - curve[a]) / (b - a) for a, b in zip(sizes, sizes[1:])]
print("ACC gained per 1,000 added buffer samples: "
      + ", ".join(f"{a} -> {b}: {1000 * g:+.3f}" for a, b, g in zip(sizes, sizes[1:], per_sample)))
course.expect(acc_by_size[small] > baselines["naive"] + 0.3, "100 個樣本的 buffer 就讓 ACC 遠高於 naive", full_only=True)
course.expect(abs(acc_by_size[large] - acc_by_size[BUFFER]) < 0.02 < acc_by_size[BUFFER] - acc_by_size[small],
              "100 到 1,100 個樣本 ACC 明顯上升，再加大到 3,000 就幾乎不變", full_only=True)
course.expect(max(acc_by_size) < n_old, "試過的 buffer 都放不下所有舊資料", full_only=True)
course.expect(all(x > y for x, y in zip(per_sample, per_sample[1:])), "每多一個樣本，ACC 的增加越來越少（報酬遞減）",
              full_only=True)
course.expect(fgt_by_size[BUFFER] < 0.5 * fgt_by_size[small], "1,100 個樣本的 forgetting 不到 100 個樣本時的一半",
              full_only=True)
course.expect(baselines["joint"] - max(acc_by_size.values()) > 0.03, "每個 buffer size 的 ACC 都明顯低於 joint",
              full_only=True)

# %%
def run(buffer_size, report):   # report(done, total) drives the progress bar under the slider
    return train_stream(split, get_strategy("replay", buffer_size=buffer_size), config, progress=False, report=report)

tried = dict(acc_by_size)   # the slider adds to its own copy: the fixed sweep above (and its checks) stay as they are

def show(r):
    size, s = r.config["hparams"]["buffer_size"], r.summary()
    tried[size] = s["acc"]
    text = (f"replay, buffer size = {size} ({size / n_train:.1%} of the training data) | ACC {s['acc']:.3f} | "
            f"forgetting {s['forgetting']:.3f}")
    fig = plot_buffer_effect(tried, r, baselines)
    for line in fig.axes[0].lines:
        line.set_clip_on(False)   # keep the markers at the right edge whole
    return fig, text

explore(run, show, buffer_size=buffer_slider(500, 50, 4400, 50))   # 4,400: every old example fits

# %% [markdown]
# 左圖：綠線連起試過的 buffer size（x 軸是 log scale；綠點由左到右是上面印出的那些大小，加上你用 slider 試過的），黑圈是這次的大小。紅色虛線是 naive（buffer 0），紫色點線是 joint：這兩條是水平的參考線，線上的 ▼、■ 只是用來分辨線條的記號，不是在那些 buffer size 跑出來的結果。slider 最大到 4,400：這時 buffer 放得下最後一個任務之前的全部舊資料（上面印出的張數），你可以看看即使舊資料全都留著，replay 和 joint 還差多少。

# %% [markdown]
# 觀察（上面印出的數字）：沒有 buffer（naive）時 ACC 約 0.2；只要 100 個樣本（訓練資料的 1.8%），ACC 就大幅跳升。從 100 加到 1,100 個，ACC 又明顯上升、forgetting 降到不到一半；從 1,100 加到 3,000，ACC 的變化卻不到 0.02。最後一個增量接近 0，但它的正負號不可靠：這一章每個 buffer size 只跑一個 seed，這麼小的變化只能說「幾乎不變」，不能說 3,000 個樣本比較好或比較差。每多 1,000 個樣本帶來的 ACC 一路變小（印出的增量）：報酬遞減。

# %% [markdown]
# ACC 也沒有一路逼近 joint training，而是停在它下方（印出的差距）。buffer 從 1,100 加到 3,000 時多存了很多舊樣本，ACC 卻幾乎不變、仍明顯低於 joint：在這個範圍內，這個差距看來不是「buffer 存的舊樣本太少」造成的。兩者的訓練方式至少有兩點不同，這一章沒有實驗把它們分開：
#
# - **類別的比重**：replay 的每個 mini-batch 有一半是最新兩個類別的樣本，另一半才是從 buffer 抽出、由所有舊類別共用的樣本。學 task 1 時，四個類別的比重一樣；從第三個任務（task 2）起，新類別的比重就比任何一個舊類別都大。joint 的 mini-batch 從到目前為止的所有資料中抽出，每個類別的比重一樣。
# - **訓練的長度**：joint 的每個 stage 用到目前為止的全部資料訓練同樣多的 epochs。最後一個 stage 每個 epoch 走過全部 5,500 張（上面印出），replay 的最後一個任務每個 epoch 只走過 1,100 張目前任務的圖（每一步再接上一樣大的 replay batch），所以 joint 的更新步數約是它的 5 倍；task 0 的圖片在 joint 的每個 stage 都被完整訓練一遍。
#
# Hsu et al. 用完整的 MNIST（每個任務約 12,000 張）、同樣 1,100 個樣本的 buffer 得到 90.8%。

# %% [markdown]
# ## 5.5 另外兩個方法：A-GEM 與 LwF
#
# A-GEM 和 replay 一樣存一個 episodic memory。`cl_helpers` 的 A-GEM 用的就是前面的 reservoir buffer；Chaudhry et al. 2019 原文的 memory 則是每個任務分到一樣多的格數，在該任務結束時填入。LwF 則什麼資料都不存。兩者在 `cl_helpers` 的預設設定：

# %%
for m in ("agem", "lwf"):
    print(f"{m} defaults: {get_strategy(m).hparams}")

# %% [markdown]
# ### A-GEM
#
# **A-GEM**（Chaudhry et al. 2019）是 GEM 的便宜版：GEM 對每個舊任務各有一個限制、每一步要解一個 quadratic program，A-GEM 只用一個限制。它**不直接在舊資料上訓練**：每一步從 memory 隨機抽一個 batch（上面印出的 `replay_batch_size`；練習 5.3 用 64 個），算這個 batch 上的 gradient $g_{\text{ref}}$。如果目前的 gradient $g$ 和它衝突（$g \cdot g_{\text{ref}} < 0$），就把 $g$ 投影成
#
# $$\tilde g = g - \frac{g \cdot g_{\text{ref}}}{g_{\text{ref}} \cdot g_{\text{ref}}}\, g_{\text{ref}},$$
#
# 也就是滿足 $\tilde g \cdot g_{\text{ref}} \ge 0$ 的方向中離 $g$ 最近的一個：用 SGD 沿 $-\tilde g$ 走一小步，memory batch 上的 loss 不會上升（一階近似）。它只管這個隨機抽出的 memory batch 上的**平均** loss（GEM 則要求每個舊任務的 loss 各自不上升），不要求舊類別與新類別的比較變好。
#
# 這個保證是對 SGD 說的（Chaudhry et al. 用 SGD）。本章的訓練和練習 5.3 都用 Adam：投影改的是交給 Adam 的 gradient，Adam 實際走的一步還會逐個座標縮放、混入之前步驟的 momentum，所以即使在一階近似下，memory 的 loss 也可能上升。

# %% [markdown]
# ### LwF
#
# **LwF**（Learning without Forgetting, Li & Hoiem 2016）**不存任何資料**：學新任務時，把上一個任務結束時的模型凍結，要求新模型在**目前的輸入**上，舊類別的輸出（softmax with temperature）和舊模型一樣（knowledge distillation）。它屬於 regularization（保護輸出而不是參數），所以在 class-incremental 情境遇到和 EWC 一樣的問題。`cl_helpers` 的 distillation 項乘上 $T^2$（Hinton et al. 2015 的做法，讓 gradient 的大小大致不隨 $T$ 改變），Li & Hoiem 原文沒有這個係數：上面印出的預設 $T = 2$（`temperature`）、`alpha = 1` 相當於原文的 $\lambda_o = 4$。
#
# 在同一條 stream 上比較（A-GEM 的 memory 同樣是 `BUFFER` 個樣本；LwF 多跑一個不乘 $T^2$、用原文權重的版本）：

# %%
others = run_methods(split, ["agem", "lwf"], config, hparams={"agem": {"buffer_size": BUFFER}})
lwf_paper = train_stream(split, get_strategy("lwf", alpha=0.25), config, progress=False)   # Li & Hoiem's weight 1
lwf_paper.method = "lwf (no T^2)"
print(format_table([cil[0], cil[3], *others, lwf_paper]))
agem, lwf = others
for r in (cil[0], cil[3], lwf, lwf_paper):
    print(f"{r.method:<13} final accuracy per task: {', '.join(f'{a:.2f}' for a in r.acc_matrix[-1])}")
print(f"LwF minus naive: ACC {lwf.summary()['acc'] - acc['naive']:+.3f}")

# %%
final = {r.method: r.acc_matrix[-1] for r in (cil[0], cil[3], lwf)}
course.expect(acc["naive"] + 0.2 < agem.summary()["acc"] < acc["replay"], "A-GEM 比 naive 好很多，但不如 replay", full_only=True)
course.expect(max(lwf.summary()["acc"], lwf_paper.summary()["acc"]) < 0.3, "LwF 在 class-incremental 中救不回舊類別", full_only=True)
course.expect(final["lwf"][:3].max() < 0.005 and 0 < final["lwf"][3] < 0.3, "LwF 的前三個任務歸零，前一個任務只留下一點",
              full_only=True)
course.expect(final["lwf"][-1] < final["naive"][-1] and final["lwf"][3] > final["naive"][3]
              and 0 < lwf.summary()["acc"] - acc["naive"] < 0.05,
              "LwF 的最後一個任務比 naive 低、前一個任務比 naive 高，ACC 只比 naive 高一點", full_only=True)
course.expect(final["replay"][-1] < final["naive"][-1] and final["replay"][:-1].min() > 0.5,
              "replay 的最新任務也比 naive 低一點，但每個舊任務都保住了大半", full_only=True)
paper_gap = abs(lwf_paper.acc_matrix[-1] - final["naive"]).max()
course.expect(paper_gap < 0.02 and abs(lwf_paper.summary()["acc"] - acc["naive"]) < 0.01,
              "拿掉 T^2（原文的權重）之後，LwF 每個任務的 accuracy 都和 naive 幾乎一樣", full_only=True)

# %% [markdown]
# **A-GEM** 比 naive 好很多，但不如 replay：投影只是不讓這一步的 gradient 和 memory batch 的 gradient 衝突（而且用 Adam 時只對交給 Adam 的 gradient 成立，見上面 A-GEM 的說明），卻沒有直接訓練舊類別與新類別的比較。它的「便宜」是和 GEM 比（GEM 每一步要解一個 quadratic program），不是和 replay 比。從做法來推（這是計算量的推理，不是量測）：replay 每一步對目前的 batch 加上一樣大的 replay batch 做一次 forward 與 backward；A-GEM 除了目前的 batch，還要在 memory batch（印出的 `replay_batch_size`，比 5.3 節印出的 `config` 中的 `batch_size` 128 大）上另做一次 forward 與 backward，再把所有參數的 gradient 攤平、投影、寫回。表格的 seconds 欄和 5.3 節說的一樣只是這一次的實測時間，不能用來比較方法的成本。

# %% [markdown]
# **LwF** 也停在 0.2 附近（表中的 ACC）；每個任務最後的 accuracy 印在表格下面：
# - 前三個任務一樣歸零，只有剛學完的前一個任務（task 3）留下一點。LwF 只要求新模型在新圖片上「舊類別之間的相對機率」和舊模型一樣，從來沒有要求舊類別的 logit 和新類別比，所以新類別的 logit 照樣蓋過舊類別。
# - LwF 的 ACC 只比 naive 高一點（`LwF minus naive`），差在**最後學的兩個任務**：distillation 項限制了模型的改變，最新的任務（task 4）學得比 naive 少一點，前一個任務（task 3）則留下一點。少學一點新任務不是 LwF 獨有的：replay 的最新任務也比 naive 低一點（`replay` 那一列），但它換回了每個舊任務的大半 accuracy。
# - 把 $T^2$ 拿掉（`alpha = 0.25`，原文的權重），distillation 項的權重變小，每個任務的 accuracy 都和 naive 幾乎一樣（`lwf (no T^2)` 那一列）：在原文的權重下，LwF 在這裡看不出任何作用。

# %% [markdown]
# ## 練習 5.2：把 replay 放進你的 training loop
#
# 第 1 章的 `train_task` 只要改一個地方：每個 mini-batch 接上一個從 buffer 抽出、一樣大的 replay batch。第 1 章的 loop 呼叫 `model(x, task.id)`（整個 batch 一個 task id）；`model(x, task_ids)` 也接受一個 tensor，每個樣本各自的 task id，replay batch 的樣本就要這樣傳。完成 `train_task_replay(model, task, epochs, batch_size, lr, gen, buffer)`：`buffer` 是 `cl_helpers.buffer.ReplayBuffer`，由套件在每個任務結束時把該任務的訓練樣本放進去（和 `replay` strategy 的 `after_task` 一樣）。`buffer.sample(n)` 回傳 `(x, y, task_ids)`；buffer 是空的時候（第一個任務）不能抽。
#
# 檢查器**自己建一條小的 stream**，不是本章的 `split`：3 個 class-incremental split MNIST 任務，每個任務 1,000 張訓練圖、300 張測試圖，一層 100 個 hidden units 的 MLP，每個任務 2 個 epochs、batch size 128（這些設定寫在 `cl_helpers/teaching/exercises/ch05_loop.py` 與 `loop.py` 的 `LoopSettings` 裡）。它在這條 stream 上用同樣的 seed，把你的 loop 和 `train_stream` 配上 `get_strategy("replay", buffer_size=200)` 比較：accuracy matrix 與最後的權重都要一樣（權重只容許浮點誤差）。注意每個任務的樣本數不是 batch size 的倍數，每個 epoch 最後一個 mini-batch 比較小，replay batch 要和**這個** batch 一樣大。
#
# 卡住了？`replay_loop_exercise.hint(1)`；`hint(3)` 幾乎就是解答，`hint(4)` 直接印出參考解答。

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
# 檢查器的訊息說「這一章接下來用你的函式」或「先用 cl_helpers 的參考答案」，但這一章後面的實驗都直接用 `train_stream` 與套件的 `replay`、`agem` strategy，沒有再用到 `my_train_task_replay`（練習 5.3 的 `my_train_task_agem` 也一樣）：這兩個練習只是讓你確認，自己寫的 loop 和套件做的事完全相同。
#
# 在 engine 裡，接上 replay batch 的就是 `strategy.make_batch(x, y, tids, t)`，把任務的樣本放進 buffer 的是 `strategy.after_task`。A-GEM 則不改 batch，而是在 `loss.backward()` 之後、`optimizer.step()` 之前（`strategy.after_backward`）用 memory 上的 gradient 投影 `.grad`：同一個 loop，不同的 hook。

# %% [markdown]
# ## 練習 5.3（選做）：A-GEM 的投影
#
# 同一個 loop，這次不改 batch，只改 `loss.backward()` 和 `optimizer.step()` 之間。`memory` 和練習 5.2 的 `buffer` 一樣是 `cl_helpers.buffer.ReplayBuffer`：`memory.sample(64)` 回傳 64 個樣本的 `(x, y, task_ids)`。memory 不是空的時候，抽 64 個 memory 樣本算 reference gradient $g_{\text{ref}}$；如果這一步的 gradient $g$ 和它夾角超過 90 度（$g \cdot g_{\text{ref}} < 0$：用 SGD 沿 $-g$ 走一小步，memory 的 loss 會上升；這裡和套件一樣用 Adam，投影之後 memory 的 loss 仍可能上升，見 5.5 節），就把 `.grad` 換成投影 $g - \frac{g \cdot g_{\text{ref}}}{g_{\text{ref}} \cdot g_{\text{ref}}} g_{\text{ref}}$。$g$ 與 $g_{\text{ref}}$ 是所有參數攤平接成的一個向量。
#
# **注意**：$g$ 已經在 `.grad` 裡；$g_{\text{ref}}$ 要用 `torch.autograd.grad` 算，不要再呼叫一次 `backward()`：它會把 $g_{\text{ref}}$ 加進 `.grad`，$g$ 就被改掉了。
#
# 檢查器用和練習 5.2 一樣的小 stream（不是本章的 `split`），把你的 loop 和 `train_stream` 配上 `get_strategy("agem", buffer_size=200, replay_batch_size=64)` 比較，並認得常見錯誤（沒投影、每一步都投影、用 `backward()` 算 $g_{\text{ref}}$）。卡住了？`agem_loop_exercise.hint(1)`；`hint(3)` 幾乎就是解答，`hint(4)` 直接印出參考解答。

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
# - 三大類方法：regularization（EWC、SI、MAS、LwF）不存資料但只保護舊任務「內部」的區分；replay 存少量舊資料；architecture（Progressive Networks、PackNet、per-task LoRA）不遺忘但需要 task id。
# - Reservoir sampling（algorithm R）讓固定大小的 buffer 隨時都是到目前為止看過的 stream 的均勻樣本：滿了之後，第 $n$ 個樣本（$n$ 從 0 數起）以機率 $M/(n+1)$ 取代一個隨機位置。原 notebook 的 buffer 一直 append、從不 evict，超過容量，而且訓練時根本沒用到它。
# - **Class-incremental 情境中，EWC、SI、LwF 與 naive 一樣只有約 0.2；replay 用 1,100 個樣本就遠高於它們**（Hsu et al. 2018：EWC 19.8%、SI 19.7% vs replay 90.8%）。換成 task-incremental，在這次的執行中 naive、EWC、SI 都幾乎不遺忘（van de Ven & Tolias 2019 的 naive 在 task-incremental 忘得比這裡多；Hsu et al. 2018 則發現調好的 naive 在這個情境已經和 EWC 差不多）。選方法前，先確認你的問題是哪一種情境（van de Ven & Tolias 2019）。
# - 下一章：自己實作 SI，並在同一張表上比較所有方法。

# %% [markdown]
# ## 延伸閱讀
#
# - J. S. Vitter. Random sampling with a reservoir. *ACM Transactions on Mathematical Software*, 1985.
# - Y.-C. Hsu, Y.-C. Liu, A. Ramasamy, Z. Kira. Re-evaluating continual learning scenarios: a categorization and case for strong baselines. [arXiv:1810.12488](https://arxiv.org/abs/1810.12488), 2018.
# - G. M. van de Ven, A. S. Tolias. Three scenarios for continual learning. [arXiv:1904.07734](https://arxiv.org/abs/1904.07734), 2019.
# - M. De Lange et al. A continual learning survey: defying forgetting in classification tasks. [arXiv:1909.08383](https://arxiv.org/abs/1909.08383), 2019（*IEEE TPAMI* 2021）。

# %% [markdown]
# ### 本章的方法
#
# - A. Chaudhry, M. Rohrbach, M. Elhoseiny, T. Ajanthan, P. K. Dokania, P. H. S. Torr, M. Ranzato. On tiny episodic memories in continual learning. [arXiv:1902.10486](https://arxiv.org/abs/1902.10486), 2019.（本章這種 experience replay：小 memory、reservoir sampling、replay batch 與目前的 batch 一起訓練）
# - D. Rolnick, A. Ahuja, J. Schwarz, T. Lillicrap, G. Wayne. Experience replay for continual learning. [arXiv:1811.11682](https://arxiv.org/abs/1811.11682), 2019.（強化學習中的 replay）
# - A. Chaudhry, M. Ranzato, M. Rohrbach, M. Elhoseiny. Efficient lifelong learning with A-GEM. [arXiv:1812.00420](https://arxiv.org/abs/1812.00420), 2019.
# - Z. Li, D. Hoiem. Learning without forgetting. [arXiv:1606.09282](https://arxiv.org/abs/1606.09282), 2016.
# - G. Hinton, O. Vinyals, J. Dean. Distilling the knowledge in a neural network. [arXiv:1503.02531](https://arxiv.org/abs/1503.02531), 2015.（$T^2$ 的由來）

# %% [markdown]
# ### 課程與作業
#
# - 李宏毅，機器學習 2021 春，Life-long Learning（replay、generative replay 與三類方法）：[課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)。
# - 作業：[ML 2025 春 HW6](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php)（同一份作業也是 [GenAI-ML 2025 秋 HW8](https://speech.ee.ntu.edu.tw/~hylee/GenAI-ML/2025-fall.php)）用 LoRA 在 GSM8K 上微調 Llama-3.2-1B-Instruct，同時看它的 safety 忘了多少。助教提供的 `gsm8k_train_self-instruct.jsonl` **不是** replay：裡面是**同樣的** GSM8K 訓練題目，答案由 Llama-3.2-1B-Instruct 自己重新生成。也就是新任務的資料、但用模型自己的話說（self-distillation，參見 SDFT, Yang et al. 2024），讓微調少改動模型原本的輸出分布；它沒有重播任何舊任務的 prompt。這一章的 replay 則是把舊任務的樣本本身存下來、一起訓練。

# %%
course.run_time()
