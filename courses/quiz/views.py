"""The quiz blueprint with its learner and authoring routes attached."""

from courses.quiz import views_author, views_learner  # noqa: F401  (routes)
from courses.quiz.blueprint import bp

__all__ = ["bp"]
