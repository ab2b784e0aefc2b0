# %% [markdown]
# # 第 1 章：災難性遺忘 (Catastrophic Forgetting)
#
# 一個神經網路先學會 task A，再學 task B，task A 的表現常常大幅下降，在某些情境下甚至完全忘光。這個現象叫做
# **catastrophic forgetting**（災難性遺忘），是 continual learning（持續學習，也叫 lifelong learning、終身學習）要解決的核心問題。
#
# **這一章你會學到：**
# 1. 為什麼會遺忘：shared parameters、interference、distribution shift；
# 2. 在 **permuted MNIST** 上現場看著舊任務的 accuracy 掉下來（同一條 training step 軸，畫出 task boundaries）；
# 3. learning rate 與 epochs 各自對遺忘有多大的影響（實測，再用 slider 自己試）；
# 4. 在 **split MNIST（class-incremental）** 上看到更極端的情況：舊的類別 accuracy 直接掉到 0%；
# 5. 三種情境（task-、domain-、class-incremental）：**同一份圖片、同一個方法**，只換 output head、訓練用的標籤與測試方式，結果天差地遠。

# %% [markdown]
# 資料：`cl_helpers` 依序在環境變數 `CL_HELPERS_DATA` 指向的資料夾、預設的快取資料夾（`$XDG_CACHE_HOME/cl_helpers`，
# 沒設定 `XDG_CACHE_HOME` 時是 `~/.cache/cl_helpers`）裡找 MNIST；都找不到就下載到其中的第一個（有設 `CL_HELPERS_DATA`
# 就是它）。沒有網路時改用 scikit-learn 內建的、解析度較低的手寫數字圖（8×8），結果會和這裡存下來的不同
# （下面印出的 `source` 說明這次用的是哪一份）。
# 每個實驗都只取 MNIST 訓練集**最前面**的 N 張圖：permuted MNIST 每個任務 5,000 張、測試圖片 1,000 張；split MNIST
# 每兩個數字 1,100 張，測試圖片用這兩個數字的全部（程式裡 `make_stream` 的 `train_size` 與 `test_size`；
# 1.2 節與 1.5 節建立 stream 的 cell 會印出每個任務的訓練與測試張數）。
# 存下來的輸出用的是 MNIST 訓練集的前 6,309 張（`source` 印出張數），用到的圖都在其中，所以完整的 MNIST 給出同樣的圖片。
# 結果仍可能因硬體（GPU 或 CPU）與 CPU threads 的數目而差一點：浮點運算的捨入不同（1.2 節的練習會看到，
# 光是浮點捨入就能造成多大的差異）。

# %% [markdown]
# ⏱️ 執行時間：本章最後一個 cell 印出這次從頭跑到尾的實測時間；README 的章節表列出 full mode 在 2-core CPU 上的時間。模型很小，CPU 就夠了。
#
# 程式裡會一直看到兩樣東西：
# - `pick(full, fast)`：完整模式（full mode，預設；下一個 cell 印出 `mode: full`）用第一個值；設了環境變數 `CL_FAST=1`
#   時用第二個、比較小的值，跑得快，但數字會和課文不同。課文裡的數字都是完整模式的結果，也就是 `pick` 的第一個值。
# - `course.expect(條件, "課文的說法")`：檢查課文的說法在你這次的輸出裡是否成立，不成立時印出 ⚠️ 與那句說法；
#   標了 `full_only=True` 的說法只在完整模式檢查（快速模式的小設定撐不起它）。

# %%
# 環境設定 / Setup：同一個 cell 在 JupyterLab 與 Colab 都能用。
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install cl_helpers from the course repository (torch/ipywidgets untouched)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/__REPO__"], check=True)

import matplotlib.pyplot as plt
from cl_helpers import course, make_stream, train_stream, plots
from cl_helpers.teaching.course import pick

device = course.setup(seed=0)

# %% [markdown]
# ## 1.1 為什麼會遺忘？
#
# - **Shared parameters**：所有任務共用同一組權重 $\theta$。訓練 task B 時，gradient descent 只看 task B 的 loss
#   $\mathcal{L}_B(\theta)$，完全不知道 task A 存在。
# - **Interference（干擾）**：對 task A 重要的權重，被 task B 的 gradient 推往別的方向。
#   沿著 B 的 gradient 走一小步 $-\eta \nabla \mathcal{L}_B$，A 的 loss 的變化在一階近似下是
#   $-\eta\, \nabla \mathcal{L}_A \cdot \nabla \mathcal{L}_B$：兩個 gradient 的內積為負時，學 B 的這一步會讓 A 的 loss 上升，
#   內積越負，上升越多。
# - **Distribution shift**：輸入分布 $p(x)$ 或標籤分布 $p(y)$ 在任務之間改變，而模型只會去 fit 當下看到的資料。
#
# 人類學會騎腳踏車後再學游泳，不會忘記騎車；但一個標準的神經網路會。接下來用實驗看看有多嚴重。

# %% [markdown]
# ### 在參數空間裡看 interference：只有兩個權重的模型
#
# 把「對 A 重要的權重被 B 的 gradient 推走」真的畫出來。模型只有兩個權重 $w = (w_1, w_2)$：logistic regression
# $p(y = 1 \mid x) = \sigma(w_1 x_1 + w_2 x_2)$。兩個人造的任務：task A 的輸入主要沿 $x_1$ 變化，task B 主要沿 $x_2$，
# 標籤由不同的「真實權重」產生。`cl_helpers.playground` 在整個 $(w_1, w_2)$ 平面上算出每個任務真正的
# loss（等高線：藍色是 A，橙色是 B）、各自的最佳點（星號），以及從 A 的最佳點出發、**只用 B 的 loss** 做 gradient descent 的真實路徑
# （圓圈是路徑的終點）。

# %%
from cl_helpers.teaching.quiz import ask

ask("從 task A 的最佳點出發，只用 task B 的資料做 1000 步 gradient descent。走完之後，task A 的 loss 會怎樣？",
    ["幾乎不變：A 的最佳點附近本來就很平", "明顯上升：B 的 gradient 把權重推離 A 的最佳點",
     "下降：多訓練總是有幫助"],
    answer=1, key="ch1-playground",
    explain="gradient descent 只看得到 B 的 loss。A 的最佳點對 B 來說很差，B 的 gradient 把權重一路推向 B 的最佳點，"
            "完全不管 A 的 loss 沿路變成多少。下一個 cell 畫出真實的路徑與兩個 loss。")

# %%
import numpy as np
from cl_helpers.playground import make_playground, train_path, losses_at
from cl_helpers.plots import plot_interference

pg = make_playground(seed=0)
path = train_path(pg, steps=1000)          # full-batch gradient descent on B, from A's optimum
fig = plot_interference(pg, path)
for ln in fig.axes[0].lines:   # the path carries a dot every 10 steps: say so in the legend
    if ln.get_label().startswith("gradient descent"):
        ln.set_label(f"{ln.get_label()}, a dot every 10 steps")
