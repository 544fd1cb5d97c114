"""Assignment grades remember when the learner was told of them (mail and notice on release).

Revision ID: d14a9e5b7c21
Revises: c5e2f7a9d310
Create Date: 2026-12-04 21:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d14a9e5b7c21"
down_revision = "c5e2f7a9d310"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assignment_grades") as batch_op:
        batch_op.add_column(sa.Column("notified_at", sa.DateTime(), nullable=True))
    # Grades already released before this change count as told: no mail for old news.
    op.execute(
        "UPDATE assignment_grades SET notified_at = graded_at WHERE submission_id IN ("
        "SELECT s.id FROM assignment_submissions s JOIN assignments a ON a.id = s.assignment_id "
        "WHERE a.grades_released_at IS NOT NULL)"
    )


def downgrade():
    with op.batch_alter_table("assignment_grades") as batch_op:
        batch_op.drop_column("notified_at")
