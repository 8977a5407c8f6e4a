"""Report views and the HTML report on a 1,000,000-message mailbox: seconds per view, and in total.

Input: a mailbox generated straight into DuckDB (no MIME, no parsing): the database is created
with `intel.store.open_store`, so it has the real tables, migrations and views, and the rows are
bulk-inserted from seeded numpy columns through Arrow and ``INSERT ... SELECT``:

* ``messages`` (~20% outbound, ~4% internal, ~6% automated notifications), in threads of 1-30
  messages whose replies come after varied delays (hours to weeks; replies move to working
  hours), many turns never answered; ~5,000 external correspondents across ~800 domains, both
  heavy-tailed (Zipf-like); 3 years of dates with weekday/hour patterns and growth; a few
  messages in spam/trash/drafts and a few duplicates; a sync window (``since``) that leaves
  the oldest month out;
* ``message_addresses``, ``message_locations`` (+ ``source_cursors``), ``threads``,
  ``message_insights`` (labels with plausible frequencies, correlated with the correspondent's
  mood; the newest days partly unscored), ``activities`` (~0.3 per message), ``alerts`` (a few
  hundred), ``contacts``, ``report_settings`` (Europe/London, 09:00-17:00, Mon-Fri).

The file is cached under ``bench/.work/reports/``, keyed by seed, size, generator version, the
week it ends in and a hash of the migrations (a changed view rebuilds it). Then, on the finished
file opened read-only (`intel.store.open_snapshot`, as the report does):

* every view of `intel.reports.metrics.VIEWS`, fully fetched into Arrow (not just counted):
  median of 3 runs after one warm-up, and the sum of the medians;
* `refresh_report_mail` (the once-per-run rebuild of the table the metric views read; the
  generator runs it too, as the pipeline does before publishing) on a writable copy, with the
  pipeline's memory limit first;
* `intel.reports.html.build_report` into a fresh directory: median of 3, and the HTML size;
  then each view's export alone, once.

    .venv/bin/python bench/bench_reports.py [--quick] [-n 1000000] [--repeat 3] [--explain VIEW]

Goal (issue 7): all views together in under 5 s at 1,000,000 messages. Writes the "## Reports"
section of bench/RESULTS.md (full runs only, or with --results).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import (
    WORK_DIR,
    TreeMonitor,
    load_average,
    machine_info,
    machine_line,
    markdown_table,
    text_table,
    utc_now,
    write_section,
)

TITLE = "Reports"
GENERATOR_VERSION = 2  # bump when the generated rows change, so cached databases are rebuilt
CACHE_DIR = WORK_DIR / "reports"
GOAL_SECONDS = 5.0
BASE_VIEWS = ("v_mail", "v_message_responses", "v_turns")  # one row per message or turn

SOURCE = "bench"
OUR_DOMAIN = "northwind-example.com"
TIMEZONE = "Europe/London"
YEARS = 3
EXTERNAL = 5000  # external correspondents
DOMAINS = 800  # their domains
STAFF = 40  # our own addresses
MAX_THREAD = 30

SENTIMENTS = ("positive", "negative", "neutral")
INTENTS = ("request", "query", "complaint", "purchase_inquiry", "other")
EMOTIONS = ("happy", "enthusiastic", "grateful", "trust", "confused", "dissatisfied", "frustrated", "neutral")
ACTIVITY_TYPES = ("meeting", "call", "task")
MODEL_NAMES = {"sentiment": "sentiment.v1", "intent": "intent.v1", "emotion": "emotion.v1"}
MODELS_KEY = "|".join(f"{task}={name}" for task, name in MODEL_NAMES.items())

# code -> (folder, folder_role)
_FOLDERS = (("INBOX", "inbox"), ("Sent", "sent"), ("Junk", "spam"), ("Trash", "trash"), ("Drafts", "drafts"))
_ARCHIVE = ("Archive", "archive")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "Anna James Priya Tom Sarah Mark Jo Sam Olivia Liam Emma Noah Ava Lucas Mia Ethan Sofia Leo Chloe Ravi "
    "Aisha Omar Elena Marco Hannah Felix Nora Jonas Lea Pablo Ines Yuki Kenji Mei Chen Fatima Ahmed Zoe Ben Isla "
    "Grace Daniel Laura Peter Julia Max Clara David Rosa Ivan Nina Tariq Amara Kofi Sean Niamh Eva Hugo Alice Oscar"
)
_LAST = _words(
    "Patel Smith Jones Brown Taylor Wilson Davies Evans Thomas Johnson Roberts Walker Wright Robinson Thompson "
    "White Hughes Edwards Green Hall Wood Harris Martin Jackson Clarke Clark Turner Hill Scott Cooper Morris Ward "
    "Moore King Watson Baker Harrison Morgan Young Allen Mitchell Kelly Lee Bell Shaw Chen Kumar Singh Khan Ali "
    "Novak Muller Schmidt Rossi Garcia Lopez Silva Dubois Jansen Berg Nowak"
)
_DOMAIN_A = _words(
    "north blue silver green red iron oak pine river stone bright swift clear prime true high west east south "
    "golden crystal maple cedar harbor summit valley delta alpha nova polar urban rapid solid smart fresh royal "
    "metro coastal sun star"
)
_DOMAIN_B = _words(
    "wind field stone bridge works labs logistics foods systems trading supply metrics health legal media "
    "retail partners capital energy motors builders textiles pharma analytics freight consulting design "
    "engineering garden"
)
_TLDS = ("com", "com", "com", "co.uk", "de", "net", "io", "fr", "nl", "es")
_FREEMAIL = ("freemail-example.com", "webpost-example.net", "inbox-example.org")
# (address, name, headers) of automated senders; `is_automated` must recognise every one.
_AUTOMATED = (
    ("noreply@billing.cloudhost-example.com", "CloudHost Billing", {}),
    ("no-reply@notify.shipfast-example.com", "ShipFast", {}),
    ("mailer-daemon@mx.northwind-relay-example.net", "Mail Delivery System", {"auto-submitted": "auto-replied"}),
    ("postmaster@mx.partner-example.de", "Postmaster", {}),
    ("notifications@tracker.devtools-example.io", "DevTools", {"auto-submitted": "auto-generated"}),
    ("news@mailer.industry-weekly-example.com", "Industry Weekly", {"list-id": "<weekly.industry-weekly>"}),
    ("updates@crm.salesapp-example.com", "SalesApp", {"precedence": "bulk"}),
    ("digest@lists.events-example.org", "Events Digest", {"list-id": "<digest.events>", "precedence": "list"}),
)
_SUBJECTS = (
    "Order {n} delivery date",
    "Invoice INV-{n}",
    "Quote request for {n} units",
    "Question about contract {n}",
    "Problem with shipment {n}",
    "Meeting next week about project {n}",
    "Renewal of account {n}",
    "Damaged goods on order {n}",
    "Pricing for the {n} range",
    "Support ticket #{n}",
    "Follow-up: proposal {n}",
    "Payment reminder {n}",
    "Access to the portal (account {n})",
    "Samples for trial {n}",
    "Change to purchase order PO-{n}",
    "Returns for batch {n}",
)
_INTERNAL_SUBJECTS = ("Weekly sync {n}", "Customer escalation {n}", "Leave request {n}", "Forecast Q{n}")
_AUTOMATED_SUBJECTS = (
    "Your invoice {n} is available",
    "Shipment {n} has been dispatched",
    "Undelivered Mail Returned to Sender",
    "Delivery Status Notification (Failure)",
    "[tracker] Issue {n} updated",
    "Industry Weekly #{n}",
    "Pipeline report {n}",
    "Upcoming events digest {n}",
)
_SENTENCES = (
    "Could you confirm the delivery date for our order?",
    "Please send the updated invoice by Friday.",
    "We are still waiting for the replacement parts.",
    "This is the third time the shipment arrived damaged, which is not acceptable.",
    "Thanks a lot for the quick help yesterday.",
    "Can we schedule a call on Tuesday at 3pm to go through the figures?",
    "What would the price be for 500 units with next-day delivery?",
    "I have attached the signed contract.",
    "The portal keeps logging me out and I cannot download the reports.",
    "Great news, the team loved the samples.",
    "Let us meet on Thursday at 10:00 in your office.",
    "Please get back to me by the end of the week.",
    "We would like to extend the contract for another year.",
    "I am confused by the new pricing tiers, could you explain them?",
    "Our finance team needs a copy of the purchase order.",
    "I will send over the forecast tomorrow morning.",
    "Happy to help, the credit note is on its way.",
    "Sorry for the delay, we had a problem at the warehouse.",
    "The refund has been processed today.",
    "Can you add Priya to the next meeting?",
    "We are very disappointed with the service this month.",
    "Looking forward to working together on this.",
    "Is the discount still valid for orders placed this quarter?",
    "Please call me on my mobile when you have a minute.",
)
_ACTIVITY_TEXT = {
    "meeting": ("Let us meet on Thursday at 10:00 in your office.", "Can we meet next Tuesday at 2pm?"),
    "call": ("Can we schedule a call on Tuesday at 3pm?", "Please call me tomorrow morning."),
    "task": ("Please send the updated invoice by Friday.", "I will send over the forecast tomorrow."),
}
_HOUR_WEIGHTS = np.array(  # local hours 0-23
    [
        *(0.2, 0.1, 0.1, 0.1, 0.15, 0.3, 0.8, 1.8, 3.5, 4.5, 4.6, 4.2),
        *(3.2, 3.8, 4.3, 4.1, 3.6, 2.8, 1.9, 1.3, 1.0, 0.8, 0.6, 0.4),
    ]
)
_WEEKDAY_WEIGHTS = np.array([1.0, 1.05, 1.0, 0.95, 0.8, 0.18, 0.12])  # Monday first
_DAY = 86_400
_HOUR = 3_600


# --- the generated columns ------------------------------------------------------------------------


def _zipf(n: int, s: float, offset: float = 0.0) -> np.ndarray:
    w = 1.0 / (np.arange(1, n + 1) + offset) ** s
    return w / w.sum()


def _weekday(ts: np.ndarray) -> np.ndarray:
    """ISO weekday - 1 (Monday 0) of UTC epoch seconds (1970-01-01 was a Thursday)."""
    return (ts // _DAY + 3) % 7


def _to_working_hours(rng: np.random.Generator, ts: np.ndarray, probability: float) -> np.ndarray:
    """Move times outside 08:00-19:00 Monday-Friday to the next working morning, with `probability`."""
    hour = (ts % _DAY) // _HOUR
    weekday = _weekday(ts)
    outside = (hour < 8) | (hour >= 19) | (weekday >= 5)
    move = outside & (rng.random(ts.size) < probability)
    day = ts // _DAY + (hour >= 19)  # evenings move to the next day
    wd = (day + 3) % 7
    day = day + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
    morning = day * _DAY + 8 * _HOUR + (rng.exponential(1.2 * _HOUR, ts.size)).clip(0, 3 * _HOUR).astype(np.int64)
    return np.where(move, np.maximum(morning, ts), ts)


# P(thread of L messages) ~ (L + 1)^-1.6 for L = 1..30: mean ~5.5, ~31% single messages.
_THREAD_LENGTHS = _zipf(MAX_THREAD, 1.6, offset=1.0)


@dataclass
class People:
    domains: list[str]
    address: list[str]  # external correspondents
    name: list[str]
    domain_of: np.ndarray  # index into domains
    activity: np.ndarray  # probability of being a thread's correspondent (heavy-tailed)
    mood: np.ndarray  # probability of a negative mail
    answer: np.ndarray  # probability that we answer an inbound mail (per turn)
    staff_address: list[str]
    staff_name: list[str]


def make_people(rng: np.random.Generator) -> People:
    combos = [f"{a}{b}" for a in _DOMAIN_A for b in _DOMAIN_B]
    picked = rng.choice(len(combos), DOMAINS - len(_FREEMAIL), replace=False)
    tlds = rng.choice(len(_TLDS), picked.size)
    domains = list(_FREEMAIL) + [f"{combos[i]}-example.{_TLDS[t]}" for i, t in zip(picked, tlds, strict=True)]
    domain_of = np.empty(EXTERNAL, np.int64)
    domain_of[:DOMAINS] = rng.permutation(DOMAINS)  # every domain has somebody
    domain_of[DOMAINS:] = rng.choice(DOMAINS, EXTERNAL - DOMAINS, p=_zipf(DOMAINS, 1.15))
    firsts = rng.choice(len(_FIRST), EXTERNAL)
    lasts = rng.choice(len(_LAST), EXTERNAL)
    seen: set[str] = set()
    address, name = [], []
    for i in range(EXTERNAL):
        first, last, domain = _FIRST[firsts[i]], _LAST[lasts[i]], domains[domain_of[i]]
        local = f"{first}.{last}".lower()
        candidate, k = f"{local}@{domain}", 1
        while candidate in seen:
            k += 1
            candidate = f"{local}{k}@{domain}"
        seen.add(candidate)
        address.append(candidate)
        name.append(f"{first} {last}")
    activity = _zipf(EXTERNAL, 1.0, offset=3.0)[rng.permutation(EXTERNAL)]
    mood = rng.beta(1.2, 7.0, EXTERNAL)
    unhappy = rng.random(EXTERNAL) < 0.03
    mood[unhappy] = rng.uniform(0.45, 0.8, int(unhappy.sum()))
    answer = rng.beta(3.0, 6.0, EXTERNAL)
    staff_address, staff_name = [f"support@{OUR_DOMAIN}", f"sales@{OUR_DOMAIN}"], ["Support", "Sales"]
    for i in range(STAFF - 2):
        first, last = _FIRST[(i * 7) % len(_FIRST)], _LAST[(i * 11 + 3) % len(_LAST)]
        staff_address.append(f"{first}.{last}@{OUR_DOMAIN}".lower())
        staff_name.append(f"{first} {last}")
    return People(domains, address, name, domain_of, activity, mood, answer, staff_address, staff_name)


@dataclass
class Columns:
    """One entry per message, in the order they are stored (by time)."""

    values: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[key]

    def __len__(self) -> int:
        return int(next(iter(self.values.values())).size)


def _conversations(
    rng: np.random.Generator, people: People, count: int, start: int, days: int
) -> dict[str, np.ndarray]:
    """`count` external threads: per message unit, pos, direction (0 in / 1 out), time, ..."""
    lengths = rng.choice(np.arange(1, MAX_THREAD + 1), count, p=_THREAD_LENGTHS)
    corr = rng.choice(EXTERNAL, count, p=people.activity)
    staff = rng.choice(STAFF, count, p=_zipf(STAFF, 0.8))
    start_ts = _start_times(rng, count, start, days)
    answer = people.answer[corr]
    direction = np.zeros((count, MAX_THREAD), np.int8)
    ts = np.zeros((count, MAX_THREAD), np.int64)
    direction[:, 0] = rng.random(count) < 0.15
    ts[:, 0] = _to_working_hours(rng, start_ts, 0.8) * (direction[:, 0] == 1) + start_ts * (direction[:, 0] == 0)
    for k in range(1, MAX_THREAD):
        prev = direction[:, k - 1]
        u = rng.random(count)
        out = np.where(prev == 0, u < answer, u >= 0.88)  # after inbound: we answer; after outbound: they do
        direction[:, k] = out
        # Delays: our replies come in hours, theirs in half a day, second mails on the same side in days.
        median = np.where(prev == 0, np.where(out, 3.0, 22.0), np.where(out, 48.0, 10.0)) * _HOUR
        delay = (median * rng.lognormal(0.0, 1.25, count)).clip(60, 30 * _DAY).astype(np.int64)
        nxt = ts[:, k - 1] + delay
        nxt = np.where(out, _to_working_hours(rng, nxt, 0.85), _to_working_hours(rng, nxt, 0.4))
        ts[:, k] = nxt
    mask = np.arange(MAX_THREAD)[None, :] < lengths[:, None]
    unit, pos = np.nonzero(mask)
    return {
        "unit": unit.astype(np.int64),
        "pos": pos.astype(np.int32),
        "dir": direction[unit, pos],
        "ts": ts[unit, pos],
        "corr": corr[unit].astype(np.int32),
        "staff": staff[unit].astype(np.int32),
    }


def _start_times(rng: np.random.Generator, count: int, start: int, days: int) -> np.ndarray:
    day_index = np.arange(days)
    weekday = _weekday(start + day_index * _DAY)
    weights = _WEEKDAY_WEIGHTS[weekday] * (0.7 + 0.6 * day_index / days)  # the business grows
    day = rng.choice(days, count, p=weights / weights.sum())
    hour = rng.choice(24, count, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    return start + day * _DAY + hour * _HOUR + rng.integers(0, _HOUR, count)


def generate(n: int, seed: int, end: date) -> tuple[People, Columns, dict[str, np.ndarray]]:
    """The mailbox as columns: exactly `n` messages (duplicates included), sorted by time."""
    rng = np.random.default_rng(seed)
    people = make_people(rng)
    end_ts = int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp())
    days = YEARS * 365
    start = end_ts - days * _DAY
    n_dup = n // 300
    n_auto = int(n * 0.06)
    n_internal = int(n * 0.04)
    n_conv = n - n_dup - n_auto - n_internal

    mean_length = float((np.arange(1, MAX_THREAD + 1) * _THREAD_LENGTHS).sum())
    conv = _conversations(rng, people, int(n_conv / mean_length * 1.3) + 10, start, days)
    keep = conv["ts"] < end_ts
    conv = {k: v[keep] for k, v in conv.items()}
    # Whole threads in random order until the count is reached (the last one cut short).
    units = np.unique(conv["unit"])
    order = rng.permutation(units.size)
    rank = np.empty(units.size, np.int64)
    rank[order] = np.arange(units.size)
    by_rank = np.lexsort((conv["pos"], rank[np.searchsorted(units, conv["unit"])]))
    if by_rank.size < n_conv:
        raise RuntimeError(f"generated {by_rank.size} conversation messages, fewer than {n_conv}")
    conv = {k: v[by_rank[:n_conv]] for k, v in conv.items()}

    # Internal threads (ours to ours), 1-5 messages a day or so apart.
    internal_units = n_internal // 2 + 1
    i_len = rng.integers(1, 6, internal_units)
    i_unit = np.repeat(np.arange(internal_units), i_len)[:n_internal]
    i_pos = (np.arange(i_unit.size) - np.searchsorted(i_unit, i_unit)).astype(np.int32)
    i_start = _to_working_hours(rng, _start_times(rng, internal_units, start, days), 0.95)
    gap = np.where(i_pos == 0, 0, rng.integers(_HOUR // 4, 2 * _DAY, i_unit.size))
    elapsed = np.cumsum(gap)
    elapsed -= elapsed[np.searchsorted(i_unit, i_unit)]  # from the thread's first message
    i_ts = np.minimum(i_start[i_unit] + elapsed, end_ts - 1)
    pair = rng.choice(STAFF, (internal_units, 2))
    pair[:, 1] = np.where(pair[:, 1] == pair[:, 0], (pair[:, 0] + 1) % STAFF, pair[:, 1])
    even = (i_pos % 2) == 0
    i_from = np.where(even, pair[i_unit, 0], pair[i_unit, 1])
    i_to = np.where(even, pair[i_unit, 1], pair[i_unit, 0])

    # Automated notifications: single messages at any hour.
    a_sender = rng.choice(len(_AUTOMATED), n_auto, p=_zipf(len(_AUTOMATED), 0.7))
    a_ts = np.minimum(_start_times(rng, n_auto, start, days) + rng.integers(0, 6 * _HOUR, n_auto), end_ts - 1)

    base = int(conv["unit"].max()) + 1 if conv["unit"].size else 0
    total = n - n_dup
    kind = np.concatenate([np.zeros(n_conv, np.int8), np.ones(n_internal, np.int8), np.full(n_auto, 2, np.int8)])
    cols: dict[str, np.ndarray] = {
        "kind": kind,
        "unit": np.concatenate([conv["unit"], base + i_unit, base + internal_units + np.arange(n_auto)]),
        "pos": np.concatenate([conv["pos"], i_pos, np.zeros(n_auto, np.int32)]).astype(np.int32),
        "dir": np.concatenate([conv["dir"], np.full(n_internal, 2, np.int8), np.zeros(n_auto, np.int8)]),
        "ts": np.concatenate([conv["ts"], i_ts, a_ts]),
        "corr": np.concatenate([conv["corr"], np.full(n_internal + n_auto, -1, np.int32)]),
        "staff": np.concatenate([conv["staff"], i_from, rng.choice(STAFF, n_auto)]).astype(np.int32),
        "staff2": np.concatenate([np.full(n_conv, -1), i_to, np.full(n_auto, -1)]).astype(np.int32),
        "auto": np.concatenate([np.full(n_conv + n_internal, -1), a_sender]).astype(np.int32),
    }
    assert all(v.size == total for v in cols.values())
    template = rng.integers(0, 1 << 30, int(cols["unit"].max()) + 1)  # per thread: subject template + number
    cols["subject_no"] = template[cols["unit"]].astype(np.int64)

    # A colleague of the correspondent on copy now and then.
    same_domain: dict[int, np.ndarray] = {}
    for d in range(DOMAINS):
        same_domain[d] = np.flatnonzero(people.domain_of == d)
    cc = np.full(total, -1, np.int32)
    has_cc = (cols["kind"] == 0) & (rng.random(total) < 0.12)
    for i in np.flatnonzero(has_cc):
        others = same_domain[int(people.domain_of[cols["corr"][i]])]
        if others.size > 1:
            pick = int(others[(int(cols["unit"][i]) * 7919) % others.size])
            cc[i] = pick if pick != cols["corr"][i] else -1
    cols["cc"] = cc

    # Folders: a little spam and trash among inbound mail, a few drafts among outbound.
    folder = np.where(cols["dir"] == 1, 1, 0).astype(np.int8)
    u = rng.random(total)
    inbound = cols["dir"] == 0
    folder[inbound & (u < 0.004)] = 2
    folder[inbound & (u >= 0.004) & (u < 0.008)] = 3
    folder[(cols["dir"] == 1) & (u < 0.003)] = 4
    cols["folder"] = folder
    cols["copy"] = np.zeros(total, np.int8)

    # Duplicates: the same Message-ID stored a second time (another copy in the archive).
    dup_of = rng.choice(total, n_dup, replace=False)
    for key in list(cols):
        cols[key] = np.concatenate([cols[key], cols[key][dup_of]])
    cols["copy"][total:] = 1
    cols["folder"][total:] = -1

    _labels(rng, people, cols, end_ts)
    order = np.lexsort((cols["copy"], cols["pos"], cols["unit"], cols["ts"]))
    columns = Columns({k: v[order] for k, v in cols.items()})
    columns.values["row"] = np.arange(n, dtype=np.int64)
    columns.values["sentence1"] = rng.integers(0, len(_SENTENCES), n).astype(np.int32)
    columns.values["sentence2"] = rng.integers(0, len(_SENTENCES), n).astype(np.int32)
    columns.values["size"] = rng.lognormal(8.2, 0.7, n).clip(600, 2_000_000).astype(np.int64)
    columns.values["second_location"] = rng.random(n) < 0.01
    activities = _activities(rng, columns)
    return people, columns, activities


def _pick(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One category per row of a (rows, categories) probability matrix."""
    cumulative = probabilities.cumsum(axis=1)
    cumulative /= cumulative[:, -1:]
    return (rng.random((probabilities.shape[0], 1)) > cumulative).sum(axis=1).astype(np.int8)


