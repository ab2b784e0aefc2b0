# %% [markdown]
# # 第 3 章：EWC (Elastic Weight Consolidation)
#
# 第 1 章看到：學新任務時，gradient descent 完全不知道哪些權重對舊任務重要，於是把它們一起改掉。
# **EWC**（Kirkpatrick et al. 2017）的想法：先估計每個參數對舊任務有多重要，學新任務時用一條「彈簧」把重要的參數
# 拉回舊的值，不重要的參數則可以自由移動。
#
# 資料：permuted MNIST，每個任務取訓練集最前面的 5,000 張圖與測試集最前面的 1,000 張。課程附的 MNIST 子集（6,309 張訓練圖）就是
# 完整 MNIST 的開頭，所以用它或用完整 MNIST，取到的是同樣的圖。
# 這個子集隨課程資料附上：`cl_helpers` 依序在環境變數 `$CL_HELPERS_DATA` 指的資料夾、`~/.cache/cl_helpers` 找 MNIST，都沒有就下載；
# 離線又找不到時改用 scikit-learn 附的 digits（`print(stream)` 會印出用的是哪一個）。
#
# ⏱️ 執行時間：本章最後一個 cell 印出這次從頭跑到尾的實測時間；README 的章節表列出 full mode 在 2-core CPU 上的時間。模型很小，CPU 就夠了。

# %% [markdown]
# **這一章你會學到：**
# 1. EWC 的 loss 與它的 Bayesian 由來（Laplace approximation：precision 正比於 Fisher）；
# 2. **Fisher information**：定義、畫成 28×28 的「重要性地圖」、比較四種常見的 Fisher（exact / sampled / empirical / argmax）；
# 3. 練習 A–C：自己寫 EWC penalty、empirical Fisher，以及加上 EWC 的 training loop（有自動檢查）；
# 4. 在 permuted MNIST 上比較 EWC 與 naive fine-tuning；
# 5. 實測 $\lambda$ 要多大、$\lambda$ 太大時遺忘為什麼又回來，以及為什麼不同論文與程式碼裡的 $\lambda$ 差了好幾個數量級；
# 6. **Online EWC**：任務變多時只保留一個累積的 Fisher；
# 7. 用 slider 調 $\lambda$ 與 epochs。

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
# 學完 task A 得到參數 $\theta^*$（= $\theta^*_A$，訓練 task A 停下來的地方；下面的推導把它當成 task A 的 MAP / MLE），
# 接著學 task B 時，EWC 最小化
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
# $$\log p(\theta \mid D_A, D_B) = \log p(D_B \mid \theta) + \log p(\theta \mid D_A) - \log p(D_B \mid D_A).$$
#
# 這裡假設給定 $\theta$ 時 $D_A$ 與 $D_B$ 互相獨立（$p(D_B \mid \theta, D_A) = p(D_B \mid \theta)$）；最後一項與 $\theta$ 無關。
# 所有關於 task A 的資訊都在 $p(\theta \mid D_A)$ 裡：學 B 時，它就是 prior。問題是它算不出來。

# %% [markdown]
# ### (2) Laplace approximation：把 posterior 近似成 Gaussian
#
# 令 $\theta^*$ 是 $p(\theta \mid D_A)$ 的 mode（MAP）：**負** log posterior 在這一點最小。在 $\theta^*$ 附近把負 log posterior
# 做二階 Taylor 展開（在極小值，一階項是 0）：
#
# $$-\log p(\theta \mid D_A) \approx -\log p(\theta^* \mid D_A) + \tfrac{1}{2} (\theta - \theta^*)^\top H (\theta - \theta^*),
# \qquad H = -\nabla^2_\theta \log p(\theta \mid D_A)\big|_{\theta = \theta^*}.$$
#
# $H$ 是負 log posterior 的 Hessian：task A 的負 log-likelihood（對 $N_A$ 個樣本**加總**）的 Hessian，加上負 log prior 的 Hessian。
# prior 很寬（或 $N_A$ 很大）時第二項可以忽略，MAP 也就接近 task A 的 MLE：只用 task A 的 cross-entropy 訓練要找的點。
# 實作裡的 $\theta^*_A$ 是訓練 task A 結束時的參數，不保證真的是極小值。

# %% [markdown]
# ### (3) Hessian 換成 Fisher
#
# 兩個事實要分開：
# - **在任何參數 $\theta$**，Fisher 都等於負 log-likelihood 的 Hessian 的期望值，只要**標籤 $y$ 是從模型自己的預測分布
#   $p_\theta(y \mid x)$ 抽出來的**：$F(\theta) = \mathbb{E}_{x}\,\mathbb{E}_{y \sim p_\theta}[-\nabla^2 \log p_\theta(y \mid x)]$。
# - 另一件事只在最佳點 $\theta^*$ 附近成立：**資料的**標籤下的 Hessian $H$ 約等於 $N_A F$。在 $\theta^*$，模型的預測分布和
#   資料的標籤分布差不多，兩種期望值才會接近。
#
# 所以 $H \approx N_A F$，$F$ 是**每個樣本平均**的 Fisher。只保留對角線，就是每個參數一個獨立的 Gaussian，
# **precision（1 / variance）是 $N_A F_i$，正比於 $F_i$**：Fisher 大 = posterior 窄 = 這個參數被 task A 確定下來了。

# %% [markdown]
# ### (4) 得到 EWC，以及「Bayesian 的 $\lambda$」
#
# 最大化 (1) 的 log posterior，等於最小化 $-\log p(D_B \mid \theta) - \log p(\theta \mid D_A)$。代入 (2)、(3)，
# 再除以 $N_B$（讓 $\mathcal{L}_B$ 是平均 loss），就得到上面的 EWC loss，而且 $\lambda = N_A / N_B$。
# 在我們的設定（每個任務 5000 張圖）這個「Bayesian 的 $\lambda$」是 1。3.4 節會實測：$\lambda = 1$ 只比 naive 好一點，
# 遺忘最少的 $\lambda$ 要大上好幾個數量級。

# %% [markdown]
# 這個推導疊了好幾個**不同的**近似，要分開看：
# - **二次（Laplace）近似**：把 $-\log p(\theta \mid D_A)$ 換成 $\theta^*$ 附近的二次式，只在 $\theta^*$ **附近**準；參數走遠了，
#   真正的 loss 可以和二次式差很多（3.4 節會看到一個例子）。
# - **Fisher 代替 Hessian**：只在 $\theta^*$ 的預測接近資料標籤時成立，而且 $F$ 是用少數訓練圖估計的。
# - **對角近似**：只留 $F$ 的對角線，丟掉參數之間的交互作用（非對角線）。
#
# 所以實務上把 $\lambda$ 當成要調的 hyperparameter。

# %% [markdown]
# ## 練習 A：EWC penalty
#
# 參數用 dict 表示（name → tensor，和 `model.named_parameters()` 一樣）。寫出
# $\frac{\lambda}{2}\sum_i F_i(\theta_i-\theta^*_i)^2$，對**所有** tensor 的**所有**元素加總，回傳一個 tensor。
# 卡住了？`ewc_penalty_exercise.hint(1)`、`ewc_penalty_exercise.hint(2)`……最後一步是解答。

# %% tags=["exercise"]
def ewc_penalty(params, anchors, fisher, lam):
    """(lam / 2) * sum over names and elements of fisher[name] * (params[name] - anchors[name])**2."""
    # BEGIN SOLUTION: Exercise A: compute the EWC penalty (try ewc_penalty_exercise.hint(1))
    total = sum((fisher[name] * (params[name] - anchors[name]) ** 2).sum() for name in params)
    return lam / 2 * total
    # END SOLUTION

