# %% [markdown]
# # 第 4 章：LoRA（Low-Rank Adaptation）：學得少，也忘得少嗎？
#
# EWC 用一個 penalty 把重要的權重拉住。
# 另一個思路是**根本不動原本的權重**：把它們凍結，只訓練一個很小的、低秩（low-rank）的修正量。
# 這就是 **LoRA**（Hu et al. 2021），目前 fine-tuning（微調）大型語言模型（LLM）最常用的 parameter-efficient 方法。

# %% [markdown]
# **這一章你會學到：**
# 1. LoRA layer：$W x + \frac{\alpha}{r} B A x$，以及為什麼 $B = 0$ 初始化讓模型一開始完全不變；
# 2. 練習：自己寫 LoRA 的 forward，以及它的 trainable parameters 數量（有自動檢查）；
# 3. 在 permuted MNIST 上比較 full fine-tuning 與 LoRA：新任務學得如何、舊任務忘了多少；
# 4. rank $r$ 與縮放 $\alpha / r$ 的影響：固定 $\alpha$（Hu et al. 的做法）與 $\alpha = r$ 兩種 rank sweep；
# 5. 每個任務一個 adapter：已知 task id 時完全不遺忘；
# 6. 用 slider 調 rank、$\alpha$ 與 epochs；
# 7. 和 LLM fine-tuning（課程作業 ML 2025 春 HW6）的關係。

# %% [markdown]
# 資料：permuted MNIST，每個任務取訓練集最前面的 5,000 張圖，測試用測試集的前 1,000 張（程式裡的 `train_size`、`test_size`；
# 4.1 節的第一個程式 cell 印出每個任務實際用了幾張，fast mode 用得更少）。
# 課程附的 MNIST 子集是完整訓練集的前 6,309 張（課程的機器上，環境變數 `CL_HELPERS_DATA` 已指向放它的資料夾），
# 所以取到的訓練圖片和完整 MNIST 的前 5,000 張是同一批。
# `cl_helpers` 依序在 `CL_HELPERS_DATA` 指的資料夾、預設的快取資料夾（`~/.cache/cl_helpers`；有設 `XDG_CACHE_HOME` 時是
# `$XDG_CACHE_HOME/cl_helpers`）找 MNIST；都沒有就下載到其中的第一個（有設 `CL_HELPERS_DATA` 時就是它，否則是快取資料夾）。
# 離線又找不到時，改用 scikit-learn 內建的 digits，並印一行提醒。4.1 節 `print(stream)` 印出的 `source` 說明這次用的是哪一份。
#
# ⏱️ 執行時間：本章最後一個 cell 印出這次從頭跑到尾的實測時間；README 的章節表列出 full mode 在 2-core CPU 上的時間。
# 模型很小，CPU 就夠了。

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
# 一個 `nn.Linear` 計算 $W x + b$，$W$ 是 out × in 的矩陣。
# LoRA 把 $W$、$b$ **凍結**，另外加上兩個小矩陣 $A$（r × in）與 $B$（out × r）：
#
# $$h = W x + b + \frac{\alpha}{r}\, B A x .$$
#
# 要訓練的參數只有 $A$ 與 $B$，比 $W$ 少得多；少多少，練習 4.2 請你自己算。

# %% [markdown]
# **低秩的修正量**
# - $\Delta W = \frac{\alpha}{r} B A$ 的 rank 最多是 $r$（例如 $r = 8$），而第一層的 $W$ 是 256 × 784。
#   $B A x$ 永遠落在 $B$ 的 column space 裡（至多 $r$ 維；剛初始化時 $B = 0$，是 0 維）：這一層的輸出至多只能往 $r$ 個方向改變。
#   它也只看輸入在 $A$ 的 $r$ 個 row 上的分量：和這些 row 都垂直的輸入分量，這一層的 adapter 看不到。
# - 為什麼低秩就夠？Aghajanyan et al. (2020) 發現，fine-tuning 預訓練語言模型時，只在一個維度很低的子空間裡調整參數，就能達到 full fine-tuning 大部分的效果（intrinsic dimension 很低）。
#   這是 LoRA 假設「修正量是低秩的」的動機之一。

# %% [markdown]
# **初始化與縮放**
# - $A$ 隨機初始化，**$B = 0$**：一開始 $\Delta W = 0$，模型的輸出和原本**完全相同**，fine-tuning 從原模型出發，而不是從一個被隨機 adapter 弄壞的模型出發。
#   （若 $A$、$B$ 都是 0，梯度也都是 0，永遠學不動；所以只有一個是 0。）
# - $\frac{\alpha}{r}$：固定的縮放。Hu et al. 改變 $r$ 時**固定 $\alpha$**（設成第一個試的 $r$，之後不再調），所以 $r$ 越大，縮放 $\alpha / r$ 越小。
#   `add_lora` 不給 `alpha` 時用 $\alpha = r$（縮放永遠是 1）。
#   這一章除了 4.4 節那組 $\alpha = r$ 的 sweep 與 4.6 節作業的設定，都用 `ALPHA = 8`，也就是 rank 8 時縮放 1。
#   （文字寫 $\alpha$，程式與圖上寫 `alpha`。）
# - 訓練完可以把 $\Delta W$ 加回 $W$（merge），推論時不多花任何計算。
#
# 先拿一個在 task 0（原始 MNIST）上訓練好的模型，加上 LoRA（`cl_helpers.lora.add_lora`），確認輸出沒有變：

# %%
from cl_helpers.experiments.finetune import pretrained_model
from cl_helpers.lora import add_lora, count_trainable

EPOCHS = pick(5, 2)   # per task
ALPHA = 8.0           # fixed while the rank varies (Hu et al. 2021); at rank 8 the scale alpha / r is 1
stream = make_stream("permuted", n_tasks=3, train_size=pick(5000, 1000), test_size=pick(1000, 500),
                     seed=0, device=device)
print(stream)
print(f"images per task: {len(stream[0].y_train):,} train, {len(stream[0].y_test):,} test; epochs per task: {EPOCHS}")
base = pretrained_model(stream, old_task=0, epochs=EPOCHS)   # trained on task 0 alone, cached
lora_model = add_lora(copy.deepcopy(base), rank=8, alpha=ALPHA)
print(lora_model)
x = stream[0].x_test
with torch.no_grad():
    identical = torch.equal(base(x), lora_model(x))
print(f"outputs identical: {identical}")

# %% [markdown]
# ## 練習 4.1：LoRA 的 forward
#
# 輸入 `x` 的形狀是 (N, in)（每一列一個樣本），`W` (out, in)、`b` (out,)、`A` (r, in)、`B` (out, r)。
# 寫出 $x W^\top + b + \frac{\alpha}{r}\, x A^\top B^\top$（也就是每個樣本的 $W x + b + \frac{\alpha}{r} B A x$）。
# 不要真的算出 out × in 的 $BA$：讓資料先經過 $r$ 維的瓶頸，計算量才小（自動檢查裡有一個 case 專門抓「先算出 $BA$」的寫法）。
# 卡住了？`lora_forward_exercise.hint(1)`、`lora_forward_exercise.hint(2)`……最後一步是解答。

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
# 和 `cl_helpers.lora.LoRALinear` 比一比：取一層 784 → 256、rank 4、$\alpha = 8$ 的 LoRA layer，把 $B$ 設成非零（像訓練過一樣）。
# 兩者的輸出應該只差浮點運算的捨入誤差：

