# %% [markdown]
# # 第 7 章：Generative Replay、Pseudo-rehearsal、Progressive Networks 與 PackNet
#
# 第 5 章的三大類方法表裡，有好幾個方法只出現了名字。這一章實際跑其中的 generative replay、
# Progressive Networks 與 PackNet，再加上表裡沒有的 pseudo-rehearsal：
# 1. **Generative replay**（Shin et al. 2017；van de Ven & Tolias 2018）：不存圖片，改存一個會「做夢」的生成模型，
#    用它產生舊任務的輸入，再由**上一個** classifier 決定它們的 label；練習 7.1 寫它的 loss，有自動檢查（7.1 節）；
# 2. 在 class-incremental split MNIST 上和第 5 章的方法比，並看看模型夢出了什麼（7.2 節）；
# 3. **Pseudo-rehearsal**（Robins 1995）：直接用雜訊當輸入；看看為什麼只用雜訊不夠（7.3 節）；
# 4. **Progressive Networks**（Rusu et al. 2016）與 **PackNet**（Mallya & Lazebnik 2018）：知道 task id 時完全不遺忘；
#    一個參數隨任務數成長，一個容量固定（7.4 節）；
# 5. 用 slider 調 PackNet 的 prune fraction（7.5 節）；
# 6. 用這門課實作的所有方法的實測數字，填滿第 5 章的三大類表格（7.6 節）。

# %% [markdown]
# ⏱️ 執行時間：本章最後一個 cell 印出這次從頭跑到尾的實測時間；README 的章節表列出 full mode 在 2-core CPU 上的時間。
# generative replay 比其他方法多做的事最多：每個任務結束時，它還要另外訓練一個 VAE（7.2 節表格的 seconds 欄印出這次的秒數）。

# %%
# 環境設定 / Setup：同一個 cell 在 JupyterLab 與 Colab 都能用。
import sys, subprocess
if "google.colab" in sys.modules:  # Colab: install cl_helpers from the course repository (torch/ipywidgets untouched)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/__REPO__"], check=True)

import dataclasses
import matplotlib.pyplot as plt
from cl_helpers import course, make_stream, train_stream, get_strategy, run_methods, TrainConfig, plots, format_table
from cl_helpers.teaching.course import pick
from cl_helpers.teaching.quiz import ask

device = course.setup(seed=0)

# %% [markdown]
# ## 7.1 Generative replay：不存圖片，存一個會做夢的模型
#
# 第 5 章的 experience replay 要存舊任務的**真實圖片**。如果不能存（隱私、儲存空間），能不能改存一個**生成模型**，
# 需要時再「夢」出舊任務的圖片？這就是 generative replay（Shin et al. 2017 稱為 deep generative replay，DGR）。
# Shin et al. 的生成模型是 GAN；這裡和 van de Ven & Tolias (2018) 一樣用 VAE。

# %% [markdown]
# Generative replay 有兩個部分：
#
# - **Generator**：一個小的 VAE（variational autoencoder，`cl_helpers.vae.VAE`）。每個任務結束時，它學這個任務的圖片，
#   **同時重播自己上一版產生的圖片**；否則它也會遺忘，只會畫最新的兩個數字。
# - **Classifier**：任務從 0 數起。學 task $k$（$k \ge 1$）時，每個 mini-batch 除了目前任務的 $B$ 張圖，
#   再加上 $B$ 張 generator（task $k-1$ 結束時那一版）夢出來的圖，label 由**上一個任務結束時的 classifier**（凍結的副本）決定：
#   - hard labels：舊 classifier 在「已經見過的類別」中的 argmax；
#   - distillation（soft targets）：舊 classifier 在溫度 $T$ 下的 softmax，和 LwF 一樣乘上 $T^2$。

# %% [markdown]
# 兩部分的 loss 按任務數加權（van de Ven & Tolias 2018）：目前任務代表 1 個任務，重播的部分代表之前的 $t-1$ 個：
#
# $$\mathcal{L} = \frac{1}{t}\,\mathcal{L}_{\text{current}} + \Big(1 - \frac{1}{t}\Big)\,\mathcal{L}_{\text{replay}}$$
#
# 其中 $t$ 是到目前為止見過的任務數（包含目前這個）：學 task $k$ 時 $t = k + 1$。如果夢出來的輸入平均涵蓋每個舊任務，
# 每個任務的份量就都一樣，不管已經過了幾個任務。夢的內容是不是真的平均，7.2 節會讓 classifier 判讀來看。

# %%
ask("Class-incremental split MNIST（5 個任務、一個 10 類的 head、測試時不給 task id）：第 5 章 EWC 與 naive 都只有約 0.2，"
    "experience replay（1100 張真實圖片）約 0.85。Generative replay 不存任何圖片，你猜它的 ACC 大約是？",
    ["約 0.2：沒有真實圖片，就和 EWC 一樣", "約 0.4 到 0.6：有幫助但差很多",
     "0.7 以上：接近存真實圖片的 replay"],
    answer=2,
    explain="VAE 夢出來的數字雖然模糊，但足以讓舊類別和新類別出現在同一個 batch，"
            "這正是 class-incremental 需要的（第 5 章 5.3 節）。下面的表格是實測結果。",
    key="ch07-gr-acc")

# %% [markdown]
# ## 練習 7.1：generative replay 的 loss
#
# 完成 `replay_loss`：`logits`, `y` 是目前任務的 mini-batch；`replay_logits` 是**正在訓練的模型**在重播輸入上的 logits，
# `old_replay_logits` 是**上一個任務結束時的模型**在同樣輸入上的 logits（還沒見過的類別已經設成 $-\infty$）；
# `tasks_seen` 是 $t$。回傳上面的 $\mathcal{L}$（兩個 cross-entropy，重播部分用 hard labels）。
# 卡住了？執行過下面的 cell 之後（它匯入了 `replay_loss_exercise`），`replay_loss_exercise.hint(1)`、`hint(2)`、`hint(3)`
# 一步一步給提示，`hint(4)` 印出解答。

# %% tags=["exercise"]
import torch.nn.functional as F
from cl_helpers.teaching.exercises.ch07_generative import replay_loss_exercise   # for the hints

def replay_loss(logits, y, replay_logits, old_replay_logits, tasks_seen):
    """The loss L above for one step: a scalar tensor (hard labels on the replayed inputs)."""
    # BEGIN SOLUTION: Exercise 7.1: the generative replay loss (try replay_loss_exercise.hint(1))
    labels = old_replay_logits.argmax(1)
    w = 1.0 / tasks_seen
    return w * F.cross_entropy(logits, y) + (1 - w) * F.cross_entropy(replay_logits, labels)
    # END SOLUTION

# %%
my_replay_loss = replay_loss_exercise.check(replay_loss)

