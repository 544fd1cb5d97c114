"""Quiz forms: the quiz settings (the plugin's authoring form) and the question bank editor.

Both validate through the same functions as the course import (``clean_settings``,
``clean_question``), so the browser and an archive accept exactly the same data.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import ListWidget

from courses.quiz.bank import QuestionError, clean_question
from courses.quiz.models import FEEDBACK_MODES
from courses.quiz.settings import check_against_bank, clean_settings
from lms.urls import parse_id

OPTION_ROWS = 6


class RadioList(ListWidget):
    """Radios as a plain list with our own class (the shared field macro passes ``class_``,
    which a list of radios cannot use)."""

    def __init__(self) -> None:
        super().__init__(html_tag="ul", prefix_label=False)

    def __call__(self, field, **kwargs: Any) -> Markup:
        kwargs.pop("class_", None)
        kwargs.pop("class", None)
        return super().__call__(field, class_="quiz-radios", **kwargs)


def split_keys(text: str | list[str] | None) -> list[str]:
    """Question keys, in order and once each, from ticked boxes (a list) or typed text
    ("q1, q2 q3": commas, spaces or new lines; the archive and older clients send that)."""
    parts = text if isinstance(text, list) else [text or ""]
    keys = [k for part in parts for k in str(part or "").replace(",", " ").split() if k]
    return list(dict.fromkeys(keys))


class QuestionPickerWidget:
    """The course's bank as a list of questions to tick, the chosen ones first, in quiz order
    (a small script adds "move up/down"; without it the order is the order shown)."""

    def __call__(self, field: QuestionPickerField, **kwargs: Any) -> Markup:
        return Markup(render_template("quiz/_question_picker.html", field=field))


class QuestionPickerField(Field):
    """Questions of a fixed quiz, picked from the bank; ``data`` is the list of keys in order.

    The plugin's ``prepare_form`` fills ``bank`` (the course's questions) and ``create_links``
    (where to write a new one and come back)."""

    widget = QuestionPickerWidget()
    render_whole = True  # the widget draws its own legend, hint and errors

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bank: list[Any] = []
        self.create_links: list[tuple[str, str]] = []
        self.bank_url = ""

    def process_formdata(self, valuelist: list[str]) -> None:
        """Read the chosen question keys from the form."""
        self.data = split_keys(list(valuelist))

    def process_data(self, value: Any) -> None:
        """Read the chosen question keys from stored data."""
        self.data = split_keys(value if isinstance(value, list | str) else None)

    def rows(self) -> list[tuple[Any, bool]]:
        """(question, picked) for every bank question: picked ones first, in the quiz's order."""
        by_key = {q.key: q for q in self.bank}
        picked = [by_key[k] for k in self.data or [] if k in by_key]
        rest = [q for q in self.bank if q.key not in set(self.data or [])]
        return [(q, True) for q in picked] + [(q, False) for q in rest]

    def missing(self) -> list[str]:
        """Chosen keys no longer in the bank (shown, so saving does not drop them silently)."""
        keys = {q.key for q in self.bank}
        return [k for k in self.data or [] if k not in keys]


def settings_content(data: dict[str, Any]) -> dict[str, Any]:
    """Archive-format quiz content from the settings form's data (without the pass mark: it is
    the activity's common ``pass_mark`` field, edited on the generic activity form)."""
    content: dict[str, Any] = {
        "attempts_allowed": data.get("attempts_allowed"),
        "time_limit_minutes": data.get("time_limit_minutes"),
        "shuffle": bool(data.get("shuffle")),
        "feedback_mode": data.get("feedback_mode") or "immediate",
        "close_at": data.get("close_at"),
    }
    if data.get("selection") == "random":
        content["random"] = {
            "category": (data.get("random_category") or "").strip(),
            "count": data.get("random_count"),
        }
    else:
        content["question_keys"] = split_keys(data.get("question_keys"))
    return content


