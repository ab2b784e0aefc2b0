# %% [markdown]
# # 第 9 章：訓練之後：診斷與修補遺忘 (Undoing and diagnosing forgetting after training)
#
# 第 3 到 8 章都在**訓練時**防止遺忘（EWC、replay、LoRA……）。這一章換個角度：模型已經訓練完、已經忘了，
# 還能做什麼？而且，看起來「忘了」的東西，真的不見了嗎？**這一章你會學到：**
# 1. **Stability gap**：每一步都評估，任務一換，舊任務立刻掉下去，連 replay 也會（之後才爬回來）；
# 2. **Weight interpolation（WiSE-FT）**：在「訓練前」與「訓練後」的權重之間畫一條線，拿它和 fine-tuning 自己走的路比較；
#    練習：自己寫兩個模型的內插（有自動檢查）；
# 3. **Task vectors**：$\tau = \theta_{\text{after}} - \theta_{\text{before}}$，相加、縮放、取負，以及合併兩個任務的 LoRA adapter
#    （直接相加、TIES），和「兩個任務一起訓練」比較；
# 4. **Spurious forgetting**：用很少的舊資料，舊任務回來得多快？和從頭訓練比；
# 5. **Safe LoRA**（toy language model）：把 LoRA 的更新投影到「alignment 的方向」，不用資料、不用訓練；
# 6. **Shallow safety alignment**（toy language model）：拒答只活在回答的前幾個字？prefill attack；
# 7. **組合**：EWC + replay、SI + replay、LoRA + replay，各自單用與一起用。
#
# 資料：permuted MNIST 每個任務取訓練集最前面的 5,000 張圖、split MNIST 每兩個數字 1,100 張（與第 1、5 章相同），
# 課程附的 MNIST 子集（前 6,309 張）與完整 MNIST 結果相同。語言模型是第 8 章的 toy assistant。
#
# ⏱️ 執行時間（full mode，實測）：2-core CPU 約 90 秒。

# %%
# 環境設定 / Setup：同一個 cell 在 JupyterLab 與 Colab 都能用。
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install cl_helpers from the course repository (torch/ipywidgets untouched)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/__REPO__"], check=True)

import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as W
from cl_helpers import course, make_stream, train_stream, format_table
from cl_helpers.teaching.course import pick
from cl_helpers.teaching.quiz import ask
from cl_helpers.teaching.widgets import explore, int_slider, float_slider
from cl_helpers.experiments.after_training import (probed_run, interpolation_curve, recovery_curve, accuracies,
                                                   substream, finetuned_vector)
from cl_helpers.weights import add_vectors, ties_merge, interpolate

device = course.setup(seed=0)
EPOCHS = pick(3, 1)
permuted = make_stream("permuted", n_tasks=3, train_size=pick(5000, 1000), test_size=pick(1000, 300), device=device)
print(permuted)

# %% [markdown]
# ## 9.1 Stability gap：每一步都看一次
#
# 前面的章節每個 epoch 才評估一次。De Lange et al. (2023) 改成**每一步**都評估舊任務，看到一件 epoch 曲線看不到的事：
# 任務一換，舊任務的 accuracy 立刻往下掉，連 replay 也一樣，之後才慢慢爬回來。這個「先掉再回來」的缺口叫
# **stability gap**。下面用第 1 章的 3 個 permuted MNIST 任務，naive 與 replay 各跑一次，每 2 步評估一次三個任務。

# %%
ask("Replay 每個 batch 都混入舊任務的樣本。換到新任務後的前幾十步，舊任務的 accuracy 會怎樣？",
    ["完全不會掉：每一步都在複習舊任務", "先掉下去，之後再爬回來一部分", "一路掉下去，和 naive 一樣"], 1,
    "新任務剛開始時 loss 很大，梯度幾乎都來自新任務；舊樣本只佔 batch 的一部分，擋不住最初的幾步。"
    "等新任務的 loss 降下來，replay 的梯度才把舊任務拉回來。下面的曲線就是這件事。")

