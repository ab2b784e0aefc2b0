# %% [markdown]
# # 第 3 章：EWC (Elastic Weight Consolidation)
#
# 第 1 章看到：學新任務時，gradient descent 完全不知道哪些權重對舊任務重要，於是把它們一起改掉。
# **EWC**（Kirkpatrick et al. 2017）的想法：先估計每個參數對舊任務有多重要，學新任務時用一條「彈簧」把重要的參數
# 拉回舊的值，不重要的參數則可以自由移動。**這一章你會學到：**
# 1. EWC 的 loss 與它的 Bayesian 由來（Laplace approximation：Fisher 就是 precision）；
# 2. **Fisher information**：定義、畫成 28×28 的「重要性地圖」、比較四種常見的 Fisher（exact / sampled / empirical / argmax）；
# 3. 練習：自己寫 EWC penalty 與 empirical Fisher（有自動檢查）；
# 4. 在 permuted MNIST 上比較 EWC 與 naive fine-tuning；
# 5. 實測 $\lambda$ 要多大、$\lambda$ 太大時發生什麼事，以及為什麼文獻中的 $\lambda$ 從 1 到 $10^{10}$ 都有；
# 6. **Online EWC**：任務變多時只保留一個累積的 Fisher；
# 7. 用 slider 調 $\lambda$ 與 epochs。
#
# 資料：permuted MNIST 取訓練集最前面的 5,000 張圖，課程附的 MNIST 子集（前 6,309 張）與完整 MNIST 結果相同。
#
# ⏱️ 執行時間（full mode，實測）：2-core CPU 約 50 秒。本次沒有 GPU 可測；模型很小，CPU 就夠了。

# %%
# 環境設定 / Setup：同一個 cell 在 JupyterLab 與 Colab 都能用。
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install cl_helpers from the course repository (torch/ipywidgets untouched)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/__REPO__"], check=True)

import time
import torch
import matplotlib.pyplot as plt
from cl_helpers import course, make_stream, train_stream, get_strategy, plots, format_table
from cl_helpers.teaching.course import pick

device = course.setup(seed=0)

# %% [markdown]
# ## 3.1 EWC 的 loss
#
# 學完 task A 得到參數 $\theta^*$（= $\theta^*_A$），接著學 task B 時，EWC 最小化
#
# $$\mathcal{L}(\theta) = \mathcal{L}_B(\theta) + \frac{\lambda}{2} \sum_i F_i \,(\theta_i - \theta^*_i)^2$$
#
# - $\mathcal{L}_B$：task B 的 cross-entropy（對 mini-batch 取平均）。
# - $F_i \ge 0$：參數 $i$ 對 task A 的重要性（Fisher information 的對角線，下一節定義）。
# - 每個參數都被一條彈力常數 $\lambda F_i$ 的彈簧拉向 $\theta^*_i$：$F_i$ 大的參數幾乎不能動，$F_i \approx 0$ 的參數可以自由地拿來學 B。
# - $\lambda$：整體強度，在 stability（不忘記 A）與 plasticity（學得會 B）之間取捨。

# %% [markdown]
# ### 為什麼是這個形式？(1) Bayesian 的看法
#
# 依序看到資料 $D_A$、$D_B$，參數的 posterior 是
#
# $$\log p(\theta \mid D_A, D_B) = \log p(D_B \mid \theta) + \log p(\theta \mid D_A) - \log p(D_B).$$
#
# 所有關於 task A 的資訊都在 $p(\theta \mid D_A)$ 裡：學 B 時，它就是 prior。問題是它算不出來。

# %% [markdown]
# ### (2) Laplace approximation：把 posterior 近似成 Gaussian
#
# 在 posterior 的 mode $\theta^*$ 附近做二階 Taylor 展開（一階項在 mode 是 0）：
#
# $$\log p(\theta \mid D_A) \approx \text{const} - \tfrac{1}{2} (\theta - \theta^*)^\top H (\theta - \theta^*),$$
#
# $H$ 是 task A 的負 log-likelihood（對 $N_A$ 個樣本加總）在 $\theta^*$ 的 Hessian。

# %% [markdown]
# ### (3) Hessian 換成 Fisher
#
# 兩個事實要分開：
# - **在任何參數 $\theta$**，Fisher 都等於負 log-likelihood 的 Hessian 的期望值，只要**標籤 $y$ 是從模型自己的預測分布
#   $p_\theta(y \mid x)$ 抽出來的**：$F(\theta) = \mathbb{E}_{x}\,\mathbb{E}_{y \sim p_\theta}[-\nabla^2 \log p_\theta(y \mid x)]$。
# - 需要 optimum 的是另一件事：**資料的**標籤下的 Hessian $H$ 約等於 $N_A F$。在 $\theta^*$ 模型的預測分布和資料的標籤分布
#   差不多，兩種期望值才會接近。
#
# 所以 $H \approx N_A F$，$F$ 是**每個樣本平均**的 Fisher。只保留對角線，就是每個參數一個獨立的 Gaussian，
# **precision（1 / variance）正比於 $F_i$**：Fisher 大 = posterior 窄 = 這個參數被 task A 確定下來了。

