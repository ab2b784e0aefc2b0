# %% [markdown]
# # 第 6 章：實作 Synaptic Intelligence，並比較所有方法
#
# 這一章以練習為主，並把第 1 到 5 章的方法放在一起比較；之後第 7 章跑 generative replay 與 architecture 方法，
# 第 8、9 章把遺忘帶到語言模型上。**這一章你會學到：**
# 1. 第 6.1 節 **Synaptic Intelligence (SI)**（Zenke, Poole & Ganguli 2017）：沿著訓練路徑累積每個參數的重要性；
#    練習 6.1a–c 用三個小函式自己寫 SI（有自動檢查），再**用你的函式**訓練；練習 6.1d 把 SI 放進你自己的 training loop；
# 2. 第 6.2 節 **MAS**：不需要標籤的重要性；
# 3. 第 6.3 節 **比較課程中的所有方法**（練習 6.3：你的實驗設定；每個方法 3 個 seed，mean ± sd）：class-incremental
#    split MNIST 對照 Hsu et al. 2018 的表，permuted MNIST 對照 EWC（Kirkpatrick et al. 2017）與 SI（Zenke et al. 2017）論文的方向；
# 4. 小結、延伸閱讀，以及接下來的章節。

# %% [markdown]
# 資料：permuted MNIST 取訓練集最前面的 5,000 張圖、測試集最前面的 1,000 張；split MNIST 的每個任務（兩個數字）
# 取訓練集中這兩個數字最前面的 1,100 張、測試集中這兩個數字最前面的 1,000 張。這些訓練圖都在課程附的 MNIST 子集
# （訓練集的前 6,309 張）裡，所以不論用子集還是完整的 MNIST，取到的都是同一批圖。`cl_helpers` 依序在環境變數
# `$CL_HELPERS_DATA` 指的資料夾（課程的機器已設好，指向課程附的子集）、`~/.cache/cl_helpers` 找 MNIST，都沒有就下載；
# 離線又找不到時改用 scikit-learn 附的 digits。`print(stream)` 印出的 `source` 說明讀的是哪一個資料夾、有幾張圖。
#
# ⏱️ 執行時間：本章最後一個 cell 印出這次從頭跑到尾的實測時間；README 的章節表列出 full mode 在 2-core CPU 上的時間。模型很小，CPU 就夠了。

# %%
# 環境設定 / Setup：同一個 cell 在 JupyterLab 與 Colab 都能用。
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install cl_helpers from the course repository (torch/ipywidgets untouched)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/__REPO__"], check=True)

import torch
import matplotlib.pyplot as plt
from cl_helpers import course, make_stream, train_stream, run_methods, TrainConfig, plots, format_table, get_strategy
from cl_helpers.teaching.course import pick

device = course.setup(seed=0)

# %% [markdown]
# ## 6.1 Synaptic Intelligence：沿著路徑累積重要性
#
# EWC 在**任務結束時**用 Fisher 估計重要性（只看終點 $\theta^*$ 附近的曲率）。SI 則在**訓練過程中**記錄：
# 每個參數的移動，對 task loss 的下降貢獻了多少。

# %% [markdown]
# 訓練時參數沿著一條路徑 $\theta(t)$ 移動（$t_{\text{end}}$ 是這個任務訓練結束的時刻），loss 的總變化可以寫成
# path integral，並拆成每個參數的貢獻：
#
# $$\mathcal{L}(\theta(t_{\text{end}})) - \mathcal{L}(\theta(0)) = \int_0^{t_{\text{end}}} \nabla\mathcal{L} \cdot \theta'(t)\, dt
# \approx \sum_{\text{steps}} \sum_i g_i\, \delta_i, \qquad
# \omega_i = -\sum_{\text{steps}} g_i\, \delta_i .$$
#
# - $\delta_i$：這一步 optimizer 實際造成的變化 $\theta_i^{\text{after}} - \theta_i^{\text{before}}$（Adam 的步伐不是 $-\eta g$，所以要量真正的變化）。
# - $g_i$：**只有 task loss** 的 gradient，不含 penalty。penalty 的 gradient 是把參數拉回舊的 anchor，
#   那不是「在這個任務上的進步」。`cl_helpers` 的 engine 在 penalty 的 backward 之前呼叫 `after_task_backward`，正是為了讀到它。
# - $g_i$ 是算出這一步的**同一個 mini-batch** 的 gradient。所以 $\omega_i > 0$ 的意思是：（一階近似下）這個參數的移動
#   讓**這些 mini-batch** 的 loss 下降，不一定是整個任務的 loss；一步讓它上升時貢獻是負的（論文中不截斷）。

# %% [markdown]
# ### 任務結束：consolidation 與 penalty
#
# 任務結束時，把 $\omega$ 除以移動量的平方做尺度調整（normalize），變成重要性，累加到 $\Omega$，然後 $\omega$ 歸零：
#
# $$\Omega_i \leftarrow \Omega_i + \frac{\omega_i}{\Delta_i^2 + \xi}, \qquad
# \Delta_i = \theta_i(\text{end of task}) - \theta_i(\text{start of task}).$$
#
# $\xi > 0$（damping）避免一個完全沒動的參數（$\Delta_i = 0$，$\omega_i = 0$）變成 $0/0$。它也讓每個 $\omega_i \geq 0$ 的參數
# 在這個任務加進 $\Omega$ 的那一項不超過上界 $\omega_i / \xi$；幾乎沒動的參數（$\Delta_i^2 \ll \xi$）正好落在這個上界附近：
# $\Omega_i \approx \omega_i / \xi$，由 $\xi$ 決定。$\xi$ 對結果有多大影響，練習 6.3 可以改 `xi` 自己試。學下一個任務時的 penalty：
#
# $$\mathcal{L}(\theta) = \mathcal{L}_{\text{new}}(\theta) + c \sum_i \Omega_i\, (\theta_i - \theta^*_i)^2,$$
#
# $\theta^*$ 是上一個任務結束時的參數（注意：沒有 EWC 的 $\frac{1}{2}$）。

