"""Cluster: the live month's cohort base per partner (cluster_cohort_bases); skill evidence by
earned_at (skill levels gained in a period)

Revision ID: a4e6c8d0f213
Revises: d7a4c2e9b512
Create Date: 2026-12-04 23:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a4e6c8d0f213"
down_revision = "d7a4c2e9b512"
branch_labels = None
depends_on = None


def upgrade():
    # No backfill: a month without its base is computed in full (the old way), and the next
    # `cluster snapshot` stores the current month's base.
    op.create_table(
        "cluster_cohort_bases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("enrolments", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"],
            name=op.f("fk_cluster_cohort_bases_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_cohort_bases")),
        sa.UniqueConstraint("month", "scope", name="uq_cluster_cohort_bases_month_scope"),
    )
    with op.batch_alter_table("cluster_cohort_bases") as batch:
        batch.create_index(batch.f("ix_cluster_cohort_bases_month"), ["month"], unique=False)
    with op.batch_alter_table("skill_evidence") as batch:
        batch.create_index("ix_skill_evidence_earned_at", ["earned_at"], unique=False)


def downgrade():
    with op.batch_alter_table("skill_evidence") as batch:
        batch.drop_index("ix_skill_evidence_earned_at")
    with op.batch_alter_table("cluster_cohort_bases") as batch:
        batch.drop_index(batch.f("ix_cluster_cohort_bases_month"))
    op.drop_table("cluster_cohort_bases")
