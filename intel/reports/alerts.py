"""Alert rules over the enriched mail, raised once into `alerts`.

Each rule is one SQL query over the report views (`v_mail`, `v_message_responses`) that returns
the situations it finds now. A situation has a stable key (rule + subject + the message that
started it), so a run that finds it again inserts nothing: an alert is raised once. Later runs
only mark alerts resolved when the situation has ended (a positive mail after a negative streak,
a reply to an unanswered mail).

Rules (thresholds in ``[alerts]``; 0 turns a rule off):

* ``negative_streak``: N negative inbound mails in a row from one external correspondent, with
  no positive mail from them in between (neutral mail neither counts nor breaks the streak).
* ``domain_negative_streak``: the same over all correspondents of one organisation domain.
* ``complaint_unanswered``: a complaint still without a reply after X hours.
* ``request_unanswered``: a request, question or purchase inquiry without a reply after X hours
  (turns that hold a complaint raise the complaint alert instead).

Only mail within ``lookback_days`` of the newest stored message is considered, so importing an
old archive does not raise an alert for every quarrel of years ago.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from intel.config import AlertSettings
from intel.store.db import Store

__all__ = ["RULES", "AlertCounts", "raise_alerts"]

RULES = ("negative_streak", "domain_negative_streak", "complaint_unanswered", "request_unanswered")

# A streak per subject: runs are split by positive mails; negatives of a run are numbered.
_STREAK_SQL = """
WITH recent AS (
    SELECT message_key, thread_id, sent_at, subject AS mail_subject, sentiment,
           {subject} AS who
    FROM v_mail
    WHERE direction = 'inbound' AND NOT is_automated AND sentiment IN ('positive', 'negative')
      AND {subject} IS NOT NULL
      AND sent_at >= (SELECT max(sent_at) FROM v_mail) - to_days(CAST($lookback AS INTEGER))
),
runs AS (
    SELECT *, sum(CASE WHEN sentiment = 'positive' THEN 1 ELSE 0 END)
              OVER (PARTITION BY who ORDER BY sent_at, message_key ROWS UNBOUNDED PRECEDING) AS run
    FROM recent
),
negatives AS (
    SELECT *, row_number() OVER (PARTITION BY who, run ORDER BY sent_at, message_key) AS n
    FROM runs WHERE sentiment = 'negative'
)
SELECT who,
       list(message_key ORDER BY sent_at, message_key) AS keys,
       min(sent_at) AS first_at,
       max(sent_at) FILTER (WHERE n = $streak) AS trigger_at,
       count(*) AS negatives,
       arg_max(mail_subject, sent_at) AS last_subject,
       arg_max(thread_id, sent_at) AS last_thread,
       count(DISTINCT thread_id) AS threads
FROM negatives
GROUP BY who, run
HAVING count(*) >= $streak
"""

# Unanswered turns of asks: grouped per (thread, turn) so one waiting conversation is one alert.
_UNANSWERED_SQL = """
WITH waiting AS (
    SELECT * FROM v_message_responses
    WHERE NOT answered AND intent IN ({intents})
      AND sent_at >= (SELECT max(sent_at) FROM v_mail) - to_days(CAST($lookback AS INTEGER))
)
SELECT thread_id, turn_start,
       arg_min(correspondent, sent_at) AS who,
       list(message_key ORDER BY sent_at, message_key) AS keys,
       min(sent_at) AS first_at,
       arg_min(subject, sent_at) AS mail_subject,
       list(DISTINCT intent) AS intents,
       max(waiting_hours) AS waiting_hours