# %% [markdown]
# ### (4) 得到 EWC，以及「Bayesian 的 $\lambda$」
#
# 取負號並除以 $N_B$（讓 $\mathcal{L}_B$ 是平均 loss），就得到上面的 EWC loss，而且 $\lambda = N_A / N_B$。
# 在我們的設定（每個任務 5000 張圖）這個「Bayesian 的 $\lambda$」是 1。3.4 節會實測：$\lambda = 1$ 只比 naive 好一點，
# 遺忘最少的 $\lambda$ 要大上好幾個數量級。對角 Laplace 近似很粗糙（只在 $\theta^*$ 附近、忽略參數之間的交互作用），
# 所以實務上把 $\lambda$ 當成要調的 hyperparameter。

# %% [markdown]
# ## 練習 3.1：EWC penalty
#
# 參數用 dict 表示（name → tensor，和 `model.named_parameters()` 一樣）。寫出
# $\frac{\lambda}{2}\sum_i F_i(\theta_i-\theta^*_i)^2$，對**所有** tensor 的**所有**元素加總，回傳一個 tensor。
# 卡住了？`ewc_penalty_exercise.hint(1)`、`ewc_penalty_exercise.hint(2)`……最後一步是解答。

# %% tags=["exercise"]
def ewc_penalty(params, anchors, fisher, lam):
    """(lam / 2) * sum over names and elements of fisher[name] * (params[name] - anchors[name])**2."""
    # BEGIN SOLUTION: Exercise 3.1: compute the EWC penalty (try ewc_penalty_exercise.hint(1))
    total = sum((fisher[name] * (params[name] - anchors[name]) ** 2).sum() for name in params)
    return lam / 2 * total
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch03_ewc import ewc_penalty_exercise, empirical_fisher_exercise

my_ewc_penalty = ewc_penalty_exercise.check(ewc_penalty)

# %% [markdown]
# 手算一個例子：$\theta = (1, 2)$，$\theta^* = (0, 0)$，$F = (0.5, 0.1)$，$\lambda = 2$：
# $\frac{2}{2}(0.5 \cdot 1^2 + 0.1 \cdot 2^2) = 0.9$。第二個參數移動得比較遠，但它的 Fisher 小，所以罰得比較少。

# %%
# NBVAL_CHECK_OUTPUT
theta, theta_star, F = {"w": torch.tensor([1.0, 2.0])}, {"w": torch.zeros(2)}, {"w": torch.tensor([0.5, 0.1])}
print(f"penalty = {float(my_ewc_penalty(theta, theta_star, F, lam=2.0)):.4f}")

# %% [markdown]
# ### 回到第 1 章的兩個權重：EWC 的彈簧長什麼樣子
#
# 第 1 章的 playground：只有兩個權重的 logistic regression，task A 幾乎只在乎 $w_1$，task B 幾乎只在乎 $w_2$。
# 從 A 的最佳點出發訓練 B，但 loss 加上一條把權重拉回 A 的最佳點的彈簧 $\frac{\lambda}{2}\sum_i k_i (w_i - w^*_{A,i})^2$，比較兩種彈簧：
# - **EWC**：$k_i = F_i$，A 的 Fisher（下一節定義；這裡由 `cl_helpers.fisher.fisher_diagonal` 在 A 的最佳點算出）；
# - **L2**：兩個權重一樣硬，$k_1 = k_2 = $ 兩個 $F_i$ 的平均，所以同一個 $\lambda$ 下兩條彈簧平均一樣硬。
#
# 綠色橢圓是 EWC 的「等 penalty 線」$\sum_i F_i (w_i - w^*_{A,i})^2 = $ 常數：$F_i$ 大的方向短（硬），小的方向長（軟）。

# %%
from cl_helpers.teaching.quiz import ask

ask("兩條彈簧都把權重拉回 A 的最佳點。訓練完 B 之後，如果兩者停在離 A 的最佳點**一樣遠**的地方，"
    "哪一個在 task A 上的 loss 比較小？",
    ["L2：每個方向都拉，比較保險", "EWC：它讓權重往 A 不在乎的方向（A 的 Fisher 小的方向）移動",
     "一樣：離最佳點一樣遠，loss 就一樣"],
    answer=1, key="ch3-spring",
    explain="A 的 loss 在不同方向上的陡峭程度差很多：沿 w1 很陡，沿 w2 很平。走同樣的距離，往平的方向走幾乎不傷 A。"
            "EWC 的彈簧依 Fisher 決定軟硬，把移動留給 A 不在乎的 w2；L2 兩個方向一樣拉，於是也動了 A 很在乎的 w1。")

# %%
from cl_helpers.teaching.playground import (make_playground, penalty_paths, train_path, losses_at,
                                            distance_from_A, l2_lambda_at_distance)

pg = make_playground(seed=0)
print(f"A's Fisher at its optimum: F = ({float(pg.fisher_A[0]):.4f}, {float(pg.fisher_A[1]):.4f})")
lam_ewc = 3.0
same_lam = penalty_paths(pg, lam_ewc)
ewc_end = same_lam["EWC"][-1]
lam_l2 = l2_lambda_at_distance(pg, distance_from_A(pg, ewc_end))   # the L2 strength that stops equally far away
l2_end = train_path(pg, "l2", lam_l2)[-1]
base_A = float(losses_at(pg.A.optimum, pg.A))
for name, w, lam in (("EWC", ewc_end, lam_ewc), ("L2", l2_end, lam_l2)):
    print(f"{name:<3} lambda {lam:5.2f}: end ({w[0]:+.2f}, {w[1]:+.2f}), {distance_from_A(pg, w):.2f} from A's optimum, "
          f"loss on A +{float(losses_at(w, pg.A)) - base_A:.3f}, loss on B {float(losses_at(w, pg.B)):.3f}")
