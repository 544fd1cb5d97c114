"""The lab activity type (skeleton: filled in by its feature work)."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from lms.domain.models import Activity
from lms.plugins import ActivityType


class Lab(Activity):
    __tablename__ = "labs"

    id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )

    __mapper_args__ = {"polymorphic_identity": "lab"}


class LabType(ActivityType):
    key = "lab"
    label = "Lab"
    model = Lab
