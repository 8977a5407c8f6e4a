"""The `transformers:` backend with a tiny BERT text classifier built and saved by the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from intel.config import ModelsSettings
from intel.errors import ConfigError
from intel.nlp.heads import SENTIMENT_LABELS, Classifier
from intel.nlp.hf_backend import HFClassifier

WORDS = ["great", "thanks", "awful", "late", "invoice", "attached", "please", "send", "the", "is", "this"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    path = tmp_path_factory.mktemp("tiny-bert")
    (path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(path / "vocab.txt"))
    config = BertConfig(
        vocab_size=len(WORDS) + 5,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=4,
        id2label={0: "POS", 1: "NEG", 2: "NEU", 3: "SPAM"},
        label2id={"POS": 0, "NEG": 1, "NEU": 2, "SPAM": 3},
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


MAPPING = {"POS": "positive", "NEG": "negative", "NEU": "neutral"}
TEXTS = ["great thanks", "", "this is awful and late", "please send the invoice " * 40]


def test_predict_rows_over_project_labels(tiny_model: Path) -> None:
    model = HFClassifier(tiny_model, label_map=MAPPING, labels=SENTIMENT_LABELS, threads=1).load()
    rows = model.predict(TEXTS)
    assert len(rows) == len(TEXTS)
    for row in rows:
        assert set(row["scores"]) == set(SENTIMENT_LABELS)
        assert row["label"] in SENTIMENT_LABELS
        assert sum(row["scores"].values()) == pytest.approx(1.0, abs=1e-3)  # SPAM dropped, renormalised
    assert rows == model.predict(TEXTS)


def test_save_load_round_trip(tiny_model: Path, tmp_path: Path) -> None:
    model = HFClassifier(tiny_model, label_map=MAPPING, labels=SENTIMENT_LABELS, threads=1).load()
    model.save(tmp_path)
    again = HFClassifier(tmp_path, label_map=MAPPING, labels=SENTIMENT_LABELS, threads=1).load()
    assert again.predict(TEXTS) == model.predict(TEXTS)


def test_bad_mapping_and_missing_model(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown labels"):
        HFClassifier(tiny_model, label_map={"POS": "joyful"}, labels=SENTIMENT_LABELS).load()
    with pytest.raises(ConfigError, match="no labels"):
        HFClassifier(tiny_model, label_map={"POSITIVE": "positive"}, labels=SENTIMENT_LABELS).load()
    with pytest.raises(ConfigError, match="give a label mapping"):
        HFClassifier(tiny_model, labels=SENTIMENT_LABELS).load()
    with pytest.raises(ConfigError, match="cannot load"):
        HFClassifier(tmp_path / "nothing", labels=SENTIMENT_LABELS).load()


def test_classifier_uses_the_backend_from_config(tiny_model: Path) -> None:
    settings = ModelsSettings.model_validate(
        {"threads": 1, "sentiment": {"backend": f"transformers:{tiny_model}", "labels": MAPPING}}
    )
    clf = Classifier(settings, tasks=("sentiment",)).load()
    assert clf.model_names() == {"sentiment": "sentiment.transformers"}
    rows = clf.predict([("Invoice", "please send the invoice"), "great thanks"])
    assert [set(r) for r in rows] == [{"sentiment"}, {"sentiment"}]
    assert set(rows[0]["sentiment"]["scores"]) == set(SENTIMENT_LABELS)
