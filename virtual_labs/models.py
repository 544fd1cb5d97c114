"""Lab activity tables: the lab (an Activity subclass), its tests and learners' submissions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.domain.models import Activity
from lms.extensions import db
from lms.models import User
from lms.timeutil import utcnow

# Limits an author may set, with the bounds the forms and the archive import enforce.
LIMIT_BOUNDS: dict[str, tuple[float, float]] = {
    "cpu_s": (0.1, 30.0),
    "wall_s": (0.5, 60.0),
    "memory_mb": (16, 2048),
    "procs": (1, 64),
    "output_kb": (1, 4096),
}
COMPARE_MODES = {
    "trailing_ws": "Exact, ignoring trailing whitespace",
    "exact": "Exact",
    "case_insensitive": "Ignoring case (and trailing whitespace)",
    "numeric": "Numbers within a tolerance",
    "regex": "Regular expression",
}
TEST_KINDS = {"io": "Input/output", "python_unit": "Python unit test"}


class SubmissionKind(enum.StrEnum):
    """A learner's run (visible tests, ungraded) or submit (every test, graded)."""

    RUN = "run"  # visible tests only, not graded
    SUBMIT = "submit"  # every test, graded


class SubmissionStatus(enum.StrEnum):
    """Where a lab submission is in the grading queue."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


PENDING_STATUSES = (SubmissionStatus.QUEUED, SubmissionStatus.RUNNING)


class Lab(Activity):
    """A code exercise: instructions, starter code, a hidden reference solution and tests."""

    __tablename__ = "labs"

    id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    instructions: Mapped[str] = mapped_column(Text, default="")  # Markdown
    language: Mapped[str] = mapped_column(String(20), default="python")
    starter_files: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Never shown to learners: used to validate the tests.
    reference_files: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    cpu_s: Mapped[float] = mapped_column(Float, default=2.0)
    wall_s: Mapped[float] = mapped_column(Float, default=5.0)
    memory_mb: Mapped[int] = mapped_column(Integer, default=256)
    procs: Mapped[int] = mapped_column(Integer, default=16)
    output_kb: Mapped[int] = mapped_column(Integer, default=64)
    # Last validation of the reference solution: "valid", "invalid" or None (never validated).
    validation_status: Mapped[str | None] = mapped_column(String(20))
    validation_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    validated_at: Mapped[datetime | None] = mapped_column(DateTime)

    tests: Mapped[list[LabTest]] = relationship(
        back_populates="lab",
        cascade="all, delete-orphan",
        order_by="LabTest.position",
        foreign_keys="LabTest.lab_id",
    )

    __mapper_args__ = {"polymorphic_identity": "lab"}

    @property
    def limits_dict(self) -> dict[str, float]:
        """The lab's sandbox limits by name."""
        return {k: getattr(self, k) for k in LIMIT_BOUNDS}

    @property
    def visible_tests(self) -> list[LabTest]:
        """Tests learners can see and run."""
        return [t for t in self.tests if not t.hidden]


class LabTest(db.Model):
    """One test of a lab: an I/O case or a Python unit test, visible or hidden, weighted."""

    __tablename__ = "lab_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default="io")
    stdin: Mapped[str] = mapped_column(Text, default="")
    args: Mapped[list[str]] = mapped_column(JSON, default=list)
    expected: Mapped[str] = mapped_column(Text, default="")
    compare: Mapped[str] = mapped_column(String(20), default="trailing_ws")
    tolerance: Mapped[float] = mapped_column(Float, default=1e-6)
    code: Mapped[str] = mapped_column(Text, default="")  # python_unit test functions
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    position: Mapped[int] = mapped_column(Integer, default=0)

    lab: Mapped[Lab] = relationship(back_populates="tests", foreign_keys=[lab_id])

    def to_content(self) -> dict[str, Any]:
        """The archive form of this test (also what grading's TestSpec is built from)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "stdin": self.stdin or "",
            "args": list(self.args or []),
            "expected": self.expected or "",
            "compare": self.compare,
            "tolerance": self.tolerance,
            "code": self.code or "",
            "hidden": bool(self.hidden),
            "weight": self.weight,
        }


class LabSubmission(db.Model):
    """A learner's run or graded submission, queued in the database until a worker grades it.

    The row is the queue: workers claim ``queued`` rows with an atomic conditional UPDATE, keep
    ``heartbeat_at`` fresh while running, and a stale ``running`` row is put back in the queue.
    """

    __tablename__ = "lab_submissions"
    __page_scope__ = "user"
    __table_args__ = (
        Index("ix_lab_submissions_status_id", "status", "id"),
        Index("ix_lab_submissions_lab_user", "lab_id", "user_id"),
        Index("ix_lab_submissions_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    files: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    kind: Mapped[str] = mapped_column(String(10), default=SubmissionKind.SUBMIT)
    status: Mapped[str] = mapped_column(String(10), default=SubmissionStatus.QUEUED)
    verdict: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")  # shown to the learner on status=error
    # Whether the grade was recorded for completion (only for enrolled learners' submissions).
    counted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(120))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)

    lab: Mapped[Lab] = relationship(foreign_keys=[lab_id])
    user: Mapped[User] = relationship()

    @property
    def pending(self) -> bool:
        """Whether the submission still waits for or is in a run."""
        return self.status in PENDING_STATUSES

    @property
    def display_status(self) -> str:
        """What the status tag shows: the verdict once graded, else the queue status."""
        if self.status == SubmissionStatus.DONE and self.verdict:
            return self.verdict
        if self.status == SubmissionStatus.ERROR:
            return "sandbox_error"
        return self.status


@event.listens_for(Lab, "before_delete")
def _delete_submissions(mapper, connection, target: Lab) -> None:
    """Remove a deleted lab's submissions in one statement (SQLite does not enforce the FK
    cascade, and loading thousands of rows to delete them one by one would be slow)."""
    connection.execute(delete(LabSubmission.__table__).where(LabSubmission.lab_id == target.id))
