# %% [markdown]
# # 第 6 章：實作 Synaptic Intelligence，並比較所有方法
#
# 這是最後一章，以練習為主。**這一章你會學到：**
# 1. **Synaptic Intelligence (SI)**（Zenke, Poole & Ganguli 2017）：沿著訓練路徑累積每個參數的重要性；
# 2. 練習 6.1：用三個小函式自己寫 SI（有自動檢查），然後**用你的函式**在 permuted MNIST 上訓練；
# 3. **MAS**：不需要標籤的重要性；
# 4. 練習 6.2：在同一張表、同一張圖上比較課程中的所有方法（每個方法跑 3 個 seed，畫出 mean ± sd），重現文獻中的排序：
#    class-incremental split MNIST（naive 約 0.2、replay 遠高於它）與 permuted MNIST（EWC 比 naive 忘得少）；
# 5. 總結、延伸閱讀，以及接下來可以往哪裡走。
#
# 資料：permuted MNIST 取訓練集最前面的 5,000 張圖；split MNIST 每兩個數字取最前面的 1,100 張。課程附的 MNIST 子集
# （前 6,309 張）與完整 MNIST 結果相同。
#
# ⏱️ 執行時間（full mode，實測）：2-core CPU 約 118 秒。本次沒有 GPU 可測；模型很小，CPU 就夠了。

# %%
# 環境設定 / Setup：同一個 cell 在 JupyterLab 與 Colab 都能用。
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install cl_helpers from the course repository (torch/ipywidgets untouched)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/__REPO__"], check=True)

import torch
import matplotlib.pyplot as plt
from cl_helpers import course, make_stream, train_stream, run_methods, TrainConfig, plots, format_table
from cl_helpers.teaching.course import pick

device = course.setup(seed=0)

# %% [markdown]
# ## 6.1 Synaptic Intelligence：沿著路徑累積重要性
#
# EWC 在**任務結束時**用 Fisher 估計重要性（只看終點 $\theta^*$ 附近的曲率）。SI 則在**訓練過程中**記錄：
# 每個參數的移動，對 task loss 的下降貢獻了多少。
#
# 訓練時參數沿著一條路徑 $\theta(t)$ 移動，loss 的總變化可以寫成 path integral，並拆成每個參數的貢獻：
#
# $$\mathcal{L}(\theta(T)) - \mathcal{L}(\theta(0)) = \int_0^T \nabla\mathcal{L} \cdot \theta'(t)\, dt
# \approx \sum_{\text{steps}} \sum_i g_i\, \delta_i, \qquad
# \omega_i = -\sum_{\text{steps}} g_i\, \delta_i .$$
#
# - $\delta_i$：這一步 optimizer 實際造成的變化 $\theta_i^{\text{after}} - \theta_i^{\text{before}}$（Adam 的步伐不是 $-\eta g$，所以要量真正的變化）。
# - $g_i$：**只有 task loss** 的 gradient，不含 penalty。penalty 的 gradient 是把參數拉回舊的 anchor，
#   那不是「在這個任務上的進步」。`cl_helpers` 的 engine 在 penalty 的 backward 之前呼叫 `after_task_backward`，正是為了讀到它。
# - $\omega_i > 0$：這個參數的移動讓 loss 下降；一步讓 task loss 上升時貢獻是負的（論文中不截斷）。
#
# 任務結束時，把 $\omega$ 除以移動量的平方（歸一化）變成重要性，累加到 $\Omega$，然後 $\omega$ 歸零：
#
# $$\Omega_i \leftarrow \Omega_i + \frac{\omega_i}{\Delta_i^2 + \xi}, \qquad
# \Delta_i = \theta_i(\text{end of task}) - \theta_i(\text{start of task}).$$
#
# $\xi > 0$（damping）避免一個完全沒動的參數（$\Delta_i = 0$，$\omega_i = 0$）變成 $0/0$。學下一個任務時的 penalty：
#
# $$\mathcal{L}(\theta) = \mathcal{L}_{\text{new}}(\theta) + c \sum_i \Omega_i\, (\theta_i - \theta^*_i)^2,$$
#
# $\theta^*$ 是上一個任務結束時的參數（注意：沒有 EWC 的 $\frac{1}{2}$）。
#
# | | EWC | SI |
# |---|---|---|
# | 重要性何時計算 | 任務結束時，額外一次 forward/backward（Fisher） | 訓練時順便累積，每步幾個 element-wise 運算 |
# | 重要性衡量什麼 | 終點附近的曲率（Fisher） | 整條路徑上對 loss 下降的貢獻 |
# | 超參數 | $\lambda$ | $c$、$\xi$ |