def _labels(rng: np.random.Generator, people: People, cols: dict[str, np.ndarray], end_ts: int) -> None:
    """Sentiment, intent, emotion codes and scores; correlated with mood and direction."""
    total = cols["kind"].size
    mood = np.where(cols["corr"] >= 0, people.mood[np.maximum(cols["corr"], 0)], 0.04)
    inbound = (cols["dir"] == 0) & (cols["kind"] == 0)
    negative = np.where(inbound, mood, 0.03)
    positive = np.where(inbound, (1 - mood) * 0.3, 0.3)
    sentiment = _pick(rng, np.stack([positive, negative, 1 - positive - negative], axis=1))
    automated = cols["kind"] == 2
    sentiment[automated] = 2
    # intents: request, query, complaint, purchase_inquiry, other
    in_neg = np.array([0.2, 0.2, 0.45, 0.0, 0.15])
    in_other = np.array([0.27, 0.28, 0.03, 0.09, 0.33])
    ours = np.array([0.2, 0.2, 0.03, 0.02, 0.55])
    p_intent = np.where(
        inbound[:, None], np.where((sentiment == 1)[:, None], in_neg[None, :], in_other[None, :]), ours[None, :]
    )
    intent = _pick(rng, p_intent)
    intent[automated] = 4
    # emotions: happy, enthusiastic, grateful, trust, confused, dissatisfied, frustrated, neutral
    by_sentiment = np.array(
        [
            [0.3, 0.15, 0.35, 0.2, 0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0, 0.15, 0.4, 0.3, 0.15],
            [0.0, 0.0, 0.1, 0.1, 0.1, 0.0, 0.0, 0.7],
        ]
    )
    emotion = _pick(rng, by_sentiment[sentiment])
    cols["sentiment"] = sentiment
    cols["intent"] = intent
    cols["emotion"] = emotion
    for name in ("sentiment_score", "intent_score", "emotion_score"):
        cols[name] = rng.uniform(0.45, 0.99, total).round(4)
    recent = cols["ts"] > end_ts - 2 * _DAY  # the newest mail is partly not scored yet
    cols["scored"] = (cols["copy"] == 0) & ~(recent & (rng.random(total) < 0.5))