fig.axes[0].legend(loc="upper left", fontsize=8)   # out of the way of A's optimum, B's optimum and the path
fig.axes[1].set_xscale("symlog", linthresh=10)   # log steps: B's fast start and A's slow rise both visible
fig.axes[1].set_xlim(left=0)
fig.axes[1].set_xticks([0, 10, 50, 100, 1000], ["0", "10", "50", "100", "1000"])
fig.axes[1].axvline(50, color="0.5", ls=":", lw=1)   # step 50, where the title and the prints look
fig.axes[1].set_xlabel("gradient-descent step on task B (linear up to 10, log after)")
fig.axes[1].set_title("B's loss falls in the first 50 steps; A's loss rises later")
plt.show()
loss_A, loss_B = losses_at(path, pg.A), losses_at(path, pg.B)
both = np.array([float(pg.A.optimum[0]), float(pg.B.optimum[1])])   # (w1 of A's optimum, w2 of B's optimum)
print(f"loss on A: {loss_A[0]:.3f} at A's optimum -> {loss_A[50]:.3f} after 50 steps on B -> "
      f"{loss_A[-1]:.3f} after {len(path) - 1} steps")
print(f"loss on B: {loss_B[0]:.3f} -> {loss_B[50]:.3f} after 50 steps -> {loss_B[-1]:.3f}")
print(f"at (w1 of A, w2 of B): loss on A {losses_at(both, pg.A):.3f}, loss on B {losses_at(both, pg.B):.3f}")
course.expect(loss_A[-1] > loss_A[0] + 0.5, "只訓練 B，A 的 loss 明顯上升")
course.expect(loss_B[0] - loss_B[50] > 0.9 * (loss_B[0] - loss_B[-1]) and
              loss_A[-1] - loss_A[50] > 0.5 * (loss_A[-1] - loss_A[0]),
              "B 的 loss 在前 50 步就幾乎降完，A 的 loss 大部分是在那之後才上升的")
course.expect(losses_at(both, pg.A) < loss_A[0] + 0.1 and losses_at(both, pg.B) < loss_B[-1] + 0.1,
              "(w1 of A, w2 of B) 這一點的 loss 對兩個任務都接近各自的最佳值")

# %% [markdown]
# 路徑先沿著 $w_2$ 往下走（B 的 loss 在這個方向很陡，前 50 步就幾乎降完），接著慢慢沿著 $w_1$ 往左移：
# 對 B 來說這個方向幾乎是平的，多走只省下一點點 loss；但對 A 來說 $w_1$ 正是最陡的方向。第一行印出：
# 前 50 步 A 的 loss 只升了一點，大部分是在之後這一段才升上去的。B 在第 50 步之後的那一大段移動，對自己幾乎沒有好處，
# 卻毀掉了 A。
#
# 注意起點：在 A 的最佳點 $\nabla \mathcal{L}_A = 0$，所以 1.1 節的一階項 $-\eta\, \nabla \mathcal{L}_A \cdot \nabla \mathcal{L}_B$
# 在起點是 0。A 的 loss 上升來自**曲率**（二階項）：權重離開 A 的最佳點一小段 $\Delta w$ 時，A 的 loss 大約上升
# $\tfrac{1}{2}\, \Delta w^\top H_A\, \Delta w$（$H_A$ 是 A 的 loss 的 Hessian），沿著 A 的 loss 彎得最厲害的方向（這裡是 $w_1$）
# 走，上升得最快。

# %% [markdown]
# 兩個任務其實可以兼顧：取 A 最佳點的 $w_1$ 與 B 最佳點的 $w_2$，這一點（最後一行印出它的兩個 loss）
# 對兩個任務都接近各自的最佳值。如果有人告訴 gradient descent「$w_1$ 對 A 很重要，別把它推走」，就有機會停在這附近。
# 第 3 章的 EWC 近似這麼做：它不是把 $w_1$ 凍結，而是用一個「彈簧」（依重要性加權的二次 penalty）把重要的權重拉向舊的值，
# 拉力多強由一個可以調的係數決定。它衡量重要性用的是 Fisher information 的**對角線**：在這種 logistic regression 裡，
# Fisher（對模型自己預測的標籤取期望）正好等於上面的曲率 $H_A$，所以 EWC 是用 $H_A$ 的對角線代替整個 $H_A$：
# 只看每個權重各自的曲率，不看兩個權重之間的交叉項。我們會回到這張圖。

# %% [markdown]
# ## 1.2 Permuted MNIST：同樣的數字、不同的像素排列
#
# 每個 task 用一個固定的隨機 permutation 打亂 28×28 = 784 個像素（task 0 不打亂：它的 permutation 是原本的順序，
# 圖中仍標為 permutation 0）。對人眼來說後面的任務是雜訊，但對 MLP 而言每個任務一樣難，標籤也一樣是 0–9（domain-incremental）。
# 注意：像素的 permutation 在建立 task 時**只套用一次**到整個 tensor，而不是每個 batch 重抽。下圖是每個任務最前面幾張**測試**圖片。

# %%
stream = make_stream("permuted", n_tasks=3, train_size=pick(5000, 1000), test_size=pick(1000, 500),
                     seed=0, device=device)
print(stream)
print(f"each task: {len(stream[0].y_train)} training / {len(stream[0].y_test)} test images")
plots.plot_task_examples(stream, n=6)
plt.show()

# %% [markdown]
# 模型是 `cl_helpers.models` 的 MLP（兩層 hidden layer），用 Adam 訓練，每個任務開始時重新建立 Adam（`train_stream` 的預設）；
# 下面訓練的 cell 會印出完整的設定。每個 epoch 結束時，我們在**所有**任務（包括還沒學的）的測試圖片上評估。

# %%
ask("依序學完 task 1、task 2 之後，task 0 的 test accuracy 會在哪裡？",
    ["和剛學完時差不多：三個任務的像素排列不同，互不干擾", "明顯下降，但仍遠高於亂猜（chance）的 0.1",
     "掉到亂猜的 0.1 左右"],
    answer=1, key="ch1-task0",
    explain="三個任務共用同一組權重，後面的任務會改掉 task 0 用到的權重，所以 task 0 明顯變差。"
            "至於會不會掉到亂猜，只能實測：下一個 cell 印出的數字顯示它掉了不少，但仍遠高於 0.1。")

# %%
EPOCHS = pick(3, 1)
naive = train_stream(stream, "naive", epochs=EPOCHS)
c = naive.config
print(f"MLP {stream.input_size}-{'-'.join(map(str, c['hidden']))}-{stream.n_outputs} | {c['optimizer']} "
      f"lr = {c['lr']:g} | batch {c['batch_size']} | epochs per task: {c['epochs']} | new optimizer per task: "
      f"{c['reset_optimizer']}")
plots.plot_run(naive)
plt.show()
R0 = naive.acc_matrix
print(f"task 0: {R0[0, 0]:.3f} right after learning it -> {R0[1, 0]:.3f} -> {R0[-1, 0]:.3f} at the end")
course.expect(all(R0[i + 1, j] < R0[i, j] for j in range(len(R0)) for i in range(j, len(R0) - 1)),
              "每個舊任務的 accuracy 在學完每個新任務後都下降", full_only=True)
course.expect(R0[-1, 0] < R0[0, 0] - 0.05, "task 0 的 accuracy 在學完後面的任務之後明顯下降")
course.expect(R0[-1, 0] > 0.3, "task 0 掉了不少，但仍遠高於亂猜的 0.1")

# %% [markdown]
# 左圖的橫軸是 training step（所有任務加起來的 mini-batch 數），灰色虛線是 task boundaries。
# 每條線是一個任務的 test accuracy：點線是「還沒訓練到它」的時期。
# 看 task 0（藍線）：每學一個新任務就往下掉（最後一行的三個數字），但遠沒有掉到亂猜（隨機猜一個類別，chance）的水準。右圖是 accuracy matrix $R_{i,j}$：
# 學完 task $i$ 之後在 task $j$ 上的 accuracy；對角線以下（舊任務）每一欄的數字逐列變小，就是遺忘。