# %%
from torch import nn
from cl_helpers.lora import LoRALinear

torch.manual_seed(0)
layer = LoRALinear(nn.Linear(stream.input_size, 256), rank=4, alpha=8.0)
with torch.no_grad():
    layer.B.normal_(0, 0.1)
    ours = my_lora_forward(x, layer.base.weight, layer.base.bias, layer.A, layer.B, layer.alpha, layer.rank)
    diff = float((ours - layer(x)).abs().max())
print(f"largest difference from LoRALinear: {diff:.1e}")
course.expect(diff < 1e-4, "你的 LoRA forward 和 LoRALinear 的輸出在浮點誤差內一樣")

# %% [markdown]
# ## 4.2 要訓練多少參數？
#
# 課程的 MLP 是 784-256-256-10，共三個 `nn.Linear`。
# full fine-tuning 訓練全部參數；LoRA 只訓練加了 adapter 的那些層的 $A$ 與 $B$。
# 輸出層只有 10 個 unit，它的 adapter rank 最多是 10，所以下面的表 rank 16 以上只在兩個 hidden layer 加 adapter。

# %% [markdown]
# ## 練習 4.2：算出 LoRA 的 trainable parameters
#
# `layer_shapes` 是每一層的 `(in_features, out_features)`，每一層都加一個 rank `rank` 的 adapter；
# $W$ 與 bias 都凍結、不算（full fine-tuning 則每一層訓練 $W$ 與 bias：out·in + out 個參數）。
# 卡住了？`lora_params_exercise.hint(1)`，一步一步到解答。

# %% tags=["exercise"]
def lora_trainable_params(layer_shapes, rank):
    """Trainable parameters of rank-`rank` adapters on every layer (in, out) of layer_shapes; W and bias frozen."""
    # BEGIN SOLUTION: Exercise 4.2: count the adapter parameters (try lora_params_exercise.hint(1))
    return sum(rank * d_in + d_out * rank for d_in, d_out in layer_shapes)
    # END SOLUTION

# %%
my_lora_params = lora_params_exercise.check(lora_trainable_params)

# %% [markdown]
# 用你的函式（或參考答案）和真正加上 adapter 的模型對照。這個表和資料無關，每次執行都一樣。
# 最右一欄是你的函式算的；練習 4.2 還沒通過時，這一欄是參考答案算的，欄名印成 `reference`。

# %%
# NBVAL_CHECK_OUTPUT
mlp = MLP(784, (256, 256), 10)
layers = [(784, 256), (256, 256), (256, 10)]
full = count_parameters(mlp)
yours = "your count" if my_lora_params is not lora_params_exercise.reference else "reference"
print(f"{'fine-tuning':<28}{'trainable':>10}{'share':>8}{yours:>12}")
print(f"{'full (every weight)':<28}{full:>10,}{1:>8.1%}{'':>12}")
for rank in (1, 2, 4, 8):
    n = count_trainable(add_lora(copy.deepcopy(mlp), rank))
    print(f"{f'LoRA r={rank}, all 3 layers':<28}{n:>10,}{n / full:>8.1%}{my_lora_params(layers, rank):>12,}")
for rank in (16, 32, 64):
    n = count_trainable(add_lora(copy.deepcopy(mlp), rank, targets="body"))
    print(f"{f'LoRA r={rank}, hidden layers':<28}{n:>10,}{n / full:>8.1%}{my_lora_params(layers[:2], rank):>12,}")

# %% [markdown]
# 「share」是 adapter 的參數量除以**原本模型**的參數量（表的第一列：269,322），這一章所有的表都用同一個分母。

# %% [markdown]
# ## 4.3 Full fine-tuning vs LoRA
#
# 從同一個 task 0 的模型出發，在 task 1（一個 permuted task）上 fine-tune（每個任務的 epochs 數是 4.1 節印出的 `epochs per task`）：
# 一次訓練全部權重，一次只訓練 rank 8、$\alpha = 8$ 的 adapters（`cl_helpers.experiments.finetune.compare_finetuning`：同樣的資料順序與 optimizer）。
# 之後看：新任務（task 1）學到多少、舊任務（task 0）還剩多少。
#
# Adapter 加在兩個 hidden layer（`targets="body"`），輸出層凍結：permuted MNIST 的標籤不變，而且這樣 rank 可以一路掃到 128（輸出層的 rank 最多 10）。
# 另外也跑一次三層都加 adapter（`targets="all"`：輸出層也加一個 adapter，它的 $W$、$b$ 仍凍結），看看輸出層也能改會不會不一樣。

# %%
from cl_helpers.teaching.quiz import ask

ask("從同一個 task 0 模型出發，在 task 1 上 fine-tune：一次訓練全部權重，一次只訓練 rank 8、α = 8 的 LoRA adapters。"
    "哪一個讓 task 0 忘得比較多？",
    ["full fine-tuning", "LoRA：參數少，每個參數都得改更多", "差不多：兩者最後都學會了 task 1"],
    answer=0, key="ch4-full-vs-lora",
    explain="在這個設定下是 full fine-tuning：LoRA 的修正 BA 在每一層只有 r 個方向，縮放 α / r = 1 也不大；full fine-tuning "
            "可以任意改變每一層。代價是 LoRA 在新任務上也學得比較少。但這不是每個設定都對：4.4 節會看到，rank 小、"
            "縮放大的時候，LoRA 反而忘得比 full fine-tuning 多。")

# %%
from cl_helpers.experiments.finetune import compare_finetuning, finetune, format_finetuning
from cl_helpers.plots import plot_finetuning

TARGETS = "body"
compared = compare_finetuning(stream, rank=8, alpha=ALPHA, epochs=EPOCHS, targets=TARGETS)
compared.append(finetune(stream, 8, ALPHA, targets="all", epochs=EPOCHS))
names = ["full", f"LoRA r=8 alpha={ALPHA:g}, hidden layers", f"LoRA r=8 alpha={ALPHA:g}, all 3 layers"]
print(format_finetuning(compared, labels=names))
plot_finetuning(compared, labels=names)
plt.show()

# %%
full_ft, lora_ft, lora_all = compared
print(f"full: new task {full_ft.new_after:.3f}, old task {full_ft.old_before:.3f} -> {full_ft.old_after:.3f} "
      f"(forgets {full_ft.forgetting:.3f})")
for name, r in (("hidden layers", lora_ft), ("all 3 layers", lora_all)):
    print(f"LoRA r=8 on {name} trains {r.share:.1%} of the parameters: new task {r.new_after:.3f}, "
          f"old task {r.old_before:.3f} -> {r.old_after:.3f} (forgets {r.forgetting:.3f})")
