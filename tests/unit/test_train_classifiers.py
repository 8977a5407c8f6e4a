"""`intel train` on a tiny data set: it rebuilds the heads (and adapter) reproducibly for a seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intel.nlp.heads import LABELS, LinearHead
from intel.nlp.train import TrainConfig, load_corpus, train, write_card

EMOTIONS = [
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion", "curiosity", "desire",
    "disappointment", "disapproval", "disgust", "embarrassment", "excitement", "fear", "gratitude", "grief", "joy",
    "love", "nervousness", "optimism", "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral",
]  # fmt: skip
ROWS = [
    ("I love this, thank you so much!", "15"),
    ("This is so annoying, it broke again.", "3"),
    ("What does that even mean?", "6"),
    ("The meeting is at noon.", "27"),
    ("Great job, I approve.", "4"),
    ("I'm so excited for tomorrow!", "13"),
    ("That was a big disappointment.", "9"),
    ("Haha that is hilarious", "1"),
    ("I am furious about this.", "2"),
    ("Ok.", "27"),
]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    go = tmp_path / "goemotions"
    go.mkdir()
    (go / "emotions.txt").write_text("\n".join(EMOTIONS) + "\n")
    table = "\n".join(f"{t}\t{lab}\tid{i}" for i, (t, lab) in enumerate(ROWS)) + "\n"
    (go / "train.tsv").write_text(table * 3)
    (go / "dev.tsv").write_text(table)
    groups = {
        "positive": ["amusement", "excitement", "joy", "gratitude", "approval", "admiration"],
        "negative": ["anger", "annoyance", "disappointment"],
        "ambiguous": ["confusion", "curiosity"],
    }
    (go / "sentiment_dict.json").write_text(json.dumps(groups))
    ei = tmp_path / "email_intent"
    ei.mkdir()
    lines = ["Yes\tCan you send me the file?", "Yes\tWhat time is the call?", "No\tThe file is attached."] * 5
    (ei / "train.tsv").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_corpus_mapping(data_dir: Path) -> None:
    corpus = load_corpus(data_dir)
    train_emotions = set(corpus.data["emotion"]["train"][1])
    assert train_emotions <= set(LABELS["emotion"])
    assert "I love this, thank you so much!" in corpus.data["emotion"]["train"][0]
    assert "What does that even mean?" not in corpus.data["sentiment"]["train"][0]  # ambiguous: dropped
    assert set(corpus.data["intent"]["train"][1]) <= set(LABELS["intent"])
    assert len(corpus.ask_val[0]) == 3


def test_train_is_reproducible(data_dir: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(steps=2, batch_size=4, max_length=16, seed=3)
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        metrics = train(out_dir=out, cfg=cfg, data_dir=data_dir)
        assert set(metrics["results"]) == {"sentiment", "intent", "emotion"}
        assert (out / "adapter.safetensors").is_file()
        runs.append([LinearHead.load(out, f"{t}.v1") for t in ("sentiment", "intent", "emotion")])
        card = write_card(metrics, out)
        assert "| `emotion.v1` |" in card.read_text()
    for one, two in zip(*runs, strict=True):
        assert one.labels == two.labels
        assert (one.coef_ == two.coef_).all() and (one.bias_ == two.bias_).all()
    assert (tmp_path / "a" / "adapter.safetensors").read_bytes() == (
        tmp_path / "b" / "adapter.safetensors"
    ).read_bytes()