rise = {n: float(losses_at(w, pg.A)) - base_A for n, w in (("EWC", ewc_end), ("L2", l2_end))}
course.expect(rise["EWC"] < 0.5 * rise["L2"], "離 A 的最佳點一樣遠時，EWC 在 A 上增加的 loss 不到 L2 的一半")
l2_same = same_lam["L2"][-1]
print(f"at the same lambda {lam_ewc:g}: L2 ends at ({l2_same[0]:+.2f}, {l2_same[1]:+.2f}), loss on A "
      f"+{float(losses_at(l2_same, pg.A)) - base_A:.3f}, loss on B {float(losses_at(l2_same, pg.B)):.3f}")
course.expect(abs(ewc_end[0] - float(pg.A.optimum[0])) < 0.1 and
              float(losses_at(ewc_end, pg.B)) < float(losses_at(l2_same, pg.B)) - 0.1,
              "同一個 lambda：EWC 守住 w1，在 B 上的 loss 比 L2 低得多")

# %% [markdown]
# 拖動 $\lambda$（log scale）：三條路徑都從 A 的最佳點出發、都在 B 上做 300 步 gradient descent（空心圓是終點）。
# $\lambda$ 很小時 EWC 和 naive 走同一條路；$\lambda$ 很大時停在 A 的最佳點附近；中間（例如上面的 $\lambda = 3$）
# EWC 守住 $w_1$、讓 $w_2$ 走向 B 要的值，L2 在 $w_2$ 方向也拉得一樣緊，於是 B 學得比較差。
# 圖上方的文字列出每個終點在 A 與 B 上的 loss，自己比比看。

# %%
from cl_helpers.teaching.widgets import explore, log_slider
from cl_helpers.plots import penalty_view

def run_playground(lam):
    return lam, penalty_paths(pg, lam)

explore(run_playground, lambda result: penalty_view(pg, *result),
        lam=log_slider("playground lambda", lam_ewc, 0.01, 1000.0))

# %% [markdown]
# ## 3.2 Fisher information
#
# 對一個分類模型 $p_\theta(y \mid x)$，對角 Fisher 是 log-likelihood 梯度平方的期望值：
#
# $$F_i = \mathbb{E}_{x \sim D}\; \mathbb{E}_{y \sim p_\theta(y \mid x)} \left[ \left( \frac{\partial \log p_\theta(y \mid x)}{\partial \theta_i} \right)^2 \right].$$
#
# 直覺：$F_i$ 大，表示稍微動一下 $\theta_i$，模型的預測分布就會明顯改變，所以這個參數對這個任務重要。
# `cl_helpers.fisher.fisher_diagonal(model, x, labels, kind=...)` 對 $x$ 取**樣本平均**（不是總和），
# 內層的 $\mathbb{E}_y$ 有四種常見做法：
#
# | kind | $y$ 怎麼來 | 備註 |
# |---|---|---|
# | `exact` | 對所有類別 $c$ 以 $p_\theta(c \mid x)$ 加權平均 | 定義本身（true Fisher），要對每個類別算一次梯度 |
# | `sampled` | 從 $p_\theta(\cdot \mid x)$ 抽一個 | exact 的 unbiased Monte Carlo 估計 |
# | `empirical` | 資料的真實標籤 | 「empirical Fisher」，嚴格說不是 Fisher |
# | `argmax` | 模型預測的類別 | 課程原本 notebook 的做法 |
#
# 先訓練一個只學過 task 0（原始 MNIST）的模型，計算它在 task 0 的 Fisher。

# %%
from cl_helpers.fisher import fisher_diagonal
from cl_helpers.experiments.finetune import pretrained_model
from cl_helpers.plots import pixel_importance, plot_importance_maps

EPOCHS = pick(3, 1)
stream = make_stream("permuted", n_tasks=3, train_size=pick(5000, 1000), test_size=pick(1000, 500),
                     seed=0, device=device)
print(stream)
n_fisher = pick(1000, 300)                                  # samples the Fisher is averaged over
model_0 = pretrained_model(stream, old_task=0, epochs=EPOCHS)   # trained on task 0 alone (cached)
x0, y0 = stream[0].x_train[:n_fisher], stream[0].y_train[:n_fisher]
F0 = fisher_diagonal(model_0, x0, y0, kind="exact")
for name, f in F0.items():
    print(f"{name:<14} shape {str(tuple(f.shape)):<11} sum {float(f.sum()):9.4f}   max {float(f.max()):.2e}")

# %% [markdown]
# ### Fisher 的第一層畫成圖
#
# 第一層的權重 $W_{h,i}$ 連接輸入像素 $i$ 與 hidden unit $h$。把它的 Fisher 對 $h$ 加總，每個像素得到一個數字：
# 「讀這個像素的權重」對 task 0 有多重要。畫成 28×28 的圖（`pixel_importance`）：
#
# 我們也訓練一個只學過 task 1（打亂像素的 permuted task）的模型：它的重要性地圖在模型看到的輸入順序下是一片雜訊；
# 但如果把每個輸入的值放回它原本的像素位置（un-permute，用 task 1 的 permutation），數字的形狀又出現了。

