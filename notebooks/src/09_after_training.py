# %% [markdown]
# # 第 9 章：訓練之後：診斷與修補遺忘 (Undoing and diagnosing forgetting after training)
#
# 第 3 到 8 章都在**訓練時**防止遺忘（EWC、replay、LoRA……）。這一章換個角度：模型已經訓練完、已經忘了，
# 還能做什麼？而且，看起來「忘了」的東西，真的不見了嗎？

# %% [markdown]
# **這一章你會學到：**
# 1. **Stability gap**：每 2 步評估一次，任務一換，舊任務會不會掉、掉多少；
# 2. **Weight interpolation（WiSE-FT）**：在「訓練前」與「訓練後」的權重之間畫一條線，拿它和 fine-tuning 自己走的路徑比較；
#    練習：自己寫兩個模型的內插（有自動檢查）；
# 3. **Task vectors**：$\tau = \theta_{\text{after}} - \theta_{\text{before}}$，相加、縮放、取負，以及合併兩個任務的 LoRA adapter
#    （直接相加、TIES），和「兩個任務一起訓練」比較；
# 4. **Spurious forgetting**：用很少的舊資料，舊任務回來得多快？和從頭訓練比；
# 5. **Safe LoRA**（toy language model）：把 LoRA 的更新投影到「對齊（alignment）的方向」，不用資料、不用訓練；
# 6. **Toy assistant 上的內插與凍結底層**：把 9.2 節的內插換到語言模型上，再試 Zheng et al.（9.4 節那篇）建議的另一個補救：凍結底層；
# 7. **Shallow safety alignment**（toy language model）：拒答只活在回答的前幾個字？prefill attack；
# 8. **組合**：EWC + replay、SI + replay、LoRA + replay，各自單用與一起用。

# %% [markdown]
# 資料：permuted MNIST 每個任務取訓練集最前面的 5,000 張圖（下面印出的 `Task(...)` 那一行）、split MNIST 每兩個數字 1,100 張（與第 1、5 章相同）。
# 課程附的 MNIST 子集就是完整 MNIST 訓練集的前 6,309 張，這裡用到的圖都在其中，所以結果與用完整 MNIST 相同
# （因為是同樣的圖；沒有另外用完整 MNIST 跑過驗證）。語言模型是第 8 章的 toy assistant。
#
# ⏱️ 執行時間：本章最後一個 cell 印出這次從頭跑到尾的實測時間；README 的章節表列出 full mode 在 2-core CPU 上的時間。

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
from cl_helpers.metrics import new_task_accuracy
from cl_helpers.experiments.after_training import (probed_run, interpolation_curve, recovery_curve, accuracies,
                                                   substream, finetuned_vector)
from cl_helpers.weights import add_vectors, ties_merge, interpolate

device = course.setup(seed=0)
EPOCHS = pick(3, 1)
permuted = make_stream("permuted", n_tasks=3, train_size=pick(5000, 1000), test_size=pick(1000, 300), device=device)
print(permuted, permuted[0], sep="\n")            # the second line: the size of each task

# %% [markdown]
# ## 9.1 Stability gap：每 2 步評估一次
#
# 前面的章節每個 epoch 才評估一次。De Lange et al. (2023) 改成**每一步**都評估舊任務，看到一件 epoch 曲線看不到的事：
# 任務一換，舊任務的 accuracy 立刻往下掉，在他們的 benchmark 上連 replay 也一樣，之後才慢慢爬回來。這個「先掉再回來」的缺口叫
# **stability gap**。下面用第 1 章的 3 個 permuted MNIST 任務，naive 與 replay 各跑一次，每 2 步評估一次三個任務
# （為了省時間，不是每一步）。Replay 的設定印在圖下面：記憶體多大、每一步混入多少舊樣本。

# %%
ask("換到新任務後的第一個 epoch，naive 與 replay 的 task 0 accuracy 會怎樣？",
    ["兩個都不會掉：模型已經學會 task 0 了", "naive 明顯往下掉；replay 混入舊樣本，掉得少很多",
     "兩個掉得一樣多：舊樣本只佔 replay batch 的一半，擋不住"], 1,
    "naive 的梯度全部來自新任務，task 0 一路被改掉；replay 每一步都有一半的樣本來自舊任務，把 task 0 拉住。"
    "De Lange et al. 在他們的 benchmark 上看到 replay 換任務後仍有一個短暫的缺口；下面看這個小設定裡，"
    "replay 的下降有沒有超過曲線在換任務之前本來就有的晃動。")

# %%
gaps = {m: probed_run(permuted, m, every=2, n_test=pick(1000, 300), epochs=EPOCHS) for m in ("naive", "replay")}
b = gaps["naive"].boundaries
per_epoch = (b[2] - b[1]) // EPOCHS                           # optimizer steps in one epoch
fig, ax = plt.subplots(figsize=(9, 3.8))
for m, style, color, lw in (("naive", "-", "C0", 3), ("replay", "--", "C2", 1.5)):   # identical on task 0
    ax.plot(gaps[m].steps, gaps[m].acc[:, 0], style, color=color, lw=lw, label=f"{m}: task 0")
for s in b[1:]:
    ax.axvline(s, color="grey", lw=0.8, ls=":")
ax.axvspan(b[1] - per_epoch, b[1], color="grey", alpha=0.15, label="last epoch before the switch")
low = min(pr.acc[pr.steps >= b[1] - per_epoch, 0].min() for pr in gaps.values())
ax.set(xlabel="optimizer step", ylabel="task 0 test accuracy", ylim=(low - 0.03, 1.0),
       title="Task 0 every 2 steps (y zoomed; dotted: task switch)")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8); plt.show()   # outside: the curves stay visible
rp = gaps["replay"].result.strategy.parts[0]
print(f"replay: memory of {rp.buffer_size} examples; each step adds " + (f"{rp.replay_batch_size} replayed examples"
      if rp.replay_batch_size else "one replayed example per new example"))
ends_at = [b[1] + k * per_epoch for k in range(1, EPOCHS + 1)]
print(f"one epoch = {per_epoch} steps = {per_epoch // 2} evaluations (one every 2 steps)")
print("'epoch ends' below: task 0 accuracy at the end of each epoch of task 1, at steps", ends_at)
g, ends = {}, {}
for m, pr in gaps.items():
    g[m], ends[m] = pr.gap(0, 1, window=per_epoch, before=per_epoch), pr.at(0, ends_at)   # one epoch each side
    print(f"{m:7s} task 0 at the switch {g[m]['before']:.3f} | epoch before: mean {g[m]['mean_before']:.3f}, lowest "
          f"{g[m]['lowest_before']:.3f} | epoch after: mean {g[m]['mean_after']:.3f}, lowest {g[m]['lowest']:.3f} "
          f"({g[m]['lowest_step']} steps in) | epoch ends " + ", ".join(f"{v:.3f}" for v in ends[m]))
gn, gr = g["naive"], g["replay"]
course.expect(gn["mean_after"] < gn["mean_before"] - 0.02 and all(ends["naive"] < gn["before"]),
              "naive 換任務後的平均低於換任務前，每個 epoch-end 值都低於換任務時", full_only=True)
course.expect(all(ends["naive"][1:] < gn["lowest"]), "naive 後面的 epoch-end 值比換任務後第一個 epoch 的最低點還低",
              full_only=True)
course.expect(gr["mean_after"] > gr["mean_before"] - 0.02 and gr["lowest"] > gr["lowest_before"],
              "replay 換任務後的平均與最低點都沒有低於換任務前", full_only=True)
