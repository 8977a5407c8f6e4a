"""Train the signature line classifier, evaluate it, write the model and its card.

    python -m intel.nlp.train_signature [--seed 13] [--n 4000] [--out models/signature]

Training data: synthetic emails from `intel.nlp.sigdata` (one half of the name / company /
title / city pools, seed `--seed`) plus the hand-labelled emails in
``models/training/signatures/handwritten_train.txt``. Evaluation: synthetic emails drawn from
the *other* half of the pools with another seed, the hand-written dev and held-out sets (never
trained on), and the demo mailbox ("has a signature" against its ground truth). The same run
scores the rule-based splitter of `intel.parse.signature` on the same sets as the baseline.
Everything is a function of the seed: two runs write the same coefficients.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from intel.nlp.evaluation import demo_emails, score_signatures
from intel.nlp.sigdata import Email, generate, read_marked, write_jsonl
from intel.nlp.signature import LABELS, Sender, SignatureModel, line_features, new_text_lines

__all__ = ["evaluate", "main", "train"]

VERSION = "signature.v1"
REPO = Path(__file__).resolve().parents[2]
TRAINING_DIR = REPO / "models" / "training" / "signatures"


def _examples(emails: Sequence[Email], window: int) -> tuple[list[dict[str, float]], list[int]]:
    """Features and labels of the lines the model sees (the window at the end of each new text)."""
    feats: list[dict[str, float]] = []
    labels: list[int] = []
    for e in emails:
        numbered = new_text_lines(e.text)
        content = [k for k, (_, line) in enumerate(numbered) if line.strip()]
        if not content:
            continue
        start = content[-window:][0]
        window_lines = [line for _, line in numbered[start:]]
        window_numbers = [i for i, _ in numbered[start:]]
        f = line_features(window_lines, Sender.parse(e.sender))
        nonblank = [i for i, line in zip(window_numbers, window_lines, strict=True) if line.strip()]
        feats.extend(f)
        labels.extend(LABELS.index(e.lines[i][1]) for i in nonblank)
    return feats, labels


def train(emails: Sequence[Email], *, seed: int, c: float = 2.0, window: int = 30) -> SignatureModel:
    from sklearn.linear_model import LogisticRegression

    feats, labels = _examples(emails, window)
    names = sorted({name for f in feats for name in f})
    model = SignatureModel(window=window)
    model.features_ = names
    model.index_ = {n: i for i, n in enumerate(names)}
    x = model.vectorize(feats)
    y = np.asarray(labels)
    clf = LogisticRegression(C=c, max_iter=3000, random_state=seed)
    clf.fit(x, y)
    if list(clf.classes_) != [0, 1, 2]:
        raise ValueError(f"training data lacks a label: {clf.classes_}")
    model.coef_ = clf.coef_
    model.intercept_ = clf.intercept_
    model.version_ = VERSION
    return model


def _model_lines(model: SignatureModel) -> Any:
    def predict(e: Email) -> set[int]:
        return set(model.extract(e.text, e.sender).lines)

    return predict


def _rule_lines(e: Email) -> set[int]:
    """The rule-based splitter of intel.parse, mapped back to line numbers (the baseline)."""
    from intel.parse.signature import split_signature

    numbered = new_text_lines(e.text)
    new_text = "\n".join(line for _, line in numbered)
    who = Sender.parse(e.sender)
    _body, sig = split_signature(new_text, who.name)
    k = sum(1 for line in sig.split("\n") if line.strip())
    nonblank = [i for i, line in numbered if line.strip()]
    return set(nonblank[-k:]) if k else set()


def evaluate(model: SignatureModel, *, seed: int) -> dict[str, Any]:
    sets: dict[str, list[Email]] = {
        "synthetic_heldout": list(generate(1000, seed + 1000, pool_half=1, prefix="test")),
        "handwritten_dev": read_marked(TRAINING_DIR / "handwritten_dev.txt"),
        "handwritten_heldout": read_marked(TRAINING_DIR / "heldout_handwritten.txt"),
    }
    results: dict[str, Any] = {}
    errors: dict[str, list[tuple[str, set[int], set[int]]]] = {}
    for name, emails in sets.items():
        errs: list[tuple[str, set[int], set[int]]] = []
        model_scores = score_signatures(emails, _model_lines(model), errs)
        rule_scores = score_signatures(emails, _rule_lines)
        results[name] = {"model": model_scores.row(), "rules": rule_scores.row()}
        errors[name] = errs
    results["demo_mailbox"] = _demo_scores(model)
    results["_errors"] = {k: [(i, sorted(t), sorted(g)) for i, t, g in v] for k, v in errors.items()}
    return results


def _demo_scores(model: SignatureModel) -> dict[str, Any]:
    """Has-a-signature accuracy on the demo mailbox (its truth has fields, not line labels)."""
    emails = demo_emails()
    right = 0
    rules_right = 0
    from intel.parse import split_reply
    from intel.parse.signature import split_signature

    for e in emails:
        truth = e.truth.signature is not None
        got = model.extract(e.body_text, e.sender).found
        right += truth == got
        new_text, _ = split_reply(e.body_text)
        name = e.sender.partition(" <")[0]
        _body, sig = split_signature(new_text, name)
        rules_got = bool(sig) and not all(
            line.strip().lower().startswith(("sent from", "get outlook")) for line in sig.split("\n") if line.strip()
        )
        rules_right += truth == rules_got
    return {
        "emails": len(emails),
        "model_has_signature_accuracy": round(right / len(emails), 4),
        "rules_has_signature_accuracy": round(rules_right / len(emails), 4),
    }


def _card(model: SignatureModel, results: dict[str, Any], meta: dict[str, Any]) -> str:
    def table(name: str) -> str:
        r = results[name]
        rows = []
        for who in ("model", "rules"):
            s = r[who]
            rows.append(
                f"| {'line classifier (this model)' if who == 'model' else 'rule-based split (intel.parse.signature)'} "
                f"| {s['emails']} | {s['line_precision']:.3f} | {s['line_recall']:.3f} | **{s['line_f1']:.3f}** "
                f"| **{s['has_signature_accuracy']:.3f}** | {s['exact_block']:.3f} |"
            )
        head = "| extractor | emails | line precision | line recall | line F1 | has-signature accuracy | exact block |"
        return "\n".join([head, "|---|---:|---:|---:|---:|---:|---:|", *rows])

    demo = results["demo_mailbox"]
    n_synthetic = results["synthetic_heldout"]["model"]["emails"]
    n_heldout = results["handwritten_heldout"]["model"]["emails"]
    return f"""# Model card: signature line classifier (`{model.version_}`)

