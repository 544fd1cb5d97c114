"""Certificate PDFs rendered once and stored: certificate_pdfs

Revision ID: c5e2f7a9d310
Revises: b3d9e4f1a260
Create Date: 2026-12-04 20:45:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c5e2f7a9d310"
down_revision = "b3d9e4f1a260"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificate_pdfs",
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("rendered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_pdfs_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_certificate_pdfs")),
    )


def downgrade():
    op.drop_table("certificate_pdfs")