# %%
from cl_helpers.teaching.exercises.ch03_ewc import ewc_penalty_exercise, empirical_fisher_exercise

my_ewc_penalty = ewc_penalty_exercise.check(ewc_penalty)

# %% [markdown]
# 手算一個例子：$\theta = (1, 2)$，$\theta^* = (0, 0)$，$F = (0.5, 0.1)$，$\lambda = 2$：
# $\frac{2}{2}(0.5 \cdot 1^2 + 0.1 \cdot 2^2) = 0.9$。第二個參數移動得比較遠，但它的 Fisher 小，所以罰得比較少。

# %% tags=["nbval-check-output"]
theta, theta_star, fisher_toy = {"w": torch.tensor([1.0, 2.0])}, {"w": torch.zeros(2)}, {"w": torch.tensor([0.5, 0.1])}
print(f"penalty = {float(my_ewc_penalty(theta, theta_star, fisher_toy, lam=2.0)):.4f}")

# %% [markdown]
# ## 回到第 1 章的兩個權重：EWC 的彈簧長什麼樣子
#
# 第 1 章的 playground：只有兩個權重的 logistic regression，task A 幾乎只在乎 $w_1$，task B 幾乎只在乎 $w_2$。
# 從 A 的最佳點出發訓練 B，但 loss 加上一條把權重拉回 A 的最佳點的彈簧 $\frac{\lambda}{2}\sum_i k_i (w_i - w^*_{A,i})^2$，比較兩種彈簧：
# - **EWC**：$k_i = F_i$，A 的 Fisher（下一節定義；這裡由 `cl_helpers.fisher.fisher_diagonal` 在 A 的最佳點算出）；
# - **L2**：兩個權重一樣硬，$k_1 = k_2$ = 兩個 $F_i$ 的平均，所以同一個 $\lambda$ 下兩條彈簧平均一樣硬。
#
# 綠色橢圓是 EWC 的「等 penalty 線」$\sum_i F_i (w_i - w^*_{A,i})^2 = c$（$c$ 是常數）：$F_i$ 大的方向短（硬），小的方向長（軟）。

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
from cl_helpers.playground import (make_playground, penalty_paths, train_path, losses_at,
                                            distance_from_A, l2_lambda_at_distance)

pg = make_playground(seed=0)
print(f"A's Fisher at its optimum: F = ({float(pg.fisher_A[0]):.4f}, {float(pg.fisher_A[1]):.4f})")
lam_ewc = 3.0
same_lam = penalty_paths(pg, lam_ewc)
ewc_end = same_lam["EWC"][-1]
print(f"each path: {len(same_lam['EWC']) - 1} gradient-descent steps on B, starting at A's optimum")
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
# 拖動 $\lambda$（log scale）：三條路徑都從 A 的最佳點出發、都在 B 上做同樣步數的 gradient descent（上面印出的步數），
# 終點是空心的大記號（naive 圓、L2 方塊、EWC 菱形；圖例只畫各條線的樣式，不含終點記號）。三條路有一段重疊時：EWC 是底下寬的淡綠線，naive 是中間的黑色細線，L2 是最上面的紫色虛線。
# 下面的 cell 印出 slider 兩端的情形。$\lambda$ 很小時，兩種彈簧的終點在 B 上的 loss 都和 naive 差不多，但位置並不相同：
# EWC 的終點離 A 的最佳點比 naive 近一些（印出的距離）；而且走完這些步數的 naive 自己也還沒走到 B 的最佳點。
# $\lambda$ 很大時兩者都停在 A 的最佳點附近；中間（例如上面的 $\lambda = 3$）EWC 守住 $w_1$、讓 $w_2$ 走向 B 要的值，
# L2 在 $w_2$ 方向也拉得一樣緊，於是 B 學得比較差。圖下方印出的文字列出每個終點在 A 與 B 上的 loss，自己比比看。

# %%
from cl_helpers.teaching.widgets import explore, log_slider
from cl_helpers.plots import penalty_view

def run_playground(lam):
    return lam, penalty_paths(pg, lam)

gap = distance_from_A(pg, pg.B.optimum)                            # how far B's optimum lies from A's
ends = {lam: {name: p[-1] for name, p in penalty_paths(pg, lam).items()} for lam in (0.01, 1000.0)}   # the slider's ends
for lam, end in ends.items():
    print(f"lambda {lam:g}: " + " | ".join(f"{n} {distance_from_A(pg, w):.2f} from A's optimum, loss on B "
                                            f"{float(losses_at(w, pg.B)):.3f}" for n, w in end.items()))
print(f"(B's optimum is {gap:.2f} from A's)")
course.expect(all(abs(float(losses_at(ends[0.01][n], pg.B)) - float(losses_at(ends[0.01]["naive"], pg.B))) < 0.01
                  for n in ("L2", "EWC")), "lambda = 0.01：兩種彈簧的終點在 B 上的 loss 都和 naive 差不多")
course.expect(distance_from_A(pg, ends[0.01]["EWC"]) < distance_from_A(pg, ends[0.01]["naive"]) - 0.1,
              "lambda = 0.01：EWC 的終點離 A 的最佳點比 naive 近")
course.expect(distance_from_A(pg, ends[0.01]["naive"]) < gap - 0.1, "naive 走完全部步數還沒走到 B 的最佳點")
course.expect(all(distance_from_A(pg, ends[1000.0][n]) < 0.05 * gap for n in ("L2", "EWC")),
              "lambda = 1000：兩種彈簧都停在 A 的最佳點附近")

explore(run_playground, lambda result: penalty_view(pg, *result),
        lam=log_slider("playground lambda", lam_ewc, 0.01, 1000.0))

# %% [markdown]
# ## 3.2 Fisher information
#
# 對一個分類模型 $p_\theta(y \mid x)$，對角 Fisher 是 log-likelihood 的 gradient 平方的期望值：
#
# $$F_i = \mathbb{E}_{x \sim D}\; \mathbb{E}_{y \sim p_\theta(y \mid x)} \left[ \left( \frac{\partial \log p_\theta(y \mid x)}{\partial \theta_i} \right)^2 \right].$$
#
# 直覺：$F_i$ 大，表示稍微動一下 $\theta_i$，模型的預測分布就會明顯改變，所以這個參數對這個任務重要。
# `cl_helpers.fisher.fisher_diagonal(model, x, labels, kind=...)` 對 $x$ 取**樣本平均**（不是總和），
# 內層的 $\mathbb{E}_y$ 有四種常見做法：
#
# | kind | $y$ 怎麼來 | 備註 |
# |---|---|---|
# | `exact` | 對所有類別 $c$ 以 $p_\theta(c \mid x)$ 加權平均 | 定義本身（true Fisher），要對每個類別算一次 gradient |
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
shared = float(F0["head.weight"].sum() + F0["body.2.weight"].sum()) / sum(float(f.sum()) for f in F0.values())
print(f"share of the total in head.weight and body.2.weight (the layers after the first, whose inputs are hidden units, not permuted pixels): {shared:.0%}")
course.expect(shared > 0.5, "Fisher 的總和大半在 head.weight 與 body.2.weight")

