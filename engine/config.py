"""Settings from config.yaml, with environment overrides for what differs per machine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .stats_rules import StatsRules, parse_stats

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Also HAZARDFLOW_HTTPS (1/true/yes or 0/false/no) for `security.https`.
ENV_OVERRIDES = {
    "HAZARDFLOW_DATABASE_URL": "database_url",
    "HAZARDFLOW_SECRET_KEY": "secret_key",
    "HAZARDFLOW_DATA_DIR": "data_dir",
    "HAZARDFLOW_SMTP_PASSWORD": "mail_password",
}
# config.yaml `mail:` key -> Config field, with its type
MAIL_KEYS: dict[str, tuple[str, type]] = {
    "enabled": ("mail_enabled", bool),
    "host": ("mail_host", str),
    "port": ("mail_port", int),
    "starttls": ("mail_starttls", bool),
    "username": ("mail_username", str),
    "password": ("mail_password", str),
    "sender": ("mail_sender", str),
    "batch": ("mail_batch", int),
    "timeout_seconds": ("mail_timeout_seconds", float),
    "base_url": ("mail_base_url", str),
}

# config.yaml `cases:` key -> Config field, with its type
CASES_KEYS: dict[str, tuple[str, Any]] = {
    "report_process": ("public_report_process", str),
    "public_report_limit": ("public_report_limit", str),
    "public_lookup_limit": ("public_lookup_limit", str),
    "filter_fields": ("case_filter_fields", tuple),
    "viewer_roles": ("case_viewer_roles", tuple),
    "grid_field": ("case_grid_field", str),
    "leader_field": ("case_leader_field", str),
    "location_field": ("case_location_field", str),
    "informed_field": ("case_informed_field", str),
    "parts_field": ("case_parts_field", str),
    "number_prefix": ("case_number_prefix", str),
    "photo_max_bytes": ("photo_max_bytes", int),
    "photo_max_pixels": ("photo_max_pixels", int),
}

# config.yaml `webhooks:` key -> Config field, with its type (`events` is its own mapping)
WEBHOOK_KEYS: dict[str, tuple[str, Any]] = {
    "timeout_seconds": ("webhook_timeout_seconds", float),
    "max_attempts": ("webhook_max_attempts", int),
    "backoff_seconds": ("webhook_backoff_seconds", float),
    "batch": ("webhook_batch", int),
}

# config.yaml `security:` key -> Config field, with its type (password_hash is its own mapping)
SECURITY_KEYS: dict[str, tuple[str, Any]] = {
    "password_min_length": ("password_min_length", int),
    "https": ("https", bool),
    "session_idle_minutes": ("session_idle_minutes", float),
    "session_lifetime_hours": ("session_lifetime_hours", float),
    "sign_in_limit_per_user": ("sign_in_limit_per_user", str),
    "sign_in_limit_per_address": ("sign_in_limit_per_address", str),
    "api_token_days": ("api_token_days", int),
}

# config.yaml `security: password_hash:` key -> Config field: Argon2id's costs
PASSWORD_HASH_KEYS = {
    "time_cost": "password_time_cost",
    "memory_cost": "password_memory_cost",
    "parallelism": "password_parallelism",
}
# Costs differ per machine (and are cheap in the tests): this variable holds the same mapping
# as config.yaml's `security: password_hash:`, in YAML, e.g. "{time_cost: 1, memory_cost: 1024}".
PASSWORD_HASH_ENV = "HAZARDFLOW_PASSWORD_HASH"


@dataclass
class Config:
    database_url: str = "sqlite:///var/hazardflow.db"
    data_dir: Path = Path("var/data")
    processes_dir: Path = Path("processes")
    demo_file: Path = Path("engine/demo/organisation.yaml")
    secret_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 5000
    sandbox_time_limit: float = 1.0
    # Items (and characters) one value in a process expression may have, shared parts counted
    # each time they are reached: the sandbox's memory and walk bound
    sandbox_max_size: int = 10_000_000
    sweep_in_web: bool = True
    sweep_interval_seconds: float = 30.0
    photo_max_bytes: int = 10 * 1024 * 1024
    # Width × height an uploaded photo may declare, read from its header before decoding
    photo_max_pixels: int = 40_000_000
    # Case data fields the queues filter on; each is kept in an indexed table.
    case_filter_fields: tuple[str, ...] = ("grid", "category", "grade", "department")
    public_report_process: str = "hazard_handling"
    public_report_limit: str = "5 per hour"  # per client address (Flask-Limiter syntax)
    public_lookup_limit: str = "20 per hour"  # wrong case number or code, per client address
    # Roles that see every case (others see the cases they reported, work or worked on).
    case_viewer_roles: tuple[str, ...] = ("admin", "dispatcher")
    # The case field naming the grid a case lies in: leaders see the cases of their area.
    case_grid_field: str = "grid"
    # The case field naming the leader who supervises it by name (挂牌督办), kept indexed.
    case_leader_field: str = "supervising_leader"
    # The case field with the reported coordinates ({lat, lng}): its members are kept indexed
    # (`location.lat`, `location.lng`) for the map.
    case_location_field: str = "location"
    # The case field listing the departments informed of it (抄送): their officers read it.
    case_informed_field: str = "informed_departments"
    # The case field listing its departments' parts (joint handling), shown on the case page:
    # items with department, role (lead / cooperate), status and deadline.
    case_parts_field: str = "parts"
    # Case numbers are this, the China-time year of the report and the id: YH-2026-000123.
    case_number_prefix: str = "YH"
    mail_enabled: bool = False  # e-mail the inbox notifications of users with an address
    mail_host: str = "127.0.0.1"
    mail_port: int = 25
    mail_starttls: bool = False
    mail_username: str | None = None
    mail_password: str | None = None
    mail_sender: str = "HazardFlow <hazardflow@localhost>"
    mail_batch: int = 100  # notifications per sweep
    mail_timeout_seconds: float = 10.0
    mail_base_url: str = "http://127.0.0.1:5000"  # where people open the links in e-mails
    # Argon2id costs of new password hashes: argon2-cffi's RFC 9106 low-memory profile
    password_time_cost: int = 3
    password_memory_cost: int = 65536  # KiB
    password_parallelism: int = 4
    password_min_length: int = 10  # a password a person sets themselves (security.min_length)
    # Served over HTTPS (behind a proxy that terminates TLS): cookies are sent only over it.
    https: bool = False
    # A signed-in browser's session ends after this long unused, and this long after sign-in.
    session_idle_minutes: float = 240.0
    session_lifetime_hours: float = 12.0
    # Failed sign-ins allowed (Flask-Limiter syntax, moving windows): per user name, and per
    # client address whatever the name; a browser that signed in as the user before counts
    # on its own, so that an attacker's failures do not lock the user out.
    sign_in_limit_per_user: str = "5 per minute; 20 per hour"
    sign_in_limit_per_address: str = "30 per minute; 200 per hour"
    api_token_days: int = 90  # the default lifetime of a new API token
    # What the 考核 figures read from each process (config `stats`, engine/stats_rules.py)
    stats: dict[str, StatsRules] = field(default_factory=dict)
    # The records API: per process, record field -> where its value comes from
    # (engine/hazard_records.py lists the sources)
    records: dict[str, dict[str, str]] = field(default_factory=dict)
    # Webhook events per process: event -> the rules that raise it (engine/exchange.py)
    webhook_events: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    webhook_timeout_seconds: float = 5.0  # per delivery attempt
    webhook_max_attempts: int = 8  # then the delivery is marked failed
    webhook_backoff_seconds: float = 30.0  # the first retry's wait, doubling after each failure
    webhook_batch: int = 50  # deliveries per sweep
    base_dir: Path = field(default=PROJECT_ROOT)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _resolve_sqlite(url: str, base: Path) -> str:
    """Make a relative SQLite path relative to the config file, not the working directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