# %% [markdown]
# ## 練習 6.1：用三個函式寫 SI
#
# 所有參數都攤平成一個向量（flat tensor），所以每個函式都只是幾個 element-wise 運算：
#
# 1. `si_step(omega, grad_task, grad_penalty, delta)`：一步之後的 $\omega$。optimizer 是沿著
#    `grad_task + grad_penalty` 走的；哪一個 gradient 應該算進 $\omega$？
# 2. `si_consolidate(Omega, omega, theta, theta_start, xi)`：任務結束時，回傳 `(新的 Omega, 新的 omega)`。
#    `theta_start` 是這個任務開始時的參數。
# 3. `si_penalty(theta, theta_star, Omega, c)`：penalty，一個 0 維 tensor。請用 torch 運算，autograd 才能對 `theta` 微分。
#
# 卡住了？`step_exercise.hint(1)`、`consolidate_exercise.hint(1)`、`penalty_exercise.hint(1)`；
# 每個都有 `hint(2)`，最後一步 `hint(3)` 是解答。

# %% tags=["exercise"]
def si_step(omega, grad_task, grad_penalty, delta):
    """omega after one optimizer step; delta = theta_after - theta_before."""
    # BEGIN SOLUTION: Exercise 6.1a: the path integral, one step (try step_exercise.hint(1))
    return omega - grad_task * delta
    # END SOLUTION


def si_consolidate(Omega, omega, theta, theta_start, xi):
    """At the end of a task: return (new Omega, new omega)."""
    # BEGIN SOLUTION: Exercise 6.1b: consolidate omega into Omega (try consolidate_exercise.hint(1))
    Delta = theta - theta_start
    return Omega + omega / (Delta ** 2 + xi), torch.zeros_like(omega)
    # END SOLUTION


def si_penalty(theta, theta_star, Omega, c):
    """c * sum_i Omega_i (theta_i - theta*_i)^2, as a 0-dim tensor."""
    # BEGIN SOLUTION: Exercise 6.1c: the SI penalty (try penalty_exercise.hint(1))
    return c * (Omega * (theta - theta_star) ** 2).sum()
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch06_si import step_exercise, consolidate_exercise, penalty_exercise

my_step = step_exercise.check(si_step)
my_consolidate = consolidate_exercise.check(si_consolidate)
my_penalty = penalty_exercise.check(si_penalty)

# %% [markdown]
# 檢查器會指出常見錯誤，例如：path integral 的正負號、把 penalty 的 gradient 也算進去、忘了 $\xi$（沒動的參數變成 nan）、
# $\Delta$ 從錯的起點量、把 $\omega$ 平方、忘了把 $\omega$ 歸零、penalty 多了 EWC 的 $\frac{1}{2}$。
# 老師可以用 `step_exercise.reveal()` 等顯示解答。
#
# ## 6.2 用你的函式訓練 SI
#
# `StudentSI` 就是 `cl_helpers` 的 `si` strategy，只是三個步驟換成上面的函式（檢查沒通過的，用參考答案代替）。
# engine 的 hooks 提供函式需要的東西：`after_task_backward` 時的 `.grad` 是 task loss 的 gradient，
# `after_backward` 時的 `.grad` 是加上 penalty 後的總 gradient（兩者相減就是 `grad_penalty`），`after_step` 量出 `delta`。
# 在第 1 章的 permuted MNIST（3 個任務，domain-incremental）上和 naive 比較：