course.expect(max(gr["mean_before"], gr["mean_after"], gr["lowest"]) < gr["before"] and gr["lowest"] < min(ends["replay"]),
              "replay：前後兩個平均與最低點都低於換任務時；最低點低於每個 epoch-end 值", full_only=True)
course.expect(gr["end"] > gn["end"], "到任務結束時，replay 的 task 0 比 naive 高")
band = gaps["naive"].acc[(gaps["naive"].steps >= b[1] - per_epoch) & (gaps["naive"].steps <= b[1]), 0]   # grey band
course.expect(gn["before"] >= band.max() - 0.01 and gn["mean_before"] < gn["before"],
              "換任務時的值落在灰色那一段的高點附近，那一段的平均比它低", full_only=True)

# %% [markdown]
# 怎麼讀上面印出的數字：曲線本來就會晃（每個點是訓練中的某一步；每次都用同一批 test 圖評估，晃動來自訓練本身），一個 epoch 有 20 個點（上面印出），
# 從中取最低，自然比平均低；所以每一列都拿換任務**之後**一個 epoch，和換任務**之前**一個 epoch（圖上灰色那一段）比，平均與最低點都印出來。

# %% [markdown]
# - naive：換任務後的平均低於換任務前，印出的每個 epoch-end 值也都低於換任務時（at the switch）的值：這是遺忘本身。
# - replay：換任務後的平均沒有低於換任務前，換任務後的最低點也不比換任務前的最低點低（上面印出的兩個 lowest）。
#   但這個比較很寬鬆：換任務前那一個 epoch 曲線本來就在晃（圖上灰色那一段），換任務時剛好落在那一段的高點附近，
#   所以那一段的平均低於換任務時的值；replay 換任務後的平均與最低點
#   其實也都低於換任務時的值。所以在這個小設定裡，第一次換任務時 replay 的下降和曲線本來的晃動分不開，
#   看不出明確的 stability gap；De Lange et al. 在他們的 benchmark 上看到的缺口，這裡沒有重現。

# %% [markdown]
# 這裡只分析第一次換任務；第二次換任務時（task 2 開始），圖上 replay 的 task 0 也有一段下降再爬回來一些，沒有印出數字，請自己在圖上看。
#
# 只在 epoch 結束時評估的話，只看得到最後印出的那幾個 epoch-end 數字。replay 那一列，換任務後第一個 epoch 的最低點
# 低於每一個 epoch-end 值：落在兩次評估之間的低點看不到。naive 那一列不一樣：「最低點」只取換任務後的第一個 epoch，
# 而 naive 之後還在忘：後面幾個 epoch-end 值都比那個最低點還低。部署時如果在任務切換後不久就拿模型來用，
# 拿到的是曲線上的某一點，不是 epoch-end 的數字。

# %% [markdown]
# ## 9.2 Weight interpolation（WiSE-FT）
#
# Wortsman et al. (2022) 的做法簡單到不像方法：有了 fine-tuning 前的權重 $\theta_{\text{before}}$ 與之後的
# $\theta_{\text{after}}$，取
#
# $$\theta(a) = (1 - a)\,\theta_{\text{before}} + a\,\theta_{\text{after}}, \qquad 0 \le a \le 1 .$$
#
# $a = 0$ 是原來的模型，$a = 1$ 是 fine-tune 完的模型，中間的點沒有人訓練過。WiSE-FT 的論文只看**一個**任務：
# zero-shot 模型與它 fine-tune 後的版本之間，中間的點在 distribution shift 下常常比兩端都穩健。
# 這裡把同一條線搬到**兩個**任務上（課程的類比，不是論文的結果），看中間的點能不能兩個任務都留住一些：
# $\theta_{\text{before}}$ 是上面 naive 在 task 0 學完時的權重，$\theta_{\text{after}}$ 是它再學完 task 1 的權重；
# 同一張圖上也畫出 fine-tuning 自己走的路徑（task 1 期間每 2 步的兩個 accuracy）。

# %% [markdown]
# ### 練習 A：兩個模型之間的內插
#
# 寫 `interpolate_model(before, after, a)`：回傳一個**新的**模型，它的（合併後的）權重與 buffer 是
# $(1 - a)\cdot$before $+\, a\cdot$after。檢查器用小模型測，包括有 BatchNorm 的模型與 LoRA 模型，並比較模型在固定輸入上的輸出。
# LoRA 模型裡，`cl_helpers.lora.add_lora` 把每個 `nn.Linear` 換成一個 `LoRALinear`：原來的層在 `.base`，
# `.delta_weight()` 回傳更新 $\frac{\alpha}{r} BA$，所以這一層真正的權重是 `.base.weight + .delta_weight()`；
# `cl_helpers.weights.merged_model(model)` 回傳一個複本，裡面每個 `LoRALinear` 都換成裝著這個權重的普通 `nn.Linear`。
# 提示：`interpolation_exercise.hint(1)`（下一個 cell 匯入它之後）。

# %% tags=["exercise"]
import copy
import torch

def interpolate_model(before, after, a):
    # BEGIN SOLUTION: 回傳一個狀態是 (1 - a) * before + a * after 的新模型
    from cl_helpers.weights import merged_model
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
# 把 LoRA 的 $A$ 和 $B$ 分開內插（更新 $BA$ 不再是 $a$ 的線性函數：檢查器的例子裡 before 的 $B$ 是 0、$A$ 是隨機的，
# 分開內插得到 $a\,B_1\big((1-a)A_0 + aA_1\big)$，不是 $a\,B_1A_1$）。
#
# 下面用套件的 `interpolation_curve` 畫整條曲線；再下面的 slider 用你的 `my_interpolate_model`（還沒通過時是參考答案）。

# %%
before, after = gaps["naive"].starts[1], gaps["naive"].starts[2]   # the weights at the end of task 0, of task 1
old_new = [permuted[0], permuted[1]]
alphas = np.linspace(0, 1, 21)
curve = interpolation_curve(gaps["naive"].result.model, before, after, old_new, alphas)
pr = gaps["naive"]
on_task1 = (pr.steps >= pr.boundaries[1]) & (pr.steps <= pr.boundaries[2])
path = pr.acc[on_task1][:, :2]                     # (task 0, task 1) along fine-tuning on task 1

fig, ax = plt.subplots(figsize=(6.2, 4.6))
ax.plot(curve[:, 1], curve[:, 0], "s-", ms=4, mfc="white", color="C0", zorder=3, label="interpolation θ(a), a = 0 ... 1")
ax.plot(path[:, 1], path[:, 0], "o-", ms=3, lw=1, color="C1", alpha=0.6, label="fine-tuning path (every 2 steps)")
for a_mark, offset in ((0.0, (-4, -40)), (0.5, (-50, 4)), (1.0, (-75, -8))):   # text in empty space, a line to the point
    i = int(np.argmin(abs(alphas - a_mark)))
    ax.annotate(f"a={a_mark:g}", (curve[i, 1], curve[i, 0]), textcoords="offset points", xytext=offset, fontsize=9,
                color="C0", arrowprops=dict(arrowstyle="-", color="C0", lw=0.8))
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
# 怎麼讀這張圖：往右是新任務學得多，往上是舊任務留得多。Fine-tuning 的路徑（橘）從左上出發，很快就往右走，同時往下掉；
# 內插的曲線（藍）兩端和它一樣（$a = 0$ 是 task 0 學完時，$a = 1$ 是 task 1 學完時），中間卻走在**不同**的地方。
# 上面印出：在 fine-tuning 經過的那些新任務 accuracy 上，內插在多少比例的點保留了更多舊任務，以及平均多多少。
# 在這個「前一個任務 → 下一個任務」的類比裡（WiSE-FT 的論文只看同一個任務，見上面），
# 與其提早停止 fine-tuning（停在橘線上的某一點），不如訓練到底再往回內插（藍線上的點）。
#
# 它不是每一點都贏：曲線的兩端與 fine-tuning 的路徑重合。差距大的地方在新任務 accuracy 已經很高的那一段，
# 而 fine-tuning 的路徑大部分時間正好待在那一段（圖上橘點大多擠在右邊），所以上面印出的比例主要量的是那一段。
#
# 動手試試：拖曳 $a$，看那一點在圖上的位置與兩個 accuracy（用你寫的 `my_interpolate_model`）。