def _activities(rng: np.random.Generator, cols: Columns) -> dict[str, np.ndarray]:
    """~0.3 activities per conversation message: rows index into the messages."""
    n = len(cols)
    eligible = (cols["kind"] != 2) & (cols["copy"] == 0)
    count = rng.choice(4, n, p=[0.745, 0.2, 0.045, 0.01]) * eligible
    row = np.repeat(np.arange(n), count)
    position = (np.arange(row.size) - np.searchsorted(row, row)).astype(np.int32)
    kind = rng.choice(3, row.size, p=[0.4, 0.25, 0.35]).astype(np.int8)
    return {
        "row": row.astype(np.int64),
        "position": position,
        "type": kind,
        "status": rng.integers(0, 6, row.size).astype(np.int8),
        "text": rng.integers(0, 2, row.size).astype(np.int8),
        "days_ahead": rng.integers(1, 15, row.size).astype(np.int32),
        "hour": rng.integers(8, 18, row.size).astype(np.int32),
        "has_time": rng.random(row.size) < 0.75,
        "confidence": rng.uniform(0.5, 0.99, row.size).round(3),
    }


# --- writing the database ------------------------------------------------------------------------


def _lookup_tables(people: People) -> dict[str, pa.Table]:
    auto_keys = [list(h.keys()) for _, _, h in _AUTOMATED]
    auto_values = [list(h.values()) for _, _, h in _AUTOMATED]
    return {
        "_corr": pa.table(
            {
                "corr": pa.array(range(EXTERNAL), pa.int32()),
                "address": people.address,
                "name": people.name,
                "domain": [people.domains[d] for d in people.domain_of],
            }
        ),
        "_staff": pa.table(
            {
                "staff": pa.array(range(STAFF), pa.int32()),
                "address": people.staff_address,
                "name": people.staff_name,
            }
        ),
        "_auto": pa.table(
            {
                "auto": pa.array(range(len(_AUTOMATED)), pa.int32()),
                "address": [a for a, _, _ in _AUTOMATED],
                "name": [name for _, name, _ in _AUTOMATED],
                "domain": [a.split("@", 1)[1] for a, _, _ in _AUTOMATED],
                "header_keys": auto_keys,
                "header_values": auto_values,
            }
        ),
        "_subjects": pa.table(
            {
                "kind": pa.array([0] * len(_SUBJECTS) + [1] * len(_INTERNAL_SUBJECTS), pa.int8()),
                "idx": pa.array(list(range(len(_SUBJECTS))) + list(range(len(_INTERNAL_SUBJECTS))), pa.int64()),
                "template": list(_SUBJECTS) + list(_INTERNAL_SUBJECTS),
            }
        ),
        "_auto_subjects": pa.table(
            {"auto": pa.array(range(len(_AUTOMATED_SUBJECTS)), pa.int32()), "template": list(_AUTOMATED_SUBJECTS)}
        ),
        "_sentences": pa.table({"idx": pa.array(range(len(_SENTENCES)), pa.int32()), "text": list(_SENTENCES)}),
        "_folders": pa.table(
            {
                "folder_code": pa.array([*range(len(_FOLDERS)), -1], pa.int8()),
                "folder": [f for f, _ in _FOLDERS] + [_ARCHIVE[0]],
                "folder_role": [r for _, r in _FOLDERS] + [_ARCHIVE[1]],
            }
        ),
    }


