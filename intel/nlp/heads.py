"""Classifier heads on the shared encoder, their registry, and the one-pass `Classifier`.

Every text model follows one protocol (`TextModel`): ``__init__`` stores settings, ``load()``
does the heavy work, ``predict(texts) -> rows`` returns one row per text with ``label``,
``score`` and ``scores`` over the whole label set, and ``save(dir)`` / ``load()`` round-trip
it without pickle (safetensors coefficients + a JSON file with the labels).

Registered, versioned models (`REGISTRY`): ``sentiment.v1``, ``intent.v1``, ``emotion.v1``.
The name is stored beside every prediction, so re-enrichment after an upgrade is a query.

`Classifier` is what the enrichment stage and `intel predict` call: one encoder pass over a batch
of ``(subject, new_text)`` pairs feeds the sentiment, intent and emotion heads together (the
intent model adds the message's sentences to the same pass), and config may swap any task for a
Hugging Face model (`intel.nlp.hf_backend`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from intel.errors import ConfigError

if TYPE_CHECKING:
    from intel.config import ModelsSettings
    from intel.nlp.encoder import Encoder

__all__ = [
    "EMOTION_LABELS",
    "INTENT_LABELS",
    "LABELS",
    "REGISTRY",
    "SENTIMENT_LABELS",
    "TASKS",
    "Classifier",
    "HeadModel",
    "LinearHead",
    "TextModel",
    "default_models_dir",
    "get_model",
    "rows_from_proba",
]

SENTIMENT_LABELS = ("positive", "negative", "neutral")
INTENT_LABELS = ("request", "query", "complaint", "purchase_inquiry", "other")
EMOTION_LABELS = ("happy", "enthusiastic", "grateful", "trust", "confused", "dissatisfied", "frustrated", "neutral")
TASKS = ("sentiment", "intent", "emotion")
LABELS: dict[str, tuple[str, ...]] = {
    "sentiment": SENTIMENT_LABELS,
    "intent": INTENT_LABELS,
    "emotion": EMOTION_LABELS,
}
VERSION = "v1"


def default_models_dir() -> Path:
    """``models/classifiers`` of the repository this package is installed from."""
    return Path(__file__).resolve().parents[2] / "models" / "classifiers"


def rows_from_proba(proba: np.ndarray, labels: Sequence[str]) -> list[dict[str, Any]]:
    """``{"label", "score", "scores"}`` per row of a probability matrix (ties: first label)."""
    rows = []
    for p in proba:
        best = int(np.argmax(p))
        rows.append(
            {
                "label": labels[best],
                "score": round(float(p[best]), 4),
                "scores": {lab: round(float(v), 4) for lab, v in zip(labels, p, strict=True)},
            }
        )
    return rows


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


class LinearHead:
    """A multinomial linear classifier over embeddings: softmax(x @ coef.T + bias).

    Stored as ``<name>.safetensors`` (``coef``, ``bias``) plus ``<name>.json`` (name, labels).
    """

    def __init__(self, name: str, labels: Sequence[str], coef: np.ndarray, bias: np.ndarray) -> None:
        self.name = name
        self.labels = tuple(labels)
        self.coef_ = np.asarray(coef, dtype=np.float32)
        self.bias_ = np.asarray(bias, dtype=np.float32)
        if self.coef_.shape[0] != len(self.labels) or self.bias_.shape != (len(self.labels),):
            raise ValueError(f"{name}: coefficient shapes do not match {len(self.labels)} labels")

    def proba(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return _softmax(x.astype(np.float32) @ self.coef_.T + self.bias_)

    def predict_embeddings(self, x: np.ndarray) -> list[dict[str, Any]]:
        return rows_from_proba(self.proba(x), self.labels)

    def save(self, directory: Path) -> Path:
        from safetensors.numpy import save_file

        directory.mkdir(parents=True, exist_ok=True)
        save_file({"coef": self.coef_, "bias": self.bias_}, str(directory / f"{self.name}.safetensors"))
        meta = {"name": self.name, "labels": list(self.labels), "dim": int(self.coef_.shape[1])}
        (directory / f"{self.name}.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return directory / f"{self.name}.json"

    @classmethod
    def load(cls, directory: Path, name: str) -> LinearHead:
        from safetensors.numpy import load_file

        meta_path = directory / f"{name}.json"
        if not meta_path.is_file():
            raise ConfigError(f"model {name} not found in {directory} (run `intel train`)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        tensors = load_file(str(directory / f"{name}.safetensors"))
        return cls(meta["name"], meta["labels"], tensors["coef"], tensors["bias"])


class TextModel(Protocol):
    """The protocol every registered text model follows."""

    name: str

    @property
    def labels(self) -> tuple[str, ...]: ...

    def load(self) -> TextModel: ...

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]: ...

    def save(self, directory: Path) -> None: ...


def _make_encoder(models_dir: Path, settings: ModelsSettings | None) -> Encoder:
    from intel.nlp.encoder import Encoder

    adapter = models_dir / "adapter.safetensors"
    return Encoder(
        adapter=adapter if adapter.is_file() else None,
        threads=settings.threads if settings else 2,
        max_length=settings.max_length if settings else 128,
        bf16=settings.bf16 if settings else "auto",
    )


class HeadModel:
    """Encoder + one linear head (``sentiment.v1``, ``emotion.v1``), a `TextModel`."""

    def __init__(self, name: str, models_dir: Path | None = None, encoder: Encoder | None = None) -> None:
        self.name = name
        self.task = name.split(".", 1)[0]
        self.labels = LABELS[self.task]
        self.models_dir = models_dir or default_models_dir()
        self.encoder = encoder

    def load(self) -> HeadModel:
        self.head_ = LinearHead.load(self.models_dir, self.name)
        if self.encoder is None:
            self.encoder = _make_encoder(self.models_dir, None)
        if not hasattr(self.encoder, "model_"):
            self.encoder.load()
        return self

    def predict_embeddings(self, x: np.ndarray) -> list[dict[str, Any]]:
        return self.head_.predict_embeddings(x)

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        assert self.encoder is not None
        return self.predict_embeddings(self.encoder.encode(list(texts)))

    def save(self, directory: Path) -> None:
        self.head_.save(directory)
        adapter = self.models_dir / "adapter.safetensors"
        if adapter.is_file() and directory.resolve() != self.models_dir.resolve():
            shutil.copyfile(adapter, directory / "adapter.safetensors")


def _intent_model(models_dir: Path | None = None, encoder: Encoder | None = None) -> TextModel:
    from intel.nlp.intents import IntentModel

    return IntentModel(f"intent.{VERSION}", models_dir=models_dir, encoder=encoder)


REGISTRY: dict[str, Callable[..., TextModel]] = {
    f"sentiment.{VERSION}": lambda models_dir=None, encoder=None: HeadModel(
        f"sentiment.{VERSION}", models_dir, encoder
    ),
    f"intent.{VERSION}": _intent_model,
    f"emotion.{VERSION}": lambda models_dir=None, encoder=None: HeadModel(f"emotion.{VERSION}", models_dir, encoder),
}


def get_model(name: str, models_dir: Path | None = None, encoder: Encoder | None = None) -> TextModel:
    """A registered model by versioned name (not loaded yet)."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown model '{name}': choose one of {', '.join(sorted(REGISTRY))}") from None
    return factory(models_dir=models_dir, encoder=encoder)