# %% [markdown]
# 檢查器會指出常見錯誤：重播輸入的 label 用了**正在訓練的模型**（模型只是附和自己的預測，舊類別會漂走）、
# 50/50 混合（只在 $t = 2$ 時剛好正確，從第三個任務起就錯了）、權重對調、直接相加、
# 把兩個 batch 接起來算一個 cross-entropy（那是 experience replay 的做法，權重由 batch 大小決定）、$t$ 差了 1（off-by-one）。
# 檢查器最後說「這一章接下來用你的函式／參考答案」，指的是 `my_replay_loss` 這個變數（所有練習共用這句話）；
# 但這一章之後不會再用到它：下面的實驗用的是 `cl_helpers` 裡的 generative replay strategy，它的 loss 和參考答案相同。
# 所以練習通過與否都不影響後面的結果。

# %% [markdown]
# ## 7.2 Class-incremental split MNIST：generative replay 對上其他方法
#
# 和第 5 章同一條 stream：5 個任務 {0,1}, …, {8,9}，一個 10 類的 head。比較 naive、EWC、SI、experience replay（buffer 1100 張）、
# pseudo-rehearsal，以及 generative replay 的兩個版本。每個任務同樣的 epochs、同樣的 Adam 設定。
# Generative replay 的 VAE 有多大、每次訓練幾步，印在表格上方。
#
# 資料和第 5 章一樣：每個任務取那兩個數字在載入的訓練集中最前面的 `SPLIT_TRAIN` 張圖。`cl_helpers` 依序在 `$CL_HELPERS_DATA`
# 與快取資料夾找 MNIST，都找不到就下載完整的 MNIST（例如從 Colab 直接打開這一章時）；下面印出的第一行（source）說明這次用的是哪一份。
# 存下來的輸出用的是課程附的 MNIST 子集（完整訓練集最前面的一段），每一對數字在其中都有至少 `SPLIT_TRAIN` 張（第二行印出每個任務實際取到的張數），
# 所以不論載入的是子集還是完整的 MNIST，選到的都是同一批圖片。

# %%
EPOCHS = pick(5, 2)
GEN_STEPS = pick(200, 40)
SPLIT_TRAIN = pick(1100, 300)   # first images of each digit pair, as in chapter 5: the same on the course subset and full MNIST
config = TrainConfig(epochs=EPOCHS)
split = make_stream("split", scenario="class", train_size=SPLIT_TRAIN, test_size=pick(1000, 300), device=device)
print(split)
print(f"per task: {len(split[0].y_train)} training images, {len(split[0].y_test)} test images")
cil = run_methods(split, ["naive", "ewc", "si", "replay", "pseudo_rehearsal"], config,
                  hparams={"replay": {"buffer_size": 1100}})
gr = train_stream(split, get_strategy("generative_replay", generator_steps=GEN_STEPS), config)
gr_distill = train_stream(split, get_strategy("generative_replay", generator_steps=GEN_STEPS, distill=True), config)
gr_distill = dataclasses.replace(gr_distill, method="generative_replay+distill")
cil += [gr, gr_distill]
print(f"classifier steps per task: {gr.task_boundaries[1]} ({EPOCHS} epochs of batch {config.batch_size})")
gs, d = gr.strategy, split.input_size
print(f"generator: a VAE, encoder {d}-{gs.generator_hidden}-(2x{gs.generator_latent}), decoder {gs.generator_latent}-"
      f"{gs.generator_hidden}-{d}; {gs.generator_steps} Adam steps (lr {gs.generator_lr:g}, batch {config.batch_size}) "
      f"after each of the first {len(gs.dreams)} tasks (after the last one nothing replays it, so it is not trained)")
print(format_table(cil))
plots.plot_comparison(cil, title="class-incremental split MNIST (5 tasks, one 10-way head)")
plt.show()

# %% [markdown]
# **記憶體**：replay 存的是圖片，generative replay 存的是 generator 的參數。下表的 "stored numbers" 是每個方法在訓練結束時，
# 模型之外**實際持有**的數字個數（`cl_helpers.experiments.family.stored_numbers` 逐一數 strategy 裡的 tensor），
# "(images)" 換算成等量的 28x28 圖片張數。注意 generative replay 訓練時還持有 generator 與 classifier 的凍結副本，
# 表格把它們也算進去；"new task" 是每個任務剛學完時的平均準確率（$R_{k,k}$ 的平均），"old tasks" 是最後對前 4 個任務的平均準確率。

# %%
from cl_helpers import count_parameters
from cl_helpers.experiments.family import format_family_table, stored_numbers

print(format_family_table(cil))
P = count_parameters(cil[0].model)
held = {r.method: stored_numbers(r) for r in cil}
print(f"\nthe classifier itself: {P:,} parameters (= {P / split.input_size:.0f} images)")
print("numbers held besides the classifier, in multiples of its size: "
      + ", ".join(f"{m} {n / P:.1f}x" for m, n in held.items() if m != "naive"))
g = gr.strategy.generator_parameters()
print(f"generator parameters alone: {g:,} (= {g / split.input_size:.0f} images); "
      f"replay buffer: 1100 images x ({split.input_size} pixels + label + task id) = {held['replay']:,} numbers")
print(f"generative replay holds {held['generative_replay']:,} = 2 x {g:,} (generator and its frozen copy) + {P:,} "
      f"(frozen classifier copy) + {held['generative_replay'] - 2 * g - P:,} (other small tensors)")
gr_bytes, buffer_bytes = 4 * held["generative_replay"], 1100 * (split.input_size + 2)   # float32 numbers vs uint8 pixels
print(f"in bytes: generative replay {gr_bytes / 1e6:.2f} MB (float32), replay buffer {buffer_bytes / 1e6:.2f} MB "
      f"(uint8 pixels, as MNIST stores them, + 1-byte label and task id)")

# %%
acc = {r.method: r.summary()["acc"] for r in cil}
print(f"generative replay ACC {acc['generative_replay']:.3f}, with distillation {acc['generative_replay+distill']:.3f}; "
      f"naive {acc['naive']:.3f}, EWC {acc['ewc']:.3f}, SI {acc['si']:.3f}, pseudo-rehearsal {acc['pseudo_rehearsal']:.3f}, "
      f"experience replay {acc['replay']:.3f}")
slowest_other = max(r.seconds for r in cil[:5])
print(f"seconds: generative replay {gr.seconds:.1f} and {gr_distill.seconds:.1f}; the slowest of the other methods "
      f"{slowest_other:.1f}")
gr_low = min(acc["generative_replay"], acc["generative_replay+distill"])
print(f"experience replay minus the lower generative replay: {acc['replay'] - gr_low:.3f}; "
      f"distillation minus hard labels: {acc['generative_replay+distill'] - acc['generative_replay']:+.3f}")