# %%
gaps = {m: probed_run(permuted, m, every=2, n_test=pick(1000, 300), epochs=EPOCHS) for m in ("naive", "replay")}
fig, ax = plt.subplots(figsize=(9, 3.8))
for m, style in (("naive", "-"), ("replay", "--")):
    pr = gaps[m]
    ax.plot(pr.steps, pr.acc[:, 0], style, color="C0" if m == "naive" else "C2", label=f"{m}: task 0")
for b in gaps["naive"].boundaries[1:]:
    ax.axvline(b, color="grey", lw=0.8, ls=":")
ax.set(xlabel="optimizer step", ylabel="task 0 test accuracy", title="Task 0 evaluated every 2 steps (dotted: task switch)")
ax.legend()
plt.show()
for m, pr in gaps.items():
    g = pr.gap(task=0, switch=1)
    print(f"{m:7s} task 0 at the first switch {g['before']:.3f} -> lowest {g['lowest']:.3f} "
          f"({g['lowest_step']} steps later) -> end of task 1 {g['end']:.3f}")
g_replay, g_naive = gaps["replay"].gap(0, 1), gaps["naive"].gap(0, 1)
course.expect(g_replay["lowest"] < g_replay["before"] and g_replay["end"] > g_replay["lowest"],
              "replay 也會先掉下去，之後再爬回來一部分")
course.expect(g_replay["end"] > g_naive["end"], "到任務結束時，replay 的 task 0 比 naive 高")

# %% [markdown]
# 上面印出的三個數字就是 stability gap：換任務之前、換任務之後最低的那一點、任務結束時。Replay 的曲線也有一個缺口，
# 只是比 naive 淺，而且會回來；naive 掉下去就停在那裡。只在 epoch 結束時評估的話，只會看到最後一個數字，缺口被藏起來了。
# 這對部署很重要：如果在任務切換後不久就拿模型來用，replay 的「不忘」保證並不成立。

# %% [markdown]
# ## 9.2 Weight interpolation（WiSE-FT）
#
# Wortsman et al. (2022) 的做法簡單到不像方法：有了 fine-tuning 前的權重 $\theta_{\text{before}}$ 與之後的
# $\theta_{\text{after}}$，取
#
# $$\theta(a) = (1 - a)\,\theta_{\text{before}} + a\,\theta_{\text{after}}, \qquad 0 \le a \le 1 .$$
#
# $a = 0$ 是原來的模型，$a = 1$ 是 fine-tune 完的模型。中間的點沒有人訓練過，但常常**兩個任務都不錯**。
# 這裡 $\theta_{\text{before}}$ 是上面 naive 在 task 0 學完時的權重，$\theta_{\text{after}}$ 是它再學完 task 1 的權重；
# 同一張圖上也畫出 fine-tuning 自己走的路（task 1 期間每 2 步的兩個 accuracy）。

# %% [markdown]
# ### 練習 9.1：兩個模型之間的內插
#
# 寫 `interpolate_model(before, after, a)`：回傳一個**新的**模型（不要改 `before` 與 `after`），它的狀態是
# $(1 - a)\cdot$before $+\, a\cdot$after。檢查器用小模型測，包括有 BatchNorm 的模型與 LoRA 模型
# （`cl_helpers.lora.add_lora` 包起來的 `nn.Linear`，權重是 $W + \frac{\alpha}{r} BA$），並比較模型在固定輸入上的輸出。
# 提示：`exercise.hint(1)`。

# %% tags=["exercise"]
import copy
import torch
from cl_helpers.weights import merged_model

def interpolate_model(before, after, a):
    # BEGIN SOLUTION: 回傳一個狀態是 (1 - a) * before + a * after 的新模型
    b, f = merged_model(before), merged_model(after)       # LoRA: blend the merged weights, not A and B
    sb, sf = b.state_dict(), f.state_dict()
    b.load_state_dict({k: torch.lerp(v, sf[k], a) if v.is_floating_point() else (v if a < 0.5 else sf[k])
                       for k, v in sb.items()})
    return b
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch09_interpolation import interpolation_exercise

my_interpolate_model = interpolation_exercise.check(interpolate_model)