# %%
from cl_helpers.teaching.quiz import ask

ask("三個 permuted MNIST 任務學完之後，SI 的平均重要性 Ω 在哪一層最大？",
    ["第一層（讀 784 個像素的權重）：每個任務的像素排列不同", "中間的 hidden layer", "output layer（head）"],
    answer=2, key="ch6-omega",
    explain="三個任務共用同一個 10 類的 head，每個任務都要靠它輸出答案，head 的每個權重都對 loss 的下降有很大的貢獻；"
            "第一層的權重很多，每個任務又讀不同排列的像素，平均下來每個權重的貢獻小得多。下面的表是實測。")

# %%
from cl_helpers.teaching.exercises.ch06_si import StudentSI

stream = make_stream("permuted", n_tasks=3, train_size=pick(5000, 1000), test_size=pick(1000, 500),
                     seed=0, device=device)
config = TrainConfig(epochs=pick(3, 1))
student_si = StudentSI(step=my_step, consolidate=my_consolidate, penalty=my_penalty, c=1.0, xi=1e-3)
print("functions used:", student_si.describe())
naive = train_stream(stream, "naive", config)
mine = train_stream(stream, student_si, config)
print(format_table([naive, mine]))
plots.plot_run(mine)
plt.show()

# %%
from cl_helpers.penalties import unflatten

model = mine.model
Omega = unflatten(mine.strategy.Omega, mine.strategy.parameters_to_train(model))
mean_omega, negative = {}, []
for (name, p), O in zip(model.named_parameters(), Omega):
    mean_omega[name] = float(O.mean())
    negative.append(float((O < 0).float().mean()))
    print(f"{name:<14} {str(tuple(p.shape)):<12} mean Omega {O.mean():.3f}  max {O.max():.3f}  negative {negative[-1]:.1%}")
course.expect(mine.summary()["forgetting"] < naive.summary()["forgetting"] / 2 and
              mine.summary()["acc"] > naive.summary()["acc"], "SI 的 ACC 比 naive 高，forgetting 不到一半", full_only=True)
course.expect(mean_omega["head.weight"] > 3 * mean_omega["body.0.weight"], "head 的平均重要性比第一層大好幾倍", full_only=True)
course.expect(max(negative) < 0.01, "幾乎沒有負的 Omega")

# %% [markdown]
# SI 的 ACC 比 naive 高、forgetting 低得多：舊任務的曲線在新任務開始後幾乎不再往下掉。
# 上面是每一層的 $\Omega$：在 permuted MNIST 中三個任務共用同一個 output layer（head），它的平均重要性比隱藏層大好幾倍，
# 所以 penalty 最用力拉住的是 head。幾乎沒有負的 $\Omega$：用 Adam 訓練時，大部分步伐都讓 task loss 下降。

# %% [markdown]
# ## 練習 6.1d：把 SI 放進你的 training loop
#
# `StudentSI` 靠 engine 的 hooks 拿到 task 的 gradient 與每一步的變化。自己在第 1 章的 loop 裡做一次：完成
# `train_task_si(model, task, epochs, batch_size, lr, gen, si)`。`si` 存著攤平的向量：`si.omega`（這個任務的
# path integral，套件在任務開始時歸零）、`si.Omega`、`si.anchor`（$\theta^*$，第一個任務結束前是 `None`）與 `si.c`；
# 任務結束時的 consolidation 由套件做（和 `si` strategy 的 `after_task` 一樣）。每個 mini-batch：
# 1. task loss 的 `backward()` 之後，立刻記下 `grad_task`（所有參數的 `.grad` 接成一個向量）與 `before`（參數）；
# 2. 若 `si.anchor is not None`：對 `my_penalty(flat_params(params), si.anchor, si.Omega, si.c)` 做 `backward()`；
# 3. `optimizer.step()`，量 `delta = 參數 - before`，用你的 `my_step` 更新 `si.omega`
#    （`grad_penalty` 是 penalty backward 之後的 `.grad` 減去 `grad_task`）。
#
# 檢查器把它和 `train_stream(stream, get_strategy("si", c=1.0))` 比較（accuracy matrix 與最後的權重）。
# 卡住了？`si_loop_exercise.hint(1)`。