# %% [markdown]
# | | EWC | SI |
# |---|---|---|
# | 重要性何時計算 | 任務結束時另外算 Fisher：本章的 exact Fisher 對每張取樣的訓練圖、每個類別各算一個 gradient | 訓練時順便累積，每步幾個 element-wise 運算 |
# | 每一步的額外成本 | penalty 與它的 gradient（課程的 EWC 每個舊任務一項，online EWC 一項） | penalty 與它的 gradient（一項），再加上累積 $\omega$：複製 task 的 gradient 與參數、幾個 element-wise 運算 |
# | 重要性衡量什麼 | 終點附近的曲率（Fisher） | 整條路徑上對 loss 下降的貢獻 |
# | 超參數 | $\lambda$ | $c$、$\xi$ |

# %% [markdown]
# ### 練習 6.1a–c：用三個函式寫 SI
#
# 所有參數都攤平成一個向量（flat tensor），所以每個函式都只是幾個 element-wise 運算：
#
# 1. `si_step(omega, grad_task, grad_penalty, delta)`：一步之後的 $\omega$。optimizer 是沿著
#    `grad_task + grad_penalty` 走的，但照上面 $g_i$ 的定義，$\omega$ 只用其中一個。
# 2. `si_consolidate(Omega, omega, theta, theta_start, xi)`：任務結束時，回傳 `(新的 Omega, 新的 omega)`。
#    `theta_start` 是這個任務開始時的參數。
# 3. `si_penalty(theta, theta_star, Omega, c)`：penalty，一個 0 維 tensor。請用 torch 運算，autograd 才能對 `theta` 微分。
#
# 卡住了？`step_exercise.hint(1)`、`consolidate_exercise.hint(1)`、`penalty_exercise.hint(1)`；
# 每個都有三步提示（`hint(1)` 到 `hint(3)`），最後的 `hint(4)` 是解答。

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
    """The SI penalty at theta, anchored at theta_star, as a 0-dim tensor."""
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
# 做完後可以用 `step_exercise.reveal()`（另外兩個練習也一樣）對照參考解答。

# %% [markdown]
# ### 用你的函式訓練 SI
#
# `StudentSI` 就是 `cl_helpers` 的 `si` strategy，只是三個步驟換成上面的函式（檢查沒通過的，用參考答案代替）。
# 函式需要的 `grad_task`、`grad_penalty` 與 `delta` 由 engine 的 hooks 在每一步準備好（怎麼在 loop 裡拿到它們，
# 是練習 6.1d 要你自己想的）。
# 在第 1 章的 permuted MNIST（3 個任務，domain-incremental）上和 naive 比較：

# %%
from cl_helpers.teaching.quiz import ask

ask("三個 permuted MNIST 任務學完之後，SI 的平均重要性 Ω 在哪一層最大？",
    ["第一層（讀 784 個像素的權重）：每個任務的像素排列不同", "中間的 hidden layer", "output layer（head）"],
    answer=2, key="ch6-omega",
    explain="Ω = Σ ω / (Δ² + ξ)：ω 是參數沿路徑對 loss 下降的貢獻，Δ 是它在這個任務中移動了多少。permuted MNIST "
            "的每一層都由三個任務共用，所以「共用」說明不了層與層的差別。head 只有 10 × 256 個權重，每一個都直接決定"
            "一個類別的 logit，每個參數分到的 loss 下降（ω）可能比較大；第一層有 784 × 256 個權重，下降分攤到很多參數上。"
            "Ω 還除以 Δ² + ξ，移動得少的參數 Ω 也會大。表只告訴你 Ω，分不出是哪一個因素。至於第一層：每個任務讀不同"
            "排列的像素，不代表它的 Ω 就比較小。下面的表是實測；注意「平均」是每個參數的平均，不是整層的總和。")

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
ratio = mine.summary()["forgetting"] / naive.summary()["forgetting"]
print(f"SI forgetting / naive forgetting: {ratio:.2f}")
course.expect(ratio < 0.2 and mine.summary()["acc"] > naive.summary()["acc"],
              "SI 的 ACC 比 naive 高，forgetting 不到 naive 的五分之一", full_only=True)
plots.plot_run(naive)
plt.show()
plots.plot_run(mine)
plt.show()

# %% [markdown]
# SI 的 ACC 比 naive 高，forgetting 只剩 naive 的一小部分（上面印出兩者的比值）。兩張圖上面是 naive、下面是 SI：
# 訓練曲線中的點線是一個任務還沒開始訓練時的 accuracy；曲線重疊時，看右邊的 accuracy matrix。
#
# 表中的 `seconds` 是實際經過的時間（wall-clock time），隨機器當時的負載忽大忽小（本章後面表中的 `s/run` 也一樣）：
# 它不是方法成本的比較。成本請看上面 consolidation 一節後面 EWC 與 SI 的對照表（naive 沒有 penalty，也不累積 $\omega$）。

# %%
from cl_helpers.penalties import unflatten

model = mine.model
Omega = unflatten(mine.strategy.Omega, mine.strategy.parameters_to_train(model))
mean_omega, sum_omega, negative = {}, {}, []
for (name, p), O in zip(model.named_parameters(), Omega):
    mean_omega[name], sum_omega[name] = float(O.mean()), float(O.sum())
    negative.append(float((O < 0).float().mean()))
    print(f"{name:<14} {str(tuple(p.shape)):<12} mean Omega {O.mean():.3f}  sum {O.sum():7.0f}  max {O.max():.3f}  "
          f"negative {negative[-1]:.1%}")
course.expect(sum_omega["body.0.weight"] > 3 * sum_omega["head.weight"],
              "整層加總時，第一層權重的 Omega 遠大於 head", full_only=True)
course.expect(min(mean_omega["head.weight"], mean_omega["head.bias"]) >
              3 * max(v for k, v in mean_omega.items() if k.startswith("body")),
              "head 的平均重要性是每一個 hidden layer 的好幾倍", full_only=True)
course.expect(0.5 < mean_omega["body.0.weight"] / mean_omega["body.2.weight"] < 2,
              "第一層與中間層權重的平均 Omega 差不多", full_only=True)
course.expect(max(negative) < 0.01, "幾乎沒有負的 Omega")