# %% [markdown]
# 檢查器會指出三個常見錯誤：只內插 `parameters()`（BatchNorm 的 running 統計是 buffer，會停在其中一個模型）、方向反了、
# 把 LoRA 的 $A$ 和 $B$ 分開內插（更新 $BA$ 變成 $a^2$ 倍）。套件裡的同一件事是 `cl_helpers.weights.interpolate`
# （作用在 state dict 上）。下面用它畫整條曲線：

# %%
before, after = gaps["naive"].starts[1], gaps["naive"].starts[2]   # the weights at the end of task 0, of task 1
old_new = [permuted[0], permuted[1]]
alphas = np.linspace(0, 1, 21)
curve = interpolation_curve(gaps["naive"].result.model, before, after, old_new, alphas)
pr = gaps["naive"]
on_task1 = (pr.steps >= pr.boundaries[1]) & (pr.steps <= pr.boundaries[2])
path = pr.acc[on_task1][:, :2]                     # (task 0, task 1) along fine-tuning on task 1

fig, ax = plt.subplots(figsize=(6.2, 4.6))
ax.plot(path[:, 1], path[:, 0], "o-", ms=3, color="C1", label="fine-tuning path (every 2 steps)")
ax.plot(curve[:, 1], curve[:, 0], "s-", ms=4, color="C0", label="interpolation θ(a), a = 0 ... 1")
for a_mark in (0.0, 0.5, 1.0):
    i = int(np.argmin(abs(alphas - a_mark)))
    ax.annotate(f"a={a_mark:g}", (curve[i, 1], curve[i, 0]), textcoords="offset points", xytext=(6, 6), fontsize=9)
ax.set(xlabel="task 1 (new) accuracy", ylabel="task 0 (old) accuracy", title="Old against new: interpolation vs the path")
ax.legend(loc="lower left")
plt.show()

# Where fine-tuning passed through a new-task accuracy, how much old-task accuracy did interpolation keep there?
order = np.argsort(curve[:, 1])
old_at = np.interp(path[:, 1], curve[order, 1], curve[order, 0])
reached = (path[:, 1] >= curve[:, 1].min()) & (path[:, 1] <= curve[:, 1].max())
diff = (old_at - path[:, 0])[reached]
print(f"path points compared: {reached.sum()} | interpolation keeps more of task 0 at {np.mean(diff > 0):.0%} of them, "
      f"by {diff.mean():+.3f} on average (largest {diff.max():+.3f})")
half = curve[int(np.argmin(abs(alphas - 0.5)))]
print(f"a = 0.5: task 0 {half[0]:.3f}, task 1 {half[1]:.3f} | a = 1 (the fine-tuned model): task 0 {curve[-1, 0]:.3f}, "
      f"task 1 {curve[-1, 1]:.3f}")
course.expect(np.mean(diff > 0) > 0.5, "在同樣的新任務 accuracy 下，內插多半保留了更多舊任務", full_only=True)

# %% [markdown]
# 怎麼讀這張圖：往右是新任務學得多，往上是舊任務留得多。Fine-tuning 的路（橘）從左上出發，很快就往右走，同時往下掉；
# 內插的曲線（藍）兩端和它一樣（$a = 0$ 是 task 0 學完時，$a = 1$ 是 task 1 學完時），中間卻走在**不同**的地方。
# 上面印出：在 fine-tuning 經過的那些新任務 accuracy 上，內插在多少比例的點保留了更多舊任務，以及平均多多少。
# 這就是 WiSE-FT 的主張：與其提早停止 fine-tuning（停在橘線上的某一點），不如訓練到底再往回內插（藍線上的點）。
# 它不一定永遠贏：曲線的兩端與 fine-tuning 的路重合，靠近 $a = 1$ 時兩者差不多；差別在中間。
#
# 動手試試：拖動 $a$，看那一點在圖上的位置與兩個 accuracy。

# %%
def run_alpha(a):
    return a, accuracies(gaps["naive"].result.model, interpolate(before, after, a), old_new)

def show_alpha(res):
    a, acc = res
    fig, ax = plt.subplots(figsize=(5, 3.8))
    ax.plot(curve[:, 1], curve[:, 0], "-", color="C0", alpha=0.5, label="interpolation")
    ax.plot(path[:, 1], path[:, 0], "-", color="C1", alpha=0.5, label="fine-tuning path")
    ax.plot(acc[1], acc[0], "*", ms=16, color="C3", label=f"a = {a:.2f}")
    ax.set(xlabel="task 1 (new) accuracy", ylabel="task 0 (old) accuracy")
    ax.legend(loc="lower left")
    return fig, f"a = {a:.2f} | task 0 {acc[0]:.3f} | task 1 {acc[1]:.3f}"

