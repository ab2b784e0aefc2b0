# %% [markdown]
# # 第 4 章：LoRA，學得少、忘得也少 (Low-Rank Adaptation)
#
# EWC 用一個 penalty 把重要的權重拉住。另一個思路是**根本不動原本的權重**：把它們凍結，只訓練一個很小的、
# 低秩（low-rank）的修正量。這就是 **LoRA**（Hu et al. 2021），今天微調大型語言模型（LLM）最常用的方法。**這一章你會學到：**
# 1. LoRA layer：$W x + \frac{\alpha}{r} B A x$，以及為什麼 $B = 0$ 初始化讓模型一開始完全不變；
# 2. 練習：自己寫 LoRA 的 forward，以及它的 trainable parameters 數量（有自動檢查）；
# 3. 在 permuted MNIST 上比較 full fine-tuning 與 LoRA：新任務學得如何、舊任務忘了多少；
# 4. rank $r$ 的影響（rank sweep）；
# 5. 每個任務一個 adapter：已知 task id 時完全不遺忘；
# 6. 用 slider 調 rank、alpha 與 epochs；
# 7. 和 LLM 微調（課程作業 HW6）的關係。
#
# 資料：permuted MNIST 取訓練集最前面的 5,000 張圖，課程附的 MNIST 子集（前 6,309 張）與完整 MNIST 結果相同。
#
# ⏱️ 執行時間（full mode，實測）：2-core CPU 約 24 秒。本次沒有 GPU 可測；模型很小，CPU 就夠了。

# %%
# 環境設定 / Setup：同一個 cell 在 JupyterLab 與 Colab 都能用。
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install cl_helpers from the course repository (torch/ipywidgets untouched)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/__REPO__"], check=True)

import copy
import torch
import matplotlib.pyplot as plt
from cl_helpers import course, make_stream, train_stream, get_strategy, plots, format_table, MLP, count_parameters
from cl_helpers.teaching.course import pick

device = course.setup(seed=0)

# %% [markdown]
# ## 4.1 LoRA layer
#
# 一個 `nn.Linear` 計算 $W x + b$，$W$ 是 out × in 的矩陣。LoRA 把 $W$、$b$ **凍結**，另外加上兩個小矩陣
# $A$（r × in）與 $B$（out × r）：
#
# $$h = W x + b + \frac{\alpha}{r}\, B A x .$$
#
# - 修正量 $\Delta W = \frac{\alpha}{r} B A$ 的 rank 最多是 $r$（例如 $r = 8$），而 $W$ 是 256 × 784。
#   $B A x$ 永遠落在 $B$ 的 $r$ 維 column space 裡（輸出只能往 $r$ 個方向改變），而且只對輸入的 $r$ 個方向
#   （$A$ 的 $r$ 個 row）有反應：輸入中和 $A$ 的 row 都垂直的部分，adapter 完全看不到。
#   要訓練的數字從 out·in 變成 $r\,(\text{in} + \text{out})$。
# - $A$ 隨機初始化，**$B = 0$**：一開始 $\Delta W = 0$，模型的輸出和原本**完全相同**，fine-tuning 從原模型出發，
#   而不是從一個被隨機 adapter 弄壞的模型出發。（若 $A$、$B$ 都是 0，梯度也都是 0，永遠學不動；所以只有一個是 0。）
# - $\frac{\alpha}{r}$：固定的縮放。$\alpha = r$ 時縮放是 1；固定 $\alpha$ 而加大 $r$，每個方向的更新就變小。
# - 訓練完可以把 $\Delta W$ 加回 $W$（merge），推論時不多花任何計算。
#
# 先拿一個在 task 0（原始 MNIST）上訓練好的模型，加上 LoRA（`cl_helpers.lora.add_lora`），確認輸出沒有變：

# %%
from cl_helpers.experiments.finetune import pretrained_model
from cl_helpers.lora import add_lora, count_trainable

EPOCHS = pick(5, 2)   # per task, as in the course's LoRA experiment
stream = make_stream("permuted", n_tasks=3, train_size=pick(5000, 1000), test_size=pick(1000, 500),
                     seed=0, device=device)
