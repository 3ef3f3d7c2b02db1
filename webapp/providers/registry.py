"""Picks and builds providers. One instance per provider per process, built on first use."""

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
        # "package.module:Class" plugs in a provider of one's own (the benchmarks' stub is one)
        target = PROVIDERS.get(name) or (name if ":" in name else None)
        if target is None:
            raise ProviderError(f"Unknown video provider {name!r}. Choose one of: {', '.join(PROVIDERS)}.")
        module_name, _, class_name = target.partition(":")
        provider_class = getattr(importlib.import_module(module_name), class_name)
        built[name] = provider_class(current_app.config, reporter=current_app.extensions.get(REPORTER))
    return built[name]


def shutdown_providers(app) -> None:
    """Ends the providers' background work in this process (the local renders)."""
    for provider in app.extensions.pop(_EXTENSION, {}).values():
        if hasattr(provider, "shutdown"):
            provider.shutdown()