# %%
model_1 = pretrained_model(stream, old_task=1, epochs=EPOCHS)   # trained on task 1 alone
task1 = stream[1]
F1 = fisher_diagonal(model_1, task1.x_train[:n_fisher], task1.y_train[:n_fisher], kind="exact")
shape = stream.image_shape
plot_importance_maps({
    "task 0 (original pixels)": pixel_importance(F0, shape),
    "task 1, as the model sees it": pixel_importance(F1, shape),
    "task 1, un-permuted": pixel_importance(F1, shape, perm=task1.perm),
}, title="Fisher of the first-layer weights, summed over hidden units (one value per input pixel)")
plt.show()

# %% [markdown]
# - 中間寫字的區域最重要。原因很直接：權重 $W_{h,i}$ 的梯度是 $\delta_h \, x_i$（hidden unit $h$ 收到的誤差乘上像素值），
#   所以 $F_{h,i} = \mathbb{E}[\delta_h^2 x_i^2]$：常有筆畫的像素，讀它的權重就重要。
#   邊緣的像素永遠是背景（常數），讀它們的權重只像一個 bias，重要性低而且均勻。
# - Task 1 的地圖在模型的輸入順序下被打散了：對 task 1 重要的權重，和對 task 0 重要的權重，是**不同**的輸入權重。
#   這正是 EWC 在 permuted MNIST 上有效的原因：新任務有很多對舊任務不重要的權重可以用。
#
# ### 四種 Fisher 的比較
#
# 同一個模型、同樣 1000 張圖，四種 kind（`compare_fisher_kinds`，sampled 的抽樣用固定 seed）：

# %%
from cl_helpers.experiments.fisher_kinds import compare_fisher_kinds, format_fisher_kinds, fisher_kind_stats

fishers, seconds = compare_fisher_kinds(model_0, x0, y0)
plot_importance_maps({kind: pixel_importance(f, shape) for kind, f in fishers.items()},
                     title="the four Fisher kinds on task 0 (each with its own colour scale)")
plt.show()
print(format_fisher_kinds(fishers, seconds))
stats = fisher_kind_stats(fishers)
course.expect(min(s["corr"] for s in stats.values()) > 0.9, "四種 Fisher 的形狀幾乎一樣（和 exact 的 correlation 都大於 0.9）")
course.expect(stats["argmax"]["ratio"] < stats["empirical"]["ratio"] < stats["exact"]["ratio"],
              "大小：argmax < empirical < exact")

# %% [markdown]
# - 四張圖幾乎一樣（和 exact 的 correlation 都在 0.9 以上，見表），差別主要在**大小**：argmax Fisher 的總和比 exact 小得多
#   （表中的「/ exact」）。原因：模型預測的類別機率最大，$\partial \log p / \partial \theta$ 最小；exact 還加上了其他類別的梯度。
#   所以換一種 Fisher，$\lambda$ 就要跟著乘上一個倍數。
# - empirical 用真實標籤：模型答錯的樣本梯度很大，所以它介於兩者之間，而且模型越準，它越接近 argmax。
# - 速度：`fisher_diagonal` 對 `nn.Linear` 用 closed form（每個樣本的權重梯度是兩個向量的外積，平方的總和就是一次
#   矩陣乘法），不用對樣本寫 Python loop；exact 要對 10 個類別各做一次 backward，所以比其他三種慢（表中的 ms）。
#
# ### sampled 不是 exact 的 unbiased 估計嗎？
#
# 是：對每張圖抽一個標籤 $y \sim p_\theta(\cdot \mid x)$，期望值正好是 exact。但一次抽樣只是**一個**隨機估計：
# 機率小的類別偶爾被抽到時，它的梯度非常大，一下子就把總和拉高。上表那一次抽樣的總和偏離 exact，並不矛盾。
# 把很多次獨立抽樣平均，就會收斂到 exact：

# %%
from cl_helpers.experiments.fisher_kinds import sampled_fisher_ratios

draws = pick(64, 8)
ratios = sampled_fisher_ratios(model_0, x0, draws=draws, seed=0)   # total of each draw / total of exact
for k in sorted(k for k in {1, 4, 16, draws} if k <= draws):
    print(f"mean of the first {k:>2} draw(s): {ratios[:k].mean():.3f} x exact")
print(f"single draws range from {ratios.min():.2f} to {ratios.max():.2f} x exact "
      f"(standard deviation {ratios.std():.2f} over {draws} draws)")
course.expect(abs(ratios.mean() - 1) < abs(ratios - 1).mean(), "平均很多次抽樣，比單獨一次更接近 exact")

# %% [markdown]
# 一次抽樣的總和可能偏離 exact 一成以上，平均越多次越接近 1。EWC 只需要 Fisher 的大致大小，所以實務上抽一次就夠，
# 但要知道換一個 seed，$\lambda$ 的有效值也會跟著變一點。
#
# ## 練習 3.2：用定義算 empirical Fisher
#
# 用最直接的方法：**對每個樣本各自**算 $\log p(y_n \mid x_n)$ 的梯度、平方，再對樣本取平均。
# 回傳 dict（name → tensor，名稱來自 `model.named_parameters()`）。這裡可以寫 loop（教學用），
# 下一個 cell 會和 closed form 比較答案與速度。

# %% tags=["exercise"]
def empirical_fisher(model, x, y):
    """(1/N) sum_n (d log p(y_n | x_n) / d theta)**2 for every parameter, one sample at a time, true labels y."""
    params = dict(model.named_parameters())
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    # BEGIN SOLUTION: Exercise 3.2: accumulate squared per-sample gradients (try empirical_fisher_exercise.hint(1))
    for n in range(len(x)):
        log_p = torch.log_softmax(model(x[n:n + 1]), dim=1)[0, y[n]]
        grads = torch.autograd.grad(log_p, list(params.values()))
        for name, g in zip(params, grads):
            fisher[name] += g ** 2
    return {name: f / len(x) for name, f in fisher.items()}
    # END SOLUTION

