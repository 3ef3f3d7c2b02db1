"""Web addresses as merchants type them (a product's page, the store's address, the brand's
link): in a layer of their own, so the catalog and the input contract read them alike."""

from __future__ import annotations

import re

HTTP_URL = re.compile(r"https?://[^/?#\s]+(?:[/?#]\S*)?", re.IGNORECASE)
_BARE_HOST = re.compile(r"(?:[\w-]+\.)+[a-z]{2,}(?::\d+)?", re.IGNORECASE)  # shop.example.com, shop.example.com:8443


def with_scheme(text: str) -> str:
    """``text`` with ``https://`` in front when it begins with a bare host name, as an address
    bar reads ``shop.example.com/mugs``; anything else unchanged, for the caller to judge."""
    if "://" not in text and _BARE_HOST.fullmatch(re.split(r"[/?#]", text, maxsplit=1)[0]):
        return f"https://{text}"
    return text