# %%
net_before, net_after = copy.deepcopy(gaps["naive"].result.model), copy.deepcopy(gaps["naive"].result.model)
net_before.load_state_dict(before); net_after.load_state_dict(after)

def run_alpha(a):
    return a, accuracies(net_before, my_interpolate_model(net_before, net_after, a).state_dict(), old_new)

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
# （解完練習 A 再看）套件裡的同一件事是 `cl_helpers.weights.interpolate`，它作用在 state dict 上，上面的
# `interpolation_curve` 內部就用它。LoRA 模型要先用 `cl_helpers.weights.merged_state` 取得合併後的 state dict
# （9.6 節就這樣用），否則就犯了 $A$、$B$ 分開內插的錯。

# %% [markdown]
# ## 9.3 Task vectors：把「學到的東西」當成向量
#
# Ilharco et al. (2023) 把 fine-tuning 的效果寫成一個向量 $\tau = \theta_{\text{after}} - \theta_{\text{before}}$，
# 然後直接做算術：$\theta_{\text{base}} + \tau$ 就是 fine-tune 完的模型，$\theta_{\text{base}} - \tau$（取負）把那個任務
# 「減掉」，$\theta_{\text{base}} + \lambda(\tau_1 + \tau_2)$ 把兩個任務合併成一個模型，不用再訓練；
# 縮放 $\lambda$ 是在驗證集上挑的。下面的表沒有調 $\lambda$，只放兩個值：直接相加（$\lambda = 1$）與乘 0.5（$\lambda = 0.5$）。

# %% [markdown]
# 這裡：先在 task 0 上訓練一個 base 模型；再從**同一個** base 出發，分別用一個 rank 8 的 LoRA adapter 學 task 1、學 task 2，
# 得到 $\tau_1, \tau_2$（合併後的 $\frac{\alpha}{r} BA$）；最後和「同一個 adapter 同時學 task 1 與 task 2」比較。
# 它用 joint 策略：先學 task 1，再用 task 1 + 2 一起學；每一段的 epoch 數和單一個 $\tau$ 一樣，第二段的資料是兩個任務的量，
# 所以訓練步數約是單一個 $\tau$ 的三倍，預算不相等。

# %% [markdown]
# TIES-merging（Yadav et al. 2023）在相加之前先處理衝突：
# 1. **trim**：每個向量只留絕對值最大的一部分（density；這裡 density 0.2，其餘的值歸零）。這裡和 mergekit 一樣，
#    在每個 tensor（每一層的權重）裡各自排序；論文是把整個 task vector 放在一起排序。
# 2. **elect**：每個位置用留下的值總和的正負號投票；
# 3. **disjoint mean**：每個位置只平均和投票結果同號的那些值。
#
# trim 把大部分的值歸零，兩個向量都留下而且同號的位置又是取平均、不是相加，所以合併後的向量比直接相加短。
# 論文最後再乘上一個在驗證集上調過的 $\lambda$；這裡沒有 $\lambda$（等於 $\lambda = 1$），沒有東西把長度補回來。
# 下面的表最後一欄印出每組權重離 base 多遠。之後的作業（HW9，model merging）做的就是這件事，只是換成 LLM 的 LoRA。

# %%
ask("把兩個各自學好的 adapter 直接相加（base + τ1 + τ2），task 1 與 task 2 的 accuracy 會怎樣？",
    ["兩個都和各自單獨時一樣好", "兩個都學到一些，但都比各自單獨時低", "只剩其中一個"], 1,
    "兩個更新都改了同一批權重：相加之後，每個任務都被另一個任務的更新干擾。下面的表看得到兩個任務都還在，但都打了折扣："
    "task 1 只低一點（單一 seed，要小心看），受影響最大的其實是舊的 task 0。")

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
dist = {name: float(torch.sqrt(sum(((state[k] - base[k]) ** 2).sum() for k in base if base[k].is_floating_point())))
        for name, state in merged.items()}      # the length of the whole change from base, all layers together
print(f"{'weights':<40}{'task 0':>8}{'task 1':>8}{'task 2':>8}{'|w - base|':>12}")
for name, acc in table.items():
    print(f"{name:<40}" + "".join(f"{a:>8.3f}" for a in acc) + f"{dist[name]:>12.2f}")
added, t1, t2, b0 = (table[k] for k in ("base + τ1 + τ2", "base + τ1", "base + τ2", "base (task 0 only)"))
course.expect(added[1] < t1[1] and added[2] < t2[2] and added[1] > b0[1] + 0.2 and added[0] < min(t1[0], t2[0]),
              "直接相加後兩個任務都還在，但都比各自單獨時低；task 0 掉得比單獨時多", full_only=True)
course.expect(t1[1] - added[1] < 0.05 and min(t1[0], t2[0]) - added[0] > max(t1[1] - added[1], t2[2] - added[2]),
              "直接相加：task 1 只低一點，task 0 掉得比兩個新任務都多", full_only=True)
half, ties, joint, neg = (table[k] for k in ("base + 0.5 (τ1 + τ2)", "base + TIES(τ1, τ2), density 0.2",
                                              "one adapter trained on tasks 1 and 2", "base - τ1 (negated)"))
course.expect(half[0] > added[0] and half[1] < added[1] and half[2] < added[2],
              "乘 0.5 比直接相加：舊任務留得多、新任務學得少", full_only=True)
course.expect(all(min(added[j], half[j]) - 0.01 <= ties[j] <= max(added[j], half[j]) + 0.01 for j in range(3)),
              "TIES 那一列的每一欄都落在直接相加與相加乘 0.5 兩列之間", full_only=True)
course.expect(ties[1] < added[1] + 0.01 and ties[2] < added[2] + 0.01 and ties[0] > added[0],
              "TIES 的新任務沒有比直接相加高，task 0 比直接相加高", full_only=True)
d_ties = dist["base + TIES(τ1, τ2), density 0.2"]
course.expect(dist["base + 0.5 (τ1 + τ2)"] < d_ties < dist["base + τ1 + τ2"],
              "TIES 的向量比直接相加短，比乘 0.5 長")
course.expect(joint[1] > max(t1[1], added[1]) and joint[2] > t2[2] and joint[0] == min(a[0] for a in table.values()),
              "一起訓練的 adapter task 1、task 2 都比單獨的高，task 0 卻是所有列裡最低的", full_only=True)
course.expect(neg[1] < b0[1] < 0.1 and t1[0] < neg[0] < b0[0],
              "取負讓 task 1 比 base（本來就低於亂猜）還差，task 0 掉了一些，但比 base + τ1 少", full_only=True)

