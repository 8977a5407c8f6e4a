"""Intent: sentence-level and message-level, aggregated; custom intents by nearest prototypes.

A request is often one sentence in a long email, so the intent model scores the whole message
(subject + new text) *and* each of its sentences (up to `MAX_SENTENCES`), all in the same encoder
pass as the other heads, and aggregates:

    p(l) ∝ ½ p_message(l) + ½ max_s p_sentence(l)      for l in request, query, complaint, purchase_inquiry
    p(other) ∝ ½ p_message(other) + ½ min_s p_sentence(other)

so one clear ask anywhere in the message lifts the message's ask labels.

Custom intents come from config (a name + a handful of example sentences). They need no
training: each example is embedded once with the shared encoder; a message matches an intent
when its best sentence (or the whole message) is close enough to the nearest example. The
threshold is calibrated per intent unless config gives one: halfway between how close the
intent's own examples are to each other (leave-one-out, 20th percentile) and how close generic
business sentences of other intents get (95th percentile), clipped to [0.45, 0.85]. Custom
intents appear in ``scores`` beside the built-in labels as independent match probabilities;
when one matches, it becomes the label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from intel.nlp.heads import INTENT_LABELS, LinearHead, _make_encoder, default_models_dir, rows_from_proba

if TYPE_CHECKING:
    from intel.config import ModelsSettings
    from intel.nlp.encoder import Encoder

__all__ = [
    "MAX_SENTENCES",
    "CustomIntent",
    "CustomIntents",
    "IntentModel",
    "aggregate",
    "custom_intents_from_settings",
    "split_sentences",
    "with_custom",
]

MAX_SENTENCES = 12
_ASK_LABELS = ("request", "query", "complaint", "purchase_inquiry")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-*•]\s)")
_MIN_CHARS = 8
_SLOPE = 25.0  # how sharply a custom intent's match probability rises around its threshold

# Generic business sentences of other intents: the negatives that calibrate custom thresholds.
_BACKGROUND = (
    "Please find attached the minutes of today's meeting.",
    "Thanks for your help yesterday.",
    "I'm out of the office until Monday.",
    "Could you send me the latest version of the report?",
    "What time does the call start?",
    "The shipment left our warehouse this morning.",
    "Let me know if you have any questions.",
    "We are very disappointed with the delay.",
    "Can you share your pricing for 50 licences?",
    "Best regards, Anna",
    "The invoice was paid last week.",
    "Looking forward to working with you.",
    "Please review the attached draft.",
    "Is the office open on Friday?",
    "We have moved to a new address.",
    "I agree with the proposal.",
    "The meeting has been moved to room 4B.",
    "Here are the login details for the test environment.",
    "Can we reschedule our call to next week?",
    "Please confirm the delivery date.",
)


def split_sentences(text: str, limit: int = MAX_SENTENCES) -> list[str]:
    """Sentences of an email body worth scoring on their own (short fragments dropped)."""
    parts = []
    for block in _SENTENCE_END.split(text or ""):
        s = " ".join(block.split())
        if len(s) >= _MIN_CHARS:
            parts.append(s)
    return parts[:limit]


def aggregate(message: np.ndarray, sentences: np.ndarray, labels: Sequence[str] = INTENT_LABELS) -> np.ndarray:
    """Message-level intent probabilities from the message's and its sentences' probabilities."""
    if len(sentences) == 0:
        return message
    agg = np.empty_like(message)
    for j, lab in enumerate(labels):
        s = sentences[:, j].min() if lab == "other" else sentences[:, j].max()
        agg[j] = 0.5 * message[j] + 0.5 * s if lab in (*_ASK_LABELS, "other") else message[j]
    return np.asarray(agg / agg.sum())


@dataclass
class CustomIntent:
    """A custom intent from config: a name, its example sentences and an optional fixed threshold."""

    name: str
    examples: list[str]
    threshold: float | None = None


class CustomIntents:
    """Nearest-prototype matching of custom intents on the shared embedding (no training)."""

    def __init__(self, intents: Sequence[CustomIntent], encoder: Encoder) -> None:
        self.intents = list(intents)
        self.encoder = encoder

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.intents)

    def load(self) -> CustomIntents:
        if not hasattr(self.encoder, "model_"):
            self.encoder.load()
        background = self.encoder.encode(list(_BACKGROUND))
        self.prototypes_: list[np.ndarray] = []
        self.thresholds_: list[float] = []
        for intent in self.intents:
            vecs = self.encoder.encode([e for e in intent.examples if e.strip()] or [intent.name])
            self.prototypes_.append(vecs)
            self.thresholds_.append(intent.threshold if intent.threshold is not None else _calibrate(vecs, background))
        return self

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of each vector to the nearest example of each intent: shape (n, intents)."""
        if not self.intents:
            return np.zeros((len(vectors), 0), dtype=np.float32)
        return np.stack([(vectors @ p.T).max(axis=1) for p in self.prototypes_], axis=1)

    def match(self, message: np.ndarray, sentences: np.ndarray) -> np.ndarray:
        """Match probability per intent for one message (best of the message and its sentences)."""
        vecs = np.vstack([message[None, :], sentences]) if len(sentences) else message[None, :]
        best = self.similarities(vecs).max(axis=0)
        thr = np.asarray(self.thresholds_, dtype=np.float32)
        return np.asarray(1.0 / (1.0 + np.exp(-_SLOPE * (best - thr))))


