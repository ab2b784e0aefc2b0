# %% [markdown]
# # 第 1 章：災難性遺忘 (Catastrophic Forgetting)
#
# 一個神經網路先學會 task A，再學 task B，常常就把 task A 忘得一乾二淨。這個現象叫做
# **catastrophic forgetting**（災難性遺忘），是 continual learning（持續學習 / lifelong learning）要解決的核心問題。
#
# **這一章你會學到：**
# 1. 為什麼會遺忘：shared parameters、interference、distribution shift；
# 2. 在 **permuted MNIST** 上現場看著舊任務的 accuracy 掉下來（同一條 global step 軸，畫出 task boundaries）；
# 3. learning rate 與 epochs 各自對遺忘有多大的影響（實測，再用 slider 自己試）；
# 4. 在 **split MNIST（class-incremental）** 上看到更極端的情況：舊的類別 accuracy 直接掉到 0%；
# 5. 三種情境（task-、domain-、class-incremental）：**同一份資料、同一個方法**，只換測試方式，結果天差地遠。
#
# 資料：每個實驗都只取 MNIST 訓練集**最前面**的 N 張圖（permuted MNIST 5,000 張；split MNIST 每兩個數字 1,100 張），
# 所以不論你用課程附的 MNIST 子集（前 6,309 張）還是下載完整的 MNIST，看到的數字都和這裡存下來的一樣。
#
# ⏱️ 執行時間（full mode，實測）：2-core CPU 約 29 秒。本次沒有 GPU 可測；模型很小，CPU 就夠了。

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
#   當兩個任務的 gradient 互相衝突（內積為負），學 B 就等於「反著學」A。
# - **Distribution shift**：輸入分布 $p(x)$ 或標籤分布 $p(y)$ 在任務之間改變，而模型只會去 fit 當下看到的資料。
#
# 人類學會騎腳踏車後再學游泳，不會忘記騎車；但一個標準的神經網路會。接下來用實驗看看有多嚴重。

# %% [markdown]
# ### 在參數空間裡看 interference：只有兩個權重的模型
#
# 把「對 A 重要的權重被 B 的 gradient 推走」真的畫出來。模型只有兩個權重 $w = (w_1, w_2)$：logistic regression
# $p(y = 1 \mid x) = \sigma(w_1 x_1 + w_2 x_2)$。兩個人造的任務：task A 的輸入主要沿 $x_1$ 變化，task B 主要沿 $x_2$，
# 標籤由不同的「真實權重」產生。`cl_helpers.teaching.playground` 在整個 $(w_1, w_2)$ 平面上算出每個任務真正的
# loss（等高線）、各自的最佳點（星號），以及從 A 的最佳點出發、**只用 B 的 loss** 做 gradient descent 的真實路徑。

# %%
from cl_helpers.teaching.quiz import ask

ask("從 task A 的最佳點出發，只用 task B 的資料做 gradient descent。走完之後，task A 的 loss 會怎樣？",
    ["幾乎不變：A 的最佳點附近本來就很平", "明顯上升：B 的 gradient 把權重推離 A 的最佳點",
     "下降：多訓練總是有幫助"],
    answer=1, key="ch1-playground",
    explain="gradient descent 只看得到 B 的 loss。A 的最佳點對 B 來說很差，B 的 gradient 把權重一路推向 B 的最佳點，"
            "完全不管 A 的 loss 沿路變成多少。下一個 cell 畫出真實的路徑與兩個 loss。")

# %%
from cl_helpers.teaching.playground import make_playground, train_path, losses_at
from cl_helpers.plots import plot_interference

