# %% [markdown]
# # 第 7 章：Generative Replay、Pseudo-rehearsal、Progressive Networks 與 PackNet
#
# 第 5 章的三大類方法表裡，有四個方法只出現了名字。這一章把它們實際跑起來：
# 1. **Generative replay**（Shin et al. 2017；van de Ven & Tolias 2018）：不存圖片，改存一個會「做夢」的生成模型（VAE），
#    用它產生舊任務的輸入，再由**上一個**分類器標記；
# 2. **Pseudo-rehearsal**（Robins 1995）：連生成模型都不要，直接用雜訊當輸入；看它在哪裡不夠；
# 3. 練習：generative replay 的 loss（誰來標記重播的輸入？新舊兩部分怎麼加權？），有自動檢查；
# 4. **Progressive Networks**（Rusu et al. 2016）與 **PackNet**（Mallya & Lazebnik 2018）：architecture 類，
#    知道 task id 時完全不遺忘；一個參數隨任務數成長，一個容量固定；
# 5. 用 slider 調 PackNet 的 prune fraction；
# 6. 把第 5 章的三大類表格，用這門課所有方法的實測數字填滿。
#
# ⏱️ 執行時間（full mode，課程的 MNIST 子集：6,309 張訓練圖，實測）：2-core CPU 約 59 秒。
# 最花時間的是 generative replay 的 VAE：每個任務 200 步。本次沒有 GPU 可測。

# %%
# 環境設定 / Setup：同一個 cell 在 JupyterLab 與 Colab 都能用。
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install cl_helpers from the course repository (torch/ipywidgets untouched)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/__REPO__"], check=True)

import dataclasses
import matplotlib.pyplot as plt
from cl_helpers import course, make_stream, train_stream, get_strategy, run_methods, TrainConfig, plots, format_table
from cl_helpers.teaching.course import pick
from cl_helpers.teaching.quiz import ask

device = course.setup(seed=0)

# %% [markdown]
# ## 7.1 Generative replay：不存圖片，存一個會做夢的模型
#
# 第 5 章的 experience replay 要存舊任務的**真實圖片**。如果不能存（隱私、儲存空間），能不能改存一個**生成模型**，
# 需要時再「夢」出舊任務的圖片？這就是 deep generative replay（DGR）：
#
# - **Generator**：一個小的 VAE（variational autoencoder，`cl_helpers.vae.VAE`）。每個任務結束時，它學這個任務的圖片，
#   **同時重播自己上一版產生的圖片**；否則它也會遺忘，只會畫最新的兩個數字。
# - **Classifier**：學 task $t$ 時，每個 mini-batch 除了目前任務的 $B$ 張圖，再加上 $B$ 張 generator（task $t-1$ 結束時那一版）
#   夢出來的圖，標籤由**上一個任務結束時的 classifier**（凍結的副本）決定：
#   - hard labels：舊 classifier 在「已經見過的類別」中的 argmax；
#   - distillation（soft targets）：舊 classifier 在溫度 $T$ 下的 softmax，和 LwF 一樣乘上 $T^2$。
#
# 兩部分的 loss 按任務數加權（van de Ven & Tolias 2018）：目前任務代表 1 個任務，重播的部分代表之前的 $t-1$ 個，
#
# $$\mathcal{L} = \frac{1}{t}\,\mathcal{L}_{\text{current}} + \Big(1 - \frac{1}{t}\Big)\,\mathcal{L}_{\text{replay}},$$
#
# 其中 $t$ 是到目前為止見過的任務數（包含目前這個）。這樣每個任務的份量都一樣，不管已經過了幾個任務。

# %%
ask("Class-incremental split MNIST（5 個任務、一個 10 類的 head、測試時不給 task id）：第 5 章 EWC 與 naive 都只有約 0.2，"
    "experience replay（1100 張真實圖片）約 0.8。Generative replay 不存任何圖片，你猜它的 ACC 大約是？",
    ["約 0.2：沒有真實圖片，就和 EWC 一樣", "約 0.4 到 0.6：有幫助但差很多",
     "0.7 以上：接近存真實圖片的 replay"],
    answer=2,
    explain="VAE 夢出來的數字雖然模糊，但足以讓舊類別和新類別出現在同一個 batch，"
            "這正是 class-incremental 需要的（第 5 章 5.3 節）。下面的表格是實測結果。",
    key="ch07-gr-acc")