# %% [markdown]
# ### 把第一層的 Fisher 畫成圖
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
maps = {"task 0 (original pixels)": pixel_importance(F0, shape),
        "task 1, as the model sees it": pixel_importance(F1, shape),
        "task 1, un-permuted": pixel_importance(F1, shape, perm=task1.perm)}
plot_importance_maps(maps, title="first-layer Fisher summed over hidden units (one value per input pixel, one colour scale)")
plt.show()
corr = {k: float(torch.corrcoef(torch.stack([maps["task 0 (original pixels)"].flatten(), m.flatten()]))[0, 1])
        for k, m in list(maps.items())[1:]}
print("correlation with task 0's map: " + ", ".join(f"{k} {c:.2f}" for k, c in corr.items()))
course.expect(corr["task 1, as the model sees it"] < 0.5 < corr["task 1, un-permuted"],
              "task 1 的地圖在模型的輸入順序下和 task 0 的不像，un-permute 之後就像")

# %% [markdown]
# - 中間寫字的區域最重要。原因很直接：權重 $W_{h,i}$ 的 gradient 是 $\delta_h \, x_i$（hidden unit $h$ 收到的誤差乘上像素值），
#   所以 $F_{h,i} = \mathbb{E}[\delta_h^2 x_i^2]$：常有筆畫的像素，讀它的權重就重要。
#   邊緣的像素永遠是背景（正規化之後是同一個非零的常數），讀它們的權重只像一個 bias，重要性低而且均勻。
# - Task 1 的地圖在模型的輸入順序下被打散了（和 task 0 的地圖幾乎不相關，上面印出的 correlation）：在**第一層**，
#   對 task 1 重要的輸入權重，位置和對 task 0 重要的不相關（不過兩張圖都有很多亮點，彼此仍會重疊）。
#   但第一層只是一部分：上一個 cell 印出，Fisher 的總和大半在 `head.weight` 與 `body.2.weight`。這兩層的輸入是
#   hidden unit，不是像素，所以沒有被打亂（這個 MLP 的每一層都由所有任務共用，不同的只是輸入像素的順序）。
#   這張圖只暗示 EWC 在 permuted MNIST 上為什麼可能有效；真正的效果要看 3.3 節的實測。

# %% [markdown]
# ### 四種 Fisher 的比較
#
# 同一個模型、同樣 1000 張圖，四種 kind（`compare_fisher_kinds`，sampled 的抽樣用固定 seed）。四張圖用**同一個色階**
# （右邊的 colour bar），所以亮度可以直接比：

# %%
from cl_helpers.experiments.fisher_kinds import compare_fisher_kinds, format_fisher_kinds, fisher_kind_stats

fishers, seconds = compare_fisher_kinds(model_0, x0, y0)
plot_importance_maps({kind: pixel_importance(f, shape) for kind, f in fishers.items()},
                     title="the four Fisher kinds on task 0 (one shared colour scale)")
plt.show()
print(format_fisher_kinds(fishers, seconds))
stats = fisher_kind_stats(fishers)
course.expect(min(s["corr"] for s in stats.values()) > 0.9, "四種 Fisher 的形狀幾乎一樣（和 exact 的 correlation 都大於 0.9）")
course.expect(stats["argmax"]["ratio"] < stats["empirical"]["ratio"] < stats["exact"]["ratio"],
              "大小：argmax < empirical < exact")
course.expect(seconds["exact"] > max(t for k, t in seconds.items() if k != "exact"), "exact 比其他三種慢", full_only=True)

# %% [markdown]
# - 四張圖的**形狀**幾乎一樣（和 exact 的 correlation 都在 0.9 以上，見表），差別在**大小**：同一個色階下 argmax 最暗，
#   它的總和比 exact 小得多（表中的「/ exact」）。原因：模型預測的類別機率最大，$\partial \log p / \partial \theta$ 最小；exact 還加上了其他類別的 gradient。
#   所以換一種 Fisher，$\lambda$ 就要跟著乘上一個倍數。
# - empirical 用真實標籤：模型答錯的樣本 gradient 很大，在這個 run 上它介於兩者之間（這不是一定的：很有把握卻答錯的模型，empirical 可以比 exact 還大），而且模型越準，它越接近 argmax。
# - 速度：`fisher_diagonal` 對 `nn.Linear` 用 closed form（每個樣本的權重 gradient 是兩個向量的外積，平方的總和就是一次
#   矩陣乘法），不用對樣本寫 Python loop；exact 要對 10 個類別各做一次 backward，所以比其他三種慢（表中的 ms，隨機器而變）。

# %% [markdown]
# ### sampled 不是 exact 的 unbiased 估計嗎？
#
# 是：對每張圖抽一個標籤 $y \sim p_\theta(\cdot \mid x)$，期望值正好是 exact。但一次抽樣只是**一個**隨機估計：
# 機率小的類別偶爾被抽到時，它的 gradient 非常大，一下子就把總和拉高。上表那一次抽樣的總和偏離 exact，並不矛盾。
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
course.expect(abs(ratios - 1).max() > 0.1, "一次抽樣的總和可能偏離 exact 一成以上", full_only=True)
gaps = [abs(ratios[:k].mean() - 1) for k in sorted(k for k in {1, 4, 16, draws} if k <= draws)]
course.expect(all(a > b for a, b in zip(gaps, gaps[1:])), "平均的次數越多，越接近 exact", full_only=True)

# %% [markdown]
# 一次抽樣的總和可能偏離 exact 一成以上（上面印出的範圍），平均越多次越接近 1。本章的 EWC 用 exact Fisher，
# 沒有抽標籤的雜訊；不過它仍是隨機抽的 200 張訓練圖的平均，換 seed 就換一批圖（3.5 節）。
# 如果改用一次抽樣的 sampled Fisher，Fisher 的大小還會隨抽到的標籤變動，等於 $\lambda$ 的有效值也跟著變。

# %% [markdown]
# ## 練習 B：用定義算 empirical Fisher
#
# 用最直接的方法：**對每個樣本各自**算 $\log p(y_n \mid x_n)$ 的 gradient、平方，再對樣本取平均。
# 回傳 dict（name → tensor，名稱來自 `model.named_parameters()`）。forward 寫 `model(x[n:n+1])`，**不傳** `task.id`：
# 檢查器用的小測試模型是普通的 `nn.Sequential`，只接受 `model(x)`（本章的 MLP 也接受只傳 `x`）。這裡可以寫 loop（教學用），
# 練習檢查之後，再下一個 code cell 會把你的 loop 和 closed form 比較答案與速度。
# 卡住了？`empirical_fisher_exercise.hint(1)`、`hint(2)`……提示越後面越接近解答。

# %% tags=["exercise"]
def empirical_fisher(model, x, y):
    """(1/N) sum_n (d log p(y_n | x_n) / d theta)**2 for every parameter, one sample at a time, true labels y."""
    params = dict(model.named_parameters())
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    # BEGIN SOLUTION: Exercise B: accumulate squared per-sample gradients (try empirical_fisher_exercise.hint(1))
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
# 常見錯誤（檢查器會指出）：把**整個 batch 平均 loss** 的 gradient 拿來平方（Avalanche 的 EWC 就是這樣算的：
# $(\frac{1}{N}\sum_n g_n)^2 \ne \frac{1}{N}\sum_n g_n^2$，正負號不同的 gradient 互相抵消，值會小很多）、忘了除以 $N$、
# 用預測的標籤代替真實標籤、樣本與樣本之間沒有把 gradient 歸零。
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
# 課程設定：3.2 節建立的 3 個任務的 `stream`（每個任務 5000 張訓練圖、1000 張測試圖），模型與 optimizer 的設定下面印出。
# EWC 在每個任務結束時用隨機抽的訓練圖算 exact Fisher（樣本平均；張數下面印出），存下 $(F_k, \theta^*_k)$；
# 之後每一步都加上所有舊任務的 penalty。$\lambda = 100$（3.4 節會說明怎麼選；注意那是看測試集挑的）。