course.expect(full_ft.new_after > lora_ft.new_after, "LoRA 在新任務上學得比 full fine-tuning 少")
course.expect(full_ft.new_after - lora_ft.new_after > 0.04, "LoRA 的新任務 accuracy 比 full 低了好幾個百分點", full_only=True)
course.expect(lora_ft.forgetting < full_ft.forgetting, "LoRA 忘得比 full fine-tuning 少")
course.expect(abs(lora_all.new_after - lora_ft.new_after) < 0.02 and abs(lora_all.forgetting - lora_ft.forgetting) < 0.02,
              "三層都加 adapter 和只加 hidden layers，新任務與遺忘都差不到 0.02", full_only=True)
course.expect(lora_all.forgetting < full_ft.forgetting - 0.03, "三層都加 adapter（輸出層也能改）仍然忘得比 full 少得多",
              full_only=True)

# %% [markdown]
# - 在這個設定（rank 8、$\alpha = 8$）下，full fine-tuning 把新任務學得最好，舊任務也掉得最多；LoRA 新任務學得明顯少（new task 低了好幾個百分點），舊任務保留得多。
# - 三層都加 adapter（輸出層也加一個 adapter）和只加 hidden layers 結果差不多：新任務與遺忘都差不到 0.02。
# - 這和 Biderman et al. (2024) 在 Llama-2-7B 上得到、也寫進論文標題的結論一樣：**LoRA learns less and forgets less**。
#   但這裡只是一個設定；4.4 節改變 rank 與 $\alpha$，看它還成不成立。
# - 表上的 seconds 是 fine-tuning 的訓練時間（不含評估），受機器當下的負載影響，量一次的時間不能拿來比速度，這一章也不比
#   （4.4 節的表會再印一次同一個 full fine-tuning 的 seconds，可以和這裡的對照）。
#   LoRA 的每一步有省也有多：凍結的 $W$ 不必算梯度、Adam 只更新 adapter 的參數，但 forward 與 backward 都要多算 adapter 的矩陣乘法；
#   在這麼小的 MLP 上，這一章的計時分不出哪一邊快。LoRA 在大模型上省下的主要是梯度與 optimizer 狀態的記憶體（Hu et al. 2021 也報告了訓練變快）。

# %% [markdown]
# 為什麼 LoRA 在這裡忘得少？這一節的實驗無法完全區分下面幾個可能的原因：
# - **修正量的形狀受限**：每一層的修正 $B A x$ 只能讓這一層的輸出往至多 $r$ 個方向改變；full fine-tuning 則可以任意改變每一層對任何輸入的反應，包括舊任務依賴的部分。
#   這**不**表示其他輸入經過這一層時不受影響：$A$ 從一個隨機的稠密矩陣出發、和 $B$ 一起訓練，幾乎每個輸入在 $A$ 的 row 上都有分量；而且第一層的輸出一變，第二層的輸入也跟著變。
# - **修正量的大小**：修正量乘上縮放 $\alpha / r$。4.4 節會看到，同一個 rank 只改縮放，遺忘就可以從比 full fine-tuning 少得多變成比它還多。
# - **訓練的東西不同**：full fine-tuning 也訓練每一層的 bias 與輸出層；只在 hidden layers 加 adapter 的 LoRA 把它們都凍結。
#   三層都加 adapter 的那一次，輸出層也能改（bias 仍凍結），還是忘得比 full fine-tuning 少得多：輸出層凍結不是這裡忘得少的主要原因。
#   bias 凍結的影響，這一章沒有測。

# %% [markdown]
# ## 4.4 Rank 與縮放 $\alpha / r$
#
# 同一個 task 0 模型（快取起來，只訓練一次），rank 從 1 到 128 各 fine-tune 一次（`rank_sweep`），兩種設定方式：
# - **固定 $\alpha = 8$**（Hu et al. 的做法，很多實作的預設也是固定 $\alpha$）：縮放 $\alpha / r$ 從 rank 1 的 8 降到 rank 128 的 1/16；
# - **$\alpha = r$**（`add_lora` 不給 `alpha` 時的預設）：每個 rank 的縮放都是 1。
#
# rank 8 時兩者相同，就是 4.3 節的 LoRA。

# %%
ask("固定 α = 8，LoRA 的 rank 從 1 加到 128，task 0 的遺忘會怎樣變化？",
    ["rank 越大忘得越多，越來越接近 full fine-tuning",
     "rank 1、2 忘得最多；rank 再大，遺忘變小，大 rank 之間幾乎沒有差別",
     "中等的 rank 忘得最少，最小和最大的 rank 都忘得多"],
    answer=1, key="ch4-rank",
    explain="固定 α 時，小 rank 的縮放 α / r 很大（rank 1 是 8），而且只有一兩個方向可用，新任務學不好，舊任務被改得很多。"
            "rank 1 的縮放雖然是 rank 2 的兩倍，兩者卻忘得差不多；rank 2 到 8，rank 變大、縮放變小，遺忘也跟著變少；"
            "rank 8 以上，新任務與遺忘幾乎不再改變。這一節後面的粗略估計"
            "（每一步的修正量大約隨 α / √r 變）解釋得了 rank 2 到 8 遺忘變少，卻預測不到 rank 8 以上的這個平台。"
            "若改成 α = r（縮放永遠是 1），最大的 rank 又忘得多：答案取決於 α 怎麼設。")

# %%
from cl_helpers.experiments.finetune import rank_sweep
from cl_helpers.plots import plot_rank_curves, plot_rank_sweep

ranks = [r for r in pick((1, 2, 4, 8, 16, 32, 64, 128), (1, 4, 16)) if r <= min(stream.input_size, 256)]
fixed = rank_sweep(stream, ranks=ranks, alpha=ALPHA, epochs=EPOCHS, targets=TARGETS)       # full fine-tuning first
same = rank_sweep(stream, ranks=ranks, alpha=None, epochs=EPOCHS, targets=TARGETS, full=False)  # alpha = r
print(format_finetuning(fixed + same, labels=[r.label if r.rank is None else f"{r.label}, alpha={r.alpha:g}"
                                              for r in fixed + same]))
fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
plot_rank_curves(fixed, ax=axes[0], title=f"alpha = {ALPHA:g} fixed: scale {ALPHA:g} / r")
plot_rank_curves(fixed[:1] + same, ax=axes[1], title="alpha = r: scale 1 at every rank")
fig.tight_layout()
plot_rank_sweep({f"LoRA, alpha = {ALPHA:g}": fixed, "LoRA, alpha = r": same}, ax=axes[2])
plt.show()

# %%
full_sw, lora_fixed = fixed[0], fixed[1:]
full_sweep = len(ranks) == 8   # the claims below are about full mode's eight ranks
print(f"full fine-tuning: new task {full_sw.new_after:.3f}, forgets {full_sw.forgetting:.3f}")
for name, sweep in ((f"alpha = {ALPHA:g}", lora_fixed), ("alpha = r", same)):
    less = [r.rank for r in sweep if r.forgetting < full_sw.forgetting]
    more = [r.rank for r in sweep if r.forgetting >= full_sw.forgetting]
    print(f"{name}: forgets less than full at ranks {less}, as much or more at ranks {more}; "
          f"forgetting from rank {sweep[0].rank} to {sweep[-1].rank}: "
          + ", ".join(f"{r.forgetting:.3f}" for r in sweep))
