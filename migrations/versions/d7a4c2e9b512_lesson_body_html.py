"""Lesson bodies stored rendered (sanitized HTML): lessons.body_html

Revision ID: d7a4c2e9b512
Revises: d7c1a5e0b912
Create Date: 2026-12-04 21:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d7a4c2e9b512"
down_revision = "d7c1a5e0b912"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lessons") as batch:
        batch.add_column(sa.Column("body_html", sa.Text(), nullable=True))
    # Render the existing bodies now, through the one sanitizer (imported here: the stored HTML
    # must be exactly what the app would render). A row left NULL is rendered on the fly.
    from lms.markup import render_markdown

    bind = op.get_bind()
    lessons = sa.table(
        "lessons", sa.column("id", sa.Integer), sa.column("body", sa.Text),
        sa.column("body_html", sa.Text),
    )
    rows = bind.execute(sa.select(lessons.c.id, lessons.c.body)).all()
    for lesson_id, body in rows:
        html = str(render_markdown(body)) if body and body.strip() else ""
        bind.execute(
            lessons.update().where(lessons.c.id == lesson_id).values(body_html=html)
        )


def downgrade():
    with op.batch_alter_table("lessons") as batch:
        batch.drop_column("body_html")