# %% [markdown]
# 上面是每一層的 $\Omega$。**每個參數的平均**（mean 一欄）：head 是每一個 hidden layer 的好幾倍。這不是因為只有 head
# 被所有任務共用：permuted MNIST 只有一個 head，每一層都由三個任務共用。可能是 head 的每個參數都直接決定一個類別的
# logit，分到的 loss 下降比較多（表分不出 $\omega$ 與 $\Delta$ 哪一個是主因）。**整層加總**（sum 一欄）則相反：第一層的權重多得多，
# 它的 $\Omega$ 總和遠大於 head。所以就單一參數而言，penalty 拉得最用力的是 head；但 $\Omega$ 的總量大多在第一層。
# 第一層（讀排列過的像素）和中間層權重的平均 $\Omega$ 差不多：「像素排列不同」並沒有讓第一層的重要性特別小。
#
# 負的 $\Omega$ 幾乎沒有（negative 一欄），但這不代表每個參數都「重要」。下面的推導說明為什麼可以預期如此
# （這是推導，本章沒有另外做實驗驗證）。$g_i$ 是算出這一步的同一個 mini-batch 的 gradient，所以 $-g_i\delta_i$
# 量的是**這個 mini-batch** 的 loss 下降。先看沒有 penalty 的第一個任務：用 SGD 時 $\delta_i = -\eta g_i$，
# $-g_i\delta_i = \eta g_i^2$ 永遠不是負的。Adam 的一步是
# $\delta_i = -\eta\, \hat m_i / (\sqrt{\hat v_i} + \epsilon)$，$\hat m_i = m_i / (1-\beta_1^k)$（$k$ 是這個任務開始以來的步數，
# 每個任務換一個新的 Adam），而 momentum $m_i = \beta_1 m_i^{\text{prev}} + (1-\beta_1)\, g_i$ 裡就有這一步的 $g_i$：
#
# $$-g_i\delta_i = \frac{\eta}{(1-\beta_1^k)(\sqrt{\hat v_i}+\epsilon)} \left[(1-\beta_1)\, g_i^2 + \beta_1\, g_i\, m_i^{\text{prev}}\right].$$
#
# 第一項永遠不是負的；第二項在 gradient 的方向穩定時也多半是正的。按這個推導，即使整個任務的 loss 已經不再下降、
# 參數只在 mini-batch 的雜訊裡來回，$\omega$ 仍會累積正值（本章沒有畫出 $\omega$ 隨步數的變化）。
# 從第二個任務起，optimizer 沿著 task loss 與 penalty 的總 gradient $g_i + g_i^{\text{pen}}$ 走：SGD 的
# $-g_i\delta_i = \eta\, g_i (g_i + g_i^{\text{pen}})$，Adam 的第一項變成 $(1-\beta_1)\, g_i (g_i + g_i^{\text{pen}})$，
# 都不再保證非負；上表的 $\Omega$ 累積了三個任務，其中兩個有 penalty。Benzing（AISTATS 2022，見延伸閱讀）分析了
# mini-batch 造成的偏差：SI 的重要性和 Fisher 的關係、甚至它的效果，大多來自這個偏差。另外，$-g_i\delta_i$ 本身只是
# loss 變化的一階近似。

# %% [markdown]
# ### 練習 6.1d：把 SI 放進你的 training loop
#
# `StudentSI` 靠 engine 的 hooks 拿到 task 的 gradient 與每一步的變化。自己在第 1 章的 loop 裡做一次：完成
# `train_task_si(model, task, epochs, batch_size, lr, gen, si)`。`si` 存著攤平的向量：`si.omega`（這個任務的
# path integral，套件在任務開始時歸零）、`si.Omega`、`si.anchor`（$\theta^*$，第一個任務結束前是 `None`）與 `si.c`；
# 任務結束時的 consolidation 由套件做（和 `si` strategy 的 `after_task` 一樣）。
# 檢查器在它自己的小 permuted MNIST（3 個任務，每個任務 1,000 張訓練圖、500 張測試圖）上，把它和
# `train_stream(..., get_strategy("si", c=1.0, xi=1e-3))` 比較（accuracy matrix 與最後的權重）。
# 卡住了？`si_loop_exercise.hint(1)`（三步提示，`hint(4)` 是解答）。

# %% [markdown]
# 你的 loop 要做到的事（怎麼做、以什麼順序，是這個練習要你想的）：
# - **訓練本身**和第 1 章的 loop 一樣（Adam、由 `gen` 決定 mini-batch 的順序）。
# - **penalty**：第一個任務結束後（`si.anchor` 不再是 `None`），每一步的 gradient 也要包含你的 `my_penalty` 算出的
#   SI penalty 的 gradient。
# - **path integral**：每一步之後用你的 `my_step` 更新 `si.omega`。它要的 `grad_task` 只含 task loss 的 gradient，
#   `grad_penalty` 是 penalty 的 gradient（沒有 penalty 時是全為 0 的向量），`delta` 是 `optimizer.step()` 真正造成的
#   參數變化（6.1 節說過為什麼要量）。
#
# `si` 裡的都是攤平的向量；下面的 cell 已經 import `flat_params` 與 `flat_grads`，把參數與它們的 `.grad` 各接成
# 一個同樣排列的向量。想一想：在一個 mini-batch 的哪一個時間點，`.grad` 裡只有 task loss 的 gradient？

# %% tags=["exercise"]
import torch.nn.functional as F
from cl_helpers.penalties import flat_params, flat_grads

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
            grad_task = flat_grads(params)
            before = flat_params(params).detach()
            if si.anchor is not None:
                my_penalty(flat_params(params), si.anchor, si.Omega, si.c).backward()
            grad_penalty = flat_grads(params) - grad_task
            optimizer.step()
            delta = flat_params(params).detach() - before
            si.omega = my_step(si.omega, grad_task, grad_penalty, delta)
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch06_loop import si_loop_exercise

my_train_task_si = si_loop_exercise.check(train_task_si)