explore(run_alpha, show_alpha, a=float_slider("a", 0.5, 0.0, 1.0, 0.05))

# %% [markdown]
# ## 9.3 Task vectors：把「學到的東西」當成向量
#
# Ilharco et al. (2023) 把 fine-tuning 的效果寫成一個向量 $\tau = \theta_{\text{after}} - \theta_{\text{before}}$，
# 然後直接做算術：$\theta_{\text{base}} + \tau$ 就是 fine-tune 完的模型，$\theta_{\text{base}} - \tau$（取負）把那個任務
# 「減掉」，$\theta_{\text{base}} + \tau_1 + \tau_2$ 把兩個任務合併成一個模型，不用再訓練。
#
# 這裡：先在 task 0 上訓練一個 base 模型；再從**同一個** base 出發，分別用一個 rank 8 的 LoRA adapter 學 task 1、學 task 2，
# 得到 $\tau_1, \tau_2$（合併後的 $\frac{\alpha}{r} BA$）；最後和「同一個 adapter 同時學 task 1 與 task 2」比較。
# TIES-merging（Yadav et al. 2023）在相加之前先處理衝突：每個向量只留絕對值最大的一部分（density），
# 每個位置用總和的正負號投票，只平均同號的那些值。下一個作業（HW9，model merging）做的就是這件事，只是換成 LLM 的 LoRA。

# %%
ask("把兩個各自學好的 adapter 直接相加（base + τ1 + τ2），task 1 與 task 2 的 accuracy 會怎樣？",
    ["兩個都和各自單獨時一樣好", "兩個都學到一些，但都比各自單獨時低", "只剩其中一個"], 1,
    "兩個更新都改了同一批權重：相加之後，每個任務都被另一個任務的更新干擾。下面的表看得到兩個任務都還在，但都打了折扣。")

# %%
base_run = train_stream(substream(permuted, [0]), "naive", epochs=EPOCHS, progress=False)
base_model, base = base_run.model, base_run.model.state_dict()
tau1 = finetuned_vector(base_model, permuted, [1], rank=8, epochs=EPOCHS)
tau2 = finetuned_vector(base_model, permuted, [2], rank=8, epochs=EPOCHS)
tau12 = finetuned_vector(base_model, permuted, [1, 2], rank=8, epochs=EPOCHS)
merged = {"base (task 0 only)": base, "base + τ1": add_vectors(base, [tau1]), "base + τ2": add_vectors(base, [tau2]),
          "base + τ1 + τ2": add_vectors(base, [tau1, tau2]),
          "base + 0.5 (τ1 + τ2)": add_vectors(base, [tau1, tau2], 0.5),
          "base + TIES(τ1, τ2), density 0.2": add_vectors(base, [ties_merge([tau1, tau2], density=0.2)]),
          "one adapter trained on tasks 1 and 2": add_vectors(base, [tau12]),
          "base - τ1 (negated)": add_vectors(base, [tau1], -1.0)}
table = {name: accuracies(base_model, state, list(permuted)) for name, state in merged.items()}
print(f"{'weights':<40}{'task 0':>8}{'task 1':>8}{'task 2':>8}")
for name, acc in table.items():
    print(f"{name:<40}" + "".join(f"{a:>8.3f}" for a in acc))
added, t1, t2 = table["base + τ1 + τ2"], table["base + τ1"], table["base + τ2"]
course.expect(added[1] < t1[1] and added[2] < t2[2] and added[1] > table["base (task 0 only)"][1] + 0.2,
              "直接相加後兩個任務都還在，但都比各自單獨時低", full_only=True)
course.expect(table["base - τ1 (negated)"][1] < table["base (task 0 only)"][1],
              "取負（base - τ1）讓 task 1 比 base 還差", full_only=True)

