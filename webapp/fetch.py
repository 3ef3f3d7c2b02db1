"""Downloading a URL someone else gave us (a provider's result, a catalog image) safely, and
POSTing to one (an outbound webhook) under the same rules.

- http(s) only; every hop of a redirect (followed by hand, at most a few) is checked again.
- The host is resolved once, every address it resolves to must be globally routable
  (``ipaddress.is_global``: no loopback, private, link-local, carrier-grade NAT such as the
  100.100.100.200 metadata service, reserved or documentation ranges; a v4-mapped v6 address is
  judged as the v4 address it carries), and the connection goes to the very address that was
  checked: a second DNS lookup could answer something else (DNS rebinding).
- The body is streamed: its size limit holds while it arrives, and its type is checked before
  the first byte of it is read.
- Connect and read timeouts on every request.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read
CHUNK = 64 * 1024
USER_AGENT = "Reelboard"
MAX_POOLS = 32


class FetchError(Exception):
    """The URL was refused or could not be fetched; the message says why, for a person.

    ``retryable``: the network failed (a timeout, a dropped connection, a 5xx); another try later
    may work. A refused address, a 4xx, a wrong type or size will not change by trying again."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Downloaded:
    content: bytes
    content_type: str
    url: str  # after redirects


def is_public_address(address: str) -> bool:
    """True only for a globally routable address (a v4-mapped v6 address is judged as v4)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    address: str  # the checked address the connection goes to
    path: str  # path and query, as sent


def _resolve(url: str, allow_private: bool, action: str = "downloading from it") -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"Only http and https URLs can be downloaded, not {url[:100]!r}.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise FetchError(f"The URL {url[:100]!r} has an invalid port.") from error
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as error:
        raise FetchError(f"The host {parts.hostname} could not be found.", retryable=True) from error
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise FetchError(f"The host {parts.hostname} could not be found.", retryable=True)
    if not allow_private and not all(is_public_address(address) for address in addresses):
        raise FetchError(f"The host {parts.hostname} is a private address; {action} is not allowed.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(parts.scheme, parts.hostname, port, addresses[0], path)


def _pinned(base: type[HTTPConnection]) -> type[HTTPConnection]:
    class Pinned(base):  # type: ignore[misc, valid-type]
        """Connects to ``pinned_address`` while the Host header, SNI and the certificate check
        keep the host name."""

        def __init__(self, *args, pinned_address: str, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.pinned_address = pinned_address

        def _new_conn(self) -> socket.socket:
            host = self._dns_host
            self._dns_host = self.pinned_address
            try:
                return super()._new_conn()
            finally:
                self._dns_host = host

    return Pinned


class _PinnedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _pinned(HTTPConnection)


class _PinnedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _pinned(HTTPSConnection)


_POOL_CLASSES = {"http": _PinnedHTTPPool, "https": _PinnedHTTPSPool}
# Connections to the same host (a CDN) are reused. Each process keeps its own: nothing here
# has to agree between processes.
_pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()


def _pool(target: _Target) -> urllib3.HTTPConnectionPool:
    key = (target.scheme, target.host, target.port, target.address)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            if len(_pools) >= MAX_POOLS:
                _pools.pop(next(iter(_pools))).close()
            pool_class = _POOL_CLASSES[target.scheme]
            pool = _pools[key] = pool_class(target.host, target.port, maxsize=4, block=False,
                                           pinned_address=target.address)
        return pool


@dataclass
class Stream:
    """An open response: its type and declared length are known, its body not yet read."""

    content_type: str
    url: str  # after redirects
    declared_length: int | None
    _response: urllib3.BaseHTTPResponse
    _max_bytes: int

    def chunks(self) -> Iterator[bytes]:
        """The body in chunks; raises FetchError once more than ``max_bytes`` arrived."""
        received = 0
        try:
            for chunk in self._response.stream(CHUNK):
                received += len(chunk)
                if received > self._max_bytes:
                    raise FetchError(f"The file is larger than the {_megabytes(self._max_bytes)} limit.")
                yield chunk
        except Urllib3Error as error:
            raise FetchError(
                f"The download of {self.url[:200]} broke off: {error.__class__.__name__}.", retryable=True
            ) from error


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


@contextmanager
def open_stream(
    url: str,
    *,
    max_bytes: int,
    allowed_types: tuple[str, ...],
    allow_private: bool = False,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> Iterator[Stream]:
    """GETs ``url`` (following checked redirects) and yields the response to be read in
    chunks. Its type must start with one of ``allowed_types`` (e.g. ``("image/",)``)."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        target = _resolve(current, allow_private)
        try:
            response = _pool(target).urlopen(
                "GET", target.path, headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
                redirect=False, retries=False, preload_content=False, assert_same_host=False,
                timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
            )
        except urllib3.exceptions.TimeoutError as error:
            raise FetchError(f"Timed out downloading {current[:200]}.", retryable=True) from error
        except Urllib3Error as error:
            raise FetchError(
                f"Could not connect to download {current[:200]}: {error.__class__.__name__}.", retryable=True
            ) from error
        try:
            if response.status in (301, 302, 303, 307, 308):
                current = urljoin(current, response.headers.get("Location", ""))
                continue
            if response.status != 200:
                raise FetchError(
                    f"The server answered {response.status} for {current[:200]}.", retryable=response.status >= 500
                )
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if not content_type.startswith(allowed_types):
                raise FetchError(f"Expected {' or '.join(allowed_types)} but got {content_type or 'no content type'}.")
            declared = response.headers.get("Content-Length", "")
            length = int(declared) if declared.isascii() and declared.isdigit() else None
            if length is not None and length > max_bytes:
                raise FetchError(f"The file is larger than the {_megabytes(max_bytes)} limit.")
            yield Stream(content_type, current, length, response, max_bytes)
            return
        finally:
            if response.isclosed():  # the whole body was read: the connection can be reused
                response.release_conn()
            else:
                response.close()
    raise FetchError(f"Too many redirects from {url[:200]}.")