# %% [markdown]
# ## 練習 7.1：generative replay 的 loss
#
# 完成 `replay_loss`：`logits`, `y` 是目前任務的 mini-batch；`replay_logits` 是**正在訓練的模型**在重播輸入上的 logits，
# `old_replay_logits` 是**上一個任務結束時的模型**在同樣輸入上的 logits（還沒見過的類別已經設成 $-\infty$）；
# `tasks_seen` 是 $t$。回傳上面的 $\mathcal{L}$（兩個 cross-entropy，重播部分用 hard labels）。
# 卡住了？`replay_loss_exercise.hint(1)`、`hint(2)`、`hint(3)`。

# %% tags=["exercise"]
import torch.nn.functional as F

def replay_loss(logits, y, replay_logits, old_replay_logits, tasks_seen):
    """(1/t) * CE on the current batch + (1 - 1/t) * CE on the replayed inputs, labelled by the previous model."""
    # BEGIN SOLUTION: Exercise 7.1: the generative replay loss (try replay_loss_exercise.hint(1))
    labels = old_replay_logits.argmax(1)
    w = 1.0 / tasks_seen
    return w * F.cross_entropy(logits, y) + (1 - w) * F.cross_entropy(replay_logits, labels)
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch07_generative import replay_loss_exercise

my_replay_loss = replay_loss_exercise.check(replay_loss)

# %% [markdown]
# 檢查器會指出常見錯誤：用**正在訓練的模型**標記重播的輸入（模型只是在同意自己，舊類別會漂走）、50/50 混合、權重對調、
# 直接相加、把兩個 batch 接起來算一個 cross-entropy（那是 experience replay 的做法，權重由 batch 大小決定）、$t$ 差一。
#
# ## 7.2 Class-incremental split MNIST：generative replay 對上其他方法
#
# 和第 5 章同一條 stream：5 個任務 {0,1}, …, {8,9}，一個 10 類的 head。比較 naive、EWC、SI、experience replay（buffer 1100 張）、
# pseudo-rehearsal，以及 generative replay 的兩個版本。每個任務同樣的 epochs、同樣的 Adam 設定。
# Generative replay 的 VAE：encoder 784-128-(2x32)、decoder 32-128-784，每個任務 200 步（batch 128，Adam 3e-3）。

# %%
EPOCHS = pick(5, 2)
GEN_STEPS = pick(200, 40)
config = TrainConfig(epochs=EPOCHS)
split = make_stream("split", scenario="class", train_size=pick(None, 300), test_size=pick(1000, 300), device=device)
print(split)
cil = run_methods(split, ["naive", "ewc", "si", "replay", "pseudo_rehearsal"], config,
                  hparams={"replay": {"buffer_size": 1100}})
gr = train_stream(split, get_strategy("generative_replay", generator_steps=GEN_STEPS), config)
gr_distill = train_stream(split, get_strategy("generative_replay", generator_steps=GEN_STEPS, distill=True), config)
gr_distill = dataclasses.replace(gr_distill, method="generative_replay+distill")
cil += [gr, gr_distill]
print(format_table(cil))
plots.plot_comparison(cil, title="class-incremental split MNIST (5 tasks, one 10-way head)")
plt.show()

# %% [markdown]
# **記憶體**：replay 存的是圖片，generative replay 存的是 generator 的參數。下表的 "stored numbers" 是每個方法在訓練結束時，
# 模型之外**實際持有**的數字個數（`cl_helpers.experiments.family.stored_numbers` 逐一數 strategy 裡的 tensor），
# "(images)" 換算成等量的 28x28 圖片張數。注意 generative replay 訓練時還持有 generator 與 classifier 的凍結副本，
# 表格把它們也算進去；"new task" 是每個任務剛學完時的平均準確率（$R_{k,k}$ 的平均），"old tasks" 是最後對前 4 個任務的平均準確率。

# %%
from cl_helpers.experiments.family import format_family_table

print(format_family_table(cil))
print(f"generator parameters alone: {gr.strategy.generator_parameters():,} "
      f"(= {gr.strategy.generator_parameters() / split.input_size:.0f} images); "
      f"replay buffer: 1100 images x {split.input_size} pixels = {1100 * split.input_size:,} numbers")

# %%
acc = {r.method: r.summary()["acc"] for r in cil}
print(f"generative replay ACC {acc['generative_replay']:.3f}, with distillation {acc['generative_replay+distill']:.3f}; "
      f"naive {acc['naive']:.3f}, EWC {acc['ewc']:.3f}, SI {acc['si']:.3f}, pseudo-rehearsal {acc['pseudo_rehearsal']:.3f}, "
      f"experience replay {acc['replay']:.3f}")
if not course.fast_mode():   # the chapter's claims, checked at the chapter's settings
    assert acc["generative_replay"] >= 0.5 and acc["generative_replay+distill"] >= 0.5
    assert min(acc["generative_replay"], acc["generative_replay+distill"]) > max(acc["naive"], acc["ewc"], acc["si"]) + 0.3
    assert acc["pseudo_rehearsal"] < acc["naive"] + 0.1

