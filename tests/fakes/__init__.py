"""Fake servers for tests: stand-ins for services the tests cannot reach."""
