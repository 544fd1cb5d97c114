"""Page cache: the generations that tell a stored learner page it is out of date
(page_generations: one counter for the site and one per person)

Revision ID: c6e8a0f2b435
Revises: b5f7d9e1a324
Create Date: 2026-12-05 04:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c6e8a0f2b435"
down_revision = "b5f7d9e1a324"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "page_generations",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_page_generations")),
    )


def downgrade():
    op.drop_table("page_generations")
