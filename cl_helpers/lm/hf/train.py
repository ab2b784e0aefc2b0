"""Fine-tuning with the homework's recipe: TRL's SFTTrainer, LoRA r=8 alpha=16 on the seven projections, or full.

The data are pre-tokenized by `prompts.training_example` (input_ids, labels), so the training prompt is the
evaluation prompt token for token and only 'A: answer' + EOS carry loss; SFTTrainer uses the labels as given.
Precision: master weights stay float32 (full fine-tuning never runs AdamW on bfloat16 weights), and the
forward pass autocasts to the device's dtype (`precision_for`: fp16 + loss scaling on a T4, bf16 from Ampere).
"""
from __future__ import annotations

import contextlib
import tempfile
import time
import warnings
from typing import Any, Sequence

import torch

from ...errors import ConfigError, check_choice, check_float, check_int, show_value
from .load import device_precision
from .prompts import chat_example, training_example

METHODS = ("full", "lora")
LORA_R = 8
LORA_ALPHA = 16
LORA_DROPOUT = 0.0  # the sample code has none ("TODO: Adds dropout" is one of the students' knobs)
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def collator(tok: Any) -> Any:
    """SFTTrainer's collator: pads input_ids with the pad token and labels with -100, on the right."""
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    return DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id)


def _is_quantized(model: Any) -> bool:
    """True for a bitsandbytes 4-bit/8-bit model (its weights cannot be updated or merged into exactly)."""
    return bool(getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False))


def add_lora(model: Any, rank: int = LORA_R, alpha: int | None = None, dropout: float = LORA_DROPOUT,
             targets: Sequence[str] = LORA_TARGETS) -> Any:
    """`model` wrapped by peft with LoRA adapters (float32) on the `targets` projections; the base is frozen."""
    from peft import LoraConfig, get_peft_model

    rank = check_int("rank", rank, 1)
    alpha = 2 * rank if alpha is None else check_int("lora_alpha", alpha, 1)
    dropout = check_float("lora_dropout", dropout, 0.0, 1.0, high_open=True)
    if _is_quantized(model):
        from peft import prepare_model_for_kbit_training

        # QLoRA: norms to float32 and gradient checkpointing, which a 16 GB T4 needs for 1B parameters.
        model = prepare_model_for_kbit_training(model)
    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in targets if t not in present]
    if missing:
        raise ConfigError(f"LoRA target modules {missing} are not in this model; allowed: "
                          f"{', '.join(sorted(t for t in present if t.endswith('proj')))}")
    return get_peft_model(model, LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, bias="none",
                                            target_modules=list(targets), task_type="CAUSAL_LM"))


def example(tok: Any, item: dict, shots: Sequence[dict] = (), max_length: int = 1024) -> dict[str, list[int]]:
    """The tokenized training example of one item: a word problem {"question", "answer"} in the n-shot format,
    or a chat turn {"request", "reply"} (a refusal, a helpful answer) as the safety evaluation prompts it."""
    if isinstance(item, dict) and {"question", "answer"} <= set(item):
        return training_example(tok, item["question"], item["answer"], shots, max_length)
    if isinstance(item, dict) and {"request", "reply"} <= set(item):
        return chat_example(tok, item["request"], item["reply"], max_length)
    raise ConfigError(f"a training item must have keys question and answer, or request and reply; got "
                      f"{show_value(item)}")


@contextlib.contextmanager
def _quiet_datasets():
    """`datasets` without progress bars inside the block (as they were after it)."""
    from datasets.utils import logging as ds_logging

    was = ds_logging.is_progress_bar_enabled()
    ds_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            ds_logging.enable_progress_bar()


def finetune(model: Any, tok: Any, train: Sequence[dict], method: str = "lora", steps: int = 100, lr: float = 1e-4,
             batch_size: int = 4, rank: int = LORA_R, max_length: int = 1024, seed: int = 0,
             shots: Sequence[dict] = (), lora_alpha: int | None = None, lora_dropout: float = LORA_DROPOUT,
             weight_decay: float = 0.0, optim: str | None = None, merge: bool = True) -> tuple[Any, float]:
    """Fine-tune on `train` (word problems in the n-shot `shots` prompt of evaluation, or chat turns: see
    `example`); returns (model, seconds).

    method="lora" merges the adapters into the float32 base afterwards (a plain model again), except on a
    4-bit base, where the PeftModel is returned unmerged (merging into NF4 would round the update away).
    merge=False keeps the PeftModel (to save the adapter alone). lora_alpha defaults to 2 * rank (16 at the
    homework's r=8). seconds: the training steps alone.
    """
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    check_choice("method", method, METHODS)
    steps, batch_size = check_int("steps", steps, 1), check_int("batch size", batch_size, 1)
    lr = check_float("learning rate", lr, 0.0, low_open=True)
    weight_decay = check_float("weight_decay", weight_decay, 0.0)
    seed = check_int("seed", seed, 0)
    if not train:
        raise ConfigError("finetune needs at least one training example")
    device = next(model.parameters()).device
    precision = device_precision(device)
    quantized = _is_quantized(model)
    # The adapters' random init comes from torch's global generator: seed it here, so that the same seed gives
    # the same run whatever ran before (the Trainer seeds it again only after the adapters exist).
    torch.manual_seed(seed)
    if method == "lora":
        model = add_lora(model, rank, lora_alpha, lora_dropout)
    else:
        if quantized:
            raise ConfigError("method 'full' cannot update 4-bit weights; allowed with load_in_4bit: 'lora'")
        # Master weights in float32: AdamW's small updates vanish when added to bfloat16/float16 weights.
        model = model.float()
        for p in model.parameters():
            p.requires_grad_(True)
    data = Dataset.from_list([example(tok, t, shots, max_length) for t in train])
    with tempfile.TemporaryDirectory() as out, warnings.catch_warnings():
        # TRL's config still sets transformers' deprecated gradient_checkpointing name: not the student's concern.
        warnings.simplefilter("ignore", FutureWarning)
        args = SFTConfig(output_dir=out, max_steps=steps, per_device_train_batch_size=batch_size, learning_rate=lr,
                         lr_scheduler_type="linear", warmup_steps=0, weight_decay=weight_decay,
                         # The homework's paged_adamw_32bit pages optimizer state to the CPU; it needs
                         # bitsandbytes, which only the 4-bit path requires. Both keep 32-bit AdamW states.
                         optim=optim or ("paged_adamw_32bit" if quantized else "adamw_torch"),
                         bf16=precision.bf16, fp16=precision.fp16, use_cpu=device.type == "cpu", seed=seed,
                         data_seed=seed, max_length=max_length, save_strategy="no", report_to="none",
                         logging_steps=max(1, steps // 10), disable_tqdm=True, dataloader_num_workers=0,
                         dataset_num_proc=None)
        with _quiet_datasets():  # SFTTrainer's dataset passes draw one progress bar each
            trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tok,
                                 data_collator=collator(tok))
        # Without tqdm (disable_tqdm) the Trainer prints every log dict; the losses stay in trainer.state.
        trainer.remove_callback(PrinterCallback)
        start = time.perf_counter()
        trainer.train()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    model = trainer.model
    if method == "lora" and not quantized and merge:
        model = model.merge_and_unload()  # into the float32 base: no bfloat16 rounding of W + BA
    tok.padding_side = "left"  # generation pads on the left
    model.eval()
    return model, seconds