# %% [markdown]
# ### 練習 1.2：自己寫 training loop
#
# 上面的 `train_stream(stream, "naive", ...)` 裡面到底做了什麼？自己寫一次。完成
# `train_task(model, task, epochs, batch_size, lr, gen)`：用 mini-batches 在**一個**任務上訓練 `model`，
# 做法和 `train_stream` 一樣（只差 Adam 的實作：`train_stream` 用 fused 版本，練習下面會說明）。

# %% [markdown]
# `train_task` 要做到的事：
# - 資料在 `task` 裡：`task.x_train` 是攤平的訓練圖片（`n` × 784 的 tensor，已經套用過這個任務的像素 permutation；
#   改用 8×8 手寫數字圖時是 `n` × 64），`task.y_train` 是 `n` 個標籤，`n = len(task.y_train)`；`task.id` 是任務編號；
# - `model` 交給你時是 eval mode（就像剛評估完），要先切回 train mode（這個 MLP 沒有 dropout 或 batch norm，
#   少了這一步數字也不會變，但檢查器仍會指出來：之後章節的模型會用到）；
# - 每個任務建立一個 `torch.optim.Adam(model.parameters(), lr=lr)`（`train_stream` 每個任務重新建立 Adam）；
# - 每個 epoch 用 `order = torch.randperm(n, generator=gen, device=gen.device)` 打亂一次樣本順序（一定要用 `gen`，
#   才會和 `train_stream` 抽到同樣的順序），再依序切成每組 `batch_size` 個（最後一組可以比較小）；
# - 每個 mini-batch 做一次標準的 PyTorch 訓練步，loss 是 cross-entropy；model 的 forward 要傳 task id：
#   `model(x, task.id)`。這一步要做哪幾件事、依什麼順序，先自己想（卡住了就從 `loop_exercise.hint(1)` 開始，
#   提示一步比一步接近答案）。

# %%
from cl_helpers.teaching.exercises.ch01_loop import loop_exercise
from cl_helpers.teaching.exercises.loop import TOLERANCE, WEIGHT_TOLERANCE

check_stream, s = loop_exercise.make_stream(), loop_exercise.settings
check_steps = len(check_stream) * s.epochs * -(-len(check_stream[0].y_train) // s.batch_size)
print(f"the checker: {len(check_stream)} permuted-MNIST tasks x {len(check_stream[0].y_train)} training / "
      f"{len(check_stream[0].y_test)} test images | "
      f"MLP {check_stream.input_size}-{'-'.join(map(str, s.hidden))}-{check_stream.n_outputs} | {s.epochs} epochs, "
      f"batch {s.batch_size}, lr {s.lr:g} | {check_steps} optimizer steps in all")
print(f"accepted: accuracy matrices within {TOLERANCE}, final weights within {WEIGHT_TOLERANCE:.1%} of the largest weight")

# %% [markdown]
# 檢查器用上一個 cell 印出的小設定（比 1.2 節的實驗小）、同一個 seed 跑你的 loop 與 `train_stream`，
# 比較兩個 accuracy matrix 與最後的權重（容許的差距見第二行，只是浮點誤差的大小），
# 並在訓練時觀察：有沒有 zero_grad、是不是 train mode、每個任務幾個 optimizer、每個 epoch 是不是每個樣本剛好用到一次（shuffle）。
# 為什麼是「容許差距」而不是「完全相同」？`train_stream` 用 Adam 的 fused kernel
# （`torch.optim.Adam(..., fused=True)`，一次更新所有參數，比較快），你的 `torch.optim.Adam(model.parameters(), lr=lr)`
# 用預設的實作。兩者的數學相同，只是浮點捨入不同，所以結果只差一點點；下面重跑 1.2 節的實驗時會看到，
# 換成 `fused=True` 的同一個 loop 就和 `train_stream` 完全相同。在別的設定裡（例如下面重跑的 1.2 節實驗：步數更多、
# 模型更大），預設 Adam 的差距可能超過這裡容許的大小：這是浮點捨入，不是你的 loop 寫錯。
# 卡住了？`loop_exercise.hint(1)`。沒寫完也沒關係，後面會用參考答案。

# %% tags=["exercise"]
import torch
import torch.nn.functional as F

def train_task(model, task, epochs, batch_size, lr, gen):
    """Train `model` on one task with Adam and shuffled mini-batches, as train_stream does (its Adam is fused)."""
    # BEGIN SOLUTION: Exercise 1.2: the training loop (try loop_exercise.hint(1))
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(task.y_train)
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen, device=gen.device)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            x, y = task.x_train[idx], task.y_train[idx]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x, task.id), y)
            loss.backward()
            optimizer.step()
    # END SOLUTION

# %%
my_train_task = loop_exercise.check(train_task)

# %% [markdown]
# 檢查器會指出常見錯誤：忘了 `zero_grad`（PyTorch 會把 gradient **累加**到 `.grad`）、沒切回 train mode、
# 每個 batch 重抽一次樣本順序（shuffle；有些樣本一個 epoch 出現兩次、有些沒出現）、每個 batch 或每個 epoch 都建立新的
# optimizer（Adam 的移動平均一直重來）、丟掉最後一個比較小的 batch。

# %% [markdown]
# ### 你的 loop 與 engine：每個 hook 在哪裡
#
# ⚠️ **先自己寫完上面的練習再往下看**：下面的 listing 就是參考答案的函式本體（`train_task` 裡面的程式，
# 省略了 `def` 那一行）。
#
# `train_stream`（以下稱 engine）就是這個 loop，再加上在固定位置呼叫 strategy 的 hook（`cl_helpers/strategies/base.py`）。
# 後面每個 CL 方法都只是在其中幾個位置多做一點事。每行註解列出：engine 在這一行呼叫哪個 hook（省略 `strategy.`），
# 以及哪些 CL 方法用到它：EWC（第 3 章）、replay、A-GEM 與 LwF（第 5 章，LwF 在 5.5 節）、SI 與 MAS（第 6 章）。
# 建立 optimizer 的那一行不是 hook：engine 用 `cl_helpers.optim.make_optimizer` 建立 optimizer，只更新
# `parameters_to_train(model)` 給的參數（LoRA 只訓練 adapter）。listing 省略了整個 stream 開始前呼叫一次的
# `setup(model, stream, config)`（LoRA 在這裡把 adapter 裝上模型）。順序和 engine 一樣：先 train mode 與 `before_task`，
# 再建立 optimizer，因為 `before_task` 可能加上或重設參數。

# %% [markdown]
# ```python
# model.train()                     # then before_task(model, task, stream)
# optimizer = torch.optim.Adam(model.parameters(), lr=lr)  # over parameters_to_train(model)
# n = len(task.y_train)
# for epoch in range(epochs):       # data: training_data (joint: all tasks)
#     order = torch.randperm(n, generator=gen, device=gen.device)
#     for start in range(0, n, batch_size):
#         idx = order[start:start + batch_size]
#         x, y = task.x_train[idx], task.y_train[idx]  # make_batch: replay
#         optimizer.zero_grad()
#         loss = F.cross_entropy(model(x, task.id), y)  # forward, loss: LwF
#         loss.backward()           # after_task_backward: SI
#                                   # penalty(model).backward(): EWC, SI, MAS
#                                   # after_backward: A-GEM projects
#         optimizer.step()          # after_step: SI's path integral
# return                            # after_task: Fisher, Omega, buffer
# ```