# %% [markdown]
# 上面印出的數字：generative replay 0.813、加上 distillation 0.824，experience replay 0.841，naive、EWC、SI 與
# pseudo-rehearsal 都在 0.19 左右（cell 也檢查了：full mode 下 generative replay 兩個版本都至少 0.5，並且比 naive、EWC、SI
# 高 0.3 以上；pseudo-rehearsal 與 naive 相差不到 0.1）。記憶體表中，generator 本身 214,096 個參數（約 273 張圖），
# 連同訓練時的凍結副本共 697,524 個數字，仍少於 1100 張圖的 buffer（864,600）。
# van de Ven & Tolias (2018) 在完整的 MNIST 上（MLP 2x400，每個任務 2000 iterations，20 個 seeds）得到：
#
# | 方法 | class-incremental split MNIST ACC（van de Ven & Tolias 2018） |
# |---|---|
# | None（naive） | 19.90% |
# | EWC | 19.90% |
# | SI | 20.04% |
# | LwF | 24.17% |
# | DGR | 91.24% |
# | DGR + distillation | 91.84% |
# | Offline（joint） | 97.93% |
#
# 我們的資料約是他們的十分之一、每個任務只訓練 5 個 epochs（約 50 步，他們 2000 步），所以數字比較低，但順序相同：
# regularization 停在約 0.2，generative replay 遠高於它們。
#
# ### 模型的「夢」
#
# 下面是同一組 20 個 latent code $z$，在每個任務結束後由 generator 解碼出的圖（最後一個任務之後沒有人會再重播，所以不訓練 generator）。
# 每一列都是**同樣的 $z$**：看它們隨任務累積變成哪些數字。

# %%
plots.plot_dreams(gr.strategy.dreams, split.image_shape, n=10,
                  title="generative replay: the VAE's samples after each task (same latent codes in every row)")
plt.show()

# %% [markdown]
# 第一列是只學過 0 和 1 之後的 generator；之後每一列多學了一個任務，解碼的是同樣的 $z$。看看同一個 $z$ 的圖怎麼變：
# generator 靠重播自己的舊樣本把舊數字帶著走，但它要畫的數字種類越來越多，每一種分到的容量越來越少。
# 測試 `tests/test_generative_replay.py` 另外訓練一個分類器來判讀這些樣本：task 0 之後的樣本大多被判成 0 或 1；
# 而「不重播自己」的 generator 在 task 1 之後幾乎完全畫不出 0 和 1。
#
# ## 7.3 Pseudo-rehearsal：用雜訊代替夢
#
# Robins (1995) 的 pseudo-rehearsal 連生成模型都不用：隨機產生輸入（這裡每個像素在資料的數值範圍內均勻分布），
# 記下舊模型在這些輸入上的輸出，學新任務時一起「複習」。它在很小的網路、低維度的輸入上有效；
# 但 784 維的均勻雜訊離手寫數字非常遠：在雜訊上保持輸出不變，幾乎不限制模型在真實數字上的行為。
# 上表 class-incremental 的結果和 naive 差不多。在舊任務的類別不會被新任務蓋掉的情境（task-incremental、domain-incremental）呢？

# %%
perm = make_stream("permuted", n_tasks=3, train_size=pick(2000, 500), test_size=pick(500, 200), seed=0, device=device)
pr = run_methods(perm, ["naive", "pseudo_rehearsal", "lwf"], TrainConfig(epochs=pick(3, 1)))
print(perm)
print(format_table(pr))

# %% [markdown]
# 在 permuted MNIST（domain-incremental）上，pseudo-rehearsal 的 forgetting 是 0.158，naive 是 0.173：只少一點點。
# 用**目前任務的真實圖片**做同樣 distillation 的 LwF 是 0.097：兩者只差在「用什麼輸入複習」。
# 結論：replay 的關鍵是輸入要像資料；均勻雜訊太不像，generator 的夢夠像（上面 class-incremental 的表格）。
#
# ## 7.4 Architecture 類：Progressive Networks 與 PackNet
#
# 這兩個方法都需要**測試時的 task id**（task-incremental），換來的是**完全不遺忘**：
#
# - **Progressive Networks**：每個任務一個新的 column（一個完整的 MLP），之前的 columns 全部凍結；新 column 的每一層
#   除了讀自己的上一層，也透過 lateral connections 讀所有舊 columns 的上一層（舊的特徵可以重用，但不會被改）。
#   Task $k$ 的輸出只由 columns $0..k$ 計算，所以之後的任務根本碰不到它。代價：參數隨任務數成長。
# - **PackNet**：只有一個網路，容量固定。每個任務訓練目前「空著」的權重；結束時把其中絕對值最小的一部分（prune fraction）
#   設成 0、留給之後的任務，其餘的歸這個任務所有並凍結，再短暫 retrain 一個 epoch。推論 task $k$ 時只用 tasks $0..k$ 擁有的權重。
#
# 在 task-incremental split MNIST 上（每個任務自己的 2 類 head），和 naive 比。這一節的 MLP 每層 100 個 units
# （Progressive Networks 每個任務一整個 column，用小一點的 column 讓這一節快一些）：