class QuizSettingsForm(FlaskForm):
    """The quiz's own fields inside the generic activity edit page."""

    course_id = HiddenField()
    selection = RadioField(
        "How questions are chosen",
        choices=[
            SelectChoice("fixed", "A fixed list of questions, in the order given"),
            SelectChoice(
                "random", "A random draw from one category of the question bank, for each attempt"
            ),
        ],
        default="fixed",
        widget=RadioList(),
    )
    question_keys = QuestionPickerField(
        "Questions, in order",
        description="For a fixed list: tick the questions of the course's question bank this "
        "quiz asks, and put them in order.",
    )
    random_category = StringField(
        "Category to draw from", description="For a random draw: a category of the question bank."
    )
    random_count = IntegerField(
        "Number of questions to draw",
        validators=[Optional(), NumberRange(min=1, max=500, message="Draw 1 to 500 questions.")],
    )
    attempts_allowed = IntegerField(
        "Attempts allowed",
        description="Leave empty for unlimited attempts. The best attempt counts.",
        validators=[Optional(), NumberRange(min=1, max=100, message="Allow 1 to 100 attempts.")],
    )
    time_limit_minutes = IntegerField(
        "Time limit (minutes)",
        description="Leave empty for no limit. When the time runs out the attempt is submitted "
        "automatically with the answers saved so far.",
        validators=[
            Optional(),
            NumberRange(min=1, max=1440, message="Enter 1 to 1440 minutes (24 hours)."),
        ],
    )
    shuffle = BooleanField(
        "Shuffle questions and answer options for each attempt",
        description="The order is kept for the whole attempt, also after a reload.",
    )
    close_at = DateTimeLocalField(
        "Closes (UTC)",
        format="%Y-%m-%dT%H:%M",
        description="Optional. No attempt can be started after this; learners see the date in "
        "their calendar.",
        validators=[Optional()],
    )
    feedback_mode = RadioField(
        "What learners see after submitting",
        choices=[SelectChoice(value, label) for value, label in FEEDBACK_MODES.items()],
        default="immediate",
        widget=RadioList(),
    )

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the quiz settings checked against the course's bank."""
        if not super().validate(extra_validators):
            return False
        try:
            clean = clean_settings(settings_content(self.data))
            course_id = parse_id(str(self.course_id.data or ""))
            if course_id is not None:
                check_against_bank(course_id, clean)
        except ValueError as exc:
            message = str(exc)
            target = self.question_keys
            if "count" in message or "fewer than" in message:
                target = self.random_count
            elif "random" in message or "category" in message:
                target = self.random_category
            target.errors = [*target.errors, _sentence(message)]
            return False
        return True


def _num(value: Any) -> str:
    """A number as an author would type it: 3.14, 2, 1e-06 (no float noise like 3.1400000001)."""
    return f"{float(value):.12g}"


def _sentence(message: str) -> str:
    message = message.strip()
    return (message[:1].upper() + message[1:]).rstrip(".") + "."


class OptionForm(Form):
    """One answer option of a choice question with its feedback."""

    text = StringField("Option text")
    correct = BooleanField("Correct")
    feedback = StringField("Feedback when chosen")


