"""Track B's code path, offline: a tiny random Llama from a config and a character tokenizer built here.

No weights are downloaded (HF_HUB_OFFLINE=1); the numbers of a random model mean nothing, so the tests check
the plumbing: prompts, greedy generation, the judge, the answer parser, full and LoRA fine-tuning.
"""
import os

import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("peft")

from cl_helpers.errors import ConfigError  # noqa: E402
from cl_helpers.lm import hf  # noqa: E402

os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="module")
def tiny():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    chars = list(" abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,?!:;'#$%-+*/=\n()")
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, **{c: i + 4 for i, c in enumerate(chars)}}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tok = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                  unk_token="<unk>")
    tok.padding_side = "left"
    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         intermediate_size=64, vocab_size=len(vocab), pad_token_id=0, bos_token_id=1,
                         eos_token_id=2, max_position_embeddings=256)
    return LlamaForCausalLM(config), tok


TRAIN = [{"question": "What is 2 plus 3?", "answer": "2+3=5\n#### 5"},
         {"question": "What is 4 plus 4?", "answer": "4+4=8\n#### 8"}]


def test_skip_reason_is_one_sentence_offline():
    reason = hf.skip_reason()
    assert reason is not None and reason.startswith("Track B skipped:") and reason.count("\n") == 0


def test_judge_and_answer_parser():
    assert hf.is_refusal("I'm sorry, but I can't help with that.")
    assert hf.is_refusal("I\u2019m sorry, I cannot do this")
    assert not hf.is_refusal("Sure! Step 1: take the ingredients.")
    assert hf.final_number("so 12 + 30 = 42\n#### 42") == "42"
    assert hf.final_number("The total is 1,250.") == "1250"
    assert hf.final_number("no number") is None


def test_prompt_generate_evaluate_and_finetune_offline(tiny):
    model, tok = tiny
    p = hf.prompt(tok, "What is 1 plus 1?", shots=TRAIN[:1])
    assert p.startswith("Q: What is 2 plus 3?\nA: 2+3=5") and p.endswith("Q: What is 1 plus 1?\nA: ")
    replies = hf.generate(model, tok, [p, "Q: hi\nA: "], max_new_tokens=5)
    assert len(replies) == 2 and replies == hf.generate(model, tok, [p, "Q: hi\nA: "], max_new_tokens=5)
    scores = hf.evaluate(model, tok, TRAIN, harmful=hf.HARMFUL_PROMPTS[:2], max_new_tokens=4)
    assert set(scores) == {"gsm8k_accuracy", "safety_rate"}
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    tuned, seconds = hf.finetune(model, tok, TRAIN, method="lora", steps=3, lr=1e-2, batch_size=2, rank=2)
    assert seconds > 0 and type(tuned).__name__ == "LlamaForCausalLM"  # LoRA merged back into a plain model
    changed = [n for n, p in tuned.named_parameters() if not torch.equal(p, before[n])]
    assert changed and all("proj" in n for n in changed)  # only linear layers moved (merged adapters)
    tuned, _ = hf.finetune(tuned, tok, TRAIN, method="full", steps=2, lr=1e-3, batch_size=2)
    assert any(not torch.equal(p, before[n]) for n, p in tuned.named_parameters() if "embed" in n)
    with pytest.raises(ConfigError):
        hf.finetune(tuned, tok, TRAIN, method="qlora")