course.expect(gr_low >= 0.5, "generative replay 的兩個版本 ACC 都至少 0.5", full_only=True)
course.expect(gr_low > max(acc["naive"], acc["ewc"], acc["si"]) + 0.3,
              "generative replay 的兩個版本都比 naive、EWC、SI 高 0.3 以上", full_only=True)
course.expect(acc["replay"] - gr_low < 0.1, "generative replay 的兩個版本和 experience replay 相差都不到 0.1",
              full_only=True)
course.expect(acc["generative_replay+distill"] < acc["generative_replay"] + 0.01,
              "這次加上 distillation 沒有比 hard labels 好（高不到 0.01）", full_only=True)
course.expect(acc["generative_replay"] - acc["generative_replay+distill"] > 0.02,
              "這次 distillation 比 hard labels 低 0.02 以上（van de Ven & Tolias 2018 的兩者只差不到 0.01）", full_only=True)
course.expect(all(0.1 < acc[m] < 0.3 for m in ["naive", "ewc", "si", "pseudo_rehearsal"]),
              "naive、EWC、SI 與 pseudo-rehearsal 的 ACC 都在 0.2 附近（0.1 到 0.3 之間）", full_only=True)
course.expect(abs(acc["pseudo_rehearsal"] - acc["naive"]) < 0.1, "pseudo-rehearsal 與 naive 相差不到 0.1", full_only=True)
course.expect(held["generative_replay"] < held["replay"] and held["ewc"] > held["replay"],
              "generator 連同凍結副本持有的數字比 1100 張圖的 buffer 少；EWC 持有的比 buffer 多")
course.expect(gr_bytes > buffer_bytes, "以 bytes 算，generative replay 持有的比 uint8 的 buffer 多")

# %% [markdown]
# 從上面印出的 ACC 看：generative replay 的兩個版本（0.819 與 0.780）都遠高於 naive、EWC、SI 與 pseudo-rehearsal
# （後四個都停在 0.2 附近，也就是只認得最後兩個數字），和存真實圖片的 experience replay（0.854）相差不到 0.1
# （較低的那個差 0.074）。這次加上 distillation 並沒有比 hard labels 好，反而低了 0.039。
#
# 成本：pseudo-rehearsal 也是每一步讓舊 classifier 判讀一批重播輸入（它的輸入是雜訊）；generative replay 比它多做的是
# 每個任務結束時訓練一個 VAE，以及每一步多跑一次 decoder 來夢出重播輸入。上面 seconds 那一行印出這次的秒數
# （實際經過的時間，wall-clock time，也受機器當時的負載影響，不是精確的成本比較）。
#
# ACC 和 experience replay 的差距，是忘得比較多嗎？把它拆開來看：

# %%
GR = ["generative_replay", "generative_replay+distill"]
fg = {r.method: r.summary()["forgetting"] for r in cil}
new_cil = {r.method: float(r.acc_matrix.diagonal().mean()) for r in cil}
old_cil = {r.method: float(r.acc_matrix[-1, :-1].mean()) for r in cil}
for m in ["replay", *GR]:
    print(f"{m:<27} forgetting {fg[m]:.3f}   new task {new_cil[m]:.3f}   old tasks {old_cil[m]:.3f}")
course.expect(all(fg[m] < fg["replay"] for m in GR), "generative replay 的兩個版本都比 experience replay 忘得少",
              full_only=True)
course.expect(all(new_cil["replay"] - new_cil[m] > old_cil["replay"] - old_cil[m] for m in GR),
              "和 experience replay 比，generative replay 兩個版本在 new task 上的差距都比 old tasks 上的大", full_only=True)
course.expect(abs(fg[GR[1]] - fg[GR[0]]) < 0.03 and new_cil[GR[0]] - new_cil[GR[1]] > 0.02,
              "distillation 與 hard labels 的 forgetting 相差不到 0.03，new task 則低了 0.02 以上", full_only=True)

# %% [markdown]
# 不是。上面印出的 forgetting，generative replay 的兩個版本（0.070、0.063）都比 experience replay（0.103）小；
# 差距主要在 **new task**：兩個版本剛學完每個任務時的準確率（0.875、0.830）都比 experience replay（0.936）低，
# 這個差距比 old tasks 上的差距大。可能的原因之一是 loss 的權重：generative replay 給目前任務 $1/t$，任務越後面份量越小；
# experience replay 把兩個 batch 接起來算一個 cross-entropy，目前任務一直佔一半。另一個可能是夢本身模糊、label 也可能判錯；
# 本章沒有把這兩者分開測。distillation 與 hard labels 之間也是這樣：兩者的 forgetting 差不多，distillation 的 new task 卻低了不少。

# %% [markdown]
# 記憶體表中，generator 本身 214,096 個參數（約 273 張圖）。表中 generative replay 的 697,524 個數字
# （上面印出的拆解）是 generator、它的凍結副本、classifier 的凍結副本，再加上 10 個數字：`seen_units`，
# 一個記錄 10 個類別中哪些已經見過的 bool mask。合起來仍少於 1100 張圖的 buffer（864,600）。
# 注意這裡數的是**數字的個數**，不是 bytes：generator 的參數是 float32（每個 4 bytes），MNIST 的像素原本是 uint8（1 byte）。
# 以 bytes 算，generative replay（2.79 MB）反而比 buffer（0.86 MB）大。這個換算把 `seen_units` 的 10 個 bool 也當成
# float32 算了，多算的幾十個 bytes 可以忽略。

# %% [markdown]
# van de Ven & Tolias (2018) 在完整的 MNIST 上（MLP 2x400，每個任務 2000 iterations，20 個 seeds）得到：
#
# | 方法 | class-incremental split MNIST ACC（van de Ven & Tolias 2018） |
# |---|---|
# | None（naive） | 19.90% |
# | EWC | 19.90% |
# | SI | 20.04% |
# | LwF | 24.17% |
# | DGR | 91.24% |
# | DGR + distillation | 91.84% |
# | Offline（joint） | 97.93% |

# %% [markdown]
# 我們的資料約是他們的十分之一、每個任務只訓練 45 步（上面印出的 classifier steps per task；他們 2000 步），
# 所以數字比較低。大方向相同：regularization 停在約兩成，generative replay 遠高於它們。
# 兩個版本的高低則和論文相反：論文裡 distillation 稍高（91.84% 對 91.24%），這裡 distillation 反而低了 0.039，
# 比論文的差距大得多；我們只跑一個 seed（論文平均了 20 個），說不準這個方向在別的 seed 是否也一樣。

# %% [markdown]
# ### 模型的「夢」
#
# Strategy 保留了一組固定的 latent code $z$（`n_dreams` 個），每個任務結束後用當時的 generator 解碼一次。
# 下圖每一列是一個任務之後的解碼結果；最後一個任務之後不需要再重播，generator 不再訓練，所以少一列。
# 每一直欄都是**同樣的 $z$**：看它們隨任務累積變成哪些數字。