# %% [markdown]
# 讀表（每一列是一組權重，三欄是三個任務的 test accuracy）：
# - `base + τ1`、`base + τ2`：各自單獨的 adapter；新任務學到了，task 0 掉了一些（這是第 4 章的 LoRA fine-tuning）。
# - `base + τ1 + τ2`：沒有再訓練，兩個任務都在，但都比單獨時低（上面的檢查確認了這個方向）；task 0 掉得更多，因為兩個更新都在改它的權重。
# - `0.5 (τ1 + τ2)` 就是把合併的向量縮短一半：舊任務留得多、新任務學得少，和 9.2 的內插是同一件事。
# - TIES 在這個小 MLP 上沒有比直接相加好多少（看表）：它解決的是**很多**任務、**很大**模型上的正負號衝突，兩個任務的小模型衝突不多。
# - 「一個 adapter 同時學兩個任務」通常是新任務最好的那一列，代價是要同時有兩個任務的資料：合併的意義就是**不需要**。
# - 最後一列取負：task 1 比 base 原本的還低（模型被推離 task 1），task 0 幾乎不受影響。這就是 Ilharco et al. 用來「忘掉」不想要的行為的做法。

# %% [markdown]
# ## 9.4 Spurious forgetting：忘掉的，其實還在多少？
#
# Zheng et al. (ICLR 2025) 發現，LLM fine-tuning 之後「忘掉」的舊任務，常常只要十幾個舊例子就回來了：
# 大部分損失是**任務對齊**（模型不再用那個任務的方式回答），不是知識本身被抹掉。在 MNIST 上試同一件事：
# 拿 9.1 的 naive 模型（3 個任務學完，task 0 已經掉了很多），只用 task 0 的前 $n$ 張訓練圖做幾十步 full-batch 的 Adam，
# 和一個**隨機初始化**的模型用同樣的 $n$ 張圖、同樣的步數比較。

# %%
ask("只給 10 張 task 0 的圖，「忘了 task 0 的模型」與「全新的模型」訓練同樣的步數，哪一個 task 0 比較高？",
    ["差不多：10 張圖太少，兩個都學不到什麼", "忘了的模型高很多：它的特徵還在", "全新的模型比較高：它沒有被 task 1、2 帶偏"], 1,
    "看下面的曲線：忘了的模型一開始就比全新的高，而且只用 10 張就往上走；全新的模型用 10 張圖學不到多少。")

# %%
forgot = gaps["naive"].result.model
fresh = copy.deepcopy(forgot)
torch.manual_seed(0)
for layer in fresh.modules():
    if hasattr(layer, "reset_parameters") and layer is not fresh:
        layer.reset_parameters()
STEPS = pick(30, 10)
start_acc = gaps["naive"].result.acc_matrix[0, 0]

def run_recovery(n):
    return n, (recovery_curve(forgot, permuted[0], n, steps=STEPS, eval_tasks=list(permuted)),
               recovery_curve(fresh, permuted[0], n, steps=STEPS))

def show_recovery(res):
    n, (rec, scratch) = res
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.plot(rec[:, 0], "-", color="C0", label="forgotten model: task 0")
    ax.plot(rec[:, 1], ":", color="C1", label="forgotten model: task 1")
    ax.plot(scratch[:, 0], "--", color="C3", label="fresh model: task 0")
    ax.axhline(start_acc, color="grey", lw=0.8, ls="-.", label="task 0 right after learning it")
    ax.set(xlabel="recovery step (full batch)", ylabel="test accuracy", ylim=(0, 1), title=f"{n} task-0 images")
    ax.legend(loc="lower right", fontsize=8)
    return fig, (f"n = {n} | forgotten model: task 0 {rec[0, 0]:.3f} -> best {rec[:, 0].max():.3f} | "
                 f"fresh model: best {scratch[:, 0].max():.3f}")

for n in (10, 30, 100):
    print(show_recovery(run_recovery(n))[1])
    plt.close("all")
n10 = run_recovery(10)[1]
course.expect(n10[0][:, 0].max() > n10[1][:, 0].max() + 0.1, "只用 10 張圖，忘了的模型比全新的模型高很多")

