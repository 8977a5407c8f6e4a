"""The demo mailbox: deterministic, realistic enough to exercise every stage, and true to its ground truth.

The written files are read with the standard library's `email` package only, so these tests do not
depend on the project's own parser.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from intel.demo import DEMO_IDENTITY, DEMO_SEED, DemoMessage, demo_messages, write_demo_maildir

OUR_DOMAIN = "harborlight.example"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October")
MONTH = "|".join(MONTHS)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _parse(path: Path) -> EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[DemoMessage]]:
    root = tmp_path_factory.mktemp("demo") / "Maildir"
    truth = write_demo_maildir(root)
    return root, truth


@pytest.fixture(scope="module")
def parsed(mailbox: tuple[Path, list[DemoMessage]]) -> dict[str, tuple[str, EmailMessage]]:
    """Message-ID -> (folder, message) for every file in cur/."""
    root, _ = mailbox
    out: dict[str, tuple[str, EmailMessage]] = {}
    for folder, cur in (("INBOX", root / "cur"), ("Sent", root / ".Sent" / "cur")):
        for path in sorted(cur.iterdir()):
            msg = _parse(path)
            mid = str(msg["Message-ID"])
            assert mid not in out, f"duplicate Message-ID {mid}"
            out[mid] = (folder, msg)
    return out


def test_two_runs_write_byte_identical_trees(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_demo_maildir(first)
    write_demo_maildir(second)
    files_a, files_b = _files(first), _files(second)
    assert [p.relative_to(first) for p in files_a] == [p.relative_to(second) for p in files_b]
    for a, b in zip(files_a, files_b, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.relative_to(first)


def test_ground_truth_is_the_same_with_or_without_writing(mailbox: tuple[Path, list[DemoMessage]]) -> None:
    _, truth = mailbox
    assert demo_messages() == truth
    assert demo_messages(DEMO_SEED + 1) != truth


def test_maildir_layout_and_file_names(mailbox: tuple[Path, list[DemoMessage]]) -> None:
    root, truth = mailbox
    for folder in (root, root / ".Sent"):
        for sub in ("cur", "new", "tmp"):
            assert (folder / sub).is_dir()
        assert not any((folder / "new").iterdir())
        assert not any((folder / "tmp").iterdir())
    inbox, sent = sorted((root / "cur").iterdir()), sorted((root / ".Sent" / "cur").iterdir())
    assert inbox and sent
    assert len(inbox) + len(sent) == len(truth)
    pattern = re.compile(r"^(\d+)\.demo(\d{5})\.harborlight:2,S$")
    numbers = []
    for path in inbox + sent:
        m = pattern.match(path.name)
        assert m, path.name
        numbers.append(int(m[2]))
    assert sorted(numbers) == list(range(1, len(truth) + 1))


def test_every_message_parses_with_the_required_headers(parsed: dict[str, tuple[str, EmailMessage]]) -> None:
    for mid, (_, msg) in parsed.items():
        assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", mid)
        assert msg["Date"] is not None and msg["Date"].datetime.tzinfo is not None
        assert msg["From"] is not None and "@" in msg["From"].addresses[0].addr_spec
        assert msg["Subject"]
        assert not msg.defects, (mid, msg.defects)
        body = msg.get_body(preferencelist=("plain",))
        assert body is not None
        assert body.get_content().strip()


def test_files_agree_with_ground_truth(
    mailbox: tuple[Path, list[DemoMessage]], parsed: dict[str, tuple[str, EmailMessage]]
) -> None:
    _, truth = mailbox
    assert {m.message_id for m in truth} == set(parsed)
    for m in truth:
        folder, msg = parsed[m.message_id]
        assert folder == m.folder
        assert (m.direction == "outbound") == (folder == "Sent")
        assert msg["Date"].datetime == m.sent_at
        assert msg["Date"].datetime.utcoffset() == m.sent_at.utcoffset()
        assert msg["From"].addresses[0].addr_spec.lower() == m.sender
        recipients = [a.addr_spec.lower() for h in ("To", "Cc") if msg[h] for a in msg[h].addresses]
        assert tuple(recipients) == m.recipients
        assert str(msg["Subject"]) == m.subject
        assert m.sender.endswith("@" + OUR_DOMAIN) == (m.direction == "outbound")
    assert DEMO_IDENTITY == ("*@" + OUR_DOMAIN,)


def test_size_spread_and_people(mailbox: tuple[Path, list[DemoMessage]]) -> None:
    _, truth = mailbox
    assert len(truth) >= 300
    assert len({m.thread_key for m in truth}) >= 80
    external = {m.sender for m in truth if m.direction == "inbound"}
    assert len(external) >= 20
    assert len({a.split("@")[1] for a in external}) >= 10
    assert all(a.split("@")[1].endswith(".example") for m in truth for a in (m.sender, *m.recipients))
    dates = [m.sent_at for m in truth]
    assert dates == sorted(dates)
    assert (max(dates) - min(dates)).days >= 90
    assert date(2026, 6, 1) <= min(dates).date() and max(dates).date() <= date(2026, 9, 30)
    offsets = {m.sent_at.utcoffset() for m in truth}
    assert len(offsets) >= 5
    assert timedelta(hours=5, minutes=30) in offsets and timedelta(hours=-5) in offsets
    after_hours = [m for m in truth if m.sent_at.hour < 8 or m.sent_at.hour >= 19 or m.sent_at.weekday() >= 5]
    assert 0 < len(after_hours) < len(truth) / 4


def test_thread_shapes(mailbox: tuple[Path, list[DemoMessage]]) -> None:
    _, truth = mailbox
    sizes = Counter(m.thread_key for m in truth)
    assert any(n == 1 for n in sizes.values())
    assert sum(1 for n in sizes.values() if 5 <= n <= 8) >= 5
    outbound = {m.thread_key for m in truth if m.direction == "outbound"}
    inbound_only = [k for k in sizes if k not in outbound]
    assert len(inbound_only) >= 5, "some customer threads are never answered"


def test_reply_chains_point_at_messages_in_the_mailbox(parsed: dict[str, tuple[str, EmailMessage]]) -> None:
    subject_only = 0
    for _, msg in parsed.values():
        subject = str(msg["Subject"])
        in_reply_to = msg["In-Reply-To"]
        references = str(msg["References"] or "").split()
        if in_reply_to:
            assert str(in_reply_to) in parsed
            assert references and references[-1] == str(in_reply_to)
            assert re.match(r"(?i)re:", subject)
        for ref in references:
            assert ref in parsed
        if re.match(r"(?i)re:", subject) and not in_reply_to:
            subject_only += 1
    assert subject_only >= 1, "a few replies lost their References and thread by subject only"
    assert sum(1 for _, m in parsed.values() if str(m["Subject"]).startswith("Fwd:")) >= 2


def test_subject_only_replies_match_exactly_one_thread(mailbox: tuple[Path, list[DemoMessage]]) -> None:
    _, truth = mailbox

    def base(subject: str) -> str:
        return re.sub(r"(?i)^(re|fwd):\s*", "", subject)

    first_subjects = Counter(base(m.subject) for m in truth if not m.subject.lower().startswith("re:"))
    threads_by_subject: dict[str, set[str]] = {}
    for m in truth:
        threads_by_subject.setdefault(base(m.subject), set()).add(m.thread_key)
    assert all(len(keys) == 1 for keys in threads_by_subject.values())
    assert first_subjects


def test_labels_cover_every_class(mailbox: tuple[Path, list[DemoMessage]]) -> None:
    _, truth = mailbox
    intents = Counter(m.intent for m in truth)
    assert set(intents) == {"request", "query", "complaint", "purchase_inquiry", "other"}
    assert set(Counter(m.sentiment for m in truth)) == {"positive", "negative", "neutral"}
    emotions = {"happy", "enthusiastic", "grateful", "trust", "confused", "dissatisfied", "frustrated", "neutral"}
    assert {m.emotion for m in truth} == emotions


def test_some_customer_sends_three_negative_emails_in_a_row(mailbox: tuple[Path, list[DemoMessage]]) -> None:
    _, truth = mailbox
    longest: Counter[str] = Counter()
    run: Counter[str] = Counter()
    for m in truth:
        if m.direction != "inbound":
            continue
        run[m.sender] = run[m.sender] + 1 if m.sentiment == "negative" else 0
        longest[m.sender] = max(longest[m.sender], run[m.sender])
    assert max(longest.values()) >= 3


def test_mail_client_styles_are_all_present(parsed: dict[str, tuple[str, EmailMessage]]) -> None:
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for _, m in parsed.values()]
    text = "\n".join(bodies)
    assert re.search(r"^On \w{3}, \w{3} \d{1,2}, 2026 at \d{1,2}:\d\d [AP]M .+ <.+> wrote:$", text, re.M)  # Gmail
    assert re.search(r"^On \d{1,2} \w{3} 2026, at \d\d:\d\d, .+ wrote:$", text, re.M)  # Apple Mail
    assert "-----Original Message-----" in text
    assert re.search(r"^From: .+\nSent: .+\nTo: .+", text, re.M)  # Outlook
    assert re.search(r"^> ", text, re.M)
    assert "\n-- \n" in text
    assert "Sent from my iPhone" in text
    assert "CONFIDENTIALITY NOTICE" in text
    assert "linkedin.com/in/" in text


def test_mime_variety(parsed: dict[str, tuple[str, EmailMessage]], mailbox: tuple[Path, list[DemoMessage]]) -> None:
    root, _ = mailbox
    html = [m for _, m in parsed.values() if m.get_body(preferencelist=("html",)) is not None]
    attachments = [a for _, m in parsed.values() for a in m.iter_attachments()]
    assert 2 <= len(html) <= 40
    assert attachments
    assert {a.get_content_type() for a in attachments} >= {"application/pdf", "text/csv"}
    assert any(a.get_content().startswith(b"%PDF-") for a in attachments if a.get_content_type() == "application/pdf")
    raw = b"".join(p.read_bytes() for p in _files(root) if p.parent.name == "cur")
    assert b"=?utf-8?" in raw.lower()
    names = {a.display_name for _, m in parsed.values() for a in m["From"].addresses}
    assert "Zoë Müller" in names
    assert any(not str(m["Subject"]).isascii() for _, m in parsed.values())
    assert b"\r\n" not in raw


def test_signatures_in_ground_truth(mailbox: tuple[Path, list[DemoMessage]]) -> None:
    _, truth = mailbox
    signatures = [m.signature for m in truth if m.signature]
    assert len(signatures) > len(truth) * 0.9
    keys = {"name", "title", "company", "phones", "emails", "websites", "address"}
    assert all(keys <= set(s) for s in signatures)
    phones = [p for s in signatures for p in s["phones"]]
    assert phones and all(re.fullmatch(r"\+\d{8,15}", p) for p in phones)
    staff = {m.sender: m.signature for m in truth if m.direction == "outbound"}
    for sender, sig in staff.items():
        assert all(m.signature == sig for m in truth if m.sender == sender), "staff sign consistently"


def _expected_date(phrase: str, sent: datetime) -> date | None:
    """Resolve the relative-date phrases the demo writes, following the rules in intel.demo."""
    today = sent.date()
    monday = today - timedelta(days=today.weekday())
    if m := re.search(r"next (\w+day)", phrase):
        return monday + timedelta(days=7 + WEEKDAYS.index(m[1]))
    if m := re.search(r"this (\w+day)", phrase):
        return monday + timedelta(days=WEEKDAYS.index(m[1]))
    if re.search(r"tomorrow", phrase):
        return today + timedelta(days=1)
    if re.search(r"by Friday|by the end of the week", phrase):
        return monday + timedelta(days=4)
    if m := re.search(r"by (\w+day) EOD", phrase):
        return monday + timedelta(days=WEEKDAYS.index(m[1]))
    if re.search(r"today", phrase):
        return today
    if m := re.search(rf"({MONTH}) (\d{{1,2}})(?:st|nd|rd|th)?\b", phrase):
        return date(sent.year, MONTHS.index(m[1]) + 1, int(m[2]))
    if m := re.search(rf"(\d{{1,2}}) ({MONTH})\b", phrase):
        return date(sent.year, MONTHS.index(m[2]) + 1, int(m[1]))
    return None


def test_activities_sit_in_the_body_and_resolve_by_the_documented_rules(
    mailbox: tuple[Path, list[DemoMessage]], parsed: dict[str, tuple[str, EmailMessage]]
) -> None:
    _, truth = mailbox
    kinds: Counter[str] = Counter()
    for m in truth:
        body = parsed[m.message_id][1].get_body(preferencelist=("plain",)).get_content()
        for activity in m.activities:
            kinds[activity["type"]] += 1
            assert activity["text"] in body
            if activity["type"] == "task":
                assert activity["start"] is None and activity["due"]
                due = activity["due"]
                resolved = date.fromisoformat(due[:10])
                if "T" in due:
                    assert datetime.fromisoformat(due).utcoffset() == m.sent_at.utcoffset()
            else:
                assert activity["due"] is None
                start = datetime.fromisoformat(activity["start"])
                assert start.tzinfo is not None and start > m.sent_at
                resolved = start.date()
            expected = _expected_date(activity["text"], m.sent_at)
            assert expected is not None, activity["text"]
            assert resolved == expected, (activity, m.sent_at)
            assert resolved >= m.sent_at.date()
    assert set(kinds) == {"meeting", "call", "task"}
    assert all(n >= 5 for n in kinds.values())