# %% [markdown]
# 用你的 loop（或參考答案）重跑 1.2 節的 naive 實驗：同一條 stream、同樣的 MLP、同一個 seed；
# 再用同一個 loop、只把 Adam 換成 `fused=True`（`make_loop` 是參考答案加上一個可以換掉的選項）跑一次。

# %%
import functools
from cl_helpers.teaching.exercises.ch01_loop import make_loop
from cl_helpers.teaching.exercises.loop import LoopSettings, play_loop

settings = LoopSettings(epochs=EPOCHS, hidden=tuple(c["hidden"]))   # the naive run of section 1.2
mine = play_loop(my_train_task, stream, settings, watch=False)
fused = play_loop(make_loop(optimizer=functools.partial(torch.optim.Adam, fused=True)), stream, settings, watch=False)
label = "your loop" if my_train_task is train_task else "the reference loop (your train_task is not done yet)"
print(f"{label}:\n", mine.acc_matrix.round(3), "\ntrain_stream:\n", naive.acc_matrix.round(3))
gap, fused_gap = (float(abs(r.acc_matrix - naive.acc_matrix).max()) for r in (mine, fused))
print(f"largest difference: {gap:.4f} after {naive.steps[-1]} optimizer steps (the checker: {check_steps} steps; "
      f"it accepts up to {TOLERANCE}, this gap is {'over' if gap > TOLERANCE else 'within'} that)")
print(f"the same loop with Adam(fused=True): largest difference {fused_gap:.4f}")
course.expect(gap <= 0.1, "預設 Adam 的 loop 與 train_stream 的 accuracy matrix 只差一點")
course.expect(fused_gap == 0, "用 fused Adam 的同一個 loop 與 train_stream 完全相同")
course.expect(TOLERANCE / 2 < gap < 3 * TOLERANCE, "預設 Adam 的差距和檢查器容許的大小差不多", full_only=True)

# %% [markdown]
# 用預設 Adam 的 loop 與 `train_stream` 相近，但不完全相同：largest difference 那一行的差距和檢查器容許的 0.02
# 差不多大（同一行印出這次是超過還是沒超過）。換成 `fused=True` 之後差距是 0（上面最後一行），所以這個差距不是 loop 寫錯，
# 而是兩種 Adam 實作的浮點捨入不同。這個設定和檢查器的不一樣：步數多很多（同一行印出的兩個步數）、模型比較大
# （兩個 cell 各印出 MLP 的大小）、每個任務的測試圖片也比較多（兩個 cell 都印出張數）；這些不同各自讓捨入差距變大或變小多少，
# 這裡沒有分開測。訓練對這麼小的差異很敏感：只是捨入不同，accuracy matrix 的某一格就差了上一個 cell 印出的最大差距那麼多。
# 記住這個大小：下一節比較設定時，和它同一個數量級的差距都不能當成結論。

# %% [markdown]
# ## 1.3 Learning rate 與 epochs：哪一個讓模型忘得更多？
#
# 直覺上「學得越多，忘得越多」：新任務學得越用力，舊任務應該被改得越多。實際量一量：同一條 stream，
# 只改 learning rate，或只改每個任務的 epochs。每個 run 印一行：
# - **learned**：每個任務剛學完時的 accuracy $R_{j,j}$ 的平均：新任務學得多好（plasticity）；
# - **forgetting**：照 `cl_helpers.metrics` 的計算方式（第 2 章細講）：對每個舊任務 $j$，取 accuracy matrix 第 $j$ 欄
#   在每個任務結束時（除了最後一個）的最大值，減去最後的值，再對所有舊任務平均：舊任務掉了多少（越小表示越穩定，stability）。
#   它只看每個任務結束時的 accuracy，不看每個 epoch 的曲線；
# - **task 0**：剛學完與最後的 accuracy。

# %% [markdown]
# 先改 learning rate。為了看權重動了多少，這裡的 naive 多記下初始權重與每個任務結束時的權重，
# 印出 task 1、task 2 期間權重移動的距離 $\lVert w_{\text{end}} - w_{\text{task 0}} \rVert$，除以初始權重的大小
# $\lVert w_{\text{init}} \rVert$。三個 run 用同一個 seed，初始權重完全相同，所以三個距離除以的是同一個數，可以直接比較。

# %%
from cl_helpers.strategies.naive import Naive

def flat(model):     # all weights of a model as one vector
    return torch.cat([p.detach().flatten() for p in model.parameters()])

class RecordWeights(Naive):   # naive training that also keeps the initial weights and those at the end of each task
    def setup(self, model, stream, config):
        self.weights = [flat(model)]
        return super().setup(model, stream, config)

    def after_task(self, model, task, stream):
        self.weights.append(flat(model))

def learned(r):      # mean accuracy on each task right after learning it: the diagonal R[j, j]
    return float(np.diag(r.acc_matrix).mean())

def line(r):
    return (f"learned {learned(r):.3f} | forgetting {r.summary()['forgetting']:.3f} | "
            f"task 0: {r.acc_matrix[0, 0]:.3f} -> {r.acc_matrix[-1, 0]:.3f}")

# %%
by_lr, moved, w_init = {}, {}, {}
for lr in (1e-4, 1e-3, 1e-2):
    rec = RecordWeights()
    by_lr[lr] = train_stream(stream, rec, epochs=EPOCHS, lr=lr, progress=False)
    w0, w_task0, w_end = rec.weights[0], rec.weights[1], rec.weights[-1]   # initial, end of task 0, end of the stream
    w_init[lr], moved[lr] = float(w0.norm()), float((w_end - w_task0).norm() / w0.norm())
    print(f"lr = {lr:.0e}, epochs = {EPOCHS}: {line(by_lr[lr])} | weights moved {moved[lr]:.2f} x |w_init| during tasks 1-2")
f_lr, l_lr = [r.summary()["forgetting"] for r in by_lr.values()], [learned(r) for r in by_lr.values()]
m_lr = list(moved.values())
print(f"|w_init| = {w_init[1e-3]:.2f} in every run (same seed) | lr x10 -> distance x{m_lr[1] / m_lr[0]:.1f} "
      f"(1e-4 to 1e-3), x{m_lr[2] / m_lr[1]:.1f} (1e-3 to 1e-2)")
course.expect(len(set(w_init.values())) == 1, "三個 run 的初始權重相同")
course.expect(f_lr[0] < f_lr[1] < f_lr[2], "learning rate 越大，舊任務忘得越多")
course.expect(m_lr[0] < m_lr[1] < m_lr[2], "learning rate 越大，學後面的任務時權重移動得越遠")
course.expect(all(m_lr[i + 1] < 10 * m_lr[i] for i in range(2)), "lr 每大 10 倍，權重移動的距離變大，但不到 10 倍",
              full_only=True)
course.expect(l_lr[0] < l_lr[1] - 0.03 and by_lr[1e-4].acc_matrix[0, 0] < by_lr[1e-3].acc_matrix[0, 0] - 0.03,
              "lr 1e-4 學得比 1e-3 少，連第一個任務剛學完時也比較低", full_only=True)
