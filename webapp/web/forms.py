"""WTForms for the HTML pages. Each form renders its errors beside its fields."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import ClassVar

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    Optional,
    ValidationError,
)

from .. import accounts
from ..generation import choice, contract, service
from ..generation.errors import GenerationError
from ..limits import MAX_SCRIPT_CHARS


def account_rule(check: Callable[[str], str]):
    """A validator that applies one of the rules of ``accounts`` (``checked_email``,
    ``checked_password``) beside the field, in that rule's words."""

    def validate(form, field) -> None:
        try:
            check(field.data or "")
        except accounts.AccountError as error:
            raise ValidationError(str(error)) from None

    return validate


class SetupForm(FlaskForm):
    name = StringField("Your name", validators=[Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), account_rule(accounts.checked_email)])
    password = PasswordField("Password", validators=[DataRequired(), account_rule(accounts.checked_password)])
    confirm = PasswordField(
        "Repeat the password", validators=[DataRequired(), EqualTo("password", "The passwords do not match.")]
    )
    workspace = StringField("Workspace name", validators=[DataRequired(), Length(max=120)])
    plan = SelectField("Plan")
    demo = BooleanField("Start with the demo catalog: products with photos to make videos of", default=True)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), account_rule(accounts.checked_email)])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me logged in")
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=[DataRequired(), account_rule(accounts.checked_password)])
    confirm = PasswordField(
        "Repeat the new password", validators=[DataRequired(), EqualTo("password", "The passwords do not match.")]
    )


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=80)])


class PlanForm(FlaskForm):
    plan = SelectField("Plan")


class ContractForm(FlaskForm):
    """A form whose rules are not here: its answers go through the input contract
    (``generation.contract``), and a refusal comes back with every problem, each shown beside
    the field it names (``show``)."""

    FIELDS: ClassVar[dict[str, str]] = {}  # the contract's field paths -> this form's fields

    def field_named(self, name: str | None):
        """The form field that an error from the input contract is about (None: no field here)."""
        for prefix, attribute in sorted(self.FIELDS.items(), key=lambda kv: -len(kv[0])):
            if name and (name == prefix or name.startswith((prefix + "[", prefix + "."))):
                return getattr(self, attribute)
        return None

    def show(self, error: GenerationError) -> None:
        """Each problem of a refusal beside its field (the first field's, when none is here),
        all at once."""
        for name, message in error.problems:
            field = self.field_named(name) or next(iter(self))
            field.errors = [*field.errors, beside_the_field(name, message)]

    def said(self, error: GenerationError) -> list[str]:
        """Each problem of a refusal as a sentence that names the field by its label, for a
        form that shows its errors in one place (the bulk bar's dialog)."""
        sentences = []
        for name, message in error.problems:
            field = self.field_named(name)
            sentences.append(f"{field.label.text}: {beside_the_field(name, message)}" if field else message)
        return sentences


class VideoChoices(ContractForm):
    """What a generate form and the bulk bar ask about the videos."""

    provider = SelectField("Made by", validate_choice=False)
    model = SelectField("Model", validate_choice=False)
    aspect_ratio = SelectField(
        "Aspect ratio",
        choices=[("16:9", "16:9 landscape"), ("9:16", "9:16 vertical"), ("1:1", "1:1 square")],
        default="16:9", validate_choice=False,
    )
    resolution = SelectField(
        "Resolution",
        choices=[("", "Standard"), ("1080p", "Full HD")],
        default="", validate_choice=False,
    )
    duration = IntegerField("Length (seconds)", validators=[Optional()], render_kw={"min": 5, "max": 30})
    voiceover = BooleanField("Voiceover: a voice speaks the script", default=True)
    music = BooleanField("Add a music bed")

    FIELDS: ClassVar[dict[str, str]] = {
        "provider": "provider", "model": "model", "options.aspectRatio": "aspect_ratio",
        "options.resolution": "resolution", "options.duration": "duration", "options.music": "music", "options.voiceover": "voiceover",
    }

    def options(self) -> dict:
        return {"aspect_ratio": self.aspect_ratio.data, "resolution": self.resolution.data or None,
                "duration": self.duration.data,
                "voiceover": bool(self.voiceover.data), "music": bool(self.music.data)}

    def choice(self) -> dict:
        return {"provider": self.provider.data or None, "model": self.model.data or None}