def _gen_table(cols: Columns) -> pa.Table:
    values = dict(cols.values)
    values["ts"] = (values["ts"] * 1_000_000).astype("datetime64[us]")
    table = pa.table({k: pa.array(v) for k, v in values.items()})
    ts_index = table.schema.get_field_index("ts")
    return table.set_column(ts_index, "ts", table.column("ts").cast(pa.timestamp("us", tz="UTC")))


# Per message, everything the tables derive from it. `key(...)` and `msgid(...)` are macros below.
_MESSAGE_ROWS = """
CREATE TEMP TABLE _m AS
SELECT
    g.row, g.unit, g.pos, g.kind, g.copy, g.ts AS sent_at, g.folder AS folder_code, g.corr,
    g.sentence1, g.sentence2, g.size, g.second_location, g.scored,
    g.sentiment, g.sentiment_score, g.intent, g.intent_score, g.emotion, g.emotion_score,
    _key(g.unit, g.pos, g.copy) AS message_key,
    CASE WHEN g.pos > 0 THEN _key(g.unit, g.pos - 1, 0) END AS parent_key,
    CASE WHEN g.copy = 1 THEN _key(g.unit, g.pos, 0) END AS duplicate_of,
    _msgid(g.unit, g.pos) AS rfc_message_id,
    CASE WHEN g.pos > 0 THEN _msgid(g.unit, g.pos - 1) END AS in_reply_to,
    list_transform(range(greatest(0, g.pos - 10), g.pos), lambda p: _msgid(g.unit, p)) AS reference_ids,
    substr(sha256(trim(_msgid(g.unit, 0), '<>')), 1, 16) AS thread_id,
    CASE g.dir WHEN 0 THEN 'inbound' WHEN 1 THEN 'outbound' ELSE 'internal' END AS direction,
    f.folder, f.folder_role,
    CASE WHEN g.kind = 2 THEN replace(asub.template, '{n}', CAST(g.subject_no % 9000 + 1000 AS VARCHAR))
         ELSE replace(sub.template, '{n}', CAST(g.subject_no % 90000 + 10000 AS VARCHAR)) END AS base_subject,
    CASE g.kind WHEN 2 THEN a.address WHEN 1 THEN s.address
         ELSE CASE g.dir WHEN 0 THEN c.address ELSE s.address END END AS from_address,
    CASE g.kind WHEN 2 THEN a.name WHEN 1 THEN s.name
         ELSE CASE g.dir WHEN 0 THEN c.name ELSE s.name END END AS from_name,
    CASE g.kind WHEN 1 THEN [s2.address] WHEN 2 THEN [s.address]
         ELSE CASE g.dir WHEN 0 THEN [s.address] ELSE [c.address] END END AS to_addresses,
    CASE g.kind WHEN 1 THEN [s2.name] WHEN 2 THEN [s.name]
         ELSE CASE g.dir WHEN 0 THEN [s.name] ELSE [c.name] END END AS to_names,
    CASE WHEN cc.address IS NOT NULL THEN [cc.address] ELSE [] END AS cc_addresses,
    CASE WHEN cc.address IS NOT NULL THEN [cc.name] ELSE [] END AS cc_names,
    CASE WHEN g.kind = 2 THEN MAP(a.header_keys, a.header_values)
         ELSE MAP(['x-mailer'], [CASE WHEN g.row % 3 = 0 THEN 'Microsoft Outlook 16.0' ELSE 'Thunderbird' END])
         END AS headers
FROM _gen g
LEFT JOIN _folders f ON f.folder_code = g.folder
LEFT JOIN _corr c ON c.corr = g.corr
LEFT JOIN _corr cc ON cc.corr = g.cc
LEFT JOIN _staff s ON s.staff = g.staff
LEFT JOIN _staff s2 ON s2.staff = g.staff2
LEFT JOIN _auto a ON a.auto = g.auto
LEFT JOIN _auto_subjects asub ON asub.auto = g.auto
LEFT JOIN _subjects sub ON sub.kind = g.kind AND sub.idx = g.subject_no % (
    CASE WHEN g.kind = 1 THEN $internal_subjects ELSE $subjects END)
"""

