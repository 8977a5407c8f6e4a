"""The contract every registered text model keeps (STYLE.md "Models")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from intel.nlp.encoder import Encoder
from intel.nlp.heads import REGISTRY, TextModel, default_models_dir, get_model

TEXTS = [
    "Could you send me the signed contract by Friday?",
    "",
    "I am extremely disappointed, this is the third late delivery this month.",
    "Thanks so much, the new dashboard looks great!",
    "Could you send me the signed contract by Friday?",  # a repeat: same row
    "Hi,\n\nWhat is the price for 500 licences? We'd also need training.\n\nBest, Tom",
    "   ",
]

pytestmark = pytest.mark.skipif(
    not (default_models_dir() / "sentiment.v1.json").is_file(), reason="no trained heads (run `intel train`)"
)


@pytest.fixture(scope="module")
def encoder() -> Iterator[Encoder]:
    adapter = default_models_dir() / "adapter.safetensors"
    yield Encoder(adapter=adapter if adapter.is_file() else None, threads=2, bf16="off").load()


@pytest.fixture(params=sorted(REGISTRY))
def model(request: pytest.FixtureRequest, encoder: Encoder) -> TextModel:
    return get_model(request.param, encoder=encoder).load()


def test_one_row_per_input_labels_in_label_set(model: TextModel) -> None:
    rows = model.predict(TEXTS)
    assert len(rows) == len(TEXTS)
    for row in rows:
        assert row["label"] in model.labels
        assert set(row["scores"]) == set(model.labels)
        assert row["score"] == max(row["scores"].values())
        assert sum(row["scores"].values()) == pytest.approx(1.0, abs=1e-3)
    assert rows[0] == rows[4]


def test_empty_batch(model: TextModel) -> None:
    assert model.predict([]) == []


def test_deterministic(model: TextModel) -> None:
    assert model.predict(TEXTS) == model.predict(TEXTS)
    # Batch composition does not change a text's row.
    assert model.predict(TEXTS[2:3]) == model.predict(TEXTS)[2:3]


def test_versioned_name(model: TextModel) -> None:
    task, version = model.name.split(".")
    assert task in ("sentiment", "intent", "emotion") and version.startswith("v")


def test_save_load_round_trip(model: TextModel, encoder: Encoder, tmp_path: Path) -> None:
    model.save(tmp_path)
    assert not list(tmp_path.glob("*.pkl")) and not list(tmp_path.glob("*.pickle"))
    again = get_model(model.name, models_dir=tmp_path, encoder=encoder).load()
    assert again.labels == model.labels
    assert again.predict(TEXTS) == model.predict(TEXTS)