FROM waiting
GROUP BY thread_id, turn_start
HAVING min(sent_at) + to_microseconds(CAST($hours * 3600e6 AS BIGINT)) <= now()
"""


@dataclass
class AlertCounts:
    raised: dict[str, int]
    resolved: int
    open: int


@dataclass(frozen=True)
class _Alert:
    rule: str
    severity: str
    subject_type: str
    subject: str
    title: str
    details: dict[str, Any]
    message_keys: list[str]
    thread_id: str | None
    first_at: datetime
    trigger_at: datetime

    @property
    def key(self) -> str:
        # The situation: the rule, who it concerns and the message that started it.
        ident = f"{self.rule}\x1f{self.subject}\x1f{self.message_keys[0]}"
        return hashlib.sha256(ident.encode("utf-8")).hexdigest()


def _streaks(store: Store, rule: str, subject: str, subject_type: str, streak: int, lookback: int) -> list[_Alert]:
    # `subject` is one of two constant column expressions of ours, never input.
    sql = _STREAK_SQL.format(subject=subject)
    found = []
    for who, keys, first_at, trigger_at, negatives, last_subject, thread, threads in store.con.execute(
        sql, {"lookback": lookback, "streak": streak}
    ).fetchall():
        what = "emails" if subject_type == "address" else f"emails from people at {who}"
        title = (
            f"{negatives} negative {what} in a row from {who}"
            if subject_type == "address"
            else f"{negatives} negative {what} in a row"
        )
        found.append(
            _Alert(
                rule,
                "high" if subject_type == "address" else "medium",
                subject_type,
                who,
                f"{title} (latest: {last_subject!r})" if last_subject else title,
                {"negatives": int(negatives), "threshold": streak, "threads": int(threads)},
                list(keys),
                thread,
                first_at,
                trigger_at,
            )
        )
    return found


def _unanswered(
    store: Store, rule: str, intents: tuple[str, ...], hours: float, lookback: int, *, skip_complaints: bool = False
) -> list[_Alert]:
    placeholders = ", ".join(f"$i{n}" for n in range(len(intents)))
    params: dict[str, Any] = {"lookback": lookback, "hours": hours}
    params.update({f"i{n}": intent for n, intent in enumerate(intents)})
    found = []
    rows = store.con.execute(_UNANSWERED_SQL.format(intents=placeholders), params).fetchall()
    for thread, _turn, who, keys, first_at, mail_subject, kinds, waiting in rows:
        if skip_complaints and "complaint" in kinds:
            continue  # the complaint rule speaks for turns that hold a complaint
        kind = "complaint" if rule == "complaint_unanswered" else "/".join(sorted(kinds)).replace("_", " ")
        found.append(
            _Alert(
                rule,
                "high" if rule == "complaint_unanswered" else "medium",
                "address",
                who or "",
                f"{kind} from {who} unanswered for more than {hours:g} hours: {mail_subject!r}",
                {"threshold_hours": hours, "waiting_hours": round(float(waiting or 0.0), 1), "messages": len(keys)},
                list(keys),
                thread,
                first_at,
                first_at + timedelta(hours=hours),
            )
        )
    return found


def _find(store: Store, rules: AlertSettings) -> list[_Alert]:
    found: list[_Alert] = []
    lookback = rules.lookback_days
    if rules.negative_streak:
        found += _streaks(store, "negative_streak", "correspondent", "address", rules.negative_streak, lookback)
    if rules.domain_negative_streak:
        found += _streaks(
            store, "domain_negative_streak", "correspondent_domain", "domain", rules.domain_negative_streak, lookback
        )
    if rules.complaint_unanswered_hours:
        found += _unanswered(store, "complaint_unanswered", ("complaint",), rules.complaint_unanswered_hours, lookback)
    if rules.request_unanswered_hours:
        found += _unanswered(
            store,
            "request_unanswered",
            ("request", "query", "purchase_inquiry", "complaint"),
            rules.request_unanswered_hours,
            lookback,
            skip_complaints=bool(rules.complaint_unanswered_hours),
        )
    return found


_RESOLVE_SQL = """
UPDATE alerts AS a SET status = 'resolved', resolved_at = $now
WHERE a.status = 'open' AND (
    (a.rule = 'negative_streak' AND EXISTS (
        SELECT 1 FROM v_mail m
        WHERE m.direction = 'inbound' AND m.correspondent = a.subject
          AND m.sentiment = 'positive' AND m.sent_at > a.trigger_at))
    OR (a.rule = 'domain_negative_streak' AND EXISTS (
        SELECT 1 FROM v_mail m
        WHERE m.direction = 'inbound' AND m.correspondent_domain = a.subject
          AND m.sentiment = 'positive' AND m.sent_at > a.trigger_at))
    OR (a.rule IN ('complaint_unanswered', 'request_unanswered') AND EXISTS (
        SELECT 1 FROM v_message_responses r
        WHERE r.message_key = a.message_keys[1] AND r.answered))
)
"""


def raise_alerts(store: Store, rules: AlertSettings, load_id: int) -> AlertCounts:
    """Insert the alerts not raised before, resolve the ones whose situation ended."""
    now = datetime.now(UTC)
    found = _find(store, rules)
    table = pa.table(
        {
            "alert_key": pa.array([a.key for a in found], pa.string()),
            "rule": pa.array([a.rule for a in found], pa.string()),
            "severity": pa.array([a.severity for a in found], pa.string()),
            "subject_type": pa.array([a.subject_type for a in found], pa.string()),
            "subject": pa.array([a.subject for a in found], pa.string()),
            "title": pa.array([a.title for a in found], pa.string()),
            "details": pa.array([json.dumps(a.details) for a in found], pa.string()),
            "message_keys": pa.array([a.message_keys for a in found], pa.list_(pa.string())),
            "thread_id": pa.array([a.thread_id for a in found], pa.string()),
            "first_at": pa.array([a.first_at for a in found], pa.timestamp("us", tz="UTC")),
            "trigger_at": pa.array([a.trigger_at for a in found], pa.timestamp("us", tz="UTC")),
        }
    )
    with store.transaction({"found_alerts": table}) as con:
        raised_rows = con.execute(
            "INSERT INTO alerts (alert_key, rule, severity, subject_type, subject, title, details, message_keys,"
            " thread_id, first_at, trigger_at, raised_at, load_id, status)"
            " SELECT f.alert_key, f.rule, f.severity, f.subject_type, f.subject, f.title, CAST(f.details AS JSON),"
            " f.message_keys, f.thread_id, f.first_at, f.trigger_at, $now, $load, 'open'"
            " FROM found_alerts f ANTI JOIN alerts a ON a.alert_key = f.alert_key"
            " RETURNING rule",
            {"now": now, "load": load_id},
        ).fetchall()
        resolved = con.execute(_RESOLVE_SQL + " RETURNING alert_key", {"now": now}).fetchall()
        row = con.execute("SELECT count(*) FROM alerts WHERE status = 'open'").fetchone()
    raised = {rule: 0 for rule in RULES}
    for (rule,) in raised_rows:
        raised[rule] += 1
    return AlertCounts(raised, len(resolved), int(row[0]) if row else 0)