# %%
my_empirical_fisher = empirical_fisher_exercise.check(empirical_fisher)

# %% [markdown]
# 常見錯誤（檢查器會指出）：把**整個 batch 平均 loss** 的梯度拿來平方（Avalanche 的 EWC 就是這樣算的：
# $(\frac{1}{N}\sum_n g_n)^2 \ne \frac{1}{N}\sum_n g_n^2$，正負號不同的梯度互相抵消，值會小很多）、忘了除以 $N$、
# 用預測的標籤代替真實標籤、每個樣本之間沒有把梯度歸零。
#
# 你的（或參考答案的）loop 與 closed form 在同一批樣本上比較：

# %%
n = pick(200, 50)
start = time.perf_counter()
F_loop = my_empirical_fisher(model_0, x0[:n], y0[:n])
t_loop = time.perf_counter() - start
start = time.perf_counter()
F_fast = fisher_diagonal(model_0, x0[:n], y0[:n], kind="empirical")
t_fast = time.perf_counter() - start
worst = max(float((F_loop[k] - F_fast[k]).abs().max() / F_fast[k].abs().max()) for k in F_fast)
print(f"{n} samples: loop {t_loop * 1000:.0f} ms, closed form {t_fast * 1000:.1f} ms "
      f"({t_loop / t_fast:.0f}x faster); largest difference {worst:.1e} of each tensor's max")

# %% [markdown]
# ## 3.3 EWC vs naive：permuted MNIST，3 個任務
#
# 課程設定：每個任務 5000 張訓練圖、1000 張測試圖，MLP 784-256-256-10，Adam lr = 1e-3，batch 128，每個任務 3 epochs。
# EWC 在每個任務結束時用 200 張訓練圖算 exact Fisher，存下 $(F_k, \theta^*_k)$；之後每一步都加上所有舊任務的 penalty。
# $\lambda = 100$（3.4 節會說明怎麼選）。

# %%
from cl_helpers.metrics import new_task_accuracy

LAM = 100.0
naive = train_stream(stream, "naive", epochs=EPOCHS)
ewc = train_stream(stream, get_strategy("ewc", lam=LAM), epochs=EPOCHS)
print(format_table([naive, ewc]))

# %%
plots.plot_run(naive)
plt.show()
plots.plot_run(ewc)
plt.show()

# %% [markdown]
# 對照兩張 accuracy matrix：naive 的 task 0 一路掉下來；EWC 的舊任務幾乎保持住，代價是新任務學得稍差一點
# （對角線 $R_{j,j}$ 略低）：

# %%
print(f"new-task accuracy (mean R[j, j], j >= 1): naive {new_task_accuracy(naive.acc_matrix):.3f}, "
      f"EWC {new_task_accuracy(ewc.acc_matrix):.3f}")
course.expect(ewc.summary()["forgetting"] < naive.summary()["forgetting"] / 2, "EWC 的遺忘不到 naive 的一半", full_only=True)
course.expect(new_task_accuracy(ewc.acc_matrix) <= new_task_accuracy(naive.acc_matrix), "EWC 的新任務學得不比 naive 好", full_only=True)

# %% [markdown]
# 用你在練習 3.1 寫的 penalty 量一量：兩個模型的最終參數，離 task 0 結束時的 $\theta^*_0$ 有多遠（以 $F_0$ 加權）？
# 兩個 run 在 task 0 結束前完全相同（同一個 seed），所以 EWC 存下的 $\theta^*_0$ 也就是 naive 在那一刻的參數。

# %%
fisher_0, anchor_0 = ewc.strategy.fishers[0], ewc.strategy.anchors[0]
for run in (naive, ewc):
    final = {name: p.detach() for name, p in run.model.named_parameters()}
    print(f"{run.method:<6} penalty w.r.t. task 0: {float(my_ewc_penalty(final, anchor_0, fisher_0, LAM)):8.4f}   "
          f"accuracy on task 0: {run.acc_matrix[0, 0]:.3f} -> {run.acc_matrix[-1, 0]:.3f}")

# %% [markdown]
# ## 練習 3.3：把 EWC 放進你的 training loop
#
# 第 1 章你寫了 `train_task`。EWC 只改一個地方：loss 加上每個舊任務的 penalty。完成
# `train_task_ewc(model, task, epochs, batch_size, lr, gen, old_tasks, lam)`：`old_tasks` 是每個已學完的任務一組
# `(fisher, anchor)`（兩個 dict，name → tensor），由套件在每個任務結束時算好放進去（和 `ewc` strategy 的
# `after_task` 一樣：200 張訓練圖的 exact Fisher、當下的參數當 anchor）。penalty 用你在練習 3.1 寫的 `my_ewc_penalty`。
# 檢查器把它和 `train_stream(stream, get_strategy("ewc", lam=100))` 比較（同樣的 accuracy matrix 與最後的權重）。
# 卡住了？`ewc_loop_exercise.hint(1)`。

# %% tags=["exercise"]
import torch.nn.functional as F

