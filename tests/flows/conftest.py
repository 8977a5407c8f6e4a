"""One Prefect test harness (a temporary local API) for the flow tests: it costs seconds to start.

It is package-scoped, not session-scoped, so it stops when tests/flows is done. While it runs, the
events client's websocket sends a keepalive ping every ~20 s whose payload comes from the global
`random` module, in a background thread; hypothesis tests elsewhere then saw the random state change
mid-draw and warned about `random` inside a strategy that uses none.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="package")
def prefect_harness() -> Iterator[None]:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield
