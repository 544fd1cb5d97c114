"""Authoring forms: lab settings and files, and one test."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)

from lms.forms import options
from virtual_labs import languages
from virtual_labs.authoring_checks import default_limits
from virtual_labs.models import COMPARE_MODES, LIMIT_BOUNDS, TEST_KINDS
from virtual_labs.services import clean_files


def language_choices() -> list[SelectChoice]:
    """Programming languages an author may pick for a lab."""
    return options(languages.language_choices())


class FileEntryForm(Form):
    """One file (name + content); an empty name with empty content is ignored."""

    name = StringField("File name", validators=[Optional(), Length(max=64)])
    content = TextAreaField("Content")


class _NamedNumber:
    """A number field whose "not a number" error names the field (the error summary lists it
    apart from the field, so "Not a valid float value" alone would not say which one)."""

    def process_formdata(self, valuelist):
        """Read the number; an empty field is None, a non-number an error naming the field."""
        if valuelist and not str(valuelist[0]).strip():
            self.data = None  # empty: InputRequired says "Enter the ..."
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            kind = "a whole number" if isinstance(self, IntegerField) else "a number"
            raise ValueError(f"{self.label.text} must be {kind}.") from exc

    def pre_validate(self, form) -> None:
        """Stop after a parse error so only one message shows."""
        if self.process_errors:  # one message: not "must be a number" and "between" too
            raise StopValidation()


class LimitFloatField(_NamedNumber, FloatField):
    """Decimal sandbox limit field whose errors name the limit."""

    pass


class LimitIntegerField(_NamedNumber, IntegerField):
    """Whole-number sandbox limit field whose errors name the limit."""

    pass


def _lower_first(label: str) -> str:
    """ "Memory limit" -> "memory limit", but "CPU time" stays "CPU time"."""
    return label if label[:2].isupper() else label[0].lower() + label[1:]


def _default_limit(key: str):
    def default():
        """Site default of this sandbox limit for a new lab."""
        return default_limits()[key]

    return default


def _limit(label: str, key: str, description: str, integer: bool = False):
    low, high = LIMIT_BOUNDS[key]
    field = LimitIntegerField if integer else LimitFloatField
    return field(
        label,
        # A new lab starts from the site's defaults (LAB_DEFAULT_*), never from empty boxes.
        default=_default_limit(key),
        validators=[
            InputRequired(message=f"Enter the {_lower_first(label)}."),
            NumberRange(
                min=low, max=high, message=f"{label} must be between {low:g} and {high:g}."
            ),
        ],
        description=f"{description} Between {low:g} and {high:g}.",
    )


class LabSettingsBase(FlaskForm):
    """Fields shared by the lab's own settings page and the course's activity form."""

    instructions = TextAreaField(
        "Instructions",
        validators=[DataRequired(message="Write the instructions learners will follow.")],
        description="Markdown. Say what the program reads, what it prints and give an example.",
        render_kw={"class": "prose", "rows": 12},
    )
    language = SelectField("Language", choices=[])
    cpu_s = _limit("CPU time limit (seconds)", "cpu_s", "Per test run.")
    wall_s = _limit("Wall-clock limit (seconds)", "wall_s", "Per test run, including waiting.")
    memory_mb = _limit("Memory limit (MB)", "memory_mb", "Address space of the program.", True)
    procs = _limit("Process limit", "procs", "Processes and threads the program may start.", True)
    output_kb = _limit("Output limit (KB)", "output_kb", "Output beyond this is cut off.", True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


class LabActivityForm(LabSettingsBase):
    """The lab fields on the course's generic activity form: one main file each.

    Labs with several files are edited on the lab's own “Settings and files” page.
    """

    starter_code = TextAreaField(
        "Starter code",
        description="What learners see in the editor at first (the main program file).",
        render_kw={"rows": 12, "spellcheck": "false"},
    )
    reference_code = TextAreaField(
        "Reference solution",
        validators=[DataRequired(message="Add the reference solution: it checks the tests.")],
        description="Never shown to learners. Once the lab has tests, it must pass all of them.",
        render_kw={"rows": 12, "spellcheck": "false"},
    )


class LabForm(LabSettingsBase):
    """The lab's own settings page: every starter and reference file, name and content."""

    starter_files = FieldList(FormField(FileEntryForm), min_entries=1, max_entries=10)
    reference_files = FieldList(FormField(FileEntryForm), min_entries=1, max_entries=10)
    add_file = SubmitField("Add a file")

    def files(self, which: str) -> dict[str, str]:
        """The named files of ``starter_files`` or ``reference_files`` (blank rows dropped)."""
        out: dict[str, str] = {}
        for entry in getattr(self, which).entries:
            name = (entry.form.data.get("name") or "").strip()
            content = (entry.form.data.get("content") or "").replace("\r\n", "\n")
            if name:
                out[name] = content
        return out

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the starter and reference files checked."""
        ok = super().validate(extra_validators)

        for which, label in (("starter_files", "starter"), ("reference_files", "reference")):
            field = getattr(self, which)
            names = [(e.form.data.get("name") or "").strip() for e in field.entries]
            contents = [(e.form.data.get("content") or "").strip() for e in field.entries]
            if any(c and not n for n, c in zip(names, contents, strict=True)):
                field.errors.append(f"Give every {label} file a name.")
                ok = False
                continue
            if len([n for n in names if n]) != len({n for n in names if n}):
                field.errors.append(f"Two {label} files have the same name.")
                ok = False
                continue
            try:
                clean_files(self.files(which), f"{label} files")
            except ValueError as exc:
                field.errors.append(str(exc))
                ok = False
        if ok and not self.files("reference_files"):
            self.reference_files.errors.append(
                "Add the reference solution: it is how the tests are checked."
            )
            ok = False
        return ok


class LabTestForm(FlaskForm):
    """Author's form for one lab test: I/O or unit, input, expected output, hidden."""

    name = StringField("Test name", validators=[DataRequired(), Length(max=120)])
    kind = SelectField("Kind", choices=options(TEST_KINDS.items()))
    stdin = TextAreaField("Standard input", description="What the program reads (I/O tests).")
    args = StringField(
        "Command-line arguments",
        description="Separated by spaces; quote an argument that contains spaces.",
        validators=[Length(max=500)],
    )
    expected = TextAreaField(
        "Expected output",
        description="For a regular expression comparison, the pattern the whole output must match.",
    )
    compare = SelectField("Comparison", choices=options(COMPARE_MODES.items()))
    tolerance = FloatField(
        "Numeric tolerance",
        default=1e-6,
        validators=[Optional(), NumberRange(min=0)],
        description="For numeric comparison: the largest accepted difference.",
    )
    code = TextAreaField(
        "Test code (Python unit tests)",
        description="Functions named test_… with plain asserts; import the learner's code from main.",
        render_kw={"rows": 10},
    )
    hidden = BooleanField(
        "Hidden test",
        description="Learners see only whether a hidden test passed, never its input or output.",
    )
    weight = FloatField(
        "Weight", default=1.0, validators=[InputRequired(), NumberRange(min=0, max=1000)]
    )