# %% tags=["exercise"]
import torch.nn.functional as F
from cl_helpers.penalties import flat_params

def train_task_si(model, task, epochs, batch_size, lr, gen, si):
    """The chapter 1 loop; around backward and step, SI reads the task gradient and the step taken."""
    # BEGIN SOLUTION: Exercise 6.1d: SI in the training loop (try si_loop_exercise.hint(1))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    params = list(model.parameters())
    n = len(task.y_train)
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen, device=gen.device)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            optimizer.zero_grad()
            F.cross_entropy(model(task.x_train[idx], task.id), task.y_train[idx]).backward()
            grad_task = torch.cat([p.grad.reshape(-1) for p in params])
            before = flat_params(params).detach()
            if si.anchor is not None:
                my_penalty(flat_params(params), si.anchor, si.Omega, si.c).backward()
            grad_penalty = torch.cat([p.grad.reshape(-1) for p in params]) - grad_task
            optimizer.step()
            delta = flat_params(params).detach() - before
            si.omega = my_step(si.omega, grad_task, grad_penalty, delta)
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch06_loop import si_loop_exercise

my_train_task_si = si_loop_exercise.check(train_task_si)

# %% [markdown]
# 對照 engine：第 1 步就是 `strategy.after_task_backward`（這時 `.grad` 只有 task loss 的 gradient），第 2 步是
# `strategy.penalty(model).backward()`，第 3 步是 `strategy.after_step`。順序錯了（例如在 penalty 的 backward 之後才讀
# `grad_task`），$\omega$ 就會把「被彈簧拉回去」也算成對 task 的貢獻。

# %% [markdown]
# ## 6.3 MAS：不需要標籤的重要性
#
# 下面的比較也會跑 **MAS**（Memory Aware Synapses，Aljundi et al. 2018）。它和 EWC 一樣在任務結束時估計每個參數的
# 重要性，再用同樣形式的 penalty $\lambda \sum_i \Omega_i (\theta_i - \theta^*_i)^2$，差別在重要性怎麼算：
#
# $$\Omega_i = \frac{1}{N} \sum_{n=1}^{N} \left| \frac{\partial\, \lVert f_\theta(x_n) \rVert_2^2}{\partial \theta_i} \right|$$
#
# - 看的是**輸出**（logits）對參數有多敏感：動一下 $\theta_i$，輸出變多少。
# - **不需要標籤**，也不需要 loss：只要有輸入就能算，所以可以用沒有標註的資料、甚至測試時看到的資料來估計。
# - EWC 的 Fisher 看的是 log-likelihood 的梯度（和模型的預測分布有關）；MAS 看的是輸出本身的梯度。
#   `cl_helpers` 對每個樣本各自取絕對值再平均（論文的定義）；有些函式庫用整個 batch 的梯度，數值會不同。
#
# ## 練習 6.2：比較所有方法
#
# 下面這個 cell 是你的實驗設定：選要比較的方法與它們的超參數，改完後重新執行下面的 cells。
# 預設值是課程建議的設定。可以試試：把 EWC 的 `lam` 調大 10 倍或 100 倍、把 replay 的 `buffer_size` 改成 200、
# 把 SI 的 `c` 調大，看看哪些結論會改變、哪些不會。
# （每個方法可用的超參數：`get_strategy("ewc").params`，或命令列 `python -m cl_helpers compare --help`。）