# %%
til = make_stream("split", scenario="task", train_size=pick(None, 300), test_size=pick(1000, 300), device=device)
config_til = TrainConfig(epochs=pick(3, 1), hidden=(100, 100))
arch = run_methods(til, ["naive", "progressive", "packnet"], config_til)
print(til)
print(format_table(arch))
for r in arch[1:]:
    R = r.acc_matrix
    assert all(R[-1, k] == R[k, k] for k in range(len(R))), r.method   # bit-for-bit: no forgetting at all
    print(f"{r.method}: accuracy on every task right after it == at the end (BWT exactly {r.summary()['bwt']:.1f})")

# %% [markdown]
# 最後兩行由 cell 檢查：Progressive Networks 與 PackNet 每個任務最後的準確率，和剛學完時**完全相等**。
# （測試 `tests/test_progressive.py`、`tests/test_packnet.py` 更嚴格：舊任務的輸出 logits 逐位元相同；
# 沒凍結的 column、會讓之後任務改到凍結權重的 mask，都會讓測試失敗。）
#
# ### 參數量與任務數

# %%
from cl_helpers import count_parameters

pnn, packnet = arch[1], arch[2]
T = len(til)
counts = {"Progressive Networks (a column per task)": [pnn.model.n_parameters(k) for k in range(1, T + 1)],
          "PackNet (one network, masks)": [count_parameters(packnet.model, trainable_only=False)] * T}
for name, values in counts.items():
    print(f"{name:<42}" + "  ".join(f"{v:>9,}" for v in values))
plots.plot_parameter_growth(counts, title="parameters after each task (split MNIST, task-incremental)")
plt.show()

# %% [markdown]
# Progressive Networks 每多一個任務就多一整個 column，再加上從每個舊 column 來的 lateral connections（第 $k$ 個 column 有 $k$ 組），
# 所以成長得比線性還快一點；PackNet 的參數量不變（另外每個權重需要一個 owner 標籤：最多 256 個任務時，1 byte 就夠）。
# PackNet 的代價在別處：每個任務只拿到剩下的空間的一部分。
#
# ## 7.5 動手試試：PackNet 的 prune fraction

# %%
ask("PackNet 的 prune fraction = 每個任務結束時，把它訓練過的空權重中多少比例還回去（設成 0）給之後的任務。"
    "prune fraction 0.5、5 個任務之後，隱藏層還有多少比例的權重是空的？",
    ["約 50%", "約 10%", "約 3%"],
    answer=2,
    explain="每個任務拿走剩下空間的一半：0.5 → 0.25 → 0.125 → 0.0625 → 0.03125，也就是 0.5^5 ≈ 3%。"
            "容量以等比級數用完：越後面的任務，能訓練的權重越少（但它們可以讀前面凍結的權重）。",
    key="ch07-packnet-prune")

# %% [markdown]
# 拖動 slider 改變 prune fraction（放開滑鼠才會重新訓練；試過的值會被記住）：左圖是最後一個任務的準確率，以及訓練完之後還空著的權重比例
# （等於 prune$^5$）；右圖是這次的 accuracy matrix。先跑幾個值當起點：

# %%
from cl_helpers.teaching.widgets import explore, float_slider

tried = {}
for prune in pick([0.2, 0.8], [0.8]):
    r = train_stream(til, get_strategy("packnet", prune=prune), config_til, progress=False)
    tried[prune] = (r.acc_matrix[-1, -1], r.strategy.free_fraction())
    print(f"prune {prune:.1f}: last task {tried[prune][0]:.3f}, first task {r.acc_matrix[-1, 0]:.3f}, "
          f"weights free at the end {tried[prune][1]:.4f}, ACC {r.summary()['acc']:.3f}")

# %%
def run(prune, report):   # report(done, total) drives the slider's progress bar
    return train_stream(til, get_strategy("packnet", prune=prune), config_til, progress=False, report=report)

