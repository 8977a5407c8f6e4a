"""The hardening tests reuse the integration suite's real Dovecot (one per session)."""

from tests.integration.conftest import dovecot, mailbox

__all__ = ["dovecot", "mailbox"]