course.expect(abs(l_lr[2] - l_lr[1]) < 0.03 and f_lr[2] > f_lr[1] + 0.1,
              "lr 1e-2 與 1e-3 學得差不多，但 1e-2 忘得多很多", full_only=True)
course.expect(int(np.argmax(l_lr)) != int(np.argmin(f_lr)), "沒有一個 lr 同時學得最好又忘得最少", full_only=True)
course.expect(by_lr[1e-4].acc_matrix[-1, 0] < by_lr[1e-4].acc_matrix[0, 0] - 0.03,
              "lr 1e-4 的 forgetting 最小，但 task 0 仍然掉了幾個百分點", full_only=True)

# %% [markdown]
# - **Learning rate 越大，忘得越多**：從 1e-4 到 1e-2，forgetting 一路變大；最右邊印出的距離也一路變大：lr 越大，
#   學 task 1、task 2 時權重離 task 0 結束時的位置越遠。lr 每大 10 倍，距離也變大，但不到 10 倍（最後一行的兩個倍數）。
#   Adam 每一步的更新量大約和 lr 成正比，但這裡量的只是起點到終點的直線距離，不是路徑長度；為什麼不到 10 倍，這裡回答不了。
# - **lr = 1e-4 忘得最少，但不是不忘**：它的平均 forgetting 最小，task 0 還是掉了幾個百分點（上面第一行的 task 0）。
# - **lr = 1e-4 學得也少**：它的 learned 比 lr = 1e-3 低，而且連 task 0（前面沒有任何舊任務）剛學完時也比較低：
#   在 3 個 epoch 裡，這麼小的 lr 連一個任務都來不及學好。所以這裡學得少，主要是**訓練不夠**，不是舊知識擋住了新任務。
# - **lr 不是越大學得越好**：1e-2 與 1e-3 的 learned 差不多（差距在上一節看到的捨入誤差範圍內），1e-2 卻忘得多很多。
#   對 Adam 來說 1e-2 已經是很大的 learning rate。
#
# 接著只改每個任務的 epochs（lr = 1e-3）。

# %%
by_epochs = {e: by_lr[1e-3] if e == EPOCHS else train_stream(stream, "naive", epochs=e, progress=False)
             for e in pick((1, 3, 5, 10), (1, 2))}
for e, r in by_epochs.items():
    print(f"lr = 1e-03, epochs = {e:>2}: {line(r)}")
f_ep, l_ep = [r.summary()["forgetting"] for r in by_epochs.values()], [learned(r) for r in by_epochs.values()]
print(f"spread of forgetting: {max(f_ep) - min(f_ep):.3f} over epochs {min(by_epochs)}-{max(by_epochs)} (lr 1e-3), "
      f"{max(f_lr) - min(f_lr):.3f} over lr 1e-4 to 1e-2 ({EPOCHS} epochs)")
course.expect(max(f_ep) - min(f_ep) < max(f_lr) - min(f_lr),
              "在這裡試的範圍內，epochs 對 forgetting 的影響比 learning rate 小得多")
course.expect(l_ep[-1] > l_ep[0] + 0.03, "epochs 最多的 run 比 epochs 最少的 run 學得多", full_only=True)
course.expect(max(f_ep) - min(f_ep) < 0.1, "不同 epochs 的 forgetting 差距不大", full_only=True)
course.expect(not (all(a < b for a, b in zip(f_ep, f_ep[1:])) or all(a > b for a, b in zip(f_ep, f_ep[1:]))),
              "forgetting 沒有隨 epochs 一路變大或一路變小", full_only=True)
course.expect(f_ep[-1] < f_ep[0] + 0.03, "epochs 最多的 run 沒有比 1 個 epoch 的 run 忘得明顯更多", full_only=True)
course.expect(gap / 5 < max(f_ep) - min(f_ep) < 5 * gap,
              "不同 epochs 的 forgetting 差距，和 1.2 節浮點捨入造成的差距同一個數量級", full_only=True)

# %% [markdown]
# - **Epochs 越多，learned 越高**：最多 epochs 的 run 比 1 個 epoch 的 run 學得明顯更好（每個任務剛學完時的 accuracy 更高）。
# - **看不出 epochs 讓遺忘變多或變少**：不同 epochs 的 forgetting 差距不大（spread 那一行），而且上面印出的幾個
#   forgetting 高低交錯，沒有隨 epochs 一路變大或一路變小。這裡只跑了一個 seed，而 1.2 節的 largest difference
#   和這個 spread 同一個數量級：光是浮點捨入，accuracy matrix 的一格就能差那麼多（那是單一格的差距，forgetting 是平均，
#   兩者不完全可比），所以這點差距不能當成 epochs 的效果。
#   epochs 最多的 run 學得最多，卻沒有比 1 個 epoch 的 run 忘得明顯更多：
#   在這個 run 裡，改 epochs 看不到「學得越多，忘得越多」（只有一個 seed，也不能說這個直覺錯了）。
# - 在這裡試的範圍內（lr 相差 100 倍、epochs 相差 10 倍），改 learning rate 對 forgetting 的影響比改 epochs 大得多
#   （spread 那一行的兩個數字）。這個比較取決於試了哪些值，而且只跑了一個 seed：差距小的比較，要多跑幾個 seed 才能下結論。

# %% [markdown]
# 所以 learning rate 是一個取捨：在固定的訓練量（每個任務 3 個 epoch）下，把 lr 從 1e-3 降到 1e-4，忘得少，
# 新任務卻學得少；這三個 learning rate 裡，沒有一個同時學得最好又忘得最少。這和
# **stability–plasticity dilemma**（保住舊任務與學會新任務之間的兩難）有關，但還不是它本身：上面看到 lr 1e-4
# 學得少是因為訓練不夠，不是舊知識擋住了新任務。真正的 dilemma 要到第 3 章才會看到：為了保住舊任務而拉住權重，
# 新任務就學不好。

# %% [markdown]
# ## 1.4 動手試試：epochs 與 learning rate
#
# 拖曳 slider（放開滑鼠才會重新訓練）。slider 一開始是 lr = 1e-2（1.2 節的圖是 1e-3），試著把它拉到 1e-4，
# 看 task 0 的曲線（1.3 節印出了三個 lr 下 task 0 的起點與終點）。slider 下方的 ACC 是學完所有任務之後，
# 各任務 accuracy 的平均（accuracy matrix 最後一列的平均，第 2 章正式定義）。每個設定的結果會存在快取裡，
# 回到看過的設定會立刻顯示。

# %%
from cl_helpers.teaching.widgets import explore, epochs_slider, log_slider

def run(epochs, lr, report):   # report(done, total) drives the slider's progress bar
    return train_stream(stream, "naive", epochs=epochs, lr=lr, progress=False, report=report)

def show(r):
    s = r.summary()
    text = (f"epochs = {r.config['epochs']} | lr = {r.config['lr']:.3g} | ACC {s['acc']:.3f} | "
            f"forgetting {s['forgetting']:.3f} | task 0: {r.acc_matrix[0, 0]:.2f} -> {r.acc_matrix[-1, 0]:.2f}")
    fig = plots.plot_run(r)   # the title names the setting: the slider's plot is not the 1e-3 plot of 1.2
    setting = f"epochs = {r.config['epochs']}, lr = {r.config['lr']:.0e}"
    fig.axes[0].set_title(f"naive, {setting}: accuracy on each task", pad=16)
    fig.axes[1].set_title(f"R[i, j]: {setting}")
    return fig, text