_INSERT_MESSAGES = """
INSERT INTO messages BY NAME
SELECT
    m.message_key, $source AS source, m.folder, m.folder_role, m.rfc_message_id, m.in_reply_to,
    m.reference_ids, m.thread_id, m.parent_key, m.duplicate_of,
    CASE WHEN m.pos > 0 THEN 'Re: ' ELSE '' END || m.base_subject AS subject,
    lower(m.base_subject) AS normalized_subject,
    m.sent_at, 0 AS sent_at_offset_minutes, 'header' AS date_source,
    m.from_address, m.from_name, split_part(m.from_address, '@', 2) AS from_domain,
    m.to_addresses, m.cc_addresses, [] AS bcc_addresses, [] AS reply_to_addresses, m.direction,
    s1.text || ' ' || s2.text || chr(10) || chr(10) || coalesce(m.from_name, '')
        || CASE WHEN m.pos > 0 THEN chr(10) || chr(10) || '> ' || s2.text ELSE '' END AS body_text,
    false AS body_html,
    s1.text || ' ' || s2.text AS new_text,
    coalesce(m.from_name, '') AS signature,
    [] AS attachments, 0 AS attachment_count, m.size AS size_bytes, m.headers,
    [] AS parse_problems, '1' AS parser_version, $load_id AS load_id, $now AS ingested_at
FROM _m m
JOIN _sentences s1 ON s1.idx = m.sentence1
JOIN _sentences s2 ON s2.idx = m.sentence2
ORDER BY m.row
"""

_INSERT_ADDRESSES = """
INSERT INTO message_addresses
SELECT message_key, role, position, address, name, split_part(address, '@', 2) AS domain,
       address LIKE $ours AS is_identity
FROM (
    SELECT row, message_key, 'from' AS role, 0 AS position, from_address AS address, from_name AS name FROM _m
    UNION ALL
    SELECT row, message_key, 'to', 0, to_addresses[1], to_names[1] FROM _m
    UNION ALL
    SELECT row, message_key, 'cc', 0, cc_addresses[1], cc_names[1] FROM _m WHERE len(cc_addresses) > 0
)
ORDER BY row, role
"""

_INSERT_LOCATIONS = """
INSERT INTO message_locations
    (source, folder, location, sha256, folder_role, internal_date, load_id, seen_at)
SELECT $source, folder, CAST(row AS VARCHAR), message_key, folder_role,
       sent_at + to_seconds(CAST(5 + row % 120 AS BIGINT)), $load_id, $now
FROM _m
UNION ALL
SELECT $source, $archive, CAST(row AS VARCHAR), message_key, $archive_role, sent_at, $load_id, $now
FROM _m WHERE second_location AND copy = 0
"""

# The same shape as intel.store.threads.rebuild_threads writes.
_INSERT_THREADS = """
INSERT INTO threads
WITH m AS (SELECT * FROM messages WHERE duplicate_of IS NULL AND thread_id IS NOT NULL),
people AS (
    SELECT m.thread_id, list(DISTINCT a.address ORDER BY a.address) AS participants
    FROM m JOIN message_addresses a USING (message_key)
    WHERE a.role IN ('from', 'to', 'cc')
    GROUP BY m.thread_id
)
SELECT
    m.thread_id,
    trim(arg_min(m.rfc_message_id, (m.sent_at, m.message_key)), '<>'),
    arg_min(m.subject, (m.sent_at, m.message_key)),
    arg_min(m.message_key, (m.sent_at, m.message_key)),
    arg_max(m.message_key, (m.sent_at, m.message_key)),
    min(m.sent_at), max(m.sent_at), count(*),
    count(*) FILTER (WHERE m.direction = 'inbound'),
    count(*) FILTER (WHERE m.direction = 'outbound'),
    count(*) FILTER (WHERE m.direction = 'internal'),
    coalesce(any_value(p.participants), []),
    coalesce(len(any_value(p.participants)), 0),
    $load_id
FROM m LEFT JOIN people p USING (thread_id)
GROUP BY m.thread_id
"""

_INSERT_INSIGHTS = """
INSERT INTO message_insights
SELECT
    message_key,
    $sentiments[sentiment + 1], sentiment_score,
    MAP($sentiments, list_transform(range(3), lambda i:
        CASE WHEN i = sentiment THEN sentiment_score ELSE round((1 - sentiment_score) / 2, 4) END)),
    $intents[intent + 1], intent_score,
    MAP($intents, list_transform(range(5), lambda i:
        CASE WHEN i = intent THEN intent_score ELSE round((1 - intent_score) / 4, 4) END)),
    [],
    $emotions[emotion + 1], emotion_score,
    MAP($emotions, list_transform(range(8), lambda i:
        CASE WHEN i = emotion THEN emotion_score ELSE round((1 - emotion_score) / 7, 4) END)),
    $sentiment_model, $intent_model, $emotion_model, $models,
    80 + (row % 400)::INTEGER, $load_id, sent_at + INTERVAL 1 HOUR
FROM _m WHERE scored
ORDER BY row
"""

_INSERT_ACTIVITIES = """
INSERT INTO activities
SELECT
    m.message_key || ':' || a.position, m.message_key, a.position, m.thread_id,
    $types[a.type + 1],
    CASE a.type WHEN 0 THEN ['proposed', 'confirmed', 'rescheduled'][a.status % 3 + 1]
                WHEN 1 THEN ['proposed', 'confirmed'][a.status % 2 + 1]
                ELSE ['requested', 'committed'][a.status % 2 + 1] END,
    t.text,
    CASE WHEN a.has_time THEN 'in ' || a.days_ahead || ' days at ' || a.hour || ':00'
         ELSE 'in ' || a.days_ahead || ' days' END,
    CASE WHEN a.type < 2 AND a.has_time THEN CAST(m.sent_at AS DATE) + a.days_ahead + to_hours(a.hour) END,
    CASE WHEN a.type < 2 AND a.has_time THEN CAST(m.sent_at AS DATE) + a.days_ahead + to_hours(a.hour + 1) END,
    CASE WHEN a.type < 2 THEN CAST(m.sent_at AS DATE) + a.days_ahead END,
    CASE WHEN a.type = 2 AND a.has_time THEN CAST(m.sent_at AS DATE) + a.days_ahead + to_hours(a.hour) END,
    CASE WHEN a.type = 2 THEN CAST(m.sent_at AS DATE) + a.days_ahead END,
    NULL, NULL, NULL,
    [m.from_address, m.to_addresses[1]],
    a.confidence, m.sent_at, m.from_address, 'activity.v1', $load_id, $now
FROM _acts a
JOIN _m m ON m.row = a.row
JOIN _activity_text t ON t.type = a.type AND t.idx = a.text
ORDER BY a.row, a.position
"""

_INSERT_CONTACTS = """
INSERT INTO contacts
    (address, domain, is_identity, name, name_source, company, signature, messages,
     messages_with_signature, first_seen_at, last_seen_at, model_version, load_id, updated_at)
SELECT from_address, split_part(from_address, '@', 2), from_address LIKE $ours, any_value(from_name), 'header',
       any_value(split_part(split_part(from_address, '@', 2), '-example', 1)), any_value(from_name),
       count(*), count(*), min(sent_at), max(sent_at), 'signature.v1+contacts.v1', $load_id, $now
FROM _m WHERE copy = 0
GROUP BY from_address
"""