CHOOSE_A_PRODUCT = "Choose a product."


class GenerateForm(VideoChoices):
    """One video for one product."""

    product_id = SelectField("Product", coerce=str, validate_choice=False,
                             validators=[DataRequired(CHOOSE_A_PRODUCT)], render_kw={"data-missing": CHOOSE_A_PRODUCT})
    template = HiddenField("Template", default="product_showcase")
    custom_instructions = TextAreaField("Custom instructions", render_kw={"maxlength": 500, "rows": 3})
    # counted as it is typed; not cut off at the limit (maxlength would cut a pasted script short)
    script = TextAreaField("Script: what the voiceover says, line by line",
                           render_kw={"rows": 5, "data-counter": "script-hint", "data-counter-max": MAX_SCRIPT_CHARS,
                                      "data-counts": "lines", "data-max-lines": contract.MAX_SCRIPT_LINES,
                                      "data-max-line-chars": contract.MAX_SCRIPT_LINE_CHARS,
                                      "data-live-error": "script-live-error"})
    script_edited = HiddenField(default="")  # set by the page once the merchant types in the script
    submission = HiddenField()  # this form's one-time token: sent twice as it is, it makes one video
    captions = TextAreaField("Captions (one per line, spread over the video; replace the word-by-word captions)",
                             render_kw={"rows": 2})

    FIELDS: ClassVar[dict[str, str]] = {
        **VideoChoices.FIELDS, "productId": "product_id", "template": "template",
        "customInstructions": "custom_instructions", "options.script": "script", "options.captions": "captions",
    }

    def script_chars(self) -> int:
        """What the script's counter shows: what the limit counts."""
        return contract.spoken_chars(self.script.data or "")

    def request_data(self) -> dict:
        """The form's answers, as the input contract reads them (``generation.contract.CreateVideo``)."""
        return {
            "product_id": self.product_id.data, "template": self.template.data,
            "custom_instructions": self.custom_instructions.data or "", **self.choice(),
            "options": {**self.options(), "script": self.script.data or None,
                        "captions": [line for line in (self.captions.data or "").splitlines() if line.strip()]},
        }

    def submission_token(self) -> str | None:
        """The token this form was drawn with (None: sent by something other than our page)."""
        token = self.submission.data or ""
        return token if re.fullmatch(r"[0-9a-f]{32}", token) else None


class BulkForm(VideoChoices):
    template = SelectField("Template", validate_choice=False)
    skip_existing = BooleanField("Skip products that already have a completed video with this template", default=True)

    FIELDS: ClassVar[dict[str, str]] = {**VideoChoices.FIELDS, "template": "template", "skipExisting": "skip_existing"}

    def request_data(self, product_ids: list[str]) -> dict:
        """The bar's answers, as the input contract reads them (``generation.contract.BulkCreate``)."""
        return {"product_ids": product_ids, "template": self.template.data, "skip_existing": self.skip_existing.data,
                **self.choice(), "options": self.options()}


def fill_choices(form: VideoChoices) -> None:
    """The providers a video may choose here (the default first), and their models."""
    offers = choice.offers()
    form.provider.choices = [(offer.name, offer.label) for offer in offers]
    form.model.choices = [("", "Its default")] + [
        (model.key, f"{offer.label}: {model.name} ({model.rules()})") for offer in offers for model in offer.models
    ]


def fill_generate_form(form: GenerateForm, product) -> None:
    """Fills what the generate form offers, and the script the video will say (the product's
    own, until the merchant types instructions or edits it)."""
    fill_choices(form)
    if form.submission_token() is None:
        form.submission.data = uuid.uuid4().hex
    if product is not None and not form.script.data:
        form.script.data = service.draft_script(product, form.custom_instructions.data or "")


def beside_the_field(name: str | None, message: str) -> str:
    """A contract error as shown beside the form field it is about, which names the field
    already: the API's "ctaUrl must be an http(s) URL." reads "Must be an http(s) URL." there."""
    if not name or not message.startswith(name):
        return message
    rest = message[len(name):].lstrip(" :")
    return rest[:1].upper() + rest[1:]
