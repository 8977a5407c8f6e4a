"""Bring your own model: any Hugging Face text-classification model for sentiment, intent or emotion.

Config (``intel.toml``)::

    [models.sentiment]
    backend = "transformers:cardiffnlp/twitter-roberta-base-sentiment-latest"   # hub id or local path
    labels = { positive = "positive", negative = "negative", neutral = "neutral" }

``labels`` maps the model's own label names (its ``id2label``) to the project's labels; model
labels mapped to the same project label have their probabilities summed, unmapped ones are
dropped and the rest renormalised. Without a mapping, model labels that already are project
labels (case-insensitive) are used as they are. A hub id is read from the local cache only when
``HF_HUB_OFFLINE=1`` (the default of the `intel` command).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from intel.errors import ConfigError
from intel.nlp.heads import rows_from_proba

__all__ = ["HFClassifier"]


class HFClassifier:
    """A transformers sequence-classification model behind the `TextModel` protocol.

    Args:
        model: hub id or local directory.
        label_map: model label -> project label.
        labels: the task's project label set (the order of ``scores``).
        threads: torch intra-op threads.
        max_length: tokens kept per text.
        batch_size: texts per forward pass.
        name: the versioned name stored beside predictions.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        label_map: Mapping[str, str] | None = None,
        labels: Sequence[str],
        threads: int = 2,
        max_length: int = 256,
        batch_size: int = 32,
        name: str | None = None,
    ) -> None:
        self.model = str(model)
        self.label_map = dict(label_map or {})
        self.labels = tuple(labels)
        self.threads = threads
        self.max_length = max_length
        self.batch_size = batch_size
        self.name = name or f"transformers:{self.model}"
        self.custom_: Any = None  # custom intents (intel.nlp.intents.CustomIntents), set by Classifier

    def load(self) -> HFClassifier:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if self.threads > 0:
            torch.set_num_threads(self.threads)
        try:
            self.tokenizer_ = AutoTokenizer.from_pretrained(self.model)
            self.model_ = AutoModelForSequenceClassification.from_pretrained(self.model)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load transformers model '{self.model}': {exc}".splitlines()[0]) from None
        self.model_.eval()
        positions = getattr(self.model_.config, "max_position_embeddings", None)
        self.max_length_ = min(self.max_length, positions) if isinstance(positions, int) else self.max_length
        id2label = {int(i): str(lab) for i, lab in self.model_.config.id2label.items()}
        mapping = self.label_map or {m: m.lower() for m in id2label.values() if m.lower() in self.labels}
        unknown = sorted({v for v in mapping.values() if v not in self.labels})
        if unknown:
            raise ConfigError(f"{self.name}: label mapping targets unknown labels {unknown}; allowed: {self.labels}")
        missing = sorted(set(mapping) - set(id2label.values()))
        if missing:
            raise ConfigError(f"{self.name}: the model has no labels {missing}; it has {sorted(id2label.values())}")
        if not mapping:
            raise ConfigError(
                f"{self.name}: its labels {sorted(id2label.values())} are not {self.labels}; give a label mapping"
            )
        # (model classes, project labels) matrix that sums model probabilities into project labels.
        self.project_ = np.zeros((len(id2label), len(self.labels)), dtype=np.float32)
        for i, lab in id2label.items():
            if lab in mapping:
                self.project_[i, self.labels.index(mapping[lab])] = 1.0
        return self

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.model_.save_pretrained(str(directory))
        self.tokenizer_.save_pretrained(str(directory))

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                enc = self.tokenizer_(
                    [texts[i] for i in chunk],
                    truncation=True,
                    max_length=self.max_length_,
                    padding=True,
                    return_tensors="pt",
                )
                p = torch.softmax(self.model_(**enc).logits.float(), dim=-1).numpy() @ self.project_
                out[chunk] = p / np.clip(p.sum(axis=1, keepdims=True), 1e-9, None)
        return out

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        rows = rows_from_proba(self.proba(list(texts)), self.labels)
        if self.custom_ is not None and self.custom_.intents:
            from intel.nlp.intents import split_sentences, with_custom

            enc = self.custom_.encoder
            matches = []
            for text in texts:
                sentences = split_sentences(text)
                vecs = enc.encode([text, *sentences])
                matches.append(self.custom_.match(vecs[0], vecs[1:]))
            rows = with_custom(rows, np.stack(matches) if matches else np.zeros((0, 0)), self.custom_.names)
        return rows