fx, ar = {r.rank: r for r in lora_fixed}, {r.rank: r for r in same}
print(f"alpha = {ALPHA:g}, rank 4 vs full: forgetting {fx[4].forgetting:.3f} vs {full_sw.forgetting:.3f} "
      f"(gap {abs(fx[4].forgetting - full_sw.forgetting):.3f})")
smaller = [min((fx[k], ar[k]), key=lambda r: r.alpha / r.rank) for k in ranks if k != ALPHA]
larger = [max((fx[k], ar[k]), key=lambda r: r.alpha / r.rank) for k in ranks if k != ALPHA]
print("same rank, same random draws, larger scale minus smaller scale:")
for s, l in zip(smaller, larger):
    print(f"  r={s.rank:<4} new task {l.new_after - s.new_after:+.3f}   forgetting {l.forgetting - s.forgetting:+.3f}")
top = ranks[-1]
print(f"rank {top} trains {fx[top].share:.1%} of the parameters and forgets {fx[top].forgetting:.3f} with "
      f"alpha = {ALPHA:g}, {ar[top].forgetting:.3f} with alpha = r (full fine-tuning: {full_sw.forgetting:.3f})")
course.expect(all(r.new_after < full_sw.new_after for r in lora_fixed + same),
              "每個 rank、兩種 α，LoRA 在新任務上都學得比 full fine-tuning 少")
course.expect(full_sweep and all(fx[k].forgetting > full_sw.forgetting + 0.05 for k in (1, 2))
              and abs(fx[4].forgetting - full_sw.forgetting) < 0.03
              and all(r.forgetting < full_sw.forgetting - 0.03 for r in lora_fixed if r.rank >= 8),
              "固定 α = 8：rank 1、2 忘得比 full fine-tuning 多得多，rank 4 和 full 差不到 0.03，rank 8 以上忘得少",
              full_only=True)
big = [r for r in lora_fixed if r.rank >= 8]
course.expect(max(r.forgetting for r in big) - min(r.forgetting for r in big) < 0.02
              and max(r.new_after for r in big) - min(r.new_after for r in big) < 0.02,
              "固定 α = 8：rank 8 以上，新任務與遺忘都差不到 0.02", full_only=True)
course.expect(full_sweep
              and [r.rank for r in same if r.forgetting < full_sw.forgetting - 0.02] == [2, 4, 8, 16, 32]
              and abs(ar[64].forgetting - full_sw.forgetting) < 0.02 and ar[128].forgetting > full_sw.forgetting
              and ar[1].forgetting > full_sw.forgetting,
              "α = r：rank 2 到 32 忘得比 full 少，rank 64 和 full 差不到 0.02，rank 1 與 128 忘得比 full 多", full_only=True)
course.expect(min(lora_fixed + same, key=lambda r: r.new_after) is ar.get(1),
              "α = r 的 rank 1 新任務學得最少（兩組 sweep 裡）", full_only=True)
course.expect(all(s.new_after < l.new_after and s.forgetting < l.forgetting for s, l in zip(smaller, larger)),
              "同一個 rank、同一組亂數，縮放 α / r 較小的那一個學得少、也忘得少", full_only=True)
course.expect(full_sweep and all(l.forgetting - s.forgetting > 0.05 for s, l in zip(smaller, larger) if s.rank not in (16, 32))
              and all(l.forgetting - s.forgetting < 0.05 for s, l in zip(smaller, larger) if s.rank in (16, 32)),
              "同一個 rank 只換 α：除了 rank 16、32，遺忘都差 0.05 以上；rank 16、32 差不到 0.05", full_only=True)
course.expect(full_sweep and ar[1].forgetting > ar[8].forgetting + 0.05 and ar[top].forgetting > ar[8].forgetting + 0.05
              and min(ar[64].forgetting, ar[top].forgetting) > max(ar[k].forgetting for k in (8, 16, 32)) + 0.03,
              "α = r：遺忘兩頭高、中間低；rank 64 與 128 忘得比 rank 8 到 32 多", full_only=True)
course.expect(full_sweep and fx[top].forgetting < full_sw.forgetting - 0.05 and ar[top].forgetting > full_sw.forgetting,
              "最大的 rank：固定 α 忘得比 full 少得多，α = r 卻比 full 多", full_only=True)

# %% [markdown]
# - **同樣的 learning rate 與 epochs 下，LoRA 在每個 rank 都學得比 full fine-tuning 少**，兩種 $\alpha$ 都一樣（左、中兩圖：藍線都在 full 的藍色方塊下面）。
# - **是否忘得比較少，要看 rank 與縮放**。上面印出的「as much or more at ranks」就是忘得和 full fine-tuning 一樣多或更多的 rank：
#   - 固定 $\alpha = 8$：rank 1、2（縮放 8 與 4）忘得比 full fine-tuning 多得多。
#     rank 4 和 full fine-tuning 的遺忘只差印出的 gap，誰多誰少先不下結論：4.5 節會量「同一個設定只換亂數」遺忘差多少，再拿這個 gap 和它比。
#     rank 8 以上忘得少得多，而且新任務與遺忘幾乎不再隨 rank 改變（差不到 0.02）。
#   - $\alpha = r$：遺忘兩頭高、中間低。rank 1 忘得比 full fine-tuning 多；rank 2 到 32 忘得比它少；rank 64 和它幾乎一樣（差不到 0.02；4.5 節也會拿這個差距和重跑的差異比）；rank 128 忘得比它多。
# - 右圖把兩組畫成「學到多少 vs 忘了多少」。rank 8 兩組是同一個設定，所以綠色的小方塊畫在藍色的 rank 8 圓點上面、把它蓋住一部分（綠色標籤 r=8 在這一團點的下方）；固定 $\alpha$ 的 rank 8 到 128 擠在一起，共用一個藍色標籤 r=8–128。

# %% [markdown]
# - **同一個 rank，只換 $\alpha$**：rank 相同時，兩組用的是同一組亂數（$A$ 的初值、資料順序都一樣），差別只來自縮放，是成對的比較。
#   上面印出每個 rank「縮放較大的減去縮放較小的」：每個 rank 都是縮放較小的那一個新任務學得少、舊任務也忘得少（rank 小於 8 時是 $\alpha = r$ 那一組，rank 大於 8 時是固定 $\alpha$ 那一組）。
#   除了 rank 16、32，遺忘都差 0.05 以上；rank 16、32 的差距小，換一組亂數，誰多誰少可能會反過來。
# - 參數多不等於忘得多：上面最後一行印出的最大 rank，兩種 $\alpha$ 訓練的參數一樣多，固定 $\alpha$ 時忘得比 full fine-tuning 少得多，$\alpha = r$ 時卻比它多。

