"""Settings: `intel.toml` plus `INTEL_*` environment variables, validated with pydantic-settings.

Precedence, highest first: environment variables (``INTEL_STORAGE__DATABASE=...``, nested keys
joined by ``__``; lists as JSON), then the TOML file, then the defaults here. With no file at
all the embedded default applies: DuckDB at ``data/intel.duckdb`` and the generated demo
mailbox. Secrets are never written in the file: a secret field holds a reference, ``env:NAME``
or ``file:PATH``, resolved only when a connection is made.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from intel.errors import ConfigError
from intel.parse.folders import ROLES

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "AlertSettings",
    "DemoSource",
    "EmlSource",
    "EnrichSettings",
    "ImapSource",
    "MaildirSource",
    "MboxSource",
    "ModelsSettings",
    "Pop3Source",
    "ReportSettings",
    "ScheduleSettings",
    "SecretRef",
    "Settings",
    "SourceConfig",
    "TokenStoreSettings",
    "ZohoSource",
    "load_settings",
    "parse_since",
]

DEFAULT_CONFIG_PATH = Path("intel.toml")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SINCE = re.compile(r"^(?:all|(\d+)([dwmy])|\d{4}-\d{2}-\d{2})$")


class SecretRef(str):
    """A reference to a secret: ``env:NAME`` or ``file:PATH``. The reference is not secret."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(), serialization=core_schema.to_string_ser_schema()
        )

    def resolve(self) -> SecretStr:
        """Read the secret now. Raises ConfigError (naming the reference, not the value)."""
        kind, _, target = self.partition(":")
        if kind == "env":
            value = os.environ.get(target)
            if value is None:
                raise ConfigError(f"secret {self}: environment variable {target} is not set")
            return SecretStr(value)
        path = Path(target).expanduser()
        try:
            return SecretStr(path.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ConfigError(f"secret {self}: cannot read {path}: {exc.strerror}") from None


def _secret_ref(value: object, info: Any) -> SecretRef | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError('must be a secret reference string such as "env:NAME"')
    kind, sep, target = value.partition(":")
    if sep and kind in ("env", "file") and target:
        if kind == "env" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", target):
            raise ValueError(f'"{value}" is not a valid environment variable reference')
        return SecretRef(value)
    field = info.field_name
    suggestion = re.sub(r"[^A-Z0-9]+", "_", f"{info.data.get('name', 'intel')}_{field}".upper()).strip("_")
    raise ValueError(
        f"a literal secret is not allowed here; put it in the environment and write "
        f'{field} = "env:{suggestion}" (or "file:/path/to/secret")'
    )


def parse_since(value: str, today: date | None = None) -> date | None:
    """The first day of a sync window: ``6m``, ``1y``, ``2y``, ``30d``, ``2w``, ``all`` (None) or a date."""
    if value == "all":
        return None
    today = today or datetime.now(UTC).date()
    match = _SINCE.match(value)
    if match is None:
        raise ValueError(f'since = "{value}" is not one of all, 30d, 6w, 6m, 1y, YYYY-MM-DD')
    if match.group(1):
        amount, unit = int(match.group(1)), match.group(2)
        if unit == "d":
            return today - timedelta(days=amount)
        if unit == "w":
            return today - timedelta(weeks=amount)
        months = amount * (12 if unit == "y" else 1)
        year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
        day = min(today.day, 28)
        return date(year, month + 1, day)
    return date.fromisoformat(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SourceBase(_Strict):
    name: str
    enabled: bool = True
    since: str = "all"
    folders: list[str] | None = None
    exclude_folders: list[str] = Field(default_factory=list)
    folder_roles: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits, '.', '_' or '-' (at most 64 characters)")
        return value

    @field_validator("since")
    @classmethod
    def _check_since(cls, value: str) -> str:
        parse_since(value)
        return value

    @field_validator("folder_roles")
    @classmethod
    def _check_roles(cls, value: dict[str, str]) -> dict[str, str]:
        for folder, role in value.items():
            if role not in ROLES:
                raise ValueError(f"folder '{folder}': role '{role}' is not one of {', '.join(ROLES)}")
        return value


class MboxSource(_SourceBase):
    """An mbox file, a directory of mbox files, or a glob pattern of them."""

    type: Literal["mbox"]
    path: str


class MaildirSource(_SourceBase):
    """A Maildir or Maildir++ tree (subfolders as ``.Name`` directories)."""

    type: Literal["maildir"]
    path: Path


class EmlSource(_SourceBase):
    """A directory of ``.eml`` files; subdirectories are folders."""

    type: Literal["eml"]
    path: Path


class DemoSource(_SourceBase):
    """The generated demo mailbox, written as a Maildir under `path` and read from there."""

    type: Literal["demo"]
    path: Path = Path("data/demo/maildir")


class _ServerSource(_SourceBase):
    """What IMAP and POP3 sources share: where the server is, how to secure and log in, retries."""

    host: str
    port: int | None = Field(default=None, ge=1, le=65535)  # default: by protocol and security
    security: Literal["ssl", "starttls", "none"] = "ssl"
    allow_insecure: bool = False
    ca_file: Path | None = None
    username: str
    password: SecretRef | None = None
    auth: Literal["password", "xoauth2"] = "password"
    # XOAUTH2 only: "package.module:factory", called with this source's config, returning an
    # object with access_token() and invalidate() (see intel.sources.tokens). Without it the
    # access token is read from `password` (a secret reference) on every connection.
    token_provider: str | None = None
    timeout: float = Field(default=30.0, gt=0)  # seconds, for connecting and for every read
    retries: int = Field(default=3, ge=0, le=20)  # in-process retries of transient faults
    retry_backoff: float = Field(default=2.0, ge=0)  # first delay in seconds; doubles per retry

    _secret = field_validator("password", mode="before")(_secret_ref)

    @field_validator("token_provider")
    @classmethod
    def _check_token_provider(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", value):
            raise ValueError(f'"{value}" is not of the form "package.module:factory"')
        return value

    @model_validator(mode="after")
    def _check_security(self) -> _ServerSource:
        if self.security == "none" and not self.allow_insecure:
            raise ValueError(
                f"source '{self.name}': security = \"none\" sends the password in clear; "
                'use "ssl" or "starttls", or set allow_insecure = true'
            )
        if self.auth == "password" and self.token_provider is not None:
            raise ValueError(f"source '{self.name}': token_provider is only used with auth = \"xoauth2\"")
        return self


class ImapSource(_ServerSource):
    """An IMAP mailbox, read-only (EXAMINE and BODY.PEEK), incremental per folder."""

    type: Literal["imap"]
    batch_size: int = Field(default=200, ge=1, le=5000)  # messages per UID FETCH command


class Pop3Source(_ServerSource):
    """A POP3 maildrop, read-only (never DELE); its cursor is the set of UIDLs already stored."""

    type: Literal["pop3"]


class TokenStoreSettings(_Strict):
    """Where OAuth tokens are kept (``[token_store]``; a Zoho source may have its own).

    ``file`` (JSON, 0600, default ``data/tokens.json``), ``duckdb`` (its own file, default
    ``data/tokens.duckdb``, never the pipeline's database), ``sqlite`` (default
    ``data/tokens.sqlite``), ``memory`` (this process only) or ``custom`` (``factory`` is a
    dotted path to a class or function, called with ``options`` as keyword arguments).
    With ``encryption_key`` (a secret reference to a Fernet key) tokens are encrypted at rest.
    """

    type: Literal["file", "duckdb", "sqlite", "memory", "custom"] = "file"
    path: Path | None = None
    factory: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    encryption_key: SecretRef | None = None
    lock_timeout: float = Field(default=60.0, gt=0)  # seconds to wait for another process's refresh

    _secret = field_validator("encryption_key", mode="before")(_secret_ref)

    @field_validator("factory")
    @classmethod
    def _check_factory(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][\w.]*[.:][A-Za-z_]\w*", value):
            raise ValueError(f'"{value}" is not a dotted path such as "package.module.TokenStore"')
        return value

    @model_validator(mode="after")
    def _check_custom(self) -> TokenStoreSettings:
        if self.type == "custom" and not self.factory:
            raise ValueError('type = "custom" needs factory = "package.module.TokenStore"')
        if self.type != "custom" and (self.factory or self.options):
            raise ValueError('factory and options are only used with type = "custom"')
        return self


class ZohoSource(_SourceBase):
    """Mailboxes read through the Zoho Mail REST API with an OAuth 2.0 token (see intel.sources.zoho)."""

    type: Literal["zoho"]
    data_center: str = "com"  # com | eu | in | com.au | jp | ca | sa | com.cn | uk
    client_id: str
    client_secret: SecretRef
    user: str  # whose token: the name it was stored under by `intel auth zoho`
    accounts: list[str] | None = None  # account ids or addresses; default: every account of the user
    accounts_url: str | None = None  # overrides the data center's accounts server (tests, proxies)
    mail_url: str | None = None  # overrides the data center's Mail API host
    token_store: TokenStoreSettings | None = None  # default: the top-level [token_store]
    page_size: int = Field(default=200, ge=1, le=200)  # messages per list request (Zoho allows 200)
    overlap_minutes: int = Field(default=60, ge=0)  # re-list this far behind the cursor
    timeout: float = Field(default=30.0, gt=0)
    retries: int = Field(default=5, ge=0, le=20)  # per request, for throttling, 5xx and network faults
    retry_backoff: float = Field(default=2.0, ge=0)  # first delay in seconds; doubles per retry
    retry_budget: int = Field(default=200, ge=0)  # retries allowed in one sync, over all requests

    _secret = field_validator("client_secret", mode="before")(_secret_ref)

    @field_validator("data_center")
    @classmethod
    def _check_data_center(cls, value: str) -> str:
        from intel.auth.zoho import data_center

        try:
            return data_center(value).name
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("accounts_url", "mail_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(?:/[^\s]*)?", value):
            raise ValueError(f'"{value}" is not an http(s) URL')
        return value.rstrip("/") if value else value


SourceConfig = Annotated[
    MboxSource | MaildirSource | EmlSource | DemoSource | ImapSource | Pop3Source | ZohoSource,
    Field(discriminator="type"),
]
# The `type` tags of every source model, in declaration order (for error messages).
SOURCE_TYPES: tuple[str, ...] = tuple(
    get_args(model.model_fields["type"].annotation)[0] for model in get_args(get_args(SourceConfig)[0])
)


class StorageSettings(_Strict):
    database: Path = Path("data/intel.duckdb")
    snapshot: Path | None = None  # default: <database stem>.snapshot.duckdb beside it
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    parse_workers: int = Field(default=0, ge=0, le=64)  # 0: one per available core
    # DuckDB's own default is 80% of RAM, which it fills with cached blocks as the file grows;
    # a limit keeps a long import's memory flat (DuckDB spills to disk beyond it).
    memory_limit: str = Field(default="256MB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    # How much write-ahead log builds up before DuckDB checkpoints; larger means fewer
    # checkpoints during a big import (every run ends with a checkpoint anyway).
    checkpoint_threshold: str = Field(default="1GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")

    @property
    def snapshot_path(self) -> Path:
        if self.snapshot is not None:
            return self.snapshot
        return self.database.with_name(self.database.stem + ".snapshot" + self.database.suffix)


class IdentitySettings(_Strict):
    addresses: list[str] = Field(default_factory=list)


class TaskModelSettings(_Strict):
    """Which model answers one task: the trained head (``default``) or ``transformers:<id or path>``."""

    backend: str = Field(default="default", pattern=r"^(default|transformers:.+)$")
    labels: dict[str, str] = Field(default_factory=dict)  # model label -> project label (transformers only)


class CustomIntentSettings(_Strict):
    """A custom intent: a name and a handful of example sentences; matched without retraining."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    examples: list[str] = Field(min_length=1)
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)  # cosine; default: calibrated


class ModelsSettings(_Strict):
    """``[models]``: the shared encoder's resources and each classifier task's backend."""

    threads: int = Field(default=2, ge=1, le=64)  # torch intra-op threads
    bf16: Literal["auto", "on", "off"] = "auto"  # auto: only where the CPU has bf16 and the probe passes
    max_length: int = Field(default=128, ge=16, le=512)  # encoder tokens per message (intent also reads every sentence)
    directory: Path | None = None  # trained heads; default: models/classifiers of the repository
    sentiment: TaskModelSettings = Field(default_factory=TaskModelSettings)
    intent: TaskModelSettings = Field(default_factory=TaskModelSettings)
    emotion: TaskModelSettings = Field(default_factory=TaskModelSettings)
    custom_intents: list[CustomIntentSettings] = Field(default_factory=list, alias="custom_intent")

    @field_validator("custom_intents")
    @classmethod
    def _unique_intents(cls, value: list[CustomIntentSettings]) -> list[CustomIntentSettings]:
        builtin = {"request", "query", "complaint", "purchase_inquiry", "other"}
        names = [c.name for c in value]
        clash = sorted({n for n in names if names.count(n) > 1 or n in builtin})
        if clash:
            raise ValueError(f"custom intent names must be unique and not built-in intents: {', '.join(clash)}")
        return value

    def task(self, name: str) -> TaskModelSettings:
        return {"sentiment": self.sentiment, "intent": self.intent, "emotion": self.emotion}[name]


_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


def _check_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not an IANA time zone (e.g. Europe/London, America/New_York, UTC)") from None
    return value


class EnrichSettings(_Strict):
    """``[enrich]``: how sentiment, intent and emotion are scored over stored messages."""

    batch_size: int = Field(default=256, ge=1, le=10_000)  # messages per classifier batch (and per task)
    # default: batches run in the flow's process; dask: on a Dask cluster through prefect-dask
    task_runner: Literal["default", "dask"] = "default"
    dask_address: str | None = None  # scheduler of an existing cluster; None starts a local one
    dask_workers: int = Field(default=2, ge=1, le=256)  # workers of the local cluster
    dask_threads_per_worker: int = Field(default=1, ge=1, le=64)


class ReportSettings(_Strict):
    """``[reports]``: the working week that business-hours metrics count, and where reports go."""

    timezone: str = "UTC"  # IANA name; business hours and hour/weekday views use this zone
    work_start: str = Field(default="09:00", pattern=_HHMM)
    work_end: str = Field(default="17:00", pattern=_HHMM)
    work_days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])  # ISO weekdays, 1 = Monday
    out: Path = Path("data/reports")  # `intel report` writes report.html, csv/ and parquet/ here
    top: int = Field(default=20, ge=1, le=1000)  # rows in "top" tables of the HTML report

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("work_days")
    @classmethod
    def _check_days(cls, value: list[int]) -> list[int]:
        if not value or any(d < 1 or d > 7 for d in value) or len(set(value)) != len(value):
            raise ValueError("work_days must be distinct ISO weekdays 1 (Monday) to 7 (Sunday)")
        return sorted(value)

    @model_validator(mode="after")
    def _check_hours(self) -> ReportSettings:
        if self.work_end <= self.work_start:
            raise ValueError(f"work_end {self.work_end} must be later than work_start {self.work_start}")
        return self


class AlertSettings(_Strict):
    """``[alerts]``: the rules that raise rows in `alerts` (0 turns a rule off)."""

    negative_streak: int = Field(default=3, ge=0, le=100)  # consecutive negative inbound mails, same sender
    domain_negative_streak: int = Field(default=0, ge=0, le=100)  # the same per organisation domain (0: off)
    complaint_unanswered_hours: float = Field(default=24.0, ge=0)  # a complaint with no reply after this long
    request_unanswered_hours: float = Field(default=72.0, ge=0)  # a request/query/purchase inquiry awaiting a reply
    lookback_days: int = Field(default=90, ge=1)  # only mail this recent (before the newest message) raises alerts


class ScheduleSettings(_Strict):
    """``[schedule]``: when `intel serve` runs the pipeline."""

    cron: str | None = "0 * * * *"  # five-field cron; None with interval_seconds instead
    interval_seconds: int | None = Field(default=None, ge=1)
    timezone: str = "UTC"
    name: str = "intel-scheduled"

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise ValueError(f'"{value}" is not a five-field cron expression (minute hour day month weekday)')
        return value


class Settings(BaseSettings):
    """Everything the pipeline reads from configuration."""

    model_config = SettingsConfigDict(
        env_prefix="INTEL_", env_nested_delimiter="__", extra="forbid", frozen=True, populate_by_name=True
    )
    # Where the settings came from, for messages; set by load_settings, not a config key.
    _origin: str = PrivateAttr(default="defaults")

    storage: StorageSettings = Field(default_factory=StorageSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    sources: list[SourceConfig] = Field(default_factory=list, alias="source")
    token_store: TokenStoreSettings = Field(default_factory=TokenStoreSettings)
    models: ModelsSettings = Field(default_factory=ModelsSettings)
    enrich: EnrichSettings = Field(default_factory=EnrichSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; environment variables override it.
        return (env_settings, init_settings)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: list[Any]) -> list[Any]:
        names = [s.name for s in value]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"source names must be unique; repeated: {', '.join(duplicated)}")
        return value

    @model_validator(mode="after")
    def _inherit_token_store(self) -> Settings:
        # A Zoho source without its own [source.token_store] uses the top-level [token_store].
        if any(isinstance(s, ZohoSource) and s.token_store is None for s in self.sources):
            self.__dict__["sources"] = [
                s.model_copy(update={"token_store": self.token_store})
                if isinstance(s, ZohoSource) and s.token_store is None
                else s
                for s in self.sources
            ]
        return self

    @property
    def origin(self) -> str:
        return self._origin

    def source(self, name: str) -> Any:
        for candidate in self.sources:
            if candidate.name == name:
                return candidate
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named '{name}' (configured: {known})")


def _embedded_default() -> dict[str, Any]:
    from intel.demo import DEMO_IDENTITY

    return {
        "identity": {"addresses": list(DEMO_IDENTITY)},
        "source": [{"name": "demo", "type": "demo"}],
        "reports": {"timezone": "Europe/London"},  # the demo company works from Bristol
    }


def _describe(error: dict[str, Any]) -> str:
    loc_parts: list[str] = []
    for part in error["loc"]:
        if isinstance(part, int):
            loc_parts[-1:] = [f"{loc_parts[-1]}[{part}]"] if loc_parts else [f"[{part}]"]
        elif part in SOURCE_TYPES and loc_parts and loc_parts[-1].endswith("]"):
            continue  # the discriminator tag pydantic adds to the path
        else:
            loc_parts.append(str(part))
    key = ".".join(loc_parts) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{key}'"
    if kind == "missing":
        return f"missing required key '{key}'"
    if kind == "union_tag_invalid":
        return f"{key}: unknown source type; expected one of {', '.join(SOURCE_TYPES)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if "input" in error and kind.endswith(("_type", "_parsing")) and not isinstance(error["input"], dict | list):
        message += f" (got {error['input']!r})"
    return f"{key}: {message}"


def load_settings(path: Path | None = None, *, database: Path | None = None) -> Settings:
    """Load settings from `path` (or ``INTEL_CONFIG``, or ``./intel.toml``) plus the environment.

    With no file at all the embedded default is used. Every problem is one ConfigError that
    names the file and the key.
    """
    explicit = path is not None or "INTEL_CONFIG" in os.environ
    config_path = Path(path or os.environ.get("INTEL_CONFIG") or DEFAULT_CONFIG_PATH)
    data: dict[str, Any]
    if config_path.is_file():
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_path}: cannot read: {exc}") from None
        origin = str(config_path)
    elif explicit:
        raise ConfigError(f"config file {config_path} does not exist")
    else:
        data = _embedded_default()
        origin = "embedded default (no intel.toml)"
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = _describe(dict(errors[0]))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{origin}: {first}{more}") from None
    if database is not None:
        settings = settings.model_copy(
            update={"storage": settings.storage.model_copy(update={"database": database, "snapshot": None})}
        )
    settings._origin = origin
    return settings
