"""Helpers for the analyst notebooks: the snapshot, the demo's ground truth as polars, model scores.

The notebooks in ``notebooks/`` tell the stories; what they compute more than once lives here,
typed and tested:

* `snapshot_path` / `open_analysis_snapshot`: the read-only snapshot that ``intel run`` publishes
  (``$INTEL_SNAPSHOT`` overrides it) and `query` for a parameterized query as polars.
* `ground_truth_frame`, `activity_truth_frame`, `signature_truth_frame`: what the demo generator
  (`intel.demo.demo_messages`) knows about every message, as polars frames.
* `confusion_matrix`, `per_label_scores`, `classification_summary`, `accuracy_by_confidence`:
  plain classification metrics on label sequences; `labelled_insights` joins the truth to the
  stored predictions by Message-ID and `misclassified` lists the mistakes.
* `activity_matches` / `activity_scores` and `signature_field_matches` / `signature_field_scores`:
  the extractors' output in the snapshot against the truth.
* `upcoming_activities`: meetings, calls and deadlines in the days after a date.
* `text_bar`: a bar of characters beside a number, so tables read as charts without a plotting
  library (matplotlib is not a dependency).
* `strip_notebook_outputs`: notebooks are committed without outputs.

Definitions: precision = correct / predicted, recall = correct / support (NULL when the
denominator is 0), F1 = 2 x correct / (support + predicted); macro-F1 averages F1 over the labels
that occur in the truth (scikit-learn's ``average="macro"`` restricted to those labels with
``zero_division=0``, as the model cards report it).
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from intel.errors import BadInputError, ConfigError, StoreError

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "SIGNATURE_FIELDS",
    "SNAPSHOT_ENV",
    "accuracy_by_confidence",
    "activity_matches",
    "activity_scores",
    "activity_truth_frame",
    "classification_summary",
    "confusion_matrix",
    "ground_truth_frame",
    "labelled_insights",
    "misclassified",
    "open_analysis_snapshot",
    "per_label_scores",
    "query",
    "signature_field_matches",
    "signature_field_scores",
    "signature_truth_frame",
    "snapshot_path",
    "strip_notebook_outputs",
    "text_bar",
    "upcoming_activities",
]

SNAPSHOT_ENV = "INTEL_SNAPSHOT"

# Demo signature keys -> `contact_fields.field`, in the order the notebooks show them.
SIGNATURE_FIELDS: dict[str, str] = {
    "name": "name",
    "title": "title",
    "company": "company",
    "phones": "phone",
    "emails": "email",
    "websites": "website",
    "address": "postal_address",
    "social": "social",
}

_TASKS = ("sentiment", "intent", "emotion")
_Labels = Sequence[str | None] | pl.Series


# --------------------------------------------------------------------------------------------
# The snapshot
# --------------------------------------------------------------------------------------------


def snapshot_path(path: str | Path | None = None) -> Path:
    """The snapshot file to analyse.

    `path` if given, else ``$INTEL_SNAPSHOT``, else the configured snapshot (``intel.toml`` and
    ``INTEL_*`` settings; ``data/intel.snapshot.duckdb`` by default). A relative configured path
    is looked up in the working directory and then in its parents, so a notebook started in
    ``notebooks/`` finds the repository's ``data/``.
    """
    if path is not None:
        return Path(path)
    explicit = os.environ.get(SNAPSHOT_ENV)
    if explicit:
        return Path(explicit)
    from intel.config import load_settings

    configured = load_settings().storage.snapshot_path
    if configured.is_absolute():
        return configured
    cwd = Path.cwd()
    for base in (cwd, *cwd.parents):
        if (base / configured).is_file():
            return base / configured
    return cwd / configured


def open_analysis_snapshot(path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the snapshot (see `snapshot_path`) read-only; a missing file is one clear StoreError."""
    from intel.store import open_snapshot

    target = snapshot_path(path)
    if not target.is_file():
        raise StoreError(
            f"no snapshot at {target}: run `intel run` in the repository root (it builds the demo database),"
            f" or set {SNAPSHOT_ENV} to a snapshot file"
        )
    return open_snapshot(target)


def query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
    """Run one parameterized query and return all rows as polars (columns typed even when empty)."""
    return con.sql(sql, params=list(params) if params is not None else None).pl()