# %%
plots.plot_dreams(gr.strategy.dreams, split.image_shape, n=gr.strategy.n_dreams,
                  title="generative replay: the VAE's samples after each task (same latent codes in every row)")
plt.show()

# %% [markdown]
# 第一列是只學過 0 和 1 之後的 generator；之後每一列多學了一個任務。用眼睛判讀這些模糊的圖並不可靠，
# 所以讓訓練完的 classifier（它的 ACC 在上表）來判讀每一列，數一數每個已學過的數字出現幾次，
# 以及被判成還沒學過的數字的張數（"unseen"；"older digits" 的百分比以全部樣本為分母）。
# 注意判讀者就是 generative replay 自己的 classifier，它正是用這些夢訓練的，傾向認同它們：判讀結果偏樂觀，只能看大概。

# %%
import torch

judge = gr.model.eval()
counts, shares, unseen = [], [], []
for t, images in enumerate(gr.strategy.dreams):
    with torch.no_grad():
        digit = judge(images.to(device).flatten(1)).argmax(1).cpu()
    counts.append(torch.bincount(digit, minlength=10)[:2 * (t + 1)])
    old_share = counts[-1][:2 * t].sum().item() / len(digit)
    shares.append((old_share, t / (t + 1)))
    unseen.append(len(digit) - int(counts[-1].sum()))
    print(f"after task {t}: " + "  ".join(f"{d}:{int(c)}" for d, c in enumerate(counts[-1])) + f"  unseen:{unseen[-1]}"
          + f"   | older digits {old_share:.0%} of {len(digit)} (an even split: {t / (t + 1):.0%}, "
          f"gap {100 * (old_share - t / (t + 1)):+.0f} points)")
sd = (0.5 * 0.5 / len(digit)) ** 0.5   # binomial standard deviation of a share of len(digit) samples, at its largest
print(f"sampling noise of a share of {len(digit)} samples: a standard deviation of up to {100 * sd:.0f} points "
      f"({sd * len(digit):.1f} images)")
course.expect(all(abs(o - e) < 2 * sd for o, e in shares), "每一列舊數字的比例和平均分配相差都不到兩個標準差",
              full_only=True)
course.expect(all(c[:2 * t].sum() > 0 for t, c in enumerate(counts) if t > 0), "第二列起每一列都還有更早任務的數字",
              full_only=True)
course.expect(counts[-1].min() <= 1, "最後一列有些學過的數字只出現 0 或 1 次", full_only=True)
course.expect(any(o < e for o, e in shares[1:]) and any(o > e for o, e in shares[1:]),
              "第二列起，舊數字的比例有的低於、有的高於平均分配", full_only=True)
course.expect(any(unseen), "有些列有被判成還沒學過的數字", full_only=True)

# %% [markdown]
# 上面印出的第二列起，每一列都還有更早任務的數字：generator 靠重播自己的舊樣本把舊數字帶著走。
# 份量平不平均，每列只有 20 個樣本，說不準：舊數字的比例第二列 30%（平均分配 50%）、第三列 50%（67%）、
# 最後一列 80%（75%），有低有高，和平均分配差了上面印出的 -20、-17、+5 個百分點。
# 20 個樣本的比例，抽樣起伏的標準差最大約 11 個百分點（上面最後一行），這些差距都不到兩個標準差：
# 前兩列的舊數字可能真的偏少，也可能只是抽樣的起伏，這麼少的樣本分不出來。
# 比較明顯的是個別的數字：最後一列有些學過的數字只出現 0 或 1 次，幾乎被擠掉了。
# 有些列還有幾張被判成還沒學過的數字（unseen）：可能畫得太模糊，也可能是判讀錯了。
#
# 課程 repository 的 `tests/` 資料夾裡，`tests/test_generative_replay.py` 另外訓練一個 classifier 來判讀更多樣本
# （Colab 只安裝了 `cl_helpers` 套件，沒有這個資料夾：請在 GitHub 上或 clone 下來的 repository 裡看）：
# 重播自己的 generator 在 task 1 之後仍有超過一成的樣本是 0 或 1（平均分配會是一半），
# 而「不重播自己」的 generator 幾乎完全畫不出 0 和 1。

# %% [markdown]
# ## 7.3 Pseudo-rehearsal：用雜訊代替夢
#
# Robins (1995) 的 pseudo-rehearsal 連生成模型都不用：他一次產生一組固定的 pseudo-items（隨機的二元輸入），
# 記下舊網路在這些輸入上的輸出，學新任務時一起「複習」。這裡的 `pseudo_rehearsal` 是同樣精神的版本：
# 每一步重新抽一批均勻雜訊（每個像素在資料的數值範圍內均勻分布），以舊 classifier 在溫度 $T$ 下的輸出當 soft targets，
# 用和 generative replay 一樣的 $1/t : (t-1)/t$ 加權。Robins 的設定是很小的網路、低維度的輸入；
# 但 784 維的均勻雜訊離手寫數字非常遠：在雜訊上保持輸出不變，幾乎不限制模型在真實數字上的行為。
# 上表 class-incremental 的結果和 naive 差不多。在舊任務的類別不會被新任務蓋掉的情境呢？
# 下面用 domain-incremental 的 permuted MNIST 試試，並和 LwF 比：

# %%
perm = make_stream("permuted", n_tasks=3, train_size=pick(2000, 500), test_size=pick(500, 200), seed=0, device=device)
pr = run_methods(perm, ["naive", "pseudo_rehearsal", "lwf"], TrainConfig(epochs=pick(3, 1)))
print(perm)
print(format_table(pr))
forg = {r.method: r.summary()["forgetting"] for r in pr}
print(f"forgetting: naive {forg['naive']:.3f}, pseudo-rehearsal {forg['pseudo_rehearsal']:.3f}, LwF {forg['lwf']:.3f}")
for r in pr[1:]:
    print(f"settings of {r.method}: {r.config['hparams']}")
course.expect(forg["lwf"] < min(forg["pseudo_rehearsal"], forg["naive"]) - 0.03,
              "permuted MNIST 上 LwF 比 pseudo-rehearsal 與 naive 都少忘 0.03 以上", full_only=True)
course.expect(abs(forg["pseudo_rehearsal"] - forg["naive"]) < 0.05,
              "permuted MNIST 上 pseudo-rehearsal 與 naive 的 forgetting 相差不到 0.05", full_only=True)

# %% [markdown]
# 上面印出的 forgetting：在 permuted MNIST（domain-incremental）上，pseudo-rehearsal（0.152）和 naive（0.170）差不多
# （相差不到 0.05；只有一個 seed、每個任務幾百張測試圖，這點差距分不出誰高誰低）；LwF（0.091）明顯忘得最少。