# %%
from cl_helpers.metrics import new_task_accuracy

LAM = 100.0
naive = train_stream(stream, "naive", epochs=EPOCHS)
ewc = train_stream(stream, get_strategy("ewc", lam=LAM), epochs=EPOCHS)
ewc.method = "EWC"                                            # the name in the tables and plots
c = ewc.config
print(f"MLP {stream.input_size}-{'-'.join(map(str, c['hidden']))}-{stream.n_outputs} | {c['optimizer']} lr = {c['lr']:g} | "
      f"batch {c['batch_size']} | epochs per task: {c['epochs']}")
print(f"EWC: lambda {LAM:g}, {ewc.strategy.fisher_kind} Fisher averaged over {ewc.strategy.importance_samples} "
      f"training images of each task")
print(format_table([naive, ewc]))

# %%
plots.plot_run(naive).suptitle("naive fine-tuning", y=1.02)
plt.show()
plots.plot_run(ewc).suptitle(f"EWC, $\\lambda$ = {LAM:g}", y=1.02)
plt.show()

# %% [markdown]
# 訓練曲線上，每條線在它的任務開始訓練之前畫成點線（模型還沒學過那個任務）。
# 對照兩張 accuracy matrix：naive 的 task 0 一路掉下來；EWC 的舊任務幾乎保持住，代價是新任務平均學得稍差一點
# （對角線 $R_{j,j}$，$j \ge 1$ 的平均略低，下面印出）。個別的對角線格子差別都很小：

# %%
print(f"new-task accuracy (mean R[j, j], j >= 1): naive {new_task_accuracy(naive.acc_matrix):.3f}, "
      f"EWC {new_task_accuracy(ewc.acc_matrix):.3f}")
diag = [(float(naive.acc_matrix[j, j]), float(ewc.acc_matrix[j, j])) for j in range(1, len(stream))]
print("R[j, j] for j >= 1 (naive, EWC): " + ", ".join(f"({a:.3f}, {b:.3f})" for a, b in diag))
course.expect(max(abs(a - b) for a, b in diag) < 0.05, "個別的對角線格子 naive 與 EWC 相差不到 0.05", full_only=True)
course.expect(ewc.summary()["forgetting"] < naive.summary()["forgetting"] / 2, "EWC 的遺忘不到 naive 的一半", full_only=True)
course.expect(new_task_accuracy(ewc.acc_matrix) <= new_task_accuracy(naive.acc_matrix), "EWC 的新任務學得不比 naive 好", full_only=True)

# %% [markdown]
# 用你在練習 A 寫的 penalty 量一量：兩個模型的最終參數，離 task 0 結束時的 $\theta^*_0$ 有多遠（以 $F_0$ 加權）？
# 兩個 run 在 task 0 結束前完全相同（同一個 seed），所以 EWC 存下的 $\theta^*_0$ 也就是 naive 在那一刻的參數。

# %%
fisher_0, anchor_0 = ewc.strategy.fishers[0], ewc.strategy.anchors[0]
for run in (naive, ewc):
    final = {name: p.detach() for name, p in run.model.named_parameters()}
    print(f"{run.method:<6} penalty w.r.t. task 0: {float(my_ewc_penalty(final, anchor_0, fisher_0, LAM)):8.4f}   "
          f"accuracy on task 0: {run.acc_matrix[0, 0]:.3f} -> {run.acc_matrix[-1, 0]:.3f}")

# %% [markdown]
# ## 練習 C：把 EWC 放進你的 training loop
#
# 第 1 章你寫了 `train_task`。EWC 只改一個地方：loss 加上每個舊任務的 penalty。其他部分要和第 1 章的 loop **一模一樣**，
# 檢查器才比得出相同的權重：每個任務建立一個新的 `torch.optim.Adam(model.parameters(), lr=lr)`、先 `model.train()`；
# 每個 epoch 用 `torch.randperm(n, generator=gen, device=gen.device)` 打亂一次順序，依序切成 `batch_size` 的 mini-batch；
# forward 是 `model(x, task.id)`，loss 是 `F.cross_entropy`。完成
# `train_task_ewc(model, task, epochs, batch_size, lr, gen, old_tasks, lam)`。
#
# `old_tasks` 是每個已學完的任務一組 `(fisher, anchor)`（兩個 dict，name → tensor），由套件在每個任務結束時算好放進去，
# 算法和 `ewc` strategy 的 `after_task` 相同（exact Fisher、當下的參數當 anchor）。penalty 用你在練習 A 寫的 `my_ewc_penalty`。

# %% [markdown]
# 檢查器用它自己的小 stream 與小 MLP（不是本章的 `stream`；設定在檢查的 cell 印出），把你的 loop 和
# `train_stream(..., get_strategy("ewc", lam=100))` 比較：accuracy matrix 與最後的權重都要相同。
# 卡住了？`ewc_loop_exercise.hint(1)`、`hint(2)`：第二個提示幾乎就是解答。

# %% tags=["exercise"]
import torch.nn.functional as F

def train_task_ewc(model, task, epochs, batch_size, lr, gen, old_tasks, lam):
    """The chapter 1 loop; the loss adds my_ewc_penalty(params, anchor, fisher, lam) for every earlier task."""
    # BEGIN SOLUTION: Exercise C: EWC in the training loop (try ewc_loop_exercise.hint(1))
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

check_stream, s = ewc_loop_exercise.make_stream(), ewc_loop_exercise.settings
print(f"the checker: {len(check_stream)} permuted-MNIST tasks x {len(check_stream[0].y_train)} training images | "
      f"MLP {check_stream.input_size}-{'-'.join(map(str, s.hidden))}-{check_stream.n_outputs} | {s.epochs} epochs, "
      f"batch {s.batch_size}, lr {s.lr:g}")
my_train_task_ewc = ewc_loop_exercise.check(train_task_ewc)

# %% [markdown]
# 在 engine 裡，你的 loop 中把 penalty 加進 loss 的那幾行就是 `strategy.penalty(model)`：`train_stream` 先 `loss.backward()`，再 `penalty.backward()`，
# gradient 加在一起，和把兩者相加後一次 backward 相同。Fisher 與 anchor 則是在 `strategy.after_task` 裡算的。

# %% [markdown]
# ## 3.4 $\lambda$ 要多大？實測
#
# 同樣的 stream，$\lambda$ 從 1 到 $10^7$（3.6 節 slider 的範圍）各跑一次（`cl_helpers.experiments.sweeps.sweep`）。虛線是 naive。
# 「new-task accuracy」是每個新任務剛學完時的 accuracy（$R_{j,j}$，$j \ge 1$ 的平均）：它量的是 plasticity。

# %%
ask("λ 從 1 掃到 10⁷，最後的 ACC（所有任務的平均 accuracy）會怎樣變化？",
    ["一路上升：彈簧越硬，忘得越少", "先升後降：中間某個 λ 最好", "一路下降：penalty 只會妨礙學習"],
    answer=1, key="ch3-lambda",
    explain="λ 太小時幾乎和 naive 一樣遺忘；λ 太大時新任務學得差很多（new-task accuracy 大幅下降）。ACC 同時包含兩者，"
            "所以在中間某個 λ 最高。下面的表與圖就是實測。")

