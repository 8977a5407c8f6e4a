"""Custom intents from config alone: nearest prototypes with a calibrated threshold, no retraining."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from intel.config import ModelsSettings
from intel.errors import ConfigError
from intel.nlp.encoder import Encoder
from intel.nlp.heads import Classifier, default_models_dir
from intel.nlp.intents import CustomIntent, CustomIntents, aggregate, split_sentences

CANCEL = CustomIntent(
    "cancellation",
    [
        "Please cancel my subscription.",
        "I want to terminate our contract at the end of the month.",
        "We will not renew and would like to close the account.",
        "How do I cancel my plan?",
        "Stop the service from next month, please.",
    ],
)
INVOICE = CustomIntent(
    "invoice_copy",
    ["Can you resend the invoice?", "I need a copy of invoice 1234.", "Please send me last month's invoice again."],
)


@pytest.fixture(scope="module")
def encoder() -> Iterator[Encoder]:
    yield Encoder(threads=2, bf16="off").load()


@pytest.fixture(scope="module")
def custom(encoder: Encoder) -> CustomIntents:
    return CustomIntents([CANCEL, INVOICE], encoder).load()


def test_thresholds_are_calibrated_within_bounds(custom: CustomIntents) -> None:
    assert len(custom.thresholds_) == 2
    assert all(0.45 <= t <= 0.85 for t in custom.thresholds_)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, we have decided to cancel our subscription effective immediately.", "cancellation"),
        ("Could you please send me a copy of the March invoice?", "invoice_copy"),
        ("The meeting has been moved to room 4B.", None),
        ("Thanks for the great demo yesterday!", None),
    ],
)
def test_matches(custom: CustomIntents, encoder: Encoder, text: str, expected: str | None) -> None:
    vecs = encoder.encode([text, *split_sentences(text)])
    p = custom.match(vecs[0], vecs[1:])
    matched = [n for n, v in zip(custom.names, p, strict=True) if v >= 0.5]
    assert matched == ([expected] if expected else [])


def test_fixed_threshold_from_config(encoder: Encoder) -> None:
    strict = CustomIntents([CustomIntent("cancellation", CANCEL.examples, threshold=0.99)], encoder).load()
    vec = encoder.encode(["We have decided to cancel our subscription."])
    assert strict.thresholds_ == [0.99]
    assert strict.match(vec[0], np.zeros((0, vec.shape[1])))[0] < 0.5


def test_sentence_aggregation_lifts_one_ask() -> None:
    message = np.array([0.1, 0.1, 0.05, 0.05, 0.7])
    sentences = np.array([[0.05, 0.05, 0.05, 0.05, 0.8], [0.8, 0.1, 0.02, 0.03, 0.05]])
    agg = aggregate(message, sentences)
    assert agg.sum() == pytest.approx(1.0)
    assert agg[0] > agg[4]


def test_split_sentences() -> None:
    text = "Hi Anna,\n\nThanks for the update. Could you send the PO by Friday? Best, Tom"
    assert split_sentences(text) == [
        "Hi Anna,",
        "Thanks for the update.",
        "Could you send the PO by Friday?",
        "Best, Tom",
    ]
    assert split_sentences("") == []


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        ModelsSettings.model_validate({"custom_intent": [{"name": "request", "examples": ["x"]}]})
    with pytest.raises(ValueError):
        ModelsSettings.model_validate({"custom_intent": [{"name": "ok", "examples": []}]})


@pytest.mark.skipif(not (default_models_dir() / "intent.v1.json").is_file(), reason="no trained heads")
def test_classifier_shows_custom_intents_beside_builtin_ones() -> None:
    settings = ModelsSettings.model_validate(
        {"bf16": "off", "custom_intent": [{"name": CANCEL.name, "examples": CANCEL.examples}]}
    )
    clf = Classifier(settings, tasks=("intent",)).load()
    assert clf.labels("intent")[-1] == "cancellation"
    rows = clf.predict(
        [
            ("Account", "Hello,\n\nPlease cancel my subscription at the end of this month.\n\nRegards, Jo"),
            ("Quote", "What is your price for 200 licences?"),
        ]
    )
    assert rows[0]["intent"]["label"] == "cancellation"
    assert rows[1]["intent"]["label"] != "cancellation"
    assert set(rows[1]["intent"]["scores"]) == {
        "request",
        "query",
        "complaint",
        "purchase_inquiry",
        "other",
        "cancellation",
    }


def test_unknown_model_dir_is_a_config_error(tmp_path: object) -> None:
    from pathlib import Path

    with pytest.raises(ConfigError):
        Classifier(ModelsSettings(directory=Path(str(tmp_path))), tasks=("emotion",)).load()