# %% [markdown]
# 所以在這個 MLP 上、同樣的 learning rate 與 epochs 下，「LoRA 學得少」在每個設定都成立；「忘得少」只在一部分設定成立。
# 小 rank 配大縮放（固定 $\alpha$ 的 rank 1、2）、$\alpha = r$ 的 rank 1（縮放 1）與 $\alpha = r$ 的最大 rank（縮放不變小），都忘得比 full fine-tuning 多（固定 $\alpha$ 的最大 rank 反而忘得少得多）；固定 $\alpha$ 的 rank 4 與 $\alpha = r$ 的 rank 64 則和 full fine-tuning 差不多。
#
# 「學得少」要加上這個條件：這一章的每一次 fine-tuning（full fine-tuning 與每個 LoRA 設定）都用同一個 Adam learning rate（`finetune` 的預設值）、同樣的 epochs。
# Biderman et al. 替每個方法各自掃過 learning rate；Schulman et al. (2025, LoRA Without Regret) 也發現 LoRA 合適的 learning rate 比 full fine-tuning 大得多。
# 這裡沒有替 LoRA 調大 learning rate，而縮放 $\alpha / r$ 的作用就有點像 learning rate（下面會談）：上面「同一個 rank，只換 $\alpha$」時，縮放較大的那一個新任務都學得比較多。

# %% [markdown]
# 為什麼？先粗略估計每一步改多少。
# Adam 的一步讓每個參數移動大約 lr，幾乎和梯度的大小無關（梯度的正負號一直保持一致時是這樣；正負號來回跳時移得比較少）。
# 第一步時 $B = 0$，$A$ 的梯度也是 0，只有 $B$ 會動；之後兩者都動。
# 把 $B$ 的第 $k$ 個 column 記成 $\mathbf{u}_k$、$A$ 的第 $k$ 個 row 記成 $\mathbf{v}_k^\top$：
# $\Delta W = \frac{\alpha}{r} B A = \frac{\alpha}{r}\sum_{k=1}^{r} \mathbf{u}_k \mathbf{v}_k^\top$ 是 $r$ 個 rank-one 項的和。
# $r$ 個方向幾乎互相垂直的項加起來，大小大約隨 $\sqrt{r}$ 長，所以每一步 $\Delta W$ 改變的大小粗略是 $\frac{\alpha}{r}\sqrt{r} = \frac{\alpha}{\sqrt{r}}$。
# 下表把兩組 sweep 依 $\alpha / \sqrt{r}$ 排好：

# %%
# One Adam step of Delta W is roughly (alpha / r) * sqrt(r): r near-orthogonal rank-one terms add up like sqrt(r)
rows = sorted(lora_fixed + [r for r in same if r.rank != ALPHA], key=lambda r: (r.alpha / r.rank ** 0.5, r.rank))
print(f"{'setting':<22}{'alpha / r':>10}{'alpha / sqrt(r)':>17}{'new task':>10}{'forgetting':>12}")
for r in rows:
    print(f"{f'r={r.rank}, alpha={r.alpha:g}':<22}{r.alpha / r.rank:>10.3g}{r.alpha / r.rank ** 0.5:>17.3g}"
          f"{r.new_after:>10.3f}{r.forgetting:>12.3f}")
lowest = sorted(lora_fixed + same, key=lambda r: r.new_after)[:4]
course.expect(full_sweep and fx[2].forgetting > ar[32].forgetting + 0.1 and fx[4].forgetting > ar[16].forgetting + 0.03,
              "同樣的 α / √r，小 rank 忘得比大 rank 多", full_only=True)
course.expect(full_sweep and fx[2].forgetting > fx[4].forgetting > fx[8].forgetting,
              "固定 α：rank 2 到 8，α / √r 變小，遺忘也變少", full_only=True)
course.expect(full_sweep and all(r.rank in (1, 2) for r in lowest),
              "新任務學得最少的四個設定是兩組的 rank 1 與 rank 2", full_only=True)
course.expect(full_sweep and abs(fx[1].forgetting - fx[2].forgetting) < 0.03,
              "固定 α：rank 1 和 rank 2 忘得差不多", full_only=True)
course.expect(full_sweep and all(ar[k].new_after > ar[8].new_after + 0.01 for k in (16, 32, 64, 128))
              and ar[128].new_after > ar[16].new_after + 0.01,
              "α = r：rank 16 以上的新任務都比 rank 8 高，rank 128 又比 rank 16 高", full_only=True)

# %% [markdown]
# - 固定 $\alpha$：rank 2 到 8，$\alpha / \sqrt{r}$ 變小，遺忘也變少，符合這個估計。
#   但 rank 8 以上 $\alpha / \sqrt{r}$ 又縮小好幾倍，新任務與遺忘卻幾乎不變（差不到 0.02）：這個平台是上面的估計預測不到的（rsLoRA 對它有另一種解釋，見這一節最後）。
#   它只估計每一步的大小，沒有考慮每一步往哪裡走、訓練到後來還走不走。
# - $\alpha = r$：$\alpha / \sqrt{r} = \sqrt{r}$ 隨 rank 變大，rank 64、128 忘得比 rank 8 到 32 多，最大的 rank 超過 full fine-tuning：這一端符合估計。

# %% [markdown]
# - 小 rank 那一端，只看縮放解釋不了：同樣的 $\alpha / \sqrt{r}$，小 rank 可以忘得比大 rank 多得多。
#   上表裡，固定 $\alpha$ 的 rank 2 與 $\alpha = r$ 的 rank 32 在同一個 $\alpha / \sqrt{r}$；固定 $\alpha$ 的 rank 4 與 $\alpha = r$ 的 rank 16 也是。
#   固定 $\alpha$ 時 rank 1 的縮放是 rank 2 的兩倍，兩者卻忘得差不多。
# - 一個可能的解釋（只是假設：這一章沒有量梯度的正負號）：rank 1、2 只有一兩個方向可用，新任務一直學不好（上表 new task 最低的四個，就是兩組的 rank 1 與 rank 2）。
#   如果梯度在這幾個方向上一直保持同樣的正負號，Adam 就會每一步都往同一個方向移動，累積起來移得很遠。
#   若是這樣，就能說明為什麼 $\alpha = r$ 時小 rank 那一端也忘得多，遺忘兩頭高、中間低；要確定，得在訓練時記下這些梯度的正負號。

# %% [markdown]
# 所以縮放 $\alpha / r$ 放大或縮小 adapter 的每一步修正，作用有點像 adapter 的 learning rate：rank 與 $\alpha$ 要一起看。
# Hu et al. 的說法是：用 Adam 時，若初始化的大小也適當縮放，調 $\alpha$ 大致等於調 learning rate。
# 兩者並不完全一樣：$\alpha / r$ 把 $\Delta W$ 的每一步等比例放大；learning rate 則讓 $A$ 與 $B$ 各自的一步 $\delta A$、$\delta B$ 都變大。
# $BA$ 的變化是 $(B + \delta B)(A + \delta A) - BA = \delta B\, A + B\, \delta A + \delta B\, \delta A$：前兩項和 learning rate 成正比，最後一項 $\delta B\, \delta A$ 卻隨 learning rate 的平方長，所以效果不只是等比例放大。