# %%
from cl_helpers.experiments.sweeps import sweep, format_sweep
from cl_helpers.plots import plot_sweep

lams = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7]
swept = sweep(stream, "ewc", "lam", lams, epochs=EPOCHS)
print(format_sweep(swept, "lam", baseline=naive))
plot_sweep(swept, "lam", baseline=naive, title="EWC on permuted MNIST: accuracies and forgetting against $\\lambda$")
plt.show()

# %%
by_lam = {r.strategy.lam: r for r in swept}
forg = {lam: r.summary()["forgetting"] for lam, r in by_lam.items()}
new = {lam: new_task_accuracy(r.acc_matrix) for lam, r in by_lam.items()}
best, least = max(by_lam, key=lambda lam: by_lam[lam].summary()["acc"]), min(forg, key=forg.get)
print(f"highest ACC at lambda = {best:g}; least forgetting at lambda = {least:g}")
course.expect(forg[1.0] > 0.6 * naive.summary()["forgetting"], "lambda = 1 只比 naive 好一點", full_only=True)
course.expect(best == 100 and least == 1e3, "ACC 在 lambda = 100 最高，遺忘在 lambda = 1000 最少", full_only=True)
course.expect(all(new[a] > new[b] for a, b in zip(lams[2:6], lams[3:7])),
              "lambda 從 100 到 1e6，每大 10 倍，新任務的 accuracy 就更低", full_only=True)
course.expect(abs(new[1e7] - new[1e6]) < 0.03, "1e6 與 1e7 的新任務 accuracy 相差不到 0.03", full_only=True)
course.expect(new[1e4] < new_task_accuracy(naive.acc_matrix) - 0.1, "lambda = 1e4 時新任務的 accuracy 比 naive 低一成以上",
              full_only=True)
course.expect(all(forg[a] < forg[b] for a, b in zip(lams[3:6], lams[4:7])) and forg[1e7] > forg[1e4],
              "lambda 超過 1000 之後遺忘變多，一直到 1e6；1e7 仍比 1e4 多", full_only=True)

# %% [markdown]
# 在這個設定（exact Fisher、200 張圖的樣本平均、penalty 有 1/2、loss 是 batch 平均）下，對照上面的表：
# - $\lambda = 1$：penalty 太弱，只比 naive 好一點。
# - ACC 在 $\lambda = 100$ 最高。遺忘在 $\lambda = 1000$ 最少，但新任務已經學得比較差，ACC 反而比 $\lambda = 100$ 低。
# - 注意：這裡直接用**測試集**挑 $\lambda$，沒有另外切 validation set，所以 $\lambda = 100$ 的 ACC 偏樂觀。
#   認真比較方法時，要在 validation set 上挑。

# %% [markdown]
# $\lambda$ 再加大，兩件事一起發生：
# - 從 100 到 $10^6$，每大 10 倍，new-task accuracy 就更低：$\lambda = 10^4$ 時是 0.7270（naive 是 0.9045），
#   $\lambda = 10^6$ 時只剩 0.5135，$10^7$ 的 0.5255 和它差不多。新任務不是完全學不會，而是學得少很多。
# - $\lambda$ 超過 1000 之後，**遺忘反而變多**：$\lambda = 1000$ 時 forgetting 是 0.0035，$10^4$ 時 0.0335，
#   $10^6$ 時 0.1000，$10^7$ 時 0.0850。彈簧更硬，為什麼反而忘得更多？

# %% [markdown]
# ### $\lambda$ 太大時，遺忘為什麼又變多？兩個假說，實際測一測
#
# 1. **Adam 的抖動**：Adam 每一步大約移動 lr，不管 gradient 多大。被彈簧拉得很緊的參數（$\lambda F_i$ 很大）
#    於是在 $\theta^*_i$ 附近來回跳動，而這些正是對舊任務最重要的參數。
# 2. **Fisher 看不到的參數**：$\lambda$ 很大時，Fisher 大的參數都被釘住，新任務只能去動 $F_i$ 很小（甚至是 0）的參數。
#    penalty 說移動它們不傷 task 0，但 penalty 只是 $\theta^*$ 附近的二次近似（3.1 節）。
#
# 一個看似直接的測試：換成 SGD。SGD 沒有 Adam 的「每個參數步伐約 lr」，如果遺忘來自 Adam，換成 SGD 應該就會消失。
# 但 SGD 的步伐是 lr × gradient：被拉緊的參數每一步移動 $\text{lr}\cdot\lambda F_i\,(\theta_i-\theta^*_i)$，
# 只要 $\text{lr}\cdot\lambda F_i > 2$ 就會越跳越遠。先看 SGD 能不能在這個區間訓練：

# %%
from cl_helpers import ConfigError

F_max = max(float(f.max()) for f in ewc.strategy.fishers[0].values())
lr, sgd = 0.01, {}
for lam in (None, 1e2, 1e4):                                  # None: naive with the same SGD
    name = "naive" if lam is None else f"EWC lambda {lam:g} (rough estimate lr * lambda * max F = {lr * lam * F_max:.3g})"
    try:
        r = train_stream(stream, "naive" if lam is None else get_strategy("ewc", lam=lam), epochs=EPOCHS,
                         optimizer="sgd", lr=lr, progress=False)
        outcome = (f"ACC {r.summary()['acc']:.3f}, forgetting {r.summary()['forgetting']:.3f}, "
                   f"task 0 right after learning it {r.acc_matrix[0, 0]:.3f}")
        sgd[lam] = r
    except ConfigError as err:
        outcome = f"diverges ({err})"
    print(f"SGD lr {lr:g}, {name}: {outcome}")
print(f"max F: the largest entry of the Adam run's task-0 Fisher (section 3.3), {F_max:.2e}; a rough bound for stable SGD "
      f"at lambda 1e6: lr < 2 / (lambda * max F) = {2 / (1e6 * F_max):.1e}")
course.expect(sgd[None].acc_matrix[0, 0] < naive.acc_matrix[0, 0] - 0.1, "SGD lr 0.01 連 task 0 都學得比 Adam 差很多",
              full_only=True)
course.expect(abs(sgd[1e2].summary()["forgetting"] - sgd[None].summary()["forgetting"]) < 0.01,
              "用 SGD 時 EWC (lambda 100) 的遺忘和 naive 差不多", full_only=True)

# %% [markdown]
# 這個測試回答不了假說 1。SGD 在 $\lambda = 10^4$ 就發散了。上面印出的 $\text{lr}\cdot\lambda F_{\max}$ 只是**粗估**：
# $F_{\max}$ 取自 3.3 節 Adam 訓練的模型（SGD 的 run 用自己那個學得較差的模型算 Fisher），也沒算 task loss 本身的曲率。
# 照這個粗估，要在遺忘回升的 $\lambda = 10^6$ 穩定，learning rate 大約得降到上面印出的值，比這裡已經學得很慢的 lr 0.01
# 還小好幾個數量級：在遺忘回升的區間，SGD 實際上訓練不起來，「換成 SGD 遺忘會不會消失」也就比不了。