explore(run, show, epochs=epochs_slider(EPOCHS, 1, 10),
        lr=log_slider("learning rate", 1e-2, 1e-4, 1e-2))

# %% [markdown]
# ## 1.5 Split MNIST，class-incremental：舊類別掉到 0%
#
# 把 10 個數字切成 5 個任務：{0,1}, {2,3}, {4,5}, {6,7}, {8,9}。在 **class-incremental** 情境中，
# 模型只有一個 10 類的 output head，測試時**不知道**圖片屬於哪個任務，必須在 10 類中選一個：這裡的 argmax 取遍全部
# 10 類，包括還沒學到的類別；訓練時的 cross-entropy 也涵蓋全部 10 類。van de Ven & Tolias（2018、2019 兩篇論文用同一份
# 程式）的 class-IL 不一樣：訓練與測試都只用到目前為止看過的類別。學完最後一個任務時所有類別都看過了，所以對同一個模型，
# 兩種測試方式給出同樣的最後 ACC；但訓練方式不同，這一章的模型和他們的不是同一個程序訓練出來的。
# （van de Ven & Tolias 2019 把 continual learning 分成三種情境：task-incremental 測試時知道 task id；
# domain-incremental 標籤空間不變但輸入分布改變，例如 permuted MNIST；class-incremental 則要不斷加入新類別。）

# %%
ask("依序學完 5 個任務（最後一個是 8/9）之後，模型在 task 0（數字 0 和 1）的測試圖片上的 accuracy 大約是？",
    ["仍然很高（> 0.8）：0 和 1 很好認", "大約一半", "接近 0"],
    answer=2, key="ch1-split",
    explain="class-incremental 只有一個 10 類的 head。最後一個任務只看過 8 和 9，cross-entropy 把其他類別的 logits "
            "全部往下壓，模型幾乎每張圖都回答 8 或 9，所以 0 和 1 的 accuracy 接近 0，不只是「變差」。")

# %%
SPLIT_TRAIN = pick(1100, 600)   # first images of each digit pair: the same on the course subset and full MNIST
split = make_stream("split", scenario="class", train_size=SPLIT_TRAIN, test_size=pick(None, 300), device=device)
print(split)
print("training / test images per task: " + ", ".join(f"{len(t.y_train)} / {len(t.y_test)}" for t in split))
SPLIT_EPOCHS = pick(2, 1)
split_naive = train_stream(split, "naive", epochs=SPLIT_EPOCHS)
fig = plots.plot_run(split_naive)
fig.axes[0].set_ylim(-0.03, 1.05)   # the lines at 0 drawn whole, above the bottom of the axes
plt.show()
R, curve = split_naive.acc_matrix, split_naive.curve_acc
E, T = SPLIT_EPOCHS, len(split)   # curve row t * E + e: after epoch e (1, 2, ...) of task t; row 0: before training
for j in range(T):
    text = f"task {j}: {curve[j * E + 1, j]:.2f} after its own first epoch -> {R[j, j]:.2f} when learned"
    if j + 1 < T:
        text += f" -> {curve[(j + 1) * E + 1, j]:.2f} after the first epoch of task {j + 1} -> {R[j + 1, j]:.2f} at its end"
    print(text)
