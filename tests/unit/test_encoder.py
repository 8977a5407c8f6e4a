"""The shared encoder: pooling, de-duplication, batching by length, bf16 probe, LoRA merge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from intel.errors import ConfigError
from intel.nlp.encoder import (
    BF16_TOLERANCE,
    DIM,
    LORA_MODULES,
    Encoder,
    apply_lora,
    cpu_supports_bf16,
    email_text,
    lora_state_dict,
)

TEXTS = [
    "Could you send me the signed contract by Friday?",
    "ok",
    "I am extremely disappointed with the delay on order 4471, which was promised for last week. " * 3,
    "",
    "Thanks!",
]


@pytest.fixture(scope="module")
def encoder() -> Iterator[Encoder]:
    yield Encoder(threads=2, bf16="off", batch_size=2).load()


def test_shape_and_unit_norm(encoder: Encoder) -> None:
    vecs = encoder.encode(TEXTS)
    assert vecs.shape == (len(TEXTS), DIM) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert encoder.encode([]).shape == (0, DIM)


def test_matches_sentence_transformers_recipe(encoder: Encoder) -> None:
    # Paraphrases are close, unrelated sentences are not (mean pooling + normalisation work).
    a, b, c = encoder.encode(["Please send me the invoice.", "Could you send the invoice to me?", "The cat sat."])
    assert a @ b > 0.75 > a @ c


def test_identical_texts_encoded_once(encoder: Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    original = encoder._encode_unique

    def spy(texts: list[str], *, bf16: bool) -> np.ndarray:
        seen.append(list(texts))
        return original(texts, bf16=bf16)

    monkeypatch.setattr(encoder, "_encode_unique", spy)
    vecs = encoder.encode(["same", "other", "same", "same"])
    assert seen == [["same", "other"]]
    assert np.array_equal(vecs[0], vecs[2]) and np.array_equal(vecs[0], vecs[3])


def test_order_and_batching_do_not_change_vectors(encoder: Encoder) -> None:
    forward = encoder.encode(TEXTS)
    backward = encoder.encode(TEXTS[::-1])[::-1]
    assert np.allclose(forward, backward, atol=1e-5)
    alone = np.stack([encoder.encode([t])[0] for t in TEXTS])
    assert np.allclose(forward, alone, atol=1e-5)


@pytest.mark.skipif(not cpu_supports_bf16(), reason="CPU has no native bf16")
def test_bf16_stays_within_tolerance_of_fp32(encoder: Encoder) -> None:
    assert encoder.bf16_deviation(TEXTS) <= BF16_TOLERANCE
    auto = Encoder(threads=2, bf16="auto").load()
    assert auto.bf16_active_ and auto.bf16_error_ is not None and auto.bf16_error_ <= BF16_TOLERANCE
    assert np.min(np.sum(auto.encode(TEXTS) * encoder.encode(TEXTS), axis=1)) >= 1 - BF16_TOLERANCE


def test_bf16_off_when_not_wanted() -> None:
    assert not Encoder(bf16="off").load().bf16_active_


def test_email_text() -> None:
    assert email_text("Re: RE: Fwd: Invoice 42", "Hi,\n\n\n\nplease   pay.") == "Invoice 42\nHi,\n\nplease pay."
    assert email_text(None, "") == ""
    assert email_text("Hello", None) == "Hello"
    assert len(email_text("s", "x" * 10_000)) == 2000


@pytest.mark.parametrize("targets", [("query", "value"), tuple(LORA_MODULES)])
def test_lora_adapter_merges_into_the_same_function(tmp_path: Path, targets: tuple[str, ...]) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
    torch.manual_seed(0)
    base = BertModel(config).eval()
    base.save_pretrained(tmp_path / "base")
    wrapped = BertModel.from_pretrained(tmp_path / "base").eval()
    params = apply_lora(wrapped, rank=2, alpha=4.0, seed=1, targets=targets)
    assert len(params) == 2 * len(targets) * config.num_hidden_layers
    with torch.no_grad():
        for p in params:
            p.normal_()  # a trained-looking adapter (lora_b starts at zero)
    ids = torch.tensor([[1, 5, 7, 9, 2]])
    with torch.no_grad():
        expected = wrapped(input_ids=ids).last_hidden_state
    save_file(lora_state_dict(wrapped), str(tmp_path / "adapter.safetensors"))
    from transformers import BertTokenizerFast

    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *map(str, range(45))]))
    BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt")).save_pretrained(tmp_path / "base")
    enc = Encoder(tmp_path / "base", adapter=tmp_path / "adapter.safetensors", bf16="off").load()
    with torch.no_grad():
        merged = enc.model_(input_ids=ids).last_hidden_state
    assert torch.allclose(merged, expected, atol=1e-4)
    assert (tmp_path / "adapter.safetensors").stat().st_size < 20_000
    with torch.no_grad():
        plain = base(input_ids=ids).last_hidden_state
    assert not torch.allclose(merged, plain, atol=1e-3)  # the adapter did change the function


def test_lora_rejects_unknown_targets_and_foreign_adapters(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file
    from transformers import BertConfig, BertModel, BertTokenizerFast

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    model = BertModel(config)
    with pytest.raises(ConfigError, match="unknown LoRA target pooler"):
        apply_lora(model, targets=("query", "pooler"))
    model.save_pretrained(tmp_path / "base")
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *map(str, range(45))]))
    BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt")).save_pretrained(tmp_path / "base")
    save_file({"layer.7.query.lora_a": torch.zeros(2, 16)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(ConfigError, match=r"cannot place: layer\.7\.query\.lora_a"):
        Encoder(tmp_path / "base", adapter=tmp_path / "foreign.safetensors", bf16="off").load()