# %% [markdown]
# 它能說的是別的事：用 SGD 時，彈簧的硬度 $\lambda F_i$ 限制了 learning rate（Adam 把每個參數的步伐正規化到約 lr，
# 所以大 $\lambda$ 也不會爆掉）。$\lambda = 100$ 時 SGD 訓練得起來，但 ACC 只有 0.659：不是 EWC 的錯，
# 而是 lr 0.01 的 SGD 三個 epoch 學得很慢，連 naive 的 task 0 都只學到上面印出的 accuracy；
# 它學得少，也就忘得少，EWC 的遺忘和同樣 SGD 的 naive 差不多。

# %% [markdown]
# 換一個直接的測試：拿 $\lambda = 10^6$ 與 $10^7$ 的最終模型，把對 task 0 **最重要**的參數（$F_{0,i}$ 最大的一部分）
# 放回 $\theta^*_0$，再量 task 0 的 accuracy。如果遺忘來自重要參數的抖動，放回去就會恢復；如果來自 Fisher 小的參數，
# 放回去也沒用。每個 $\lambda$ 的最後三行：前兩行把參數分成 $F_{0,i} > 0$ 與 $F_{0,i} = 0$ 兩群，各自放回去；
# 第三行印出兩群參數最後離 $\theta^*_0$ 平均多遠。

# %%
from cl_helpers.experiments.stiffness import restore_by_importance, zero_fisher_split, silent_units

splits = {}
for lam in (1e6, 1e7):
    run_, split = by_lam[lam], zero_fisher_split(by_lam[lam], task=0)
    splits[lam] = split
    print(f"lambda {lam:g}: task 0 right after learning it {split['at_task_end']:.3f}, at the end {split['final']:.3f}")
    for frac, acc in restore_by_importance(run_, task=0, fractions=(0.5, 0.9)).items():
        print(f"  restore the {frac:.0%} of weights with the largest F_0 to theta*_0 -> task 0: {acc:.3f}")
    print(f"  restore every weight with F_0 > 0 ({1 - split['zero_fraction']:.1%}) -> task 0: {split['restore_nonzero']:.3f}\n"
          f"  restore only the weights with F_0 = 0 ({split['zero_fraction']:.1%}) -> task 0: {split['restore_zero']:.3f}\n"
          f"  mean |theta - theta*_0| at the end: F_0 > 0 {split['move_nonzero']:.1e}, F_0 = 0 {split['move_zero']:.1e}")
for split in splits.values():
    course.expect(split["restore_nonzero"] - split["final"] < 0.02 < split["at_task_end"] - split["final"],
                  "把所有 F_0 > 0 的參數放回 theta*，task 0 幾乎沒有恢復", full_only=True)
    course.expect(split["restore_zero"] > split["at_task_end"] - 0.01, "只把 F_0 = 0 的參數放回去，task 0 就恢復了",
                  full_only=True)
    course.expect(split["move_nonzero"] < 0.01 * split["move_zero"], "F_0 > 0 的參數移動不到 F_0 = 0 的百分之一",
                  full_only=True)

# %% [markdown]
# 在 $\lambda = 10^6$ 與 $10^7$，結果不支持假說 1：把 Fisher 大的參數（前 50%、前 90%，甚至所有 $F_{0,i} > 0$ 的參數）放回 $\theta^*_0$，task 0 幾乎沒有恢復；
# 它們本來就幾乎沒動（平均移動不到 $F_0 = 0$ 那一群的百分之一），Adam 的抖動不是原因。遺忘全部藏在 $F_{0,i}$ **恰好是 0**
# 的那一小群參數裡：只把它們放回去，task 0 就回到剛學完時的 accuracy。這些參數是什麼？

# %%
units = silent_units(by_lam[1e6], task=0)
for layer, u in enumerate(units, start=1):
    print(f"hidden layer {layer}: {u['silent']} of {u['units']} ReLU units output 0 on all of task 0's "
          f"{by_lam[1e6].strategy.importance_samples} Fisher images at theta*_0; of these, {u['silent_train']} stay silent "
          f"on all its training images, {u['silent_test']} on all its test images, and {u['woken']} of those "
          f"{u['silent_test']} are active on at least one of the same test images in the final model (lambda 1e6)")
print(f"weights into or out of these units: {splits[1e6]['zero_on_silent']:.1%} of the weights with F_0 = 0")
course.expect(splits[1e6]["zero_on_silent"] > 0.95, "F_0 = 0 的參數幾乎都接在這些不啟動的 unit 上", full_only=True)
course.expect(all(2 * u["woken"] > u["silent_test"] for u in units),
              "在 theta*_0 對 task 0 測試圖不啟動的 unit，大多數在最後的模型裡啟動了", full_only=True)
course.expect(all(u["silent_train"] < u["silent"] for u in units), "有些 unit 只在 Fisher 的 200 張圖上不啟動", full_only=True)

# %% [markdown]
# 幾乎全部是接在「task 0 的 Fisher 圖上從來不啟動（輸出都是 0）的 ReLU unit」上的參數：進這些 unit 的權重與 bias、
# 從它們出去的權重。unit 不啟動，這些參數在那 200 張圖上的 gradient 都是 0，$F_i$ 也就是 0：在 $\theta^*_0$ 附近，
# 至少在這些圖上，task 0 的 loss 對它們是平的。上面也用**同一批圖**比較前後：在 $\theta^*_0$ 對 task 0 全部測試圖都不啟動的
# unit，大多數在最後的模型裡，至少對其中一張測試圖啟動了（上面印出的 active）。
#
# 一個合理的解讀（上面沒有直接量）：學 task 1、2 時，這些參數被改動，讓 unit 啟動；任務之間共用同一層權重
# （只是輸入像素的順序不同），這些 unit 的輸出又經過共用的 head，於是改變了 task 0 的預測。

# %% [markdown]
# 不過上面也印出：有幾個 unit 只在那 200 張圖上不啟動，在 task 0 的全部訓練圖上會啟動。所以 3.1 節列的另一個近似
# 「$F$ 是用少數訓練圖估計的」也可能有份。直接測：用 task 0 **全部**訓練圖算 Fisher，再跑一次 $\lambda = 10^6$：

# %%
n_all = len(stream[0].y_train)
all_F = train_stream(stream, get_strategy("ewc", lam=1e6, importance_samples=n_all), epochs=EPOCHS, progress=False)
split_all = zero_fisher_split(all_F, task=0)
print(f"lambda 1e6, Fisher on all {n_all} training images of each task: F_0 = 0 for {split_all['zero_fraction']:.1%} "
      f"of the weights; forgetting {all_F.summary()['forgetting']:.4f} (Fisher on 200 images: {forg[1e6]:.4f})\n"
      f"  task 0: {split_all['at_task_end']:.3f} -> {split_all['final']:.3f}; restore only the weights with F_0 = 0 "
      f"-> {split_all['restore_zero']:.3f}")
course.expect(split_all["zero_fraction"] < splits[1e6]["zero_fraction"], "用全部訓練圖算，F_0 = 0 的參數比較少", full_only=True)
course.expect(all_F.summary()["forgetting"] > 5 * forg[1e3], "用全部訓練圖算 Fisher，lambda = 1e6 的遺忘仍是 lambda = 1000 的好幾倍",
              full_only=True)
course.expect(split_all["restore_zero"] - split_all["final"] > 0.8 * (split_all["at_task_end"] - split_all["final"]),
              "用全部訓練圖算 Fisher 時，只放回 F_0 = 0 的參數，task 0 也恢復了大半", full_only=True)