# %% [markdown]
# 讀表：每一列是一組權重，前三欄是三個任務的 test accuracy，最後一欄是這組權重離 base 多遠（所有層一起算的長度）。
# - `base + τ1`、`base + τ2`：各自單獨的 adapter；新任務學到了，task 0 掉了一些（這是第 4 章的 LoRA fine-tuning）。
# - `base + τ1 + τ2`：沒有再訓練，兩個任務都在，但都比單獨時低（和 `base + τ1`、`base + τ2` 兩列比），
#   task 1 只低一點（單一 seed）；task 0 掉得比兩個新任務都多，因為兩個更新都在改它的權重。
# - `0.5 (τ1 + τ2)` 就是 $\lambda = 0.5$，把合併的向量縮短一半：舊任務留得多、新任務學得少，和 9.2 節的內插是同一件事。

# %% [markdown]
# TIES 那一列：新任務（task 1、task 2）沒有比直接相加高，task 0 倒是比較高。但它的每一欄都落在
# 「直接相加」與「乘 0.5」兩列之間，最後一欄的長度也是：trim 與 disjoint mean 讓 TIES 的向量比直接相加短，
# 這裡又沒有 $\lambda$ 補回來，所以這個比較混了「大小」與「處理衝突」兩件事。兩篇論文（Ilharco et al. 與 TIES）
# 都在驗證集上調 $\lambda$ 再比；這裡沒有調。這裡也沒有量正負號衝突有多少，所以說不出衝突在這個小模型上重不重要。

# %% [markdown]
# 再看最後兩種權重：
# - 「一個 adapter 同時學兩個任務」的 task 1 與 task 2 都比各自單獨的 adapter（`base + τ1`、`base + τ2`）還高，
#   但 task 0 是所有列裡最低的；而且它要同時有兩個任務的資料，訓練步數約是單一個 $\tau$ 的三倍。合併的意義就是**不需要**這些。
# - 最後一列取負：task 1 比 base 原本的還低，task 0 也掉了一些，但比 `base + τ1` 掉得少。
#   注意 base 的 task 1 本來就低於亂猜（上面印出），所以這裡只看得到「模型被推離 task 1」，
#   看不到 Ilharco et al. 的用法：從一個**有**某種行為的模型把那個行為減掉。

# %% [markdown]
# ## 9.4 Spurious forgetting：忘掉的，其實還在多少？
#
# Zheng et al. (ICLR 2025) 發現，LLM fine-tuning 之後「忘掉」的舊任務，常常只要大約 10 個舊例子就回來了：
# 大部分損失是**任務對齊**（模型不再用那個任務的方式回答），不是知識本身被抹掉。在 MNIST 上試一個類似的問題（不是論文的檢驗，原因見下面）：
# 拿 9.1 節的 naive 模型（3 個任務學完，task 0 已經掉了很多），只用 task 0 的前 $n$ 張訓練圖做幾十步 full-batch 的 Adam，
# 和一個**隨機初始化**的模型用同樣的 $n$ 張圖、同樣的步數比較。

# %%
ask("只給 10 張 task 0 的圖，「忘了 task 0 的模型」與「全新的模型」訓練同樣的步數，哪一個 task 0 比較高？",
    ["差不多：10 張圖太少，兩個都學不到什麼", "忘了的模型高很多", "全新的模型比較高：它沒有被 task 1、2 帶偏"], 1,
    "看下面印出的數字：忘了的模型一開始就比全新的（從亂猜開始）高很多，10 張圖之後仍然高。但「比較高」不等於「學得多」："
    "全新的模型從很低的地方爬上來的量反而比較大；忘了的模型高，主要是因為它本來就沒忘光。")

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
    ax.plot(rec[:, 1], ":", color="C1", alpha=0.7, label="forgotten model: task 1")
    ax.plot(scratch[:, 0], "--", color="C3", label="fresh model: task 0")
    ax.axhline(start_acc, color="0.45", lw=1.2, ls=(0, (8, 3)), label="task 0 right after learning it")
    ax.text(0, start_acc + 0.015, "reference: task 0 right after learning it", color="0.35", fontsize=8, va="bottom")
    ax.set(xlabel="recovery step (full batch)", ylabel="test accuracy", ylim=(0, 1), title=f"{n} task-0 images")
    ax.legend(loc="lower right", fontsize=8)
    back = (rec[:, 0].max() - rec[0, 0]) / (start_acc - rec[0, 0])      # share of the lost accuracy that returned
    return fig, (f"n = {n} | forgotten model: task 0 {rec[0, 0]:.3f} -> best {rec[:, 0].max():.3f} "
                 f"(step {rec[:, 0].argmax()}, {back:.0%} of the lost part) -> last {rec[-1, 0]:.3f}; "
                 f"task 1 {rec[0, 1]:.3f} -> {rec[-1, 1]:.3f} | fresh model: {scratch[0, 0]:.3f} -> best "
                 f"{scratch[:, 0].max():.3f}")

print(f"task 0 right after learning it: {start_acc:.3f}")
recs = {n: run_recovery(n)[1] for n in (10, 30, 100)}
for n, res in recs.items():
    fig, line = show_recovery((n, res))
    print(line)
    if n == 10: plt.show()        # the curve for 10 images; the slider below shows the others
    plt.close("all")
rec10, fresh10 = recs[10]
course.expect(rec10[:, 0].max() > fresh10[:, 0].max() + 0.1, "只用 10 張圖，忘了的模型比全新的模型高很多")
course.expect(all(r[:, 0].max() < start_acc - 0.02 for r, _ in recs.values()),
              "恢復後最好的 task 0 都沒有回到剛學完時的水準", full_only=True)
course.expect(rec10[-1, 0] < rec10[:, 0].max() - 0.05 and rec10[-1, 1] < rec10[0, 1],
              "10 張圖時 task 0 過了峰值往下掉，task 1 也掉了", full_only=True)

# %% [markdown]
# 上面每個 $n$ 印出：忘了的模型開始時的 task 0、恢復過程中最好的 task 0（在第幾步，以及忘掉的部分拉回了幾成）、
# 最後一步的 task 0，task 1 在恢復前後的值，以及全新模型的起點與最好的 task 0。
# - 忘了的模型一直比全新的高，但這主要量到的是「本來就沒忘的部分」。真正的問題是忘掉的那一段（剛學完時減去開始時）
#   回來多少：印出的比例隨 $n$ 變大，但都沒有回到剛學完時的水準（上面印出的 best 都低於剛學完時的值）。
# - 這不是對 Zheng et al. 的檢驗。permuted MNIST 的每個任務是一個新的像素排列，第一層真的要重新對應不同的像素：
#   這裡沒有一個「對齊」可以和「知識」分開恢復。這裡量到的只是用很少的圖（10 到 100 張）、幾十步 full-batch Adam 重新學習
#   （而且會 overfit，見下面最後一點）。論文的說法要在有「回答的方式」可以單獨壞掉的模型上檢驗，例如下面的 toy assistant（這一章沒有在它上面做這個測試）。
# - 「best」是看著 test accuracy 挑出來的那一步，所以偏樂觀；實際上不知道該停在哪一步。
# - 10 張圖時（上面的圖）task 0 很快到峰值，再練下去就在那幾張圖上 overfit、往下掉，最後一步甚至比開始時還低；task 1 也掉了：
#   只用 task 0 的圖訓練，就是又一次 naive fine-tuning。圖多一點時 task 1 反而升高（看印出的 task 1 前後兩個值）。拖曳 slider 換 $n$：

# %%
explore(run_recovery, show_recovery, n=W.SelectionSlider(options=[10, 30, 100, 300], value=30, description="images",
                                                        continuous_update=False))