print(f"largest accuracy below the diagonal of R (an old task, after any later task): {np.tril(R, -1).max():.2f}")
course.expect(np.tril(R, -1).max() < 0.05, "學完下一個任務之後，舊任務的 accuracy 都是 0", full_only=True)
course.expect(max(curve[row, j] for row in range(1, len(curve)) for j in range((row - 1) // E + 1, T)) < 0.05,
              "還沒訓練到的任務，從第一個 epoch 之後 accuracy 都是 0", full_only=True)
course.expect(all(curve[(j + 1) * E + 1, j] > 0.8 for j in range(T - 1)),
              "新任務的第一個 epoch 之後，上一個任務的 accuracy 還很高", full_only=True)
course.expect(R[2, 2] < curve[3 * E + 1, 2] - 0.03, "task 2 在下一個任務的第一個 epoch 之後反而比剛學完時高",
              full_only=True)

# %% [markdown]
# 學完下一個任務，舊任務的 accuracy 就變成 **0**（accuracy matrix 對角線以下的最大值，最後一行印出 0.00）。
# 但新任務一開始時並沒有立刻歸零：左圖裡，新任務的第一個 epoch 之後，上一個任務的 accuracy 還很高
# （每一行的 after the first epoch of task $j+1$ 那一項；task 2 的這一項甚至比 when learned 那一項還高）。
# 到新任務結束時（第二個 epoch 之後的評估）它已經是 0。
# 我們只在每個 epoch 結束時評估，所以看不到它是在第二個 epoch 的哪一步掉下去的。左圖裡舊任務掉到 0 之後，
# 它們的線都疊在 0 那條水平線上，看起來像只有一條；還沒訓練到的任務（點線）從第一個 epoch 之後也都在 0
# （這裡的 argmax 包括還沒學到的類別，而模型從沒被教過回答它們）。
# 原因：訓練 task $k$ 時只有類別 $2k, 2k+1$ 的資料，cross-entropy 會把其他所有類別
# （包括舊類別）的 logits 往下壓；壓到新類別的 logit 超過舊類別時，舊任務的圖片就全被答成新類別。
# 看看最後的模型對 task 0（數字 0 和 1）與最後一個任務（8 和 9）的測試圖片預測了什麼：

# %%
import torch

fig, axes = plt.subplots(1, 2, figsize=(13, 3))
for task_id, ax in zip((0, len(split) - 1), axes):
    plots.plot_predictions(split_naive, task_id=task_id, ax=ax)
fig.tight_layout()
plt.show()
final, last = R[-1], split[-1]
print(f"final accuracy per task: {', '.join(f'{a:.2f}' for a in final)}")
print(f"final ACC = mean of these = {final.mean():.3f}: the old tasks score {final[:-1].max():.2f} at best, "
      f"so ACC is the last task's {final[-1]:.2f} divided by {len(final)}; "
      f"even a perfect last task gives at most 1/{len(final)} = {1 / len(final):.1f}")
with torch.no_grad():   # the final model's answers on task 0's and the last task's test images
    p0, p_last = (split_naive.model.eval()(t.x_test, t.id).argmax(1) for t in (split[0], last))
eights, nine = last.y_test == last.classes[0], last.classes[1]
print(f"answered {nine}: {int((p0 == nine).sum())} of {len(p0)} task-0 test images, "
      f"{int((p_last[eights] == nine).sum())} of {int(eights.sum())} test {last.classes[0]}s, "
      f"{int((p_last[~eights] == nine).sum())} of {int((~eights).sum())} test {nine}s")
course.expect(final[:-1].max() < 0.05, "class-incremental 中，舊任務的 accuracy 全部掉到 0", full_only=True)
course.expect(abs(final.mean() - final[-1] / len(final)) < 0.02, "ACC 幾乎就是最後一個任務的 accuracy 除以 5",
              full_only=True)
course.expect(final[-1] < 0.8 and (p_last[eights] == nine).float().mean() > 0.5 and (p0 == nine).float().mean() > 0.5
              and (p_last[~eights] == nine).float().mean() > 0.99 and curve[-SPLIT_EPOCHS, -1] < 0.2,
              "最後的模型偏向 9：測試的 9 都答對，大部分的 8 與 task 0 的圖片也被答成 9；最後一個任務的第一個 epoch 之後還很低",
              full_only=True)
course.expect(R[1, 1] < 0.95 and R[2, 2] < 0.95 and R[-1, -1] > curve[-SPLIT_EPOCHS, -1] + 0.2,
              "task 1、2 學完時不到 1；task 4 在最後一個 epoch 才大幅升上來", full_only=True)
course.expect(curve[3 * E + 1, 3] < 0.2 and R[3, 3] > 0.9,
              "task 3 也是第一個 epoch 之後很低，但同樣 2 個 epoch 學完時接近全對", full_only=True)

# %% [markdown]
# 所以 ACC 頂多是 1/5 = 0.2（上一個 cell 印出的上限）：就算最後一個任務全對，前四個任務都是 0。
# 最後一個任務本身也不到 1（final accuracy per task 的最後一個）。預測圖的右半（task 4 的測試圖片）與上面的計數顯示：
# 最後的模型偏向 **9**，測試的 9 都答對（計數的最後一項），大部分的 8 卻也被答成 9；預測圖的左半（task 0）裡，
# 0 和 1 同樣大多被答成 9。

# %% [markdown]
# 是不是因為每個任務只訓練 2 個 epoch，最後一個任務（8 和 9）還沒學完，模型才偏向 9？這個 run 排除不了：
# 1.5 節第一個實驗 cell 印出，task 4 第一個 epoch 之後很低，第二個 epoch 才大幅升上來，學完時仍不到 1
# （那張 accuracy 曲線圖裡，它的線到最後一個評估點還在陡升）；task 1、2 學完時也不到 1。另一方面，task 3（6 和 7）
# 同樣只有 2 個 epoch，學完時卻接近全對。多跑兩個 run 看看：同一個 seed、每個任務多訓練幾個 epoch（`MORE_EPOCHS`），
# 以及換一個 seed（初始權重與樣本順序都不同）、同樣 2 個 epoch。每個 run 印出最後一個任務學完時的 accuracy、ACC，
# 以及最後的模型對**全部** 5 個任務的測試圖片最常答哪一類。

# %%
MORE_EPOCHS = pick(5, 2)
runs = {(0, SPLIT_EPOCHS): split_naive,   # the run above
        (1, SPLIT_EPOCHS): train_stream(split, "naive", epochs=SPLIT_EPOCHS, seed=1, progress=False),
        (0, MORE_EPOCHS): train_stream(split, "naive", epochs=MORE_EPOCHS, progress=False)}
top, share, in_last = {}, {}, {}
for (seed, epochs), r in runs.items():
    with torch.no_grad():   # the final model's answers on the test images of all tasks
        answers = torch.cat([r.model.eval()(t.x_test, t.id).argmax(1) for t in split])
    counts = torch.bincount(answers, minlength=split.n_outputs)
    k = seed, epochs
    top[k], share[k] = int(counts.argmax()), float(counts.max()) / len(answers)
    in_last[k] = float(counts[list(last.classes)].sum()) / len(answers)
    print(f"seed {seed}, {epochs} epochs per task: last task {r.acc_matrix[-1, -1]:.2f} | ACC {r.summary()['acc']:.3f} | "
          f"all {len(answers)} test images: {share[k]:.0%} answered {top[k]}, "
          f"{in_last[k]:.0%} answered {last.classes[0]} or {last.classes[1]}")
base, others = runs[0, SPLIT_EPOCHS], [r for k, r in runs.items() if k != (0, SPLIT_EPOCHS)]
course.expect(all(r.acc_matrix[-1, -1] > base.acc_matrix[-1, -1] + 0.2 and abs(r.summary()["acc"] - 0.2) < 0.03
                  for r in others), "換 seed 或多訓練幾個 epoch，最後一個任務學得好得多，ACC 接近 1/5", full_only=True)
course.expect(min(in_last.values()) > 0.99, "三個 run 的最後模型幾乎只回答最後一個任務的兩個類別", full_only=True)
course.expect(len(set(top.values())) > 1 and share[0, SPLIT_EPOCHS] == max(share.values())
              and max(share.values()) - min(share.values()) > 0.15,
              "最常被答的類別與比例隨 seed 與 epochs 改變；上面那個 run 偏得最重", full_only=True)

# %% [markdown]
# - **換 seed 或多訓練幾個 epoch，最後一個任務都學得好得多**（每一行的 last task 那一項），ACC 也就接近 1/5 的上限。
#   文獻用的訓練量大得多，最後一個任務幾乎全對，naive 在 split MNIST class-IL 的 ACC 大約就是 1/5：Hsu et al. 2018
#   報告 19.7%，van de Ven & Tolias 2018（Generative replay with feedback connections）報告 19.90%。
#   （程序也不完全相同：van de Ven & Tolias 訓練時只用看過的類別，這裡用全部 10 類，見 1.5 節開頭。）
# - 所以上面那個 run（seed 0、2 個 epoch）的最後一個任務那麼低、ACC 比文獻低，取決於 seed 與 epochs，不能當成這個設定的典型結果。
#   同樣 2 個 epoch，換一個 seed 就學得好得多，所以也不能說 2 個 epoch 一定不夠；只有三個 run，說不出它為什麼特別低。
# - 三個 run 的共同點很清楚：最後的模型幾乎只回答最後一個任務的兩個類別（每一行的最後一個百分比）。
#   最常被答的是哪一類、佔多少，則隨 seed 與 epochs 改變，上面那個 run 偏得最重：「偏向 9」是那個 run 的結果，不是通則。

# %% [markdown]
# ## 1.6 同一份資料、同一個方法，三種情境
#
# 上面的結果是 class-incremental 才有的嗎？用**同一份** split MNIST（同樣的圖片、同樣的訓練順序）、**同一個** naive
# 方法，只改變模型的 output head、訓練用的標籤與測試方式（van de Ven & Tolias 2019 的三種情境；以下簡稱 task-IL、
# domain-IL、class-IL，IL 是 incremental learning）：
#
# | 情境 | output | 訓練標籤 | 測試時 | 例子 | 亂猜（chance）的 accuracy |
# |---|---|---|---|---|---|
# | **task-incremental** | 每個任務一個 2 類的 head | 該任務的兩類 | 告訴模型 task id，只在該任務的兩類中選 | 「這張是 {0,1} 的題目，選 0 或 1」 | 1/2 |
# | **domain-incremental** | 一個 2 類的 head | 偶數 / 奇數（每個任務的第一個或第二個數字） | 不給 task id，只問「第一個還是第二個數字」 | 「這是偶數還是奇數？」 | 1/2 |
# | **class-incremental** | 一個 10 類的 head | 數字本身 | 不給 task id，在 10 類中選 | 「這是哪個數字？」 | 1/10 |
#
# 亂猜的水準不同，所以三個 ACC 不能直接比大小。要比，就看每個情境從亂猜走到全對走了多遠：
# (ACC − 亂猜) / (1 − 亂猜)，0 是亂猜的水準，1 是全對（下面印成 `of the way from chance to perfect`）。

# %%
streams = {sc: split if sc == "class" else
           make_stream("split", scenario=sc, train_size=SPLIT_TRAIN, test_size=pick(None, 300), device=device)
           for sc in ("task", "domain", "class")}
scenario_runs = {sc: split_naive if sc == "class" else train_stream(s, "naive", epochs=SPLIT_EPOCHS, progress=False)
                 for sc, s in streams.items()}
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for (sc, r), ax in zip(scenario_runs.items(), axes):
    plots.plot_acc_matrix(r, ax=ax, title=f"{sc}-incremental: ACC {r.summary()['acc']:.2f}")
fig.tight_layout()
plt.show()
acc = {sc: r.summary()["acc"] for sc, r in scenario_runs.items()}
chance = {sc: 1 / s.n_outputs for sc, s in streams.items()}
for sc, r in scenario_runs.items():
    print(f"{sc:>6}-incremental: chance {chance[sc]:.2f} | ACC {acc[sc]:.3f} ({acc[sc] - chance[sc]:+.3f} vs chance) | "
          f"forgetting {r.summary()['forgetting']:.3f} | final per task: {', '.join(f'{a:.2f}' for a in r.acc_matrix[-1])}")
norm = {sc: (acc[sc] - chance[sc]) / (1 - chance[sc]) for sc in acc}
print("of the way from chance to perfect, (ACC - chance) / (1 - chance): "
      + ", ".join(f"{sc}-IL {v:.2f}" for sc, v in norm.items()))
dom = scenario_runs["domain"].acc_matrix[-1]
course.expect(norm["task"] > norm["domain"] > norm["class"], "從亂猜到全對走的比例：task-IL > domain-IL > class-IL")
course.expect(scenario_runs["task"].summary()["forgetting"] < 0.05 and norm["class"] < 0.05,
              "task-IL 的平均 forgetting 很小；class-IL 的 ACC 幾乎就是亂猜的水準", full_only=True)
course.expect(all(abs(a - 0.5) < 0.05 for a in dom[:2]) and dom[2] < 0.2 and dom[3] > 0.9
              and norm["domain"] < 0.35,
              "domain-IL 只走了一小段：task 0、1 落在亂猜附近，task 2 低於亂猜（不到兩成），task 3 仍然很高",
              full_only=True)

# %% [markdown]
# - **task-incremental**（task-IL，亂猜 1/2）：每個任務有自己的 head，測試時又知道 task id，學新任務時只有新任務的 head
#   與共用的 hidden layers 被更新，舊任務的 head 不會被改動。ACC 遠高於亂猜，平均 forgetting 很小（上面第一行）。
# - **domain-incremental**（domain-IL，亂猜 1/2）：所有任務共用一個 2 類的 head，新任務會改掉「偶數 / 奇數」的判斷方式。
#   從亂猜到全對只走了一小段；看最後一列：task 0、1 落在亂猜的 1/2 附近，也就是 accuracy 等於亂猜的水準（這不一定表示
#   學過的東西全沒了：第 9 章的 9.4 節問「忘掉的還剩多少」，在 permuted MNIST 上只用少量舊任務的圖片重新訓練來量）；
#   task 2 甚至**低於**亂猜，2 類中答對的不到兩成，表示它的圖片大多被系統性地答反了；只有 task 3（緊接在最後一個任務之前）還保得住。
# - **class-incremental**（class-IL，亂猜 1/10）：舊類別直接歸零，ACC 幾乎就是亂猜的水準，全靠最後一個任務。在這三個情境中
#   它最難：不知道 task id，模型要在全部 10 類中選一個（1.5 節說明了這個選擇）。

# %% [markdown]
# 只看 ACC 的大小，會以為 domain-IL 還保有六成：和它亂猜的 1/2 比，只往全對走了一小段，四個舊任務中有三個落在亂猜附近或更低。
#
# 後面的章節會一再看到：同一個方法在三種情境中的表現可以完全不同，所以報告結果時一定要說是哪一種情境。

# %% [markdown]
# ## 小結
#
# - 同一組參數依序學多個任務時，新任務的 gradient 會覆寫舊任務需要的權重：catastrophic forgetting。
# - 在本章試的範圍內，改 learning rate 比改 epochs 對遺忘的影響大得多；lr 小忘得少，但在同樣的 epochs 內也學得少。
# - Permuted MNIST（domain-incremental）中舊任務逐漸變差；split MNIST 的 class-incremental 中舊類別直接歸零，
#   ACC 最多是 1/5 = 0.2。同一份 split MNIST 在 task-incremental 情境的平均 forgetting 很小，在 domain-incremental 情境中
#   舊任務大多落到亂猜附近或更低。比較不同情境的 ACC 時，要先看各自亂猜的水準。
# - 下一章定義如何**量化**遺忘：accuracy matrix、ACC、forgetting、BWT、FWT。之後的章節介紹三大類解法：
#   regularization（EWC、SI、MAS、LwF）、replay（experience replay、A-GEM、generative replay）、
#   architecture（Progressive Networks、PackNet，以及每個任務一個 LoRA adapter）。

# %% [markdown]
# ## 延伸閱讀
#
# 遺忘現象與三種情境：
# - I. J. Goodfellow, M. Mirza, D. Xiao, A. Courville, Y. Bengio. An empirical investigation of catastrophic forgetting
#   in gradient-based neural networks. [arXiv:1312.6211](https://arxiv.org/abs/1312.6211), 2013.
# - G. M. van de Ven, A. S. Tolias. Three scenarios for continual learning.
#   [arXiv:1904.07734](https://arxiv.org/abs/1904.07734), 2019.（三種情境）
# - G. M. van de Ven, T. Tuytelaars, A. S. Tolias. Three types of incremental learning. *Nature Machine Intelligence*,
#   2022.（同一套三種情境的期刊版）

# %% [markdown]
# 1.5 節引用的 split MNIST class-IL 數字，以及一篇綜述：
# - G. M. van de Ven, A. S. Tolias. Generative replay with feedback connections as a general strategy for continual
#   learning. [arXiv:1809.10635](https://arxiv.org/abs/1809.10635), 2018.
# - Y.-C. Hsu, Y.-C. Liu, A. Ramasamy, Z. Kira. Re-evaluating continual learning scenarios: a categorization and case for
#   strong baselines. [arXiv:1810.12488](https://arxiv.org/abs/1810.12488), 2018.
# - M. De Lange et al. A continual learning survey: defying forgetting in classification tasks.
#   [arXiv:1909.08383](https://arxiv.org/abs/1909.08383), 2019（*IEEE TPAMI* 2021）。

# %% [markdown]
# 李宏毅老師的課程與作業：
# - 機器學習 2021 春，「Life-long Learning」（終身學習）兩講：[課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)、
#   [影片播放清單](https://www.youtube.com/playlist?list=PLJV_el3uVTsMhtt7_Y6sgTHGHp1Vb2P2J)。
# - [ML 2022 春 HW14](https://speech.ee.ntu.edu.tw/~hylee/ml/2022-spring.php)（lifelong learning）：在 rotated MNIST
#   （每個任務把圖片轉一個不同的角度）上比較 EWC、MAS、SI、RWalk、SCP。
# - [NTU ML 2025 春 HW6](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php)，同一份作業也是
#   [GenAI-ML 2025 秋 HW8](https://speech.ee.ntu.edu.tw/~hylee/GenAI-ML/2025-fall.php)：用 LoRA 在 GSM8K 上 fine-tune
#   Llama-3.2-1B-Instruct，成績同時看 GSM8K 的 accuracy 與 safety rate（由一個 guard model 判斷每個回答是否安全）。
#   學會新任務（數學題）、又不能忘掉原本的行為（安全），正是這一章的遺忘問題；第 8 章回到這份作業。

# %%
course.run_time()