def train_task_ewc(model, task, epochs, batch_size, lr, gen, old_tasks, lam):
    """The chapter 1 loop; the loss adds my_ewc_penalty(params, anchor, fisher, lam) for every earlier task."""
    # BEGIN SOLUTION: Exercise 3.3: EWC in the training loop (try ewc_loop_exercise.hint(1))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    n = len(task.y_train)
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen, device=gen.device)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(task.x_train[idx], task.id), task.y_train[idx])
            params = dict(model.named_parameters())
            for fisher, anchor in old_tasks:
                loss = loss + my_ewc_penalty(params, anchor, fisher, lam)
            loss.backward()
            optimizer.step()
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch03_loop import ewc_loop_exercise

my_train_task_ewc = ewc_loop_exercise.check(train_task_ewc)

# %% [markdown]
# 在 engine 裡，這一行就是 `strategy.penalty(model)`：`train_stream` 先 `loss.backward()`，再 `penalty.backward()`，
# gradient 加在一起，和把兩者相加後一次 backward 相同。Fisher 與 anchor 則是在 `strategy.after_task` 裡算的。

# %% [markdown]
# ## 3.4 $\lambda$ 要多大？實測
#
# 同樣的 stream，$\lambda$ 從 1 到 $10^6$ 各跑一次（`cl_helpers.experiments.sweeps.sweep`）。虛線是 naive。
# 「new-task accuracy」是每個新任務剛學完時的 accuracy（$R_{j,j}$，$j \ge 1$ 的平均）：它量的是 plasticity。

# %%
ask("λ 從 1 掃到 10⁶，最後的 ACC（所有任務的平均 accuracy）會怎樣變化？",
    ["一路上升：彈簧越硬，忘得越少", "先升後降：中間某個 λ 最好", "一路下降：penalty 只會妨礙學習"],
    answer=1, key="ch3-lambda",
    explain="λ 太小和 naive 一樣遺忘；λ 太大時新任務學不會（new-task accuracy 大跌）。ACC 同時包含兩者，"
            "所以在中間某個 λ 最高。下面的表與圖就是實測。")

# %%
from cl_helpers.experiments.sweeps import sweep, format_sweep
from cl_helpers.plots import plot_sweep

lams = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6]
swept = sweep(stream, "ewc", "lam", lams, epochs=EPOCHS)
print(format_sweep(swept, "lam", baseline=naive))
plot_sweep(swept, "lam", baseline=naive, title="EWC on permuted MNIST: $\\lambda$ trades forgetting for learning")
plt.show()

# %% [markdown]
# %%
by_lam = {r.strategy.lam: r for r in swept}
forg = {lam: r.summary()["forgetting"] for lam, r in by_lam.items()}
best = max(by_lam, key=lambda lam: by_lam[lam].summary()["acc"])
print(f"highest ACC at lambda = {best:g}; forgetting: naive {naive.summary()['forgetting']:.3f}, "
      + ", ".join(f"lambda {lam:g}: {f:.3f}" for lam, f in forg.items()))
course.expect(forg[1.0] > 0.6 * naive.summary()["forgetting"], "lambda = 1 只比 naive 好一點", full_only=True)
course.expect(best in (1e2, 1e3), "ACC 最高的 lambda 在 100 到 1000 之間", full_only=True)
course.expect(new_task_accuracy(by_lam[1e4].acc_matrix) < new_task_accuracy(naive.acc_matrix) - 0.1,
              "lambda = 1e4 時新任務的 accuracy 大跌", full_only=True)
course.expect(forg[1e6] > forg[1e3], "lambda 再加大，遺忘反而又變多", full_only=True)

# %% [markdown]
# 在這個設定（exact Fisher、樣本平均、penalty 有 1/2、loss 是 batch 平均）下：
# - $\lambda = 1$：penalty 太弱，只比 naive 好一點。
# - $\lambda \approx 10^2$–$10^3$：遺忘降到接近 0，新任務仍學得不錯，ACC 最高。
# - $\lambda \gtrsim 10^4$：新任務學不會了（new-task accuracy 大跌）。而且 $\lambda$ 再加大，**遺忘反而又變多**。為什麼？
#
# ### $\lambda$ 太大時，遺忘為什麼又變多？兩個假說，實際測一測
#
# 1. **Adam 的抖動**：Adam 每一步大約移動 lr，不管 gradient 多大。被彈簧拉得很緊的參數（$\lambda F_i$ 很大）
#    於是在 $\theta^*_i$ 附近來回跳動，而這些正是對舊任務最重要的參數。
# 2. **對角 Fisher 看不到的參數**：$\lambda$ 很大時，重要的參數都被釘住，新任務只能去推 $F_i$ 很小的參數，而且推得很用力；
#    對角 Fisher 忽略了參數之間的交互作用，這些「不重要」的參數一起大幅移動，仍然會傷到舊任務。
#
# 第一個測試：換成 SGD。SGD 的步伐是 lr × gradient，被拉緊的參數每一步移動 $\text{lr}\cdot\lambda F_i\,(\theta_i-\theta^*_i)$：
# 只要 $\text{lr}\cdot\lambda F_i > 2$，就會越跳越遠。

# %%
from cl_helpers import ConfigError

F_max = max(float(f.max()) for f in ewc.strategy.fishers[0].values())
for lam in (1e2, 1e4):
    lr = 0.01
    try:
        r = train_stream(stream, get_strategy("ewc", lam=lam), epochs=EPOCHS, optimizer="sgd", lr=lr, progress=False)
        outcome = f"trains: ACC {r.summary()['acc']:.3f}, forgetting {r.summary()['forgetting']:.3f}"
    except ConfigError as err:
        outcome = f"diverges ({err})"
    print(f"SGD lr {lr:g}, lambda {lam:g}: lr * lambda * max F = {lr * lam * F_max:.3g} -> {outcome}")