Finds the signature block of the newest message in an email: each of the last {model.window} non-blank
lines of the new text (after `split_reply` removed quotes and forwards) is labelled body (`B`),
signature (`S`) or footer (`F`: mobile footers, disclaimers, banners), and a Viterbi pass keeps the
order body, signature, footer. The sign-off phrase ("Best regards,") is body; the name under it is
signature. Fields are then read from the signature lines by `intel.nlp.contacts`.

- **Version:** `{model.version_}`, trained {meta["trained_at"]} with seed {meta["seed"]}
  (`python -m intel.nlp.train_signature --seed {meta["seed"]}`; deterministic).
- **Model:** multinomial logistic regression (scikit-learn, C={meta["C"]}), {len(model.features_)} features,
  stored as JSON coefficients in `model.json` (no pickle); inference is a numpy dot product.
- **Features per line** (in the spirit of Carvalho & Cohen 2004): position from the end, length
  and word-count buckets, capitalised-word ratio, phone / email / URL / social-profile patterns,
  phone labels (T:, Mobile, Fax...), the sender's name tokens (display name and address local part),
  separators (`--`, `___`, `━━━`), sign-off phrases in nine languages, mobile footers, greeting,
  job-title words, company suffixes, street / postcode / country patterns, disclaimer words,
  stop-word and pronoun ratios, punctuation and digit ratios, sentence-final punctuation, paragraph
  structure (paragraph from the end, its size, position inside it, blank lines around), running
  facts (a sign-off above and how far, a delimiter above, contact lines below, sentence-like lines
  below), and the main features of the two lines above and below.

## Training data

- {meta["n_synthetic"]} synthetic emails (`intel/nlp/sigdata.py`, seed {meta["seed"]}, pool half 0): bodies
  with greetings, wrapped and unwrapped paragraphs, bullet lists, key-value lines, name lists,
  phone numbers / URLs / addresses inside sentences; {len(meta["styles"])} signature layouts (name only, first name /
  initial / "-J", name + title, name + title + company, pipes, one line, full blocks with address
  and phones, title-comma-company, company first (Japanese order), phones only, contact cards with
  blank lines, social links) with pronouns, credentials, taglines, booking links, `--` and rule
  delimiters; sign-offs in English and eight other languages (or none, or inline "Thanks, Ana");
  mobile footers and disclaimers; Gmail, Outlook and "Original Message" quotes with their own
  signatures. A sample is in `models/training/signatures/generated_sample.jsonl`.
- {meta["n_handwritten"]} hand-written emails (`handwritten_train.txt`): lists of names or key-value lines at the end
  of a body, alert mails, non-English sign-offs, legal footers.

## Evaluation (never trained on)

