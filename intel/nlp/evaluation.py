"""Shared evaluation helpers: the demo mailbox as parsed emails, signature line metrics, and fast
F1 scores on integer label codes (the classifier heads' calibration evaluates them thousands of times).

Used by the trainers (to write model cards), by the benchmark and by the tests.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from intel.nlp.sigdata import Email

__all__ = ["DemoEmail", "LineScores", "binary_f1", "demo_emails", "macro_f1_codes", "score_signatures"]


def macro_f1_codes(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> float:
    """Macro-F1 over the labels present in `y_true`; labels are integer codes ``0 .. n_labels - 1``.

    Equals scikit-learn's ``f1_score(average="macro", labels=<labels in y_true>, zero_division=0)``.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if len(y_true) == 0:
        return 0.0
    confusion = np.bincount(y_true * n_labels + y_pred, minlength=n_labels * n_labels).reshape(n_labels, n_labels)
    tp = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    denom = support + predicted
    f1 = np.divide(2 * tp, denom, out=np.zeros(n_labels), where=denom > 0)
    return float(f1[support > 0].mean())


def binary_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 of the positive class (1) for 0/1 arrays (0.0 when there is nothing to score)."""
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    tp = int(np.sum(y_true & y_pred))
    denom = int(y_true.sum() + y_pred.sum())
    return 2 * tp / denom if denom else 0.0


@dataclass(frozen=True)
class DemoEmail:
    """One demo message as the pipeline sees it, with its ground truth."""

    message_id: str
    body_text: str
    sender: str  # "Display Name <address>"
    sender_address: str
    recipients: tuple[str, ...]
    sent_at: datetime  # in the sender's offset
    thread_key: str
    truth: Any  # intel.demo.DemoMessage


def demo_emails(seed: int | None = None) -> list[DemoEmail]:
    """The demo mailbox (or another seed of it), parsed, in date order, each with its truth."""
    from intel.demo import DEMO_SEED, write_demo_maildir
    from intel.parse import parse_message

    seed = DEMO_SEED if seed is None else seed
    with tempfile.TemporaryDirectory(prefix="intel-demo-") as tmp:
        root = Path(tmp) / "Maildir"
        truth = write_demo_maildir(root, seed)
        by_id = {t.message_id: t for t in truth}
        out = []
        for path in sorted([*(root / "cur").iterdir(), *(root / ".Sent" / "cur").iterdir()]):
            parsed = parse_message(path.read_bytes())
            t = by_id.get(parsed.rfc_message_id or "")
            if t is None or parsed.from_ is None:
                continue
            offset = parsed.sent_at_offset_minutes or 0
            sent = parsed.sent_at.astimezone(timezone(timedelta(minutes=offset)))
            sender = f"{parsed.from_.name} <{parsed.from_.address}>" if parsed.from_.name else parsed.from_.address
            out.append(
                DemoEmail(
                    t.message_id,
                    parsed.body_text,
                    sender,
                    parsed.from_.address,
                    tuple(a.address for a in (*parsed.to, *parsed.cc)),
                    sent,
                    t.thread_key,
                    t,
                )
            )
    out.sort(key=lambda e: e.sent_at.timestamp())
    return out


@dataclass
class LineScores:
    """Signature line metrics over a set of emails (non-blank lines only)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    emails: int = 0
    has_sig_right: int = 0
    exact: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def has_signature_accuracy(self) -> float:
        return self.has_sig_right / self.emails if self.emails else 1.0

    @property
    def exact_rate(self) -> float:
        return self.exact / self.emails if self.emails else 1.0

    def row(self) -> dict[str, float | int]:
        return {
            "emails": self.emails,
            "line_precision": round(self.precision, 4),
            "line_recall": round(self.recall, 4),
            "line_f1": round(self.f1, 4),
            "has_signature_accuracy": round(self.has_signature_accuracy, 4),
            "exact_block": round(self.exact_rate, 4),
        }


def score_signatures(
    emails: Sequence[Email],
    predict: Callable[[Email], set[int]],
    errors: list[tuple[str, set[int], set[int]]] | None = None,
) -> LineScores:
    """Compare predicted signature line numbers with the labels (``S``) of each email."""
    scores = LineScores()
    for e in emails:
        truth = {i for i, (text, label) in enumerate(e.lines) if label == "S" and text.strip()}
        got = {i for i in predict(e) if e.lines[i][0].strip()} if e.lines else set()
        scores.emails += 1
        scores.tp += len(truth & got)
        scores.fp += len(got - truth)
        scores.fn += len(truth - got)
        scores.has_sig_right += bool(truth) == bool(got)
        scores.exact += truth == got
        if errors is not None and truth != got:
            errors.append((e.id, truth, got))
    return scores


@dataclass
class MentionScores:
    """How many explicit date/time mentions resolve to the right calendar date (and instant)."""

    explicit: int = 0
    right_date: int = 0
    right_instant: int = 0
    with_time: int = 0
    vague: int = 0
    vague_kept_null: int = 0
    failures: list[tuple[str, str, str | None, list[str | None]]] | None = None

    @property
    def date_accuracy(self) -> float:
        return self.right_date / self.explicit if self.explicit else 1.0

    @property
    def instant_accuracy(self) -> float:
        return self.right_instant / self.with_time if self.with_time else 1.0

    def row(self) -> dict[str, float | int]:
        return {
            "explicit_mentions": self.explicit,
            "right_calendar_date": round(self.date_accuracy, 4),
            "with_time": self.with_time,
            "right_instant": round(self.instant_accuracy, 4),
            "vague_mentions": self.vague,
            "vague_left_unresolved": self.vague_kept_null,
        }


def score_mentions(rows: Sequence[dict[str, Any]]) -> MentionScores:
    """Score `find_mentions` on rows ``{"text", "ref", "expect", "explicit"}`` (see models/training/activities)."""
    from intel.nlp.timeparse import find_mentions, parse_reference

    scores = MentionScores(failures=[])
    for row in rows:
        ref = parse_reference(row["ref"])
        found = find_mentions(row["text"], ref)
        got = [m.iso() for m in found]
        expect = row["expect"]
        if not row["explicit"]:
            scores.vague += 1
            if all(m.start is None for m in found):
                scores.vague_kept_null += 1
            elif scores.failures is not None:
                scores.failures.append((row["id"], row["text"], expect, got))
            continue
        scores.explicit += 1
        days = {m.day.isoformat() for m in found if m.day is not None}
        ok_date = days == {expect[:10]}
        scores.right_date += ok_date
        if "T" in expect:
            scores.with_time += 1
            want = datetime.fromisoformat(expect)
            instants = [m.start for m in found if isinstance(m.start, datetime) and m.start.tzinfo is not None]
            scores.right_instant += any(i == want for i in instants) or (
                ref is None
                and any(isinstance(m.start, datetime) and m.start == want.replace(tzinfo=None) for m in found)
            )
        if not ok_date and scores.failures is not None:
            scores.failures.append((row["id"], row["text"], expect, got))
    return scores
