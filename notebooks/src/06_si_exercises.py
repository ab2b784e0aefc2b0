# %% [markdown]
# # 第 6 章：實作 Synaptic Intelligence，並比較所有方法
#
# 這是最後一章，以練習為主：
# 1. **Synaptic Intelligence (SI)**（Zenke, Poole & Ganguli 2017）：沿著訓練路徑累積每個參數的重要性；
# 2. 練習 6.1：用三個小函式自己寫 SI（有自動檢查），然後**用你的函式**在 permuted MNIST 上訓練；
# 3. 練習 6.2：在同一張表、同一張圖上比較課程中的所有方法，重現文獻中的排序：
#    class-incremental split MNIST（naive 約 20%、replay 遠高於它）與 permuted MNIST（EWC 比 naive 忘得少）；
# 4. 總結與參考文獻。
#
# ⏱️ 執行時間（full mode，實測）：2-core CPU 約 30 秒（課程的 MNIST 子集：6,309 張訓練圖）；下載完整 MNIST 後，split MNIST 每個任務的資料約多 10 倍，這部分會久幾倍。本次沒有 GPU 可測；模型很小，GPU 主要省下 split MNIST 的時間。

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
# 任務結束時，把 $\omega$ 正規化成重要性，累加到 $\Omega$，然後 $\omega$ 歸零：
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
# 卡住了？`step_exercise.hint(1)`、`consolidate_exercise.hint(1)`、`penalty_exercise.hint(1)`（還有 `hint(2)`）。

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
for (name, p), O in zip(model.named_parameters(), Omega):
    negative = float((O < 0).float().mean())
    print(f"{name:<14} {str(tuple(p.shape)):<12} mean Omega {O.mean():.3f}  max {O.max():.3f}  negative {negative:.1%}")

# %% [markdown]
# SI 的 ACC 應該比 naive 高、forgetting 低得多：舊任務的曲線在新任務開始後幾乎不再往下掉。
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
    "agem": {"memory_size": 1100},
    "lwf": {"alpha": 1.0, "temperature": 2.0},
    "lora": {"rank": 8},
    "lora_per_task": {"rank": 8},
}
EPOCHS_SPLIT = pick(5, 2)      # split MNIST tasks are small (about 1,260 images): more epochs per task
EPOCHS_PERMUTED = pick(3, 1)   # permuted MNIST tasks have 5,000 images
NEEDS_TASK_ID = {"lora_per_task"}   # picks its adapter by task id at test time: not a class-incremental method

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
split = make_stream("split", scenario="class", train_size=pick(None, 300), test_size=pick(1000, 300), device=device)
cil = run_methods(split, [m for m in METHODS if m not in NEEDS_TASK_ID], TrainConfig(epochs=EPOCHS_SPLIT),
                  {m: HPARAMS.get(m, {}) for m in METHODS})
print(split)
print(format_table(cil))

# %% [markdown]
# ### Permuted MNIST（domain-incremental）

# %%
perm = run_methods(stream, METHODS, TrainConfig(epochs=EPOCHS_PERMUTED), {m: HPARAMS.get(m, {}) for m in METHODS})
print(stream)
print(format_table(perm))

# %%
fig, axes = plt.subplots(2, 1, figsize=(1.5 + 1.1 * max(len(cil), len(perm)), 8))
plots.plot_comparison(cil, ax=axes[0], title="class-incremental split MNIST (5 tasks, one 10-way head)")
plots.plot_comparison(perm, ax=axes[1], title="permuted MNIST (3 tasks, domain-incremental)")
fig.tight_layout()
plt.show()

