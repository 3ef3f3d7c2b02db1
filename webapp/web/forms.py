"""WTForms for the HTML pages. Each form renders its errors beside its fields."""

from __future__ import annotations

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
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length


class SetupForm(FlaskForm):
    name = StringField("Your name", validators=[Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=128)])
    confirm = PasswordField(
        "Repeat the password", validators=[DataRequired(), EqualTo("password", "The passwords do not match.")]
    )
    workspace = StringField("Workspace name", validators=[DataRequired(), Length(max=120)])
    plan = SelectField("Plan")
    demo = BooleanField("Add the demo catalog (products with photos) to try Reelboard with", default=True)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me logged in")
    next = HiddenField()


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=80)])


class GenerateForm(FlaskForm):
    """One video for one product. Choices are filled by the view; rules are checked by
    ``generation.service`` so the form and the API refuse the same things the same way."""

    product_id = SelectField("Product", coerce=str, validate_choice=False)
    template = HiddenField("Template", default="product_showcase")
    custom_instructions = TextAreaField("Custom instructions", render_kw={"maxlength": 500, "rows": 3})
    aspect_ratio = SelectField(
        "Aspect ratio",
        choices=[("16:9", "16:9 landscape"), ("9:16", "9:16 vertical"), ("1:1", "1:1 square")],
        default="16:9",
    )
    duration = IntegerField(
        "Duration (seconds)",
        default=8,
        validators=[InputRequired("Give the duration in seconds.")],
        render_kw={"min": 5, "max": 30},
    )
    captions = TextAreaField("Captions (one per line, spread over the video)", render_kw={"rows": 2})
    music = BooleanField("Add a music bed")

    def options(self) -> dict:
        return {
            "aspect_ratio": self.aspect_ratio.data,
            "duration": self.duration.data,
            "music": bool(self.music.data),
            "captions": [line for line in (self.captions.data or "").splitlines() if line.strip()],
        }

    def field_for(self, name: str | None):
        """The form field that an error from the generation service is about."""
        fields = {
            "productId": self.product_id,
            "template": self.template,
            "customInstructions": self.custom_instructions,
            "options.aspectRatio": self.aspect_ratio,
            "options.duration": self.duration,
            "options.music": self.music,
        }
        if name and name.startswith("options.captions"):
            return self.captions
        return fields.get(name or "", self.product_id)


class BulkForm(FlaskForm):
    template = SelectField("Template")
    aspect_ratio = GenerateForm.aspect_ratio
    duration = GenerateForm.duration
    music = BooleanField("Add a music bed")
    skip_existing = BooleanField("Skip products that already have a completed video with this template", default=True)
