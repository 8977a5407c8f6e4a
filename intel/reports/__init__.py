"""Communication metrics (SQL views), alerts and the HTML / CSV / Parquet reports."""