# %% [markdown]
# SGD 在 $\lambda = 10^4$ 就發散了（$\text{lr}\cdot\lambda F_{\max} > 2$），除非把 learning rate 降到幾乎學不動新任務。
# 所以這個區間只有 Adam 訓練得起來：Adam 把每個參數的步伐標準化到約 lr，被拉緊的參數才不會爆掉，代價是它們會在
# $\theta^*$ 附近小幅抖動。SGD 沒辦法回答「抖動有沒有害」，換一個直接的測試：
#
# 第二個測試：拿 $\lambda = 10^6$ 的最終模型，把對 task 0 **最重要**的參數（$F_{0,i}$ 最大的一部分）放回 $\theta^*_0$，
# 再量 task 0 的 accuracy。如果遺忘來自重要參數的抖動，放回去就會恢復；如果來自 Fisher 小的參數，放回去也沒用。

# %%
from cl_helpers.experiments.stiffness import restore_by_importance

stiff_run = by_lam[max(lams)]
restored = restore_by_importance(stiff_run, task=0, fractions=(0.5, 0.9, 0.99))
print(f"lambda {stiff_run.strategy.lam:g}: task 0 right after learning it {stiff_run.acc_matrix[0, 0]:.3f}, "
      f"at the end {stiff_run.acc_matrix[-1, 0]:.3f}")
for frac, acc in restored.items():
    print(f"  restore the {frac:.0%} of weights with the largest F_0 to theta*_0 -> task 0: {acc:.3f}")
course.expect(abs(restored[0.5] - stiff_run.acc_matrix[-1, 0]) < 0.01,
              "把最重要的一半參數放回 theta*，task 0 幾乎沒有恢復", full_only=True)
course.expect(restored[0.99] > stiff_run.acc_matrix[-1, 0] + 0.02,
              "只留下 Fisher 最小的 1% 不放回，task 0 就恢復了", full_only=True)

# %% [markdown]
# 結果支持第二個假說：最重要的一半參數幾乎沒動（放回去，task 0 的 accuracy 不變），Adam 的抖動不是原因；
# 遺忘藏在 **Fisher 小的參數**裡：只要把它們也放回去，task 0 就恢復了。對角 Fisher 說它們「不重要」，
# 可是新任務把它們一起推得很遠時，舊任務還是受傷。這正是對角近似忽略參數交互作用的代價。
#
# **為什麼文獻中的 $\lambda$ 差了好幾個數量級？** $\lambda$ 乘的是 $F$，所以 $F$ 的任何縮放都會反映在 $\lambda$ 上：
# - Fisher 是對樣本**平均**還是**加總**：加總會大 $N$ 倍（這裡 5000 倍）；loss 是 batch 平均或加總也一樣。
# - penalty 有沒有 $\frac{1}{2}$（2 倍）；用哪一種 Fisher（argmax 比 exact 小得多，見 3.2 節的表）。
# - 模型有多「有把握」：$\partial \log p/\partial\theta$ 在預測機率接近 1 時接近 0，所以很容易的任務 Fisher 非常小。
#   例如 van de Ven et al. 的程式碼在只有兩個類別、很容易的 split MNIST 上，EWC 的 $\lambda$ 用到 $10^9$–$10^{10}$。
# - 課程原本的 notebook 用 argmax Fisher、$\lambda = 5000$。
#
# 所以 $\lambda$ 不能從一篇論文直接抄到另一份程式碼：要在自己的設定下，在對數尺度上掃一遍。
#
# ## 3.5 Online EWC：任務一多，只留一個 Fisher
#
# 原始 EWC 每個任務結束時各存一份 $(F_k, \theta^*_k)$，penalty 的項數、記憶體和計算都隨任務數成長。
# **Online EWC**（Schwarz et al. 2018）只存一份累積的 Fisher 與最新的 anchor：
#
# $$F \leftarrow \gamma F + F_k, \qquad \theta^* \leftarrow \theta^*_k, \qquad 0 < \gamma \le 1.$$
#
# $\gamma = 1$ 正是 Bayesian 遞迴的正確形式（Huszár 2018：把上一個 posterior 當成下一個 prior，anchor 應該在最新的
# $\theta^*$）；$\gamma < 1$ 讓很舊的任務慢慢被「放掉」，換取更多 plasticity。在 5 個任務的 stream 上比較：

# %%
stream5 = make_stream("permuted", n_tasks=pick(5, 3), train_size=pick(5000, 1000), test_size=pick(1000, 500),
                      seed=0, device=device)
runs5 = [train_stream(stream5, "naive", epochs=EPOCHS),
         train_stream(stream5, get_strategy("ewc", lam=LAM), epochs=EPOCHS)]
runs5 += [train_stream(stream5, get_strategy("online_ewc", lam=LAM, gamma=g), epochs=EPOCHS) for g in (1.0, 0.5)]
runs5[2].method, runs5[3].method = "online g=1", "online g=0.5"   # names for the table and plots
print(format_table(runs5))
for r in runs5[1:]:
    stored = sum(f.numel() for fisher in r.strategy.fishers for f in fisher.values())
    print(f"{r.method:<13} {len(r.strategy.fishers)} Fisher(s) stored: {2 * stored:,} floats with the anchors")