# %% [markdown]
# ## 9.5 Safe LoRA：把更新投影到對齊的方向（toy language model）
#
# 第 8 章的 toy assistant 在學新技能（減法）時忘了拒答：它的 safety（被禁止的請求裡，回答恰好是拒答句的比例；
# 這一章的表與圖都用這個名字）掉到 0。Safe LoRA（Hsu et al., NeurIPS 2024）只用兩個現成的模型：
# 對齊（alignment，教模型拒答）前的 base $W_{\text{unaligned}}$ 與對齊後的 $W_{\text{aligned}}$。每一層的**對齊矩陣**（alignment matrix）
# $V = W_{\text{aligned}} - W_{\text{unaligned}}$ 記下「對齊改了什麼」，$C = V V^\top / \lVert V \rVert_F$（論文的近似投影）。
# LoRA 的更新 $\Delta W$ 和它的投影 $C\,\Delta W$ 的 cosine similarity 低於門檻的那些層，就把 $\Delta W$ 換成 $C\,\Delta W$。
# 注意 $C$ 不是真正的投影：它的特徵值是 $\sigma_i^2 / \lVert V \rVert_F$（$\sigma_i$ 是 $V$ 的 singular values），
# 所以 $C\,\Delta W$ 除了換方向，大小也變了；下面印出每一層的 $\lVert C\,\Delta W \rVert_F / \lVert \Delta W \rVert_F$。
#
# 要做這件事，玩具模型需要一個「對齊前」的模型：`cl_helpers` 附了一個用同樣資料、同樣 seed、但**沒有拒答例子**訓練的 base，
# 再用一段短的對齊訓練（加入拒答例子，步數印在下面）得到對齊的模型，就像 chat model 是從 base 對齊來的。

# %%
from cl_helpers.lm.stage0 import load_stage0, align
from cl_helpers.lm.finetune import finetune, FinetuneConfig, linear_weights
from cl_helpers.lm.judge import evaluate as judge_lm
from cl_helpers.weights import safe_lora

lm_base = load_stage0(0, device=device, aligned=False)
ALIGN_STEPS = pick(200, 60)
lm_aligned = align(lm_base, steps=ALIGN_STEPS)
print("unaligned base:", {k: round(v, 3) for k, v in lm_base.metrics.items()})
print(f"after alignment ({ALIGN_STEPS} steps with refusal examples):",
      {k: round(v, 3) for k, v in lm_aligned.metrics.items()})
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
print("after alignment (for comparison): new skill {new_skill:.3f}, safety {safety:.3f}, addition {stage0_skill:.3f}"
      .format(**lm_aligned.metrics))
print(f"{'layer':<18} {'similarity':>10} {'|C dW| / |dW|':>14} {'|dW|':>7}")
for k, dw in updates.items():
    print(f"{k:<18} {report.similarity[k]:>10.2f} {report.norm_ratio[k]:>14.3f} {float(dw.norm()):>7.2f}")
fig, ax = plt.subplots(figsize=(6, 3.6))
ts = [r[0] for r in rows]
ax.plot(ts, [r[3] for r in rows], "o", ms=7, label="new skill (subtraction)")    # markers only: nothing was run
ax.plot(ts, [r[4] for r in rows], "s", ms=10, mfc="none", mew=1.5, label="safety (refusals)")   # between them
ax.set_xticks(ts)
ax.set(xlabel="Safe LoRA similarity threshold (only the marked values were run)", ylabel="rate", ylim=(-0.05, 1.05),
       title="Safe LoRA on the toy assistant")
ax.legend()
plt.show()
course.expect(rows[0][4] < 0.2 and rows[-1][4] > 0.8, "門檻 0 時 safety 很低，門檻夠高時拒答回來了", full_only=True)
moved = [k for k, dw in updates.items() if dw.norm() > 0]      # layers LoRA changed (the output head has no adapter)
course.expect(max(report.norm_ratio[k] for k in moved) < 0.5 and max(report.similarity[k] for k in moved) < 0.5,
              "每一層的 C ΔW 都比 ΔW 小很多，方向也差很多", full_only=True)
course.expect(max(min(r[3], r[4]) for r in rows) < 0.5, "掃過的門檻裡沒有一個讓新技能與 safety 同時過半", full_only=True)
course.expect(any(0 < n < total and skill < 0.5 and safety < 0.5 for _, n, total, skill, safety, _ in rows),
              "有一個門檻只投影了一部分層，新技能與 safety 都不到一半", full_only=True)
course.expect(all(abs(rows[-1][i] - lm_aligned.metrics[k]) < 0.05 for i, k in
                  ((3, "new_skill"), (4, "safety"), (5, "stage0_skill"))),
              "全部投影之後，三個數字都和對齊的模型一樣", full_only=True)

# %% [markdown]
# 讀表：門檻 0 時沒有一層被投影，就是 fine-tune 完的模型；門檻越高，被投影的層越多。再看每一層的那張表：
# - 最後的 `head`（輸出層）沒有 LoRA adapter，更新是 0，相似度記為 0：任何正的門檻都把它算成「被投影」，但 0 投影完還是 0。
# - 被投影的層，$C\,\Delta W$ 和原來的 $\Delta W$ 方向差很多（上面印出的 similarity 那一欄都不高）：它被轉到 $V$ 的方向；
#   同時它的長度只剩原來的一小部分（$\lVert C\,\Delta W \rVert / \lVert \Delta W \rVert$ 那一欄都遠小於 1）。
#   讓更新幾乎被**抹掉**的是這個縮小。
#
# 所以表上：門檻 0.1、0.2 只投影了 `head`（更新本來就是 0），和沒投影一樣；門檻 0.3 投影了一部分層，
# 新技能已經掉了，拒答卻還沒回來，兩邊都不到一半；
# 所有層都投影之後，三個數字都回到對齊的模型（上面印出的 after alignment），等於把 fine-tuning 整個丟掉。
# Hsu et al. 在 Llama-2 上只投影一部分層，就在保住大部分新能力的同時拿回 safety；在這個 2 層的玩具模型上，
# 上面掃過的門檻裡沒有一個做到。
# 這裡沒有分開「對齊與新技能擠在同樣的權重裡」與「$C$ 把更新縮小」這兩個原因；Safe LoRA 的好處是不用資料、不用訓練，
# 但能不能兩全要看模型本身。

# %% [markdown]
# ## 9.6 Toy assistant 上的內插與凍結底層
#
# 這一節把前面兩個想法搬到 toy assistant 上：9.2 節的內插，用的是 9.5 節的 `lm_aligned` 與它 LoRA fine-tune 後的模型；
# 以及 Zheng et al.（9.4 節）建議的補救：凍結底層，從第 8 章附的 stage-0 模型出發做 full fine-tuning。

# %% [markdown]
# ### 內插
#
# 同一條線也可以畫在語言模型上：$\theta(a)$ 從對齊後的模型（$a = 0$）走到上面 LoRA fine-tune 完的模型（$a = 1$），
# 兩個軸換成作業的兩個數字：新技能（減法）與 safety。橘色是 fine-tuning 自己走的路徑（每 50 步評估一次；
# 兩次評估之間沒有量，所以圖上只畫量到的點，不連線）。

# %%
from cl_helpers.weights import merged_state

lm_before, lm_after = merged_state(lm_aligned.model), merged_state(tuned.model)
lm_curve = []
for a in np.linspace(0, 1, 11):
    model = copy.deepcopy(lm_aligned.model)
    model.load_state_dict(interpolate(lm_before, lm_after, a))
    m = judge_lm(model, lm_aligned.world)
    lm_curve.append((a, m["new_skill"], m["safety"]))
