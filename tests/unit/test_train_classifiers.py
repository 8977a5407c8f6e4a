"""`intel train` on a tiny data set: it rebuilds the heads (and adapter) reproducibly for a seed; the
calibration (per-class bias offsets and C tuned on a split the heads were not fitted on) on synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from intel.errors import ConfigError
from intel.nlp.evaluation import binary_f1, macro_f1_codes
from intel.nlp.heads import LABELS, SENTIMENT_LABELS, LinearHead
from intel.nlp.train import (
    CalibrationSet,
    TrainConfig,
    _fit_head,
    calibrate_head,
    calibration_objective,
    load_corpus,
    task_schedule,
    train,
    tune_offsets,
    write_card,
)

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


EXAMPLES = "# intent\temotion\tsentiment\ttext\n" + "".join(
    f"{intent}\t{emotion}\t{sentiment}\t{text} ({i})\n"
    for intent, emotion, sentiment, text in [
        ("request", "neutral", "neutral", "Please send the signed form"),
        ("query", "confused", "neutral", "Which invoice do you mean?"),
        ("complaint", "frustrated", "negative", "Third late delivery, unacceptable"),
        ("purchase_inquiry", "enthusiastic", "positive", "We love it, what does a licence cost?"),
        ("other", "grateful", "positive", "Thanks so much for your help"),
    ]
    for i in range(6)
)


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
    ex = tmp_path / "examples"
    ex.mkdir()
    (ex / "emails.tsv").write_text(EXAMPLES)
    return tmp_path


def test_corpus_mapping(data_dir: Path) -> None:
    corpus = load_corpus(data_dir)
    train_emotions = set(corpus.data["emotion"]["train"][1])
    assert train_emotions <= set(LABELS["emotion"])
    assert "I love this, thank you so much!" in corpus.data["emotion"]["train"][0]
    assert "What does that even mean?" not in corpus.data["sentiment"]["train"][0]  # ambiguous: dropped
    assert set(corpus.data["intent"]["train"][1]) <= set(LABELS["intent"])
    assert len(corpus.ask_val[0]) == 3
    assert "calib" not in corpus.data["emotion"] and not corpus.ask_calib[0]  # no calibration share asked


def test_calibration_split_is_carved_from_training_only(data_dir: Path) -> None:
    examples = data_dir / "examples"
    plain = load_corpus(data_dir, examples, seed=5)
    carved = load_corpus(data_dir, examples, seed=5, calib_share=0.3)
    # Validation is exactly what it is without calibration; calibration rows come out of training.
    assert carved.ask_val == plain.ask_val
    assert carved.data["emotion"]["val"] == plain.data["emotion"]["val"]
    assert carved.data["intent"]["email_val"] == plain.data["intent"]["email_val"]
    for task in ("emotion", "sentiment", "intent"):
        held = [t for split in ("calib", "email_calib") for t in carved.data[task][split][0]]
        kept = carved.data[task]["train"][0]
        assert held and sorted(held + kept) == sorted(plain.data[task]["train"][0])
    assert len(carved.data["intent"]["email_calib"][0]) == 5 * round(5 * 0.3)  # per intent: 1 val, 5 left
    assert len(carved.ask_calib[0]) == round(12 * 0.3)  # 15 Parakweet rows: 12 fitting, 3 validation
    assert carved.ask_calib[0] == carved.data["intent"]["calib"][0]
    assert load_corpus(data_dir, examples, seed=5, calib_share=0.3).data == carved.data  # seeded


def test_f1_on_codes_matches_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 4, 300), rng.integers(0, 5, 300)
    y[y == 3] = 2  # label 3 absent from the truth: left out of the macro average, as in our metrics
    want = f1_score(y, p, labels=sorted(set(y.tolist())), average="macro", zero_division=0)
    assert macro_f1_codes(y, p, 5) == pytest.approx(want)
    assert binary_f1(y == 1, p == 1) == pytest.approx(f1_score(y == 1, p == 1))


def test_tune_offsets_undoes_a_bias_deterministically() -> None:
    y = np.array([0, 1, 2] * 20)
    logits = np.eye(3)[y] + np.array([2.0, 0.0, 0.0])  # class 0 always wins before tuning
    objective = calibration_objective(
        LinearHead("sentiment.t", SENTIMENT_LABELS, np.eye(3, dtype=np.float32), np.zeros(3, dtype=np.float32)),
        [CalibrationSet("c", logits, y)],
    )
    before = objective(np.zeros(3))
    offsets, after = tune_offsets(objective, 3, span=3.0, step=0.1)
    assert before < 0.4 and after == 1.0 and objective(offsets) == 1.0
    assert offsets[0] < offsets[1] and offsets[0] < offsets[2] and abs(offsets.sum()) < 1e-9
    again, _ = tune_offsets(objective, 3, span=3.0, step=0.1)
    assert (again == offsets).all()


def _skewed(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[str]]:
    y = rng.choice(3, size=n, p=[0.85, 0.1, 0.05])
    centres = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 0.4, 0.0, 0.0], [0.4, 1.0, 0.0, 0.0]])
    x = centres[y] + rng.normal(scale=0.6, size=(n, 4))
    return x.astype(np.float32), [SENTIMENT_LABELS[i] for i in y]


def test_calibration_raises_macro_f1_on_a_skewed_set() -> None:
    rng = np.random.default_rng(7)
    (x_fit, y_fit), (x_cal, y_cal), (x_test, y_test) = (_skewed(rng, n) for n in (800, 800, 4000))
    cfg = TrainConfig(class_weight_power={"sentiment": 0.0}, c_grid=(0.1, 1.0, 10.0))

    def fit(c: float) -> LinearHead:
        return _fit_head("sentiment", x_fit, y_fit, cfg, "t", c)

    codes = np.asarray([SENTIMENT_LABELS.index(lab) for lab in y_cal])
    sets = [CalibrationSet("calib", x_cal, codes)]
    tuned, info = calibrate_head(fit, sets, cfg)

    def test_f1(head: LinearHead) -> float:
        pred = [r["label"] for r in head.predict_embeddings(x_test)]
        return float(f1_score(y_test, pred, average="macro"))

    plain = fit(info["c"])
    assert info["objective_after"] > info["objective_before"]
    assert test_f1(tuned) > test_f1(plain) + 0.05  # the gain holds on data neither step saw
    assert [t["c"] for t in info["trials"]] == [0.1, 1.0, 10.0]
    assert (tuned.coef_ == plain.coef_).all()  # only the bias moves: the saved format is unchanged
    again, info_again = calibrate_head(fit, sets, cfg)
    assert info_again == info and (again.bias_ == tuned.bias_).all()


def test_train_is_reproducible(data_dir: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(steps=2, batch_size=4, max_length=16, seed=3, calibrate_tasks=("sentiment", "intent", "emotion"))
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        metrics = train(out_dir=out, cfg=cfg, data_dir=data_dir, examples_dir=data_dir / "examples")
        assert set(metrics["results"]) == {"sentiment", "intent", "emotion"}
        assert metrics["results"]["intent"]["calibration"]["rows"]["ask_calib"] == 2  # 15% of 12 fitting rows
        assert metrics["results"]["intent"]["calibration"]["rows"]["email_calib"] == 5  # 1 of 5 per intent
        assert metrics["results"]["emotion"]["calibration"]["c"] in cfg.c_grid
        assert (out / "adapter.safetensors").is_file()
        runs.append([LinearHead.load(out, f"{t}.v1") for t in ("sentiment", "intent", "emotion")])
        intent = metrics["results"]["intent"]
        assert intent["email_ask_val"]["rows"] == intent["email_val"]["rows"] > 0
        assert 0.0 <= intent["email_ask_val"]["f1"] <= 1.0
        card = write_card(metrics, out).read_text()
        assert "| `emotion.v1` |" in card
        assert "held-out 20% of our email examples (ask = request or query)" in card
        # Rewritten from metrics.json (keys sorted there), the card reads the same.
        assert write_card(json.loads((out / "metrics.json").read_text()), out).read_text() == card
    for one, two in zip(*runs, strict=True):
        assert one.labels == two.labels
        assert (one.coef_ == two.coef_).all() and (one.bias_ == two.bias_).all()
    assert (tmp_path / "a" / "adapter.safetensors").read_bytes() == (
        tmp_path / "b" / "adapter.safetensors"
    ).read_bytes()


def test_task_schedule_interleaves_the_mixture() -> None:
    schedule = task_schedule({"emotion": 4, "sentiment": 4, "intent": 1})
    assert schedule == ["sentiment", "intent", "emotion"] + ["sentiment", "emotion"] * 3
    assert task_schedule({"intent": 2}) == ["intent", "intent"]
    with pytest.raises(ConfigError, match="no task a batch"):
        task_schedule({"emotion": 0, "sentiment": 0})
    with pytest.raises(ConfigError, match="unknown task in the fine-tuning mixture: topic"):
        task_schedule({"topic": 3})


def test_class_weight_power_one_is_balanced_and_zero_is_unweighted() -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = _skewed(np.random.default_rng(3), 300)
    for power, weighting in ((1.0, "balanced"), (0.0, None)):
        head = _fit_head("sentiment", x, y, TrainConfig(class_weight_power={"sentiment": power}), "t", 1.0)
        ref = LogisticRegression(C=1.0, max_iter=2000, class_weight=weighting, random_state=13).fit(x, y)
        order = [list(ref.classes_).index(lab) for lab in SENTIMENT_LABELS]
        np.testing.assert_allclose(head.coef_, ref.coef_[order], rtol=1e-4, atol=1e-5)