# %% [markdown]
# 預設設定下應該看到文獻中的排序：
#
# - **Class-incremental split MNIST**：naive、EWC、online EWC、SI 都在 0.2 附近（只有最後一個任務是對的），
#   LwF 與 `lora` 也一樣；replay 遠高於它們（約 0.83），A-GEM 介於中間（約 0.74）；joint 是上界（約 0.92）。
#   MAS 在我們的設定中約 0.4：比 0.2 高，但仍遠不及 replay（Hsu et al. 2018 的表中，regularization 方法都只有 20% 出頭）。
# - **Permuted MNIST**：EWC、online EWC、SI、MAS 的 forgetting 都比 naive 小得多，ACC 更高；replay、A-GEM 也很好。
#   LwF 在 permuted MNIST 幫助不大：它只要求新模型在**新任務的輸入**上模仿舊模型，而新的像素排列對舊模型來說像雜訊，
#   保留它在雜訊上的輸出，並不能保護它在舊任務上的行為。
#   `lora` 每個新任務只能沿著 rank-$r$ 的方向改變權重，新任務學得比較少（Biderman et al. 2024：「LoRA learns less and forgets less」）。
#   `lora_per_task` 完全不遺忘（forgetting = 0），但它在測試時用了 task id，嚴格說是 task-incremental 的比較，不完全公平。
#
# 改變 `HPARAMS` 之後，哪些結論最穩固？通常是：**class-incremental 情境中，只有存資料的方法（replay、A-GEM）能接近 joint**；
# 而 regularization 方法之間的排名會隨 $\lambda$、$c$ 改變。比較方法時，每個方法都應該調過超參數，並報告多個 seed。
#
# ## 小結
#
# - SI 的重要性 $\Omega$ 在訓練時沿路累積：$\omega_i = -\sum g_i \delta_i$（只用 task loss 的 gradient），
#   任務結束時 $\Omega_i \mathrel{+}= \omega_i / (\Delta_i^2 + \xi)$，penalty 是 $c \sum_i \Omega_i (\theta_i - \theta_i^*)^2$。
# - 三種情境的結論不同（van de Ven & Tolias 2019）：task- / domain-incremental 中 regularization 有效；
#   class-incremental 中只有 replay 類方法有效（Hsu et al. 2018）。
# - Architecture 方法（Progressive Networks、per-task LoRA）知道 task id 時不會遺忘；LoRA 作為一般 fine-tuning 則
#   「學得少、忘得少」（Biderman et al. 2024）。
# - 沒有一個方法在所有情境、所有記憶體預算下都最好：先確認情境與限制（能不能存資料？測試時有沒有 task id？），再選方法。
#
# ### 參考文獻
#
# - J. Kirkpatrick et al. Overcoming catastrophic forgetting in neural networks. *PNAS*, 2017.（EWC）
# - J. Schwarz et al. Progress & compress: a scalable framework for continual learning. ICML 2018.（online EWC）
# - F. Zenke, B. Poole, S. Ganguli. Continual learning through synaptic intelligence. ICML 2017.（SI）
# - R. Aljundi, F. Babiloni, M. Elhoseiny, M. Rohrbach, T. Tuytelaars. Memory aware synapses: learning what (not) to forget. ECCV 2018.（MAS）
# - D. Lopez-Paz, M. Ranzato. Gradient episodic memory for continual learning. NeurIPS 2017.（GEM）
# - A. Chaudhry, M. Ranzato, M. Rohrbach, M. Elhoseiny. Efficient lifelong learning with A-GEM. ICLR 2019.
# - Z. Li, D. Hoiem. Learning without forgetting. ECCV 2016.（LwF）
# - A. A. Rusu et al. Progressive neural networks. arXiv:1606.04671, 2016.
# - E. J. Hu et al. LoRA: low-rank adaptation of large language models. ICLR 2022.
# - D. Biderman et al. LoRA learns less and forgets less. *Transactions on Machine Learning Research*, 2024.
# - G. M. van de Ven, A. S. Tolias. Three scenarios for continual learning. arXiv:1904.07734, 2019.
# - Y.-C. Hsu, Y.-C. Liu, A. Ramasamy, Z. Kira. Re-evaluating continual learning scenarios: a categorization and case
#   for strong baselines. NeurIPS Continual Learning Workshop, 2018 (arXiv:1810.12488).
