"""A small client for DaData's suggestions API (``findById/party``, ``findById/bank``,
``suggest/address``, ``findById/postal_unit``), and where its settings come from.

Why not the official ``dadata`` package (checked: version 25.10.0 from PyPI)?
Its ``SuggestClient`` takes its address from a class constant
(``BASE_URL = "https://suggestions.dadata.ru/..."``) and ``Dadata(token)`` builds
that client itself, so pointing it at a proxy, a mirror or the tests' local
server means patching a class attribute for the whole process or reaching into
the private ``_suggestions`` member. It also brings ``httpx`` as a new
dependency, has one timeout for connecting and reading, and surfaces failures
as ``httpx.HTTPStatusError``, which we would translate anyway. The four POST
calls we need fit in this module on ``requests`` (already a dependency), with a
keep-alive ``Session`` per thread of use, separate connect/read timeouts and one
Russian line per failure.

Configuration (environment first, then ``.streamlit/secrets.toml``, section
``[dadata]``, looked up in the working directory and the project folder):

========================================  ======================  ==================
environment                               secrets.toml            default
========================================  ======================  ==================
``CLIENTPLUS_DADATA_TOKEN``               ``token``               (none: offline)
``CLIENTPLUS_DADATA_URL``                 ``url``                 :data:`DEFAULT_URL`
``CLIENTPLUS_DADATA_TIMEOUT`` (read, s)   ``timeout``             10
``CLIENTPLUS_DADATA_DAILY_LIMIT``         ``daily_limit``         10000
========================================  ======================  ==================
"""

from __future__ import annotations

import json
import os
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests

from clientplus_core.base.errors import UserError
from clientplus_core.store import config

DEFAULT_URL = "https://suggestions.dadata.ru/suggestions/api/4_1/rs"
DEFAULT_DAILY_LIMIT = 10_000
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0

ENV_TOKEN = "CLIENTPLUS_DADATA_TOKEN"
ENV_URL = "CLIENTPLUS_DADATA_URL"
ENV_TIMEOUT = "CLIENTPLUS_DADATA_TIMEOUT"
ENV_DAILY_LIMIT = "CLIENTPLUS_DADATA_DAILY_LIMIT"

PROJECT_ROOT = Path(__file__).resolve().parents[1]

HOW_TO_GET_TOKEN = (
    "Чтобы заполнять реквизиты по ИНН, БИК и индексу, нужен API-ключ DaData: "
    "зарегистрируйтесь на dadata.ru (бесплатно — 10 000 запросов в день) и укажите ключ "
    "в .streamlit/secrets.toml (раздел [dadata], token = \"…\") или в переменной "
    "окружения CLIENTPLUS_DADATA_TOKEN."
)
HOW_TO_GET_TOKEN_EN = (
    "Filling requisites from an INN, BIK or postal index needs a DaData API key: sign up "
    "at dadata.ru (free: 10,000 requests a day) and put the key into "
    ".streamlit/secrets.toml (section [dadata], token = \"…\") or the "
    "CLIENTPLUS_DADATA_TOKEN environment variable."
)


class ServiceError(UserError):
    """DaData could not answer; ``str(err)`` is one line fit to show. Nothing was written."""


class LimitReached(ServiceError):
    """The daily request limit is used up (DaData said 403, or our own counter)."""


class NoToken(UserError):
    """No API key is configured and the answer is not in the offline cache."""

    def __init__(self) -> None:
        super().__init__(HOW_TO_GET_TOKEN)


def secrets_files() -> list[Path]:
    """Where ``secrets.toml`` is looked for: the working directory, then the project."""
    return config.secrets_files(PROJECT_ROOT)


def _secrets_section(files: list[Path]) -> dict[str, Any]:
    """The ``[dadata]`` table of the first readable secrets file (``{}`` if none)."""
    return config.secrets_section("dadata", files)


def _number(raw: object, default: float, minimum: float) -> float:
    try:
        value = float(str(raw))
    except ValueError:
        return default
    return value if value >= minimum else default


@dataclass(frozen=True)
class DadataConfig:
    """Where DaData is and how to talk to it."""

    token: str = ""
    base_url: str = DEFAULT_URL
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    daily_limit: int = DEFAULT_DAILY_LIMIT

    @property
    def has_token(self) -> bool:
        return bool(self.token)


