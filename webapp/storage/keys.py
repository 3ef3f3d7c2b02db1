"""The one rule for storage keys, the same on every backend.

A key is a clean relative path such as ``videos/3/17-9f2c4e1ab3d0.mp4``: segments of ASCII
letters, digits, ``.``, ``_`` and ``-`` joined by single slashes, none of them starting with a
dot. So no spelling of a key can leave the media root or the bucket prefix (``..``, a leading
``/``, a backslash, percent-encoded or full-width dots all fail), none can collide with the
hidden ``.part`` files of unfinished writes, and a key means the same file on a Linux disk and
as an S3 object name.
"""

from __future__ import annotations

import re

MAX_KEY_LENGTH = 512  # the width of the path columns in the database
# Below the filesystem's 255-byte name limit with room for the ``.part`` name of a write.
MAX_SEGMENT_LENGTH = 200
SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


class InvalidKey(ValueError):
    """The key is not a clean relative key; the message says why."""


def check_key(key: object) -> str:
    """Returns ``key`` if it is a clean relative key; raises InvalidKey otherwise."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("A storage key must be a non-empty string.")
    shown = repr(key[:80])
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"The storage key {shown}… is longer than {MAX_KEY_LENGTH} characters.")
    if any(ord(character) < 32 or 127 <= ord(character) < 160 for character in key):
        raise InvalidKey(f"The storage key {shown} contains a control character.")
    if "\\" in key:
        raise InvalidKey(f"The storage key {shown} contains a backslash.")
    if key.startswith("/"):
        raise InvalidKey(f"The storage key {shown} is absolute; keys are relative.")
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey(f"The storage key {shown} has an empty segment.")
        if segment in (".", ".."):
            raise InvalidKey(f"The storage key {shown} has a {segment!r} segment.")
        if segment.startswith("."):
            raise InvalidKey(f"The storage key {shown} names a hidden file.")
        if len(segment) > MAX_SEGMENT_LENGTH:
            raise InvalidKey(f"The storage key {shown} has a segment longer than {MAX_SEGMENT_LENGTH} characters.")
        if not SEGMENT.fullmatch(segment):
            raise InvalidKey(
                f"The storage key {shown} may only contain ASCII letters, digits, '.', '_', '-' and '/'."
            )
    return key
