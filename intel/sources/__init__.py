"""Mail sources: each yields raw messages in batches, with the cursor values each batch reaches."""

from intel.sources.base import Batch, BatchBuilder, MailSource, RawMessage, SourceState

__all__ = ["Batch", "BatchBuilder", "MailSource", "RawMessage", "SourceState"]