pg = make_playground(seed=0)
path = train_path(pg, steps=1000)          # full-batch gradient descent on B, from A's optimum
plot_interference(pg, path)
plt.show()
loss_A, loss_B = losses_at(path, pg.A), losses_at(path, pg.B)
print(f"loss on A: {loss_A[0]:.3f} at A's optimum -> {loss_A[-1]:.3f} after {len(path) - 1} steps on B")
print(f"loss on B: {loss_B[0]:.3f} -> {loss_B[50]:.3f} after 50 steps -> {loss_B[-1]:.3f}")
course.expect(loss_A[-1] > loss_A[0] + 0.5, "只訓練 B，A 的 loss 明顯上升")
course.expect(loss_B[0] - loss_B[50] > 0.9 * (loss_B[0] - loss_B[-1]) and
              loss_A[-1] - loss_A[50] > 0.5 * (loss_A[-1] - loss_A[0]),
              "B 的 loss 在前 50 步就幾乎降完，A 的 loss 大部分是在那之後才上升的")

# %% [markdown]
# 路徑先沿著 $w_2$ 往下走（B 的 loss 在這個方向很陡，前 50 步就幾乎降完），接著慢慢沿著 $w_1$ 往左移：
# 對 B 來說這個方向幾乎是平的，多走只省下一點點 loss；但對 A 來說 $w_1$ 正是最陡的方向，A 的 loss 大部分是在這一段
# 才升上去的。B 用「對自己幾乎沒好處」的一步，毀掉了 A。如果有人告訴 gradient descent「$w_1$ 對 A 很重要，別動它」，
# 停在 $w_1$ 不動、只調 $w_2$ 的那一點對兩個任務都不錯。第 3 章的 EWC 正是這麼做的，我們會回到這張圖。

# %% [markdown]
# ## 1.2 Permuted MNIST：同樣的數字、不同的像素排列
#
# 每個 task 用一個固定的隨機 permutation 打亂 28×28 = 784 個像素（task 0 不打亂）。
# 對人眼來說後面的任務是雜訊，但對 MLP 而言每個任務一樣難，標籤也一樣是 0–9（domain-incremental）。
# 注意：permutation 在建立 task 時**只套用一次**到整個 tensor，而不是每個 batch 重抽。

# %%
stream = make_stream("permuted", n_tasks=3, train_size=pick(5000, 1000), test_size=pick(1000, 500),
                     seed=0, device=device)
print(stream)
plots.plot_task_examples(stream, n=6)
plt.show()

# %% [markdown]
# 模型是課程 notebook 的 MLP：784-256-256-10，Adam (lr = 1e-3)，batch 128，每個任務 3 epochs，
# 每個任務開始時重新建立 Adam。每個 epoch 結束時，我們在**所有**任務（包括還沒學的）的 test set 上評估。

# %%
ask("依序學完 task 1、task 2 之後，task 0 的 test accuracy 會在哪裡？",
    ["和剛學完時差不多：三個任務的像素排列不同，互不干擾", "明顯下降，但仍遠高於亂猜的 0.1",
     "掉到亂猜的 0.1 左右"],
    answer=1, key="ch1-task0",
    explain="三個任務共用同一組權重，後面的任務會改掉 task 0 用到的權重，所以 task 0 明顯變差；"
            "但兩層 hidden layer 有 256 個 unit，新任務也用到很多原本對 task 0 不重要的權重，所以不會掉到亂猜。"
            "下一個 cell 印出真正的數字。")

# %%
EPOCHS = pick(3, 1)
naive = train_stream(stream, "naive", epochs=EPOCHS)
plots.plot_run(naive)
plt.show()
print(f"task 0: {naive.acc_matrix[0, 0]:.3f} right after learning it -> {naive.acc_matrix[-1, 0]:.3f} at the end")

# %% [markdown]
# 左圖的橫軸是 global step（所有任務加起來的 mini-batch 數），灰色虛線是 task boundaries。
# 每條線是一個任務的 test accuracy：點線是「還沒訓練到它」的時期。
# 看 task 0（藍線）：剛學完時最高，之後每學一個新任務就往下掉（上面印出的兩個數字）。右圖是 accuracy matrix $R_{i,j}$：
# 學完 task $i$ 之後在 task $j$ 上的 accuracy；對角線以下（舊任務）的數字逐列變小，就是遺忘。

# %%
course.expect(naive.acc_matrix[-1, 0] < naive.acc_matrix[0, 0] - 0.05,
              "task 0 的 accuracy 在學完後面的任務之後明顯下降")

