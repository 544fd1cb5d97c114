"""Indexes the indicators need on shared tables (courses, enrolments, completions)."""

from __future__ import annotations

from sqlalchemy import (
    Index,
)

from lms.domain.models import Enrolment
from lms.progress.models import ActivityCompletion, CourseCompletion
from lms.skills.gap_models import SkillEvidence

# The live figures filter completions, results and enrolments by time; declared here (attached to
# the shared tables' metadata) because only the cluster's queries need them.
Index("ix_course_completions_completed_at", CourseCompletion.completed_at)
Index("ix_course_completions_last_activity_at", CourseCompletion.last_activity_at)
Index("ix_activity_completions_submitted_at", ActivityCompletion.submitted_at)
Index("ix_enrolments_enrolled_at", Enrolment.enrolled_at)
Index("ix_skill_evidence_earned_at", SkillEvidence.earned_at)