def show(r):
    prune = r.config["hparams"]["prune"]
    tried[prune] = (r.acc_matrix[-1, -1], r.strategy.free_fraction())
    text = (f"prune = {prune:.2f} | last task {tried[prune][0]:.3f} | weights free at the end {tried[prune][1]:.4f} | "
            f"ACC {r.summary()['acc']:.3f}")
    return plots.plot_prune_effect(tried, r), text

explore(run, show, prune=float_slider("prune fraction", 0.5, 0.05, 0.95, 0.05))

# %% [markdown]
# 上面印出的數字：prune 0.2 時，前四個任務各拿走剩下空間的 80%，最後一個任務只能訓練 $0.2^4 \approx 0.16\%$ 的權重，
# 準確率 0.690；prune 0.5 時 0.865；prune 0.8 時 0.939。第一個任務在三種設定下都是 1.000。
# 容量是 PackNet 的瓶頸，prune fraction 決定它怎麼分給前面與後面的任務。Progressive Networks 沒有這個問題，
# 但每個任務付出一整個 column。
#
# ## 7.6 三大類方法：實測的表格
#
# 第 5 章的表格只有文字。這裡用這門課的**所有方法**在同樣的設定下實測：class-incremental split MNIST（不給 task id 的方法），
# 以及 task-incremental split MNIST（architecture 類需要 task id）。欄位同上：持有的數字個數、剛學完時的準確率（new task）、
# 最後對舊任務的準確率（old tasks）、ACC。

# %%
more = run_methods(split, ["joint", "online_ewc", "mas", "agem", "lwf", "lora"], config,
                   hparams={"agem": {"buffer_size": 1100}})
print("class-incremental split MNIST (one 10-way head, no task id at test)")
print(format_family_table([*cil, *more]))
print()
lpt = train_stream(til, "lora_per_task", config_til, progress=False)
print("task-incremental split MNIST (task id given at test)")
print(format_family_table([*arch, lpt]))

# %% [markdown]
# 從上面兩張表讀出三大類的取捨（數字都在表裡）：
#
# - **Regularization**（EWC、online EWC、SI、MAS、LwF）：持有的是參數的重要性與 anchor（或舊模型），不存資料；
#   class-incremental 時 old tasks 幾乎是 0（MAS 0.286 是例外，仍遠低於 replay）。
# - **Replay**（experience replay、A-GEM、generative replay、pseudo-rehearsal）：experience replay 與 A-GEM 存圖片，
#   generative replay 存 generator（加上訓練時的凍結副本），old tasks 在 0.62 到 0.86 之間；pseudo-rehearsal 是 0。
# - **Architecture**（LoRA per task、Progressive Networks、PackNet）：需要 task id；Progressive Networks 與 PackNet
#   的 old tasks 就是剛學完時的準確率（上面的檢查）。Progressive Networks 多出四個 column 與 laterals（456,400 個數字），
#   PackNet 只多了每個權重的 owner 標籤（88,400 個）。單一 LoRA adapter（`lora`）放在 class-incremental 表裡：它和 naive 一樣遺忘。
# - Joint training 把所有資料都留著：它是上限，也是記憶體最大的一個。
#
# ## 小結
#
# - **Generative replay** 不存圖片：一個重播自己的 VAE 夢出舊任務的輸入，由**上一個** classifier 標記；
#   新舊兩部分按 $1/t : (t-1)/t$ 加權。class-incremental 時（0.813 / 0.824）接近存圖片的 replay（0.841），遠高於 regularization。
# - **Pseudo-rehearsal** 用雜訊代替夢：784 維的雜訊太不像手寫數字，幾乎沒有幫助。
# - **Progressive Networks** 與 **PackNet** 給了 task id 就完全不遺忘（逐位元相同）：前者參數隨任務成長，後者容量固定、
#   由 prune fraction 分配。
# - 下一章：把這些概念帶到 language model 的 fine-tuning。
#
# ### 參考文獻
#
# - H. Shin, J. K. Lee, J. Kim, J. Kim. Continual learning with deep generative replay. NeurIPS 2017.
# - G. M. van de Ven, A. S. Tolias. Generative replay with feedback connections as a general strategy for continual
#   learning. arXiv:1809.10635, 2018.
# - A. Robins. Catastrophic forgetting, rehearsal and pseudorehearsal. *Connection Science*, 1995.
# - A. A. Rusu et al. Progressive neural networks. arXiv:1606.04671, 2016.
# - A. Mallya, S. Lazebnik. PackNet: adding multiple tasks to a single network by iterative pruning. CVPR 2018.
# - D. P. Kingma, M. Welling. Auto-encoding variational Bayes. ICLR 2014.
