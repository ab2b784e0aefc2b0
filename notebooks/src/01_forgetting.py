# %% [markdown]
# # 第 1 章：災難性遺忘 (Catastrophic Forgetting)
#
# 一個神經網路先學會 task A，再學 task B，常常就把 task A 忘得一乾二淨。這個現象叫做
# **catastrophic forgetting**（災難性遺忘），是 continual learning（持續學習 / lifelong learning）要解決的核心問題。
#
# 這一章我們會：
# 1. 理解為什麼會遺忘：shared parameters、interference、distribution shift；
# 2. 在 **permuted MNIST** 上現場看著舊任務的 accuracy 掉下來（同一條 global step 軸，畫出 task boundaries）；
# 3. 在 **split MNIST（class-incremental）** 上看到更極端的情況：舊的類別 accuracy 直接掉到 0%；
# 4. 用 slider 改 epochs 與 learning rate，觀察「學得越多，忘得越多」。
#
# ⏱️ 執行時間（full mode，實測）：2-core CPU 約 8 秒（課程的 MNIST 子集：6,309 張訓練圖）；下載完整 MNIST 後，split MNIST 每個任務的資料約多 10 倍，這部分會久幾倍。本次沒有 GPU 可測；模型很小，GPU 主要省下 split MNIST 的時間。

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
naive = train_stream(stream, "naive", epochs=pick(3, 1))
plots.plot_run(naive)
plt.show()
print(f"task 0: {naive.acc_matrix[0, 0]:.3f} right after learning it -> {naive.acc_matrix[-1, 0]:.3f} at the end")

# %% [markdown]
# 左圖的橫軸是 global step（所有任務加起來的 mini-batch 數），灰色虛線是 task boundaries。
# 每條線是一個任務的 test accuracy：點線是「還沒訓練到它」的時期。
# 看 task 0（藍線）：學完時接近 90%，之後每學一個新任務就往下掉。右圖是 accuracy matrix $R_{i,j}$：
# 學完 task $i$ 之後在 task $j$ 上的 accuracy；對角線以下（舊任務）的數字逐列變小，就是遺忘。
#
# ## 1.3 動手試試：epochs 與 learning rate
#
# 拖動 slider（放開滑鼠才會重新訓練）。觀察：每個任務訓練越久（epochs 越多）或 learning rate 越大，
# 新任務學得越好，舊任務通常忘得越多，這就是 **stability–plasticity dilemma**。
# 每個設定的結果會被 cache，回到看過的設定會立刻顯示。

# %%
from cl_helpers.teaching.widgets import explore, epochs_slider, log_slider

def run(epochs, lr, report):   # report(done, total) drives the slider's progress bar
    return train_stream(stream, "naive", epochs=epochs, lr=lr, progress=False, report=report)

def show(r):
    s = r.summary()
    text = (f"epochs = {r.config['epochs']} | lr = {r.config['lr']:.0e} | ACC {s['acc']:.3f} | "
            f"forgetting {s['forgetting']:.3f} | task 0: {r.acc_matrix[0, 0]:.2f} -> {r.acc_matrix[-1, 0]:.2f}")
    return plots.plot_run(r), text

explore(run, show, epochs=epochs_slider(pick(3, 1), 1, 10),
        lr=log_slider("learning rate", 1e-3, 1e-4, 1e-2))

# %% [markdown]
# ## 1.4 Split MNIST，class-incremental：舊類別掉到 0%
#
# 把 10 個數字切成 5 個任務：{0,1}, {2,3}, {4,5}, {6,7}, {8,9}。在 **class-incremental** 情境中，
# 模型只有一個 10 類的 output head，測試時**不知道**圖片屬於哪個任務，必須在 10 類中選一個。
# （van de Ven & Tolias 把 continual learning 分成三種情境：task-incremental 測試時知道 task id；
# domain-incremental 標籤空間不變但輸入分布改變，例如 permuted MNIST；class-incremental 則要不斷加入新類別。）

# %%
split = make_stream("split", scenario="class", train_size=pick(None, 600), test_size=pick(None, 300),
                    device=device)
print(split)
split_naive = train_stream(split, "naive", epochs=pick(2, 1))
plots.plot_run(split_naive)
plt.show()

# %% [markdown]
# 每學完一個任務，舊任務的 accuracy 幾乎立刻變成 **0**（accuracy matrix 的下三角全是 0.00）。
# 原因：訓練 task $k$ 時只有類別 $2k, 2k+1$ 的資料，cross-entropy 會把其他所有類別（包括舊類別）的 logits 往下壓。
# 最後模型對任何圖片都只會回答 8 或 9。看看它對 task 0（數字 0 和 1）的測試圖片預測了什麼：

# %%
plots.plot_predictions(split_naive, task_id=0)
plt.show()
print(f"final ACC = {split_naive.summary()['acc']:.3f}  (chance for 10 classes: 0.10; only the last task is right)")

# %% [markdown]
# ## 小結
#
# - 同一組參數依序學多個任務時，新任務的 gradient 會覆寫舊任務需要的權重：catastrophic forgetting。
# - Domain-incremental（permuted MNIST）中舊任務逐漸變差；class-incremental（split MNIST）中舊類別直接歸零，
#   最後的 ACC 約為 1/5 ≈ 20%。
# - 下一章定義如何**量化**遺忘：accuracy matrix、ACC、forgetting、BWT、FWT。之後的章節介紹三大類解法：
#   regularization（EWC、SI）、replay、architecture（LoRA adapters）。
