"""Picks and builds providers. One instance per provider per process, built on first use.

Every configured provider is offered at once: the local renderer always, a remote provider when
its settings are filled in. ``VIDEO_PROVIDER`` names the installation's default, used for a
video that names none.
"""

from __future__ import annotations

import importlib

from flask import current_app

from .base import Provider, ProviderError

PROVIDERS = {
    "local": "webapp.providers.local:LocalProvider",
    "taskapi": "webapp.providers.taskapi:TaskApiProvider",
    "rck": "webapp.providers.rck:RckProvider",
    "kie": "webapp.providers.kie:KieProvider",
}

_EXTENSION = "reelboard.providers"
REPORTER = "reelboard.provider_reporter"


def default_provider_name() -> str:
    return current_app.config["VIDEO_PROVIDER"]


def get_provider(name: str | None = None) -> Provider:
    name = name or default_provider_name()
    built = current_app.extensions.setdefault(_EXTENSION, {})
    if name not in built:
        # "package.module:Class" plugs in a provider of one's own (the benchmarks' stub is one),
        # only as the configured VIDEO_PROVIDER: a name from a request (a webhook's path, a
        # video's provider) never picks a module to import
        own = name == default_provider_name() and ":" in name
        target = PROVIDERS.get(name) or (name if own else None)
        if target is None:
            raise ProviderError(f"Unknown video provider {name!r}. Choose one of: {', '.join(PROVIDERS)}.")
        module_name, _, class_name = target.partition(":")
        provider_class = getattr(importlib.import_module(module_name), class_name)
        built[name] = provider_class(current_app.config, reporter=current_app.extensions.get(REPORTER))
    return built[name]


def provider_label(name: str) -> str:
    """How pages name the provider ``name`` (its own name when it is not known here)."""
    try:
        return get_provider(name).label or name
    except ProviderError:
        return name


def offered_providers() -> list[Provider]:
    """The providers a video may choose here: the default first, then every other provider
    whose settings are filled in."""
    default = default_provider_name()
    names = [default, *(name for name in PROVIDERS if name != default)]
    return [provider for provider in map(get_provider, names) if provider.configured]


def shutdown_providers(app) -> None:
    """Ends the providers' background work in this process (the local renders)."""
    for provider in app.extensions.pop(_EXTENSION, {}).values():
        provider.shutdown()