# %%
course.expect(naive.acc_matrix[-1, 0] > 0.3, "task 0 掉了不少，但仍遠高於亂猜的 0.1")

# %% [markdown]
# ## 練習 1.1：自己寫 training loop
#
# 上面的 `train_stream(stream, "naive", ...)` 裡面到底做了什麼？自己寫一次。完成
# `train_task(model, task, epochs, batch_size, lr, gen)`：用 mini-batches 在**一個**任務上訓練 `model`，
# 做法和 `train_stream` 完全一樣：
# - 每個任務建立一個 `torch.optim.Adam(model.parameters(), lr=lr)`（課程 notebook 的做法：每個任務重新建立 Adam）；
# - `model` 交給你時是 eval mode（就像剛評估完），要先呼叫 `model.train()`；
# - 每個 epoch 用 `order = torch.randperm(n, generator=gen, device=gen.device)` 打亂一次，再依序切成每組
#   `batch_size` 個（最後一組可以比較小）；
# - 每個 mini-batch：`zero_grad`、forward `model(x, task.id)`、`F.cross_entropy`、`backward`、`step`。
#
# 檢查器在 3 個 permuted MNIST 任務（每個 1,000 張訓練圖）上，用同一個 seed 跑你的 loop 與 `train_stream`，
# 比較兩個 accuracy matrix（容許差距 0.02）與最後的權重（容許最大權重的 0.1%，也就是浮點誤差），
# 並在訓練時觀察：有沒有 zero_grad、是不是 train mode、每個任務幾個 optimizer、每個 epoch 是不是所有樣本的一個排列。
# 卡住了？`loop_exercise.hint(1)`。沒寫完也沒關係，後面會用參考答案。

# %% tags=["exercise"]
import torch
import torch.nn.functional as F

def train_task(model, task, epochs, batch_size, lr, gen):
    """Train `model` on one task with Adam and shuffled mini-batches, exactly as train_stream does."""
    # BEGIN SOLUTION: Exercise 1.1: the training loop (try loop_exercise.hint(1))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
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
from cl_helpers.teaching.exercises.ch01_loop import loop_exercise

my_train_task = loop_exercise.check(train_task)

# %% [markdown]
# 檢查器會指出常見錯誤：忘了 `zero_grad`（PyTorch 會把 gradient **累加**到 `.grad`）、沒切回 train mode、
# 每個 batch 重抽一次 permutation（有些樣本一個 epoch 出現兩次、有些沒出現）、每個 batch 或每個 epoch 都建立新的
# optimizer（Adam 的移動平均一直重來）、丟掉最後一個比較小的 batch。
#
# ### 你的 loop 與 engine：每個 hook 在哪裡
#
# `train_stream` 就是這個 loop，再加上在固定位置呼叫 strategy 的 hook（`cl_helpers/strategies/base.py`）。
# 後面每個方法都只是在其中幾個位置多做一點事：
#
# ```python
# optimizer = torch.optim.Adam(model.parameters(), lr=lr)   # engine: make_optimizer(strategy.parameters_to_train(model))
# model.train()                                             # strategy.before_task(model, task, stream)
# for epoch in range(epochs):                               # data: strategy.training_data(stream, t)  (joint: all tasks so far)
#     order = torch.randperm(n, generator=gen, device=gen.device)
#     for start in range(0, n, batch_size):
#         idx = order[start:start + batch_size]
#         x, y = task.x_train[idx], task.y_train[idx]       # strategy.make_batch(...)  <- replay appends memory (ch. 5)
#         optimizer.zero_grad()
#         loss = F.cross_entropy(model(x, task.id), y)      # strategy.forward / strategy.loss  <- LwF adds distillation
#         loss.backward()                                   # strategy.after_task_backward(model)  <- SI reads the task gradient (ch. 6)
#                                                           # strategy.penalty(model).backward()   <- EWC (ch. 3), SI, MAS
#                                                           # strategy.after_backward(model)       <- A-GEM projects the gradient (ch. 5)
#         optimizer.step()                                  # strategy.after_step(model)           <- SI's path integral (ch. 6)
# # after the epochs:                                       # strategy.after_task(model, task, stream)  <- EWC's Fisher, SI's Omega, replay's buffer
# ```
#
# 用你的 loop（或參考答案）重跑上面的 naive 實驗：同一條 stream、同樣的 MLP 784-256-256-10、同一個 seed。