# %% [markdown]
# <details><summary>做完練習 6.1d 再點開：你的 loop 和 engine 的對照</summary>
#
# 參考答案的順序：task loss 的 `backward()` 之後記下 `grad_task` 與這一步之前的參數，就是 `strategy.after_task_backward`
# （這時 `.grad` 只有 task loss 的 gradient）；對 penalty 做 `backward()`，就是 `strategy.penalty(model).backward()`；
# `optimizer.step()` 之後量 `delta`、更新 $\omega$，就是 `strategy.after_step`。順序錯了（例如在 penalty 的 backward
# 之後才讀 `grad_task`），penalty 把參數拉回 anchor 的那一部分，也會被 $\omega$ 算成「在這個任務上的進步」。
# `flat_params` 的結果連著 autograd（penalty 要對它微分）；記下的參數與 `delta` 只要數值，所以參考答案加了 `.detach()`。
# 少了它數值一樣對，但 `si.omega` 會一路接上計算圖：變慢、吃記憶體。
#
# </details>

# %% [markdown]
# ## 6.2 MAS：不需要標籤的重要性
#
# 下面的比較也會跑 **MAS**（Memory Aware Synapses，Aljundi et al. 2018）。它和 EWC 一樣在任務結束時估計每個參數的
# 重要性，再用 penalty $\lambda \sum_i \Omega_i (\theta_i - \theta^*_i)^2$。它的形式和 online EWC 一樣：只有一個跨任務
# 累加的 $\Omega$，anchor $\theta^*$ 是最近一個任務結束時的參數（課程的 EWC 則每個舊任務各一項、各有自己的 anchor）；
# 而且沒有 EWC 的 $\frac{1}{2}$。兩者的 $\Omega$ 尺度也不同，所以 MAS 的 `lam` 不能直接和 EWC 的 `lam` 比較。

# %% [markdown]
# 差別在重要性怎麼算：
#
# $$\Omega_i = \frac{1}{N} \sum_{n=1}^{N} \left| \frac{\partial\, \lVert f_\theta(x_n) \rVert_2^2}{\partial \theta_i} \right|$$
#
# - 看的是**輸出**（logits）對參數有多敏感：動一下 $\theta_i$，輸出長度的平方 $\lVert f \rVert_2^2$ 變多少
#   （$\partial \lVert f \rVert_2^2 / \partial \theta_i = 2 f \cdot \partial f / \partial \theta_i$：沿著輸出本身方向的變化）。
# - **不需要標籤**，也不需要 loss：只要有輸入就能算，所以可以用沒有標註的資料、甚至測試時看到的資料來估計。
# - EWC 的 Fisher 看的是 log-likelihood 的 gradient（和模型的預測分布有關）；MAS 看的是輸出本身的 gradient。
#   `cl_helpers` 對每個樣本各自取絕對值再平均（論文的定義）；有些函式庫用整個 batch 的 gradient，數值會不同。

# %% [markdown]
# ## 6.3 比較所有方法（練習 6.3：你的實驗設定）
#
# 下面這個 cell 是你的實驗設定：選要比較的方法與它們的超參數，改完後重新執行下面的 cells。改了設定之後，下面檢查課文
# 結論的 `course.expect` 就不再執行（它們說的是預設設定），請以你自己的表為準。
# （每個方法可用的超參數：`get_strategy("ewc").params`，或命令列 `python -m cl_helpers compare --help`。）
#
# 預設值是課程建議的設定。EWC 與 online EWC 用 exact Fisher（每個任務隨機取 200 張訓練圖平均）與 `lam` 300：這是
# `cl_helpers` 的預設值，介於第 3 章 sweep 中 ACC 最高的 `lam` 100 與 forgetting 最少的 1000 之間（第 3 章的 100 是
# 直接看測試集挑的，這裡不沿用，也沒有為本章另外調）。SI 的兩個超參數都寫出來了：`c` 是 penalty 的強度，`xi` 是
# 6.1 節的 damping $\xi$（幾乎沒動的參數的 $\Omega$ 由它決定）。可以試試：把 EWC 的 `lam` 調大 10 倍或 100 倍、把 replay 的
# `buffer_size` 改成 200、把 SI 的 `c` 調大或改 `xi`，看看哪些結論會改變、哪些不會。
#
# 設定裡的 `pick(full, fast)`：平常（full mode，開頭印出 `mode: full`）回傳第一個值；只有設了環境變數 `CL_FAST=1`
# （fast mode，課程自動測試用的小規模）才回傳第二個。所以要改 epoch 數或 seed，改第一個值。

