"""`intel predict TASK --input IN.jsonl --output OUT.jsonl`: batch scoring without a database.

Input lines: ``{"id": str, "text": str, "sender": str?, "subject": str?, "sent_at": ISO 8601?}``.
One output line per valid input line, in input order (see DESIGN.md "predict JSONL"). Lines that
are not valid JSON objects of that shape are reported on stderr by line number and skipped; when
no line is valid the command fails.

Tasks are registered in `PREDICTORS` (name -> factory of a `Predictor`), so other models
(sentiment, intent, emotion) plug in with `register_predictor` without touching the command.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any, Protocol

import typer

from intel.errors import IntelError

__all__ = ["PREDICTORS", "InputRow", "Predictor", "predict_command", "read_rows", "register_predictor"]


@dataclass(frozen=True)
class InputRow:
    line: int  # 1-based line number in the input
    id: str
    text: str
    sender: str | None
    subject: str | None
    sent_at: datetime | None


class Predictor(Protocol):
    def predict(self, rows: Sequence[InputRow]) -> list[dict[str, Any]]:
        """One output object per row, in order (without "id": the command adds it)."""
        ...


PREDICTORS: dict[str, Callable[[], Predictor]] = {}


def register_predictor(task: str, factory: Callable[[], Predictor]) -> None:
    PREDICTORS[task] = factory


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def _row(number: int, raw: str) -> InputRow:
    from intel.nlp.timeparse import parse_reference

    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    ident = obj.get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if not isinstance(ident, str):
        raise ValueError('"id" must be a string')
    text = obj.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    for key in ("sender", "subject", "sent_at"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise ValueError(f'"{key}" must be a string or null')
    try:
        sent_at = parse_reference(obj.get("sent_at"))
    except ValueError:
        raise ValueError(f'"sent_at" is not an ISO 8601 date-time: {obj["sent_at"]!r}') from None
    return InputRow(number, ident, text, obj.get("sender"), obj.get("subject"), sent_at)


def read_rows(stream: IO[str]) -> Iterator[InputRow | tuple[int, str]]:
    """Valid rows, and (line number, reason) for the invalid ones; blank lines are ignored."""
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            yield _row(number, raw)
        except ValueError as exc:
            yield number, str(exc)


# --------------------------------------------------------------------------------------------
# The signature and activity tasks
# --------------------------------------------------------------------------------------------


_EMPTY_CONTACT: dict[str, Any] = {
    "name": None,
    "title": None,
    "company": None,
    "phones": [],
    "emails": [],
    "websites": [],
    "address": None,
    "social": [],
    "phone_types": {},
}


class _SignaturePredictor:
    def __init__(self) -> None:
        from intel.nlp.extract import Extractor

        self.extractor = Extractor().load()

    def predict(self, rows: Sequence[InputRow]) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            result, contact = self.extractor.signature(row.text, row.sender, sent_at=row.sent_at)
            out.append(
                {
                    "signature": result.text,
                    "lines": result.lines,
                    "contact": contact.to_json() if contact is not None else dict(_EMPTY_CONTACT),
                    "confidence": result.confidence,
                    "model": self.extractor.signature_version,
                }
            )
        return out


class _ActivityPredictor:
    def __init__(self) -> None:
        from intel.nlp.extract import Extractor

        self.extractor = Extractor().load()

    def predict(self, rows: Sequence[InputRow]) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            found = self.extractor.activities_of(row.text, sender=row.sender, sent_at=row.sent_at)
            out.append({"activities": [a.to_json() for a in found], "model": self.extractor.activity_version})
        return out


register_predictor("signature", _SignaturePredictor)
register_predictor("activity", _ActivityPredictor)


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def _open_in(path: Path) -> IO[str]:
    if str(path) == "-":
        return sys.stdin
    try:
        return path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise IntelError(f"cannot read {path}: {exc.strerror}") from None


def predict_command(
    task: Annotated[str, typer.Argument(help="What to predict: sentiment, intent, emotion, signature or activity.")],
    input: Annotated[Path, typer.Option("--input", "-i", help="JSONL input ('-' for stdin).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL output ('-' for stdout).")],
    batch_size: Annotated[int, typer.Option(help="Rows scored per batch.", min=1)] = 256,
) -> None:
    """Score a JSONL file of emails without a database (one output line per valid input line)."""
    factory = PREDICTORS.get(task)
    if factory is None:
        raise IntelError(f"unknown task '{task}': choose one of {', '.join(sorted(PREDICTORS))}")
    stream = _open_in(input)
    predictor = factory()
    written = 0
    bad = 0
    show_progress = sys.stderr.isatty()
    out: IO[str]
    if str(output) == "-":
        out = sys.stdout
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".part")
        out = tmp.open("w", encoding="utf-8")
    try:
        batch: list[InputRow] = []

        def flush() -> None:
            nonlocal written
            for row, result in zip(batch, predictor.predict(batch), strict=True):
                out.write(json.dumps({"id": row.id, **result}, ensure_ascii=False) + "\n")
            written += len(batch)
            batch.clear()
            if show_progress:
                sys.stderr.write(f"\r{task}: {written} rows")
                sys.stderr.flush()

        for item in read_rows(stream):
            if isinstance(item, InputRow):
                batch.append(item)
                if len(batch) >= batch_size:
                    flush()
            else:
                bad += 1
                typer.echo(f"intel: {input}: line {item[0]}: {item[1]}; skipped", err=True)
        if batch:
            flush()
    finally:
        if stream is not sys.stdin:
            stream.close()
        if out is not sys.stdout:
            out.close()
    if show_progress:
        sys.stderr.write("\n")
    if bad and not written:
        if str(output) != "-":
            tmp.unlink(missing_ok=True)
        raise IntelError(f"{input}: no valid input line ({bad} invalid)")
    if str(output) != "-":
        tmp.replace(output)
    if bad:
        typer.echo(f"intel: {written} rows written to {output}, {bad} invalid lines skipped", err=True)
