"""A site administrator's sign-off for a partner is recorded as an override

Revision ID: f3b9d2c4a810
Revises: e8c1a7f3b201
Create Date: 2026-12-04 17:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f3b9d2c4a810"
down_revision = "e8c1a7f3b201"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course_signoffs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_override", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("course_signoffs", schema=None) as batch_op:
        batch_op.drop_column("is_override")