# %% [markdown]
# 上面印出每個 $n$ 的三個數字：忘了的模型開始時的 task 0、恢復過程中最好的 task 0、全新模型最好的 task 0。
# 忘了的模型用很少的圖就回升，而且一直比全新的模型高：task 0 的知識有一部分還在網路裡，只是「接錯了」。
# 注意兩件事：很少的圖（10 張）只回來一點點，再練下去反而 overfit 往下走（曲線有峰值）；task 1 在恢復時也會掉，
# 因為只用 task 0 的圖訓練，就是又一次 naive fine-tuning。拖動 slider 換 $n$：

# %%
explore(run_recovery, show_recovery, n=W.SelectionSlider(options=[10, 30, 100, 300], value=30, description="images",
                                                        continuous_update=False))

# %% [markdown]
# ## 9.5 Safe LoRA：把更新投影到 alignment 的方向（toy language model）
#
# 第 8 章的 toy assistant 在學新技能（減法）時忘了拒答。Safe LoRA（Hsu et al., NeurIPS 2024）只用兩個現成的模型：
# 對齊前的 base $W_{\text{unaligned}}$ 與對齊後的 $W_{\text{aligned}}$。每一層的 **alignment matrix**
# $V = W_{\text{aligned}} - W_{\text{unaligned}}$ 記下「對齊改了什麼」，$C = V V^\top / \lVert V \rVert_F$（論文的近似投影）。
# LoRA 的更新 $\Delta W$ 和它的投影 $C\,\Delta W$ 的 cosine similarity 低於門檻的那些層，就把 $\Delta W$ 換成 $C\,\Delta W$。
#
# 要做這件事，toy 需要一個「對齊前」的模型：`cl_helpers` 附了一個用同樣資料、同樣 seed、但**沒有拒答例子**訓練的 base，
# 再用一段短的 alignment（加入拒答例子，200 步）得到對齊的模型，就像 chat model 是從 base 對齊來的。

# %%
from cl_helpers.lm.stage0 import load_stage0, align
from cl_helpers.lm.finetune import finetune, FinetuneConfig, linear_weights
from cl_helpers.lm.judge import evaluate as judge_lm
from cl_helpers.weights import safe_lora

lm_base = load_stage0(0, device=device, aligned=False)
lm_aligned = align(lm_base, steps=pick(200, 60))
print("unaligned base:", {k: round(v, 3) for k, v in lm_base.metrics.items()})
print("after alignment:", {k: round(v, 3) for k, v in lm_aligned.metrics.items()})
tuned = finetune(lm_aligned, FinetuneConfig(method="lora", steps=pick(300, 60)))
print("LoRA fine-tuned on subtraction:", {k: round(v, 3) for k, v in tuned.metrics.items()})

# %%
A, U, T_ = linear_weights(lm_aligned.model), linear_weights(lm_base.model), linear_weights(tuned.model)
updates = {k: T_[k] - A[k] for k in T_}
rows = []
for threshold in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7):
    projected, report = safe_lora(updates, A, U, threshold)
    model = copy.deepcopy(lm_aligned.model)
    state = model.state_dict()
    for k, dw in projected.items():
        state[f"{k}.weight"] = A[k] + dw
    model.load_state_dict(state)
    m = judge_lm(model, lm_aligned.world)
    rows.append((threshold, report.n_projected, len(updates), m["new_skill"], m["safety"], m["stage0_skill"]))
print(f"{'threshold':>9} {'layers projected':>17} {'new skill':>10} {'safety':>7} {'addition':>9}")
for t, n, total, skill, safety, add in rows:
    print(f"{t:>9.1f} {f'{n} / {total}':>17} {skill:>10.3f} {safety:>7.3f} {add:>9.3f}")
sims = report.similarity
print("similarity of each layer's update to its projection:", ", ".join(f"{v:.2f}" for v in sims.values()))
fig, ax = plt.subplots(figsize=(6, 3.6))
ts = [r[0] for r in rows]
ax.plot(ts, [r[3] for r in rows], "o-", label="new skill (subtraction)")
ax.plot(ts, [r[4] for r in rows], "s--", label="safety (refusals)")
ax.set(xlabel="Safe LoRA similarity threshold", ylabel="rate", ylim=(-0.05, 1.05), title="Safe LoRA on the toy assistant")
ax.legend()
plt.show()
course.expect(rows[0][4] < 0.2 and rows[-1][4] > 0.8, "門檻 0 時 safety 很低，門檻夠高時拒答回來了", full_only=True)