f5 = {r.method: r.summary()["forgetting"] for r in runs5}
new5 = {r.method: new_task_accuracy(r.acc_matrix) for r in runs5}
print("new-task accuracy: " + ", ".join(f"{m} {a:.3f}" for m, a in new5.items()))
course.expect(f5["online g=1"] < f5["ewc"], "online EWC 忘得比分開存的 EWC 少", full_only=True)
course.expect(f5["online g=0.5"] > f5["online g=1"], "gamma = 0.5 比 gamma = 1 忘得多", full_only=True)

# %%
fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
for r, ax in zip(runs5, axes):
    plots.plot_acc_matrix(r, ax=ax, title=r.method)
fig.tight_layout()
plt.show()

# %% [markdown]
# 在這個 stream 上，online EWC 的遺忘反而比分開存的 EWC 少：分開的 penalty 把參數拉向好幾個不同的舊 anchor
# （$\theta^*_0$ 對 task 1 之後的任務並不好），而 online 的 anchor 是最新的參數，它已經兼顧了之前所有任務。
# $\gamma = 0.5$ 讓舊任務忘得多一點（Fisher 衰減，彈簧變鬆；新任務的 accuracy 見上面印出的那一行）。
# 兩者的訓練時間在這個大小下差不多（表中的 seconds），差別在記憶體：
# 分開的 EWC 每個任務存一份 Fisher 與 anchor（每份都和模型一樣大），online 永遠只存一份。
#
# ## 3.6 動手試試：$\lambda$ 與 epochs
#
# 拖動 slider（放開滑鼠才會重新訓練；看過的設定會被 cache）。試試：
# - $\lambda$ 從 1 拉到 $10^6$：遺忘先消失，然後最後一個任務學不起來。
# - epochs 加多：EWC 的遺忘會變嗎？（第 1 章量過 naive：epochs 的影響比 learning rate 小。）
#
# slider 一開始是 $\lambda = 10^4$（$\lambda = 100$ 就是 3.3 節的圖）。

# %%
from cl_helpers.teaching.widgets import explore, lambda_slider, epochs_slider
from cl_helpers.metrics import new_task_accuracy

def run(lam, epochs, report):   # report(done, total) drives the slider's progress bar
    return train_stream(stream, get_strategy("ewc", lam=lam), epochs=epochs, progress=False, report=report)

def show(r):
    s = r.summary()
    text = (f"λ = {r.strategy.lam:.0e} | epochs = {r.config['epochs']} | ACC {s['acc']:.3f} | "
            f"forgetting {s['forgetting']:.3f} | new-task acc {new_task_accuracy(r.acc_matrix):.3f}")
    return plots.plot_run(r), text

explore(run, show, lam=lambda_slider(1e4, 1.0, 1e7, description="EWC λ"),
        epochs=epochs_slider(EPOCHS, 1, 5))

# %% [markdown]
# ## 小結
#
# - EWC = 新任務的 loss + $\frac{\lambda}{2}\sum_i F_i(\theta_i-\theta^*_i)^2$：一個以 Fisher 為 precision 的
#   Gaussian prior（對角 Laplace approximation）。
# - Fisher 衡量「動這個參數會改變多少預測」。四種 Fisher 形狀幾乎相同，大小不同；對 `nn.Linear` 可以用 closed form
#   一次算完，不需要逐樣本的 loop。
# - $\lambda$ 的有效範圍取決於 Fisher 與 loss 的歸一化（平均或加總、有沒有 1/2）：一定要自己掃。在這裡 $10^2$–$10^3$ 最好。
# - $\lambda$ 太大時遺忘又變多：藏在 Fisher 小的參數裡（3.4 節的測試），不是 Adam 讓重要參數抖動造成的。
# - Online EWC 只存一份 Fisher，任務多時更省，在這裡也忘得更少。
# - EWC 不需要存舊資料，但它只「凍住」重要的參數；任務很多、或新舊任務需要同一批參數時，容量終究不夠。
#   下一章換一個角度：不改舊的權重，而是為新任務加上**低秩 adapter**（LoRA）。
#
# ## 延伸閱讀
#
# - J. Kirkpatrick et al. Overcoming catastrophic forgetting in neural networks.
#   [arXiv:1612.00796](https://arxiv.org/abs/1612.00796), 2017（*PNAS*）。
# - F. Huszár. Note on the quadratic penalties in elastic weight consolidation.
#   [arXiv:1712.03847](https://arxiv.org/abs/1712.03847), 2018.（為什麼 anchor 應該在最新的 $\theta^*$）
# - J. Schwarz et al. Progress & compress: a scalable framework for continual learning.
#   [arXiv:1805.06370](https://arxiv.org/abs/1805.06370), 2018.（online EWC）
# - F. Kunstner, L. Balles, P. Hennig. Limitations of the empirical Fisher approximation for natural gradient descent.
#   [arXiv:1905.12558](https://arxiv.org/abs/1905.12558), 2019.（empirical Fisher 為什麼不是 Fisher）
# - J. Martens. New insights and perspectives on the natural gradient method.
#   [arXiv:1412.1193](https://arxiv.org/abs/1412.1193), 2014.（Fisher 與 Hessian 的關係）
# - 李宏毅，機器學習 2021 春，Life-long Learning 第二講（EWC、SI、MAS 等 regularization 方法）：
#   [課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)。
# - 作業：[ML 2022 春 HW14](https://speech.ee.ntu.edu.tw/~hylee/ml/2022-spring.php)（在 rotated MNIST 上實作 EWC、MAS、SI）。
