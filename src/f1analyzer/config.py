"""Settings: one typed class read from the environment and an optional ``.env``.

Nothing is required. Every backend has an embedded default that needs no key, no server and no
network; production backends are chosen by setting their variables (see ``.env.example``).
The project's own variables carry the ``F1A_`` prefix; the seed's and conventional names stay
plain (``DEBUG``, ``HOST``, ``PORT``, ``WORKERS``, ``REDIS_URL``, ``API_KEYS``,
``ANTHROPIC_API_KEY``, ``PINECONE_API_KEY``, ``SECRETS_MANAGER_SECRET_ID``...).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated


def _plain(name: str) -> AliasChoices:
    """Accept a conventional variable name with or without the F1A_ prefix."""
    return AliasChoices(name, f"F1A_{name}")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]
SecretCsvList = Annotated[list[SecretStr], NoDecode]

#: fields holding secrets: ``SecretStr`` (printed as ``**********``), read with ``get_secret_value()``
SECRET_FIELDS = ("api_keys", "redis_url", "pinecone_api_key", "anthropic_api_key", "openai_api_key",
                 "model_signing_key", "metrics_token")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="F1A_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- where state lives -------------------------------------------------------------------
    home: Path = Field(
        default=Path("~/.f1analyzer"),
        description="Directory holding the race store, models, indexes and caches.",
    )
    data_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("F1_DATA_DIR", "F1A_DATA_DIR"),
        description="FastF1-format lap files (laps/*.csv.gz) used by train_models.py and tests.",
    )

    jolpica_base_url: str = Field(
        default="https://api.jolpi.ca/ergast/f1",
        description="Jolpica (Ergast-compatible) API base URL for schedules, grids and results.",
    )

    # --- server ------------------------------------------------------------------------------
    debug: bool = Field(default=False, validation_alias=_plain("DEBUG"))
    host: str = Field(default="0.0.0.0", validation_alias=_plain("HOST"))
    port: int = Field(default=8000, validation_alias=_plain("PORT"), ge=1, le=65535)
    workers: int = Field(default=1, validation_alias=_plain("WORKERS"), ge=1, le=64)
    api_keys: SecretCsvList = Field(
        default_factory=list,
        validation_alias=_plain("API_KEYS"),
        description="Comma-separated keys. Required for /admin/*; when set, also accepted (not "
        "required) on public endpoints.",
    )
    require_api_key: bool = Field(
        default=False, description="Also require a key on public endpoints."
    )
    trusted_proxies: CsvList = Field(
        default_factory=list,
        validation_alias=AliasChoices("F1A_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS"),
        description="Addresses or CIDRs of proxies whose X-Forwarded-For is believed (nginx in "
        "front of the API). Default: none, the connection's address is the client.",
    )
    cors_origins: CsvList = Field(default_factory=lambda: ["*"])
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    rate_limit_strategy: str = Field(
        default="10/minute", description="Limit for POST /strategy/generate per client."
    )
    rate_limit_default: str = Field(default="120/minute", description="Limit for other routes.")
    rate_limit_enabled: bool = True
    rate_limit_global: str = Field(
        default="300/minute", description="Limit per client over all API routes together.")
    rate_limit_cost: str = Field(
        default="100000/minute",
        description="Simulated races a client may ask for (over all routes) per period.")
    max_simulated_races: int = Field(
        default=40_000, ge=1,
        description="Work cap of one request in simulated races (n_sims x plans x requests); "
        "a bigger request is refused with 422.")
    request_deadline_s: float = Field(
        default=30.0, gt=0,
        description="Server-side deadline of a simulating or narrating request (504 past it).")
    sim_threads: int = Field(
        default=0, ge=0, le=64,
        description="Threads one simulation call splits its races over (results are identical for "
        "any value); 0 = the cores this process may use, at most 4. Batch workers use 1.")
    slow_work_threads: int = Field(
        default=4, ge=1, le=64,
        description="Threads running simulations and narration; /health and cheap routes never "
        "wait for them.")
    body_read_timeout_s: float = Field(
        default=10.0, gt=0, description="A request body not received within this is cut off (408).")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, GET /metrics needs 'Authorization: Bearer <token>'; unset, /metrics "
        "is open (keep it off the public network). See docs/SECURITY.md.")

    # --- admin ingest (issue 13, items 6 and 9; docs/SECURITY.md) ----------------------------
    ingest_roots: CsvList = Field(
        default_factory=list,
        description="Folders POST /admin/ingest may read (comma-separated). Default: <home>/imports "
        "and F1_DATA_DIR when set. Paths are resolved (symlinks followed) and must stay inside.",
    )
    ingest_max_file_mb: float = Field(
        default=256.0, gt=0, description="Largest lap file the admin API reads (MB, after "
        "decompression for .csv.gz).")
    ingest_max_job_mb: float = Field(
        default=2048.0, gt=0, description="Most bytes (on disk) one admin ingest job may read.")
    ingest_job_timeout_s: float = Field(
        default=1800.0, gt=0, description="An admin ingest or reindex job running longer is stopped "
        "(between files / batches; committed seasons stay).")
    ingest_max_drop_share: float = Field(
        default=0.10, ge=0.0, le=1.0, description="A file that would drop more than this share of "
        "a stored race's or season's laps is refused unless --replace / \"replace\": true.")
    demo_on_empty: bool = Field(
        default=True, description="Load the bundled demo races (four 2024 Grands Prix) into an "
        "empty store on first start (server, and CLI commands that read races). "
        "`f1analyzer demo remove` removes them for good.")

    # --- cache -------------------------------------------------------------------------------
    redis_url: SecretStr | None = Field(
        default=None, validation_alias=_plain("REDIS_URL"),
        description="A secret: the URL may carry the Redis password.")
    cache_ttl_s: int = Field(default=3600, ge=0)

    # --- knowledge base ----------------------------------------------------------------------
    vector_backend: Literal["lancedb", "pinecone"] = "lancedb"
    pinecone_api_key: SecretStr | None = Field(default=None, validation_alias=_plain("PINECONE_API_KEY"))
    pinecone_index: str = "f1-strategy"
    pinecone_namespace: str = "default"
    pinecone_host: str | None = Field(
        default=None, description="Index host; set for a local Pinecone-compatible server."
    )
    pinecone_cloud: str = "aws"
    pinecone_region: str = "us-east-1"
    embedding_threads: int = Field(default=1, ge=1)
    index_on_start: bool = Field(
        default=True,
        description="Build a missing knowledge index in the background when the API starts.",
    )

    # --- narration ---------------------------------------------------------------------------
    llm_provider: Literal["auto", "anthropic", "openai", "offline"] = Field(
        default="auto",
        description="auto = Anthropic when ANTHROPIC_API_KEY is set, else the offline writer.",
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=_plain("ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=_plain("ANTHROPIC_BASE_URL")
    )
    anthropic_model: str = "claude-sonnet-4-5"
    openai_base_url: str | None = Field(default=None, validation_alias=_plain("OPENAI_BASE_URL"))
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=_plain("OPENAI_API_KEY"))
    openai_model: str = "llama3.1"
    llm_timeout_s: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(default=3, ge=0)
    llm_deadline_s: float = Field(
        default=10.0, gt=0,
        description="Overall time a narration may take, retries included; past it the offline "
        "writer answers.")
    llm_fallback_cache_s: float = Field(
        default=60.0, ge=0,
        description="How long an offline answer given because the LLM failed is reused.")
    llm_breaker_failures: int = Field(
        default=3, ge=1, description="Consecutive LLM failures or timeouts that open the breaker.")
    llm_breaker_cooldown_s: float = Field(
        default=30.0, gt=0,
        description="How long an open breaker skips the LLM before one trial call (half-open).")
    llm_max_concurrency: int = Field(
        default=4, ge=1, le=64, description="LLM calls in flight at once (per process).")

    # --- race-day mode (docs/RACEDAY.md) ----------------------------------------------------------
    live_max_sessions: int = Field(default=4, ge=1, le=64,
                                   description="Live sessions (followed feeds) running at once per API worker.")
    live_idle_s: float = Field(default=60.0, gt=0,
                               description="A live session nobody follows for this long stops its feed.")
    live_n_sims: int = Field(default=100, ge=10, le=2000,
                             description="Monte Carlo races per option of each car given the full advice.")
    live_max_advised: int = Field(default=5, ge=0, le=20,
                                  description="Cars given the full Monte Carlo advice per lap (others: the screen).")
    live_poll_s: float = Field(default=4.0, gt=0, description="Seconds between OpenF1 polls.")
    openf1_base_url: str = Field(default="https://api.openf1.org/v1", description="OpenF1 REST API root.")

    # --- model registry ----------------------------------------------------------------------
    model_store: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    dynamodb_table: str | None = None
    aws_region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    aws_endpoint_url: str | None = Field(
        default=None, validation_alias=_plain("AWS_ENDPOINT_URL")
    )
    secrets_manager_secret_id: str | None = Field(
        default=None, validation_alias=_plain("SECRETS_MANAGER_SECRET_ID")
    )
    model_signing_key: SecretStr | None = Field(
        default=None,
        description="HMAC key signing model manifests (required for the S3 registry; local "
        "registry: manifests are signed and checked when set). See docs/SECURITY.md.",
    )

    # --- batch work: backtest, season-preview, sweep (app/executors) ---------------------------
    executor: Literal["serial", "local", "ray"] = Field(
        default="local",
        description="Where batch commands run their tasks: serial (this process), local (a process "
        "pool over this machine's cores) or ray (a Ray cluster, see ray_address).",
    )
    executor_workers: int | None = Field(
        default=None, ge=1, le=1024,
        description="Processes of the local executor, or CPUs of a Ray instance started for the run "
        "(default: the cores available).",
    )
    ray_address: str | None = Field(
        default=None, validation_alias=_plain("RAY_ADDRESS"),
        description="Ray cluster to join: 'auto' (the one running on this machine), "
        "'ray://head:10001' (Ray client); unset starts a local Ray instance.",
    )

    _split = field_validator("api_keys", "cors_origins", "trusted_proxies", "ingest_roots",
                             mode="before")(_split_csv)

    @field_validator("redis_url", "pinecone_api_key", "anthropic_api_key", "openai_api_key",
                     "model_signing_key", "metrics_token", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        # an empty placeholder (``ANTHROPIC_API_KEY=``) is no key
        return None if isinstance(v, str) and not v.strip() else v

    def secret(self, name: str) -> str | None:
        """The plain value of a secret field (None when unset): the only way code reads one."""
        v = getattr(self, name)
        return v.get_secret_value() if v is not None else None

    @property
    def api_key_values(self) -> list[str]:
        return [k.get_secret_value() for k in self.api_keys if k.get_secret_value()]

    def secret_values(self) -> list[str]:
        """Every secret value these settings hold (for the log redactor), incl. a Redis password."""
        out = list(self.api_key_values)
        for name in SECRET_FIELDS:
            if name == "api_keys":
                continue
            v = self.secret(name)
            if v:
                out.append(v)
        redis = self.secret("redis_url")
        if redis:
            try:
                pw = urlsplit(redis).password
            except ValueError:
                pw = None
            if pw:
                out.append(pw)
        return out

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, v: Path) -> Path:
        return v.expanduser()

    # --- derived paths (everything under one home directory) --------------------------------
    @property
    def store_dir(self) -> Path:
        return self.home / "store"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def imports_dir(self) -> Path:
        """Where an operator drops files for ``POST /admin/ingest`` (a default ingest root)."""
        return self.home / "imports"

    @property
    def ingest_root_dirs(self) -> list[Path]:
        """The folders the admin API may ingest from (``ingest_roots``, else the defaults)."""
        if self.ingest_roots:
            return [Path(r).expanduser() for r in self.ingest_roots]
        roots = [self.imports_dir]
        if self.data_dir is not None and str(self.data_dir).strip() not in ("", "."):
            roots.append(Path(self.data_dir).expanduser())
        return roots

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def fastf1_cache_dir(self) -> Path:
        return self.home / "cache" / "fastf1"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once). Tests call ``reset_settings()`` after changing env."""
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()


def settings_with_home(home: str | os.PathLike | None) -> Settings:
    """Settings with ``home`` overridden by a ``--home`` option (None keeps the configured one)."""
    s = get_settings()
    if home is None:
        return s
    return s.model_copy(update={"home": Path(home).expanduser()})