def load_config(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Config:
    """Read config.yaml (or `path`, or $HAZARDFLOW_CONFIG), apply env and keyword overrides."""
    path = Path(path or os.environ.get("HAZARDFLOW_CONFIG") or PROJECT_ROOT / "config.yaml")
    raw: dict[str, Any] = {}
    if path.exists():
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    base = path.resolve().parent
    flat: dict[str, Any] = {
        key: raw[key]
        for key in ("database_url", "data_dir", "processes_dir", "demo_file", "secret_key")
        if key in raw
    }
    server = raw.get("server") or {}
    flat.update({k: server[k] for k in ("host", "port") if k in server})
    if "time_limit_seconds" in (raw.get("sandbox") or {}):
        flat["sandbox_time_limit"] = float(raw["sandbox"]["time_limit_seconds"])
    if "max_size" in (raw.get("sandbox") or {}):
        flat["sandbox_max_size"] = int(raw["sandbox"]["max_size"])
    timers = raw.get("timers") or {}
    if "sweep_in_web" in timers:
        flat["sweep_in_web"] = bool(timers["sweep_in_web"])
    if "sweep_interval_seconds" in timers:
        flat["sweep_interval_seconds"] = float(timers["sweep_interval_seconds"])
    for section, keys in (("mail", MAIL_KEYS), ("cases", CASES_KEYS), ("webhooks", WEBHOOK_KEYS)):
        values = raw.get(section) or {}
        for key, (name, kind) in keys.items():
            if values.get(key) is not None:
                flat[name] = kind(values[key])
    if raw.get("records"):
        flat["records"] = {str(p): dict(fields) for p, fields in raw["records"].items()}
    if (raw.get("webhooks") or {}).get("events"):
        flat["webhook_events"] = dict(raw["webhooks"]["events"])
    password_hash = dict((raw.get("security") or {}).get("password_hash") or {})
    if os.environ.get(PASSWORD_HASH_ENV):
        password_hash.update(yaml.safe_load(os.environ[PASSWORD_HASH_ENV]) or {})
    for key, name in PASSWORD_HASH_KEYS.items():
        if password_hash.get(key) is not None:
            flat[name] = int(password_hash[key])
    security = raw.get("security") or {}
    for key, (name, kind) in SECURITY_KEYS.items():
        if security.get(key) is not None:
            flat[name] = kind(security[key])
    if os.environ.get("HAZARDFLOW_HTTPS"):
        flat["https"] = os.environ["HAZARDFLOW_HTTPS"].strip().lower() in ("1", "true", "yes")
    flat["stats"] = parse_stats(raw.get("stats"))
    for env, key in ENV_OVERRIDES.items():
        if os.environ.get(env):
            flat[key] = os.environ[env]
    flat.update(overrides)
    for key in ("data_dir", "processes_dir", "demo_file"):
        if key in flat:
            flat[key] = (base / flat[key]).resolve()
        else:
            flat[key] = (base / getattr(Config, key)).resolve()
    flat["database_url"] = _resolve_sqlite(flat.get("database_url", Config.database_url), base)
    return Config(base_dir=base, **flat)
