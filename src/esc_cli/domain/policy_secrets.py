"""A policy's secrets kept out of sight: channel settings masked for display, and
every secret replaced in free text (error messages, logs)."""

from __future__ import annotations

import copy
from typing import Any

MASK = "****"


def masked(doc: dict) -> dict:
    """A copy for display: header values, a URL's userinfo, path, query and fragment, and every
    argv element after the first replaced by ****."""
    out = copy.deepcopy(doc)
    channels = out.get("channels") if isinstance(out, dict) else None
    if not isinstance(channels, list):
        return out
    for channel in channels:
        if not isinstance(channel, dict):
            continue
        argv = channel.get("argv")
        if isinstance(argv, list) and argv:
            channel["argv"] = [argv[0], *([MASK] * (len(argv) - 1))]
        if isinstance(channel.get("url"), str):
            channel["url"] = mask_url(channel["url"])
        headers = channel.get("headers")
        if isinstance(headers, dict):
            channel["headers"] = {k: MASK for k in headers}
    return out


def mask_url(url: str) -> str:
    """`https://user:pw@host:8443/hooks/T0KEN?x=1` -> `https://****@host:8443/****?****`."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    if ":" in host:
        host = f"[{host}]"
    text = f"{parts.scheme}://"
    if "@" in parts.netloc:
        text += f"{MASK}@"
    text += host + (f":{port}" if port is not None else "")
    if parts.path and parts.path != "/":
        text += f"/{MASK}"
    elif parts.path == "/":
        text += "/"
    if parts.query:
        text += f"?{MASK}"
    if parts.fragment:
        text += f"#{MASK}"
    return text


# Shorter strings are not masked in free text: replacing every "-v" or "1" would
# garble the message without hiding anything worth hiding.
_MIN_SECRET = 4


def mask_text(text: str, policy_doc: dict) -> str:
    """`text` with every secret of the policy's channels replaced (for error messages and logs)."""
    from urllib.parse import urlsplit

    replacements: dict[str, str] = {}

    def add(secret: Any, replacement: str = MASK) -> None:
        if isinstance(secret, str) and len(secret) >= _MIN_SECRET and secret not in replacements:
            replacements[secret] = replacement

    channels = policy_doc.get("channels") if isinstance(policy_doc, dict) else None
    for channel in channels if isinstance(channels, list) else []:
        if not isinstance(channel, dict):
            continue
        argv = channel.get("argv")
        if isinstance(argv, list):
            for arg in argv[1:]:
                add(arg)
        headers = channel.get("headers")
        if isinstance(headers, dict):
            for value in headers.values():
                add(value)
                if isinstance(value, str) and len(value.split()) > 1:
                    add(value.split()[-1])  # the credential of "Bearer T0KEN"
        url = channel.get("url")
        if isinstance(url, str):
            add(url, mask_url(url))
            try:
                parts = urlsplit(url)
            except ValueError:
                continue
            if "@" in parts.netloc:
                add(parts.netloc.rpartition("@")[0])
            if parts.path != "/":
                add(parts.path.lstrip("/"))
                add(parts.path.rstrip("/").rpartition("/")[2])  # the token of /hooks/T0KEN
            for part in (parts.query, parts.fragment):
                add(part)
    for secret in sorted(replacements, key=len, reverse=True):
        text = text.replace(secret, replacements[secret])
    return text