# %% [markdown]
# 用全部訓練圖算 Fisher，$F_0 = 0$ 的參數少了一些，但遺忘仍然在（上面印出），而且仍然藏在 $F_0 = 0$ 的參數裡：
# 只把它們放回去，task 0 就恢復了絕大部分（上面印出的數字）。所以 Fisher 用的圖太少不是主因：在 task 0 的**全部**訓練圖上，這些參數的 gradient 都是 0。
#
# 這**不是對角近似**的錯：這些參數在每個樣本上的 gradient 都是 0，完整的 Fisher 矩陣 $\mathbb{E}[g g^\top]$（含非對角線）在它們的
# 那幾列、幾行也全是 0；在 $\theta^*_0$，task 0 的訓練 loss 對它們是平的，完整的 Hessian 一樣看不到。

# %% [markdown]
# 錯在 **Laplace（二次）近似的局部性**，而且這裡的失敗方式很具體：ReLU 的轉折點。unit 不啟動時，task 0 的 loss 對這些參數
# **真的**是平的，二次式（這裡是 0）在這個區域內完全正確；但參數一旦越過轉折點、unit 開始對 task 0 的圖啟動，
# loss 就不再是平的，而 penalty 仍然說「這裡不用付代價」。這只需要跨過轉折點，不一定要走得很遠。
#
# 這個機制只在 $\lambda = 10^6$ 與 $10^7$ 測過（restore 的 cell）。$\lambda$ 在 1000 與 $10^6$ 之間遺忘為什麼增加，
# 這裡沒有直接測；而且遺忘並不是 $\lambda$ 越大越多（$10^7$ 比 $10^6$ 少，見 3.4 節的表）。

# %% [markdown]
# **為什麼文獻中的 $\lambda$ 差了好幾個數量級？** $\lambda$ 乘的是 $F$，所以 $F$ 的任何縮放都會反映在 $\lambda$ 上。
# 這裡的 $F$ 是 200 張訓練圖上的**平均**（每個樣本的 Fisher），loss 是 batch 平均，所以 3.1 節的 Bayesian 值是
# $\lambda = N_A / N_B = 1$，這裡的 $\lambda$ 就是它的倍數：$\lambda = 100$ 等於把 task A 的資料當成多了 100 倍
# （posterior 的標準差窄了 10 倍）。換一種正規化，同一根彈簧的 $\lambda$ 就不一樣（下一個 cell）。

# %% [markdown]
# 同一根彈簧，$\lambda$ 隨正規化改變：
# - Fisher 對樣本**加總**而不是平均：$F$ 大 200 倍，等效的 $\lambda$ 就小 200 倍；照 Bayesian 推導對 task A 全部
#   5000 張加總（$N_A F$），等效的 $\lambda$ 小 5000 倍。loss 改成 batch 加總則反過來，$\lambda$ 要變大。
# - penalty 有沒有 $\frac{1}{2}$（2 倍）；用哪一種 Fisher（argmax 比 exact 小得多，$\lambda$ 就要大得多；見 3.2 節的表）。
# - 模型有多「有把握」：$\partial \log p/\partial\theta$ 在預測機率接近 1 時接近 0，所以很容易的任務 Fisher 非常小。

# %% [markdown]
# 實際用的值因此差很多：
# - van de Ven et al. 的程式碼（GMvandeVen/continual-learning，*Three types of incremental learning*, Nature Machine
#   Intelligence 2022）在 split MNIST 上，EWC 的 $\lambda$ 在 task-incremental 設定是 $10^5$，在較難的
#   domain-incremental 與 class-incremental 設定用到 $10^{10}$ 與 $10^9$。
# - 課程原本的 notebook 用 argmax Fisher（同樣是 200 張圖的平均）、$\lambda = 5000$。
#
# 所以 $\lambda$ 不能從一篇論文直接抄到另一份程式碼：要在自己的設定下，在對數尺度上掃一遍。

# %% [markdown]
# ## 3.5 Online EWC：任務一多，只留一個 Fisher
#
# 原始 EWC 每個任務結束時各存一份 $(F_k, \theta^*_k)$，penalty 的項數與記憶體都隨任務數成長。
# **Online EWC**（Schwarz et al. 2018）只存一份累積的 Fisher 與最新的 anchor：
#
# $$F \leftarrow \gamma F + F_k, \qquad \theta^* \leftarrow \theta^*_k, \qquad 0 < \gamma \le 1.$$
#
# $\gamma = 1$ 正是 Bayesian 遞迴的正確形式（Huszár 2018：把上一個 posterior 當成下一個 prior，anchor 應該在最新的
# $\theta^*$）；$\gamma < 1$ 讓很舊的任務慢慢被「放掉」，用意是換取更多 plasticity（下面只有一個 seed 的 new-task accuracy，
# 說不準有沒有換到）。在 5 個任務的 stream 上比較：

# %%
stream5 = make_stream("permuted", n_tasks=pick(5, 3), train_size=pick(5000, 1000), test_size=pick(1000, 500),
                      seed=0, device=device)
runs5 = [train_stream(stream5, "naive", epochs=EPOCHS),
         train_stream(stream5, get_strategy("ewc", lam=LAM), epochs=EPOCHS)]
runs5[1].method = "EWC"
runs5 += [train_stream(stream5, get_strategy("online_ewc", lam=LAM, gamma=g), epochs=EPOCHS) for g in (1.0, 0.5)]
runs5[2].method, runs5[3].method = "online γ=1", "online γ=0.5"   # names for the table and plots
print(format_table(runs5))
for r in runs5[1:]:
    stored = sum(f.numel() for fisher in r.strategy.fishers for f in fisher.values())
    print(f"{r.method:<13} {len(r.strategy.fishers)} Fisher(s) stored: {2 * stored:,} floats with the anchors")
f5 = {r.method: r.summary()["forgetting"] for r in runs5}
new5 = {r.method: new_task_accuracy(r.acc_matrix) for r in runs5}
print("new-task accuracy: " + ", ".join(f"{m} {a:.3f}" for m, a in new5.items()))

# %%
fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
for r, ax in zip(runs5, axes):
    plots.plot_acc_matrix(r, ax=ax, title=r.method)
fig.tight_layout()
plt.show()

# %% [markdown]
# 記憶體的差別是確定的：分開的 EWC 每學完一個任務就存一份 Fisher 與 anchor（每份都和模型一樣大），online 永遠只存一份。
# 上面印出的份數包含最後一個任務的那一份：在這個 stream 裡沒有任何 penalty 用到它，真正需要的少一份。
# 遺忘的差別只是**一個 seed** 的結果，而且三種 EWC 的遺忘都很小，一次 run 說不準誰多誰少。再用 seed 1、2 各跑一次
# （同一個 stream，換初始權重、mini-batch 順序，以及 Fisher 抽的那 200 張圖；`run_seeds`），每個 seed 分開比：

# %%
import numpy as np
from cl_helpers import TrainConfig
from cl_helpers.experiments.seeds import run_seeds

settings = {"EWC": ("ewc", {"lam": LAM}), "online γ=1": ("online_ewc", {"lam": LAM, "gamma": 1.0}),
            "online γ=0.5": ("online_ewc", {"lam": LAM, "gamma": 0.5})}
per_seed = {name: [f5[name]] + [r.summary()["forgetting"] for r in run_seeds(
                stream5, [m], TrainConfig(epochs=EPOCHS), {m: hp}, seeds=(1, 2), progress=False)[0]]
            for name, (m, hp) in settings.items()}