# %%
from cl_helpers.teaching.exercises.loop import LoopSettings, play_loop

mine = play_loop(my_train_task, stream, LoopSettings(epochs=EPOCHS, hidden=(256, 256)), watch=False)
print("your loop:\n", mine.acc_matrix.round(3), "\ntrain_stream:\n", naive.acc_matrix.round(3))
gap = abs(mine.acc_matrix - naive.acc_matrix).max()
print(f"largest difference: {gap:.4f}")
course.expect(gap <= 0.05, "你的 loop 與 train_stream 的 accuracy matrix 只差浮點誤差累積的幾個百分點")

# %% [markdown]
# 兩個 matrix 幾乎一樣。剩下的一點差距（上面印出的 largest difference）來自 Adam 的實作：`train_stream` 用 fused
# kernel（`torch.optim.Adam(..., fused=True)`，一次更新所有參數，比較快），你的 `torch.optim.Adam` 用預設的實作。
# 兩者的數學相同，只是浮點捨入不同；幾百步之後，小小的捨入差異就累積成看得見的差距。檢查器的小 stream 只有 48 步，
# 所以它要求 accuracy matrix 的差距不超過 0.02、最後的權重只差浮點誤差；用 `fused=True` 的 loop 則和 `train_stream`
# 逐位元相同（`tests/test_loop_exercises.py` 有測）。

# %% [markdown]
# ## 1.3 Learning rate 與 epochs：哪一個讓模型忘得更多？
#
# 直覺上「學得越多，忘得越多」。實際量一量：同一條 stream，只改 learning rate，或只改每個任務的 epochs。
# （forgetting：每個舊任務「曾經最好的 accuracy − 最後的 accuracy」的平均，第 2 章會正式定義。）

# %%
def forgetting(r):   # average forgetting of a run
    return r.summary()["forgetting"]

by_lr = {lr: naive if lr == 1e-3 else train_stream(stream, "naive", epochs=EPOCHS, lr=lr, progress=False)
         for lr in (1e-4, 1e-3, 1e-2)}
by_epochs = {e: naive if e == EPOCHS else train_stream(stream, "naive", epochs=e, progress=False)
             for e in pick((1, 3, 5, 10), (1, 2))}
for lr, r in by_lr.items():
    print(f"lr = {lr:.0e}, {EPOCHS} epochs: forgetting {forgetting(r):.3f}")
for e, r in by_epochs.items():
    print(f"lr = 1e-03, {e:>2} epochs: forgetting {forgetting(r):.3f}")
lr_effect = forgetting(by_lr[1e-2]) - forgetting(by_lr[1e-4])
epochs_spread = max(map(forgetting, by_epochs.values())) - min(map(forgetting, by_epochs.values()))
course.expect(lr_effect > 0, "learning rate 越大，舊任務忘得越多")
course.expect(epochs_spread < lr_effect, "epochs 對遺忘的影響比 learning rate 小得多")

# %% [markdown]
# - **Learning rate 越大，忘得越多**：每一步把權重推得越遠，離舊任務的解也越遠。
# - **Epochs 的影響小得多，而且不一定單調**：多訓練幾個 epoch，舊任務自己也學得更牢（剛學完時的 accuracy 更高），
#   學新任務時掉的幅度則差不多；數字會隨 seed 上下跳動幾個百分點。所以第 4 章用 5 個 epochs 的 run，
#   遺忘並沒有比這裡的 3 個 epochs 多。
#
# 這就是 **stability–plasticity dilemma** 的第一個例子：learning rate 大，新任務學得快（plasticity），舊任務也忘得快
# （stability 差）。
#
# ## 1.4 動手試試：epochs 與 learning rate
#
# 拖動 slider（放開滑鼠才會重新訓練）。slider 一開始是 lr = 1e-2（上面那張圖是 1e-3），試著把它拉回 1e-4，
# 看 task 0 的曲線掉得多慢。每個設定的結果會被 cache，回到看過的設定會立刻顯示。

