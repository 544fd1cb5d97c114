"""Time indexes on shared tables for the cluster's live indicators (completions, activity
results and enrolments filtered by when they happened); declared in lms/cluster/models.py.

Revision ID: d7c1a5e0b912
Revises: d7c1a5e0b911
"""

from alembic import op

revision = "d7c1a5e0b912"
down_revision = "d7c1a5e0b911"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_course_completions_completed_at", "course_completions", ["completed_at"])
    op.create_index(
        "ix_course_completions_last_activity_at", "course_completions", ["last_activity_at"]
    )
    op.create_index("ix_activity_completions_submitted_at", "activity_completions", ["submitted_at"])
    op.create_index("ix_enrolments_enrolled_at", "enrolments", ["enrolled_at"])


def downgrade():
    op.drop_index("ix_enrolments_enrolled_at", table_name="enrolments")
    op.drop_index("ix_activity_completions_submitted_at", table_name="activity_completions")
    op.drop_index("ix_course_completions_last_activity_at", table_name="course_completions")
    op.drop_index("ix_course_completions_completed_at", table_name="course_completions")