print(stream)
base = pretrained_model(stream, old_task=0, epochs=EPOCHS)   # trained on task 0 alone, cached
lora_model = add_lora(copy.deepcopy(base), rank=8)
print(lora_model)
x = stream[0].x_test
with torch.no_grad():
    same = torch.equal(base(x), lora_model(x))
print(f"outputs identical: {same}")

# %% [markdown]
# ## 練習 4.1：LoRA 的 forward
#
# 輸入 `x` 的形狀是 (N, in)（每一列一個樣本），`W` (out, in)、`b` (out,)、`A` (r, in)、`B` (out, r)。
# 寫出 $x W^\top + b + \frac{\alpha}{r}\, x A^\top B^\top$（也就是每個樣本的 $W x + b + \frac{\alpha}{r} B A x$）。
# 提示：先過 $r$ 維的瓶頸（$x A^\top$），不要真的算出 out × in 的 $BA$。卡住了？`lora_forward_exercise.hint(1)`、
# `lora_forward_exercise.hint(2)`……最後一步是解答。

# %% tags=["exercise"]
def lora_forward(x, W, b, A, B, alpha, r):
    """The frozen layer x W^T + b plus the low-rank update (alpha / r) x A^T B^T."""
    # BEGIN SOLUTION: Exercise 4.1: compute the LoRA layer's output (try lora_forward_exercise.hint(1))
    return x @ W.T + b + (alpha / r) * (x @ A.T) @ B.T
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch04_lora import lora_forward_exercise, lora_params_exercise

my_lora_forward = lora_forward_exercise.check(lora_forward)

# %% [markdown]
# 和 `cl_helpers.lora.LoRALinear` 比一比：取一層 784 → 256、rank 4、$\alpha = 8$ 的 LoRA layer，把 $B$ 設成非零
# （像訓練過一樣），兩者的輸出應該一樣：

# %%
from torch import nn
from cl_helpers.lora import LoRALinear

torch.manual_seed(0)
layer = LoRALinear(nn.Linear(stream.input_size, 256), rank=4, alpha=8.0)
with torch.no_grad():
    layer.B.normal_(0, 0.1)
    ours = my_lora_forward(x, layer.base.weight, layer.base.bias, layer.A, layer.B, layer.alpha, layer.rank)
    print(f"largest difference from LoRALinear: {float((ours - layer(x)).abs().max()):.1e}")

# %% [markdown]
# ## 4.2 要訓練多少參數？
#
# 課程的 MLP 是 784-256-256-10，共三個 `nn.Linear`。full fine-tuning 訓練全部參數；LoRA 只訓練每一層的 $A$ 與 $B$。
# （輸出層只有 10 個 unit，所以它的 rank 最多是 10；下面 rank 16 以上只在兩個 hidden layer 加 adapter。）
#
# ## 練習 4.2：算出 LoRA 的 trainable parameters
#
# `layer_shapes` 是每一層的 `(in_features, out_features)`，每一層都加一個 rank `rank` 的 adapter；
# $W$ 與 bias 都凍結、不算。卡住了？`lora_params_exercise.hint(1)`，一步一步到解答。

# %% tags=["exercise"]
def lora_trainable_params(layer_shapes, rank):
    """Trainable numbers of rank-`rank` adapters on every layer (in, out) of layer_shapes; W and bias frozen."""
    # BEGIN SOLUTION: Exercise 4.2: count the adapter parameters (try lora_params_exercise.hint(1))
    return sum(rank * d_in + d_out * rank for d_in, d_out in layer_shapes)
    # END SOLUTION

# %%
my_lora_params = lora_params_exercise.check(lora_trainable_params)

# %% [markdown]
# 用你的函式（或參考答案）和真正加上 adapter 的模型對照。「share」是 adapter 的參數量除以**原本模型**的參數量
# （269,322），這一章所有的表都用同一個分母。這個表和資料無關，每次執行都一樣：

# %%
# NBVAL_CHECK_OUTPUT
mlp = MLP(784, (256, 256), 10)
layers = [(784, 256), (256, 256), (256, 10)]
full = count_parameters(mlp)
print(f"{'fine-tuning':<28}{'trainable':>10}{'share':>8}{'your count':>12}")
print(f"{'full (every weight)':<28}{full:>10,}{1:>8.1%}{'':>12}")
for rank in (1, 2, 4, 8):
    n = count_trainable(add_lora(copy.deepcopy(mlp), rank))
    print(f"{f'LoRA r={rank}, all 3 layers':<28}{n:>10,}{n / full:>8.1%}{my_lora_params(layers, rank):>12,}")
