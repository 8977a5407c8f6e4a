"""The classifier side of the CLI: `intel train [TASK]` and the sentiment / intent / emotion tasks of
`intel predict` (registered through `intel.cli_predict.register_predictor`).

`intel predict` passes whole bodies; what the encoder sees is the new text (quotes and the
signature removed with `intel.parse`) plus the subject, exactly as the enrichment stage does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from intel.cli_predict import InputRow, register_predictor
from intel.errors import IntelError

__all__ = ["ClassifierPredictor", "new_text_of", "train_command"]

_TASKS = ("sentiment", "intent", "emotion")


def new_text_of(text: str, sender: str | None = None) -> str:
    """The part of a whole email body worth classifying: no quoted history, no signature."""
    from intel.parse.quotes import split_reply
    from intel.parse.signature import split_signature

    new, _ = split_reply(text)
    name = (sender or "").split("<", 1)[0].strip().strip('"')
    body, _ = split_signature(new, name)
    return body or new or text.strip()


def _settings() -> Any:
    # The global --config / --db options live in intel.cli; read them when the command runs.
    from intel.cli import _state
    from intel.config import load_settings

    return load_settings(_state.config)


class ClassifierPredictor:
    """`intel predict sentiment|intent|emotion`: one shared `Classifier`, one task's rows."""

    def __init__(self, task: str) -> None:
        from intel.nlp.heads import Classifier

        self.task = task
        self.classifier = Classifier(_settings().models, tasks=(task,)).load()
        self.model = self.classifier.model_names()[task]

    def predict(self, rows: Sequence[InputRow]) -> list[dict[str, Any]]:
        items = [(r.subject, new_text_of(r.text, r.sender)) for r in rows]
        return [{**res[self.task], "model": self.model} for res in self.classifier.predict(items)]


for _task in _TASKS:
    register_predictor(_task, lambda task=_task: ClassifierPredictor(task))  # type: ignore[misc]


def train_command(
    task: Annotated[str | None, typer.Argument(help="sentiment, intent or emotion (default: all three).")] = None,
    mode: Annotated[
        str,
        typer.Option(
            help="finetune: LoRA-tune the encoder, then fit heads; heads: refit heads on the current "
            "adapter; frozen: heads on the plain encoder."
        ),
    ] = "finetune",
    steps: Annotated[
        int | None, typer.Option(help="Fine-tuning steps (batches of 32); default: TrainConfig.steps.", min=0)
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (training is deterministic for a seed).")] = 13,
    calibrate: Annotated[
        bool,
        typer.Option(
            help="Hold 15% of the training data out for calibration and choose C and per-class bias offsets of "
            "the sentiment and emotion heads on it (--no-calibrate: fit on all training rows, C=1 unless --c)."
        ),
    ] = True,
    calibrate_intent: Annotated[
        bool,
        typer.Option(
            help="Calibrate the intent head too (sentence-level ask F1 + 5-way macro-F1 on our emails); off by "
            "default because it did not help on validation."
        ),
    ] = False,
    c: Annotated[
        float | None,
        typer.Option("--c", help="Fix the logistic-regression C (default: chosen on the calibration split)."),
    ] = None,
    data: Annotated[Path | None, typer.Option(help="Training data directory (default ../shared/data).")] = None,
    out: Annotated[Path | None, typer.Option(help="Output directory (default models/classifiers).")] = None,
) -> None:
    """Train the sentiment, intent and emotion heads (and the shared encoder's LoRA adapter).

    The sentiment and emotion heads are calibrated by default: fitted on the training rows, then C
    and per-class bias offsets are chosen on a calibration split carved out of the training data
    (never on validation).
    """
    import sys

    from intel.nlp.train import TrainConfig, train, write_card

    if task is not None and task not in _TASKS:
        raise IntelError(f"unknown task '{task}': choose one of {', '.join(_TASKS)}")
    if task is not None and mode == "finetune":
        raise IntelError("fine-tuning trains all three tasks together; use --mode heads to refit one head")
    if c is not None and c <= 0:
        raise IntelError(f"--c must be positive, got {c}")
    settings = _settings()
    cfg = TrainConfig(seed=seed, mode=mode, threads=settings.models.threads, calibrate=calibrate, c=c)
    if steps is not None:
        cfg.steps = steps
    if calibrate_intent:
        cfg.calibrate_tasks = (*cfg.calibrate_tasks, "intent")

    def progress(message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    metrics = train([task] if task else _TASKS, out_dir=out, cfg=cfg, data_dir=data, progress=progress)
    card = write_card(metrics, out)
    for name, res in metrics["results"].items():
        typer.echo(f"{name}: {res}")
    typer.echo(f"model card: {card}")
