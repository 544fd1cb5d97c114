"""Skills: stored counts of skill holders and of the pipeline per organization, skill and level
(skill_holdings, skill_holder_counts), backfilled; skill evidence by expires_at

Revision ID: b5f7d9e1a324
Revises: a4e6c8d0f213
Create Date: 2026-12-04 23:50:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b5f7d9e1a324"
down_revision = "a4e6c8d0f213"
branch_labels = None
depends_on = None


def upgrade():
    holdings = op.create_table(
        "skill_holdings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_skill_holdings_organization_id_organizations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["skill_id"], ["skills.id"],
                                name=op.f("fk_skill_holdings_skill_id_skills"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_skill_holdings_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_holdings")),
        sa.UniqueConstraint("user_id", "skill_id", "scope", "kind", "level",
                            name="uq_skill_holdings_user_skill_scope"),
    )  # fmt: skip
    counts = op.create_table(
        "skill_holder_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_skill_holder_counts_organization_id_organizations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["skill_id"], ["skills.id"],
                                name=op.f("fk_skill_holder_counts_skill_id_skills"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_holder_counts")),
        sa.UniqueConstraint("scope", "skill_id", "kind", "level", "due_on",
                            name="uq_skill_holder_counts_scope_skill"),
    )  # fmt: skip
    with op.batch_alter_table("skill_evidence") as batch:
        batch.create_index("ix_skill_evidence_expires_at", ["expires_at"], unique=False)

    # Backfill from the evidence, with the app's own rule for the level a person holds (imported
    # here: the stored counts must be exactly what the app would keep).
    from lms.skills.holders import SYNCED_SETTING, count_rows, recounted
    from lms.timeutil import utcnow

    bind = op.get_bind()
    now = utcnow()
    rows, totals = recounted(now, conn=bind)
    for i in range(0, len(rows), 5_000):
        op.bulk_insert(holdings, rows[i : i + 5_000])
    op.bulk_insert(counts, count_rows(totals, now))
    settings = sa.table("site_settings", sa.column("key", sa.String), sa.column("value", sa.Text))
    bind.execute(settings.delete().where(settings.c.key == SYNCED_SETTING))
    bind.execute(settings.insert().values(key=SYNCED_SETTING, value=now.isoformat()))


def downgrade():
    with op.batch_alter_table("skill_evidence") as batch:
        batch.drop_index("ix_skill_evidence_expires_at")
    op.drop_table("skill_holder_counts")
    op.drop_table("skill_holdings")
