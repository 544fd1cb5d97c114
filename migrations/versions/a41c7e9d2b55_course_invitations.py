"""Invitations to a course for learners of non-partner organizations (enrolled on acceptance)

Revision ID: a41c7e9d2b55
Revises: f3b9d2c4a810
Create Date: 2026-12-04 17:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a41c7e9d2b55"
down_revision = "f3b9d2c4a810"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "course_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_invitations_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_course_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_course_invitations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_invitations")),
        sa.UniqueConstraint(
            "user_id", "course_id", name=op.f("uq_course_invitations_user_id_course_id")
        ),
    )
    with op.batch_alter_table("course_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_course_invitations_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_course_invitations_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("course_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_invitations_user_id"))
        batch_op.drop_index(batch_op.f("ix_course_invitations_course_id"))
    op.drop_table("course_invitations")