# A few hundred alerts as the rules would raise them: unanswered complaints and requests, and
# streaks of negative mail from one correspondent; some since resolved.
_INSERT_ALERTS = """
INSERT INTO alerts
WITH inbound AS (
    SELECT m.row, m.message_key, m.thread_id, m.sent_at, m.from_address, m.base_subject, m.intent, m.sentiment,
           max(CASE WHEN m.direction = 'outbound' THEN m.sent_at END)
               OVER (PARTITION BY m.unit) AS last_reply
    FROM _m m WHERE m.copy = 0 AND m.kind = 0
),
unanswered AS (
    SELECT *, CASE WHEN intent = 2 THEN 'complaint_unanswered' ELSE 'request_unanswered' END AS rule
    FROM inbound
    WHERE (last_reply IS NULL OR last_reply < sent_at) AND intent IN (0, 1, 2) AND sentiment <> 0
    ORDER BY md5(message_key) LIMIT 300
),
negatives AS (
    SELECT from_address, list(message_key ORDER BY sent_at DESC)[1:3] AS keys, min(sent_at) AS first_at,
           max(sent_at) AS trigger_at, count(*) AS streak
    FROM inbound WHERE sentiment = 1
    GROUP BY from_address HAVING count(*) >= 3
    ORDER BY count(*) DESC, from_address LIMIT 120
),
raised AS (
    SELECT sha256(rule || ':' || message_key) AS alert_key, rule,
           CASE WHEN rule = 'complaint_unanswered' THEN 'high' ELSE 'medium' END AS severity,
           'message' AS subject_type, message_key AS subject,
           'No reply to "' || base_subject || '" from ' || from_address AS title,
           json_object('hours', 24 + row % 500) AS details, [message_key] AS message_keys, thread_id,
           sent_at AS first_at, sent_at + INTERVAL 1 DAY AS trigger_at
    FROM unanswered
    UNION ALL
    SELECT sha256('negative_streak:' || from_address), 'negative_streak', 'high', 'address', from_address,
           streak || ' negative emails in a row from ' || from_address, json_object('streak', streak),
           list_reverse(keys), NULL, first_at, trigger_at
    FROM negatives
)
SELECT *, trigger_at + INTERVAL 10 MINUTE AS raised_at, $load_id AS load_id,
       CASE WHEN hash(alert_key) % 5 < 3 THEN 'open' ELSE 'resolved' END AS status,
       CASE WHEN hash(alert_key) % 5 < 3 THEN NULL ELSE trigger_at + INTERVAL 2 DAY END AS resolved_at
FROM raised
"""


def write_database(path: Path, n: int, seed: int, end: date) -> dict[str, Any]:
    """Generate the mailbox and write it into a new database at `path` (real schema and views)."""
    from intel.reports.metrics import refresh_report_mail
    from intel.store import open_store

    started = time.perf_counter()
    people, cols, acts = generate(n, seed, end)
    generated = time.perf_counter() - started
    now = datetime(end.year, end.month, end.day, tzinfo=UTC)
    since = (now - timedelta(days=YEARS * 365 - 30)).date().isoformat()
    tables = _lookup_tables(people)
    tables["_gen"] = _gen_table(cols)
    tables["_acts"] = pa.table({k: pa.array(v) for k, v in acts.items()})
    tables["_activity_text"] = pa.table(
        {
            "type": pa.array([t for t, ty in enumerate(ACTIVITY_TYPES) for _ in _ACTIVITY_TEXT[ty]], pa.int8()),
            "idx": pa.array([i for ty in ACTIVITY_TYPES for i in range(len(_ACTIVITY_TEXT[ty]))], pa.int8()),
            "text": [text for ty in ACTIVITY_TYPES for text in _ACTIVITY_TEXT[ty]],
        }
    )
    path.unlink(missing_ok=True)
    counts: dict[str, Any] = {}
    with open_store(path, memory_limit="3GB", checkpoint_threshold="16GB") as store:
        con = store.con
        con.execute("SET TimeZone = 'UTC'")  # date arithmetic below must not depend on the machine's zone
        load_id = store.begin_load("sync", SOURCE)
        common = {"load_id": load_id, "now": now}
        for name, table in tables.items():
            con.register(name, table)
        con.execute(f"CREATE TEMP MACRO _key(u, p, c) AS sha256('{seed}:' || u || ':' || p || ':' || c)")
        con.execute(f"CREATE TEMP MACRO _msgid(u, p) AS '<' || u || '.' || p || '.{seed}@mail.bench-example.com>'")
        con.execute(_MESSAGE_ROWS, {"subjects": len(_SUBJECTS), "internal_subjects": len(_INTERNAL_SUBJECTS)})
        con.execute("BEGIN TRANSACTION")
        con.execute(_INSERT_MESSAGES, {**common, "source": SOURCE})
        con.execute(_INSERT_ADDRESSES, {"ours": f"%@{OUR_DOMAIN}"})
        con.execute(
            _INSERT_LOCATIONS, {**common, "source": SOURCE, "archive": _ARCHIVE[0], "archive_role": _ARCHIVE[1]}
        )
        con.execute(
            "INSERT INTO source_cursors VALUES ($source, 'window', json_object('since', $since), $load_id, $now)",
            {**common, "source": SOURCE, "since": since},
        )
        con.execute(_INSERT_THREADS, {"load_id": load_id})
        con.execute(
            _INSERT_INSIGHTS,
            {
                "load_id": load_id,
                "sentiments": list(SENTIMENTS),
                "intents": list(INTENTS),
                "emotions": list(EMOTIONS),
                "sentiment_model": MODEL_NAMES["sentiment"],
                "intent_model": MODEL_NAMES["intent"],
                "emotion_model": MODEL_NAMES["emotion"],
                "models": MODELS_KEY,
            },
        )
        con.execute(_INSERT_ACTIVITIES, {**common, "types": list(ACTIVITY_TYPES)})
        con.execute(_INSERT_CONTACTS, {**common, "ours": f"%@{OUR_DOMAIN}"})
        con.execute(_INSERT_ALERTS, {"load_id": load_id})
        con.execute(
            "UPDATE report_settings SET timezone = ?, work_start = 540, work_end = 1020, work_days = [1, 2, 3, 4, 5],"
            " updated_at = ?",
            [TIMEZONE, now],
        )
        con.execute(
            "UPDATE loads SET finished_at = ?, status = 'ok', messages_seen = ?, messages_new = ? WHERE load_id = ?",
            [now, n, n, load_id],
        )
        con.execute("COMMIT")
        for name in tables:
            con.unregister(name)
        con.execute("DROP TABLE _m")
        # What the pipeline does before it publishes the snapshot (the alerts stage): build the
        # materialized table the metric views read.
        refresh_started = time.perf_counter()
        refresh_report_mail(con, force=True)
        counts["refresh_seconds"] = time.perf_counter() - refresh_started
        for table in ("messages", "message_addresses", "message_locations", "threads", "message_insights"):
            row = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 (our table names)
            counts[table] = int(row[0]) if row else 0
        for table in ("activities", "alerts", "contacts"):
            row = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 (our table names)
            counts[table] = int(row[0]) if row else 0
    counts["generate_seconds"] = generated
    counts["total_seconds"] = time.perf_counter() - started
    return counts


def _schema_hash() -> str:
    from intel.store.db import migrations

    return hashlib.sha256("".join(m.checksum for m in migrations()).encode()).hexdigest()[:10]


def week_start(today: date | None = None) -> date:
    """The Monday of this week (UTC): generated mail ends there, so the cache lasts a week."""
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=today.weekday())