# %% [markdown]
# rsLoRA（Kalajdzievski 2023）也討論縮放怎麼隨 rank 改。Hu et al. 看到 rank 加大後效果不再變好，解讀成修正量本身只需要很低的 rank；
# rsLoRA 分析訓練時 activation 與梯度的大小是否隨 rank 穩定，認為原因在縮放：用 $\alpha / r$ 時，大 rank 的梯度變得太小、學得太慢，多出來的 rank 派不上用場。
# 它建議把縮放改成 $\alpha / \sqrt{r}$（也就是把 $\alpha / r$ 再乘上 $\sqrt{r}$），讓每一步的大小不隨 rank 改變，大 rank 才學得到更多。
# 注意兩處的 $\alpha / \sqrt{r}$ 角色不同：上表的 $\alpha / \sqrt{r}$ 是縮放為 $\alpha / r$ 時每一步修正量的粗略大小（隨 rank 變小）；rsLoRA 的 $\alpha / \sqrt{r}$ 是縮放本身。

# %% [markdown]
# 這一章的兩組 sweep 和 rsLoRA 描述的現象一致：
# - 固定 $\alpha$（縮放 $\alpha / r$）：rank 8 以上，新任務 accuracy 停在一個平台，不隨 rank 變好（差不到 0.02，上表）。
# - $\alpha = r$（縮放不隨 rank 變小）：rank 16 以上的新任務都比 rank 8 高，rank 128 又比 rank 16 高（上表）；代價是遺忘也變多（rank 64、128 忘得比 rank 8 到 32 多）。
#   不過 $\alpha = r$ 不是 rsLoRA 的縮放：照上面的估計，它每一步的大小隨 $\sqrt{r}$ 變大，所以這裡分不出多學的部分來自 rank，還是來自更大的步伐。
#
# 這一章只有一個小 MLP、一種 learning rate 與 epochs，只能說和 rsLoRA 的說法不衝突，不能拿來證實它在大模型上的結論。
# Biderman et al. 建議 $\alpha = 2r$；作業用 $r = 8$、$\alpha = 16$（縮放 2）。4.6 節的 slider 可以分別調 rank 與 $\alpha$。

# %% [markdown]
# ## 4.5 每個任務一個 adapter
#
# 如果測試時**知道 task id**，就可以更進一步：task 0 訓練整個模型，之後凍結它；每個新任務各訓練自己的 adapter，
# 推論時依 task id 選 adapter（`lora_per_task` strategy）。舊任務用到的參數從此不再改變，所以**完全不遺忘**。
# 對照：naive，以及 `lora`（每個任務訓練一個新的 adapter，學完就 merge 進共用的權重，不需要 task id）。
# 兩個 LoRA 方法都用 rank 8、$\alpha = 8$，adapter 加在兩個 hidden layer。

# %%
runs = [train_stream(stream, "naive", epochs=EPOCHS),
        train_stream(stream, get_strategy("lora", rank=8, alpha=ALPHA, targets=TARGETS), epochs=EPOCHS),
        train_stream(stream, get_strategy("lora_per_task", rank=8, alpha=ALPHA, targets=TARGETS), epochs=EPOCHS)]
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
      f"{lora_ft.trainable:,} parameters, {lora_ft.share:.1%} of the model")
for r in runs:
    R = r.acc_matrix
    print(f"{r.method:<14} new-task accuracy {new_task_accuracy(R):.3f}   task 0: {R[0, 0]:.3f} -> {R[-1, 0]:.3f}   "
          f"task 1: {R[1, 1]:.3f} -> {R[-1, 1]:.3f}   average forgetting {r.summary()['forgetting']:.3f}")
N, L = naive_run.acc_matrix, lora_run.acc_matrix
course.expect(per_task.summary()["forgetting"] == 0, "每個任務一個 adapter：完全不遺忘")
course.expect(new_task_accuracy(per_task.acc_matrix) < new_task_accuracy(N),
              "每個任務一個 adapter，新任務學得比 naive 少", full_only=True)
course.expect(L[-1, 0] > N[-1, 0], "lora 保住的 task 0 比 naive 多", full_only=True)
course.expect(L[1, 1] - L[-1, 1] > N[1, 1] - N[-1, 1], "lora 的 task 1 掉得比 naive 多", full_only=True)
course.expect(abs(lora_run.summary()["forgetting"] - naive_run.summary()["forgetting"]) < 0.02,
              "lora 的平均遺忘和 naive 差不多（差不到 0.02）", full_only=True)
course.expect(lora_run.summary()["acc"] < naive_run.summary()["acc"], "lora 的 ACC 比 naive 低", full_only=True)

# %% [markdown]
# 上面的 new-task accuracy 是每個任務**剛學完時**的 accuracy $R_{j,j}$，對 task 1 以後的任務平均（task 0 不算：三個方法的 task 0 都是整個模型一起訓練的）。
#
# 這一節的 forgetting 和 4.3、4.4 節的不一樣：
# - 4.3、4.4 節只看一個舊任務（task 0）：old before − old after。
# - 這一節的表與 average forgetting 是第 2 章的定義：最後一個任務以外的每個任務，取它曾經有過的最高 accuracy 減去最後的 accuracy，再平均。
#
# 表上的 seconds 也不一樣：這裡是實際經過時間（wall-clock time，包含評估），受機器當下的負載影響，三個方法之間的差距不能拿來比速度。

# %% [markdown]
# - `lora_per_task`：accuracy matrix 的每一欄在學會之後就不再變，forgetting = 0。
#   代價：要知道 task id，而且每個任務多存一組 adapter（上面印出的大小）。這是 architecture-based 方法。
#   新任務學得比 naive 少，可能的原因至少有兩個，這一章沒有把它們分開：adapter 只能在每層至多 $r$ 維的子空間裡修正；而且從 task 1 起，輸出層與每一層的 bias 都凍結，naive 卻都會訓練。
# - `lora`（merge 進共用權重，不需要 task id）：task 0 是整個模型一起學的，之後每個任務只在共用權重上加一個低秩修正量，task 0 保留得比 naive 多。
#   task 1 卻掉得比 naive 多；一個可能的解釋是 task 1 只學進一個 rank 8 的修正，比較容易被下一個任務的 adapter 改掉（這一章沒有驗證）。
#   兩者相抵，average forgetting 和 naive 差不多（差不到 0.02），ACC 還比 naive 低：**merge 起來的 LoRA 和 naive 忘得差不多**。
# - 這一章每個任務訓練 5 個 epochs（4.1 節印出的 `epochs per task`，也是 `finetune` 的預設值），第 1 到 3 章的 permuted MNIST 是 3 個：訓練長度不同，naive 學到與忘掉的也不同，所以這裡 naive 的數字不能直接和前幾章比。

# %% [markdown]
# **同一個設定跑三次。** 4.3 節的 LoRA、`lora` 學 task 1、`lora_per_task` 學 task 1，都是從 task 0 訓練完的模型出發（task 0 accuracy 都是同一個數字），用 rank 8、$\alpha = 8$ 的 adapter 在 task 1 上訓練同樣的 epochs；
# 差別只在亂數，而且三次差的不完全一樣：
# - `lora` 與 `lora_per_task`：`train_stream` 每個 run 只設一次 seed，兩個 run 學 task 0 時用掉的亂數一樣，所以 task 1 的資料順序也一樣，主要只差 adapter $A$ 的初值。
# - 4.3 節那一次是另外跑的、只有一個任務的 fine-tuning：資料順序與 $A$ 的初值都和上面兩次不同。
#
# naive 學 task 1，也就是 4.3 節的 full fine-tuning 再跑一次（沒有 adapter，只差資料順序）：