# %% [markdown]
# Pseudo-rehearsal 和 LwF 都拿舊模型的輸出當 distillation 的 target，但不只是輸入不同：
# LwF 在**目前任務的真實圖片**上做 distillation，loss 是 cross-entropy $+\ \alpha\,T^2\,\mathrm{KL}$（$\alpha$ 與 $T$ 印在上面的 settings）；
# pseudo-rehearsal 另外抽一批**雜訊**，按 $1/t : (t-1)/t$ 加權。所以這不是只換輸入的對照實驗。
# 只換重播輸入的比較，Shin et al. (2017) 做過：重播雜訊幾乎保不住舊任務，重播 generator 的樣本則可以。
# Robins (1995) 則是在很小的網路、低維度的輸入上，用隨機的 pseudo-items 就有效。這裡的結果和兩者都不矛盾，
# 但不足以單獨證明「複習的輸入越像真實資料越好」。在 class-incremental 的表格裡，均勻雜訊幾乎沒有幫助，
# generator 模糊的夢卻有（7.2 節）。

# %% [markdown]
# ## 7.4 Architecture 類：Progressive Networks 與 PackNet
#
# 這兩個方法都需要**測試時的 task id**（task-incremental），換來的是**完全不遺忘**。

# %% [markdown]
# 兩個方法的做法：
#
# - **Progressive Networks**：每個任務一個新的 column（一個完整的 MLP），之前的 columns 全部凍結。新 column 的第一個
#   hidden layer 只讀輸入（所有 columns 讀同一個輸入）；之後的每一層（包含輸出層）除了讀自己的上一層，
#   也透過 lateral connections 讀所有舊 columns 的上一層（舊的特徵可以重用，但不會被改）。
#   這裡的 laterals 是線性的（沒有 bias 的矩陣，Rusu et al. 式 (1) 的形式）；他們的實驗用的是非線性的 adapter。
#   Task $k$ 的輸出只由 columns $0..k$ 計算，所以之後的任務根本碰不到它。代價：參數隨任務數成長。
# - **PackNet**：只有一個網路，容量固定。每個任務訓練目前「空著」的權重；結束時先 prune：把其中絕對值最小的一部分
#   （prune fraction）設成 0、留給之後的任務；再把留下的權重重新訓練一小段（`retrain_epochs` 個 epochs，
#   設定印在下一個 code cell 的最後一行；被 prune 的維持 0）；
#   最後這些權重歸這個任務所有並凍結。推論 task $k$ 時只用 tasks $0..k$ 擁有的權重。

# %% [markdown]
# 在 task-incremental split MNIST 上（每個任務自己的 2 類 head），和 naive 比。這一節的 MLP 每層 100 個 units
# （Progressive Networks 每個任務一整個 column，用小一點的 column 讓這一節快一些）：

# %%
til = make_stream("split", scenario="task", train_size=SPLIT_TRAIN, test_size=pick(1000, 300), device=device)
config_til = TrainConfig(epochs=pick(3, 1), hidden=(100, 100))
arch = run_methods(til, ["naive", "progressive", "packnet"], config_til)
print(til)
print(format_table(arch))
for r in arch[1:]:
    R = r.acc_matrix
    course.expect(all(R[-1, k] == R[k, k] for k in range(len(R))),
                  f"{r.method} 每個任務最後的準確率和剛學完時完全相等")   # bit for bit: no forgetting at all
    print(f"{r.method}: accuracy on every task right after it == at the end (BWT exactly {r.summary()['bwt']:.1f})")
til_acc = {r.method: r.summary()["acc"] for r in arch}
print(f"task-incremental MLP: hidden layers {config_til.hidden}, {config_til.epochs} epochs per task; "
      f"settings of packnet: {arch[2].config['hparams']}")
course.expect(til_acc["packnet"] < til_acc["naive"], "這次 PackNet 的 ACC 比 naive 低", full_only=True)

# %% [markdown]
# 上面表格下的兩行（progressive、packnet）：Progressive Networks 與 PackNet 每個任務最後的準確率，和剛學完時**完全相等**。
# （課程 repository 的 `tests/` 資料夾裡，`tests/test_progressive.py`、`tests/test_packnet.py` 更嚴格：舊任務的輸出 logits
# 逐位元相同；沒凍結的 column、會讓之後任務改到凍結權重的 mask，都會讓測試失敗。）
# 不遺忘不等於 ACC 高：這次 PackNet 的 ACC（0.9150）反而比 naive（0.9494）低。它的舊任務一點也沒忘，
# 但越後面的任務能訓練的權重越少，最後一個任務學得差；7.5 節會用 prune fraction 看這件事。
# 在 task-incremental 的設定下，naive 本來就忘得不多（上表的 forgetting 是 0.0338），所以「不遺忘」能贏回的本來就少。

# %% [markdown]
# ### Forward transfer：表格的 FWT 與 Rusu et al. 的 transfer
#
# Rusu et al. 設計 lateral connections，目的正是 **forward transfer**：新的 column 重用舊 columns 學到的特徵，
# 應該學得更快或更好。上表的 FWT 欄看起來像是在量這件事，但它量的是別的東西。這門課的 FWT（第 2 章，
# Lopez-Paz & Ranzato 2017）是「task $k$ **還沒訓練**時」的準確率 $R_{k-1,k}$ 減去隨機初始化時的 $b_k$。
# Progressive Networks 的 column $k$ 在 task $k$ 開始之前完全沒有訓練過：它的 2 類 head 是隨機權重，
# 讀到的舊特徵再好，輸出也只是隨機的猜測。先把 FWT 拆開來看：

# %%
import numpy as np
from cl_helpers.experiments.family import trained_alone

naive_til, pnn, packnet = arch
T = len(til)
R, b = pnn.acc_matrix, pnn.init_acc
fwt = {r.method: r.summary()["fwt"] for r in arch}
print("FWT: " + ", ".join(f"{m} {v:+.4f}" for m, v in fwt.items()))
print("progressive, task k before it is trained, R[k-1,k]: " + "  ".join(f"{R[k - 1, k]:.3f}" for k in range(1, T)))
print("progressive, task k at random init, b_k:            " + "  ".join(f"{b[k]:.3f}" for k in range(1, T)))
print("progressive, R[k-1,k] - b_k (FWT is their mean):    " + "  ".join(f"{R[k - 1, k] - b[k]:+.3f}" for k in range(1, T)))
guesses = [*R[np.arange(T - 1), np.arange(1, T)], *b[1:]]
course.expect(all(0.25 < a < 0.75 for a in guesses), "還沒訓練的 column 在它的任務上只是在猜（準確率在 0.25 到 0.75 之間）",
              full_only=True)
course.expect(fwt["progressive"] == max(fwt.values()), "三者中 Progressive Networks 的 FWT 最大", full_only=True)