# %%
from cl_helpers.teaching.widgets import explore, epochs_slider, log_slider

def run(epochs, lr, report):   # report(done, total) drives the slider's progress bar
    return train_stream(stream, "naive", epochs=epochs, lr=lr, progress=False, report=report)

def show(r):
    s = r.summary()
    text = (f"epochs = {r.config['epochs']} | lr = {r.config['lr']:.0e} | ACC {s['acc']:.3f} | "
            f"forgetting {s['forgetting']:.3f} | task 0: {r.acc_matrix[0, 0]:.2f} -> {r.acc_matrix[-1, 0]:.2f}")
    return plots.plot_run(r), text

explore(run, show, epochs=epochs_slider(EPOCHS, 1, 10),
        lr=log_slider("learning rate", 1e-2, 1e-4, 1e-2))

# %% [markdown]
# ## 1.5 Split MNIST，class-incremental：舊類別掉到 0%
#
# 把 10 個數字切成 5 個任務：{0,1}, {2,3}, {4,5}, {6,7}, {8,9}。在 **class-incremental** 情境中，
# 模型只有一個 10 類的 output head，測試時**不知道**圖片屬於哪個任務，必須在 10 類中選一個。
# （van de Ven & Tolias 把 continual learning 分成三種情境：task-incremental 測試時知道 task id；
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
split_naive = train_stream(split, "naive", epochs=pick(2, 1))
plots.plot_run(split_naive)
plt.show()

# %% [markdown]
# 每學完一個任務，舊任務的 accuracy 幾乎立刻變成 **0**（accuracy matrix 的下三角全是 0.00）。
# 原因：訓練 task $k$ 時只有類別 $2k, 2k+1$ 的資料，cross-entropy 會把其他所有類別（包括舊類別）的 logits 往下壓。
# 最後模型對任何圖片都只會回答最後學的類別。看看它對 task 0（數字 0 和 1）的測試圖片預測了什麼：

# %%
plots.plot_predictions(split_naive, task_id=0)
plt.show()
final = split_naive.acc_matrix[-1]
print(f"final accuracy per task: {', '.join(f'{a:.2f}' for a in final)}")
print(f"final ACC = mean of these = {final.mean():.3f}: the old tasks score {final[:-1].max():.2f} at best, "
      f"so ACC is the last task's {final[-1]:.2f} divided by {len(final)}")
course.expect(final[:-1].max() < 0.05, "class-incremental 中，舊任務的 accuracy 全部掉到 0")
course.expect(abs(final.mean() - final[-1] / len(final)) < 0.02, "ACC 幾乎就是最後一個任務的 accuracy 除以 5")

# %% [markdown]
# 所以 ACC 頂多約 1/5 = 0.2：就算最後一個任務全對，前四個任務都是 0。最後一個任務本身也可能不到 1
# （上面印出的最後一個數字）：每個任務只訓練了十幾個 mini-batch，前一個任務的類別還沒完全被壓下去。
#
# ## 1.6 同一份資料、同一個方法，三種情境
#
# 上面的結果是 class-incremental 才有的嗎？用**同一份** split MNIST（同樣的圖片、同樣的訓練順序）、**同一個** naive
# 方法，只改變模型的 output 與測試方式（van de Ven & Tolias 2019 的三種情境）：
#
# | 情境 | output | 測試時 | 例子 |
# |---|---|---|---|
# | **task-incremental** | 每個任務一個 2 類的 head | 告訴模型 task id，只在該任務的兩類中選 | 「這張是 {0,1} 的題目，選 0 或 1」 |
# | **domain-incremental** | 一個 2 類的 head（偶數 / 奇數） | 不給 task id，只問「第一個還是第二個數字」 | 「這是偶數還是奇數？」 |
# | **class-incremental** | 一個 10 類的 head | 不給 task id，在 10 類中選 | 「這是哪個數字？」 |