# %% tags=["exercise"]
# ✏️ Exercise 6.2: your experiment. Edit freely, then run this cell and the ones below.
METHODS = ["naive", "joint", "ewc", "online_ewc", "si", "mas", "replay", "agem", "lwf", "lora", "lora_per_task"]
HPARAMS = {
    "ewc": {"lam": 300.0},
    "online_ewc": {"lam": 300.0},
    "si": {"c": 1.0},
    "mas": {"lam": 0.1},
    "replay": {"buffer_size": 1100},
    "agem": {"buffer_size": 1100},
    "lwf": {"alpha": 1.0, "temperature": 2.0},
    "lora": {"rank": 8},
    "lora_per_task": {"rank": 8},
}
EPOCHS_SPLIT = pick(5, 2)      # split MNIST tasks are small (1,100 images each): more epochs per task
EPOCHS_PERMUTED = pick(3, 1)   # permuted MNIST tasks have 5,000 images
NEEDS_TASK_ID = {"lora_per_task"}   # picks its adapter by task id at test time: not a class-incremental method
SEEDS = pick((0, 1, 2), (0, 1))      # every method is trained once per seed: mean +- sd

# %% [markdown]
# ### Class-incremental split MNIST
#
# `lora_per_task` 在測試時要用 task id 選 adapter，而 class-incremental 情境不提供 task id，所以這裡不跑它。

# %%
ask("class-incremental split MNIST（不給 task id）：哪一類方法能接近 joint training（所有資料一起訓練）的上界？",
    ["regularization：EWC、online EWC、SI、MAS", "存資料的方法：replay、A-GEM", "LoRA：每個任務只改低秩的方向"],
    answer=1, key="ch6-cil",
    explain="第 5 章的結論：class-incremental 要求模型比較舊類別與新類別，只有讓舊類別的樣本（或它們的 gradient）"
            "在訓練新任務時出現的方法做得到。regularization 與 LoRA 都只限制參數怎麼變，救不回被壓下去的舊類別。")

# %%
from cl_helpers.experiments.seeds import run_seeds, format_seeds, seed_stats

split = make_stream("split", scenario="class", train_size=pick(1100, 300), test_size=pick(1000, 300), device=device)
cil = run_seeds(split, [m for m in METHODS if m not in NEEDS_TASK_ID], TrainConfig(epochs=EPOCHS_SPLIT),
                {m: HPARAMS.get(m, {}) for m in METHODS}, seeds=SEEDS)
print(split)
print(format_seeds(cil))

# %% [markdown]
# ### Permuted MNIST（domain-incremental）

# %%
perm = run_seeds(stream, METHODS, TrainConfig(epochs=EPOCHS_PERMUTED), {m: HPARAMS.get(m, {}) for m in METHODS},
                 seeds=SEEDS)
print(stream)
print(format_seeds(perm))

# %%
plots.plot_comparison(cil, title="class-incremental split MNIST (5 tasks, one 10-way head)")
plt.show()
plots.plot_comparison(perm, title="permuted MNIST (3 tasks, domain-incremental)")
plt.show()

# %%
from cl_helpers.metrics import new_task_accuracy

acc_c = {g[0].method: seed_stats(g)["acc"][0] for g in cil}
fgt_p = {g[0].method: seed_stats(g)["forgetting"][0] for g in perm}
new_p = {g[0].method: sum(new_task_accuracy(r.acc_matrix) for r in g) / len(g) for g in perm}
defaults = METHODS == ["naive", "joint", "ewc", "online_ewc", "si", "mas", "replay", "agem", "lwf", "lora",
                       "lora_per_task"]
