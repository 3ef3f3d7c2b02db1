"""Arbitrary input at every route: no answer is ever a 5xx.

Hypothesis throws strings at each route's path parameters, query parameters, form fields,
JSON bodies and webhook payloads (signed, so they get past the signature check): Unicode
digits that ``str.isdigit()`` takes and ``int()`` refuses, numbers beyond 64 bits, ``1e400``,
NUL bytes, very long names, and plain random text. Routes are read from the app, so a new
route is fuzzed without anyone remembering to add it.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_config, make_product
from tests.integration.api_support import completed_video
from webapp import accounts, create_app
from webapp import standard_webhooks as signature

NASTY = [
    "²", "³", "٣", "１２", "⁵", "①", "߀", "0", "-1", "+1", "1.5", "1e400", "-1e400", "NaN", "inf",
    str(2**31), str(2**63), str(2**64 + 1), "9" * 40, "\x00", "1\x00", "a" * 5000, "../" * 50, "%00", "%2e%2e",
    "", " ", "true", "null", "[]", "{}", "😀", "\u202e", "ٰ", "<script>",
]
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=60))
QUERY_NAMES = [
    "page", "q", "status", "sort", "order", "watch", "view", "new", "product", "product_id", "selected", "limit",
    "productId", "search", "sortBy", "sortOrder", "orderBy", "orderDirection", "download", "next", "template",
]
FORM_NAMES = [
    "product_id", "template", "custom_instructions", "aspect_ratio", "duration", "captions", "music", "product_ids",
    "skip_existing", "name", "email", "password", "current", "confirm", "direction", "upload", "view", "from_page",
    "title", "sku", "price", "description", "external_key", "vendor", "workspace", "plan", "remember",
]
json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(
        ["productId", "productIds", "template", "options", "aspectRatio", "duration", "captions", "music",
         "customInstructions", "start", "end", "startTime", "endTime", "text", "videoId", "skipExisting"]
    ), children, max_size=5),
    max_leaves=10,
)

# Routes whose very purpose would end the fuzzing session.
SKIPPED = {"auth.logout", "static"}


def _rules():
    import tempfile
    from pathlib import Path

    app = create_app(make_config(Path(tempfile.mkdtemp()), None))
    return sorted(
        ((rule.rule, method, rule.endpoint) for rule in app.url_map.iter_rules() if rule.endpoint not in SKIPPED
         for method in sorted(rule.methods - {"HEAD", "OPTIONS"})),
    )


RULES = _rules()
PLACEHOLDER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


@pytest.fixture
def target(app, workspace, owner):
    product = make_product(workspace, "Fuzz Lamp")
    video = completed_video(workspace, owner, product)
    _, token = accounts.create_token(owner, workspace, "fuzz")
    client = app.test_client()
    from tests.conftest import PASSWORD

    assert client.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 302
    valid = [str(product.id), str(video.id), str(product.images[0].id), str(workspace.id), "product_showcase",
             "video", "poster", "preview", "local", "rck", "kie", "taskapi"]
    return {"client": client, "token": token, "valid": valid, "secret": app.config["WEBHOOK_SECRET"]}


JSON_KEYS = ["productId", "productIds", "template", "options", "customInstructions", "videoId", "skipExisting"]


def _send(target, rule, method, path, query, form, body):
    url = PLACEHOLDER.sub(lambda m: quote(path[m.group(1)], safe=""), rule)
    headers = {}
    kwargs: dict = {"query_string": query}
    if rule.startswith("/api/"):
        headers["Authorization"] = f"Bearer {target['token']}"
        if method in ("POST", "PUT", "PATCH"):
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
    elif rule.startswith(("/webhooks/", "/internal/")):
        raw = json.dumps(body).encode()
        stamp = int(time.time())
        message_id = f"msg_{time.time_ns()}"
        key = signature.parse_secrets(target["secret"])[0]
        headers.update({"webhook-id": message_id, "webhook-timestamp": str(stamp),
                        "webhook-signature": signature.sign(key, message_id, stamp, raw)})
        kwargs["data"], kwargs["content_type"] = raw, "application/json"
    elif method == "POST":
        kwargs["data"] = form
    return url, target["client"].open(url, method=method, headers=headers, **kwargs)


def _check(endpoint, method, url, query, response):
    # 503 on purpose: no worker runs in these tests (readyz); a provider whose callbacks have no
    # key set refuses them all, whatever they say (not_configured)
    not_ready = response.status_code == 503 and (
        endpoint == "system.readyz" or (response.is_json and response.get_json()["error"]["code"] == "not_configured"))
    assert response.status_code < 500 or not_ready, (method, url[:200], query, response.get_data(as_text=True)[:300])


IDS = [f"{m} {r}" for r, m, _ in RULES]


@pytest.mark.parametrize(("rule", "method", "endpoint"), RULES, ids=IDS)
def test_every_nasty_value_in_every_parameter(target, rule, method, endpoint):
    """Each value known to have broken a parser, put in every parameter of the route at once."""
    for value in NASTY:
        path = {name: value for name in PLACEHOLDER.findall(rule)}
        query = dict.fromkeys(QUERY_NAMES, value)
        form = {**dict.fromkeys(FORM_NAMES, value), "product_ids": [value, target["valid"][0]]}
        body = {**dict.fromkeys(JSON_KEYS, value), "options": {"duration": value, "captions": [value]}}
        url, response = _send(target, rule, method, path, query, form, body)
        _check(endpoint, method, url, query, response)


@pytest.mark.parametrize(("rule", "method", "endpoint"), RULES, ids=IDS)
def test_no_input_makes_a_server_error(target, rule, method, endpoint):
    """Random values, mixed with valid ids so that the checks past the first one run too."""
    segment = st.one_of(st.sampled_from(target["valid"]), text)

    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        path=st.fixed_dictionaries({name: segment for name in PLACEHOLDER.findall(rule)}),
        query=st.dictionaries(st.sampled_from(QUERY_NAMES), segment, max_size=6),
        form=st.dictionaries(st.sampled_from(FORM_NAMES), st.one_of(segment, st.lists(segment, max_size=3)), max_size=8),
        body=json_value,
    )
    def run(path, query, form, body):
        url, response = _send(target, rule, method, path, query, form, body)
        _check(endpoint, method, url, query, response)

    run()