def _calibrate(examples: np.ndarray, background: np.ndarray) -> float:
    sims = examples @ examples.T
    if len(examples) > 1:
        np.fill_diagonal(sims, -1.0)
        positive = float(np.percentile(sims.max(axis=1), 20))
    else:
        positive = 0.8
    negative = float(np.percentile((background @ examples.T).max(axis=1), 95))
    return float(np.clip((positive + negative) / 2, 0.45, 0.85))


def custom_intents_from_settings(settings: ModelsSettings, encoder: Encoder) -> CustomIntents:
    intents = [CustomIntent(c.name, list(c.examples), c.threshold) for c in settings.custom_intents]
    return CustomIntents(intents, encoder).load()


def with_custom(rows: list[dict[str, Any]], matches: np.ndarray, names: Sequence[str]) -> list[dict[str, Any]]:
    """Add custom intents to rows: their match probabilities in ``scores``; the best match wins the label."""
    for row, m in zip(rows, matches, strict=True):
        for name, p in zip(names, m, strict=True):
            row["scores"][name] = round(float(p), 4)
        if len(m) and float(m.max()) >= 0.5:
            best = int(np.argmax(m))
            row["label"], row["score"] = names[best], round(float(m[best]), 4)
    return rows


class IntentModel:
    """Encoder + intent head with sentence aggregation (+ custom intents), a `TextModel` (``intent.v1``)."""

    def __init__(
        self,
        name: str = "intent.v1",
        models_dir: Path | None = None,
        encoder: Encoder | None = None,
        custom: Sequence[CustomIntent] = (),
    ) -> None:
        self.name = name
        self.models_dir = models_dir or default_models_dir()
        self.encoder = encoder
        self.custom = list(custom)
        self.custom_: CustomIntents | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return INTENT_LABELS + (self.custom_.names if self.custom_ else ())

    def load(self) -> IntentModel:
        self.head_ = LinearHead.load(self.models_dir, self.name)
        if self.encoder is None:
            self.encoder = _make_encoder(self.models_dir, None)
        if not hasattr(self.encoder, "model_"):
            self.encoder.load()
        if self.custom:
            self.custom_ = CustomIntents(self.custom, self.encoder).load()
        return self

    def sentences_of(self, texts: Sequence[str]) -> tuple[list[str], list[tuple[int, int]]]:
        """All sentences of `texts` to encode, and each text's (start, end) span in that list.

        A text of one sentence is not split again: its message vector already is that sentence.
        """
        sentences: list[str] = []
        spans = []
        for text in texts:
            parts = split_sentences(text)
            if len(parts) < 2:
                parts = []
            spans.append((len(sentences), len(sentences) + len(parts)))
            sentences.extend(parts)
        return sentences, spans

    def predict_vectors(
        self, messages: np.ndarray, sentences: np.ndarray, spans: Sequence[tuple[int, int]]
    ) -> list[dict[str, Any]]:
        p_msg = self.head_.proba(messages)
        p_sent = self.head_.proba(sentences) if len(sentences) else np.zeros((0, len(INTENT_LABELS)))
        proba = np.stack([aggregate(p_msg[i], p_sent[a:b]) for i, (a, b) in enumerate(spans)]) if spans else p_msg
        rows = rows_from_proba(proba, INTENT_LABELS)
        if self.custom_ is not None and self.custom_.intents:
            dim = messages.shape[1] if messages.ndim == 2 else 0
            matches = np.stack(
                [
                    self.custom_.match(messages[i], sentences[a:b] if b > a else np.zeros((0, dim)))
                    for i, (a, b) in enumerate(spans)
                ]
            )
            rows = with_custom(rows, matches, self.custom_.names)
        return rows

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        assert self.encoder is not None
        sentences, spans = self.sentences_of(texts)
        vectors = self.encoder.encode(list(texts) + sentences)
        return self.predict_vectors(vectors[: len(texts)], vectors[len(texts) :], spans)

    def save(self, directory: Path) -> None:
        import shutil

        self.head_.save(directory)
        adapter = self.models_dir / "adapter.safetensors"
        if adapter.is_file() and directory.resolve() != self.models_dir.resolve():
            shutil.copyfile(adapter, directory / "adapter.safetensors")