def text_bar(column: str, width: int = 30, char: str = "\u2588") -> pl.Expr:
    """A bar of `char` as long as a numeric column relative to its largest value (which gets `width`).

    ``frame.with_columns(text_bar("messages"))`` adds ``messages_bar``; NULL, zero and negative
    values get an empty bar.
    """
    if width < 1:
        raise BadInputError(f"width must be at least 1, not {width}")
    values = pl.col(column).cast(pl.Float64)
    top = values.max()
    length = (
        pl.when(top > 0)
        .then((values / top * width).round(0))
        .otherwise(0.0)
        .fill_null(0.0)
        .clip(0, width)
        .cast(pl.Int64)
    )
    return pl.lit(char).repeat_by(length).list.join("").alias(f"{column}_bar")


# --------------------------------------------------------------------------------------------
# Ground truth of the demo mailbox
# --------------------------------------------------------------------------------------------


def _demo(seed: int | None) -> list[Any]:
    from intel.demo import DEMO_SEED, demo_messages

    return demo_messages(DEMO_SEED if seed is None else seed)


def ground_truth_frame(seed: int | None = None) -> pl.DataFrame:
    """One row per demo message: ids, direction, sender, subject and its intent/sentiment/emotion labels.

    `sent_at` is in UTC; `activities` counts the activities written in the message and
    `has_signature` says whether it carries a signature block with fields.
    """
    rows = [
        {
            "message_id": m.message_id,
            "thread_key": m.thread_key,
            "folder": m.folder,
            "direction": m.direction,
            "sent_at": m.sent_at,
            "sender": m.sender,
            "recipients": list(m.recipients),
            "subject": m.subject,
            "intent": m.intent,
            "sentiment": m.sentiment,
            "emotion": m.emotion,
            "activities": len(m.activities),
            "has_signature": m.signature is not None,
        }
        for m in _demo(seed)
    ]
    schema: dict[str, pl.DataType] = {
        "message_id": pl.String(),
        "thread_key": pl.String(),
        "folder": pl.String(),
        "direction": pl.String(),
        "sent_at": pl.Datetime("us", "UTC"),
        "sender": pl.String(),
        "recipients": pl.List(pl.String()),
        "subject": pl.String(),
        "intent": pl.String(),
        "sentiment": pl.String(),
        "emotion": pl.String(),
        "activities": pl.Int64(),
        "has_signature": pl.Boolean(),
    }
    return pl.DataFrame(rows, schema=schema)


