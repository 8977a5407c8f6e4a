"""What every flow takes as parameters: where the configuration is (never secrets or settings).

Flows load their settings themselves from these, so a deployment's stored parameters are two
paths, and a changed ``intel.toml`` applies to the next scheduled run.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from intel.config import Settings, load_settings

__all__ = ["RunParams"]


class RunParams(BaseModel):
    """Flow parameters: the config file and an optional database override."""

    config: str | None = None
    database: str | None = None

    def settings(self) -> Settings:
        return load_settings(
            Path(self.config) if self.config else None,
            database=Path(self.database) if self.database else None,
        )