for rank in (16, 32, 64):
    n = count_trainable(add_lora(copy.deepcopy(mlp), rank, targets="body"))
    print(f"{f'LoRA r={rank}, hidden layers':<28}{n:>10,}{n / full:>8.1%}{my_lora_params(layers[:2], rank):>12,}")

# %% [markdown]
# ## 4.3 Full fine-tuning vs LoRA
#
# 從同一個 task 0 的模型出發，在 task 1（一個 permuted task）上 fine-tune 5 個 epochs（和課程一樣），
# 一次訓練全部權重，一次只訓練 rank 8 的 adapters（`cl_helpers.experiments.finetune.compare_finetuning`：同樣的資料順序與
# optimizer）。之後看：新任務（task 1）學到多少、舊任務（task 0）還剩多少。
# Adapter 加在兩個 hidden layer（`targets="body"`），輸出層凍結：permuted MNIST 的標籤不變，而且這樣 rank
# 可以一路掃到 128（輸出層的 rank 最多 10）。

# %%
from cl_helpers.teaching.quiz import ask

ask("從同一個 task 0 模型出發，在 task 1 上 fine-tune：一次訓練全部權重，一次只訓練 rank 8 的 LoRA adapters。"
    "哪一個讓 task 0 忘得比較多？",
    ["full fine-tuning", "LoRA：參數少，每個參數都得改更多", "差不多：兩者最後都學會了 task 1"],
    answer=0, key="ch4-full-vs-lora",
    explain="LoRA 的修正 BA 只能沿著少數幾個方向改變每一層，其他輸入經過這一層時和原本一樣；full fine-tuning 可以改掉"
            "舊任務依賴的任何部分。代價是 LoRA 在新任務上也學得比較少：learns less, forgets less。")

# %%
from cl_helpers.experiments.finetune import compare_finetuning, format_finetuning
from cl_helpers.plots import plot_finetuning

TARGETS = "body"
compared = compare_finetuning(stream, rank=8, epochs=EPOCHS, targets=TARGETS)
print(format_finetuning(compared))
plot_finetuning(compared)
plt.show()

# %% [markdown]
# %%
full_ft, lora_ft = compared
print(f"full: new task {full_ft.new_after:.3f}, old task {full_ft.old_before:.3f} -> {full_ft.old_after:.3f} "
      f"(forgets {full_ft.forgetting:.3f})")
print(f"LoRA r=8 trains {lora_ft.share:.1%} of the parameters: new task {lora_ft.new_after:.3f}, "
      f"old task {lora_ft.old_before:.3f} -> {lora_ft.old_after:.3f} (forgets {lora_ft.forgetting:.3f})")
course.expect(full_ft.new_after > lora_ft.new_after, "LoRA 在新任務上學得比 full fine-tuning 少")
course.expect(lora_ft.forgetting < full_ft.forgetting, "LoRA 忘得比 full fine-tuning 少")

# %% [markdown]
# - Full fine-tuning 把新任務學得最好，舊任務也掉得最多。
# - LoRA 只訓練一小部分參數：新任務學得少一點，舊任務卻保留得多。
#   這就是 Biderman et al. (2024) 在 LLM 上的結論：**LoRA learns less and forgets less**。
#
# 為什麼？每一層的修正 $B A x$ 只能讓輸出往 $B$ 的 $r$ 個方向改變，而且只對輸入的 $r$ 個方向（$A$ 的 row）有反應；
# 其他輸入經過這一層時，和原本完全一樣。full fine-tuning 則可以任意改變每一層對任何輸入的反應，包括舊任務依賴的部分。
#
# ## 4.4 Rank 的影響
#
# 同一個 task 0 模型（cache 住，只訓練一次），rank 從 1 到 128 各 fine-tune 一次（`rank_sweep`）：