Line-level scores count non-blank lines labelled `S` over the whole email (quoted lines count as
negatives); "has-signature accuracy" is whether an email has any signature line, right or wrong;
"exact block" is the share of emails whose signature lines are exactly right.

**Synthetic held-out** ({n_synthetic} emails from the *other* half of the name, company,
title and city pools, another seed; same layouts, so this is in-distribution):

{table("synthetic_heldout")}

**Hand-written dev set** (`handwritten_dev.txt`, written before training, used to look at errors
while developing):

{table("handwritten_dev")}

**Hand-written held-out set** (`heldout_handwritten.txt`, {n_heldout} realistic emails in layouts the
generator does not produce: law-firm and bank footers, German Impressum lines, emoji phone
lines, "Sam @ Tiny Coffee Co.", initials, names before the sign-off-less block, newsletters,
notifications, Chinese/Japanese/Portuguese/Swedish/Spanish/French/Italian business mail). This is
the number to quote for "email the project has never seen":

{table("handwritten_heldout")}

**Demo mailbox** ({demo["emails"]} messages; its truth gives fields, not lines): has-signature accuracy
{demo["model_has_signature_accuracy"]:.3f} (rule-based split: {demo["rules_has_signature_accuracy"]:.3f}).

**History of the held-out number.** The held-out set was written before the first training run.
That first model scored line F1 0.975 and has-signature accuracy 0.960 on it. After looking at its
errors, two common layouts were added to the generator (registry lines such as "HRB 12345,
Amtsgericht" inside a block, emoji in front of contact lines) and the street pattern learned German
compound street names; the table above is the model after those changes, so the held-out set is no
longer perfectly blind. Its remaining misses are single-letter sign-offs ("K", "D") and initials
above a `--` block.

## Contact fields (`intel.nlp.contacts`, `contacts.v1`)

Rules, `phonenumbers` and spaCy read the signature lines into fields. On the demo mailbox (where they
were developed) all 340 signatures give the expected name, title, company, phones (E.164), emails,
websites, address and social profiles; the hand-written held-out signatures were read and checked by
eye while developing (no field-level truth is written for them, so there is no held-out field score).
spaCy's NER (behind an EntityRuler for company suffixes and job titles) is asked only for the lines
no rule placed.

## Limits

- Trained on synthetic and a few dozen hand-written emails, not on a real mail corpus: layouts far
  from those above (signatures as images, HTML tables flattened into one line, signatures above
  the reply text) are likely to be missed.
- Only the newest message is looked at; a signature inside the body (top of a forwarded note)
  is not found. Only the last {model.window} non-blank lines of the new text are classified.
- Footers (`F`) are not part of the signature; a company banner may be read either way.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the signature line classifier and write its card.")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--n", type=int, default=4000, help="synthetic training emails")
    parser.add_argument("--c", type=float, default=2.0, help="inverse regularisation strength")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "signature")
    parser.add_argument("--errors", action="store_true", help="print the misclassified dev and held-out emails")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    synthetic = list(generate(args.n, args.seed, pool_half=0, prefix="train"))
    handwritten = read_marked(TRAINING_DIR / "handwritten_train.txt")
    # Hand-written examples are few but varied: count each of them several times.
    model = train([*synthetic, *handwritten * 5], seed=args.seed, c=args.c)
    results = evaluate(model, seed=args.seed)
    styles = sorted({e.style for e in synthetic})
    meta = {
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%d"),
        "seed": args.seed,
        "C": args.c,
        "n_synthetic": len(synthetic),
        "n_handwritten": len(handwritten),
        "styles": styles,
    }
    metrics = {k: v for k, v in results.items() if not k.startswith("_")}
    model.save(args.out / "model.json", trained_at=meta["trained_at"], seed=args.seed, metrics=metrics)
    (args.out / "CARD.md").write_text(_card(model, results, meta), encoding="utf-8")
    write_jsonl(TRAINING_DIR / "generated_sample.jsonl", synthetic[:200])
    write_jsonl(TRAINING_DIR / "handwritten_train.jsonl", handwritten)
    write_jsonl(TRAINING_DIR / "handwritten_dev.jsonl", read_marked(TRAINING_DIR / "handwritten_dev.txt"))
    write_jsonl(TRAINING_DIR / "heldout_handwritten.jsonl", read_marked(TRAINING_DIR / "heldout_handwritten.txt"))
    print(json.dumps(metrics, indent=1))
    if args.errors:
        for name, errs in results["_errors"].items():
            if name == "synthetic_heldout":
                errs = errs[:15]
            for ident, truth, got in errs:
                print(f"{name} {ident}: truth {truth} got {got}")
    print(f"wrote {args.out / 'model.json'} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
