"""All configuration, read once from the environment and ``.env`` (pydantic-settings).

A missing or malformed setting stops start-up with one line naming the variable and how to fix
it (see :func:`load_settings`); nothing else in the code reads the environment.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.runtime import EventLoop
from governance.activity import ActivityThresholds
from governance.cases import CasePolicy, WorkCalendar, parse_dates
from governance.errors import ConfigurationError
from governance.matching import MatchWindow
from governance.polling import PollSchedule
from governance.scoring import ScoringRules, load_rules
from governance.websites import WebsiteRules, load_website_rules

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PROXY_SCHEMES = ("socks5", "socks4", "http", "https")
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,100}$")

#: How to fix each setting, shown when it is missing or malformed.
HINTS: dict[str, str] = {
    "BOT_TOKEN": "向 @BotFather 申请机器人令牌，形如 123456789:AAE...，写入 .env 的 BOT_TOKEN",
    "ADMIN_IDS": "填写管理员的 Telegram 数字 ID，多个用逗号分隔，如 ADMIN_IDS=11111,22222",
    "DATABASE_URL": "如 sqlite+aiosqlite:///data/bot.db 或 postgresql+asyncpg://user@host/db",
    "REDIS_URL": "如 redis://127.0.0.1:6379/0；不用 Redis 时留空",
    "TELEGRAM_API_BASE": "本地 Bot API 服务器地址，如 http://127.0.0.1:8081；不用时留空",
    "TELEGRAM_API_LOCAL": "true：本地 Bot API 服务器以 --local 运行（文件从共享目录直接读取）",
    "TELEGRAM_API_FILES_DIR": "本地 Bot API 服务器工作目录在本机的挂载位置，"
    "如 /srv/telegram-bot-api",
    "TELEGRAM_API_SERVER_DIR": "本地 Bot API 服务器自己的工作目录（--dir），"
    "默认 /var/lib/telegram-bot-api",
    "TELEGRAM_PROXY": "访问 Bot API 的代理，如 socks5://user:pass@127.0.0.1:1080、"
    "http://127.0.0.1:3128 或 https://proxy.example:443；不用时留空",
    "BOT_MODE": "polling（长轮询，默认）或 webhook",
    "WEBHOOK_URL": "Telegram 推送更新的公网 HTTPS 地址，如 https://bot.example.gov.cn/tg/webhook",
    "WEBHOOK_SECRET": "1-256 位字母、数字、_ 或 -，如用 openssl rand -hex 32 生成",
    "WEBHOOK_LISTEN": "本机监听地址，如 0.0.0.0:8080（nginx 反向代理到此）",
    "WEBHOOK_DELETE_ON_STOP": "true：停止时撤销 webhook；多副本部署设为 false，"
    "一个副本停止不应影响其他副本",
    "WEBHOOK_DROP_PENDING": "true：启动时丢弃 Telegram 在机器人离线期间积压的更新；默认 false",
    "WEBHOOK_MAX_BODY_BYTES": "webhook 请求体上限（字节），默认 1000000，超出返回 413",
    "METRICS_PORT": "长轮询模式下 /healthz、/readyz、/metrics 的端口，如 9100；不用时留空",
    "METRICS_HOST": "上述端口的监听地址，默认 0.0.0.0；只给本机 Prometheus 用时填 127.0.0.1",
    "STARTUP_RETRY_MAX_SECONDS": "启动时 Bot API 连不上的最长重试间隔（秒），如 60",
    "MIGRATE_ON_START": "true：启动时自动迁移数据库；多副本部署设为 false，"
    "并在启动副本前运行 python -m bot migrate",
    "TIMEZONE": "IANA 时区名，如 Asia/Shanghai",
    "ALERT_CHAT_ID": "管理员预警群的数字 ID（群组为负数），如 -1001234567890",
    "LOG_LEVEL": "DEBUG、INFO、WARNING 或 ERROR",
    "LOG_JSON": "输出 JSON 行日志时填 true",
    "HOLIDAYS": "法定节假日，YYYY-MM-DD，逗号分隔，如 2026-10-01,2026-10-02",
    "EXTRA_WORKDAYS": "调休上班日，YYYY-MM-DD，逗号分隔",
    "WEEKEND_DAYS": "休息日的 ISO 星期数，逗号分隔，默认 6,7（周六、周日）",
    "DIGEST_TIME": "每日通报时间，HH:MM，如 09:00",
    "WEEKLY_DIGEST_DAY": "周报发送日：mon、tue、wed、thu、fri、sat 或 sun",
    "REVIEW_FILE_MAX_MB": "送审文件大小上限（MB），默认 20（Telegram 允许机器人下载的上限）",
    "REVIEW_FILE_MAX_PAGES": "送审文件页数上限，默认 300",
    "REVIEW_FILE_TIMEOUT": "读取一个送审文件的最长秒数（含 .doc/.wps 转换），默认 60",
    "RSSHUB_BASE": "本单位 RSSHub 的地址，如 https://rsshub.example.gov.cn；不用时留空",
}


class ReplicaDuties(StrEnum):
    """Which side of the work a replica takes. Several replicas on PostgreSQL may split it so
    that a poll cycle or an evaluation pass never shares a process (and its event loop and
    core) with the replies: ``chat`` replicas answer, ``jobs`` replicas poll and evaluate."""

    ALL = "all"  # everything (the default; the only choice on SQLite)
    CHAT = "chat"  # Telegram updates and the outbox; of the scheduled jobs only its own upkeep
    JOBS = "jobs"  # every scheduled job and the outbox; no Telegram updates


class Settings(BaseSettings):
    """Every setting the bot reads; ``.env.example`` documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    database_url: str = "sqlite+aiosqlite:///data/bot.db"
    redis_url: str | None = None
    telegram_api_base: str | None = None
    # connectivity and deployment (issue 13)
    telegram_api_local: bool = False
    telegram_api_server_dir: str = "/var/lib/telegram-bot-api"
    telegram_api_files_dir: Path | None = None
    telegram_proxy: SecretStr | None = None
    bot_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0:8080"
    webhook_drop_pending: bool = False
    webhook_delete_on_stop: bool = True
    webhook_max_body_bytes: int = Field(default=1_000_000, ge=10_000, le=50_000_000)
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "0.0.0.0"
    migrate_on_start: bool = True
    startup_retry_max_seconds: float = Field(default=60.0, gt=0, le=3600)
    timezone: str = "Asia/Shanghai"
    alert_chat_id: int | None = None
    log_level: str = "INFO"
    log_json: bool = False

    invite_ttl_days: int = Field(default=7, ge=1, le=90)
    feed_check_timeout: float = Field(default=15.0, gt=0, le=120)
    feed_max_bytes: int = Field(default=5_000_000, ge=10_000)
    allow_private_feeds: bool = False
    feed_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # refuse every address not on FEED_ALLOWED_HOSTS, for feeds, links and robots alike (no DNS
    # lookup either): the demo, or an office on a closed network
    feed_allowed_only: bool = False
    # /start tells each person what to try next (``python -m bot demo`` sets it)
    demo_tour: bool = False
    polling_timeout: int = Field(default=30, ge=0, le=60)
    outbox_interval: float = Field(default=1.0, gt=0, le=60)
    # Telegram's sending limits; only tests loosen them (their clock stands still).
    outbox_per_second: int = Field(default=30, ge=1)
    outbox_private_interval: float = Field(default=1.0, ge=0)
    outbox_group_per_minute: int = Field(default=20, ge=1)
    heartbeat_minutes: int = Field(default=5, ge=1)
    quality_extra_file: Path | None = None
    report_scoring_file: Path | None = None
    report_sample_ratio: float | None = Field(default=None, gt=0, le=1)
    dead_link_minutes: int = Field(default=60, ge=1)
    allow_private_links: bool = False
    dead_link_window_days: int = Field(default=30, ge=1)
    dead_link_ttl_days: int = Field(default=7, ge=1)
    dead_link_batch: int = Field(default=200, ge=1, le=10_000)
    dead_link_concurrency: int = Field(default=8, ge=1, le=100)
    dead_link_timeout: float = Field(default=10.0, gt=0, le=120)

    # feed polling (issue 3)
    poll_tick_seconds: int = Field(default=30, ge=1, le=3600)
    poll_concurrency: int = Field(default=50, ge=1, le=1000)
    poll_per_host: int = Field(default=2, ge=1, le=100)
    poll_host_spacing_ms: int = Field(default=500, ge=0, le=60_000)
    poll_timeout: float = Field(default=20.0, gt=0, le=300)
    poll_min_interval_minutes: int = Field(default=15, ge=1)
    poll_max_interval_hours: float = Field(default=6.0, gt=0, le=24)
    poll_max_per_tick: int = Field(default=20_000, ge=1)
    poll_lease_seconds: int = Field(default=900, ge=30)
    poll_history: int = Field(default=50, ge=1, le=10_000)
    poll_history_days: int = Field(default=14, ge=1, le=3650)
    post_body_days: int = Field(default=90, ge=0, le=36_500)
    feed_parse_workers: int = Field(default=1, ge=0, le=32)
    feed_fast_parse: bool = True
    feed_parse_timeout: float = Field(default=20.0, gt=0, le=600)
    check_cooldown_seconds: int = Field(default=60, ge=0)
    # activity and alerts (national defaults)
    evaluate_minutes: int = Field(default=10, ge=1)
    warning_days: int = Field(default=7, ge=1)
    dormant_days: int = Field(default=14, ge=1)
    closure_candidate_days: int = Field(default=60, ge=1)
    feed_broken_hours: int = Field(default=24, ge=1)
    feed_broken_failures: int = Field(default=5, ge=1)
    alert_repeat_days: float = Field(default=3, gt=0)
    # rectification cases (issue 6): deadlines in working days of the calendar below
    case_deadline_days: int = Field(default=5, ge=1, le=60)
    case_interview_days: int = Field(default=5, ge=1, le=60)
    case_extension_days: int = Field(default=5, ge=1, le=60)
    case_check_minutes: int = Field(default=30, ge=1)
    weekend_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [6, 7])
    holidays: Annotated[list[str], NoDecode] = Field(default_factory=list)
    extra_workdays: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # digests: daily to the admins' chat, weekly to each unit's managers
    digest_time: str = "09:00"
    weekly_digest_day: str = "mon"

    # several replicas on one PostgreSQL (issue 13)
    replica_name: str | None = None
    """How this replica names itself in logs and the run table (default host:pid)."""
    replica_duties: ReplicaDuties = ReplicaDuties.ALL
    """REPLICA_DUTIES: all, chat (updates and outbox) or jobs (scheduled jobs and outbox)."""
    jobs_nice: int = Field(default=10, ge=0, le=19)
    """JOBS_NICE: CPU priority given up (``nice``) by the processes that work only for the jobs
    (a ``REPLICA_DUTIES=jobs`` replica, the feed parse workers), so that on a shared machine the
    chat's replies get the cores first; 0 keeps the normal priority."""
    event_loop: EventLoop = "auto"
    """EVENT_LOOP: auto (uvloop where installed), uvloop or asyncio: the loop the bot runs on."""
    leader_retry_seconds: float = Field(default=2.0, gt=0, le=60)
    job_lease_seconds: int = Field(default=60, ge=5, le=3600)

    review_number_prefix: str = Field(default="SH", pattern=r"^[A-Z]{1,6}$")
    review_check_minutes: int = Field(default=5, ge=1, le=60)
    review_escalate_after_hours: float = Field(default=1.0, ge=0, le=168)
    review_draft_max_chars: int = Field(default=20_000, ge=500, le=200_000)
    review_file_max_mb: int = Field(default=20, ge=1, le=2000)
    """Largest draft file (.docx/.pdf/.doc/.wps) read for the pre-check; the Bot API lets bots
    download up to 20 MB (a local Bot API server more)."""
    review_file_max_pages: int = Field(default=300, ge=1, le=10_000)
    review_file_timeout: float = Field(default=60.0, gt=0, le=600)
    """Seconds to read one draft file (LibreOffice conversion of .doc/.wps included)."""
    review_match_before_hours: float = Field(default=2.0, ge=0, le=72)
    review_match_after_days: float = Field(default=14.0, gt=0, le=180)
    review_match_threshold: float = Field(default=0.6, gt=0, le=1)
    # repost tasks (转载任务, issue 19)
    repost_check_minutes: int = Field(default=15, ge=1, le=240)
    """How often reminders of repost tasks are checked."""
    repost_remind_before_hours: float = Field(default=24.0, ge=1, le=168)
    """How long before a repost task's deadline the first reminder goes out."""

    # feeds derived from platform + platform id on the office's RSSHub (issue 14)
    rsshub_base: str | None = None
    rsshub_key: SecretStr | None = None

    # group robots (WeCom, DingTalk, Feishu) as alert channels (issue 14)
    allow_private_robots: bool = False
    robot_timeout: float = Field(default=10.0, gt=0, le=120)

    # government websites (issue 15)
    website_rules_file: Path | None = None
    website_probes_per_day: int = Field(default=24, ge=1, le=1440)
    website_probe_timeout: float | None = Field(default=None, gt=0, le=120)
    website_probe_tick_seconds: int = Field(default=60, ge=1, le=3600)
    website_column_minutes: int = Field(default=360, ge=5, le=10_080)
    website_column_tick_seconds: int = Field(default=60, ge=1, le=3600)
    website_evaluate_minutes: int = Field(default=60, ge=1)

    @field_validator("bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value).strip()
        if not _TOKEN.match(text):
            raise ValueError("应为数字 ID、冒号和至少 20 位字母数字")
        return text

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part for part in re.split(r"[,\s]+", value.strip()) if part]
            bad = [part for part in parts if not re.fullmatch(r"-?\d{1,20}", part)]
            if bad:
                raise ValueError(f"“{bad[0][:20]}”不是数字 ID")
            return [int(part) for part in parts]
        return value

    @field_validator("weekend_days", "holidays", "extra_workdays", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in re.split(r"[,\s]+", value.strip()) if part]
        return value

    @field_validator("weekend_days")
    @classmethod
    def _weekend(cls, value: list[int]) -> list[int]:
        if not set(value) <= set(range(1, 8)) or len(set(value)) >= 7:
            raise ValueError("应为 1–7 的 ISO 星期数（6,7 为周六、周日），且不能七天都休息")
        return value

    @field_validator("holidays", "extra_workdays")
    @classmethod
    def _dates(cls, value: list[str]) -> list[str]:
        parse_dates(value)
        return value

    @field_validator("digest_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if not match:
            raise ValueError("应为 HH:MM，如 09:00")
        return f"{int(match[1]):02d}:{match[2]}"

    @field_validator("weekly_digest_day")
    @classmethod
    def _weekday(cls, value: str) -> str:
        value = value.strip().lower()[:3]
        if value not in WEEKDAYS:
            raise ValueError("应为 mon、tue、wed、thu、fri、sat 或 sun")
        return value

    @field_validator("feed_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.lower() for part in re.split(r"[,\s]+", value.strip()) if part]
        return value

    @field_validator(
        "redis_url",
        "replica_name",
        "telegram_api_base",
        "telegram_proxy",
        "telegram_api_files_dir",
        "webhook_url",
        "webhook_secret",
        "metrics_port",
        "alert_chat_id",
        "quality_extra_file",
        "report_scoring_file",
        "report_sample_ratio",
        "website_rules_file",
        "website_probe_timeout",
        "rsshub_base",
        "rsshub_key",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_api_base", "rsshub_base")
    @classmethod
    def _api_base(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("应为 http:// 或 https:// 开头的地址")
        return value.rstrip("/") if value else value

    @field_validator("telegram_proxy")
    @classmethod
    def _proxy(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            url = urlsplit(value.get_secret_value().strip())
            if url.scheme not in PROXY_SCHEMES or not url.hostname or url.port is None:
                raise ValueError("use socks5://, socks4://, http:// or https://host:port")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL (Telegram itself requires https)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        secret = value.get_secret_value() if value is not None else None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("1-256 characters A-Z, a-z, 0-9, _ or -")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("use HOST:PORT, e.g. 0.0.0.0:8080")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("不是已知的时区名") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("不是已知的日志级别")
        return value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("只支持 sqlite+aiosqlite:// 或 postgresql+asyncpg://")
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> Settings:
        if not self.warning_days <= self.dormant_days <= self.closure_candidate_days:
            raise ValueError("WARNING_DAYS ≤ DORMANT_DAYS ≤ CLOSURE_CANDIDATE_DAYS 才成立")
        if self.poll_min_interval_minutes > self.poll_max_interval_hours * 60:
            raise ValueError("POLL_MIN_INTERVAL_MINUTES 不能超过 POLL_MAX_INTERVAL_HOURS × 60")
        if self.bot_mode == "webhook" and (self.webhook_url is None or self.webhook_secret is None):
            raise ValueError("BOT_MODE=webhook 需要同时设置 WEBHOOK_URL 和 WEBHOOK_SECRET")
        if self.replica_duties is not ReplicaDuties.ALL and not self.database_url.startswith(
            "postgresql"
        ):
            raise ValueError(
                f"REPLICA_DUTIES={self.replica_duties.value} 需要 PostgreSQL：分工的副本共用一个"
                "数据库；SQLite 只支持单个进程，它必须承担全部工作（REPLICA_DUTIES=all）"
            )
        return self

    def activity_thresholds(self) -> ActivityThresholds:
        return ActivityThresholds(
            warning_days=self.warning_days,
            dormant_days=self.dormant_days,
            closure_candidate_days=self.closure_candidate_days,
            feed_broken_after=timedelta(hours=self.feed_broken_hours),
            feed_broken_failures=self.feed_broken_failures,
        )

    def case_policy(self) -> CasePolicy:
        return CasePolicy(
            calendar=WorkCalendar(
                weekend=frozenset(self.weekend_days),
                holidays=parse_dates(self.holidays),
                workdays=parse_dates(self.extra_workdays),
            ),
            tz=self.tz,
            deadline_days=self.case_deadline_days,
            interview_days=self.case_interview_days,
            extension_days=self.case_extension_days,
            alert_chat_id=self.alert_chat_id,
        )

    @property
    def digest_hour_minute(self) -> tuple[int, int]:
        hour, minute = self.digest_time.split(":")
        return int(hour), int(minute)

    def website_rules(self) -> WebsiteRules:
        """The website rule file (the shipped one unless WEBSITE_RULES_FILE names a copy);
        WEBSITE_PROBE_TIMEOUT, when set, overrides the file's 15 s."""
        rules = load_website_rules(self.website_rules_file)
        if self.website_probe_timeout is not None:
            rules = replace(rules, timeout_seconds=self.website_probe_timeout)
        return rules

    def scoring_rules(self) -> ScoringRules:
        """The report's rule file (the shipped one unless REPORT_SCORING_FILE names a copy);
        REPORT_SAMPLE_RATIO overrides the file's inspection ratio."""
        rules = load_rules(self.report_scoring_file)
        if self.report_sample_ratio is not None:
            rules = replace(rules, sample_ratio=self.report_sample_ratio)
        return rules

    def poll_schedule(self) -> PollSchedule:
        return PollSchedule(
            min_interval=timedelta(minutes=self.poll_min_interval_minutes),
            max_interval=timedelta(hours=self.poll_max_interval_hours),
        )

    @property
    def closed_network(self) -> frozenset[str]:
        """The only hosts links and robots may reach when FEED_ALLOWED_ONLY is set."""
        return frozenset(self.feed_allowed_hosts) if self.feed_allowed_only else frozenset()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def match_window(self) -> MatchWindow:
        """How the poller matches posts to approved drafts (``models.review_match``)."""
        return MatchWindow(
            before=timedelta(hours=self.review_match_before_hours),
            after=timedelta(days=self.review_match_after_days),
            threshold=self.review_match_threshold,
        )

    def require_token(self) -> str:
        if self.bot_token is None:
            raise ConfigurationError(_line("BOT_TOKEN", "未设置"))
        return self.bot_token.get_secret_value()

    @property
    def webhook_host_port(self) -> tuple[str, int]:
        host, _, port = self.webhook_listen.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def webhook_path(self) -> str:
        """The path Telegram posts to: the one in ``WEBHOOK_URL`` (nginx passes it through)."""
        return urlsplit(self.webhook_url or "").path or "/webhook"

    def secrets(self) -> list[str]:
        """Every secret value the logs must never show."""
        values = [
            s.get_secret_value()
            for s in (self.bot_token, self.webhook_secret, self.rsshub_key)
            if s
        ]
        if self.telegram_proxy is not None:
            proxy = urlsplit(self.telegram_proxy.get_secret_value())
            values += [v for v in (proxy.password,) if v]
        if "://" in self.database_url:
            password = urlsplit(self.database_url).password
            values += [password] if password else []
        return values

    def rsshub_access_key(self) -> str | None:
        return self.rsshub_key.get_secret_value() if self.rsshub_key else None

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            rest = self.database_url[len(prefix) :].split("?", 1)[0]
            return None if rest in ("", ":memory:") else Path(rest)
        return None


def _line(name: str, problem: str) -> str:
    hint = HINTS.get(name, "")
    return f"配置错误：{name} {problem}。{hint}".rstrip("。") + "。"


def load_settings(**overrides: Any) -> Settings:
    """Read settings; turn a validation failure into a :class:`ConfigurationError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a rule across settings (model validator)
            detail = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigurationError(f"配置错误：{detail}。") from None
        name = str(first["loc"][0]).upper()
        kind = "缺失" if first["type"] == "missing" else f"格式不正确（{explain(first)}）"
        raise ConfigurationError(_line(name, kind)) from None


#: pydantic's error types in words a person fixing a .env file understands.
_EXPECTED = {
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "path_type": "应为文件路径",
    "list_type": "应为逗号分隔的列表",
    "string_type": "应为文字",
}
_BOUNDS = {
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "不能大于 {le}",
}


def explain(error: Any) -> str:
    """One pydantic error as the expected form and the value given, in Chinese."""
    kind = str(error.get("type", ""))
    given = error.get("input")
    shown = f"，当前为“{str(given)[:30]}”" if isinstance(given, str | int | float) else ""
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    if kind in _BOUNDS:
        return _BOUNDS[kind].format(**(error.get("ctx") or {})) + shown
    return _EXPECTED.get(kind, "取值无效") + shown