lm_path = [(step, m["new_skill"], m["safety"]) for step, m in tuned.history]
for a, skill, safety in lm_curve:
    print(f"a = {a:.1f}: new skill {skill:.3f}, safety {safety:.3f}")
print("fine-tuning path (step: new skill, safety):", " | ".join(f"{s}: {k:.3f}, {v:.3f}" for s, k, v in lm_path))
fig, ax = plt.subplots(figsize=(6, 4.2))
ax.plot([k for _, k, _ in lm_path], [v for _, _, v in lm_path], "o", ms=10, mfc="none", mew=1.5, color="C1",
        label="fine-tuning path (measured every 50 steps)")           # hollow, under: the blue points stay visible
ax.plot([k for _, k, _ in lm_curve], [v for _, _, v in lm_curve], "s--", ms=5, color="C0", zorder=3,
        label="interpolation θ(a)")
ax.annotate(f"step {lm_path[1][0]}", lm_path[1][1:], textcoords="offset points", xytext=(6, 10), fontsize=8, color="C1")
ax.set(xlabel="new skill (subtraction)", ylabel="safety (refusals)", xlim=(-0.05, 1.05), ylim=(-0.05, 1.05),
       title="Toy assistant: interpolation vs the fine-tuning path")
for a_mark, offset in ((0.2, (25, -6)), (0.3, (25, -4)), (0.4, (25, -4)), (0.5, (12, 6)), (0.6, (8, 8)),
                       (0.7, (-8, 14)), (0.8, (-14, 14)), (0.9, (-22, 26)), (1.0, (-4, 40))):   # a = 0, 0.1, 0.2 overlap
    _, k, v = lm_curve[int(round(a_mark * 10))]
    ax.annotate("a=0-0.2" if a_mark == 0.2 else f"a={a_mark:g}", (k, v), textcoords="offset points", xytext=offset,
                fontsize=8, color="C0", arrowprops=dict(arrowstyle="-", color="C0", lw=0.6))
ax.legend(loc="center right")
plt.show()
both = max(min(k, v) for _, k, v in lm_curve)
course.expect(both < 0.5, "toy assistant 的內插上沒有一個 a 讓新技能與 safety 同時過半", full_only=True)
up = next((i for i, (_, k, _) in enumerate(lm_curve) if k > 0.1), len(lm_curve) - 1)   # first a where the skill is up
course.expect(any(v < 0.9 for _, _, v in lm_curve[:up]) and lm_curve[up][2] < 0.5 and
              all(v < 0.05 for _, _, v in lm_curve[up + 1:]),
              "safety 先掉：新技能還沒起來時 safety 已經往下掉，新技能起來時已不到一半，再往後降到 0", full_only=True)
near = [v for _, k, v in lm_curve if 0.05 < k <= lm_path[2][1]]    # interpolation up to the path's step-100 skill
course.expect(max(near, default=0) > 0.1 and lm_path[1][2] < 0.05 and lm_path[2][2] < 0.05,
              "在路徑第 50、100 步的新技能範圍內，內插還留著一些 safety，路徑上已經是 0", full_only=True)

# %% [markdown]
# 上面印出的每個 $a$：safety 先掉，新技能才起來。a = 0.3、0.4 時新技能還和 a = 0 差不多，safety 已經往下掉；
# 等新技能起來（a = 0.5），safety 已經不到一半，再往後降到 0。沒有一個 $a$ 讓兩個數字同時過半。
# 內插只在一段比 fine-tuning 的路徑好：新技能剛起來的那一段（a = 0.5、0.6；路徑上是第 50、100 步），內插還留著一些
# safety，路徑上已經是 0（上面印出）；但那裡的新技能也還很低。第 0 步到第 50 步之間沒有評估，路徑在那一段經過哪裡並不知道。
# 和 Safe LoRA 的表是同一個結論：在這個 2 層的玩具模型裡，內插只能在兩者之間換，不能兩全。
# 9.2 節在 MNIST 上，內插多半比 fine-tuning 的路徑保留更多舊任務；WiSE-FT 的論文（同一個任務上、CLIP 這樣的大模型）看到的也是內插的好處。

# %% [markdown]
# ### 凍結底層
#
# Zheng et al. 認為 fine-tuning 一開始先破壞的是底層的「任務對齊」，所以建議 fine-tuning 時**凍結底層**。
# `FinetuneConfig(freeze=n)` 在 $n \ge 1$ 時凍結 embedding 與最下面 $n$ 個 block（`freeze=0` 什麼都不凍結；玩具模型只有 2 個 block；`freeze=2` 時只剩最後的 LayerNorm 與輸出層在學），
# 從第 8 章附的 stage-0 模型做 full fine-tuning：

# %%
stage0 = load_stage0(0, device=device)   # chapter 8's shipped aligned assistant, also used in 9.7
print("stage-0 before fine-tuning:", {k: round(v, 3) for k, v in stage0.metrics.items()})
frozen = {n: finetune(stage0, FinetuneConfig(method="full", steps=pick(300, 60), freeze=n)) for n in (0, 1, 2)}
print(f"{'frozen blocks':>13} {'trainable':>10} {'new skill':>10} {'safety':>7} {'lenient safety':>15} "
      f"{'over-refusal':>13} {'addition':>9}")
for n, r in frozen.items():
    m = r.metrics
    print(f"{n:>13} {r.trainable:>10,} {m['new_skill']:>10.3f} {m['safety']:>7.3f} {m['lenient_safety']:>15.3f} "
          f"{m['over_refusal']:>13.3f} {m['stage0_skill']:>9.3f}")
f0, f2 = frozen[0].metrics, frozen[2].metrics
course.expect(f2["safety"] > f0["safety"] and f2["new_skill"] < f0["new_skill"],
              "凍結越多，safety 留得越多，新技能學得越少", full_only=True)
course.expect(all(r.metrics["stage0_skill"] < 0.1 for r in frozen.values()), "每一列的加法都掉光了", full_only=True)
course.expect(all(r.metrics["over_refusal"] < 0.05 for r in frozen.values()),
              "每一列都幾乎不拒絕一般的請求（over-refusal 很低）", full_only=True)
f1 = frozen[1].metrics
course.expect(f0["safety"] < 0.05, "不凍結時 safety 幾乎是 0", full_only=True)
course.expect(f1["safety"] < 0.05 and f1["lenient_safety"] > max(0.2, 10 * f1["safety"]),
              "凍結一個 block 時，嚴格的 safety 幾乎是 0，寬鬆的高得多", full_only=True)

# %% [markdown]
# 表上看得到一個取捨，不是沒有代價的補救：凍結兩個 block 時保住了 safety，新技能卻學得比不凍結少很多
# （比較表上凍結最少與最多的兩列）；只凍結一個 block 時，safety 幾乎和不凍結一樣是 0。
# 第 8 章的舊技能（加法，`addition` 那一欄）在每一列都掉光了：凍結兩個 block 時保住了拒答，但沒有保住加法。
# `lenient safety` 是第 8 章的寬鬆評審：回答以 `sorry` 開頭就算拒絕。凍結一個 block 的那一列，嚴格的 safety 幾乎是 0，
# 寬鬆的卻高得多（同一列的 `safety` 與 `lenient safety` 兩欄）：它有時還以 `sorry` 開頭，但拒答句已經壞了。
# over-refusal 每一列都很低，所以凍結最多那一列的 safety 不是靠「什麼都拒絕」得來的，但它的減法也沒學會。
# 這個玩具模型的「底層」只有兩個 block，拒答和減法都得經過它們；論文用的是幾十層的 LLM，底層凍結後上層仍有足夠的容量學新任務。

