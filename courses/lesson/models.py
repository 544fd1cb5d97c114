"""Lesson rows: the Markdown body and every saved revision of it."""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup
from sqlalchemy import DateTime, ForeignKey, Integer, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.domain.models import Activity
from lms.extensions import db
from lms.markup import render_markdown
from lms.models import User
from lms.timeutil import utcnow


class Lesson(Activity):
    """A page of Markdown (tables, highlighted code, images), rendered through the sanitizer."""

    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[str] = mapped_column(Text, default="")
    # The body through the one sanitizer, rendered when the body is set (once per revision), so
    # a learner's page never parses Markdown. NULL for a row written without the ORM: rendered
    # on the fly then (``html``).
    body_html: Mapped[str | None] = mapped_column(Text)

    revisions: Mapped[list[LessonRevision]] = relationship(
        back_populates="lesson",
        cascade="all, delete-orphan",
        order_by="LessonRevision.number",
        passive_deletes=True,
    )

    __mapper_args__ = {"polymorphic_identity": "lesson"}

    @property
    def html(self) -> Markup:
        """The body as sanitized HTML (stored; rendered here only for a row that lacks it)."""
        if self.body_html is not None:
            return Markup(self.body_html)
        return render_markdown(self.body)


@event.listens_for(Lesson.body, "set")
def _render_body(target: Lesson, value: str | None, _old, _initiator) -> None:
    """Render the sanitized HTML whenever the body changes (a save, a restore, an import)."""
    target.body_html = str(render_markdown(value)) if value and value.strip() else ""


class LessonRevision(db.Model):
    """One saved state of a lesson body; numbers count up from 1 per lesson."""

    __tablename__ = "lesson_revisions"
    __table_args__ = (UniqueConstraint("lesson_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when the revision was made by restoring an older one (its number).
    restored_from: Mapped[int | None] = mapped_column(Integer)

    lesson: Mapped[Lesson] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()