class Classifier:
    """Sentiment, intent and emotion for a batch of emails in one encoder pass.

    Args:
        settings: the ``[models]`` config section (threads, bf16, per-task backends, custom intents).
        tasks: which tasks to run (default all three).
        models_dir: where the heads live (default ``models/classifiers``).
    """

    def __init__(
        self,
        settings: ModelsSettings | None = None,
        tasks: Sequence[str] = TASKS,
        models_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.tasks = tuple(tasks)
        configured = settings.directory if settings and settings.directory else None
        self.models_dir: Path = models_dir or configured or default_models_dir()

    def load(self) -> Classifier:
        from intel.nlp.hf_backend import HFClassifier
        from intel.nlp.intents import IntentModel, custom_intents_from_settings

        self.external_: dict[str, HFClassifier] = {}
        native = []
        for task in self.tasks:
            backend = self.settings.task(task) if self.settings else None
            if backend is not None and backend.backend.startswith("transformers:"):
                self.external_[task] = HFClassifier(
                    backend.backend.removeprefix("transformers:"),
                    label_map=backend.labels,
                    labels=LABELS[task],
                    threads=self.settings.threads if self.settings else 2,
                    name=f"{task}.transformers",
                ).load()
            else:
                native.append(task)
        self.encoder_ = _make_encoder(self.models_dir, self.settings)
        self.models_: dict[str, Any] = {}
        wants_custom = bool(self.settings and self.settings.custom_intents and "intent" in self.tasks)
        if native or wants_custom:
            self.encoder_.load()
        for task in native:
            model = get_model(f"{task}.{VERSION}", self.models_dir, self.encoder_)
            self.models_[task] = model.load()
        intent = self.models_.get("intent")
        if wants_custom and self.settings is not None:
            custom = custom_intents_from_settings(self.settings, self.encoder_)
            if isinstance(intent, IntentModel):
                intent.custom_ = custom
            elif "intent" in self.external_:
                self.external_["intent"].custom_ = custom
        return self

    def model_names(self) -> dict[str, str]:
        """The versioned name that makes each task's predictions (stored beside them)."""
        names = {task: m.name for task, m in self.models_.items()}
        names.update({task: m.name for task, m in self.external_.items()})
        return names

    def labels(self, task: str) -> tuple[str, ...]:
        model = self.models_.get(task) or self.external_[task]
        return tuple(model.labels)

    def predict(self, items: Sequence[tuple[str | None, str] | str]) -> list[dict[str, dict[str, Any]]]:
        """One ``{task: {"label", "score", "scores"}}`` per item; an item is a text or (subject, new_text)."""
        from intel.nlp.encoder import email_text
        from intel.nlp.intents import IntentModel

        pairs = [(None, it) if isinstance(it, str) else it for it in items]
        texts = [email_text(s, t) for s, t in pairs]
        out: list[dict[str, dict[str, Any]]] = [{} for _ in texts]
        if self.models_:
            intent = self.models_.get("intent")
            extra: list[str] = []
            spans: list[tuple[int, int]] = []
            if isinstance(intent, IntentModel):
                extra, spans = intent.sentences_of([t for _, t in pairs])
            vectors = self.encoder_.encode(texts + extra)
            message_vecs, sentence_vecs = vectors[: len(texts)], vectors[len(texts) :]
            for task, model in self.models_.items():
                if isinstance(model, IntentModel):
                    rows = model.predict_vectors(message_vecs, sentence_vecs, spans)
                else:
                    rows = model.predict_embeddings(message_vecs)
                for o, r in zip(out, rows, strict=True):
                    o[task] = r
        for task, ext in self.external_.items():
            for o, r in zip(out, ext.predict(texts), strict=True):
                o[task] = r
        return out