def ensure_database(n: int, seed: int, end: date, *, log: Callable[[str], None]) -> tuple[Path, dict[str, Any]]:
    """The cached database for (n, seed, end, generator, migrations), generated when missing."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    stem = f"mailbox-s{seed}-g{GENERATOR_VERSION}-m{_schema_hash()}-e{end:%Y%m%d}-{n}"
    path = CACHE_DIR / f"{stem}.duckdb"
    if path.exists():
        log(f"using the cached database {path.relative_to(WORK_DIR.parent)}")
        return path, {}
    for stale in CACHE_DIR.glob(f"mailbox-s{seed}-*-{n}.duckdb*"):  # older versions of the same size
        stale.unlink()
    building = CACHE_DIR / f".{stem}.{os.getpid()}.duckdb"
    log(f"generating {n:,} messages (seed {seed}, ending {end}) into {path.relative_to(WORK_DIR.parent)} ...")
    try:
        counts = write_database(building, n, seed, end)
        os.replace(building, path)
    finally:
        for leftover in CACHE_DIR.glob(f".{stem}.{os.getpid()}.duckdb*"):
            leftover.unlink()
    log(f"generated in {counts['total_seconds']:.1f}s ({counts['generate_seconds']:.1f}s of it in numpy)")
    return path, counts


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class ViewTiming:
    view: str
    rows: int
    seconds: list[float]
    cpu_seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds)


def _timed(body: Callable[[], int], repeat: int) -> tuple[int, list[float], list[float]]:
    """One untimed warm-up, then `repeat` timed runs: (result, seconds, CPU seconds)."""
    result = body()
    seconds, cpu = [], []
    for _ in range(repeat):
        with TreeMonitor(interval=0.05) as monitor:
            start = time.perf_counter()
            result = body()
            seconds.append(time.perf_counter() - start)
        cpu.append(monitor.cpu_seconds)
    return result, seconds, cpu


def report_views() -> list[str]:
    from intel.reports.metrics import VIEWS

    return list(VIEWS)


def time_views(path: Path, views: list[str], repeat: int, log: Callable[[str], None]) -> list[ViewTiming]:
    """Each view fully fetched into an Arrow table, on the file opened read-only as the report does."""
    from intel.store import open_snapshot

    con = open_snapshot(path)
    try:
        timings = []
        for view in views:

            def fetch(view: str = view) -> int:
                # `view` is one of the report's own view names, never input.
                return int(con.sql(f"SELECT * FROM {view}").to_arrow_table().num_rows)  # noqa: S608

            rows, seconds, cpu = _timed(fetch, repeat)
            timing = ViewTiming(view, rows, seconds, cpu)
            log(f"  {view:<34} {rows:>10,} rows  {timing.median:7.3f}s")
            timings.append(timing)
        return timings
    finally:
        con.close()


@dataclass
class RefreshTiming:
    memory_limit: str  # the limit the timed runs used
    seconds: list[float]
    cpu_seconds: list[float]
    failed_limits: list[str]  # smaller limits (the pipeline's first) that ran out of memory

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


# Tried in order after the pipeline's own `storage.memory_limit`, if that runs out of memory.
_LARGER_LIMITS = ("512MB", "1GB", "2GB", "4GB", "8GB")


def time_refresh(path: Path, repeat: int, log: Callable[[str], None]) -> RefreshTiming | None:
    """`refresh_report_mail(force=True)` on a writable copy, opened as the pipeline opens its store.

    This is the work the pipeline does once per run before publishing (the metric views then
    read the table it builds), so it is reported beside the views. With the pipeline's
    `storage.memory_limit` first; if DuckDB runs out of memory there, that is reported and the
    run is repeated with larger limits until one is enough.
    """
    import duckdb

    from intel.config import StorageSettings
    from intel.reports.metrics import refresh_report_mail

    storage = StorageSettings()
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-refresh-", dir=CACHE_DIR) as tmp:
        copy = Path(tmp) / "copy.duckdb"
        shutil.copyfile(path, copy)
        for limit in (storage.memory_limit, *_LARGER_LIMITS):
            # The connection `open_store` makes, without its lock and migration check (the copy is ours).
            con = duckdb.connect(
                str(copy), config={"memory_limit": limit, "checkpoint_threshold": storage.checkpoint_threshold}
            )
            try:

                def refresh(con: duckdb.DuckDBPyConnection = con) -> int:
                    refresh_report_mail(con, force=True)
                    return 0

                _, seconds, cpu = _timed(refresh, repeat)
                return RefreshTiming(limit, seconds, cpu, failed)
            except duckdb.OutOfMemoryException as exc:
                log(f"  refresh_report_mail ran out of memory at memory_limit {limit}: {str(exc).splitlines()[0]}")
                failed.append(limit)
            finally:
                con.close()
    return RefreshTiming("", [], [], failed)


@dataclass
class ReportTiming:
    seconds: list[float]
    cpu_seconds: list[float]
    html_bytes: int  # report.html
    files: int
    exports: dict[str, float]  # view -> seconds of its CSV + Parquet export alone (one run)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def time_report(path: Path, repeat: int) -> ReportTiming:
    """`build_report` into a fresh directory each run, from the file opened read-only.

    Then, once, each view's export alone (`export_views` with that view), to show where the
    report's time goes.
    """
    from intel.config import ReportSettings
    from intel.reports.export import export_views
    from intel.reports.html import build_report
    from intel.store import open_snapshot

    settings = ReportSettings(timezone=TIMEZONE)
    html_bytes = files = 0
    exports: dict[str, float] = {}
    con = open_snapshot(path)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
            runs = 0

            def build() -> int:
                nonlocal runs, html_bytes, files
                runs += 1
                out = Path(tmp) / f"run{runs}"
                result = build_report(con, settings, out)
                html_bytes = result.html.stat().st_size
                files = sum(1 for p in out.rglob("*") if p.is_file())
                shutil.rmtree(out)
                return html_bytes

            _, seconds, cpu = _timed(build, repeat)
            for view in report_views():
                started = time.perf_counter()
                export_views(con, Path(tmp) / "exports", [view])
                exports[view] = time.perf_counter() - started
    finally:
        con.close()
    return ReportTiming(seconds, cpu, html_bytes, files, exports)


def explain(path: Path, view: str, *, full: bool = False, top: int = 12) -> str:
    """Where the time of fetching one view goes: DuckDB's JSON profile, the costliest operators.

    With `full`, DuckDB's whole EXPLAIN ANALYZE tree instead (very wide for these views).
    """
    import json

    from intel.store import open_snapshot

    if view not in report_views():
        raise SystemExit(f"{view} is not one of intel.reports.metrics.VIEWS")
    con = open_snapshot(path)
    try:
        if full:
            rows = con.execute(f"EXPLAIN ANALYZE SELECT * FROM {view}").fetchall()  # noqa: S608 (checked above)
            return "\n".join(str(r[-1]) for r in rows)
        with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
            output = Path(tmp) / "profile.json"
            con.execute("SET enable_progress_bar = false")
            con.execute("SET enable_profiling = 'json'")
            con.execute("SET profiling_output = ?", [str(output)])
            con.sql(f"SELECT * FROM {view}").to_arrow_table()  # noqa: S608 (checked above)
            con.execute("SET enable_profiling = 'no_output'")
            profile = json.loads(output.read_text(encoding="utf-8"))
    finally:
        con.close()
    operators: list[tuple[float, int, str, str]] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        info = node.get("extra_info") or {}
        detail = "; ".join(
            f"{k}: {', '.join(v) if isinstance(v, list) else v}"
            for k, v in info.items()
            if k not in ("Estimated Cardinality",)
        )
        name = str(node.get("type") or node.get("operator_type") or "?")
        timing = float(node.get("timing", node.get("operator_timing", 0.0)) or 0.0)
        rows = int(node.get("intermediate_rows", node.get("operator_cardinality", 0)) or 0)
        operators.append((timing, rows, f"{'  ' * min(depth, 8)}{name}", detail))
        for child in node.get("children", []):
            walk(child, depth + 1)

    roots = profile.get("operator") or profile.get("children") or []
    for root in roots if isinstance(roots, list) else [roots]:
        walk(root, 0)
    query = profile.get("query", {})
    planner = profile.get("planner", {}).get("total_time", 0.0) + profile.get("physical_planner", {}).get(
        "total_time", 0.0
    )
    lines = [
        f"{view}: {query.get('total_time', 0.0):.3f}s wall, {query.get('cpu_time', 0.0):.3f}s CPU "
        f"(operators summed), planning {planner:.3f}s, {query.get('total_rows_scanned', 0):,} rows scanned, "
        f"{query.get('total_intermediate_rows', 0):,} intermediate rows",
        f"costliest {top} operators (seconds summed over threads; rows out):",
    ]
    for timing, rows, name, detail in sorted(operators, key=lambda o: o[0], reverse=True)[:top]:
        lines.append(f"  {timing:7.3f}s {rows:>11,}  {name.strip():<22} {detail[:160]}")
    return "\n".join(lines)


def describe(path: Path) -> dict[str, Any]:
    """What the generated mailbox looks like, for the results section."""
    from intel.store import open_snapshot

    con = open_snapshot(path)
    try:
        q = {
            "messages": "SELECT count(*) FROM messages",
            "outbound": "SELECT avg(CASE WHEN direction = 'outbound' THEN 1 ELSE 0 END) FROM messages",
            "in_window": "SELECT count(*) FROM v_messages",
            "threads": "SELECT count(*) FROM threads",
            "mean_thread": "SELECT avg(message_count) FROM threads",
            "max_thread": "SELECT max(message_count) FROM threads",
            "automated": "SELECT avg(CASE WHEN is_automated THEN 1 ELSE 0 END) FROM report_mail",
            "turns": "SELECT turns FROM v_response_summary",
            "response_rate": "SELECT response_rate FROM v_response_summary",
            "correspondents": "SELECT count(DISTINCT address) FROM message_addresses WHERE NOT is_identity",
            "domains": "SELECT count(DISTINCT domain) FROM message_addresses WHERE NOT is_identity",
            "top1_share": "SELECT max(c) / sum(c) FROM (SELECT count(*) AS c FROM messages WHERE direction = 'inbound'"
            " GROUP BY from_address)",
            "insights": "SELECT count(*) FROM message_insights",
            "activities": "SELECT count(*) FROM activities",
            "alerts": "SELECT count(*) FROM alerts",
            "first": "SELECT CAST(min(sent_at) AS DATE) FROM messages",
            "last": "SELECT CAST(max(sent_at) AS DATE) FROM messages",
        }
        out: dict[str, Any] = {}
        for key, sql in q.items():
            row = con.execute(sql).fetchone()
            out[key] = row[0] if row else None
        out["file_mib"] = path.stat().st_size / 2**20
        return out
    finally:
        con.close()


# --- output ---------------------------------------------------------------------------------------


def _mailbox_line(d: dict[str, Any]) -> str:
    return (
        f"{d['messages']:,} messages ({d['in_window']:,} inside the sync window), {d['first']} to {d['last']}, "
        f"{d['outbound']:.0%} outbound, {d['automated']:.0%} automated; {d['threads']:,} threads (mean "
        f"{d['mean_thread']:.1f} messages, max {d['max_thread']}); {d['turns']:,} conversation turns, "
        f"{d['response_rate']:.0%} answered; {d['correspondents']:,} external addresses (automated senders "
        f"included) in {d['domains']:,} domains (the busiest sends "
        f"{d['top1_share']:.1%} of inbound mail); {d['insights']:,} insights rows, {d['activities']:,} activities, "
        f"{d['alerts']:,} alerts. Database file {d['file_mib']:,.0f} MiB."
    )


def _rows(timings: list[ViewTiming]) -> list[list[str]]:
    rows = [[t.view, f"{t.rows:,}", f"{t.median:.3f}", f"{t.cpu_median:.2f}"] for t in timings]
    total = sum(t.median for t in timings)
    rows.append(
        [
            "**all views**",
            f"{sum(t.rows for t in timings):,}",
            f"**{total:.2f}**",
            f"{sum(t.cpu_median for t in timings):.2f}",
        ]
    )
    return rows


def _report_text(r: ReportTiming, repeat: int) -> str:
    exports = sorted(r.exports.items(), key=lambda kv: kv[1], reverse=True)
    return (
        f"`build_report` (CSV + Parquet export of every view, then the HTML page) into a new directory: "
        f"**{r.median:.2f} s** median of {repeat} (runs {', '.join(f'{s:.2f}' for s in r.seconds)} s; CPU "
        f"{statistics.median(r.cpu_seconds):.1f} s), report.html {r.html_bytes / 1024:,.0f} KiB, {r.files} files. "
        f"Each view's export alone, once: {sum(r.exports.values()):.1f} s in all; the largest "
        + ", ".join(f"`{view}` {seconds:.1f} s" for view, seconds in exports[:4])
        + "."
    )


def _refresh_text(r: RefreshTiming) -> str:
    from intel.config import StorageSettings

    pipeline_limit = StorageSettings().memory_limit
    text = (
        "Not in the views' time: `refresh_report_mail(force=True)`, which the pipeline runs once per run on its "
        "write connection (alerts stage) to build the `report_mail` table the metric views read; timed on a "
        f"writable copy opened like the pipeline opens its store (`storage.memory_limit` {pipeline_limit}). "
    )
    if r.failed_limits:
        text += (
            f"**It ran out of memory at memory_limit {', '.join(r.failed_limits)}** (DuckDB OutOfMemoryException), "
            "so the pipeline with default settings cannot refresh the report tables of a mailbox this size. "
        )
    if r.seconds:
        text += (
            f"With memory_limit {r.memory_limit}: **{r.median:.2f} s** median of {len(r.seconds)} "
            f"(CPU {statistics.median(r.cpu_seconds):.1f} s)."
        )
    else:
        text += f"It did not finish with any memory limit up to {_LARGER_LIMITS[-1]}."
    return text


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50,000 messages; RESULTS.md untouched")
    parser.add_argument("-n", type=int, default=1_000_000, help="messages (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per view after a warm-up (default 3)")
    parser.add_argument("--results", type=Path, default=None, help="write the section to this file")
    parser.add_argument(
        "--explain", metavar="VIEW", action="append", default=[], help="profile one view (repeatable) and stop"
    )
    parser.add_argument("--full-plan", action="store_true", help="with --explain: DuckDB's whole EXPLAIN ANALYZE")
    parser.add_argument("--generate-only", action="store_true", help="build (or find) the database and stop")
    parser.add_argument("--no-report", action="store_true", help="do not time build_report")
    parser.add_argument("--no-refresh", action="store_true", help="do not time refresh_report_mail")
    args = parser.parse_args(argv)
    n = 50_000 if args.quick else args.n

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    end = week_start()
    path, generated = ensure_database(n, args.seed, end, log=log)
    mailbox = describe(path)
    log(_mailbox_line(mailbox))
    if args.generate_only:
        return 0
    for view in args.explain:
        print(f"--- {view}\n{explain(path, view, full=args.full_plan)}")
    if args.explain:
        return 0

    load_before = load_average()
    views = report_views()
    log(f"timing {len(views)} views, median of {args.repeat} after a warm-up (load average {load_before}) ...")
    timings = time_views(path, views, args.repeat, log)
    total = sum(t.median for t in timings)
    headers = ["view", "rows", "median s", "CPU s"]
    print(text_table(headers, [[c.replace("**", "") for c in r] for r in _rows(timings)]), flush=True)
    refresh: RefreshTiming | None = None
    if not args.no_refresh:
        log("timing refresh_report_mail on a writable copy ...")
        refresh = time_refresh(path, args.repeat, log)
    report: ReportTiming | None = None
    if not args.no_report:
        log("timing build_report ...")
        report = time_report(path, args.repeat)
    load_after = load_average()

    slowest = sorted(timings, key=lambda t: t.median, reverse=True)[:3]
    verdict = "met" if total < GOAL_SECONDS else "NOT met"
    print(
        f"all views: {total:.2f}s (goal < {GOAL_SECONDS:.0f}s: {verdict}); slowest: "
        + ", ".join(f"{t.view} {t.median:.2f}s" for t in slowest)
    )
    cpu_total = sum(t.cpu_median for t in timings)
    cores = int(machine_info()["cores"])
    base = [t for t in timings if t.view in BASE_VIEWS]
    base_total = sum(t.median for t in base)
    print(f"of which the {len(base)} base views ({', '.join(t.view for t in base)}): {base_total:.2f}s")
    if refresh is not None:
        print(_refresh_text(refresh).replace("**", "").replace("`", ""))
    if report is not None:
        print(_report_text(report, args.repeat).replace("**", "").replace("`", ""))
    print(f"load average {load_before} before, {load_after} after")

    if args.quick and args.results is None:
        return 0
    gen_note = (
        f" Generating it took {generated['total_seconds']:.0f} s (not timed below; cached for re-runs)."
        if generated
        else " (Generated by an earlier run and cached; generation is not timed here.)"
    )
    lines = [
        f"Measured {utc_now()} by `bench/bench_reports.py` on {machine_line()}; load average {load_before} "
        f"before, {load_after} after (other work on the machine slows wall-clock times; CPU s is less affected).",
        "",
        f"Mailbox generated straight into DuckDB (seed {args.seed}, real schema via `open_store`): "
        + _mailbox_line(mailbox)
        + gen_note,
        "",
        "Each view of `intel.reports.metrics.VIEWS` fully fetched into Arrow (every row and column, "
        f"`to_arrow_table()`) from the file opened read-only, report time zone {TIMEZONE}; median of "
        f"{args.repeat} runs after a warm-up. CPU s: median CPU seconds of the process (all DuckDB threads).",
        "",
        markdown_table(headers, _rows(timings)),
        "",
        f"Goal: all views together < {GOAL_SECONDS:.0f} s: **{verdict}** ({total:.2f} s; the {len(base)} base "
        f"views {', '.join(f'`{t.view}`' for t in base)}, one row per message or turn, take {base_total:.2f} s "
        "of it). Slowest: " + ", ".join(f"`{t.view}` {t.median:.2f} s" for t in slowest) + ". "
        f"The views used {cpu_total:.1f} CPU s in all: on {cores} idle cores they cannot take less than "
        f"~{cpu_total / cores:.1f} s.",
    ]
    if refresh is not None:
        lines += ["", _refresh_text(refresh)]
    if report is not None:
        lines += ["", _report_text(report, args.repeat)]
    write_section(TITLE, "\n".join(lines), args.results or Path(__file__).resolve().parent / "RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