# %%
scenario_runs = {sc: split_naive if sc == "class" else
                 train_stream(make_stream("split", scenario=sc, train_size=SPLIT_TRAIN, test_size=pick(None, 300),
                                          device=device), "naive", epochs=pick(2, 1), progress=False)
                 for sc in ("task", "domain", "class")}
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for (sc, r), ax in zip(scenario_runs.items(), axes):
    plots.plot_acc_matrix(r, ax=ax, title=f"{sc}-incremental: ACC {r.summary()['acc']:.2f}")
fig.tight_layout()
plt.show()
acc = {sc: r.summary()["acc"] for sc, r in scenario_runs.items()}
print("  ".join(f"{sc}-incremental ACC {a:.3f}" for sc, a in acc.items()))
course.expect(acc["task"] > acc["domain"] > acc["class"], "同一個 naive 方法：task-IL > domain-IL > class-IL")

# %% [markdown]
# - **Task-incremental**：每個任務有自己的 head，測試時又知道 task id，新任務幾乎不會干擾舊任務的「答案格式」，遺忘很少。
# - **Domain-incremental**：所有任務共用一個 2 類的 head，新任務會改掉「偶數 / 奇數」的判斷方式，舊任務掉了不少，但不會歸零。
# - **Class-incremental**：舊類別直接歸零。這是最難、也最接近真實應用（模型要自己分辨所有看過的類別）的情境。
#
# 後面的章節會一再看到：同一個方法在三種情境中的表現可以完全不同，所以報告結果時一定要說是哪一種情境。

# %% [markdown]
# ## 小結
#
# - 同一組參數依序學多個任務時，新任務的 gradient 會覆寫舊任務需要的權重：catastrophic forgetting。
# - Learning rate 對遺忘的影響比 epochs 大得多。
# - Domain-incremental（permuted MNIST）中舊任務逐漸變差；class-incremental（split MNIST）中舊類別直接歸零，
#   最後的 ACC 最多是 1/5 = 0.2（只剩最後一個任務有分數）。同一份資料在 task-incremental 情境幾乎不遺忘。
# - 下一章定義如何**量化**遺忘：accuracy matrix、ACC、forgetting、BWT、FWT。之後的章節介紹三大類解法：
#   regularization（EWC、SI）、replay、architecture（LoRA adapters）。
#
# ## 延伸閱讀
#
# - I. J. Goodfellow, M. Mirza, D. Xiao, A. Courville, Y. Bengio. An empirical investigation of catastrophic forgetting
#   in gradient-based neural networks. [arXiv:1312.6211](https://arxiv.org/abs/1312.6211), 2013.
# - G. M. van de Ven, A. S. Tolias. Three scenarios for continual learning.
#   [arXiv:1904.07734](https://arxiv.org/abs/1904.07734), 2019.（三種情境）
# - Y.-C. Hsu, Y.-C. Liu, A. Ramasamy, Z. Kira. Re-evaluating continual learning scenarios: a categorization and case for
#   strong baselines. [arXiv:1810.12488](https://arxiv.org/abs/1810.12488), 2018.
# - M. De Lange et al. A continual learning survey: defying forgetting in classification tasks.
#   [arXiv:1909.08383](https://arxiv.org/abs/1909.08383), 2019（*IEEE TPAMI* 2021）。
# - 李宏毅，機器學習 2021 春，Life-long Learning（終身學習）兩講：[課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)、
#   [影片播放清單](https://www.youtube.com/playlist?list=PLJV_el3uVTsMhtt7_Y6sgTHGHp1Vb2P2J)。
# - 作業：[ML 2022 春 HW14](https://speech.ee.ntu.edu.tw/~hylee/ml/2022-spring.php)（life-long learning，rotated MNIST 上的
#   EWC、MAS、SI）；[ML 2025 春 HW6](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php)（微調 LLM 後的遺忘）。