for name, f in per_seed.items():
    print(f"{name:<13} forgetting with seeds 0, 1, 2: " + ", ".join(f"{v:.4f}" for v in f) + f"   (mean {np.mean(f):.4f})")
course.expect(all(a < b for a, b in zip(per_seed["online γ=1"], per_seed["EWC"])),
              "每個 seed 上 online EWC（gamma = 1）都比分開存的 EWC 忘得少", full_only=True)
course.expect(all(a > b for a, b in zip(per_seed["online γ=0.5"], per_seed["online γ=1"])),
              "每個 seed 上 gamma = 0.5 都比 gamma = 1 忘得多", full_only=True)
for a, b in (("online γ=1", "EWC"), ("online γ=0.5", "online γ=1")):
    d = np.subtract(per_seed[a], per_seed[b])      # paired: the same seed on both sides
    print(f"{a} minus {b}, per seed: " + ", ".join(f"{v:+.4f}" for v in d) + f"  (sd of the differences {np.std(d, ddof=1):.4f})")
print(f"if two methods forgot alike, all {len(d)} paired differences would share one given sign with chance "
      f"{0.5 ** len(d):.3f}")

# %% [markdown]
# 三個 seed 的方向都一樣：
# - online EWC（$\gamma = 1$）每個 seed 都比分開存的 EWC 忘得少。一個解釋：分開的 penalty 把參數拉向好幾個不同的舊 anchor
#   （$\theta^*_0$ 對 task 1 之後的任務並不好），而 online 的 anchor 是最新的參數，它已經兼顧了之前所有任務（Huszár 2018）。
# - $\gamma = 0.5$ 每個 seed 都比 $\gamma = 1$ 忘得多一點：舊的 Fisher 每個任務打一次對折，彈簧變鬆。
#
# 同一個 seed 的兩個 run 用同樣的初始權重與 mini-batch 順序，所以要看的是**每個 seed 的差**（上面印出），不是各方法在
# seed 之間的起伏。但 seed 只有三個：就算兩個方法其實一樣，三個差碰巧都朝同一個指定方向的機率也有上面印出的那麼大。
# 三個 seed 只是方向的提示，既證明不了方向，更說不準大小；要下結論得多跑幾個 seed。

# %% [markdown]
# ## 3.6 動手試試：$\lambda$ 與 epochs
#
# 拖動 slider（放開滑鼠才會重新訓練；看過的設定會存進快取，不再重算）。試試：
# - $\lambda$ 從 1 拉到 $10^7$：和 3.4 節的表一樣，遺忘先降到 $\lambda = 1000$ 的最低點，之後回升到好幾倍；
#   $\lambda$ 大於 100 之後新任務大致越學越差。slider 每格是半個數量級；停在表裡有的 $\lambda$、epochs 也和表一樣時，
#   可以拿來和那張表的同一列對照。
# - epochs 加多：EWC 的遺忘會變嗎？（第 1 章在 naive 上比較過 epochs 與 learning rate。）
#
# slider 一開始是 $\lambda = 10^4$（$\lambda = 100$ 就是 3.3 節的圖）。

# %%
from cl_helpers.teaching.widgets import explore, lambda_slider, epochs_slider
from cl_helpers.metrics import new_task_accuracy

def run(lam, epochs, report):   # report(done, total) drives the slider's progress bar
    return train_stream(stream, get_strategy("ewc", lam=lam), epochs=epochs, progress=False, report=report)

def show(r):
    s = r.summary()
    text = (f"λ = {r.strategy.lam:.3g} | epochs = {r.config['epochs']} | ACC {s['acc']:.3f} | "
            f"forgetting {s['forgetting']:.3f} | new-task acc {new_task_accuracy(r.acc_matrix):.3f}")
    return plots.plot_run(r), text

explore(run, show, lam=lambda_slider(1e4, 1.0, 1e7, description="EWC λ"),
        epochs=epochs_slider(EPOCHS, 1, 5))

# %% [markdown]
# ## 小結
#
# - EWC = 新任務的 loss + $\frac{\lambda}{2}\sum_i F_i(\theta_i-\theta^*_i)^2$：precision 正比於 Fisher 的 Gaussian prior（Laplace approximation + 對角 Fisher）。
# - Fisher 衡量「動這個參數會改變多少預測」。四種 Fisher 形狀幾乎相同、大小不同；對 `nn.Linear` 有 closed form。
# - $\lambda$ 的有效範圍取決於 Fisher 與 loss 的正規化：一定要自己掃。這裡 ACC 在 $\lambda = 100$ 最高（在測試集上挑的），遺忘在 $\lambda = 1000$ 最少。
# - $\lambda$ 很大（測了 $10^6$ 與 $10^7$）時遺忘又變多：藏在 $F = 0$ 的參數裡（task 0 上不啟動的 ReLU unit），是二次近似只在 $\theta^*$ 附近成立的代價，不是 Adam 的抖動。
# - Online EWC 只存一份 Fisher；這裡 $\gamma = 1$ 的 online EWC 三個 seed 都忘得比分開存的 EWC 少（只是提示，不是定論）。
# - EWC 不存舊資料，只「凍住」重要的參數，任務多時容量終究不夠。下一章改為新任務加上**低秩 adapter**（LoRA）。

# %% [markdown]
# ## 延伸閱讀
#
# - J. Kirkpatrick et al. Overcoming catastrophic forgetting in neural networks. [arXiv:1612.00796](https://arxiv.org/abs/1612.00796), 2017（*PNAS*）。
# - F. Huszár. Note on the quadratic penalties in elastic weight consolidation. [arXiv:1712.03847](https://arxiv.org/abs/1712.03847), 2018.（為什麼 anchor 應該在最新的 $\theta^*$）
# - J. Schwarz et al. Progress & compress: a scalable framework for continual learning. [arXiv:1805.06370](https://arxiv.org/abs/1805.06370), 2018.（online EWC）
# - F. Kunstner, L. Balles, P. Hennig. Limitations of the empirical Fisher approximation for natural gradient descent. [arXiv:1905.12558](https://arxiv.org/abs/1905.12558), 2019.（empirical Fisher 為什麼不是 Fisher）

# %% [markdown]
# 延伸閱讀（續）：
# - J. Martens. New insights and perspectives on the natural gradient method. [arXiv:1412.1193](https://arxiv.org/abs/1412.1193), 2014.（Fisher 與 Hessian 的關係）
# - 李宏毅，機器學習 2021 春，Life-long Learning 第二講（EWC、SI、MAS 等 regularization 方法）：[課程網頁](https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php)。

# %% [markdown]
# 本課程對應的作業：
# - [ML 2025 春 HW6](https://speech.ee.ntu.edu.tw/~hylee/ml/2025-spring.php)（= [GenAI-ML 2025 秋 HW8](https://speech.ee.ntu.edu.tw/~hylee/GenAI-ML/2025-fall.php)）：用 LoRA 在 GSM8K 上 fine-tune Llama-3.2-1B-Instruct，同時評 GSM8K 的 accuracy 與安全性（guard model 判為 safe 的回答所佔的比例；safe 的回答不一定是拒絕），也就是 fine-tuning 讓模型的回答變得多不安全。
# - 較早的作業：[ML 2022 春 HW14](https://speech.ee.ntu.edu.tw/~hylee/ml/2022-spring.php)（5 個 rotated MNIST 任務上比較 EWC、MAS、SI、RWalk、SCP）。

# %%
course.run_time()
