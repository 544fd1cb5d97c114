"""Time indexes on shared tables for the cluster's live indicators (completions, activity
results and enrolments filtered by when they happened); declared in lms/cluster/models.py.

A database may already have them: for a short while they were created by d7c1a5e0b911 itself,
so each is created only where it is missing.

Revision ID: d7c1a5e0b912
Revises: d7c1a5e0b911
"""

import sqlalchemy as sa
from alembic import op

revision = "d7c1a5e0b912"
down_revision = "d7c1a5e0b911"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_course_completions_completed_at", "course_completions", "completed_at"),
    ("ix_course_completions_last_activity_at", "course_completions", "last_activity_at"),
    ("ix_activity_completions_submitted_at", "activity_completions", "submitted_at"),
    ("ix_enrolments_enrolled_at", "enrolments", "enrolled_at"),
]


def _existing(table: str) -> set[str]:
    return {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(table)}


def upgrade():
    for name, table, column in INDEXES:
        if name not in _existing(table):
            op.create_index(name, table, [column])


def downgrade():
    for name, table, _column in reversed(INDEXES):
        if name in _existing(table):
            op.drop_index(name, table_name=table)
