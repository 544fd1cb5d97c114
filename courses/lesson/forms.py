"""The lesson's authoring form (rendered by the course blueprint inside the activity edit page)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from courses.lesson.services import MAX_BODY

BODY_HINT = (
    "Markdown: # headings, **bold**, lists, | tables |, ``` fenced code ``` with a language "
    "for highlighting (```python), ![alt text](address) for images: upload them on the course's "
    "Files page and copy the Markdown it shows (an image from another site appears as a link to "
    "it: pages load nothing from other sites). Scripts, styles and embedded frames are removed. "
    "Every save keeps a revision you can compare and restore."
)


class LessonForm(FlaskForm):
    """Trainer's form for a lesson's Markdown text."""

    body = TextAreaField(
        "Text of the lesson (Markdown)",
        description=BODY_HINT,
        validators=[
            Length(max=MAX_BODY, message=f"Keep the lesson under {MAX_BODY:,} characters.")
        ],
        render_kw={"rows": 24, "spellcheck": "true"},
    )
