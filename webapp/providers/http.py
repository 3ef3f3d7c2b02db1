"""What the remote providers share: one ``requests.Session`` each, connect and read timeouts on
every call, small bounded in-call retries, and the classification of a failure that decides
what is safe to send again:

- ``Unreachable``: the request never reached the provider (connection refused, connect
  timeout). Always safe to send again.
- an answered 5xx or 429: the provider says it did not do it. Safe to send again; 429's
  Retry-After is honoured.
- ``OutcomeUnknown``: the request went out and its answer was lost (read timeout, dropped
  connection, an unreadable body). A submit may have been taken, so the generation layer
  reconciles it (``find_submitted``) instead of re-sending it blindly.

In-call retries are short (capped exponential back-off with full jitter); longer waits are
the worker's, through ``ProviderError(retryable=True, retry_after=...)``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .. import standard_webhooks
from ..video_templates import GENERIC_PROMPT, SEED_BY_KEY, SEED_TEMPLATES
from .base import (
    BadSignature,
    BaseProvider,
    GenerationRequest,
    ProviderError,
    ProviderNotConfigured,
    TemplateInfo,
)

log = logging.getLogger(__name__)


class Unreachable(ProviderError):
    """The request never reached the provider."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class OutcomeUnknown(ProviderError):
    """The request reached the provider but its answer was lost: it may have been carried out."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float
    read_timeout: float
    retries: int
    backoff: float
    backoff_cap: float
    pool_size: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HttpSettings:
        return cls(
            connect_timeout=float(config["PROVIDER_CONNECT_TIMEOUT_S"]),
            read_timeout=float(config["PROVIDER_READ_TIMEOUT_S"]),
            retries=max(0, int(config["PROVIDER_RETRIES"])),
            backoff=float(config["PROVIDER_BACKOFF_S"]),
            backoff_cap=float(config["PROVIDER_BACKOFF_CAP_S"]),
            pool_size=max(10, int(config["SYNC_THREADS"]) * 2),
        )


@dataclass(frozen=True)
class Answer:
    """A response the provider gave: its status, its JSON body (None when it has none)."""

    status: int
    data: Any
    text: str
    headers: Mapping[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def field(self, *path: str) -> Any:
        """``data[path[0]][path[1]]…``, or None where the body lacks it."""
        value = self.data
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    def message(self) -> str:
        """The provider's own explanation, from the usual fields of an error body."""
        for key in ("error", "message", "msg", "detail", "failMsg"):
            value = self.field(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("detail")
            if isinstance(value, str) and value.strip():
                return value.strip()[:500]
        return self.text.strip()[:200] or f"HTTP {self.status}"


def _never_sent(error: requests.RequestException) -> bool:
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError) and error.args:
        reason = getattr(error.args[0], "reason", error.args[0])
        return isinstance(reason, NewConnectionError | ConnectTimeoutError)
    return False


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(min(int(value[:12]), 86_400))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class ProviderHttp:
    """One provider's session. ``label`` names the provider in messages people read."""

    def __init__(self, label: str, settings: HttpSettings, headers: Mapping[str, str] | None = None) -> None:
        self.label = label
        self.settings = settings
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=settings.pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Accept": "application/json", "User-Agent": "Reelboard"})
        self.session.headers.update(headers or {})

    @property
    def timeout(self) -> tuple[float, float]:
        return self.settings.connect_timeout, self.settings.read_timeout

    def call(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> Answer:
        """Sends the request, retrying what is safe to retry, and returns the answer for any
        status but 429 and 5xx, which raise once the retries are spent.

        ``idempotent``: sending it twice does no harm (reads, uploads). A request that is not
        is only repeated when it surely did not reach the provider or was answered with 429/5xx.
        """
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self.session.request(method, url, timeout=self.timeout, allow_redirects=False, **kwargs)
            except requests.RequestException as error:
                failure = self._failure(error)
                if last or not (idempotent or isinstance(failure, Unreachable)):
                    raise failure from error
                self._pause(attempt, None)
                continue
            answer = self._answer(response)
            if answer.status == 429 or answer.status >= 500:
                wait = _retry_after(answer.headers.get("Retry-After"))
                failure = ProviderError(
                    f"{self.label} answered {answer.status}: {answer.message()}", retryable=True, retry_after=wait
                )
                if last or (wait is not None and wait > self.settings.backoff_cap):
                    raise failure  # a long Retry-After is the worker's wait, not this call's
                self._pause(attempt, wait)
                continue
            if answer.ok and answer.data is None and answer.text.strip():
                if not idempotent:
                    raise OutcomeUnknown(f"{self.label} answered with a body that is not JSON: {answer.text[:100]!r}")
                if not last:
                    self._pause(attempt, None)
                    continue
                raise ProviderError(
                    f"{self.label} answered with a body that is not JSON: {answer.text[:100]!r}", retryable=True
                )
            return answer
        raise AssertionError("unreachable")  # the loop returns or raises

    def _failure(self, error: requests.RequestException) -> ProviderError:
        if _never_sent(error):
            return Unreachable(f"{self.label} is unreachable ({error.__class__.__name__}).")
        if isinstance(error, requests.Timeout):
            return OutcomeUnknown(f"{self.label} did not answer within {self.settings.read_timeout:g} s.")
        return OutcomeUnknown(f"{self.label} dropped the connection before answering ({error.__class__.__name__}).")

    @staticmethod
    def _answer(response: requests.Response) -> Answer:
        text = response.text
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError:
            data = None
        return Answer(response.status_code, data, text, response.headers)

    def _pause(self, attempt: int, wait: float | None) -> None:
        ceiling = min(self.settings.backoff_cap, self.settings.backoff * 2**attempt)
        time.sleep(wait if wait is not None else random.uniform(0, ceiling))


def poll_interval(name: str, value: Any, default: tuple[float, float]) -> tuple[float, float]:
    """The setting ``name``: "2,15" or (2, 15) → (2.0, 15.0); the default when unset."""
    if not value:
        return default
    try:
        first, longest = (float(part) for part in (value.split(",") if isinstance(value, str) else value))
    except (TypeError, ValueError) as error:
        raise ProviderNotConfigured(f"{name} must be two numbers of seconds, first and longest, like \"2,15\".") from error
    if first <= 0:
        raise ProviderNotConfigured(f"{name} must be more than 0 seconds.")
    return first, max(first, longest)


class RemoteProvider(BaseProvider):
    """The parts every remote provider shares; each subclass speaks its provider's contract.
    Callbacks, where a provider sends them, are signed per Standard Webhooks with WEBHOOK_SECRET
    (a provider that signs its own way overrides ``verify_webhook``)."""

    default_poll_interval = (5.0, 30.0)

    def __init__(self, config: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        setting = f"{self.name.upper()}_POLL_S"
        self.poll_interval = poll_interval(setting, config.get(setting), self.default_poll_interval)
        self.submit_batch = max(1, int(config["PROVIDER_SUBMIT_BATCH"]))
        self.public_base_url = config["PUBLIC_BASE_URL"].rstrip("/")
        self.webhook_secret = config.get("WEBHOOK_SECRET", "")
        self.http = ProviderHttp(self.label, HttpSettings.from_config(config), headers)

    def capacity(self) -> int:
        # The provider queues what it cannot start yet; this bounds how many one tick submits.
        return self.submit_batch

    def templates(self) -> list[TemplateInfo]:
        return [TemplateInfo(t.key, t.name, t.description) for t in SEED_TEMPLATES]

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: float) -> str:
        if not self.capabilities.callbacks:
            return super().verify_webhook(headers, body, now)
        if not self.webhook_secret:
            raise ProviderNotConfigured("Callbacks are not accepted: WEBHOOK_SECRET is not set.")
        try:
            keys = standard_webhooks.parse_secrets(self.webhook_secret)
        except standard_webhooks.SignatureError as error:
            raise ProviderNotConfigured(str(error)) from error
        try:
            return standard_webhooks.verify(keys, headers, body, now)
        except standard_webhooks.SignatureError as error:
            raise BadSignature(str(error)) from error

    def refused(self, answer: Answer) -> ProviderError:
        """The error for an answer that is neither success nor 429/5xx (those raise in ``call``).

        Rejected credentials are the provider's problem, not the video's: retryable, so the
        circuit breaker opens and the settings page shows why, instead of failing every video."""
        if answer.status in (401, 403):
            return ProviderError(
                f"{self.label} rejected our credentials ({answer.status}): {answer.message()}", retryable=True
            )
        return ProviderError(f"{self.label} answered {answer.status}: {answer.message()}")

    @staticmethod
    def prompt(request: GenerationRequest) -> str:
        """The video described in words, from the template, the product and the instructions."""
        parts = [
            SEED_BY_KEY[request.template].prompt if request.template in SEED_BY_KEY else GENERIC_PROMPT,
            f"Product: {request.title}.",
        ]
        if request.description:
            parts.append(request.description[:400].strip())
        if request.price:
            parts.append(f"Price: {request.price}.")
        if request.script:  # the merchant's words (or the script written from them), said in order
            parts.append("The video says: " + " ".join(request.script))
        elif request.custom_instructions:
            parts.append(request.custom_instructions)
        return " ".join(parts)


def json_object(body: bytes, label: str) -> dict[str, Any]:
    """A callback's JSON object body, or a ProviderError that says what is wrong with it."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ProviderError(f"The {label} callback is not valid JSON.") from error
    if not isinstance(data, dict):
        raise ProviderError(f"The {label} callback must be a JSON object.")
    return data
