"""Which template, provider and model make a video: the request's choice, checked against what
this installation offers.

The six seed templates are made by every provider without a template catalog of its own (the
local renderer renders them, the task API and Kie.ai get them as a prompt) and by RCK, whose
seed API takes the same names; a template from a provider's own catalog (RCK) is made by that
provider only. A video that names no provider gets its template's provider when the template
belongs to one, else the installation's default. A provider with several models (Kie.ai) uses
the one asked for, or its first; each model makes only some lengths and shapes (``ModelInfo``),
and a request for others is refused here, naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Template
from ..providers.base import ModelInfo, Provider, ProviderError
from ..providers.registry import default_provider_name, offered_providers
from ..video_templates import SEED_BY_KEY
from .contract import VideoRequest
from .errors import GenerationError
from .templates import all_templates, provider_catalog, template_by_key


@dataclass(frozen=True)
class Choice:
    template: Template
    provider: Provider
    model: str | None
    voiceover: bool


@dataclass(frozen=True)
class Offer:
    """A provider a video may choose here, with its models."""

    name: str
    label: str
    models: list[ModelInfo]


def offers() -> list[Offer]:
    """What this installation offers, the default first: for the generate form and the bulk bar."""
    return [Offer(p.name, p.label, p.models()) for p in offered_providers()]


def makers(template: Template) -> list[Provider]:
    """The offered providers that can make ``template``."""
    if template.key in SEED_BY_KEY:
        return offered_providers()
    return [p for p in offered_providers() if p.name == template.provider]


@dataclass(frozen=True)
class Catalog:
    """The templates a video may choose here, each with the offered providers that make it, and
    what a provider with a catalog of its own answered when asking it failed."""

    templates: list[tuple[Template, list[Provider]]]
    problems: list[str]


def catalog() -> Catalog:
    """The six seed templates, then the current catalog of each offered provider that has its
    own (RCK; asked again, it caches its answer). A provider that fails to answer leaves its
    own templates out and says why in ``problems``."""
    templates = {t.key: t for t in all_templates() if t.key in SEED_BY_KEY}
    problems = []
    for provider in offered_providers():
        if provider.capabilities.own_templates:
            try:
                templates.update((t.key, t) for t in provider_catalog(provider) if t.key not in templates)
            except ProviderError as error:
                problems.append(str(error))
    return Catalog([(template, makers(template)) for template in templates.values()], problems)


def choose(request: VideoRequest) -> Choice:
    template = template_by_key(request.template)
    if template is None:
        keys = ", ".join(t.key for t in all_templates())
        raise GenerationError(f"Unknown template {request.template!r}. Choose one of: {keys}.", "template")
    able = makers(template)
    if request.provider is None:
        own = template.key not in SEED_BY_KEY
        wanted = template.provider if own else default_provider_name()
        provider = next((p for p in able if p.name == wanted), able[0] if able else None)
    else:
        provider = next((p for p in able if p.name == request.provider), None)
    if provider is None:
        names = ", ".join(p.name for p in able) or "none is configured"
        subject = request.provider or default_provider_name()
        raise GenerationError(f"The template {template.name!r} cannot be made by {subject!r} here. "
                              f"Providers that make it: {names}.", "provider")
    model = _model(provider, request.model)
    if model is not None:
        _fits(model, request)
    _resolution_fits(provider, request)
    return Choice(template, provider, model.key if model else None, _voiceover(provider, request))


def _model(provider: Provider, wanted: str | None) -> ModelInfo | None:
    try:
        models = provider.models()
    except ProviderError as error:
        raise GenerationError(f"{provider.label} cannot say which models it offers: {error}", "model") from error
    if not models:
        if wanted is not None:
            raise GenerationError(f"{provider.label} has no models to choose from; leave model empty.", "model")
        return None
    if wanted is None:
        return models[0]
    found = next((m for m in models if m.key == wanted), None)
    if found is None:
        keys = ", ".join(m.key for m in models)
        raise GenerationError(f"{provider.label} offers the models {keys}, not {wanted!r}.", "model")
    return found


def _fits(model: ModelInfo, request: VideoRequest) -> None:
    """The request's length and shape are ones the model makes (an empty length: its default)."""
    duration, shape = request.options.duration, request.options.aspect_ratio
    if duration is not None and model.durations and duration not in model.durations:
        lengths = " or ".join(f"{d} s" for d in model.durations)
        raise GenerationError(f"{model.name} makes videos of {lengths}, not {duration} s. Choose one of those "
                              "lengths, or leave it empty for the model's default.", "options.duration")
    if model.aspect_ratios and shape not in model.aspect_ratios:
        shapes = " or ".join(model.aspect_ratios)
        raise GenerationError(f"{model.name} makes {shapes} videos, not {shape}. Choose one of those, or another "
                              "model.", "options.aspectRatio")


def _resolution_fits(provider: Provider, request: VideoRequest) -> None:
    """A resolution asked for is one the provider makes (an empty one: its standard size)."""
    wanted, made = request.options.resolution, provider.capabilities.resolutions
    if wanted is None or wanted in made:
        return
    if not made:
        raise GenerationError(f"{provider.label} makes its videos at its own size. Leave the resolution on "
                              "Standard.", "options.resolution")
    raise GenerationError(f"{provider.label} makes {' or '.join(made)} videos, not {wanted}.", "options.resolution")


def _voiceover(provider: Provider, request: VideoRequest) -> bool:
    wanted = request.options.voiceover
    if wanted is None:
        return provider.capabilities.voiceover
    if wanted and not provider.capabilities.voiceover:
        raise GenerationError(f"{provider.label} makes no voiceover; its videos say the script as captions "
                              "or in the prompt. Turn the voiceover off.", "options.voiceover")
    return wanted