# %%
# The same fine-tuning of task 1, three times: A's initial values differ; 4.3's run also has another data order
again = {"4.3": lora_ft.new_after, "lora": L[1, 1], "lora_per_task": per_task.acc_matrix[1, 1]}
spread = max(again.values()) - min(again.values())
print("LoRA r=8 alpha=8, new-task accuracy on task 1: " + ", ".join(f"{k} {v:.3f}" for k, v in again.items())
      + f"  (spread {spread:.3f})")
naive_forgets = N[0, 0] - N[1, 0]   # task 0 lost while naive learns task 1: the same full fine-tuning again
forget_spread = abs(full_ft.forgetting - naive_forgets)
print(f"task-0 forgetting of full fine-tuning on task 1: {full_ft.forgetting:.3f} in 4.3, {naive_forgets:.3f} in the "
      f"naive run (difference {forget_spread:.3f})")
small = {"alpha = 8, rank 4 vs full": fx.get(4), "alpha = r, rank 64 vs full": ar.get(64)}
gaps = {k: abs(r.forgetting - full_sw.forgetting) for k, r in small.items() if r is not None}
print("task-0 forgetting gaps in 4.4: " + "; ".join(f"{k} {v:.3f}" for k, v in gaps.items()))
print(f"average forgetting gap in 4.5 (tasks 0 and 1), lora vs naive: "
      f"{abs(lora_run.summary()['forgetting'] - naive_run.summary()['forgetting']):.3f}")
course.expect(all(abs(r.acc_matrix[0, 0] - lora_ft.old_before) < 0.005 for r in runs),
              "三個方法學完 task 0 的 accuracy 和 4.3 節的 task 0 模型一樣", full_only=True)
course.expect(full_sweep and spread > 0.02, "同一個設定只換亂數，LoRA 的新任務 accuracy 就差了 0.02 以上", full_only=True)
course.expect(full_sweep and forget_spread > max(gaps.values()),
              "full fine-tuning 重跑一次，task 0 遺忘的差異比 4.4 節那兩個遺忘差距都大", full_only=True)

# %% [markdown]
# 同一個設定只換亂數，LoRA 的新任務 accuracy 就差了印出的 spread；full fine-tuning 對 task 0 的遺忘，兩次也差了印出的 difference。
# 這兩個數字都只來自少數幾次重跑，看不出亂數造成的差異最大有多大，只知道至少有這麼大；它們只說明：差距這麼小時，跑一次分不出誰多誰少。
# - 4.4 節的兩個差距（固定 $\alpha$ 的 rank 4、$\alpha = r$ 的 rank 64，各自和 full fine-tuning 比）量的是同一種遺忘（task 0 的 old before − old after），都比這個 difference 小，所以這一章只說它們「差不多」。
# - `lora` 與 naive 的差距量的是另一種遺忘（第 2 章的 average forgetting，對 task 0、1 平均，每個任務取曾經有過的最高 accuracy），不能直接和這個 difference 比；這一章只說兩者差不多，因為差距本身就不到 0.02（4.5 節的檢查）。
#
# 要分出這麼小的差距，得用好幾個 seed 重跑再平均。
#
# 4.4 節「同一個 rank 只換 $\alpha$」不一樣：那兩次用同一組亂數，差距來自 $\alpha$，不是亂數；不過差距小的那幾個 rank，換一組亂數，誰多誰少可能會反過來。

# %% [markdown]
# ## 4.6 動手試試：rank、$\alpha$ 與 epochs
#
# 每次移動 slider，都從快取起來的 task 0 模型出發，在 task 1 上重新 fine-tune（同樣 epochs 的 full fine-tuning 也只算一次）。
# slider 的預設是作業的設定：rank 8、$\alpha = 16$（縮放 2）。先看它和 4.3 節的 rank 8、$\alpha = 8$ 比起來如何：

# %%
homework = finetune(stream, 8, 16.0, targets=TARGETS, epochs=EPOCHS)
for name, r in ((f"alpha = {ALPHA:g}", lora_ft), ("alpha = 16", homework)):
    print(f"LoRA r=8, {name} (scale {r.alpha / r.rank:g}): new task {r.new_after:.3f}, forgets {r.forgetting:.3f} "
          f"(full: {full_ft.new_after:.3f}, {full_ft.forgetting:.3f})")
learned, forgot = homework.new_after - lora_ft.new_after, homework.forgetting - lora_ft.forgetting
print(f"alpha = 16 minus alpha = {ALPHA:g}: new task {learned:+.3f}, forgetting {forgot:+.3f}")
course.expect(learned > 0 and forgot > 0, "同一組亂數下縮放加倍（α = 16）：新任務學得多一點，也忘得多一點", full_only=True)
course.expect(learned < 0.05 and forgot < 0.05, "縮放加倍：新任務與遺忘都只多了不到 5 個百分點", full_only=True)

# %% [markdown]
# 這兩次用同一組亂數（同一個 seed：$A$ 的初值與資料順序都一樣），只差 $\alpha$，是成對的比較：縮放加倍，這一次新任務學得多一點，舊任務也忘得多一點。
# 兩個差距（上面最後一行印出）都不到 5 個百分點；換一個 seed，差距的大小可能不同，要確定得用好幾個 seed 平均。

# %% [markdown]
# 試試：
# - 先把 $\alpha$ 設成 8（4.4 節固定的值），再把 rank 從 1 拉到 128：新任務的 accuracy 與遺忘怎麼變？
#   epochs 不變時，rank 設成 4.4 節掃過的值（1、2、4…128），跑的就是 4.4 節的同一個設定（同一個 task 0 模型、同一個 seed），數字和 4.4 節的表一樣；
#   試試介於中間的 rank（例如 3、6、12、24），看它們是否落在 4.4 節相鄰兩個 rank 之間，或換一個 epochs 再掃一次。
# - 固定 rank，把 $\alpha$ 調大：縮放 $\alpha / r$ 變大，等於放大 adapter 的每一步修正量（有點像調大 learning rate）；調小則反過來，每一步修正量變小。
# - 同一個 epochs slider 同時決定 full fine-tuning 與 LoRA 的 epochs。
#   把它調成 1：full fine-tuning 也少學一點，記下它的新任務 accuracy 與遺忘。
#   再把 epochs 調回來，找一個新任務 accuracy 和它差不多的 LoRA 設定，兩者的遺忘還差很多嗎？（這正是 Biderman et al. 問的問題，見 4.7 節。）

# %%
from cl_helpers.teaching.widgets import explore, rank_slider, epochs_slider, log_slider

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
    return plot_finetuning([full, lora], labels=["full", f"LoRA r={lora.rank} alpha={lora.alpha:g}"]), text