# %%
ask("LoRA 的 rank 從 1 加到 128（α = r），task 0 的遺忘會怎樣變化？",
    ["rank 越大忘得越少", "rank 越大忘得越多，越來越接近 full fine-tuning", "不是單調的：中等的 rank 忘得最少"],
    answer=2, key="ch4-rank",
    explain="rank 越大，新任務學得越多、ΔW 每一步也改變得越多，所以大 rank 忘得多；但 rank 1 也忘得多：只有一個方向可用，"
            "新任務的 loss 一直很大，Adam 把那個方向推得很遠。下面的 sweep 是實測，之後會看到 α / r 才是關鍵。")

# %%
from cl_helpers.experiments.finetune import rank_sweep
from cl_helpers.plots import plot_rank_sweep
from cl_helpers.plots import plot_rank_curves

ranks = [r for r in pick((1, 2, 4, 8, 16, 32, 64, 128), (1, 4, 16)) if r <= min(stream.input_size, 256)]
swept = rank_sweep(stream, ranks=ranks, epochs=EPOCHS, targets=TARGETS)
print(format_finetuning(swept))
fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.2))
plot_rank_curves(swept, ax=a)
plot_rank_sweep(swept, ax=b)
fig.tight_layout()
plt.show()

# %% [markdown]
# %%
by_rank = {r.rank: r for r in swept if r.rank is not None}
least = min(by_rank.values(), key=lambda r: r.forgetting)
print(f"least forgetting at rank {least.rank} ({least.forgetting:.3f}); rank {min(by_rank)}: "
      f"{by_rank[min(by_rank)].forgetting:.3f}, rank {max(by_rank)}: {by_rank[max(by_rank)].forgetting:.3f}, "
      f"full fine-tuning: {full_ft.forgetting:.3f}")
course.expect(by_rank[max(by_rank)].new_after > by_rank[min(by_rank)].new_after, "rank 越大，新任務學得越多")
course.expect(min(by_rank) < least.rank < max(by_rank), "遺忘最少的是中等的 rank，不是最小或最大的 rank", full_only=True)

# %% [markdown]
# - 新任務的 accuracy 隨 rank 上升，rank 越大越接近 full fine-tuning（虛線）。
# - 遺忘**不是**單調的：中等的 rank 遺忘最少；rank 1 和最大的 rank 都忘得多（上面印出的數字；完整的 sweep 中，
#   rank 128 甚至比 full fine-tuning 忘得還多）。
# - 右圖把同樣的結果畫成「學到多少 vs 忘了多少」。
#
# 為什麼大 rank 忘得多？這裡 $\alpha = r$，縮放 $\alpha / r = 1$。$\Delta W = B A = \sum_{k=1}^{r} b_k a_k^\top$ 是 $r$ 個
# rank-one 矩陣的和；Adam 每一步讓 $A$、$B$ 的每個元素移動約 lr，所以 rank 越大，$\Delta W$ 每一步改變得越多。
# Rank 1 則相反：只有一個 rank-one 項，新任務學不好、loss 一直很大，Adam 就把這一項一路推得很遠。
# 所以 $\alpha / r$ 其實是 adapter 的 learning rate。驗證：同樣的 rank，把 $\alpha$ 調小：

# %%
from cl_helpers.experiments.finetune import finetune

big, small = max(ranks), min(ranks)
scaled = [finetune(stream, big, alpha=big, targets=TARGETS, epochs=EPOCHS),
          finetune(stream, big, alpha=8.0 if big > 8 else big / 4, targets=TARGETS, epochs=EPOCHS),
          finetune(stream, small, alpha=small, targets=TARGETS, epochs=EPOCHS),
          finetune(stream, small, alpha=small / 4, targets=TARGETS, epochs=EPOCHS)]
print(f"{'':<12}{'alpha':>7}{'scale':>7}" + format_finetuning(scaled).splitlines()[0][12:])
for r, line in zip(scaled, format_finetuning(scaled).splitlines()[1:]):
    print(f"{line[:12]}{r.alpha:>7g}{r.alpha / r.rank:>7.3g}{line[12:]}")
course.expect(scaled[1].forgetting < scaled[0].forgetting and scaled[3].forgetting < scaled[2].forgetting,
              "縮放 alpha / r 變小，大 rank 與小 rank 都忘得更少", full_only=True)

