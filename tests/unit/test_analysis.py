"""The notebook helpers of `intel.analysis`: metrics worked out by hand, and checked against scikit-learn.

The functions that read a database run here on small in-memory DuckDB tables with only the
columns they read (the notebooks run them on the real demo snapshot, tests/notebooks).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import nbformat
import polars as pl
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from intel.analysis import (
    SIGNATURE_FIELDS,
    accuracy_by_confidence,
    activity_matches,
    activity_scores,
    activity_truth_frame,
    classification_summary,
    confusion_matrix,
    ground_truth_frame,
    labelled_insights,
    misclassified,
    open_analysis_snapshot,
    per_label_scores,
    signature_field_matches,
    signature_field_scores,
    signature_truth_frame,
    snapshot_path,
    strip_notebook_outputs,
    text_bar,
    upcoming_activities,
)
from intel.demo import demo_messages
from intel.errors import BadInputError, StoreError

TRUTH = ["pos", "pos", "neg", "neg", "neg", "neu"]
PRED = ["pos", "neg", "neg", "neu", "neu", "neu"]


# --------------------------------------------------------------------------------------------
# Classification metrics
# --------------------------------------------------------------------------------------------


def test_confusion_matrix_rows_are_truth_columns_are_predictions() -> None:
    matrix = confusion_matrix(TRUTH, PRED, ["pos", "neg", "neu"])
    assert matrix.columns == ["truth", "pos", "neg", "neu"]
    assert matrix.rows() == [
        ("pos", 1, 1, 0),  # pos: one right, one read as neg
        ("neg", 0, 1, 2),  # neg: one right, two read as neu
        ("neu", 0, 0, 1),
    ]


def test_confusion_matrix_keeps_labels_outside_the_given_ones() -> None:
    matrix = confusion_matrix(["a", "b"], ["a", "zzz"], ["b", "a"])
    assert matrix["truth"].to_list() == ["b", "a", "zzz"]  # given order, then the extra label
    assert matrix.columns == ["truth", "b", "a", "zzz"]
    assert matrix.filter(pl.col("truth") == "b")["zzz"].item() == 1
    assert int(matrix.select(pl.exclude("truth")).sum_horizontal().sum()) == 2


def test_confusion_matrix_of_nothing_is_all_zeros_over_the_labels() -> None:
    matrix = confusion_matrix([], [], ["x", "y"])
    assert matrix.rows() == [("x", 0, 0), ("y", 0, 0)]


@pytest.mark.parametrize(
    ("truth", "predicted", "message"),
    [
        (["a"], ["a", "b"], "1 labels but predicted has 2"),
        (["a", None], ["a", "b"], "missing"),
        (["truth"], ["truth"], "called 'truth'"),
    ],
)
def test_confusion_matrix_refuses_bad_input(truth: list[str | None], predicted: list[str], message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        confusion_matrix(truth, predicted)


def test_per_label_scores_by_hand() -> None:
    scores = {r["label"]: r for r in per_label_scores(TRUTH, PRED, ["pos", "neg", "neu", "never"]).to_dicts()}
    # pos: 2 true, 1 predicted, 1 right -> P 1/1, R 1/2, F1 2*1/(2+1)
    pos = scores["pos"]
    assert (pos["support"], pos["predicted"], pos["correct"]) == (2, 1, 1)
    assert (pos["precision"], pos["recall"], pos["f1"]) == pytest.approx((1.0, 0.5, 2 / 3))
    # neg: 3 true, 2 predicted, 1 right -> P 1/2, R 1/3, F1 2/5
    assert (scores["neg"]["precision"], scores["neg"]["recall"], scores["neg"]["f1"]) == pytest.approx(
        (0.5, 1 / 3, 0.4)
    )
    # neu: 1 true, 3 predicted, 1 right -> P 1/3, R 1, F1 2/4
    assert (scores["neu"]["precision"], scores["neu"]["recall"], scores["neu"]["f1"]) == pytest.approx(
        (1 / 3, 1.0, 0.5)
    )
    # a label that never occurs: nothing to divide by
    assert scores["never"] == {
        "label": "never",
        "support": 0,
        "predicted": 0,
        "correct": 0,
        "precision": None,
        "recall": None,
        "f1": None,
    }


def test_a_label_never_predicted_has_no_precision_and_zero_f1() -> None:
    row = per_label_scores(["a", "b"], ["a", "a"], ["a", "b"]).filter(pl.col("label") == "b").row(0, named=True)
    assert (row["precision"], row["recall"], row["f1"]) == (None, 0.0, 0.0)


def test_scores_agree_with_scikit_learn() -> None:
    rng = random.Random(7)
    labels = ["request", "query", "complaint", "other", "rare"]
    truth = [rng.choice(labels[:4]) for _ in range(300)]  # "rare" is only ever predicted
    predicted = [t if rng.random() < 0.6 else rng.choice(labels) for t in truth]
    scores = per_label_scores(truth, predicted, labels)
    present = sorted(set(truth))
    for label in present:
        row = scores.filter(pl.col("label") == label).row(0, named=True)
        assert row["precision"] == pytest.approx(precision_score(truth, predicted, labels=[label], average="macro"))
        assert row["recall"] == pytest.approx(recall_score(truth, predicted, labels=[label], average="macro"))
        assert row["f1"] == pytest.approx(f1_score(truth, predicted, labels=[label], average="macro"))
    summary = classification_summary(truth, predicted)
    assert summary["macro_f1"] == pytest.approx(
        f1_score(truth, predicted, labels=present, average="macro", zero_division=0)
    )
    assert summary["accuracy"] == pytest.approx(sum(t == p for t, p in zip(truth, predicted, strict=True)) / 300)
    majority, count = Counter(truth).most_common(1)[0]
    assert (summary["majority_label"], summary["majority_accuracy"]) == (majority, pytest.approx(count / 300))


def test_classification_summary_by_hand_and_when_empty() -> None:
    summary = classification_summary(TRUTH, PRED)
    # 3 of 6 right; F1 over the true labels pos, neg, neu = (2/3 + 2/5 + 1/2) / 3; "neg" is the most common
    assert summary == {
        "messages": 6,
        "accuracy": 0.5,
        "macro_f1": pytest.approx((2 / 3 + 0.4 + 0.5) / 3),
        "majority_label": "neg",
        "majority_accuracy": 0.5,
    }
    assert classification_summary([], [])["accuracy"] is None


def test_accuracy_by_confidence_buckets() -> None:
    truth = ["a", "a", "a", "a", "a", "a"]
    predicted = ["a", "b", "a", "a", "b", "a"]
    score = [0.2, 0.45, 0.5, 0.95, 1.0, 1.2]  # 1.0 is in the closed last bucket; 1.2 is outside
    table = accuracy_by_confidence(truth, predicted, score, edges=(0.0, 0.5, 1.0))
    assert table.rows() == [("[0, 0.5)", 2, 1, 0.5), ("[0.5, 1]", 3, 2, pytest.approx(2 / 3))]
    empty = accuracy_by_confidence(["a"], ["a"], [0.1], edges=(0.5, 1.0))
    assert empty.rows() == [("[0.5, 1]", 0, 0, None)]


@pytest.mark.parametrize("edges", [(0.5,), (0.0, 0.5, 0.5), (1.0, 0.0)])
def test_accuracy_by_confidence_needs_increasing_edges(edges: tuple[float, ...]) -> None:
    with pytest.raises(BadInputError, match="increasing"):
        accuracy_by_confidence(["a"], ["a"], [0.1], edges=edges)


def test_accuracy_by_confidence_needs_one_score_per_label() -> None:
    with pytest.raises(BadInputError, match="2 labels but 1 scores"):
        accuracy_by_confidence(["a", "b"], ["a", "b"], [0.1])


def test_text_bar_scales_to_the_largest_value() -> None:
    frame = pl.DataFrame({"n": [10, 5, 0, None, -3, 1]})
    bars = frame.with_columns(text_bar("n", width=4, char="#"))["n_bar"].to_list()
    assert bars == ["####", "##", "", "", "", ""]  # 1/10 of 4 rounds to 0
    assert pl.DataFrame({"n": [0, 0]}).with_columns(text_bar("n"))["n_bar"].to_list() == ["", ""]
    with pytest.raises(BadInputError):
        text_bar("n", width=0)


# --------------------------------------------------------------------------------------------
# Ground truth
# --------------------------------------------------------------------------------------------


def test_ground_truth_frames_hold_the_demo_truth() -> None:
    truth = demo_messages()
    frame = ground_truth_frame()
    assert frame.height == len(truth)
    assert frame["message_id"].to_list() == [m.message_id for m in truth]
    assert frame.schema["sent_at"] == pl.Datetime("us", "UTC")
    assert frame["sent_at"][0] == truth[0].sent_at  # the same instant, now in UTC
    for task in ("intent", "sentiment", "emotion"):
        assert Counter(frame[task].to_list()) == Counter(getattr(m, task) for m in truth)
    assert frame["activities"].sum() == sum(len(m.activities) for m in truth)

    activities = activity_truth_frame()
    assert activities.height == frame["activities"].sum()
    first = next(m for m in truth if m.activities)
    row = activities.filter(pl.col("message_id") == first.message_id).row(0, named=True)
    assert (row["position"], row["type"], row["text"]) == (0, first.activities[0]["type"], first.activities[0]["text"])
    assert row["when"] == (first.activities[0]["start"] or first.activities[0]["due"])

    fields = signature_truth_frame()
    assert set(fields["field"]) <= set(SIGNATURE_FIELDS.values())
    phones = sum(len(m.signature["phones"]) for m in truth if m.signature)
    assert fields.filter(pl.col("field") == "phone").height == phones
    assert fields.filter(pl.col("field") == "name").height == sum(m.signature is not None for m in truth)


# --------------------------------------------------------------------------------------------
# Stored predictions against a truth: small tables with the columns the helpers read
# --------------------------------------------------------------------------------------------


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE messages (message_key VARCHAR, rfc_message_id VARCHAR, new_text VARCHAR, duplicate_of VARCHAR,"
        " subject VARCHAR)"
    )
    con.execute(
        "INSERT INTO messages VALUES ('k1', '<m1@x>', 'Still   broken.\nFix it', NULL, 'Broken'),"
        " ('k2', '<m2@x>', 'Thanks!', NULL, 'Thanks'), ('k3', '<m3@x>', 'Not scored', NULL, 'New'),"
        " ('k1b', '<m1@x>', 'resent copy', 'k1', 'Broken'), ('k9', '<other@x>', 'not in the truth', NULL, 'Other')"
    )
    con.execute(
        "CREATE TABLE message_insights (message_key VARCHAR, sentiment VARCHAR, sentiment_score DOUBLE,"
        " intent VARCHAR, intent_score DOUBLE, emotion VARCHAR, emotion_score DOUBLE)"
    )
    con.execute(
        "INSERT INTO message_insights VALUES ('k1', 'positive', 0.9, 'request', 0.8, 'grateful', 0.7),"
        " ('k2', 'positive', 0.6, 'other', 0.9, 'grateful', 0.8)"
    )
    con.execute(
        "CREATE TABLE activities (activity_id VARCHAR, message_key VARCHAR, position INTEGER, thread_id VARCHAR,"
        " type VARCHAR, status VARCHAR, text VARCHAR, time_text VARCHAR, start_at TIMESTAMPTZ, start_date DATE,"
        " due_at TIMESTAMPTZ, due_date DATE, start_text VARCHAR, due_text VARCHAR, from_address VARCHAR)"
    )
    con.execute(
        "INSERT INTO activities VALUES"
        # m1: a call at the right instant written with another offset, and a task a day late
        " ('k1:0', 'k1', 0, 't1', 'call', 'proposed', 'Call me on Monday at 10:00.', 'Monday at 10:00',"
        "  '2026-06-08 09:00:00+00', '2026-06-08', NULL, NULL, '2026-06-08T11:00:00+02:00', NULL, 'a@x'),"
        " ('k1:1', 'k1', 1, 't1', 'task', 'requested', 'Send it by Friday', 'Friday',"
        "  NULL, NULL, NULL, '2026-06-13', NULL, '2026-06-13', 'a@x'),"
        # m2: a meeting the truth calls a call, and one the truth does not have
        " ('k2:0', 'k2', 0, 't2', 'meeting', 'confirmed', 'See you on 9 June.', '9 June',"
        "  NULL, '2026-06-09', NULL, NULL, '2026-06-09', NULL, 'b@x'),"
        " ('k2:1', 'k2', 1, 't2', 'task', 'committed', 'I will call back.', NULL,"
        "  NULL, NULL, NULL, NULL, NULL, NULL, 'b@x'),"
        # a message outside the truth is left out
        " ('k9:0', 'k9', 0, 't9', 'task', 'requested', 'Whatever', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'c@x')"
    )
    con.execute("CREATE TABLE contact_fields (address VARCHAR, field VARCHAR, value VARCHAR, message_key VARCHAR)")
    con.execute(
        "INSERT INTO contact_fields VALUES ('a@x', 'name', 'Ann Lee', 'k1'), ('a@x', 'phone', '+4411', 'k1'),"
        " ('a@x', 'website', 'WWW.X.EXAMPLE ', 'k1'), ('a@x', 'signature', 'Ann Lee\n+4411', 'k1'),"
        " ('a@x', 'title', 'Boss', 'k1'), ('c@x', 'name', 'Cy', 'k9')"
    )
    con.execute(
        "CREATE VIEW v_mail AS SELECT message_key, subject,"
        " CASE message_key WHEN 'k1' THEN TIMESTAMP '2026-06-05 10:00' WHEN 'k2' THEN TIMESTAMP '2026-06-10 10:00'"
        " ELSE TIMESTAMP '2026-06-01 10:00' END AS local_sent_at FROM messages WHERE duplicate_of IS NULL"
    )
    yield con
    con.close()


def _truth() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "message_id": ["<m1@x>", "<m2@x>", "<m3@x>", "<m4@x>"],
            "direction": ["inbound", "inbound", "outbound", "inbound"],
            "sender": ["a@x", "b@x", "us@x", "d@x"],
            "subject": ["Broken", "Thanks", "New", "Missing"],
            "intent": ["complaint", "other", "query", "other"],
            "sentiment": ["negative", "positive", "neutral", "neutral"],
            "emotion": ["frustrated", "grateful", "neutral", "neutral"],
        }
    )


def test_labelled_insights_join_by_message_id(con: duckdb.DuckDBPyConnection) -> None:
    frame = labelled_insights(con, _truth())
    assert frame["message_id"].to_list() == ["<m1@x>", "<m2@x>", "<m3@x>", "<m4@x>"]  # truth order, duplicates out
    assert frame["message_key"].to_list() == ["k1", "k2", "k3", None]
    assert frame["sentiment_true"].to_list() == ["negative", "positive", "neutral", "neutral"]
    assert frame["sentiment_pred"].to_list() == ["positive", "positive", None, None]  # k3 not scored, m4 not stored
    assert frame["intent_score"].to_list() == [0.8, 0.9, None, None]

    wrong = misclassified(frame, "sentiment")
    assert wrong.columns == ["direction", "subject", "text", "sentiment_true", "sentiment_pred", "sentiment_score"]
    assert wrong.rows() == [("inbound", "Broken", "Still broken. Fix it", "negative", "positive", 0.9)]
    assert misclassified(frame, "intent", truth_label="other").height == 0
    assert misclassified(frame, "emotion", chars=5)["text"].to_list() == ["Still"]
    with pytest.raises(BadInputError):
        misclassified(frame, "topic")


def test_activity_matches_pair_by_sentence_and_check_type_and_date(con: duckdb.DuckDBPyConnection) -> None:
    truth = pl.DataFrame(
        {
            "message_id": ["<m1@x>", "<m1@x>", "<m2@x>", "<m3@x>"],
            "position": [0, 1, 0, 0],
            "type": ["call", "task", "call", "meeting"],
            "text": [
                "Call me on Monday at 10:00.",
                "Send it by Friday the 12th, please.",
                "See you on 9 June.",
                "Meet on Tuesday.",
            ],
            "when": ["2026-06-08T10:00:00+01:00", "2026-06-12", "2026-06-09", "2026-06-09T10:00:00+00:00"],
        }
    )
    matches = activity_matches(con, truth)
    rows = {(r["truth_text"], r["found_text"]): r for r in matches.to_dicts()}
    call = rows[("Call me on Monday at 10:00.", "Call me on Monday at 10:00.")]
    assert (call["outcome"], call["type_ok"], call["date_ok"]) == ("matched", True, True)  # 09:00 UTC both ways
    task = rows[("Send it by Friday the 12th, please.", "Send it by Friday")]
    assert (task["outcome"], task["type_ok"], task["date_ok"]) == ("matched", True, False)  # a day late
    meeting = rows[("See you on 9 June.", "See you on 9 June.")]
    assert (meeting["outcome"], meeting["type_ok"], meeting["date_ok"]) == ("matched", False, True)
    assert rows[(None, "I will call back.")]["outcome"] == "spurious"
    assert rows[("Meet on Tuesday.", None)]["outcome"] == "missed"
    assert matches.height == 5  # the activity of k9 (not in the truth) is left out

    scores = {r["type"]: r for r in activity_scores(matches).to_dicts()}
    # call: 2 true, 1 found (the meeting was found as a meeting), 1 right
    assert (scores["call"]["truth"], scores["call"]["found"], scores["call"]["correct"]) == (2, 1, 1)
    assert (scores["call"]["precision"], scores["call"]["recall"]) == (1.0, 0.5)
    # task: 1 true, 2 found, 1 right (with the wrong date)
    assert (scores["task"]["precision"], scores["task"]["recall"], scores["task"]["date_accuracy"]) == (0.5, 1.0, 0.0)
    assert scores["meeting"]["correct"] == 0 and scores["meeting"]["date_accuracy"] is None
    assert (scores["all"]["truth"], scores["all"]["found"], scores["all"]["correct"]) == (4, 4, 2)


def test_a_time_in_the_truth_needs_the_same_instant() -> None:
    truth = pl.DataFrame(
        {"message_id": ["<m2@x>"], "position": [0], "type": ["meeting"], "text": ["See you on 9 June."]},
    ).with_columns(when=pl.lit("2026-06-09T15:00:00+00:00"))
    con = duckdb.connect()
    con.execute("CREATE TABLE messages AS SELECT 'k2' AS message_key, '<m2@x>' AS rfc_message_id")
    con.execute(
        "CREATE TABLE activities AS SELECT 'k2' AS message_key, 0 AS position, 'meeting' AS type,"
        " 'See you on 9 June.' AS text, '2026-06-09' AS start_text, NULL::VARCHAR AS due_text"
    )
    (row,) = activity_matches(con, truth).to_dicts()
    assert (row["outcome"], row["type_ok"], row["date_ok"]) == ("matched", True, False)  # the day only
    con.close()


def test_signature_fields_compare_without_case_and_space(con: duckdb.DuckDBPyConnection) -> None:
    truth = pl.DataFrame(
        {
            "message_id": ["<m1@x>", "<m1@x>", "<m1@x>", "<m1@x>"],
            "sender": ["a@x"] * 4,
            "field": ["name", "phone", "website", "company"],
            "value": ["Ann Lee", "+4411", "www.x.example", "Lee Ltd"],
        }
    )
    matches = signature_field_matches(con, truth)
    assert matches.select("field", "value", "in_truth", "found").rows() == [
        ("name", "Ann Lee", True, True),
        ("title", "Boss", False, True),  # found, not printed: extra
        ("company", "Lee Ltd", True, False),  # printed, not found: missed
        ("phone", "+4411", True, True),
        ("website", "www.x.example", True, True),  # "WWW.X.EXAMPLE " is the same value
    ]
    scores = {r["field"]: r for r in signature_field_scores(matches).to_dicts()}
    assert (scores["all"]["truth"], scores["all"]["found"], scores["all"]["correct"]) == (4, 4, 3)
    assert (scores["company"]["precision"], scores["company"]["recall"], scores["company"]["f1"]) == (None, 0.0, 0.0)
    assert scores["title"]["precision"] == 0.0 and scores["title"]["recall"] is None
    assert "signature" not in scores  # the block itself is not a field


def test_upcoming_activities_known_on_a_date(con: duckdb.DuckDBPyConnection) -> None:
    # As of 2026-06-07: k1 (sent 06-05) is known, k2 (sent 06-10) is not yet.
    week = upcoming_activities(con, as_of=date(2026, 6, 7), days=7)
    assert week.select("day", "type", "text").rows() == [
        (date(2026, 6, 8), "call", "Call me on Monday at 10:00."),
        (date(2026, 6, 13), "task", "Send it by Friday"),
    ]
    assert upcoming_activities(con, as_of=datetime(2026, 6, 7, 23, 0), days=1)["type"].to_list() == ["call"]
    # Default: the date of the newest message (06-10): the meeting of 06-09 is past, nothing is dated later.
    assert upcoming_activities(con, days=2).select("day", "type").rows() == []
    assert upcoming_activities(con, as_of=date(2026, 6, 9), days=0)["type"].to_list() == []
    with pytest.raises(BadInputError):
        upcoming_activities(con, days=-1)


# --------------------------------------------------------------------------------------------
# The snapshot and notebook files
# --------------------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("INTEL_SNAPSHOT", "INTEL_CONFIG", "INTEL_STORAGE__DATABASE", "INTEL_STORAGE__SNAPSHOT"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    return tmp_path


def test_snapshot_path_prefers_the_argument_then_the_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert snapshot_path("x.duckdb") == Path("x.duckdb")
    monkeypatch.setenv("INTEL_SNAPSHOT", "/elsewhere/snap.duckdb")
    assert snapshot_path() == Path("/elsewhere/snap.duckdb")
    assert snapshot_path("x.duckdb") == Path("x.duckdb")


def test_snapshot_path_finds_the_repository_data_from_notebooks(clean_env: Path) -> None:
    # Nothing yet: the default beside the working directory (open_analysis_snapshot then explains).
    assert snapshot_path() == clean_env / "notebooks" / "data" / "intel.snapshot.duckdb"
    with pytest.raises(StoreError, match="INTEL_SNAPSHOT"):
        open_analysis_snapshot()
    target = clean_env / "data" / "intel.snapshot.duckdb"
    target.parent.mkdir()
    duckdb.connect(str(target)).close()
    assert snapshot_path() == target
    con = open_analysis_snapshot()
    try:
        with pytest.raises(duckdb.Error):
            con.execute("CREATE TABLE t (x INTEGER)")  # read-only
    finally:
        con.close()


def test_snapshot_path_follows_the_configured_storage(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEL_STORAGE__SNAPSHOT", str(clean_env / "bi" / "shared.duckdb"))
    assert snapshot_path() == clean_env / "bi" / "shared.duckdb"


def test_strip_notebook_outputs(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell.execution_count = 3
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)]
    cell.metadata["execution"] = {"iopub.execute_input": "2026-06-01T10:00:00Z"}
    notebook.cells = [nbformat.v4.new_markdown_cell("# Title"), cell]
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook, path)

    assert strip_notebook_outputs(path) is True
    stripped = nbformat.read(path, as_version=4)
    assert stripped.cells[1].outputs == [] and stripped.cells[1].execution_count is None
    assert "execution" not in stripped.cells[1].metadata
    assert stripped.cells[1].source == "1 + 1" and stripped.cells[0].source == "# Title"
    assert strip_notebook_outputs(path) is False