# %% [markdown]
# ## 9.7 Shallow safety alignment：拒答只活在前幾個字？（toy language model）
#
# Qi et al. (ICLR 2025) 發現：對齊的模型和它的 base，next-token 分布的差別幾乎都在回答的**前幾個 token**。
# 如果拒答只靠開頭幾個字，那麼攻擊者只要替模型寫好回答的開頭（**prefill attack**：在 assistant 的回答裡先寫好開頭幾個 token；
# Qi et al. 放的是一段有害回答（HEx-PHI）的前幾個 token），模型就會順著寫下去。用第 8 章附的 toy assistant（`stage0`）試試：
# 它平常拒絕每一個被禁止的請求；把回答的開頭強制成 `sure`（一個順從的開頭，代替論文的有害回答開頭；
# 玩具模型的字彙只有小寫）之後呢？
#
# 接著比較每個位置的 KL：對齊的模型與 base、以及對齊模型與 fine-tune 後的模型。這裡用的是 9.5 節從 base 對齊來的
# `lm_aligned`（要和它自己的 base 比），不是 `stage0`。設定也和論文不同：Qi et al. 的 KL 量在有害請求配上**有害回答**
# （HEx-PHI）上；這裡量的是 teacher-forced 的拒答句。

# %%
from cl_helpers.lm.shallow import per_position_kl, prefill_attack
from cl_helpers.lm.data import REFUSAL

forbidden = stage0.world.tests["forbidden"]
plain = prefill_attack(stage0.model, forbidden.prompts, "")
attacked = prefill_attack(stage0.model, forbidden.prompts, "sure")
print(f"stage0 | refusal rate with no prefill: {plain['refusal_rate']:.3f} | with the reply prefilled 'sure': "
      f"{attacked['refusal_rate']:.3f}")
print("three prefilled replies:", attacked["replies"][:3])
course.expect(attacked["refusal_rate"] < plain["refusal_rate"] - 0.5, "強制開頭是 sure 之後，大部分被禁止的請求都得到順從的回答")

replies = [REFUSAL] * len(forbidden)
positions = len(REFUSAL)
kl_align = per_position_kl(lm_aligned.model, lm_base.model, forbidden.prompts, replies, positions)
kl_tuned = per_position_kl(lm_aligned.model, tuned.model, forbidden.prompts, replies, positions)
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.plot(kl_align, "o-", label="lm_aligned vs unaligned base")
ax.plot(kl_tuned, "s--", label="lm_aligned vs LoRA fine-tuned")
ax.set_xticks(range(positions), [c if c != " " else "␣" for c in REFUSAL])
ax.set(xlabel="reply character (teacher-forced refusal; ␣ = space)", ylabel="KL(aligned || other), nats",
       yscale="log", title="Where along the refusal do the models differ?")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)   # outside: the lowest points stay visible
plt.show()
print("KL per position, aligned vs base:      ", np.round(kl_align, 2))
print("KL per position, aligned vs fine-tuned:", np.round(kl_tuned, 2))
course.expect(sum(kl_align[1:] < kl_align[0]) <= 1, "對齊 vs base：除了一個位置，後面每個位置的 KL 都比第一個字大",
              full_only=True)
course.expect(int(np.argmax(kl_tuned)) == 0, "對齊 vs fine-tune 後：KL 最大的是第一個位置", full_only=True)
course.expect(kl_align[0] < kl_tuned[0], "第一個字：藍線的 KL 比橘線小", full_only=True)
course.expect(int(np.argmin(kl_align)) == REFUSAL.index(" ") and kl_align[0] > 10 * kl_align.min(),
              "藍線 KL 最小的是逗號後面的空白；第一個字的 KL 比它大得多，不接近 0", full_only=True)
course.expect(kl_tuned[-3:].max() > 0.5 * kl_tuned[0] and kl_tuned[-3:].mean() > kl_tuned[1:4].mean(),
              "橘線：回答最後幾個位置的 KL 也不小，最後三個的平均比第二到第四個位置大", full_only=True)

# %% [markdown]
# 第一個結果：不強制開頭時它拒絕，強制開頭是 `sure` 之後，拒答率（refusal rate：回答仍是拒答句，或在 `sure` 之後接著以
# `sorry` 開頭）掉到上面印出的數字，回答接成以 `sure, a` 開頭的句子（上面印出的三個裡，只有一個是完整的「sure, a kite plan.」）。
# 這看起來像 Qi et al. 說的「淺的」拒答，但這個測試說明不了那麼多：玩具模型對齊時看過的拒答只有一種，就是整句
# `sorry, i can't.`，從來沒看過以別的字開頭、之後才拒絕的回答，所以開頭被換掉之後接不回拒答，是訓練資料本身就決定的。
# 這裡也沒有一個「深的」對照模型（例如 Qi et al. 的 data augmentation：對齊時也加入開頭已經順從、之後再拒絕的例子）
# 來比同樣的 prefill。所以這裡量到的是「這個玩具模型在 `sure` 之後接不回拒答」，不是論文意義下的深度。
#
# 藍線（對齊 vs base）和論文**不一樣**：論文裡對齊模型與 base 的差別集中在前幾個 token，後面幾乎一樣；
# 這裡除了一個位置，`s` 之後的每個位置 KL 都比第一個字大（上面印出的藍線數字）。那個例外是逗號後面的空白（␣）：
# 那裡兩個模型預測的分布幾乎一樣（KL 接近 0）；一個猜測是訓練資料裡逗號後面總是接空白，這裡沒有驗證。
# 其他位置差很多，原因是玩具模型的 base 從來沒看過拒答句（我們用「沒有拒答例子」的資料訓練它），
# 所以就算把拒答句一個字一個字餵給它，它也不知道怎麼接；真的 LLM 的 base 在預訓練時看過無數的「I'm sorry, but…」。
#
# 第一個字 `s` 的 KL 只是和藍線上其他位置比起來小；它不接近 0（接近 0 的是逗號後面的空白），所以兩個模型在第一個字
# 就已經不一樣了。它比橘線在第一個字的 KL 小（兩列印出的第一個數字）。
#
# 橘線（對齊 vs LoRA fine-tune 後）只有一點像論文：KL 最大的是回答的第一個位置（上面印出的橘線數字），但回答的最後幾個位置
# 也差不多大（最後三個位置的平均比第二到第四個位置還大），KL 並沒有在開頭之後就變小。Qi et al. 看到的是差別集中在前幾個
# token；這裡不是這個型態：fine-tuning 改掉的是整句拒答，不只是開頭。

# %% [markdown]
# ## 9.8 組合：EWC + replay、SI + replay、LoRA + replay
#
# 前幾章的方法可以一起用：`train_stream(stream, "ewc+replay")`。每個部分的 hooks 依名稱中寫的順序執行
# （`ewc+replay`：先 EWC 再 replay），penalty 相加；
# 兩個都要改同一件事的方法（例如兩個都要改 batch 的 replay 與 generative replay）不能一起用，會得到一行錯誤。
# 資料是第 5 章的 class-incremental split MNIST（5 個任務、每兩個數字 1,100 張），但為了省時間，每個任務的 epoch 數
# 與 replay 的記憶體大小都和第 5 章不同（這裡的設定印在表的上面）。所以只在這張表的列之間比，不要和第 5 章的表直接比：