# %% [markdown]
# 上面印出的第一行：三者中 Progressive Networks 的 FWT 最大（+0.0827），看起來像是 lateral connections 帶來了 transfer。
# 但第二、三行的 $R_{k-1,k}$ 與 $b_k$ 都是還沒訓練的 column $k$ 在猜，準確率在 0.5 上下、差得不少（都在 0.25 到 0.75 之間）。
# 兩者用的是**同一個** column $k$、同一組隨機權重；之間唯一的改變，是前面的 columns 已經訓練過了，
# 它們的新特徵經過 column $k$ 一樣沒訓練過的隨機 laterals，傳進這個隨機的 head。第四行是兩者的差，FWT 就是它們的平均。
# 所以這個差值量到的是「舊特徵變了之後，隨機 laterals 加上隨機 head 的猜測跟著變了多少」，可能變好也可能變差；
# 這裡沒有重複別的 seed，說不準它平均起來是不是接近 0。不論如何，它量到的不是「舊特徵幫新任務學得更好」：
# 這門課的 FWT 對還沒訓練的新 head 量不出 transfer。

# %% [markdown]
# Rusu et al. 量的 transfer 是另一件事：**訓練過程中與訓練之後**，有 laterals 的新 column 比一個只在 task $k$ 上
# 從頭訓練的 column 好多少。他們用學習曲線下的面積比較（學得多快），這裡只比訓練固定 epochs 之後的準確率：
# `trained_alone` 在 task $k$ 上從頭訓練一個同樣大小、同樣 epochs、同樣 seed 的網路。

# %%
alone = trained_alone(til, config_til)
print(f"{'task':<6}{'trained alone':>15}{'progressive':>13}{'naive':>8}   (accuracy right after training the task)")
for k in range(T):
    print(f"{k:<6}{alone[k]:>15.3f}{R[k, k]:>13.3f}{naive_til.acc_matrix[k, k]:>8.3f}")
gain = {r.method: float((np.diag(r.acc_matrix) - alone)[1:].mean()) for r in arch[:2]}
print("transfer, mean over tasks 1..4 of R[k,k] - trained alone: "
      + ", ".join(f"{m} {v:+.3f}" for m, v in gain.items()))
print(f"room left above trained alone: at most {1 - alone.min():.3f} (task {alone.argmin()})")
course.expect(all(abs(v) < 0.02 for v in gain.values()),
              "Progressive Networks 與 naive 學完每個任務後，平均和從頭單獨訓練的網路相差不到 0.02", full_only=True)
course.expect(alone.min() > 0.9, "每個任務單獨訓練的準確率都超過 0.9", full_only=True)

# %% [markdown]
# 上面的 transfer 那一行：和 Rusu et al. 的 baseline（單獨訓練的 column）比，Progressive Networks 與 naive 學完每個任務後的準確率，
# 平均和單獨訓練的網路相差都不到 0.02：這裡看不到 transfer，有 laterals 的 column 沒有比較好，也沒有比較差。
# 這不表示 laterals 沒用，而是這個實驗量不出來：每個任務單獨訓練就超過 0.9（上表 trained alone 那欄），
# 已經接近天花板，進步空間很小（最後一行：最多的那個任務也只剩 0.042）；我們只看訓練結束時的準確率，
# 沒有看 Rusu et al. 量的「學得多快」；
# 而且這裡的 laterals 是線性的，Rusu et al. 實驗用的是非線性的 adapter（舊特徵先乘上一個學到的純量、
# 投影到較低維度、經過非線性，再接進新 column），這也可能影響 transfer。

# %% [markdown]
# ### 參數量與任務數

# %%
from cl_helpers import count_parameters

PNN, PACK = "Progressive Networks (a column per task)", "PackNet (one network; owner values not counted)"
counts = {PNN: [pnn.model.n_parameters(k) for k in range(1, T + 1)],
          PACK: [count_parameters(packnet.model, trainable_only=False)] * T}
for name, values in counts.items():
    print(f"{name:<50}" + "  ".join(f"{v:>9,}" for v in values))
growth = np.diff(counts[PNN])
print(f"{'Progressive Networks: added by each task':<50}{'':>9}  " + "  ".join(f"{v:>9,}" for v in growth))
print(f"Progressive Networks: columns 1-{T - 1} and their laterals, added after the first column: {growth.sum():,}")
course.expect(all(np.diff(growth) > 0), "Progressive Networks 每個新任務增加的參數都比上一個多")
fig = plots.plot_parameter_growth(counts, title="parameters after each task (split MNIST, task-incremental)")
ax = fig.axes[0]
ax.lines[1].set(markerfacecolor="none", markersize=10)   # PackNet's square hollow: Progressive's first point shows
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Progressive Networks 每多一個任務就多一整個 column，再加上從每個舊 column 來的 lateral connections：column $k$
# （從 0 數起）在第一個 hidden layer 之後的每一層，都讀 $k$ 個舊 columns。上面 "added by each task" 那一行：
# 每個新任務增加的參數都比上一個多（99,002、109,202、119,402、129,602），多出的就是多讀一個舊 column 的 laterals。
# Laterals 的參數總數隨任務數的**平方**成長（Rusu et al.）；這裡只有五個任務、每個 column 本身佔了大部分，
# 所以曲線看起來還接近直線。
#
# 這裡每層的 laterals 是一個完整的線性矩陣，讀所有舊 columns 接起來的特徵。Rusu et al. 的 adapter 先把接起來的舊特徵
# 投影到較低的維度（一層的寬度），後面的部分因此小一些；但投影矩陣的輸入一樣隨舊 columns 的數目變寬，
# 所以 adapter 的參數總數一樣隨任務數的平方成長。圖中橫軸 1 的位置（只學過一個任務），PackNet 的空心方塊和
# Progressive Networks 的點幾乎重疊（89,610 與 88,802）：一開始兩者差不多大。
#
# PackNet 的參數量不變，另外每個權重需要一個 owner 值（哪個任務擁有它，或還空著）：用一個 byte 存時，
# 一個值要留給「空著」，unsigned 最多可以分給 255 個任務；這裡的實作用 signed int8、以 $-1$ 表示空著，owner 是 0 到 127，所以最多 128 個。
# PackNet 的代價在別處：每個任務只能用剩下空間的一部分。

# %% [markdown]
# ## 7.5 動手試試：PackNet 的 prune fraction

# %%
ask("PackNet 的 prune fraction = 每個任務結束時，把它訓練過的空權重中多少比例還回去（設成 0）給之後的任務。"
    "prune fraction 0.5、5 個任務之後，隱藏層還有多少比例的權重是空的？",
    ["約 50%", "約 10%", "約 3%"],
    answer=2,
    explain="每個任務拿走剩下空間的一半：0.5 → 0.25 → 0.125 → 0.0625 → 0.03125，也就是 0.5^5 ≈ 3%。"
            "容量以等比級數用完：越後面的任務，能訓練的權重越少（但它們可以讀前面凍結的權重）。",
    key="ch07-packnet-prune")

