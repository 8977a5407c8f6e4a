"""No secret anywhere: an IMAP password and Zoho OAuth secrets through syncs, failures and the CLI.

A real Dovecot mailbox (password by ``env:NAME``) and the fake Zoho (client secret by
``env:NAME``; two users, one with an encrypted token file, one with a plain one) are synced in
this process with every logger at DEBUG, with a wrong password and a wrong client secret too,
then enriched and reported; then `intel config`, `intel -v sync` (right and wrong password) and
`intel -v run` run as subprocesses whose Prefect home is in the same directory. Every output,
log record, error message, report file, database (bytes and contents), snapshot and every
other file under that directory is searched for every secret. The one exception is the plain
token file, which by design holds its user's tokens: it must be mode 0600 and the only place.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from intel import pipeline
from intel.auth.stores import generate_key
from intel.auth.zoho import oauth_for_source
from intel.config import Settings, load_settings
from intel.enrich import enrich
from intel.errors import AuthError, IntelError
from tests.fakes.zoho_server import FakeZoho
from tests.hardening.helpers import write_config
from tests.integration.conftest import Mailbox, make_message

pytestmark = pytest.mark.slow

SECRET_ENV = "INTEL_HARDEN_ZOHO_SECRET"
KEY_ENV = "INTEL_HARDEN_TOKEN_KEY"
WRONG_PASSWORD = "wr0ng-Passw0rd-for-the-test"
WRONG_CLIENT_SECRET = "not-the-client-secret-0123456789"


@dataclass
class Scene:
    root: Path
    config: Path
    mailbox: Mailbox
    fake: FakeZoho
    client: tuple[str, str]
    key: str
    texts: list[str] = field(default_factory=list)  # outputs, log lines, error messages

    def settings(self) -> Settings:
        return load_settings(self.config)

    def secrets(self) -> dict[str, str]:
        found = {
            "imap password": self.mailbox.password,
            "wrong imap password": WRONG_PASSWORD,
            "client secret": self.client[1],
            "wrong client secret": WRONG_CLIENT_SECRET,
            "token encryption key": self.key,
        }
        for n, secret in enumerate(self.fake.issued_secrets()):
            found.setdefault(f"zoho secret {n}", secret)  # codes, refresh and access tokens
        return found

    def environment(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "PREFECT_HOME": str(self.root / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            **extra,
        }

    def intel(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "intel.cli", "--config", str(self.config), *args],
            cwd=self.root,
            env=self.environment(**env),
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.texts += [done.stdout, done.stderr]
        return done


def _plain_token_file(root: Path) -> Path:
    return root / "tokens" / "plain.json"


@pytest.fixture
def scene(tmp_path: Path, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scene]:
    for n in range(4):
        mailbox.add("INBOX", make_message(n, sender="customer@example.org", to="me@example.com"))
    mailbox.add("Sent", make_message(10, sender="me@example.com", to="customer@example.org"))
    with FakeZoho() as fake:
        client = fake.add_client()
        key = generate_key()
        monkeypatch.setenv(SECRET_ENV, client[1])
        monkeypatch.setenv(KEY_ENV, key)
        for user in ("zed@example.com", "pam@example.com"):
            account = fake.add_account(user)
            for n in range(3):
                raw = make_message(100 + n, subject=f"zoho {user} {n}", sender="client@example.net", to=user)
                fake.add_message(account, "Inbox", raw, datetime(2025, 3, 3, 8 + n, tzinfo=UTC))

        def zoho(name: str, user: str, **extra: Any) -> dict[str, Any]:
            return {
                "name": name,
                "type": "zoho",
                "data_center": "eu",
                "client_id": client[0],
                "client_secret": f"env:{SECRET_ENV}",
                "user": user,
                "accounts_url": fake.url,
                "mail_url": fake.url,
                "retries": 1,
                "retry_backoff": 0.01,
                "timeout": 10,
                **extra,
            }

        plain = _plain_token_file(tmp_path)
        imap = mailbox.source(name="imap")
        imap["ca_file"] = str(imap["ca_file"])
        config = write_config(
            tmp_path / "intel.toml",
            {
                "storage": {"database": str(tmp_path / "db" / "intel.duckdb"), "parse_workers": 1},
                "identity": {"addresses": ["me@example.com", "zed@example.com", "pam@example.com"]},
                "reports": {"out": str(tmp_path / "report")},
                "token_store": {
                    "type": "file",
                    "path": str(tmp_path / "tokens" / "encrypted.json"),
                    "encryption_key": f"env:{KEY_ENV}",
                },
            },
            [
                imap,
                zoho("zoho", "zed@example.com"),
                zoho(
                    "zoho-plain",
                    "pam@example.com",
                    token_store={"type": "file", "path": str(plain)},
                ),
            ],
        )
        scene = Scene(tmp_path, config, mailbox, fake, client, key)
        settings = scene.settings()
        for name, user in (("zoho", "zed@example.com"), ("zoho-plain", "pam@example.com")):
            with oauth_for_source(settings.source(name)) as oauth:
                oauth.exchange_code(fake.grant_code(client[0], user))
        yield scene


def _sync_in_process(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = scene.settings()
    for name in ("imap", "zoho", "zoho-plain"):
        assert pipeline.sync_source(settings, name).error is None
    # A wrong IMAP password, then a wrong client secret when the access token has to be refreshed.
    monkeypatch.setenv(scene.mailbox.password_env, WRONG_PASSWORD)
    with pytest.raises(AuthError) as refused:
        pipeline.sync_source(settings, "imap")
    scene.texts.append(str(refused.value))
    monkeypatch.setenv(scene.mailbox.password_env, scene.mailbox.password)
    scene.fake.expire_access_tokens()
    monkeypatch.setenv(SECRET_ENV, WRONG_CLIENT_SECRET)
    with pytest.raises(IntelError) as rejected:
        pipeline.sync_source(settings, "zoho")
    scene.texts.append(str(rejected.value))
    monkeypatch.setenv(SECRET_ENV, scene.client[1])
    assert pipeline.sync_source(settings, "zoho").error is None  # refreshed with the right secret
    pipeline.thread_messages(settings)
    pipeline.extract_contacts_and_activities(settings)
    enrich(settings)
    pipeline.raise_alerts(settings)
    pipeline.publish(settings)
    pipeline.report(settings)


def _database_rows(path: Path) -> Iterator[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        for table in tables:
            rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
            for row in rows:
                yield repr(row)


def _parquet_rows(path: Path) -> Iterator[str]:
    yield repr(pq.read_table(path).to_pylist())


def test_no_secret_appears_anywhere(
    scene: Scene, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _sync_in_process(scene, monkeypatch)

    shown = scene.intel("config")
    assert shown.returncode == 0, shown.stderr
    assert f"env:{scene.mailbox.password_env}" in shown.stdout and f"env:{SECRET_ENV}" in shown.stdout
    synced = scene.intel("-v", "sync")
    assert synced.returncode == 0, synced.stderr
    assert "source imap: 0 messages read, 0 new" in synced.stdout  # the in-process sync took them all
    failed = scene.intel("-v", "sync", "--source", "imap", **{scene.mailbox.password_env: WRONG_PASSWORD})
    assert failed.returncode == 1
    assert "refused the login" in failed.stderr
    ran = scene.intel("-v", "run")
    assert ran.returncode == 0, ran.stderr
    assert "report:" in ran.stdout

    records = [r.getMessage() for r in caplog.records]
    records += [logging.Formatter().formatException(r.exc_info) for r in caplog.records if r.exc_info]
    assert len(records) > 10  # the pipeline did log, at DEBUG
    texts = scene.texts + records
    secrets = scene.secrets()
    assert len(secrets) >= 9  # two refresh tokens, several access tokens, two grant codes, ...

    plain = _plain_token_file(scene.root)
    files = [p for p in scene.root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".duckdb" for p in files) and any(p.name == "report.html" for p in files)
    assert any(p.suffix == ".parquet" for p in files) and any("prefect" in p.parts for p in files)
    leaks: list[str] = []
    for label, secret in secrets.items():
        for n, text in enumerate(texts):
            if secret in text:
                leaks.append(f"{label} in output or log #{n}")
        for path in files:
            if path == plain:
                continue
            if secret.encode() in path.read_bytes():
                leaks.append(f"{label} in {path.relative_to(scene.root)}")
    # Contents as well as bytes: DuckDB and Parquet compress strings.
    for path in files:
        if path.suffix == ".duckdb":
            contents = "\n".join(_database_rows(path))
        elif path.suffix == ".parquet":
            contents = "\n".join(_parquet_rows(path))
        else:
            continue
        leaks += [
            f"{label} in the rows of {path.relative_to(scene.root)}" for label, s in secrets.items() if s in contents
        ]
    assert leaks == []


def test_token_files_are_private_and_only_the_plain_one_holds_tokens(scene: Scene) -> None:
    settings = scene.settings()
    assert pipeline.sync_source(settings, "zoho").error is None
    assert pipeline.sync_source(settings, "zoho-plain").error is None
    encrypted = scene.root / "tokens" / "encrypted.json"
    plain = _plain_token_file(scene.root)
    for path in (encrypted, plain):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    refresh_tokens = list(scene.fake.refresh_tokens)
    pam = [token for token, (_client, user, _revoked) in scene.fake.refresh_tokens.items() if user == "pam@example.com"]
    assert len(refresh_tokens) == 2 and len(pam) == 1
    assert pam[0].encode() in plain.read_bytes()  # the plain store holds it, by design ...
    for token in refresh_tokens:
        assert token.encode() not in encrypted.read_bytes()  # ... the encrypted one holds none
