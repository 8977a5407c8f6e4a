"""email-intel: email intelligence pipeline into DuckDB."""

__version__ = "0.1.0"