class QuestionForm(FlaskForm):
    """One bank question; which fields apply depends on the type (fixed once saved)."""

    key = StringField(
        "Key",
        description="A short name quizzes use to pick this question, unique in the course "
        "(letters, digits, dots, dashes). Leave empty for the next free one (q1, q2...).",
    )
    category = StringField(
        "Category", description="Questions of a category can be drawn at random by a quiz."
    )
    prompt = TextAreaField(
        "Question",
        description="Markdown: code, tables and images are allowed.",
        render_kw={"rows": 6},
    )
    points = StringField("Points", default="1")
    # choice types
    options = FieldList(FormField(OptionForm), min_entries=OPTION_ROWS, max_entries=12)
    # true/false
    tf_answer = RadioField(
        "The statement is",
        choices=[SelectChoice("true", "True"), SelectChoice("false", "False")],
        validators=[Optional()],
    )
    # numeric
    answer = StringField("Correct answer", description="A number, e.g. 3.14 or -2e-3.")
    tolerance = StringField(
        "Tolerance",
        default="0",
        description="Answers within ± this much of the correct answer are right; 0 for exact.",
    )
    # short answer
    accepted = TextAreaField(
        "Accepted answers",
        description="One per line. Spaces at the ends and doubled spaces are ignored.",
        render_kw={"rows": 4},
    )
    case_sensitive = BooleanField("Answers must match upper and lower case exactly")
    feedback = TextAreaField(
        "General feedback",
        description="Shown with the result (per the quiz's feedback setting). Markdown.",
        render_kw={"rows": 3},
    )

    def __init__(self, *args: Any, qtype: str = "single", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.qtype = qtype
        self.problems: list[tuple[str, str]] = []  # (field id, message) for the error summary

    def question_data(self) -> dict[str, Any]:
        """Question as the bank's data, from the form fields of its type."""
        data: dict[str, Any] = {
            "key": (self.key.data or "").strip(),
            "type": self.qtype,
            "category": self.category.data or "",
            "prompt": self.prompt.data or "",
            "points": (self.points.data or "").strip().replace(",", "."),
            "feedback": self.feedback.data or "",
        }
        if self.qtype in ("single", "multiple"):
            data["options"] = [
                {
                    "text": (row.form.text.data or "").strip(),
                    "correct": bool(row.form.correct.data),
                    "feedback": (row.form.feedback.data or "").strip(),
                }
                for row in self.options
                if (row.form.text.data or "").strip()
            ]
        elif self.qtype == "true_false":
            data["answer"] = {"true": True, "false": False}.get(self.tf_answer.data or "")
        elif self.qtype == "numeric":
            data["answer"] = (self.answer.data or "").strip().replace(",", ".")
            data["tolerance"] = (self.tolerance.data or "").strip().replace(",", ".")
        elif self.qtype == "short":
            data["accepted"] = [
                line.strip() for line in (self.accepted.data or "").splitlines() if line.strip()
            ]
            data["case_sensitive"] = bool(self.case_sensitive.data)
        return data

    def add_problem(self, field: str | None, message: str) -> None:
        """Show a bank check's problem under the field it concerns."""
        target = {
            "options": self.options[0].form.text if len(self.options) else self.prompt,
            "answer": self.tf_answer if self.qtype == "true_false" else self.answer,
            "type": self.prompt,
        }.get(field or "", getattr(self, field or "", None) if field else None)
        if target is None or not hasattr(target, "errors"):
            target = self.prompt
        if isinstance(target.errors, tuple):
            target.errors = list(target.errors)
        target.errors.append(message)
        self.problems.append((target.id, message))

    def validate_question(self, key_for_blank: str) -> dict[str, Any] | None:
        """Run the shared validation; ``None`` (with field errors set) if the data is invalid."""
        self.problems = []
        if not super().validate():
            for name, errors in self.errors.items():
                if name in self and isinstance(errors, list):
                    for e in errors:
                        if isinstance(e, str):
                            self.problems.append((self[name].id, e))
            if self.problems:
                return None
        data = self.question_data()
        if not data["key"]:
            data["key"] = key_for_blank
        try:
            return clean_question(data)
        except QuestionError as exc:
            self.add_problem(exc.field, exc.message)
            return None

    def fill(self, data: dict[str, Any]) -> None:
        """Pre-fill from archive-format question data."""
        self.key.data = data.get("key", "")
        self.category.data = data.get("category", "")
        self.prompt.data = data.get("prompt", "")
        self.points.data = _num(data.get("points", 1))
        self.feedback.data = data.get("feedback", "")
        wanted = min(self.options.max_entries or 12, len(data.get("options", [])) + 2)
        while len(self.options) < wanted:
            self.options.append_entry()
        for row, option in zip(self.options, data.get("options", []), strict=False):
            row.form.text.data = option["text"]
            row.form.correct.data = bool(option.get("correct"))
            row.form.feedback.data = option.get("feedback", "")
        if "answer" in data and data.get("type") == "true_false":
            self.tf_answer.data = "true" if data["answer"] else "false"
        elif "answer" in data:
            self.answer.data = _num(data["answer"]) if data["answer"] is not None else ""
            self.tolerance.data = _num(data.get("tolerance") or 0)
        self.accepted.data = "\n".join(data.get("accepted", []))
        self.case_sensitive.data = bool(data.get("case_sensitive"))
