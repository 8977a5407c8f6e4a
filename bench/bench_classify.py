"""Sentiment + intent + emotion speed: emails per second, all three heads together vs the naive way.

Input: N deterministic ~150-word business emails (greeting, 7-10 sentences drawn from the email
examples in models/training/classifiers/, sign-off), seed 7.

Timed, in the same run:

* **intel**: `intel.nlp.heads.Classifier.predict` on all N emails: one shared-encoder pass per
  email (plus the sentences of each email for the intent aggregation), three heads.
* **naive**: three separate `transformers.pipeline("text-classification")` objects, one per task
  (MiniLM with a sequence-classification head each, as one would fine-tune them separately),
  each called on the N emails with its defaults (batch size 1), truncated to the same number of
  tokens as ours so that only the architecture differs.

    .venv/bin/python bench/bench_classify.py [--quick] [-n 1000]

Goal (issue 5): at least 60 emails/s on this 2-core machine and at least 3x the naive way.
Writes the "## Classifiers" section of bench/RESULTS.md (not with --quick unless --results is given).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import load_average, machine_line, markdown_table, utc_now, write_section

TITLE = "Classifiers"
ROOT = Path(__file__).resolve().parents[1]
GREETINGS = ("Hi Anna,", "Hello team,", "Dear Mr. Patel,", "Hi all,", "Good morning Sarah,", "Hey Tom,")
SIGNOFFS = ("Best regards,\nMark", "Thanks,\nJo", "Kind regards,\nPriya Shah", "Cheers,\nSam", "Regards,\nOps team")


def make_emails(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """N (subject, body) pairs of about 150 words each."""
    sentences = []
    for path in sorted((ROOT / "models" / "training" / "classifiers").glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                sentences.append(line.split("\t", 3)[3])
    rng = random.Random(seed)
    emails = []
    for i in range(n):
        body = [rng.choice(GREETINGS), ""]
        words = 0
        while words < 140:
            s = rng.choice(sentences)
            body.append(s)
            words += len(s.split())
        text = body[0] + "\n\n" + " ".join(body[2:]) + "\n\n" + rng.choice(SIGNOFFS)
        emails.append((f"Order {1000 + i}", text))
    return emails


def bench_intel(emails: list[tuple[str, str]]) -> tuple[float, dict[str, object]]:
    from intel.config import ModelsSettings
    from intel.nlp.heads import Classifier

    clf = Classifier(ModelsSettings(threads=2)).load()
    clf.predict(emails[:16])  # warm-up
    start = time.perf_counter()
    clf.predict(emails)
    seconds = time.perf_counter() - start
    return seconds, {"bf16": clf.encoder_.bf16_active_, "max_length": clf.encoder_.max_length}


def bench_naive(emails: list[tuple[str, str]], max_length: int) -> float:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from intel.nlp.encoder import default_model_path
    from intel.nlp.heads import LABELS

    torch.set_num_threads(2)
    texts = [f"{s}\n{b}" for s, b in emails]
    pipes = []
    with tempfile.TemporaryDirectory() as tmp:
        for task, labels in LABELS.items():
            torch.manual_seed(0)
            model = AutoModelForSequenceClassification.from_pretrained(
                str(default_model_path()), num_labels=len(labels), id2label=dict(enumerate(labels))
            )
            tok = AutoTokenizer.from_pretrained(str(default_model_path()))
            model.save_pretrained(f"{tmp}/{task}")
            tok.save_pretrained(f"{tmp}/{task}")
            pipes.append(pipeline("text-classification", model=f"{tmp}/{task}", device=-1, top_k=None))
        for p in pipes:
            p(texts[:4], truncation=True, max_length=max_length)
        start = time.perf_counter()
        for p in pipes:
            p(texts, truncation=True, max_length=max_length)
        return time.perf_counter() - start


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 emails, RESULTS.md untouched")
    parser.add_argument("-n", type=int, default=1000, help="emails (default 1000)")
    parser.add_argument("--results", type=Path, default=None, help="write the section to this file")
    args = parser.parse_args()
    n = 100 if args.quick else args.n
    emails = make_emails(n)
    words = sum(len(b.split()) for _, b in emails) / n
    print(f"{n} emails, {words:.0f} words on average", file=sys.stderr)
    ours, info = bench_intel(emails)
    print(f"intel:  {n / ours:.1f} emails/s ({info})", file=sys.stderr)
    naive = bench_naive(emails, int(str(info["max_length"])))
    print(f"naive:  {n / naive:.1f} emails/s", file=sys.stderr)
    rows = [
        ["intel Classifier (one encoder pass, 3 heads)", f"{ours:.1f}", f"{n / ours:.1f}", f"{naive / ours:.1f}x"],
        ["3 naive transformers pipelines", f"{naive:.1f}", f"{n / naive:.1f}", "1.0x"],
    ]
    table = markdown_table(["run", "seconds", "emails/s", "speed vs naive"], rows)
    print(table)
    if args.quick and args.results is None:
        return
    markdown = (
        f"{utc_now()} · {machine_line()} · load average before: {load_average()}\n\n"
        f"{n} emails of ~{words:.0f} words (`bench/bench_classify.py`), sentiment + intent + emotion, "
        f"2 torch threads, bf16 autocast: {info['bf16']}, max {info['max_length']} tokens per email.\n\n"
        f"{table}\n\n"
        f"Speed-up over the naive way: **{naive / ours:.1f}x**. Goals: >= 60 emails/s "
        f"({'met' if n / ours >= 60 else 'NOT met'}), >= 3x naive ({'met' if naive / ours >= 3 else 'NOT met'})."
    )
    write_section(TITLE, markdown, args.results or Path(__file__).resolve().parent / "RESULTS.md")


if __name__ == "__main__":
    main()
