"""Test-suite settings shared by every test package."""

from __future__ import annotations

import os

from hypothesis import settings

# In CI the property tests replay a fixed set of examples (derandomized), so a red build always
# reproduces; locally they explore new examples on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