# %% [markdown]
# 讀表：門檻 0 時沒有一層被投影，就是 fine-tune 完的模型；門檻越高，被投影的層越多。表上看得到這個 toy 的結果
# 很**兩極**：相似度（上面印出的每層數字）擠在很窄的範圍裡，所以門檻一跨過它們，幾乎所有層一起被投影，拒答回來了，
# 新技能也一起沒了。論文在 Llama-2 上看到的是只有一部分層的相似度低，投影那些層就能保住大半的新能力；
# 這個 2 層的 toy 太小，對齊與新技能擠在同樣的權重裡，分不開。Safe LoRA 的好處是不用資料、不用訓練，
# 但它能不能兩全，要看模型本身；這裡誠實地看到它不行。

# %% [markdown]
# ## 9.6 Shallow safety alignment：拒答只活在前幾個字？（toy language model）
#
# Qi et al. (2024) 發現：對齊的模型和它的 base，next-token 分布的差別幾乎都在回答的**前幾個 token**。
# 如果拒答只靠開頭幾個字，那麼攻擊者只要替模型寫好回答的開頭（**prefill attack**：在 assistant 的回答裡先放 "Sure,"），
# 模型就會接著順下去。用第 8 章附的 toy assistant 試試：它平常拒絕每一個被禁止的請求；
# 把回答的開頭強制成 `sure` 之後呢？也比較對齊的模型與 base、以及對齊模型與 fine-tune 後的模型，在拒答句上每個位置的 KL。

# %%
from cl_helpers.lm.shallow import per_position_kl, prefill_attack
from cl_helpers.lm.data import REFUSAL

stage0 = load_stage0(0, device=device)
forbidden = stage0.world.tests["forbidden"]
plain = prefill_attack(stage0.model, forbidden.prompts, "")
attacked = prefill_attack(stage0.model, forbidden.prompts, "sure")
print(f"refusal rate with no prefill: {plain['refusal_rate']:.3f} | with the reply prefilled 'sure': "
      f"{attacked['refusal_rate']:.3f}")
print("three prefilled replies:", attacked["replies"][:3])
course.expect(attacked["refusal_rate"] < plain["refusal_rate"] - 0.5, "強制開頭是 sure 之後，大部分被禁止的請求都得到順從的回答")

replies = [REFUSAL] * len(forbidden)
positions = len(REFUSAL)
kl_align = per_position_kl(lm_aligned.model, lm_base.model, forbidden.prompts, replies, positions)
kl_tuned = per_position_kl(lm_aligned.model, tuned.model, forbidden.prompts, replies, positions)
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.plot(kl_align, "o-", label="aligned vs unaligned base")
ax.plot(kl_tuned, "s--", label="aligned vs LoRA fine-tuned")
ax.set_xticks(range(positions), list(REFUSAL))
ax.set(xlabel="reply character (teacher-forced refusal)", ylabel="KL(aligned || other)", yscale="log",
       title="Where along the refusal do the models differ?")
ax.legend()
plt.show()
print("KL per position, aligned vs base:", np.round(kl_align, 2))

# %% [markdown]
# 第一個結果和 Qi et al. 一致：toy 的拒答是**淺的**。不強制開頭時它拒絕，強制開頭是 `sure` 之後，拒答率掉到上面印出的數字，
# 回答接成「sure, a … plan.」：它學到的是「看到被禁止的字就以 sorry 開頭」，不是「不提供這件事」。
#
# KL 的圖和論文**不一樣**，要誠實說：論文裡對齊模型與 base 的差別集中在前幾個 token，後面幾乎一樣；
# 這裡差別在 `s` 之後的每個位置都很大。原因是 toy 的 base 從來沒看過拒答句（我們用「沒有拒答例子」的資料訓練它），
# 所以就算把拒答句一個字一個字餵給它，它也不知道怎麼接；真的 LLM 的 base 在預訓練時看過無數的「I'm sorry, but…」。
# 第一個字 `s` 的 KL 很小，因為拒答（sorry）和順從（sure）都以 s 開頭：兩個模型在第二個字才分岔。

# %% [markdown]
# ## 9.7 組合：EWC + replay、SI + replay、LoRA + replay
#
# 前幾章的方法可以一起用：`train_stream(stream, "ewc+replay")`。每個部分的 hooks 依名字的順序執行，penalty 相加；
# 兩個都要改同一件事的方法（例如兩個都要改 batch 的 replay 與 generative replay）不能一起用，會得到一行錯誤。
# 在第 5 章的 class-incremental split MNIST（5 個任務、每兩個數字 1,100 張）上比較：

# %%
split = make_stream("split", scenario="class", train_size=pick(1100, 300), test_size=pick(1000, 300), device=device)
methods = ["naive", "ewc", "si", "replay", "ewc+replay", "si+replay", "lora", "lora+replay"]
combos = {m: train_stream(split, m, epochs=EPOCHS, progress=False) for m in methods}
print(format_table(combos.values()))
acc = {m: r.summary()["acc"] for m, r in combos.items()}
course.expect(acc["si+replay"] > acc["replay"] and acc["ewc+replay"] > acc["replay"],
              "EWC + replay 與 SI + replay 都比 replay 單用好", full_only=True)
course.expect(acc["lora+replay"] < acc["replay"], "LoRA + replay 比 replay 單用差", full_only=True)

# %% [markdown]
# 表上看得到（ACC 那一欄）：單用 EWC 或 SI 在 class-incremental 上和 naive 差不多（第 5 章的結論），但**加在 replay 上**
# 兩個都比 replay 單用好：replay 提供舊類別的樣本，regularization 再減慢共享權重的漂移。
# LoRA + replay 反而不好：`lora` 策略從第二個任務起只訓練一個 rank 8 的 adapter，容量不夠在同一個 head 上容納新的類別，
# replay 也救不了。組合不是越多越好，要看每個部分補的是哪一個缺口。

# %% [markdown]
# ## 9.8 總結：第 5 章的方法家族，加上一列「訓練之後」
#
# | 家族 | 什麼時候做 | 例子 | 需要舊資料？ | 這一章看到的 |
# |---|---|---|---|---|
# | regularization | 訓練時 | EWC、SI、MAS、LwF | 不用 | 單用在 class-IL 不夠，加在 replay 上有幫助 |
# | replay | 訓練時 | experience replay、A-GEM、generative replay | 要（或一個 generator） | 換任務時仍有 stability gap |
# | architecture | 訓練時 | LoRA、Progressive Nets、PackNet | 不用 | LoRA + replay 在 class-IL 容量不夠 |
# | **訓練之後** | **訓練完** | WiSE-FT 內插、task vectors / TIES、Safe LoRA | 不用（內插、合併、Safe LoRA）；恢復要少量 | 內插常比提早停止好；合併有干擾；Safe LoRA 在 toy 上兩極；忘掉的有一部分能很快回來 |
#
# **延伸閱讀**
# - M. De Lange, G. van de Ven, T. Tuytelaars. Continual evaluation for lifelong learning: identifying the stability gap. *ICLR* 2023.
# - M. Wortsman et al. Robust fine-tuning of zero-shot models (WiSE-FT). *CVPR* 2022.
# - G. Ilharco et al. Editing models with task arithmetic. *ICLR* 2023.
# - P. Yadav et al. TIES-merging: resolving interference when merging models. *NeurIPS* 2023.
# - C.-Y. Hsu et al. Safe LoRA: the silver lining of reducing safety risks when finetuning large language models. *NeurIPS* 2024.
# - X. Qi et al. Safety alignment should be made more than just a few tokens deep. *ICLR* 2025.
# - J. Zheng et al. Spurious forgetting in continual learning of language models. *ICLR* 2025.
# - 課程作業：[ML 2025 春](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php) HW6（fine-tuning 造成的遺忘）之後的 HW9 是 model merging，
#   用的就是 9.3 的 task vectors；同一份 HW6 也是 [GenAI-ML 2025 秋](https://speech.ee.ntu.edu.tw/~hylee/GenAI-ML/2025-fall.php) 的 HW8。
