"""Everything that touches DuckDB lives in this package."""

from intel.store.db import Store, open_store, writer_lock
from intel.store.publish import open_snapshot, publish_snapshot

__all__ = ["Store", "open_snapshot", "open_store", "publish_snapshot", "writer_lock"]