# %% [markdown]
# 縮放變小後，大 rank 與 rank 1 的遺忘都下降（新任務也少學一點）。所以 rank 與 $\alpha$ 要一起看：
# 很多實作固定 $\alpha$（例如 16）或用 $\alpha = 2r$；rsLoRA（Kalajdzievski 2023）建議把縮放改成 $\alpha / \sqrt{r}$，
# 讓大 rank 的訓練一樣穩定。4.6 節的 slider 可以分別調 rank 與 $\alpha$。
#
# ## 4.5 每個任務一個 adapter
#
# 如果測試時**知道 task id**，就可以更進一步：task 0 訓練整個模型，之後凍結它；每個新任務各訓練自己的 adapter，
# 推論時依 task id 選 adapter（`lora_per_task` strategy）。舊任務用到的參數從此不再改變，所以**完全不遺忘**。
# 對照：naive，以及 `lora`（每個任務訓練一個新的 adapter，學完就 merge 進共用的權重，不需要 task id）。

# %%
runs = [train_stream(stream, "naive", epochs=EPOCHS),
        train_stream(stream, get_strategy("lora", rank=8, targets=TARGETS), epochs=EPOCHS),
        train_stream(stream, get_strategy("lora_per_task", rank=8, targets=TARGETS), epochs=EPOCHS)]
print(format_table(runs))
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
for r, ax in zip(runs, axes):
    plots.plot_acc_matrix(r, ax=ax)
fig.tight_layout()
plt.show()

# %%
from cl_helpers.metrics import new_task_accuracy

naive_run, lora_run, per_task = runs
print(f"lora_per_task: forgetting {per_task.summary()['forgetting']:.3f}; one adapter per task: "
      f"{lora_ft.trainable:,} numbers, {lora_ft.share:.1%} of the model")
for r in runs:
    print(f"{r.method:<14} new-task accuracy {new_task_accuracy(r.acc_matrix):.3f}   "
          f"task 0: {r.acc_matrix[0, 0]:.3f} -> {r.acc_matrix[-1, 0]:.3f}")
course.expect(per_task.summary()["forgetting"] == 0, "每個任務一個 adapter：完全不遺忘")
course.expect(new_task_accuracy(per_task.acc_matrix) < new_task_accuracy(naive_run.acc_matrix),
              "每個任務一個 adapter，新任務學得比 naive 少", full_only=True)
course.expect(lora_run.acc_matrix[-1, 0] > naive_run.acc_matrix[-1, 0], "lora 保住的 task 0 比 naive 多", full_only=True)
course.expect(lora_run.summary()["acc"] < naive_run.summary()["acc"], "lora 的 ACC 沒有比 naive 好", full_only=True)

# %% [markdown]
# - `lora_per_task`：accuracy matrix 的每一欄在學會之後就不再變，forgetting = 0。代價：要知道 task id，
#   而且每個任務多存一組 adapter（上面印出的大小）。這是 architecture-based 方法。
#   新任務學得比 naive 少：adapter 只能在每層的 $r$ 維子空間裡修正。
# - `lora`（merge 進共用權重，不需要 task id）：task 0（整個模型一起學的）比 naive 保留得多，但 task 1 只靠
#   一個 rank 8 的修正量學會，下一個任務的 adapter 很容易就把它改掉，所以平均起來並沒有比 naive 好。
#   低秩的修正保護的是**大量權重共同記住**的東西，不是同樣也只存在一個低秩修正裡的東西。
# - 這裡每個任務訓練 5 個 epochs（第 1 到 3 章是 3 個），naive 的遺忘卻沒有比較多：第 1 章量過，epochs 對遺忘的影響
#   比 learning rate 小得多。
#
# ## 4.6 動手試試：rank、alpha 與 epochs
#
# 每次移動 slider，都從 cache 住的 task 0 模型出發，在 task 1 上重新 fine-tune（同樣 epochs 的 full fine-tuning
# 也只算一次）。slider 從 rank 2 開始（rank 8 就是 4.3 節的圖）。試試：
# - rank 從 1 拉到 64：新任務的 accuracy 與遺忘怎麼變？
# - 固定 rank，把 alpha 調大：縮放 $\alpha / r$ 變大，等於放大 adapter 的更新（像調大 learning rate）。
# - epochs 加多：LoRA 和 full fine-tuning 都會忘得更多嗎？

