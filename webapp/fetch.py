"""Downloading a URL someone else gave us (a provider's result, a catalog image) safely:
http(s) only, every hop's host checked against private address ranges, redirects followed by
hand (at most a few), a size limit, a content-type check, connect and read timeouts."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read
CHUNK = 64 * 1024


class FetchError(Exception):
    """The URL was refused or could not be fetched; the message says why, for a person."""


@dataclass(frozen=True)
class Downloaded:
    content: bytes
    content_type: str
    url: str  # after redirects


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
        or ip.is_multicast or ip.is_unspecified
    )


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Refuses what is not http(s), and hosts resolving to loopback, private, link-local or
    metadata addresses (169.254.169.254 is link-local) unless ``allow_private``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"Only http and https URLs can be downloaded, not {url[:100]!r}.")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"The host {parts.hostname} could not be found.") from error
    for info in infos:
        if _is_private(info[4][0]):
            raise FetchError(f"The host {parts.hostname} is a private address; downloading from it is not allowed.")


def download(
    url: str,
    *,
    max_bytes: int,
    allowed_types: tuple[str, ...],
    allow_private: bool = False,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    session: requests.Session | None = None,
) -> Downloaded:
    """GETs ``url``; the body must be at most ``max_bytes`` and of a type starting with one of
    ``allowed_types`` (e.g. ``("image/",)`` or ``("video/mp4",)``)."""
    http = session or requests.Session()
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        check_url(current, allow_private=allow_private)
        try:
            response = http.get(current, stream=True, timeout=timeout, allow_redirects=False)
        except requests.Timeout as error:
            raise FetchError(f"Timed out downloading {current[:200]}.") from error
        except requests.RequestException as error:
            raise FetchError(f"Could not connect to download {current[:200]}: {error.__class__.__name__}.") from error
        with response:
            if response.is_redirect:
                current = urljoin(current, response.headers.get("Location", ""))
                continue
            if response.status_code != 200:
                raise FetchError(f"The server answered {response.status_code} for {current[:200]}.")
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if not content_type.startswith(allowed_types):
                raise FetchError(f"Expected {' or '.join(allowed_types)} but got {content_type or 'no content type'}.")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"The file is larger than the {max_bytes // (1024 * 1024)} MB limit.")
            body = bytearray()
            try:
                for chunk in response.iter_content(CHUNK):
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise FetchError(f"The file is larger than the {max_bytes // (1024 * 1024)} MB limit.")
            except requests.RequestException as error:
                raise FetchError(f"The download of {current[:200]} broke off: {error.__class__.__name__}.") from error
            return Downloaded(bytes(body), content_type, current)
    raise FetchError(f"Too many redirects from {url[:200]}.")