# %% [markdown]
# 拖動 slider 改變 prune fraction（放開滑鼠才會重新訓練；試過的值會被記住）：左圖是最後一個任務的準確率，以及訓練完之後還空著的權重比例
# （等於 prune fraction 的 5 次方，5 是任務數；虛線畫出這條曲線）；右圖是這次的 accuracy matrix。先跑幾個值當起點：

# %%
from cl_helpers.teaching.widgets import explore, float_slider

tried, first = {}, {}
for prune in [0.2, 0.8]:
    r = train_stream(til, get_strategy("packnet", prune=prune), config_til, progress=False)
    tried[prune], first[prune] = (r.acc_matrix[-1, -1], r.strategy.free_fraction()), r.acc_matrix[-1, 0]
    print(f"prune {prune:.1f}: each task takes {1 - prune:.0%} of the weights still free and leaves {prune:.0%} "
          f"for later tasks; the last task could train {r.strategy.trainable_share(len(til) - 1):.2%} of the weights")
    print(f"   last task {tried[prune][0]:.3f}, first task {first[prune]:.3f}, "
          f"weights free at the end {tried[prune][1]:.4f}, ACC {r.summary()['acc']:.3f}")
course.expect(tried[0.2][0] < tried[0.8][0] - 0.1, "prune 0.2 時最後一個任務的準確率比 prune 0.8 時低", full_only=True)
course.expect(abs(first[0.2] - first[0.8]) < 0.02, "第一個任務在兩種 prune fraction 下差不到 0.02", full_only=True)

# %%
def run(prune, report):   # report(done, total) drives the slider's progress bar
    return train_stream(til, get_strategy("packnet", prune=prune), config_til, progress=False, report=report)

def show(r):
    prune = r.config["hparams"]["prune"]
    tried[prune] = (r.acc_matrix[-1, -1], r.strategy.free_fraction())
    text = (f"prune = {prune:.2f} | last task {tried[prune][0]:.3f} | weights free at the end {tried[prune][1]:.4f} | "
            f"ACC {r.summary()['acc']:.3f}")
    fig = plots.plot_prune_effect(tried, r)
    ax = fig.axes[0]
    ax.lines[1].set(linestyle="none", clip_on=False)   # tried runs as markers only; the one near 0 is not cut by the axis
    xs = np.linspace(0, 1, 101)
    ax.plot(xs, xs ** T, color="tab:gray", lw=1, ls="--", label=f"prune fraction$^{T}$ (exact share still free)")
    ax.legend(fontsize=8, loc="upper left")
    return fig, text

explore(run, show, prune=float_slider("prune fraction", 0.5, 0.05, 0.95, 0.05))

# %% [markdown]
# 從上面印出的兩次 run 與 slider 的結果看：prune 0.2 時，前四個任務各拿走剩下空間的 80%，
# 最後一個任務只能訓練 $0.2^4 \approx 0.16\%$ 的權重，它的準確率（0.569）比 prune 0.8 時（0.940）低得多；
# 第一個任務則在兩種設定下幾乎一樣（兩次都印出 1.000）：它先挑，容量總是夠。
# Slider 的起始值 0.5 就是 7.4 節 PackNet 用的設定：它的最後一個任務只有 0.752，正是 7.4 節 PackNet 的 ACC（0.915）偏低的原因。
# 容量是 PackNet 的瓶頸，prune fraction 決定它怎麼分給前面與後面的任務。Progressive Networks 沒有這個問題，
# 但每個任務付出一整個 column。

# %% [markdown]
# ## 7.6 三大類方法：實測的表格
#
# 第 5 章的表格只有文字。這裡用這門課實作的所有方法實測（GEM、iCaRL 等沒有實作的方法不在其中），分成兩個表：
# class-incremental split MNIST（不給 task id 的方法），以及 task-incremental split MNIST（Progressive Networks、PackNet
# 與 `lora_per_task` 測試時需要 task id）。
# 同一個表裡的方法用同樣的設定，但兩個表的設定不同：class-incremental 表沿用 7.2 節的 MLP（classifier 本身 269,322 個參數）、
# 每個任務 5 個 epochs；task-incremental 表沿用 7.4 節每層 100 個 units 的小 MLP（`config_til`）、每個任務 3 個 epochs
# （兩者都是上面印出的設定）。
# 所以 stored numbers、(images) 與準確率只能在同一個表裡比較，不能跨表比。
# 欄位同上：持有的數字個數、剛學完時的準確率（new task）、最後對舊任務的準確率（old tasks）、ACC。

# %%
more = run_methods(split, ["joint", "online_ewc", "mas", "agem", "lwf", "lora"], config,
                   hparams={"agem": {"buffer_size": 1100}})
print("class-incremental split MNIST (one 10-way head, no task id at test)")
print(format_family_table([*cil, *more]))
print()
lpt = train_stream(til, "lora_per_task", config_til, progress=False)
print("task-incremental split MNIST (task id given at test)")
print(format_family_table([*arch, lpt]))

# %%
runs = {r.method: r for r in [*cil, *more]}
old = {m: float(r.acc_matrix[-1, :-1].mean()) for m, r in runs.items()}
new = {m: float(np.diag(r.acc_matrix).mean()) for m, r in runs.items()}
REG, KEEP = ["ewc", "online_ewc", "si", "lwf"], ["replay", "generative_replay", "generative_replay+distill"]
print("old tasks (class-incremental): " + ", ".join(f"{m} {old[m]:.3f}" for m in [*REG, "mas", *KEEP, "agem"]))
acc_all = {m: r.summary()["acc"] for m, r in runs.items()}
print(f"lora: new task {new['lora']:.3f} (naive {new['naive']:.3f}), ACC {acc_all['lora']:.3f} (naive {acc_all['naive']:.3f})")
for m in ["ewc", "online_ewc", "si", "mas", "lwf"]:
    print(f"settings of {m}: {runs[m].config['hparams']}")
course.expect(all(old[m] < 0.1 for m in [*REG, "pseudo_rehearsal"]),
              "EWC、online EWC、SI、LwF 與 pseudo-rehearsal 的 old tasks 都低於 0.1", full_only=True)
course.expect(0.1 < old["mas"] < min(old[m] for m in KEEP) - 0.3,
              "MAS 的 old tasks 高於 0.1，但比 experience replay 與 generative replay 低 0.3 以上", full_only=True)
course.expect(min(old[m] for m in KEEP) > 0.7 and old["agem"] < min(old[m] for m in KEEP),
              "experience replay 與 generative replay 的 old tasks 都高於 0.7，A-GEM 比它們低", full_only=True)
course.expect(new["lora"] < new["naive"] - 0.2 and acc_all["lora"] < acc_all["naive"],
              "lora 的 new task 比 naive 低 0.2 以上，ACC 也比 naive 低", full_only=True)
