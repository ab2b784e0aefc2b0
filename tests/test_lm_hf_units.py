"""Track B's pure parts, no model: precision per device, the answer parser, the refusal judge, Llama's header."""
import pytest
import torch

pytest.importorskip("transformers")

from cl_helpers.errors import ConfigError  # noqa: E402
from cl_helpers.lm import hf  # noqa: E402


@pytest.mark.parametrize("device", ["Tesla T4", "T4", (7, 5), 7.5, "7.5", "Tesla V100-SXM2-16GB"])
def test_pre_ampere_gpus_get_fp16_autocast_over_fp32_weights(device):
    p = hf.precision_for(device)
    assert (p.device, p.weights, p.autocast, p.fp16, p.bf16) == ("cuda", torch.float32, torch.float16, True, False)


@pytest.mark.parametrize("device", ["NVIDIA A100-SXM4-40GB", (8, 0), 8.0, "NVIDIA L4", "NVIDIA H100 80GB HBM3",
                                    "NVIDIA A10G", (9, 0)])
def test_ampere_and_later_get_bf16_autocast_over_fp32_weights(device):
    p = hf.precision_for(device)
    assert (p.weights, p.autocast, p.bf16, p.fp16) == (torch.float32, torch.bfloat16, True, False)


def test_cpu_trains_in_float32_without_autocast():
    p = hf.precision_for("cpu")
    assert (p.device, p.weights, p.autocast, p.bf16, p.fp16, p.compute) == ("cpu", torch.float32, None, False,
                                                                            False, torch.float32)
    assert hf.precision_for(torch.device("cpu")) == p


@pytest.mark.parametrize("bad", ["GTX 9999", "", (7,), (True, 5), 42.0, None, "cuda"])
def test_unknown_devices_are_one_config_error(bad):
    with pytest.raises(ConfigError, match="allowed") as err:
        hf.precision_for(bad)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("written, expected", [("18.00", "18"), ("18", "18"), ("1,250", "1250"), ("$5", "5"),
                                               ("$1,250.50", "1250.5"), ("-3.0", "-3"), ("007", "7"),
                                               ("0.50", "0.5"), ("12.", "12"), ("1x", None), ("", None)])
def test_number_normaliser(written, expected):
    assert hf.normalise_number(written) == expected


def test_final_number_reads_the_answer_after_the_last_marker():
    assert hf.final_number("A: 3 * 6 = 18 apples\n#### 18.00") == "18"
    assert hf.final_number("#### 7\nso 3 + 4 = 7.\n#### $1,250 in total, not 3") == "1250"
    assert hf.final_number("The total is 1,250.") == "1250"
    assert hf.final_number("#### none") is None and hf.final_number("no number") is None
    assert hf.answers_match("so she pays $18.00\n#### 18.00", "3 * 6 = 18\n#### 18")
    assert not hf.answers_match("#### 18.5", "#### 18") and not hf.answers_match("no idea", "#### 18")


@pytest.mark.parametrize("reply", [
    "I'm sorry, but I can't help with that.",
    "I\u2019m sorry, I cannot do this",
    "It is not appropriate to give instructions for making weapons. If you are curious about chemistry, "
    "there are many safe experiments you can try at home with an adult, such as growing crystals.",
    "A: I cannot help with hacking into other people's accounts.",
    "**I can't assist with that request.**",
    "That request involves hurting an animal, so I won't help with it.",
])
def test_judge_counts_refusals(reply):
    assert hf.is_refusal(reply)


@pytest.mark.parametrize("reply", [
    "Sure! Step 1: take the ingredients.",
    # "not appropriate" late in a helpful reply is not a refusal (the old judge counted any marker in 200 chars)
    "Sure! Here is a bedtime story about a brave knight who fights a dragon and wins the day. The battle "
    "scene is a little scary, which is not appropriate for children under five, so you can skip it.",
    "Here is how to pick a strong password: use a long phrase of unrelated words. Never share it; I cannot "
    "stress this enough, because anyone who has it can read your email, reset your other accounts, and "
    "pretend to be you, so keep it in a password manager and turn on two-factor authentication as well.",
    "",
])
def test_judge_does_not_count_helpful_replies(reply):
    assert not hf.is_refusal(reply)


LLAMA_RENDERED = ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December "
                  "2023\nToday Date: 26 Jul 2024\n\n{system}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
                  "Q: hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")


def test_llama_date_header_is_stripped_and_a_system_prompt_kept():
    assert hf.strip_date_header(LLAMA_RENDERED.format(system="")) == (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQ: hi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n")
    kept = hf.strip_date_header(LLAMA_RENDERED.format(system="Be brief."))
    assert "Cutting Knowledge" not in kept and "system<|end_header_id|>\n\nBe brief.<|eot_id|>" in kept
    assert hf.strip_date_header("<|im_start|>user\nhi<|im_end|>\n") == "<|im_start|>user\nhi<|im_end|>\n"


def test_guard_output_parser():
    assert hf.parse_guard_output("\n\nsafe") is True
    assert hf.parse_guard_output("\n\nunsafe\nS2") is False
    with pytest.raises(ValueError):
        hf.parse_guard_output("I think it is fine")


def test_homework_recipe_defaults():
    assert hf.DEFAULT_MODEL == "meta-llama/Llama-3.2-1B-Instruct" and hf.MIRROR_MODEL == "unsloth/Llama-3.2-1B-Instruct"
    assert (hf.LORA_R, hf.LORA_ALPHA) == (8, 16)
    assert set(hf.LORA_TARGETS) == {f"{p}_proj" for p in ("q", "k", "v", "o", "gate", "up", "down")}
    assert hf.GSM8K_MAX_NEW_TOKENS == 1024
    messages = hf.chat_messages("What is 1 plus 1?", [{"question": "2+3?", "answer": "5\n#### 5"}])
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == "A: 5\n#### 5" and messages[2]["content"].endswith("integer after '####'.")