# %%
from cl_helpers.teaching.widgets import explore, rank_slider, epochs_slider, log_slider
from cl_helpers.experiments.finetune import finetune

full_runs = {}   # full fine-tuning per number of epochs: it does not depend on rank or alpha

def run(rank, alpha, epochs):
    # pretrain_epochs fixed: every setting starts from the same cached task-0 model
    if epochs not in full_runs:
        full_runs[epochs] = finetune(stream, None, epochs=epochs, pretrain_epochs=EPOCHS)
    lora = finetune(stream, rank, alpha, targets=TARGETS, epochs=epochs, pretrain_epochs=EPOCHS)
    return epochs, [full_runs[epochs], lora]

def show(result):
    epochs, (full, lora) = result
    text = (f"rank = {lora.rank} | alpha = {lora.alpha:g} (scale {lora.alpha / lora.rank:.3g}) | epochs = {epochs} | "
            f"{lora.trainable:,} trainable | new task {lora.new_after:.3f} (full {full.new_after:.3f}) | "
            f"forgetting {lora.forgetting:.3f} (full {full.forgetting:.3f})")
    return plot_finetuning([full, lora]), text

explore(run, show, rank=rank_slider(2, 1, 64), alpha=log_slider("LoRA alpha", 8.0, 1.0, 64.0, step=1, base=2),
        epochs=epochs_slider(EPOCHS, 1, 10))

# %% [markdown]
# ## 4.7 和 LLM 微調的關係
#
# 同樣的取捨在大型語言模型上更明顯。Biderman et al. (2024)，"LoRA Learns Less and Forgets Less"，在程式碼與數學
# 資料上持續訓練 / 指令微調 Llama-2：full fine-tuning 在目標領域學得更好，LoRA 則把原本的能力（其他領域的
# benchmark）保留得更多，而且 full fine-tuning 學到的權重修正量的 rank 遠高於 LoRA 常用的 8–64。
# 這門課的作業 **NTU ML 2025 HW6** 就是這個情境：用 LoRA 微調一個約 1B 參數的 instruction model，讓它會解 GSM8K
# 的數學題；成績同時看 **GSM8K accuracy**（學到新任務）和一個 **safety benchmark**（模型是否還會拒絕有害的要求），
# 後者正是在量「遺忘」：微調常會把原本對齊（alignment）學到的拒答行為忘掉。調 rank、alpha、epochs、learning rate
# 時，你在做的就是這一章 slider 上的取捨：學得多一點，還是忘得少一點。
#
# ## 小結
#
# - LoRA：凍結 $W$，只訓練 $\Delta W = \frac{\alpha}{r} B A$；$B = 0$ 初始化讓模型從原本的行為出發。
# - Trainable parameters 從 out·in 降到 $r(\text{in}+\text{out})$：課程的 MLP 在 rank 8 時只有幾個百分比（4.2 節的表）。
# - LoRA 學得比 full fine-tuning 少，也忘得少。旋鈕有兩個：rank（修正的子空間有多大）與 $\alpha / r$（adapter 的
#   learning rate）；rank 太小或縮放太大，一樣會傷到舊任務。
# - 已知 task id 時，每個任務一個 adapter 可以完全不遺忘（architecture-based）。
# - 下一章：不改模型，而是**重播舊資料**（replay）。
#
# ## 延伸閱讀
#
# - E. J. Hu et al. LoRA: low-rank adaptation of large language models. [arXiv:2106.09685](https://arxiv.org/abs/2106.09685), 2021.
# - D. Biderman et al. LoRA learns less and forgets less. [arXiv:2405.09673](https://arxiv.org/abs/2405.09673), 2024.
# - D. Kalajdzievski. A rank stabilization scaling factor for fine-tuning with LoRA (rsLoRA).
#   [arXiv:2312.03732](https://arxiv.org/abs/2312.03732), 2023.
# - A. Aghajanyan, L. Zettlemoyer, S. Gupta. Intrinsic dimensionality explains the effectiveness of language model
#   fine-tuning. [arXiv:2012.13255](https://arxiv.org/abs/2012.13255), 2020.
# - 作業：[ML 2025 春 HW6](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php)（LoRA 微調 LLM，同時看 GSM8K 與 safety）；
#   李宏毅，機器學習 2021 春，Life-long Learning：[課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)。