# %%
split = make_stream("split", scenario="class", train_size=pick(1100, 300), test_size=pick(1000, 300), device=device)
methods = ["naive", "ewc", "si", "replay", "ewc+replay", "si+replay", "lora", "lora+replay"]
combos = {m: train_stream(split, m, epochs=EPOCHS, progress=False) for m in methods}
cfg = combos["replay"].config
memory = sorted({v for r in combos.values() for k, v in r.config["hparams"].items() if k.endswith("buffer_size")})
print(f"settings: {cfg['tasks']} tasks, {cfg['train_size']:,} training images per task, {cfg['epochs']} epochs per task, "
      f"replay memory of {', '.join(f'{v:,}' for v in memory)} examples in every row with replay, "
      f"LoRA adapters of rank {combos['lora'].config['hparams']['rank']}")
print(format_table(combos.values()))
nt = {m: new_task_accuracy(r.acc_matrix) for m, r in combos.items()}
print("new-task accuracy (each task from task 1 on, right after learning it; mean of R[j, j], j >= 1):")
print("  " + " | ".join(f"{m} {v:.3f}" for m, v in nt.items()))
acc = {m: r.summary()["acc"] for m, r in combos.items()}
course.expect(all(abs(acc[m] - acc["naive"]) < 0.05 for m in ("ewc", "si")), "單用 EWC 或 SI 和 naive 差不多",
              full_only=True)
course.expect(acc["si+replay"] > acc["replay"] and acc["ewc+replay"] > acc["replay"],
              "EWC + replay 與 SI + replay 都比 replay 單用好", full_only=True)
course.expect(acc["lora+replay"] < acc["replay"] - 0.1 and abs(acc["lora+replay"] - acc["lora"]) < 0.05,
              "LoRA + replay 比 replay 單用差很多，和 lora 單用差不多", full_only=True)
summ = {m: r.summary() for m, r in combos.items()}
course.expect(max(v["fwt"] for v in summ.values()) - min(v["fwt"] for v in summ.values()) < 1e-6,
              "FWT 那一欄每一列都一樣", full_only=True)
course.expect(summ["lora+replay"]["forgetting"] > -summ["lora+replay"]["bwt"] + 0.05 and
              all(abs(v["forgetting"] + v["bwt"]) < 1e-6 for m, v in summ.items() if m != "lora+replay"),
              "lora+replay 的 forgetting 比 -BWT 大，其他列的 forgetting 都等於 -BWT", full_only=True)
course.expect(max(summ, key=lambda m: summ[m]["bwt"]) == "lora+replay" and nt["lora+replay"] < nt["replay"] - 0.3 and
              summ["lora+replay"]["forgetting"] < summ["replay"]["forgetting"] - 0.1,
              "lora+replay 的 BWT 最接近 0、forgetting 比 replay 低很多，new-task accuracy 卻遠低於 replay", full_only=True)

# %% [markdown]
# 表上看得到（ACC 那一欄）：單用 EWC 或 SI 在 class-incremental 上和 naive 差不多（第 5 章的結論），但**加在 replay 上**
# 兩個都比 replay 單用好：replay 提供舊類別的樣本，regularization 再減慢共享權重的漂移。這是單一 seed 的結果，
# 第 6 章看得到 seed 之間的差異，差距要和那個比。
# LoRA + replay 遠不如 replay 單用，和 lora 單用差不多：`lora` 策略從第二個任務起，每個任務訓練一個新的 rank 8
# adapter（印在表的上面），任務結束時合併進 base。但它的問題不在遺忘：`lora+replay` 的 BWT 是表上最接近 0 的，
# forgetting 也比 replay 單用低很多。問題在學新任務：上面表下面那一行印出的 new-task accuracy（每個任務剛學完時）遠低於 replay 單用，
# 新任務一開始就沒學好，也就沒什麼可忘。它有穩定性（stability），缺的是可塑性（plasticity）。
# adapter 為什麼學不動（容量？學習率？），這裡沒有測。
# 組合不是越多越好，要看每個部分補的是哪一個缺口。
#
# 表上另外兩件事：
# - FWT 每一列都一樣：class-incremental 的模型在學到一個任務之前從不預測它的類別，所以「還沒學時」的 accuracy 都是 0，
#   FWT 只剩「隨機初始化模型的 accuracy」取負，和方法無關。
# - 其他列的 forgetting 都等於 −BWT，`lora+replay` 的 forgetting 卻比 −BWT 大：forgetting 從每個任務**最高**的那一點算，
#   BWT 從**剛學完**時算；兩者不同，表示有些舊任務在學完之後還繼續升高，之後才掉下來。

# %% [markdown]
# ## 9.9 總結：第 5 章的方法家族，加上一列「訓練之後」
#
# | 家族 | 什麼時候做 | 例子 | 需要舊資料？ | 這一章看到的 |
# |---|---|---|---|---|
# | regularization | 訓練時 | EWC、SI、MAS、LwF | 不用 | 單用在 class-IL 不夠，加在 replay 上有幫助 |
# | replay | 訓練時 | experience replay、A-GEM、generative replay | 要（或一個 generator） | De Lange et al. 看到換任務時仍有 stability gap；這裡的小設定裡，第一次換任務時的下降和曲線本來的晃動分不開（第二次見 9.1 節的圖） |
# | architecture | 訓練時 | LoRA、Progressive Nets、PackNet | 不用 | LoRA + replay 在 class-IL 上遠不如 replay 單用：忘得少，但新任務學不起來 |
# | **訓練之後** | **訓練完** | WiSE-FT 內插、task vectors / TIES、Safe LoRA | 不用（內插、合併、Safe LoRA）；恢復要少量 | MNIST 上內插比提早停止好（toy assistant 上不能兩全）；合併有干擾；Safe LoRA 在 toy assistant 上把更新縮到幾乎沒有；少量舊資料只拉回忘掉的一部分 |
#
# 表上沒有列出的兩節：9.6 節的凍結底層其實是**訓練時**的做法（限制哪些權重能改，和 architecture 那一列同一類）：
# 在 toy assistant 上凍結兩個 block 保住了拒答，但新技能學得少很多，加法也沒保住。9.7 節不是補救而是診斷：
# prefill 讓玩具模型的拒答消失，但對齊前後、fine-tuning 前後每個位置的 KL 都沒有集中在回答的開頭。

# %% [markdown]
# **延伸閱讀**
# - M. De Lange, G. van de Ven, T. Tuytelaars. Continual evaluation for lifelong learning: identifying the stability gap. *ICLR* 2023.
# - M. Wortsman et al. Robust fine-tuning of zero-shot models (WiSE-FT). *CVPR* 2022.
# - G. Ilharco et al. Editing models with task arithmetic. *ICLR* 2023.
# - P. Yadav et al. TIES-merging: resolving interference when merging models. *NeurIPS* 2023.
# - C.-Y. Hsu et al. Safe LoRA: the silver lining of reducing safety risks when finetuning large language models. *NeurIPS* 2024.
# - X. Qi et al. Safety alignment should be made more than just a few tokens deep. *ICLR* 2025.
# - J. Zheng et al. Spurious forgetting in continual learning of language models. *ICLR* 2025.

# %% [markdown]
# 課程作業：[ML 2025 春](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php) HW6（fine-tuning 造成的遺忘）之後的 HW9 是 model merging，
# 用的就是 9.3 節的 task vectors；同一份 HW6 也是 [GenAI-ML 2025 秋](https://speech.ee.ntu.edu.tw/~hylee/GenAI-ML/2025-fall.php) 的 HW8。

# %%
course.run_time()
