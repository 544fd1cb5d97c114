"""The assignment blueprint with its learner and grading routes attached."""

from courses.assignment import views_grading, views_learner  # noqa: F401  (routes)
from courses.assignment.blueprint import bp
from courses.assignment.views_learner import learner_context

__all__ = ["bp", "learner_context"]
