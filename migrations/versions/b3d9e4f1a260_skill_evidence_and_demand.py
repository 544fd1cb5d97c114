"""Skill evidence (supply) and job-role demand: skill_evidence, skill_demand_roles,
skill_demand_skills

Revision ID: b3d9e4f1a260
Revises: a14c0ffee002
Create Date: 2026-12-04 18:02:38.746757

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b3d9e4f1a260"
down_revision = "a14c0ffee002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "skill_demand_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("headcount >= 1", name=op.f("ck_skill_demand_roles_headcount_positive")),
        sa.CheckConstraint(
            "organization_id IS NOT NULL OR region <> ''", name=op.f("ck_skill_demand_roles_owner")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_skill_demand_roles_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_skill_demand_roles_department_id_departments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_skill_demand_roles_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_demand_roles")),
    )
    with op.batch_alter_table("skill_demand_roles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_skill_demand_roles_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "skill_demand_skills",
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.CheckConstraint("level >= 1", name=op.f("ck_skill_demand_skills_level_positive")),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["skill_demand_roles.id"],
            name=op.f("fk_skill_demand_skills_role_id_skill_demand_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"],
            ["skills.id"],
            name=op.f("fk_skill_demand_skills_skill_id_skills"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("role_id", "skill_id", name=op.f("pk_skill_demand_skills")),
    )
    with op.batch_alter_table("skill_demand_skills", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_skill_demand_skills_skill_id"), ["skill_id"], unique=False
        )

    op.create_table(
        "skill_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("given_by_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("earned_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("level >= 1", name=op.f("ck_skill_evidence_level_positive")),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_skill_evidence_activity_id_activities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_skill_evidence_course_id_courses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["given_by_id"],
            ["users.id"],
            name=op.f("fk_skill_evidence_given_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"],
            ["skills.id"],
            name=op.f("fk_skill_evidence_skill_id_skills"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_skill_evidence_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_evidence")),
    )
    with op.batch_alter_table("skill_evidence", schema=None) as batch_op:
        batch_op.create_index("ix_skill_evidence_skill_level", ["skill_id", "level"], unique=False)
        batch_op.create_index("ix_skill_evidence_user_skill", ["user_id", "skill_id"], unique=False)


def downgrade():
    with op.batch_alter_table("skill_evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_skill_evidence_user_skill")
        batch_op.drop_index("ix_skill_evidence_skill_level")

    op.drop_table("skill_evidence")
    with op.batch_alter_table("skill_demand_skills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skill_demand_skills_skill_id"))

    op.drop_table("skill_demand_skills")
    with op.batch_alter_table("skill_demand_roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skill_demand_roles_organization_id"))

    op.drop_table("skill_demand_roles")