# %% tags=["exercise"]
# ✏️ Exercise 6.3: your experiment. Edit freely, then run this cell and the ones below.
METHODS = ["naive", "joint", "ewc", "online_ewc", "si", "mas", "replay", "agem", "lwf", "lora", "lora_per_task"]
HPARAMS = {
    "ewc": {"lam": 300.0, "fisher_kind": "exact", "importance_samples": 200},
    "online_ewc": {"lam": 300.0, "fisher_kind": "exact", "importance_samples": 200},
    "si": {"c": 1.0, "xi": 1e-3},
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
#
# 本章說「regularization 方法」時，指 EWC、online EWC、SI、MAS 這四個用參數重要性加 penalty 的方法。LwF 約束的是
# 輸出（第 5 章的表把它也歸在 regularization），本章把它分開討論。

# %%
ask("class-incremental split MNIST（不給 task id）：哪一類方法最接近 joint training（參考上界）？",
    ["regularization：EWC、online EWC、SI、MAS", "存資料的方法：replay、A-GEM", "LoRA：每個任務只改低秩的方向"],
    answer=1, key="ch6-cil",
    explain="第 5 章的結論：class-incremental 要求模型分辨舊類別與新類別，最直接的辦法是訓練新任務時讓舊類別的樣本也出現，"
            "replay 正是如此。A-GEM 也存舊樣本，但只用它們的 gradient 限制更新的方向：每一步從 buffer 隨機抽一個 batch，"
            "算出它的 gradient g_ref；若這一步的 gradient g 與 g_ref 的內積是負的，就把 g 投影到 g·g_ref = 0 上。"
            "這是只針對那一個 batch 的一階條件，不保證整個 buffer 的 loss 不上升；A-GEM 也不在舊樣本上訓練。"
            "regularization 與 LoRA 只限制參數怎麼變。課程的 joint 在每個階段"
            "接著上一階段的模型，用到目前為止所有任務的資料訓練：它是參考上界，但不是從頭訓練的離線上界。"
            "下面的表是實測：replay 最接近 joint，A-GEM 第二但離 joint 還很遠；regularization 中 MAS 是部分的例外。")

# %%
from cl_helpers.experiments.seeds import run_seeds, format_seeds, format_final_accuracies, final_accuracies, seed_stats

split = make_stream("split", scenario="class", train_size=pick(1100, 300), test_size=pick(1000, 300), device=device)
cil = run_seeds(split, [m for m in METHODS if m not in NEEDS_TASK_ID], TrainConfig(epochs=EPOCHS_SPLIT),
                {m: HPARAMS.get(m, {}) for m in METHODS}, seeds=SEEDS)
print(split)
print(f"training images: {len(split[0].y_train)} per task, {sum(len(task.y_train) for task in split)} in all")
print(format_seeds(cil))
print()
print(format_final_accuracies(cil))

# %% [markdown]
# 兩張表怎麼讀：
# - ACC、forgetting 與 `new task` 三欄是 3 個 seed 的平均 ± 標準差；BWT、FWT 與 `s/run` 只印平均。`new task` 一欄是
#   每個任務剛學完時的 accuracy $R_{j,j}$ 對 $j \geq 1$ 的平均（不含 task 0），量的是方法學新任務的能力（plasticity）。第二張表是學完
#   最後一個任務後，每個任務各自的 accuracy（平均 ± 標準差）。
# - `s/run` 和 6.1 節的 `seconds` 一樣是 wall-clock time，不是成本的比較。成本來自演算法本身：每個 regularization
#   方法每一步都要算 penalty 與它的 gradient（課程的 EWC 每個舊任務一項），SI 每一步還要累積 $\omega$；EWC 與 MAS
#   在任務結束時還要另外算重要性（EWC 的 exact Fisher 對每張取樣的圖、每個類別各一個 gradient，取 200 張；
#   MAS 對每張圖一個輸出的 gradient，預設取 1,000 張，見 `get_strategy("mas").params`）。

# %%
def mark_bars(fig):
    """Gray: joint, the reference; hatched: methods that get the task id at test time (not the same group)."""
    for ax in fig.axes:
        for bar, tick in zip(ax.patches, ax.get_xticklabels()):
            if tick.get_text() == "joint":
                bar.set_color("0.6")
            if tick.get_text() in NEEDS_TASK_ID:
                bar.set_hatch("//")
                bar.set_alpha(0.5)

mark_bars(plots.plot_comparison(cil, title="class-incremental split MNIST (5 tasks, one 10-way head); gray: joint, the reference"))
plt.show()

# %%
from cl_helpers.teaching.exercises.ch06_si import default_experiment

acc_c, fgt_c, new_c = ({g[0].method: seed_stats(g)[k][0] for g in cil} for k in ("acc", "forgetting", "new_task"))
last = {g[0].method: final_accuracies(g) for g in cil}     # accuracy on each task after the last one
defaults = default_experiment(METHODS, HPARAMS, EPOCHS_SPLIT, EPOCHS_PERMUTED, SEEDS)
if defaults:   # the claims below are about the default experiment; after your edits, read the tables instead
    course.expect(max(acc_c[m] for m in ("naive", "ewc", "online_ewc", "si", "lwf")) < 0.3 and
                  acc_c["lora"] < acc_c["naive"], "class-IL：naive、EWC、online EWC、SI、LwF 都在 0.2 附近，lora 更低", full_only=True)
    course.expect(abs(acc_c["lwf"] - acc_c["naive"]) < 0.05, "class-IL：LwF 和 naive 差不多", full_only=True)
    course.expect(max(max(last[m][:-1]) for m in ("naive", "ewc", "online_ewc", "si")) < 0.05,
                  "class-IL：naive、EWC、online EWC、SI 的舊任務全部降到 0", full_only=True)
    course.expect(fgt_c["lora"] < fgt_c["naive"] and new_c["lora"] < new_c["naive"] - 0.2 and max(last["lora"][:-1]) < 0.05,
                  "class-IL：lora 的 forgetting 比 naive 低，但新任務學得少得多，舊任務一樣降到 0", full_only=True)
    course.expect(0.4 < new_c["lora"] < 0.6 and 0.4 < last["lora"][-1] < 0.6,
                  "class-IL：lora 剛學完的新任務、最後一個任務都只答對一半左右（兩個數字之間亂猜的水準）", full_only=True)
    course.expect(acc_c["naive"] + 0.4 < acc_c["replay"] < acc_c["joint"] and
                  acc_c["replay"] == max(v for m, v in acc_c.items() if m != "joint"), "class-IL：replay 遠高於 naive、最接近 joint", full_only=True)
    course.expect(acc_c["naive"] < acc_c["agem"] < acc_c["replay"] - 0.1 and
                  acc_c["joint"] - acc_c["replay"] < (acc_c["joint"] - acc_c["agem"]) / 2,
                  "class-IL：A-GEM 高於 naive，但離 replay、joint 都還很遠", full_only=True)
    course.expect(min(acc_c["replay"], acc_c["agem"]) > max(acc_c[m] for m in ("ewc", "online_ewc", "si", "mas")),
                  "class-IL：存資料的方法高於每一個 regularization 方法", full_only=True)
    course.expect(max(acc_c[m] for m in ("ewc", "online_ewc", "si")) < acc_c["naive"] + 0.05 and
                  acc_c["naive"] + 0.1 < acc_c["mas"] < acc_c["replay"] - 0.2,
                  "class-IL：regularization 方法中只有 MAS 明顯高於 naive，但遠不及 replay", full_only=True)
    course.expect(last["mas"][0] > 0.5 and max(last["mas"][1:-1]) < 0.3, "class-IL：MAS 多保住的主要是 task 0", full_only=True)
    course.expect(fgt_c["joint"] > 0, "class-IL：joint 的 forgetting 也不是 0", full_only=True)
    course.expect(len({round(seed_stats(g)["fwt"][0], 3) for g in cil}) == 1, "class-IL：FWT 每個方法都一樣", full_only=True)

# %% [markdown]
# **Class-incremental split MNIST**（上面的兩張表與圖）：
#
# - naive、EWC、online EWC、SI 都在 0.2 附近（舊任務全部降到 0，只剩最後一個任務），LwF 也和 naive 差不多；`lora` 更低：
#   舊任務一樣降到 0，而且從 task 1 起每個任務只靠一個小 adapter 學，剛學完時只答對一半左右（`new task` 一欄；
#   最後一個任務見第二張表的 task 4）。每個任務只有兩個數字，這差不多是在兩者之間亂猜的水準。
# - `lora` 的 forgetting 比 naive 低（右邊那張 forgetting 圖，lower is better），但這不是保住了舊任務：它每個任務
#   剛學完時就學得少（`new task` 一欄），能忘的本來就少，最後舊任務一樣降到 0（第二張表）。
# - replay 遠高於它們，最接近 joint（圖中灰色的長條）；A-GEM 高於 naive，但離 replay、joint 都還很遠。joint
#   （參考上界：每個階段接著上一階段的模型，用到目前為止所有的資料訓練）最高，它的 forgetting 也不是 0。
# - regularization 方法中只有 MAS 明顯高於 naive，但多保住的主要是 task 0（第二張表），task 1 到 3 保住的少得多；
#   它仍遠不及 replay。
# - FWT 每個方法都一樣（第 5 章解釋過：還沒學到的類別永遠不會被預測）。

# %% [markdown]
# 和文獻對照（Hsu et al. 2018 的 class-incremental split MNIST 表）：存資料的方法高於 regularization 方法，方向一致；
# EWC、online EWC、SI、MAS 在 Hsu et al. 的表中都不到 20%（MAS 是 19.5%），LwF 略高（24.2%）。這裡有兩處不同：
# LwF 和 naive 一樣，而 MAS 明顯高於 naive。
#
# 兩邊的設定差很多，只能比方向、不能比數字：這裡每個任務只有 1,100 張訓練圖（上面印出的總數是 5,500 張），replay 的
# 1,100 張 buffer 等於一整個任務的訓練資料；Hsu et al. 用完整的 MNIST，同樣大小的 buffer 只佔訓練資料的一小部分。
# 網路大小與 epoch 數也不同；課程的 LwF 把 distillation loss 乘上 $T^2$（$T$ 是 temperature，Hinton et al. 2015 的做法），
# Li & Hoiem 沒有。Hsu et al. 的「存資料」那一組還包括 GEM（在他們的表中比單純的 replay 還高一點），而這裡的 A-GEM
# （GEM 的簡化版）離 replay 還很遠。本章沒有做實驗分辨是哪一個差別造成不同的結論。

# %% [markdown]
# ### Permuted MNIST（domain-incremental）
#
# 同一個 6.1 節的 stream（3 個任務）。domain-incremental 情境測試時本來也不給 task id；這裡為了對照，**只有**
# `lora_per_task` 拿到 task id（等於 task-incremental 的設定），其他方法都沒有。圖中它的長條畫上斜線。

# %%
perm = run_seeds(stream, METHODS, TrainConfig(epochs=EPOCHS_PERMUTED), {m: HPARAMS.get(m, {}) for m in METHODS},
                 seeds=SEEDS)
print(stream)
print(format_seeds(perm))

# %%
mark_bars(plots.plot_comparison(perm, title="permuted MNIST (3 tasks, domain-incremental); gray: joint, the reference; "
                                           "hatched: gets the task id at test time"))
plt.show()

# %%
acc_p, fgt_p, new_p = ({g[0].method: seed_stats(g)[k][0] for g in perm} for k in ("acc", "forgetting", "new_task"))
REG = tuple(m for m in ("ewc", "online_ewc", "si", "mas") if m in fgt_p)   # the regularization methods you kept
if "naive" in fgt_p:
    print("forgetting / naive forgetting: " + ", ".join(f"{m} {fgt_p[m] / fgt_p['naive']:.2f}" for m in REG))
if defaults:
    course.expect(max(fgt_p[m] for m in REG) < fgt_p["naive"] / 4 and min(acc_p[m] for m in REG) > acc_p["naive"],
                  "permuted：EWC、online EWC、SI、MAS 的 forgetting 都不到 naive 的四分之一，ACC 都比 naive 高", full_only=True)
    course.expect(max(new_p[m] for m in REG) < new_p["naive"] - 0.02, "permuted：這四個方法的新任務都學得比 naive 少", full_only=True)
    course.expect(min(acc_p["replay"], acc_p["agem"]) > max(acc_p["naive"] + 0.03, max(acc_p[m] for m in REG)) and
                  max(fgt_p["replay"], fgt_p["agem"]) < fgt_p["naive"] / 3 and
                  max(abs(new_p[m] - new_p["naive"]) for m in ("replay", "agem")) < 0.015,
                  "permuted：replay、A-GEM 的 ACC 高於 naive 與每一個 regularization 方法，forgetting 比 naive 小得多，新任務學得和 naive 差不多",
                  full_only=True)
    course.expect(min(fgt_p["replay"], fgt_p["agem"]) > max(fgt_p["ewc"], fgt_p["online_ewc"]) and
                  min(new_p["replay"], new_p["agem"]) > max(new_p[m] for m in REG) + 0.02,
                  "permuted：replay、A-GEM 的 forgetting 比 EWC、online EWC 多，ACC 的領先來自新任務學得比 regularization 方法多",
                  full_only=True)
    course.expect(max(acc_p[m] for m in REG[:3]) - min(acc_p[m] for m in REG[:3]) < 0.02,
                  "permuted：EWC、online EWC、SI 的 ACC 差距很小", full_only=True)
    course.expect(fgt_p["lwf"] > fgt_p["naive"] / 2, "permuted：LwF 幫助不大", full_only=True)
    course.expect(new_p["lora"] < new_p["naive"] and acc_p["lora"] == min(acc_p.values()),
                  "permuted：lora 的新任務學得比 naive 少，ACC 是所有方法中最低", full_only=True)
    course.expect(abs(fgt_p["lora"] - fgt_p["naive"]) < 0.05 and fgt_p["lora"] > 2 * max(fgt_p[m] for m in REG),
                  "permuted：lora 的 forgetting 和 naive 相近，沒有像 regularization 那樣大幅下降", full_only=True)
    course.expect(fgt_p["lora_per_task"] == 0, "permuted：lora_per_task 完全不遺忘")
    course.expect(acc_p["lora_per_task"] < min(acc_p[m] for m in REG) and abs(acc_p["lora_per_task"] - acc_p["naive"]) < 0.03
                  and new_p["lora_per_task"] < new_p["naive"],
                  "permuted：lora_per_task 新任務學得比 naive 少，ACC 低於每一個 regularization 方法、和 naive 差不多", full_only=True)

# %% [markdown]
# **Permuted MNIST**（domain-incremental，上面的表與圖）：
#
# - EWC、online EWC、SI、MAS 的 forgetting 都只剩 naive 的一小部分（上面印出的比值都不到四分之一），ACC 都比 naive 高：
#   和 EWC（Kirkpatrick et al. 2017）與 SI（Zenke et al. 2017）論文在 permuted MNIST 上的方向一致；online EWC 與 MAS
#   的這個結果是本章自己的實驗。EWC、online EWC、SI 三者的 ACC 差距很小（上表）：預設設定下排不出名次。
#   圖上的標籤只有兩位小數，方法之間細小的差距請看上表。
# - 代價是 plasticity：這四個方法的 `new task` 都比 naive 低，penalty 讓新任務學得少一點。存資料的 replay、A-GEM
#   沒有這個代價：新任務學得和 naive 差不多。它們的 forgetting 比 naive 小得多，但並沒有比 regularization 方法少
#   （上表：比 EWC、online EWC 還多一些）；ACC 高於 naive、也高於每一個 regularization 方法，靠的是新任務學得比較多。
# - LwF 幫助不大：它只要求新模型在**新任務的輸入**上模仿舊模型，而新的像素排列對舊模型來說像雜訊，
#   保留它在雜訊上的輸出，並不能保護它在舊任務上的行為。
#
# - `lora` 從 task 1 起，每個任務只訓練一個新的 rank-$r$ adapter（每一層在這個任務中的修正，rank 至多為 $r$），學完就
#   併入權重，下一個任務再換一個新的：每個任務能做的修正受限，但幾個任務加起來的總變化不必是低秩的。結果新任務學得比
#   naive 少（`new task` 一欄），ACC 是所有方法中最低的；forgetting 和 naive 相近（看誤差線），沒有像 regularization
#   方法那樣大幅下降。也就是說，在 permuted MNIST 上 `lora` 學得比 naive 少，忘得卻沒有明顯比較少。
#   Biderman et al. 2024 在大型語言模型上比較 LoRA 與完整的 fine-tuning：LoRA 學得少也忘得少，兩者落在同一條
#   「學多少、忘多少」的取捨曲線上。那條曲線要在許多設定（rank、learning rate）下各量一個點才畫得出來；本章每個方法
#   只跑一個設定，只有一個點，驗證不了「同一條曲線」。本章看得到的只有「學得少」：class-incremental 中 `lora` 的
#   forgetting 比 naive 低，但那是因為學得少（上面說過），它的 ACC 也比 naive 更低。
#
# - `lora_per_task` 完全不遺忘（forgetting = 0），但**只有它**在測試時拿到 task id（用來選 adapter）：它其實是
#   task-incremental 的設定，和其他方法比並不公平，圖中畫上斜線的長條不要當成同一組看。不遺忘也不等於準確：task 0 訓練
#   整個模型，之後每個任務只靠一個小 adapter 學（`new task` 一欄比 naive 低），所以它的 ACC 低於每一個
#   regularization 方法，和 naive 差不多。

# %% [markdown]
# ### 改了設定之後
#
# 改了 `HPARAMS` 之後，自己對照預設設定下的這些結論還在不在：class-incremental 中存資料的方法（replay、A-GEM）
# 明顯高於 naive、其中 replay 最接近 joint，regularization 方法中只有 MAS 也明顯高於 naive（但遠不及 replay）；
# permuted MNIST 中 regularization 方法之間的名次是否隨 $\lambda$、$c$、$\xi$ 改變，要自己調了才知道。兩個方法的差距
# 若比誤差線還小，就不能說哪個比較好：比較方法時，每個方法都應該調過超參數，並報告多個 seed。

# %% [markdown]
# ## 小結
#
# - SI 的重要性 $\Omega$ 在訓練時沿路累積：$\omega_i = -\sum g_i \delta_i$（只用 task loss 的 gradient），
#   任務結束時 $\Omega_i \mathrel{+}= \omega_i / (\Delta_i^2 + \xi)$，penalty 是 $c \sum_i \Omega_i (\theta_i - \theta_i^*)^2$。
#
# - MAS 用輸出對參數的敏感度當重要性，不需要標籤。
#
# - 情境決定結論（van de Ven & Tolias 2019）：本章的 permuted MNIST（domain-incremental）上，EWC、online EWC、SI、MAS
#   讓 forgetting 只剩 naive 的一小部分、ACC 比 naive 高，代價是新任務學得少一點（LwF 幫助不大）；存資料的 replay、
#   A-GEM 的 ACC 又比它們高，靠的是新任務學得多，不是忘得更少。
#   但這不能推廣到所有 domain-incremental 的串流：第 5 章提過，split MNIST 的 domain-incremental 版本上 regularization
#   幫助有限（Hsu et al. 2018）。class-incremental 中存資料的方法最有效（和 Hsu et al. 2018 方向一致），本章的 replay
#   最接近 joint；regularization 方法大多沒有幫助，本章的 MAS 是例外：明顯高於 naive（多保住的主要是 task 0），但遠不及 replay。
#
# - Architecture 方法（Progressive Networks、per-task LoRA）知道 task id 時不會遺忘，但不遺忘不等於準確：本章的
#   `lora_per_task` 每個新任務只靠一個小 adapter 學，ACC 低於 regularization 方法。LoRA 作為一般 fine-tuning，
#   在本章看得到「學得少」；它的 forgetting 在 class-incremental 中比 naive 低（但舊任務一樣降到 0：學得少，能忘的本來就少），
#   在 permuted MNIST 上和 naive 相近，而且 ACC 最低。Biderman et al. 2024 在大型語言模型上比較 LoRA 與完整的
#   fine-tuning，看到 LoRA 學得少也忘得少，兩者落在同一條學習與遺忘的取捨曲線上；本章每個方法只跑一個設定，
#   驗證不了這條曲線，只看得到「學得少」。
#
# - 沒有一個方法在所有情境、所有記憶體預算下都最好：先確認情境與限制（能不能存資料？測試時有沒有 task id？），再選方法。

# %% [markdown]
# ## 延伸閱讀
#
# - J. Kirkpatrick et al. Overcoming catastrophic forgetting in neural networks. [arXiv:1612.00796](https://arxiv.org/abs/1612.00796)（EWC）
#
# - J. Schwarz et al. Progress & compress. [arXiv:1805.06370](https://arxiv.org/abs/1805.06370)（online EWC）
#
# - F. Zenke, B. Poole, S. Ganguli. Continual learning through synaptic intelligence. [arXiv:1703.04200](https://arxiv.org/abs/1703.04200)（SI）
#
# - R. Aljundi et al. Memory aware synapses: learning what (not) to forget. [arXiv:1711.09601](https://arxiv.org/abs/1711.09601)（MAS）
#
# - D. Lopez-Paz, M. Ranzato. Gradient episodic memory for continual learning. [arXiv:1706.08840](https://arxiv.org/abs/1706.08840)（GEM）
#
# - F. Benzing. Unifying importance based regularisation methods for continual learning（AISTATS 2022）.
#   [arXiv:2006.06357](https://arxiv.org/abs/2006.06357)（SI 的重要性來自 mini-batch 雜訊的偏差；SI、MAS 與 Fisher 的關係）
#
# - A. Chaudhry et al. Efficient lifelong learning with A-GEM. [arXiv:1812.00420](https://arxiv.org/abs/1812.00420)
#
# - Z. Li, D. Hoiem. Learning without forgetting. [arXiv:1606.09282](https://arxiv.org/abs/1606.09282)（LwF）
#
# - A. A. Rusu et al. Progressive neural networks. [arXiv:1606.04671](https://arxiv.org/abs/1606.04671)
#
# - E. J. Hu et al. LoRA. [arXiv:2106.09685](https://arxiv.org/abs/2106.09685)；D. Biderman et al. LoRA learns less and forgets less.
#   [arXiv:2405.09673](https://arxiv.org/abs/2405.09673)
#
# - G. M. van de Ven, A. S. Tolias. Three scenarios for continual learning. [arXiv:1904.07734](https://arxiv.org/abs/1904.07734)
#
# - Y.-C. Hsu et al. Re-evaluating continual learning scenarios. [arXiv:1810.12488](https://arxiv.org/abs/1810.12488)
#
# - G. Hinton, O. Vinyals, J. Dean. Distilling the knowledge in a neural network. [arXiv:1503.02531](https://arxiv.org/abs/1503.02531)（distillation 的 $T^2$）
#
# - 李宏毅，機器學習 2021 春，Life-long Learning：[課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)、
#   [影片播放清單](https://www.youtube.com/playlist?list=PLJV_el3uVTsMhtt7_Y6sgTHGHp1Vb2P2J)。
#
# - 作業：[ML 2022 春 HW14](https://speech.ee.ntu.edu.tw/~hylee/ml/2022-spring.php)（EWC、MAS、SI、RWalk、SCP on rotated MNIST）、
#   [ML 2025 春 HW6](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php)（LoRA 微調 LLM，同時看 GSM8K 與 safety）。

# %% [markdown]
# ## 接下來的章節，以及更遠的方向
#
# 第 7 章把 generative replay 與 architecture 方法實際跑起來；第 8、9 章把「學新東西時不要忘掉舊的」帶到語言模型上：
#
# - **微調之後的安全性遺忘**（第 8 章）：微調會讓對齊過的模型變得不安全，連無害的資料也會（X. Qi et al.
#   [arXiv:2310.03693](https://arxiv.org/abs/2310.03693)）。HW6 的 safety 分數由 guard model 判斷回答是否安全
#   （安全不一定是拒答）。F. Bianchi et al.（Safety-tuned LLaMAs, [arXiv:2309.07875](https://arxiv.org/abs/2309.07875)）
#   在 instruction tuning 時混入少量 safety 例子，模型就安全得多，和 replay 同一個想法；但 safety 例子太多，
#   模型連無害的要求也會拒絕（exaggerated safety）。第 8 章在 toy 模型上試混入不同比例：一點 safety data 就保住
#   safety；over-refusal 主要看混進來的是什麼（只混拒絕的例子，一點點就會過度拒絕），而且不是混得越多越高。
#
# - **Alignment tax**：RLHF 本身也會讓模型失去一些預訓練的能力（L. Ouyang et al. [arXiv:2203.02155](https://arxiv.org/abs/2203.02155)）。
#
# - **Model merging 與 task vectors**（第 9 章）：分別微調的模型直接在權重空間相加或平均（G. Ilharco et al. Task arithmetic,
#   [arXiv:2212.04089](https://arxiv.org/abs/2212.04089)；P. Yadav et al. TIES-merging,
#   [arXiv:2306.01708](https://arxiv.org/abs/2306.01708)），讓一個模型同時保有多個任務，而不用依序訓練。
#
# - **Model editing**（課程之外）：目標是只改一個事實、其他都不動（K. Meng et al. ROME,
#   [arXiv:2202.05262](https://arxiv.org/abs/2202.05262)）。但連續做很多次編輯，模型會先逐漸、再突然地遺忘之前的編輯與
#   其他能力（A. Gupta et al. Model editing at scale leads to gradual and catastrophic forgetting,
#   [arXiv:2401.07453](https://arxiv.org/abs/2401.07453)）：編輯也是一個 continual learning 問題。

# %%
course.run_time()