til_new = {r.method: float(np.diag(r.acc_matrix).mean()) for r in arch}
til_old = {r.method: float(r.acc_matrix[-1, :-1].mean()) for r in arch}
course.expect(til_old["packnet"] > til_new["packnet"], "PackNet 的 old tasks 比 new task 高", full_only=True)
lpt_sum = lpt.summary()
print(f"lora_per_task: ACC {lpt_sum['acc']:.3f} (naive {til_acc['naive']:.3f}), BWT {lpt_sum['bwt']:.3f}")
course.expect(lpt_sum["acc"] < til_acc["naive"] and abs(lpt_sum["bwt"]) < 1e-9,
              "lora_per_task 的 ACC 比 naive 低，BWT 是 0", full_only=True)

# %% [markdown]
# 從上面的表與印出的 old tasks 讀出各類的取捨。先看不需要 task id 的兩類（class-incremental 表）：
#
# - **Regularization**（EWC、online EWC、SI、MAS、LwF）：持有的是參數的重要性與 anchor（或舊模型），不存資料；
#   class-incremental 時 old tasks 幾乎是 0。MAS 是例外：它的 old tasks（0.253）明顯高於 0，但仍遠低於 experience replay 與 generative replay。
#   這和文獻不一樣：Hsu et al. (2018) 的 class-incremental split MNIST 裡，MAS 和其他 regularization 方法一樣停在約兩成。
#   原因本章沒有追查（可能和這裡的 regularization 強度、很短的訓練有關；各方法的設定印在上面），先把它當成一次 run 的結果。
# - **Replay**（experience replay、A-GEM、generative replay、pseudo-rehearsal）：experience replay 與 A-GEM 存圖片，
#   generative replay 存 generator（加上訓練時的凍結副本）。experience replay 與 generative replay 的 old tasks 都高於 0.7；
#   A-GEM（0.551）明顯低（它只用 buffer 限制 gradient 的方向，不直接在舊圖片上訓練）；pseudo-rehearsal 是 0。

# %% [markdown]
# 再來是 task-incremental 表裡的 **architecture** 類（`lora_per_task`、Progressive Networks、PackNet，測試時都需要 task id）。
# Progressive Networks 與 PackNet 每個任務最後的準確率就是剛學完時的準確率（7.4 節的檢查）。
# 表裡它們的 new task 與 old tasks 不相等，並不是遺忘：new task 平均的是全部 5 個任務剛學完時的準確率，
# old tasks 平均的是前 4 個任務；PackNet 的 old tasks（0.956）比 new task（0.915）高，
# 因為 new task 的平均包含了容量最少、學得最差的最後一個任務。

# %% [markdown]
# 記憶體：Progressive Networks 在第一個 column 之外多出四個 column 與 laterals，共 457,208 個數字（7.4 節印出的）。
# 表中它的 stored numbers 是 456,400，因為表是和 naive 的模型比：naive 有 5 個 2 類 head，
# 比 Progressive Networks 的第一個 column 多了 4 個 head，這幾個 head 的參數就從差額裡扣掉了。
# PackNet 只多了每個權重的 owner 值（88,400 個）。
# `lora_per_task` 的 ACC（0.913）比 naive（0.949）低：task 0 之後每個任務只訓練自己的 adapter，新任務學得比訓練整個模型差；
# 它的 BWT 是 0，因為每個任務的 adapter 各自保留，不會被之後的任務改動。

# %% [markdown]
# 最後是放在 class-incremental 表裡的 `lora`，以及當作上限的 joint training。
# `lora`：task 0 訓練整個模型，之後每個任務訓練一個新的 low-rank adapter，任務結束時併入 base。
# 記憶體裡還留著 adapter 的 low-rank 因子（表中 lora 的 stored numbers），但它們的內容已經併入 base、
# 不是哪個任務專屬的參數。表按 `cl_helpers` 的分類（`cl_helpers.experiments.family` 的 `FAMILY`）把它放在 architecture
# （LoRA 常被歸為參數隔離類），但每個 adapter 併入之後，模型又是一個普通的 MLP，測試時也不需要 task id：
# 它其實是限制每個任務更新方向（low-rank）的 fine-tuning，所以放在 class-incremental 表。
# 它的 new task（0.660）遠低於 naive（0.962），ACC（0.103）也比 naive（0.186）低：新任務學得差，舊任務也沒保住。
# 新任務學得差，這裡有兩個可能的原因，本章沒有分開測：adapter 的 rank 有限；而且從 task 1 起，
# 這個實作把所有 bias 都凍結了，包括 head 上類別 2 到 9 的 bias。
#
# Joint training 把所有資料都留著：它是參考的上限，也是記憶體最大的一個。注意這裡的 joint 每個階段從上一個階段的模型
# 接著訓練（用目前見過的所有資料），不是論文裡一次從頭在全部資料上訓練的 offline joint。

# %% [markdown]
# ## 小結
#
# - **Generative replay** 不存圖片：一個重播自己的 VAE 夢出舊任務的輸入，由**上一個** classifier 決定 label；
#   新舊兩部分按 $1/t : (t-1)/t$ 加權。class-incremental 時兩個版本的 ACC 和存圖片的 experience replay 相差不到 0.1
#   （7.2 節印出的），遠高於 regularization。
# - **Pseudo-rehearsal** 用雜訊代替夢：這裡幾乎沒有幫助（可能因為 784 維的雜訊離手寫數字太遠；7.3 節的對照不只換了輸入，
#   無法單獨證明這一點，Shin et al. 2017 只換重播輸入的實驗支持這個解釋）。
# - **Progressive Networks** 與 **PackNet** 給了 task id 就完全不遺忘（測試檢查了逐位元相同）：前者參數隨任務成長，後者容量固定、
#   由 prune fraction 分配，越後面的任務能用的權重越少。
# - 下一章：把這些概念帶到 language model 的 fine-tuning。

# %% [markdown]
# ### 參考文獻
#
# - H. Shin, J. K. Lee, J. Kim, J. Kim. Continual learning with deep generative replay. NeurIPS 2017.
# - G. M. van de Ven, A. S. Tolias. Generative replay with feedback connections as a general strategy for continual learning. arXiv:1809.10635, 2018.
# - A. Robins. Catastrophic forgetting, rehearsal and pseudorehearsal. *Connection Science*, 1995.
# - A. A. Rusu et al. Progressive neural networks. arXiv:1606.04671, 2016.
# - A. Mallya, S. Lazebnik. PackNet: adding multiple tasks to a single network by iterative pruning. CVPR 2018.
# - D. P. Kingma, M. Welling. Auto-encoding variational Bayes. ICLR 2014.
# - D. Lopez-Paz, M. Ranzato. Gradient episodic memory for continual learning. NeurIPS 2017.
# - Y.-C. Hsu et al. Re-evaluating continual learning scenarios: a categorization and case for strong baselines. arXiv:1810.12488, 2018.

# %%
course.run_time()
