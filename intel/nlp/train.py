"""Training of the sentiment, intent and emotion heads (`intel train [TASK]`), reproducible from seeds.

Two stages:

1. Optional multi-task fine-tuning of the shared encoder (``steps > 0``): a LoRA adapter on the
   attention query/value projections of all-MiniLM-L6-v2, trained jointly with three temporary
   linear heads on GoEmotions (emotion, sentiment), the Parakweet intent sentences (ask / no ask)
   and the email examples in ``models/training/classifiers/``. Only the adapter is saved
   (``adapter.safetensors``, a few hundred KB), never the encoder weights.
2. The heads: scikit-learn logistic regression on the (adapted) frozen embeddings, one per task,
   saved as safetensors coefficients + JSON labels, and measured on validation splits that no
   stage trained on (GoEmotions dev; 20% of the Parakweet train split; 20% of our email examples).

Validation splits, data mappings and every number land in ``models/classifiers/metrics.json``,
from which ``CARD.md`` is written.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from intel.errors import ConfigError
from intel.nlp.encoder import Encoder, apply_lora, default_model_path, lora_state_dict, mean_pool
from intel.nlp.heads import (
    EMOTION_LABELS,
    INTENT_LABELS,
    SENTIMENT_LABELS,
    LinearHead,
    default_models_dir,
)

__all__ = [
    "TASKS",
    "Corpus",
    "TrainConfig",
    "default_data_dir",
    "load_corpus",
    "train",
    "write_card",
]

log = logging.getLogger(__name__)

TASKS = ("sentiment", "intent", "emotion")
LABELS = {"sentiment": SENTIMENT_LABELS, "intent": INTENT_LABELS, "emotion": EMOTION_LABELS}
MODES = ("finetune", "heads", "frozen")  # fine-tune + heads | heads on the existing adapter | no adapter

# The suggested GoEmotions -> project mapping (../shared/data/README.md).
GOEMOTIONS_TO_EMOTION = {
    "joy": "happy",
    "amusement": "happy",
    "relief": "happy",
    "pride": "happy",
    "optimism": "happy",
    "excitement": "enthusiastic",
    "desire": "enthusiastic",
    "gratitude": "grateful",
    "approval": "trust",
    "admiration": "trust",
    "caring": "trust",
    "confusion": "confused",
    "curiosity": "confused",
    "disappointment": "dissatisfied",
    "disapproval": "dissatisfied",
    "sadness": "dissatisfied",
    "remorse": "dissatisfied",
    "annoyance": "frustrated",
    "anger": "frustrated",
    "disgust": "frustrated",
    "neutral": "neutral",
}
_QUESTION_START = re.compile(
    r"^\W*(what|when|where|who|whom|which|why|how|is|are|was|were|does|do|did|has|have|had|any)\b", re.IGNORECASE
)


def default_data_dir() -> Path:
    """``../shared/data`` beside the repository (third-party data; never copied into the repo)."""
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def default_examples_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "models" / "training" / "classifiers"


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass
class Corpus:
    """Labelled texts per task and split: ``data[task][split] = (texts, labels)``."""

    data: dict[str, dict[str, tuple[list[str], list[str]]]] = field(default_factory=dict)
    # Sentence-level "asks the reader for something" validation (Parakweet held-out 20%).
    ask_val: tuple[list[str], list[int]] = field(default_factory=lambda: ([], []))
    sources: dict[str, str] = field(default_factory=dict)
    example_texts: set[str] = field(default_factory=set)

    def add(self, task: str, split: str, text: str, label: str) -> None:
        texts, labels = self.data.setdefault(task, {}).setdefault(split, ([], []))
        texts.append(text)
        labels.append(label)

    def counts(self) -> dict[str, dict[str, dict[str, int]]]:
        out: dict[str, dict[str, dict[str, int]]] = {}
        for task, splits in self.data.items():
            for split, (_, labels) in splits.items():
                out.setdefault(task, {})[split] = {lab: labels.count(lab) for lab in sorted(set(labels))}
        return out


def _goemotions(path: Path, names: list[str], sentiment_of: dict[str, str]) -> list[tuple[str, str | None, str | None]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        labels = [names[int(i)] for i in parts[1].split(",") if i.strip().isdigit()]
        emo = GOEMOTIONS_TO_EMOTION.get(labels[0]) if len(labels) == 1 else None
        groups = {sentiment_of.get(lab) for lab in labels}
        sent = groups.pop() if len(groups) == 1 else None
        if sent == "ambiguous":
            sent = None
        rows.append((parts[0], emo, sent))
    return rows


def _ask_intent(sentence: str) -> str:
    """Parakweet says only ask / no ask; a question form is a query, any other ask a request."""
    s = sentence.strip()
    return "query" if s.endswith("?") and _QUESTION_START.match(s) else "request"


def load_corpus(data_dir: Path | None = None, examples_dir: Path | None = None, seed: int = 13) -> Corpus:
    """All training and validation data, split deterministically by `seed`."""
    data_dir = data_dir or default_data_dir()
    examples_dir = examples_dir or default_examples_dir()
    go = data_dir / "goemotions"
    pk = data_dir / "email_intent" / "train.tsv"
    if not (go / "train.tsv").is_file() or not pk.is_file():
        raise ConfigError(f"training data not found under {data_dir} (expected goemotions/ and email_intent/)")
    corpus = Corpus()
    rng = random.Random(seed)
    names = (go / "emotions.txt").read_text(encoding="utf-8").split()
    groups = json.loads((go / "sentiment_dict.json").read_text(encoding="utf-8"))
    sentiment_of = {name: group for group, members in groups.items() for name in members}
    sentiment_of["neutral"] = "neutral"
    for split, fname in (("train", "train.tsv"), ("val", "dev.tsv")):
        for text, emo, sent in _goemotions(go / fname, names, sentiment_of):
            if emo:
                corpus.add("emotion", split, text, emo)
            if sent:
                corpus.add("sentiment", split, text, sent)
    corpus.sources["goemotions"] = "GoEmotions train (fit) / dev (validation), single-label rows mapped"

    ask_rows = []
    for line in pk.read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        if label in ("Yes", "No") and text.strip():
            ask_rows.append((text.strip(), label == "Yes"))
    rng.shuffle(ask_rows)
    cut = int(len(ask_rows) * 0.8)
    for text, ask in ask_rows[:cut]:
        corpus.add("intent", "train", text, _ask_intent(text) if ask else "other")
    corpus.ask_val = ([t for t, _ in ask_rows[cut:]], [int(a) for _, a in ask_rows[cut:]])
    corpus.sources["parakweet"] = f"Parakweet email intent train.tsv: {cut} fit / {len(ask_rows) - cut} validation"

    examples = []
    for path in sorted(examples_dir.glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            intent, emotion, sentiment, text = line.split("\t", 3)
            examples.append((intent, emotion, sentiment, text.replace("\\n", "\n")))
    by_intent: dict[str, list[tuple[str, str, str, str]]] = {}
    for ex in examples:
        by_intent.setdefault(ex[0], []).append(ex)
    for intent in sorted(by_intent):
        rows = by_intent[intent]
        rng.shuffle(rows)
        n_val = max(1, len(rows) // 5)
        for i, (it, emo, sent, text) in enumerate(rows):
            split = "email_val" if i < n_val else "train"
            if split == "train":
                corpus.example_texts.add(text)
            corpus.add("intent", split, text, it)
            corpus.add("emotion", split, text, emo)
            corpus.add("sentiment", split, text, sent)
    corpus.sources["examples"] = f"{len(examples)} email sentences written for the project, 20% per intent held out"
    return corpus


# --------------------------------------------------------------------------------------------
# Fine-tuning (LoRA, multi-task)
# --------------------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    seed: int = 13
    mode: str = "finetune"
    steps: int = 900  # LoRA fine-tuning steps; 0 = frozen encoder
    batch_size: int = 32
    lr: float = 1e-3
    rank: int = 8
    alpha: float = 16.0
    max_length: int = 64
    threads: int = 2
    example_weight: int = 4  # how many times our own email examples are repeated in the fine-tuning pool
    c: float = 1.0  # logistic regression inverse regularisation
    max_fit_rows: int = 40_000


def _finetune(corpus: Corpus, cfg: TrainConfig, out: Path, progress: Callable[[str], None]) -> dict[str, Any]:
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    rng = random.Random(cfg.seed)
    path = str(default_model_path())
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True)
    for p in model.parameters():
        p.requires_grad_(False)
    params = apply_lora(model, cfg.rank, cfg.alpha, cfg.seed)
    heads = torch.nn.ModuleDict({t: torch.nn.Linear(model.config.hidden_size, len(LABELS[t])) for t in TASKS})
    opt = torch.optim.AdamW([*params, *heads.parameters()], lr=cfg.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * max(0.05, 1 - s / cfg.steps))
    pools: dict[str, list[tuple[str, int]]] = {}
    for task in TASKS:
        texts, labels = corpus.data[task]["train"]
        index = {lab: i for i, lab in enumerate(LABELS[task])}
        pool = [(t, index[lab]) for t, lab in zip(texts, labels, strict=True)]
        # Repeat the (few) email examples so the email register is seen often enough.
        pool += [(t, y) for t, y in pool if t in corpus.example_texts] * (cfg.example_weight - 1)
        pools[task] = pool
    # Task mixture per step: emotion and sentiment share GoEmotions texts; intent is smaller.
    mixture = ["emotion"] * 4 + ["sentiment"] * 3 + ["intent"] * 3
    shuffled = {t: rng.sample(p, len(p)) for t, p in pools.items()}
    cursor = dict.fromkeys(TASKS, 0)
    model.train()
    started = time.monotonic()
    losses: list[float] = []
    for step in range(cfg.steps):
        task = mixture[step % len(mixture)]
        pool = shuffled[task]
        if cursor[task] + cfg.batch_size > len(pool):
            rng.shuffle(pool)
            cursor[task] = 0
        batch = pool[cursor[task] : cursor[task] + cfg.batch_size]
        cursor[task] += cfg.batch_size
        enc = tok([t for t, _ in batch], truncation=True, max_length=cfg.max_length, padding=True, return_tensors="pt")
        hidden = model(**enc).last_hidden_state
        emb = mean_pool(hidden, enc["attention_mask"])
        logits = heads[task](emb * 10.0)  # unit vectors: scale up so the linear head trains quickly
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor([y for _, y in batch]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if (step + 1) % 50 == 0:
            rate = (step + 1) / (time.monotonic() - started)
            progress(f"fine-tune step {step + 1}/{cfg.steps}  loss {np.mean(losses[-50:]):.3f}  {rate:.2f} steps/s")
    out.mkdir(parents=True, exist_ok=True)
    save_file(lora_state_dict(model), str(out / "adapter.safetensors"), metadata={"base": "all-MiniLM-L6-v2"})
    return {
        "steps": cfg.steps,
        "seconds": round(time.monotonic() - started, 1),
        "final_loss": round(float(np.mean(losses[-100:])), 4) if losses else None,
    }


# --------------------------------------------------------------------------------------------
# Heads
# --------------------------------------------------------------------------------------------


def _macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0))


def _fit_head(task: str, x: np.ndarray, y: list[str], cfg: TrainConfig, version: str) -> LinearHead:
    from sklearn.linear_model import LogisticRegression

    labels = LABELS[task]
    clf = LogisticRegression(C=cfg.c, max_iter=2000, class_weight="balanced", random_state=cfg.seed)
    clf.fit(x, y)
    coef = np.zeros((len(labels), x.shape[1]), dtype=np.float32)
    bias = np.full(len(labels), -30.0, dtype=np.float32)  # a label never seen in training is never predicted
    for row, lab in enumerate(clf.classes_):
        coef[labels.index(lab)] = clf.coef_[row]
        bias[labels.index(lab)] = clf.intercept_[row]
    return LinearHead(f"{task}.{version}", labels, coef, bias)


def train(
    tasks: Sequence[str] = TASKS,
    *,
    out_dir: Path | None = None,
    cfg: TrainConfig | None = None,
    data_dir: Path | None = None,
    version: str = "v1",
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Build the heads (and the adapter when ``cfg.steps > 0``) into `out_dir`; returns the metrics."""
    cfg = cfg or TrainConfig()
    out_dir = out_dir or default_models_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    corpus = load_corpus(data_dir, seed=cfg.seed)
    metrics: dict[str, Any] = {
        "version": version,
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%d"),
        "seed": cfg.seed,
        "config": cfg.__dict__,
        "sources": corpus.sources,
        "counts": corpus.counts(),
    }
    adapter = out_dir / "adapter.safetensors"
    if cfg.mode not in MODES:
        raise ConfigError(f"unknown training mode '{cfg.mode}': choose one of {', '.join(MODES)}")
    if cfg.mode == "finetune" and cfg.steps > 0:
        progress("fine-tuning the encoder (LoRA, multi-task)")
        metrics["finetune"] = _finetune(corpus, cfg, out_dir, progress)
    elif cfg.mode == "frozen" and adapter.exists():
        adapter.unlink()  # a frozen-encoder build must not pick up an old adapter
    elif cfg.mode == "heads" and (out_dir / "metrics.json").is_file():
        metrics["finetune"] = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8")).get("finetune")
    encoder = Encoder(adapter=adapter if adapter.exists() else None, threads=cfg.threads, bf16="off").load()
    metrics["encoder"] = encoder.name
    cache: dict[str, np.ndarray] = {}

    def embed(texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in cache]
        if todo:
            progress(f"encoding {len(todo)} texts")
            for t, v in zip(todo, encoder.encode(todo), strict=True):
                cache[t] = v
        return np.stack([cache[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    results: dict[str, Any] = {}
    for task in tasks:
        texts, labels = corpus.data[task]["train"]
        if len(texts) > cfg.max_fit_rows:
            keep = sorted(random.Random(cfg.seed).sample(range(len(texts)), cfg.max_fit_rows))
            texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        progress(f"fitting the {task} head on {len(texts)} texts")
        head = _fit_head(task, embed(texts), labels, cfg, version)
        head.save(out_dir)
        res: dict[str, Any] = {"train_rows": len(texts)}
        for split in ("val", "email_val"):
            if split in corpus.data[task]:
                vt, vl = corpus.data[task][split]
                pred = [r["label"] for r in head.predict_embeddings(embed(vt))]
                res[split] = {"rows": len(vt), "macro_f1": round(_macro_f1(vl, pred, sorted(set(vl))), 4)}
        if task == "intent":
            vt, vy = corpus.ask_val
            from sklearn.metrics import f1_score

            pred_ask = [int(r["label"] in ("request", "query")) for r in head.predict_embeddings(embed(vt))]
            res["ask_val"] = {"rows": len(vt), "f1": round(float(f1_score(vy, pred_ask)), 4)}
        results[task] = res
        progress(f"{task}: {json.dumps(res)}")
    metrics["results"] = results
    path = out_dir / "metrics.json"
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    old_results = old.get("results", {}) if old.get("encoder") == metrics["encoder"] else {}
    metrics["results"] = {**old_results, **results}
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return metrics


# --------------------------------------------------------------------------------------------
# Model card
# --------------------------------------------------------------------------------------------

_GOALS = {
    "sentiment": ("val", "macro_f1", 0.75),
    "emotion": ("val", "macro_f1", 0.62),
    "intent": ("ask_val", "f1", 0.85),
}


def write_card(metrics: dict[str, Any], out_dir: Path | None = None) -> Path:
    """Write the measured part of ``CARD.md`` (between the METRICS markers) from `metrics`."""
    out_dir = out_dir or default_models_dir()
    card = out_dir / "CARD.md"
    lines = [
        "<!-- METRICS:START (written by `intel train`; do not edit by hand) -->",
        f"- Version: `{metrics['version']}` · trained {metrics['trained_at']} · seed {metrics['seed']} · "
        f"encoder `{metrics.get('encoder')}`",
    ]
    ft = metrics.get("finetune")
    if ft:
        lines.append(
            f"- Fine-tuning: {ft.get('steps')} steps in {ft.get('seconds')} s, final loss {ft.get('final_loss')}"
        )
    lines += ["", "| head | validation split | rows | metric | value | goal |", "|---|---|---|---|---|---|"]
    split_names = {
        "val": "GoEmotions dev (mapped)",
        "email_val": "held-out 20% of our email examples",
        "ask_val": "held-out 20% of Parakweet (ask = request or query)",
    }
    for task in TASKS:
        res = metrics.get("results", {}).get(task)
        if not res:
            continue
        for split in ("val", "ask_val", "email_val"):
            if split not in res:
                continue
            metric = "F1 (ask)" if split == "ask_val" else "macro-F1"
            value = res[split].get("f1", res[split].get("macro_f1"))
            goal_split, _, goal = _GOALS[task]
            goal_text = f">= {goal} ({'met' if value >= goal else 'NOT met'})" if split == goal_split else ""
            lines.append(
                f"| `{task}.{metrics['version']}` | {split_names[split]} | {res[split]['rows']} | {metric} | "
                f"{value:.3f} | {goal_text} |"
            )
    lines.append("<!-- METRICS:END -->")
    block = "\n".join(lines)
    text = card.read_text(encoding="utf-8") if card.exists() else "# Model card\n\n" + block + "\n"
    if "<!-- METRICS:START" in text:
        start = text.index("<!-- METRICS:START")
        end = text.index("<!-- METRICS:END -->") + len("<!-- METRICS:END -->")
        text = text[:start] + block + text[end:]
    card.write_text(text, encoding="utf-8")
    return card