SENDING = "sending to it"


def check_destination(url: str, *, allow_private: bool = False) -> None:
    """Raises FetchError unless a request could be sent to ``url`` now: http(s), a host that
    resolves, and only to public addresses (unless ``allow_private``)."""
    _resolve(url, allow_private, SENDING)


@dataclass(frozen=True)
class Posted:
    """What the destination of a POST answered: its status and the start of its body."""

    status: int
    excerpt: str


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_private: bool = False,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    excerpt_bytes: int = 1024,
) -> Posted:
    """POSTs ``body`` to ``url`` on a connection pinned to the checked address, as downloads
    are. A redirect is not followed (it is an answer like any other); at most ``excerpt_bytes``
    of the answer are read; the whole exchange is bounded by the two timeouts together."""
    target = _resolve(url, allow_private, SENDING)
    try:
        response = _pool(target).urlopen(
            "POST", target.path, body=body, headers={"User-Agent": USER_AGENT, **headers},
            redirect=False, retries=False, preload_content=False, assert_same_host=False,
            timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1], total=sum(timeout)),
        )
    except urllib3.exceptions.TimeoutError as error:
        raise FetchError(f"Timed out sending to {url[:200]}.", retryable=True) from error
    except Urllib3Error as error:
        raise FetchError(f"Could not connect to {url[:200]}: {error.__class__.__name__}.", retryable=True) from error
    try:
        excerpt = response.read(excerpt_bytes)
    except Urllib3Error:  # the status arrived; a body that broke off changes nothing
        excerpt = b""
    finally:
        if response.isclosed():  # the whole answer was read: the connection can be reused
            response.release_conn()
        else:
            response.close()
    return Posted(response.status, excerpt.decode("utf-8", "replace"))


def download(
    url: str,
    *,
    max_bytes: int,
    allowed_types: tuple[str, ...],
    allow_private: bool = False,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> Downloaded:
    """The whole body in memory: for small files (images). Large ones stream (``open_stream``)."""
    with open_stream(url, max_bytes=max_bytes, allowed_types=allowed_types, allow_private=allow_private,
                     timeout=timeout) as stream:
        return Downloaded(b"".join(stream.chunks()), stream.content_type, stream.url)