def activity_truth_frame(seed: int | None = None) -> pl.DataFrame:
    """One row per activity the demo generator wrote: message_id, position, type, text, `when`.

    `when` is the start (meetings, calls) or the due date/time (tasks) as ISO 8601: a date
    (``2026-06-05``) or a datetime with offset, exactly as `intel predict` writes them.
    """
    rows = [
        (m.message_id, position, a["type"], a["text"], a["start"] or a["due"])
        for m in _demo(seed)
        for position, a in enumerate(m.activities)
    ]
    schema = {"message_id": pl.String, "position": pl.Int64, "type": pl.String, "text": pl.String, "when": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def signature_truth_frame(seed: int | None = None) -> pl.DataFrame:
    """One row per value printed in a demo signature: message_id, sender, field, value.

    Fields are named as in `contact_fields` (``phones`` -> ``phone``, ``address`` ->
    ``postal_address``, ...); list fields give one row per value.
    """
    rows: list[tuple[str, str, str, str]] = []
    for m in _demo(seed):
        if m.signature is None:
            continue
        for key, field in SIGNATURE_FIELDS.items():
            value = m.signature.get(key)
            values = value if isinstance(value, list) else [value]
            rows.extend((m.message_id, m.sender, field, str(v)) for v in values if v)
    schema = {"message_id": pl.String, "sender": pl.String, "field": pl.String, "value": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


# --------------------------------------------------------------------------------------------
# Classification metrics
# --------------------------------------------------------------------------------------------


def _pairs(truth: _Labels, predicted: _Labels) -> list[tuple[str, str]]:
    t, p = list(truth), list(predicted)
    if len(t) != len(p):
        raise BadInputError(f"truth has {len(t)} labels but predicted has {len(p)}")
    pairs = []
    for a, b in zip(t, p, strict=True):
        if a is None or b is None:
            raise BadInputError("a label is missing (None); drop unlabelled or unscored rows first")
        pairs.append((str(a), str(b)))
    return pairs


def _label_order(pairs: list[tuple[str, str]], labels: Sequence[str] | None) -> list[str]:
    """`labels` in their order, then any other label that occurs, sorted (no count is ever dropped)."""
    order = list(dict.fromkeys(labels or ()))
    seen = {label for pair in pairs for label in pair}
    return order + sorted(seen - set(order))


def confusion_matrix(truth: _Labels, predicted: _Labels, labels: Sequence[str] | None = None) -> pl.DataFrame:
    """Counts of (true label, predicted label): one row per true label, one column per predicted label.

    The first column, ``truth``, names the row. Rows and columns follow `labels` (default: every
    label that occurs, sorted); labels that occur but are not in `labels` are appended.
    """
    pairs = _pairs(truth, predicted)
    order = _label_order(pairs, labels)
    if "truth" in order:
        raise BadInputError("a label is called 'truth', which is the name of the row column")
    counts = Counter(pairs)
    data: dict[str, list[Any]] = {"truth": order}
    for p in order:
        data[p] = [counts[(t, p)] for t in order]
    return pl.DataFrame(data, schema={"truth": pl.String, **dict.fromkeys(order, pl.Int64)})


def per_label_scores(truth: _Labels, predicted: _Labels, labels: Sequence[str] | None = None) -> pl.DataFrame:
    """Per label: support (true), predicted, correct, precision, recall and F1 (see the module docstring)."""
    pairs = _pairs(truth, predicted)
    order = _label_order(pairs, labels)
    support = Counter(t for t, _ in pairs)
    guessed = Counter(p for _, p in pairs)
    correct = Counter(t for t, p in pairs if t == p)
    rows = []
    for label in order:
        s, g, c = support[label], guessed[label], correct[label]
        rows.append(
            (
                label,
                s,
                g,
                c,
                c / g if g else None,
                c / s if s else None,
                2 * c / (s + g) if s + g else None,
            )
        )
    schema = {
        "label": pl.String,
        "support": pl.Int64,
        "predicted": pl.Int64,
        "correct": pl.Int64,
        "precision": pl.Float64,
        "recall": pl.Float64,
        "f1": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def classification_summary(truth: _Labels, predicted: _Labels) -> dict[str, Any]:
    """Messages, accuracy, macro-F1, and the baseline that always answers the most common true label.

    Keys: ``messages``, ``accuracy``, ``macro_f1``, ``majority_label``, ``majority_accuracy``
    (the scores are None when there is nothing to score).
    """
    pairs = _pairs(truth, predicted)
    if not pairs:
        return {"messages": 0, "accuracy": None, "macro_f1": None, "majority_label": None, "majority_accuracy": None}
    f1 = per_label_scores(truth, predicted).filter(pl.col("support") > 0)["f1"].to_list()
    majority, majority_count = Counter(t for t, _ in pairs).most_common(1)[0]
    return {
        "messages": len(pairs),
        "accuracy": sum(t == p for t, p in pairs) / len(pairs),
        "macro_f1": sum(f1) / len(f1),
        "majority_label": majority,
        "majority_accuracy": majority_count / len(pairs),
    }


def accuracy_by_confidence(
    truth: _Labels,
    predicted: _Labels,
    score: Sequence[float] | pl.Series,
    edges: Sequence[float] = (0.0, 0.5, 0.7, 0.9, 1.0),
) -> pl.DataFrame:
    """How often the model is right at each confidence: messages, correct and accuracy per score bucket.

    Buckets are ``[edges[i], edges[i+1])``, the last one closed (a score of exactly 1.0 counts);
    scores outside the edges are left out.
    """
    pairs = _pairs(truth, predicted)
    scores = [float(s) for s in score]
    if len(scores) != len(pairs):
        raise BadInputError(f"{len(pairs)} labels but {len(scores)} scores")
    if len(edges) < 2 or any(b <= a for a, b in itertools.pairwise(edges)):
        raise BadInputError("edges must be at least two increasing numbers")
    rows = []
    last = len(edges) - 2
    for i, (low, high) in enumerate(itertools.pairwise(edges)):
        inside = [
            t == p for (t, p), s in zip(pairs, scores, strict=True) if low <= s < high or (i == last and s == high)
        ]
        right = sum(inside)
        closing = "]" if i == last else ")"
        rows.append((f"[{low:g}, {high:g}{closing}", len(inside), right, right / len(inside) if inside else None))
    schema = {"confidence": pl.String, "messages": pl.Int64, "correct": pl.Int64, "accuracy": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row")


# --------------------------------------------------------------------------------------------
# Stored predictions against the truth
# --------------------------------------------------------------------------------------------


def labelled_insights(con: duckdb.DuckDBPyConnection, truth: pl.DataFrame | None = None) -> pl.DataFrame:
    """The demo truth joined by Message-ID to the stored message and its sentiment/intent/emotion.

    One row per truth message (`ground_truth_frame`): message_id, message_key (NULL if the
    message is not in the database), direction, sender, subject, new_text, and for each task
    ``<task>_true``, ``<task>_pred`` and ``<task>_score`` (the predictions NULL if not scored).
    """
    truth = ground_truth_frame() if truth is None else truth
    stored = query(
        con,
        "SELECT m.rfc_message_id AS message_id, m.message_key, m.new_text,"
        " i.sentiment AS sentiment_pred, i.sentiment_score, i.intent AS intent_pred, i.intent_score,"
        " i.emotion AS emotion_pred, i.emotion_score"
        " FROM messages AS m LEFT JOIN message_insights AS i USING (message_key)"
        " WHERE m.duplicate_of IS NULL AND m.rfc_message_id IS NOT NULL",
    )
    base = truth.select(
        "message_id",
        "direction",
        "sender",
        "subject",
        *(pl.col(task).alias(f"{task}_true") for task in _TASKS),
    )
    ordered = ["message_id", "message_key", "direction", "sender", "subject", "new_text"]
    for task in _TASKS:
        ordered += [f"{task}_true", f"{task}_pred", f"{task}_score"]
    return base.join(stored, on="message_id", how="left", maintain_order="left").select(ordered)


def _snippet(column: str, chars: int) -> pl.Expr:
    """The first `chars` characters of a text column on one line (whitespace runs collapsed)."""
    return pl.col(column).fill_null("").str.replace_all(r"\s+", " ").str.strip_chars().str.slice(0, chars)


def misclassified(frame: pl.DataFrame, task: str, *, truth_label: str | None = None, chars: int = 160) -> pl.DataFrame:
    """The scored rows of `labelled_insights` where `task` is wrong, most confident mistakes first.

    Columns: subject, text (the start of the new text), true label, predicted label and score.
    `truth_label` keeps only mistakes on messages whose true label it is.
    """
    if task not in _TASKS:
        raise BadInputError(f"'{task}' is not one of {', '.join(_TASKS)}")
    true, pred, score = f"{task}_true", f"{task}_pred", f"{task}_score"
    wrong = frame.filter(pl.col(pred).is_not_null() & (pl.col(true) != pl.col(pred)))
    if truth_label is not None:
        wrong = wrong.filter(pl.col(true) == truth_label)
    return wrong.sort(score, descending=True).select(
        "direction", "subject", _snippet("new_text", chars).alias("text"), true, pred, score
    )


def _same_when(want: str | None, got: str | None) -> bool:
    """Same date; and, when the truth has a time, the same instant."""
    if want is None or got is None:
        return want is None and got is None
    if want[:10] != got[:10]:
        return False
    if "T" not in want:
        return True
    return "T" in got and datetime.fromisoformat(got) == datetime.fromisoformat(want)


def activity_matches(con: duckdb.DuckDBPyConnection, truth: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every true activity and every extracted one of the same messages, paired where they match.

    Within a message, an extracted activity matches the first unmatched true activity whose
    sentence contains its text or is contained in it. `outcome` is ``matched``, ``missed`` (a
    true activity nothing matched) or ``spurious`` (extracted, matches nothing); `type_ok` and
    `date_ok` (same date, and the same instant when the truth has a time) are set on matches.
    Only messages of the truth are considered.
    """
    truth = activity_truth_frame() if truth is None else truth
    found = query(
        con,
        "SELECT m.rfc_message_id AS message_id, a.position, a.type, a.text,"
        " coalesce(a.start_text, a.due_text) AS when"
        " FROM activities AS a JOIN messages AS m USING (message_key)"
        " WHERE m.rfc_message_id IS NOT NULL ORDER BY m.rfc_message_id, a.position",
    )
    wanted: dict[str, list[dict[str, Any]]] = {}
    for row in truth.iter_rows(named=True):
        wanted.setdefault(row["message_id"], []).append(row)
    got: dict[str, list[dict[str, Any]]] = {}
    for row in found.iter_rows(named=True):
        if row["message_id"] in wanted:
            got.setdefault(row["message_id"], []).append(row)

    rows: list[dict[str, Any]] = []
    for message_id, expected in wanted.items():
        used: set[int] = set()
        for a in got.get(message_id, []):
            j = next(
                (
                    j
                    for j, t in enumerate(expected)
                    if j not in used and (a["text"] in t["text"] or t["text"] in a["text"])
                ),
                None,
            )
            t = expected[j] if j is not None else None
            if j is not None:
                used.add(j)
            rows.append(_activity_row(message_id, t, a))
        rows.extend(_activity_row(message_id, t, None) for j, t in enumerate(expected) if j not in used)
    schema = {
        "message_id": pl.String,
        "outcome": pl.String,
        "truth_type": pl.String,
        "found_type": pl.String,
        "truth_when": pl.String,
        "found_when": pl.String,
        "type_ok": pl.Boolean,
        "date_ok": pl.Boolean,
        "truth_text": pl.String,
        "found_text": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def _activity_row(message_id: str, t: dict[str, Any] | None, a: dict[str, Any] | None) -> dict[str, Any]:
    matched = t is not None and a is not None
    return {
        "message_id": message_id,
        "outcome": "matched" if matched else ("missed" if a is None else "spurious"),
        "truth_type": t["type"] if t else None,
        "found_type": a["type"] if a else None,
        "truth_when": t["when"] if t else None,
        "found_when": a["when"] if a else None,
        "type_ok": (t["type"] == a["type"]) if t and a else None,
        "date_ok": _same_when(t["when"], a["when"]) if t and a else None,
        "truth_text": t["text"] if t else None,
        "found_text": a["text"] if a else None,
    }


def activity_scores(matches: pl.DataFrame) -> pl.DataFrame:
    """Per activity type and overall (``all``): truth, found, correct, precision, recall, date accuracy.

    `correct` counts matches of the right type; precision = correct / found of that type, recall =
    correct / truth of that type, `date_accuracy` = correct ones with the right date / correct.
    """
    rows = []
    types = sorted({t for t in (*matches["truth_type"], *matches["found_type"]) if t is not None})
    for kind in [*types, "all"]:
        every = kind == "all"
        truth_n = matches.filter(pl.col("truth_type").is_not_null() & (every | (pl.col("truth_type") == kind))).height
        found_n = matches.filter(pl.col("found_type").is_not_null() & (every | (pl.col("found_type") == kind))).height
        right = matches.filter(
            (pl.col("outcome") == "matched") & pl.col("type_ok") & (every | (pl.col("truth_type") == kind))
        )
        correct = right.height
        dated = right.filter(pl.col("date_ok")).height
        rows.append(
            (
                kind,
                truth_n,
                found_n,
                correct,
                correct / found_n if found_n else None,
                correct / truth_n if truth_n else None,
                dated / correct if correct else None,
            )
        )
    schema = {
        "type": pl.String,
        "truth": pl.Int64,
        "found": pl.Int64,
        "correct": pl.Int64,
        "precision": pl.Float64,
        "recall": pl.Float64,
        "date_accuracy": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def signature_field_matches(con: duckdb.DuckDBPyConnection, truth: pl.DataFrame | None = None) -> pl.DataFrame:
    """Each signature value of the truth and of `contact_fields`, per message: found, expected or both.

    One row per (message_id, field, value) with `in_truth` and `found`. Values are compared
    without surrounding space and case (an email or website in capitals is the same one). Only
    messages of the truth are considered.
    """
    truth = signature_truth_frame() if truth is None else truth
    found = query(
        con,
        "SELECT m.rfc_message_id AS message_id, f.field, f.value"
        " FROM contact_fields AS f JOIN messages AS m USING (message_key)"
        " WHERE f.field <> 'signature' AND m.rfc_message_id IS NOT NULL",
    )
    messages = truth["message_id"].unique() if truth.height else pl.Series("message_id", [], dtype=pl.String)
    key = pl.col("value").str.strip_chars().str.to_lowercase().alias("key")
    expected = truth.select("message_id", "field", "value", key).unique(["message_id", "field", "key"])
    extracted = (
        found.filter(pl.col("message_id").is_in(messages.implode()))
        .select("message_id", "field", pl.col("value").alias("found_value"), key)
        .unique(["message_id", "field", "key"])
    )
    joined = expected.join(extracted, on=["message_id", "field", "key"], how="full", coalesce=True)
    order = {field: i for i, field in enumerate(SIGNATURE_FIELDS.values())}
    return (
        joined.with_columns(
            pl.col("value").is_not_null().alias("in_truth"),
            pl.col("found_value").is_not_null().alias("found"),
            pl.coalesce("value", "found_value").alias("value"),
            pl.col("field").replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_order"),
        )
        .sort("message_id", "_order", "value")
        .select("message_id", "field", "value", "in_truth", "found")
    )


def signature_field_scores(matches: pl.DataFrame) -> pl.DataFrame:
    """Per signature field (then ``all``): values in the truth, found, correct, precision, recall, F1."""
    fields = [f for f in SIGNATURE_FIELDS.values() if f in set(matches["field"])]
    extra = sorted(set(matches["field"]) - set(fields))
    rows = []
    for field in [*fields, *extra, "all"]:
        part = matches if field == "all" else matches.filter(pl.col("field") == field)
        truth_n = part.filter(pl.col("in_truth")).height
        found_n = part.filter(pl.col("found")).height
        correct = part.filter(pl.col("in_truth") & pl.col("found")).height
        rows.append(
            (
                field,
                truth_n,
                found_n,
                correct,
                correct / found_n if found_n else None,
                correct / truth_n if truth_n else None,
                2 * correct / (truth_n + found_n) if truth_n + found_n else None,
            )
        )
    schema = {
        "field": pl.String,
        "truth": pl.Int64,
        "found": pl.Int64,
        "correct": pl.Int64,
        "precision": pl.Float64,
        "recall": pl.Float64,
        "f1": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


# --------------------------------------------------------------------------------------------
# Activities ahead
# --------------------------------------------------------------------------------------------


def upcoming_activities(
    con: duckdb.DuckDBPyConnection, as_of: date | datetime | None = None, days: int = 14
) -> pl.DataFrame:
    """Meetings, calls and task deadlines dated from `as_of` to `days` days later, earliest first.

    What was known on `as_of`: only activities mentioned in mail sent by then (local date of the
    report time zone). `as_of` defaults to the local date of the newest message (the demo mailbox
    ends in September 2026, so today's date would find nothing in it), or today when there is no
    mail. Dates are the activities' own calendar dates (`start_date`, else `due_date`). Columns:
    day, starts_at (the instant when a time is known), type, status, time_text, text,
    from_address, subject (of the message), thread_id.
    """
    if days < 0:
        raise BadInputError(f"days must be 0 or more, not {days}")
    if as_of is None:
        ((newest,),) = con.execute("SELECT max(local_sent_at)::DATE FROM v_mail").fetchall()
        start: date = newest if newest is not None else date.today()
    else:
        start = as_of.date() if isinstance(as_of, datetime) else as_of
    return query(con, _UPCOMING, [start, start + timedelta(days=days), start])


_UPCOMING = (
    "SELECT coalesce(a.start_date, a.due_date) AS day, coalesce(a.start_at, a.due_at) AS starts_at, a.type, a.status,"
    " a.time_text, a.text, a.from_address, m.subject, a.thread_id"
    " FROM activities AS a JOIN v_mail AS m USING (message_key)"
    " WHERE coalesce(a.start_date, a.due_date) BETWEEN ? AND ? AND m.local_sent_at::DATE <= ?"
    " ORDER BY day, starts_at NULLS LAST, a.activity_id"
)


# --------------------------------------------------------------------------------------------
# Notebook files
# --------------------------------------------------------------------------------------------


def strip_notebook_outputs(path: str | Path) -> bool:
    """Remove outputs, execution counts and run metadata from a notebook file; True if it changed.

    Notebooks are committed without outputs (the test suite checks it): run this before
    committing one you executed, e.g. ``python -c "from intel.analysis import
    strip_notebook_outputs as s; s('notebooks/01_explore_mailbox.ipynb')"``.
    """
    try:
        import nbformat
    except ImportError:
        raise ConfigError('stripping notebooks needs nbformat: pip install -e ".[dev]"') from None

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    changed = False
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            cell["outputs"] = []
            cell["execution_count"] = None
            changed = True
        if "execution" in cell.get("metadata", {}):
            del cell["metadata"]["execution"]
            changed = True
    if changed:
        nbformat.write(notebook, path)
    return changed
