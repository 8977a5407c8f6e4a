"""Configuration: TOML + environment, secret references, one clear error per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from intel.config import ImapSource, SecretRef, load_settings, parse_since
from intel.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "intel.toml"
    path.write_text(text, encoding="utf-8")
    return path


IMAP = """
[[source]]
name = "support"
type = "imap"
host = "imap.example.com"
username = "me@example.com"
password = "{password}"
"""


def test_embedded_default_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INTEL_CONFIG", raising=False)
    settings = load_settings()
    assert settings.storage.database == Path("data/intel.duckdb")
    assert [s.type for s in settings.sources] == ["demo"]
    assert settings.identity.addresses
    assert "embedded default" in settings.origin


def test_file_is_read_and_environment_overrides_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[storage]\ndatabase = "a.duckdb"\nbatch_size = 10\n')
    monkeypatch.setenv("INTEL_STORAGE__DATABASE", "b.duckdb")
    settings = load_settings(path)
    assert settings.storage.database == Path("b.duckdb")
    assert settings.storage.batch_size == 10
    assert settings.storage.snapshot_path == Path("b.snapshot.duckdb")


def test_db_option_overrides_everything(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[storage]\ndatabase = "a.duckdb"\n'), database=tmp_path / "c.duckdb")
    assert settings.storage.database == tmp_path / "c.duckdb"


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_literal_secret_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, IMAP.format(password="hunter2")))
    message = str(info.value)
    assert "source[0].password" in message
    assert 'password = "env:SUPPORT_PASSWORD"' in message
    assert "hunter2" not in message
    assert "\n" not in message


def test_secret_references_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text("s3cret\n")
    monkeypatch.setenv("SUPPORT_IMAP_PASSWORD", "from-env")
    env_settings = load_settings(write(tmp_path, IMAP.format(password="env:SUPPORT_IMAP_PASSWORD")))
    source = env_settings.sources[0]
    assert isinstance(source, ImapSource) and source.password is not None
    assert source.password.resolve().get_secret_value() == "from-env"
    assert "from-env" not in repr(source.password.resolve())
    file_settings = load_settings(write(tmp_path, IMAP.format(password=f"file:{secret_file}")))
    assert file_settings.sources[0].password.resolve().get_secret_value() == "s3cret"


def test_missing_secret_names_the_reference_not_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE is not set"):
        SecretRef("env:NOT_SET_ANYWHERE").resolve()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[storage]\ndatabse = "x"\n', "unknown key 'storage.databse'"),
        ("[strage]\n", "unknown key 'strage'"),
        ('[storage]\nbatch_size = "many"\n', "storage.batch_size"),
        ('[[source]]\nname = "a"\ntype = "imap"\nhost = "h"\nusername = "u"\nport = "abc"\n', "source[0].port"),
        ('[[source]]\nname = "a"\ntype = "carrier-pigeon"\n', "unknown source type"),
        ('[[source]]\nname = "a"\ntype = "mbox"\n', "missing required key 'source[0].path'"),
        ('[[source]]\nname = "a"\ntype = "mbox"\npath = "x"\nsince = "soon"\n', "source[0].since"),
        (
            '[[source]]\nname = "a"\ntype = "mbox"\npath = "x"\n[[source]]\nname = "a"\ntype = "eml"\npath = "y"\n',
            "unique",
        ),
        ("[storage\n", "not valid TOML"),
        ('[reports]\ntimezone = "Mars/Olympus"\n', "reports.timezone: 'Mars/Olympus' is not an IANA time zone"),
        ('[reports]\nwork_start = "18:00"\nwork_end = "09:00"\n', "work_end 09:00 must be later"),
        ('[reports]\nwork_start = "9am"\n', "reports.work_start"),
        ("[reports]\nwork_days = [0, 8]\n", "work_days must be distinct ISO weekdays"),
        ('[schedule]\ncron = "every hour"\n', "not a five-field cron expression"),
        ("[alerts]\nnegative_streak = -1\n", "alerts.negative_streak"),
        ('[enrich]\ntask_runner = "spark"\n', "enrich.task_runner"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
    assert str(tmp_path / "intel.toml") in str(info.value)


def test_insecure_needs_explicit_opt_in(tmp_path: Path) -> None:
    text = IMAP.format(password="env:X") + 'security = "none"\n'
    with pytest.raises(ConfigError, match="allow_insecure"):
        load_settings(write(tmp_path, text))
    assert load_settings(write(tmp_path, text + "allow_insecure = true\n")).sources[0].security == "none"


def test_since_values() -> None:
    from datetime import date

    today = date(2026, 11, 21)
    assert parse_since("all", today) is None
    assert parse_since("6m", today) == date(2026, 5, 21)
    assert parse_since("1y", today) == date(2025, 11, 21)
    assert parse_since("2y", today) == date(2024, 11, 21)
    assert parse_since("30d", today) == date(2026, 10, 22)
    assert parse_since("2026-01-15", today) == date(2026, 1, 15)
    with pytest.raises(ValueError):
        parse_since("yesterday", today)


def test_report_alert_and_schedule_sections(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[reports]\ntimezone = "America/New_York"\nwork_start = "08:30"\nwork_days = [5, 1, 2]\n'
        "[alerts]\nnegative_streak = 4\ncomplaint_unanswered_hours = 0\n"
        '[schedule]\ncron = "*/15 * * * *"\n[enrich]\nbatch_size = 64\n',
    )
    settings = load_settings(path)
    assert (settings.reports.timezone, settings.reports.work_start, settings.reports.work_days) == (
        "America/New_York",
        "08:30",
        [1, 2, 5],
    )
    assert (settings.alerts.negative_streak, settings.alerts.complaint_unanswered_hours) == (4, 0)
    assert settings.schedule.cron == "*/15 * * * *" and settings.enrich.batch_size == 64
