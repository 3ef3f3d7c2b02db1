"""The download guard: only globally routable addresses, the connection pinned to the address
that was checked (no second DNS lookup), limits enforced while streaming."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from webapp.fetch import FetchError, download, is_public_address, open_stream

NOT_PUBLIC = [
    "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "100.100.100.200", "0.0.0.0", "192.0.2.10", "198.18.0.1", "224.0.0.1", "255.255.255.255",
    "::1", "::", "fc00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:100.100.100.200",
    "::ffff:169.254.169.254", "2001:db8::1", "not an address",
]
PUBLIC = ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_addresses_that_are_not_globally_routable_are_refused(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_globally_routable_addresses_are_allowed(address):
    assert is_public_address(address)


class _Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []
    body = b"x" * 1000

    def do_GET(self):
        type(self).requests.append(self.headers.get("Host", ""))
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        if self.path != "/no-length":
            self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


@pytest.fixture
def dns(monkeypatch):
    """A resolver for made-up names: each lookup of a name takes the next of its answers.
    Numeric addresses resolve as usual (that is what a pinned connection asks for)."""
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            lookups.append(host)
            address = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


def test_a_name_resolving_to_the_metadata_service_is_refused(dns, server):
    answers, _ = dns
    answers["metadata.example"] = ["100.100.100.200"]
    with pytest.raises(FetchError, match="private address"):
        download("http://metadata.example/latest/meta-data", max_bytes=10_000, allowed_types=("image/",))


def test_literal_private_addresses_are_refused_without_connecting(server):
    port = server.server_port
    for url in (f"http://127.0.0.1:{port}/", f"http://[::ffff:127.0.0.1]:{port}/", "http://100.100.100.200/"):
        with pytest.raises(FetchError, match="private address"):
            download(url, max_bytes=10_000, allowed_types=("image/",))
    assert _Handler.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(dns, server):
    """DNS rebinding: the name first answers a public address (checked and allowed), then the
    loopback server. A second lookup at connect time would reach the loopback server; the
    pinned connection goes to the checked address instead (which does not answer here)."""
    answers, lookups = dns
    answers["rebind.example"] = ["8.8.8.8", "127.0.0.1"]  # 8.8.8.8: public, unreachable from a test run
    with pytest.raises(FetchError) as raised:
        download(f"http://rebind.example:{server.server_port}/photo.jpg", max_bytes=10_000,
                 allowed_types=("image/",), timeout=(0.5, 0.5))
    assert raised.value.retryable
    assert lookups == ["rebind.example"]
    assert _Handler.requests == []


def test_a_pinned_download_keeps_the_host_name(dns, server):
    answers, lookups = dns
    answers["shop.example"] = ["127.0.0.1", "10.9.9.9"]
    got = download(f"http://shop.example:{server.server_port}/photo.jpg", max_bytes=10_000,
                   allowed_types=("image/",), allow_private=True)
    assert got.content == _Handler.body
    assert _Handler.requests == [f"shop.example:{server.server_port}"]
    assert lookups == ["shop.example"]


@pytest.mark.parametrize("path", ["/with-length", "/no-length"])
def test_the_size_limit_holds_while_streaming(server, path):
    with pytest.raises(FetchError, match="larger than"):
        download(f"http://127.0.0.1:{server.server_port}{path}", max_bytes=999, allowed_types=("image/",),
                 allow_private=True)


def test_streamed_chunks_add_up_to_the_body(server):
    with open_stream(f"http://127.0.0.1:{server.server_port}/no-length", max_bytes=10_000,
                     allowed_types=("image/",), allow_private=True) as stream:
        assert stream.declared_length is None
        assert b"".join(stream.chunks()) == _Handler.body