def load_config(env: Mapping[str, str] | None = None,
                files: list[Path] | None = None) -> DadataConfig:
    """The configuration from the environment, else ``secrets.toml``, else defaults.

    A bad number falls back to its default; a base URL that is not http(s) is
    refused later, by the client, with a message."""
    env = os.environ if env is None else env
    section = _secrets_section(secrets_files() if files is None else files)

    def pick(env_name: str, toml_name: str) -> str:
        value = env.get(env_name, "").strip()
        return value or str(section.get(toml_name, "") or "").strip()

    return DadataConfig(
        token=pick(ENV_TOKEN, "token"),
        base_url=(pick(ENV_URL, "url") or DEFAULT_URL).rstrip("/"),
        read_timeout=_number(pick(ENV_TIMEOUT, "timeout") or READ_TIMEOUT, READ_TIMEOUT, 0.01),
        daily_limit=int(_number(pick(ENV_DAILY_LIMIT, "daily_limit") or DEFAULT_DAILY_LIMIT,
                                DEFAULT_DAILY_LIMIT, 0)),
    )


class Transport(Protocol):
    """What the lookup use cases need from a client (tests may pass a fake)."""

    daily_limit: int

    def post(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` to ``{base}/{method}``; the decoded JSON object."""
        ...


def _message_for_status(code: int) -> str:
    if code == 401:
        return "неверный токен DaData"
    if code == 403:
        return "дневной лимит запросов DaData исчерпан"
    if code == 429:
        return "слишком много запросов, повторите через минуту"
    if code >= 500:
        return f"сервис DaData недоступен (код {code})"
    return f"DaData отклонил запрос (код {code})"


class DadataClient:
    """POSTs JSON to DaData with ``Authorization: Token …``; keep-alive sessions.

    Sessions are pooled (one is taken for a request and given back), so
    connections are reused across requests and Streamlit's per-rerun threads
    never share a ``requests.Session`` at the same moment.
    """

    def __init__(self, config: DadataConfig):
        if not config.base_url.lower().startswith(("http://", "https://")):
            raise ServiceError("адрес DaData должен начинаться с http:// или https://")
        self.config = config
        self.daily_limit = config.daily_limit
        self._pool: queue.LifoQueue[requests.Session] = queue.LifoQueue(maxsize=8)

    def _session(self) -> requests.Session:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            s = requests.Session()
            s.headers.update({"Authorization": f"Token {self.config.token}",
                              "Content-Type": "application/json",
                              "Accept": "application/json"})
            return s

    def _give_back(self, session: requests.Session) -> None:
        try:
            self._pool.put_nowait(session)
        except queue.Full:
            session.close()

    def post(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One request; raises :class:`ServiceError` (one line) on any failure."""
        session = self._session()
        try:
            resp = session.post(f"{self.config.base_url}/{method}", json=payload,
                                timeout=(self.config.connect_timeout, self.config.read_timeout))
            body = resp.content
        except requests.exceptions.Timeout:
            session.close()
            raise ServiceError("DaData не ответил вовремя") from None
        except requests.exceptions.ConnectionError:
            session.close()
            raise ServiceError("нет связи с DaData: проверьте интернет или адрес сервиса") from None
        except requests.exceptions.RequestException as exc:
            session.close()
            raise ServiceError(f"ошибка запроса к DaData ({type(exc).__name__})") from None
        self._give_back(session)
        if resp.status_code == 403:
            raise LimitReached(_message_for_status(403))
        if resp.status_code != 200:
            raise ServiceError(_message_for_status(resp.status_code))
        try:
            data = json.loads(body)
        except ValueError:
            raise ServiceError("DaData вернул непонятный ответ") from None
        if not isinstance(data, dict):
            raise ServiceError("DaData вернул непонятный ответ")
        return data


_clients: dict[DadataConfig, DadataClient] = {}
_clients_lock = threading.Lock()


def default_client(config: DadataConfig | None = None) -> DadataClient | None:
    """The shared client for the current configuration; ``None`` without a token."""
    config = config or load_config()
    if not config.has_token:
        return None
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            client = _clients[config] = DadataClient(config)
        return client