if defaults:   # the claims below are about the default experiment; after your edits, read the tables instead
    course.expect(max(acc_c[m] for m in ("naive", "ewc", "online_ewc", "si", "lwf", "lora")) < 0.3,
                  "class-IL：naive、EWC、online EWC、SI、LwF、lora 都在 0.2 附近", full_only=True)
    course.expect(acc_c["naive"] + 0.4 < acc_c["replay"] < acc_c["joint"], "class-IL：replay 遠高於 naive，joint 是上界", full_only=True)
    course.expect(acc_c["naive"] < acc_c["agem"] < acc_c["replay"], "class-IL：A-GEM 介於 naive 與 replay 之間", full_only=True)
    course.expect(acc_c["mas"] < acc_c["replay"] - 0.2, "class-IL：MAS 遠不及 replay", full_only=True)
    course.expect(max(fgt_p[m] for m in ("ewc", "online_ewc", "si", "mas")) < fgt_p["naive"] / 2,
                  "permuted：EWC、online EWC、SI、MAS 的 forgetting 都不到 naive 的一半", full_only=True)
    course.expect(fgt_p["lwf"] > fgt_p["naive"] / 2, "permuted：LwF 幫助不大", full_only=True)
    course.expect(new_p["lora"] < new_p["naive"], "permuted：lora 的新任務學得比 naive 少", full_only=True)
    course.expect(fgt_p["lora_per_task"] == 0, "permuted：lora_per_task 完全不遺忘")

# %% [markdown]
# 預設設定下應該看到文獻中的排序（每個數字是 3 個 seed 的平均，誤差線是標準差）。**Class-incremental split MNIST**：
#
# - naive、EWC、online EWC、SI 都在 0.2 附近（舊任務全部歸零，只剩最後一個任務），LwF 也一樣；`lora` 更低：
#   舊任務一樣歸零，連最後一個任務都只靠一個小 adapter 學（上表）。
# - replay 遠高於它們，A-GEM 介於中間，joint（每個階段用到目前為止所有的資料）是上界。
# - MAS 比 0.2 高一些，但仍遠不及 replay（Hsu et al. 2018 的表中，regularization 方法都只有 20% 出頭）。
# - FWT 每個方法都一樣（第 5 章解釋過：還沒學到的類別永遠不會被預測）。

# %% [markdown]
# **Permuted MNIST**（domain-incremental）：
#
# - EWC、online EWC、SI、MAS 的 forgetting 都比 naive 小得多，ACC 更高；replay、A-GEM 也很好。
# - LwF 幫助不大：它只要求新模型在**新任務的輸入**上模仿舊模型，而新的像素排列對舊模型來說像雜訊，
#   保留它在雜訊上的輸出，並不能保護它在舊任務上的行為。
# - `lora` 每個新任務只能在每層的 rank-$r$ 子空間裡修正，新任務學得比較少（Biderman et al. 2024：「LoRA learns less
#   and forgets less」）。
# - `lora_per_task` 完全不遺忘（forgetting = 0），但它在測試時用了 task id，嚴格說是 task-incremental 的比較，不完全公平。

# %% [markdown]
# 改變 `HPARAMS` 之後，哪些結論最穩固？通常是：**class-incremental 情境中，只有存資料的方法（replay、A-GEM）能接近 joint**；
# 而 regularization 方法之間的排名會隨 $\lambda$、$c$ 改變。兩個方法的差距若比誤差線還小，就不能說哪個比較好：
# 比較方法時，每個方法都應該調過超參數，並報告多個 seed。

# %% [markdown]
# ## 小結
#
# - SI 的重要性 $\Omega$ 在訓練時沿路累積：$\omega_i = -\sum g_i \delta_i$（只用 task loss 的 gradient），
#   任務結束時 $\Omega_i \mathrel{+}= \omega_i / (\Delta_i^2 + \xi)$，penalty 是 $c \sum_i \Omega_i (\theta_i - \theta_i^*)^2$。
# - MAS 用輸出對參數的敏感度當重要性，不需要標籤。
# - 三種情境的結論不同（van de Ven & Tolias 2019）：task- / domain-incremental 中 regularization 有效；
#   class-incremental 中只有 replay 類方法有效（Hsu et al. 2018）。
# - Architecture 方法（Progressive Networks、per-task LoRA）知道 task id 時不會遺忘；LoRA 作為一般 fine-tuning 則
#   「學得少、忘得少」（Biderman et al. 2024）。
# - 沒有一個方法在所有情境、所有記憶體預算下都最好：先確認情境與限制（能不能存資料？測試時有沒有 task id？），再選方法。