explore(run, show, rank=rank_slider(8, 1, 128), alpha=log_slider("LoRA alpha", 16.0, 1.0, 64.0, step=1, base=2),
        epochs=epochs_slider(EPOCHS, 1, 10))

# %% [markdown]
# ## 4.7 和 LLM fine-tuning 的關係
#
# Biderman et al. (2024)，"LoRA Learns Less and Forgets Less"，在程式碼與數學資料上對 Llama-2-7B 做持續預訓練與 instruction fine-tuning：
# full fine-tuning 在目標領域（HumanEval、GSM8K）學得更好，LoRA 則把原本的能力（其他領域的 benchmark）保留得更多。
# 他們再把訓練不同長度的模型畫成「學到多少 vs 忘了多少」，發現 **LoRA 和 full fine-tuning 大致落在同一條 Pareto 曲線上**：
# 多數情況下，LoRA 忘得少是和它學得少一起來的；他們也找到例外，特別是程式碼的 instruction fine-tuning，在新領域表現相當時，LoRA 保留的原本能力比較多。
# 他們也量到 full fine-tuning 的權重修正量，rank 是常用 LoRA 設定的 10–100 倍。
#
# 這一章的 MLP 沒有做這個比較（要在同樣的新任務 accuracy 下比遺忘，4.6 節的 epochs slider 可以試）；4.4 節看到的是：在這裡，LoRA 是否忘得比較少，取決於 rank 與縮放 $\alpha / r$。

# %% [markdown]
# 這門課的作業 **ML 2025 春 HW6**（同一份作業也是 GenAI-ML 2025 秋 HW8）就是這個情境：
# - 模型：`meta-llama/Llama-3.2-1B-Instruct`（4-bit 載入；HW8 用不必申請權限的 `unsloth/Llama-3.2-1B-Instruct`），LoRA $r = 8$、$\alpha = 16$，加在每一層全部七個 projection（attention 的 q、k、v、o 與 MLP 的 gate、up、down）；
# - 資料：GSM8K 的訓練題。助教另外給一份同樣題目、答案由模型自己重新生成的版本，等於用模型自己的口吻教它新任務（self-distillation）。
#   SDFT（Yang et al. 2024）的論點是：訓練目標和模型自己的輸出分布差距小，fine-tuning 對原本能力的破壞也比較小。這不是 replay：題目仍然是新任務的；
# - 成績同時看兩個數字，兩個都要過線：**GSM8K accuracy**（學到新任務），以及 AILuminate 有害提示上的 **safety rate**：每個回答由一個 guard model 判定 safe 或 unsafe（安全的回答不一定是拒答），safety rate = safe 的比例。

# %% [markdown]
# safety rate 量的正是「遺忘」：fine-tuning 常會把原本對齊（alignment）學到的安全行為忘掉。
# 調 rank、$\alpha$、epochs（以及這一章沒有 slider 的 learning rate）時，你在做的就是這一章 slider 上的取捨：學得多一點，還是忘得少一點。
#
# 不過 fine-tuning 不是唯一的旋鈕。一份公開的學生作業紀錄（GitHub 上 [happyyzy/sol-for-LHY-ML2025-HWS](https://github.com/happyyzy/sol-for-LHY-ML2025-HWS) 的 `hw6/readme.md`，簡體中文；safety rate 是作者自己選的 guard model 判定的）裡，
# 在助教範例程式的分數之上，GSM8K 再往上的部分大多來自推論時的設定：decoding（greedy decoding、允許更長的回答）與提示（在提示裡放幾個範例題）；改用模型自己生成的答案訓練，則讓 safety rate 回升。
# 第 8 章把這份作業縮小成一個 CPU 上跑得動的玩具。

# %% [markdown]
# ## 小結
#
# - LoRA：凍結 $W$，只訓練 $\Delta W = \frac{\alpha}{r} B A$；$B = 0$ 初始化讓模型從原本的行為出發。
# - 每一層的 trainable parameters 從 out·in + out（$W$ 與 bias）降到 $r(\text{in}+\text{out})$：課程的 MLP 三層都加 rank 8 的 adapter，只要訓練原本參數量的 5.4%（4.2 節的表）。
# - 這個 MLP 上，用同樣的 learning rate 與 epochs，LoRA 在每個 rank 都學得比 full fine-tuning 少（沒有替 LoRA 另外調 learning rate）；是否忘得比較少，要看 rank 與縮放 $\alpha / r$：小 rank 配大縮放（固定 $\alpha$ 的 rank 1、2）、$\alpha = r$ 的 rank 1（縮放 1）、最大的 rank 配不變小的縮放（$\alpha = r$ 的 rank 128），都忘得比 full fine-tuning 多（4.4 節）。
# - Biderman et al. 在 Llama-2-7B 上看到 LoRA 學得少、忘得少，且大致和 full fine-tuning 落在同一條 learning–forgetting 曲線上。
# - 每個任務 merge 一個 adapter（`lora`）和 naive 忘得差不多；已知 task id 時，每個任務一個 adapter（`lora_per_task`）可以完全不遺忘。
# - 下一章：不限制參數怎麼改，而是**重播舊資料**（replay）。

# %% [markdown]
# ## 延伸閱讀
#
# - E. J. Hu et al. LoRA: low-rank adaptation of large language models. [arXiv:2106.09685](https://arxiv.org/abs/2106.09685), 2021.
# - D. Biderman et al. LoRA learns less and forgets less. [arXiv:2405.09673](https://arxiv.org/abs/2405.09673), 2024.
# - J. Schulman and Thinking Machines Lab. LoRA without regret. [Connectionism blog](https://thinkingmachines.ai/blog/lora/), 2025.
# - D. Kalajdzievski. A rank stabilization scaling factor for fine-tuning with LoRA (rsLoRA). [arXiv:2312.03732](https://arxiv.org/abs/2312.03732), 2023.
# - A. Aghajanyan, L. Zettlemoyer, S. Gupta. Intrinsic dimensionality explains the effectiveness of language model fine-tuning. [arXiv:2012.13255](https://arxiv.org/abs/2012.13255), 2020.
# - Z. Yang et al. Self-distillation bridges distribution gap in language model fine-tuning (SDFT). [arXiv:2402.13669](https://arxiv.org/abs/2402.13669), 2024.

# %% [markdown]
# 作業與課程：
# - [ML 2025 春 HW6](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php)、[GenAI-ML 2025 秋 HW8](https://speech.ee.ntu.edu.tw/~hylee/GenAI-ML/2025-fall.php)：LoRA fine-tuning Llama-3.2-1B-Instruct 學 GSM8K，同時看 GSM8K accuracy 與 safety rate。
# - 一份公開的 HW6 學生作業紀錄：[happyyzy/sol-for-LHY-ML2025-HWS](https://github.com/happyyzy/sol-for-LHY-ML2025-HWS) 的 `hw6/readme.md`（簡體中文），列出每一步調整後的 GSM8K accuracy 與 safety rate（4.7 節引用的那一份）。
# - 李宏毅，機器學習 2021 春，Life-long Learning：[課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)。

# %%
course.run_time()