# %% [markdown]
# ## 延伸閱讀
#
# - J. Kirkpatrick et al. Overcoming catastrophic forgetting in neural networks. [arXiv:1612.00796](https://arxiv.org/abs/1612.00796)（EWC）
# - J. Schwarz et al. Progress & compress. [arXiv:1805.06370](https://arxiv.org/abs/1805.06370)（online EWC）
# - F. Zenke, B. Poole, S. Ganguli. Continual learning through synaptic intelligence. [arXiv:1703.04200](https://arxiv.org/abs/1703.04200)（SI）
# - R. Aljundi et al. Memory aware synapses: learning what (not) to forget. [arXiv:1711.09601](https://arxiv.org/abs/1711.09601)（MAS）
# - D. Lopez-Paz, M. Ranzato. Gradient episodic memory for continual learning. [arXiv:1706.08840](https://arxiv.org/abs/1706.08840)（GEM）
# - A. Chaudhry et al. Efficient lifelong learning with A-GEM. [arXiv:1812.00420](https://arxiv.org/abs/1812.00420)
# - Z. Li, D. Hoiem. Learning without forgetting. [arXiv:1606.09282](https://arxiv.org/abs/1606.09282)（LwF）
# - A. A. Rusu et al. Progressive neural networks. [arXiv:1606.04671](https://arxiv.org/abs/1606.04671)
# - E. J. Hu et al. LoRA. [arXiv:2106.09685](https://arxiv.org/abs/2106.09685)；D. Biderman et al. LoRA learns less and forgets less.
#   [arXiv:2405.09673](https://arxiv.org/abs/2405.09673)
# - G. M. van de Ven, A. S. Tolias. Three scenarios for continual learning. [arXiv:1904.07734](https://arxiv.org/abs/1904.07734)
# - Y.-C. Hsu et al. Re-evaluating continual learning scenarios. [arXiv:1810.12488](https://arxiv.org/abs/1810.12488)
# - 李宏毅，機器學習 2021 春，Life-long Learning：[課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)、
#   [影片播放清單](https://www.youtube.com/playlist?list=PLJV_el3uVTsMhtt7_Y6sgTHGHp1Vb2P2J)。
# - 作業：[ML 2022 春 HW14](https://speech.ee.ntu.edu.tw/~hylee/ml/2022-spring.php)（EWC、MAS、SI on rotated MNIST）、
#   [ML 2025 春 HW6](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php)（LoRA 微調 LLM，同時看 GSM8K 與 safety）。

# %% [markdown]
# ## 接下來可以往哪裡走
#
# 這門課的問題「學新東西時不要忘掉舊的」，在大型語言模型上有三個很活躍的方向：
#
# - **Alignment / RLHF 之後的遺忘**：微調會把對齊學到的拒答行為忘掉（HW6 的 safety 分數），連無害的資料也會
#   （X. Qi et al. Fine-tuning aligned language models compromises safety, even when users do not intend to!
#   [arXiv:2310.03693](https://arxiv.org/abs/2310.03693)）；混入少量 safety 資料就能補回大半（F. Bianchi et al.
#   Safety-tuned LLaMAs. [arXiv:2309.07875](https://arxiv.org/abs/2309.07875)），這正是 replay。RLHF 本身也會讓模型
#   失去一些預訓練的能力（「alignment tax」，L. Ouyang et al. [arXiv:2203.02155](https://arxiv.org/abs/2203.02155)）。
# - **Model editing**：只改一個事實，其他都不動（K. Meng et al. ROME, [arXiv:2202.05262](https://arxiv.org/abs/2202.05262)）。
#   這是把「不遺忘」推到極致的 continual learning。
# - **Model merging**：分別微調的模型直接在權重空間相加或平均（G. Ilharco et al. Task arithmetic,
#   [arXiv:2212.04089](https://arxiv.org/abs/2212.04089)；P. Yadav et al. TIES-merging,
#   [arXiv:2306.01708](https://arxiv.org/abs/2306.01708)），讓一個模型同時保有多個任務，而不用依序訓練。
