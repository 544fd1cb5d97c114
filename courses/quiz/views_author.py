"""Authoring pages of the quiz plugin: the course's question bank and a quiz's results."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from courses.quiz import queries
from courses.quiz.access import load_quiz
from courses.quiz.attempts import release_results, withhold_results
from courses.quiz.bank import (
    QuestionError,
    add_to_quiz,
    course_categories,
    create_question,
    delete_question,
    key_taken,
    next_key,
    question_data,
    update_question,
)
from courses.quiz.blueprint import bp
from courses.quiz.forms import QuestionForm
from courses.quiz.models import QUESTION_TYPES, Quiz, QuizQuestion
from lms.domain.models import Course, Module
from lms.errors import Conflict
from lms.extensions import db
from lms.lookup import owned_or_404
from lms.permissions import require
from lms.urls import parse_id


def _course_for_author(course_id: int, edit: bool = False) -> Course:
    course = db.get_or_404(Course, course_id)
    require("course.manage", course, hide=True)
    if edit:
        require("course.edit", course)
    return course


def _question(course: Course, question_id: int) -> QuizQuestion:
    return owned_or_404(QuizQuestion, question_id, course_id=course.id)


@bp.get("/course/<int:course_id>/questions")
@login_required
def questions(course_id: int):
    """Trainer's question bank page of a course, by category."""
    course = _course_for_author(course_id)
    category = request.args.get("category")
    quizzes, used_by = queries.bank_usage(course.id)
    return render_template(
        "quiz/questions.html",
        course=course,
        page=queries.question_page(course.id, category),
        categories=course_categories(course.id),
        category=category,
        used_by=used_by,
        types=QUESTION_TYPES,
        quizzes=quizzes,
    )


def _render_form(
    course: Course,
    form: QuestionForm,
    question: QuizQuestion | None,
    status: int = 200,
    back: tuple[str, str] | None = None,
):
    return (
        render_template(
            "quiz/question_form.html",
            course=course,
            form=form,
            question=question,
            qtype=form.qtype,
            type_label=QUESTION_TYPES[form.qtype],
            categories=course_categories(course.id),
            back=back,
        ),
        status,
    )


def _return_to(course: Course) -> tuple[Quiz | None, Module | None]:
    """The quiz (or, for a quiz not saved yet, its module) whose form sent the author here to
    write a question; both must belong to ``course`` (else 404)."""
    quiz_id = parse_id(request.args.get("for_quiz"))
    module_id = parse_id(request.args.get("for_module"))
    quiz = owned_or_404(Quiz, quiz_id, course_id=course.id) if quiz_id is not None else None
    module = (
        owned_or_404(Module, module_id, course_id=course.id)
        if module_id is not None and quiz is None
        else None
    )
    return quiz, module


def _back_link(course: Course, quiz: Quiz | None, module: Module | None) -> tuple[str, str]:
    if quiz is not None:
        return (
            f"Back to “{quiz.title}”",
            url_for("courses.edit_activity", slug=course.slug, activity_id=quiz.id),
        )
    if module is not None:
        return (
            "Back to the new quiz",
            url_for("courses.new_activity", slug=course.slug, module_id=module.id, type="quiz"),
        )
    return ("Cancel", url_for("quiz.questions", course_id=course.id))


def _after_create(course: Course, question: QuizQuestion, quiz: Quiz | None, module):
    """Where to go once a question is written: back to the quiz form that asked for it."""
    if quiz is not None and add_to_quiz(quiz, question.key):
        flash(f"Question {question.key} added to the bank and to “{quiz.title}”.", "success")
        return _back_link(course, quiz, None)[1]
    if quiz is not None or module is not None:
        flash(
            f"Question {question.key} added to the bank: tick it in the list to use it.", "success"
        )
        return _back_link(course, quiz, module)[1]
    flash(f"Question {question.key} added to the bank.", "success")
    return url_for("quiz.questions", course_id=course.id)


@bp.route("/course/<int:course_id>/questions/new/<qtype>", methods=["GET", "POST"])
@login_required
def new_question(course_id: int, qtype: str):
    """Trainer's page to add a question of one type to the bank."""
    course = _course_for_author(course_id, edit=True)
    if qtype not in QUESTION_TYPES:
        abort(404)
    quiz, module = _return_to(course)
    back = _back_link(course, quiz, module)
    form = QuestionForm(qtype=qtype)
    if request.method == "GET":
        form.category.data = request.args.get("category", "")
        return _render_form(course, form, None, back=back)
    clean = form.validate_question(next_key(course.id))
    if clean is not None:
        try:
            question = create_question(course, clean)
        except QuestionError as exc:
            form.add_problem(exc.field, exc.message)
        else:
            target = _after_create(course, question, quiz, module)
            db.session.commit()
            return redirect(target)
    return _render_form(course, form, None, 400, back=back)


@bp.route("/course/<int:course_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def edit_question(course_id: int, question_id: int):
    """Trainer's page to edit a bank question."""
    course = _course_for_author(course_id, edit=True)
    question = _question(course, question_id)
    form = QuestionForm(qtype=question.type)
    if request.method == "GET":
        form.fill(question_data(question))
        return _render_form(course, form, question)
    clean = form.validate_question(question.key)
    if clean is not None:
        if key_taken(course.id, clean["key"], exclude_id=question.id):
            form.add_problem("key", f"The key “{clean['key']}” is already used in this course.")
        else:
            update_question(question, clean)
            db.session.commit()
            flash(
                f"Question {question.key} saved. Attempts already started keep the version "
                "they were given.",
                "success",
            )
            return redirect(url_for("quiz.questions", course_id=course.id))
    return _render_form(course, form, question, 400)


@bp.post("/course/<int:course_id>/questions/<int:question_id>/delete")
@login_required
def delete_question_view(course_id: int, question_id: int):
    """POST endpoint for trainers to delete a bank question."""
    course = _course_for_author(course_id, edit=True)
    question = _question(course, question_id)
    key = question.key
    try:
        delete_question(question)
    except Conflict as exc:  # a quiz still lists it: nothing was changed
        flash(exc.message, "error")
        return redirect(url_for("quiz.questions", course_id=course.id))
    db.session.commit()
    flash(f"Question {key} deleted. Past attempts keep their copy of it.", "success")
    return redirect(url_for("quiz.questions", course_id=course.id))


@bp.get("/<int:activity_id>/results")
@login_required
def results(activity_id: int):
    """Trainers' results page of a quiz: every learner's attempts."""
    quiz = load_quiz(activity_id)
    require("course.view_reports", quiz.course, hide=True)
    return render_template(
        "quiz/results.html",
        quiz=quiz,
        page=queries.attempt_page(quiz),
        summary=queries.results_summary(quiz),
    )


@bp.post("/<int:activity_id>/release")
@login_required
def release(activity_id: int):
    """POST endpoint for course managers to release or withhold quiz scores."""
    quiz = load_quiz(activity_id)
    require("course.view_reports", quiz.course, hide=True)
    require("course.manage", quiz.course)
    if request.form.get("action") == "withhold":
        withhold_results(quiz)
        flash("Results are hidden from learners again.", "success")
    else:
        release_results(quiz)
        flash("Results released: learners now see their scores and feedback.", "success")
    db.session.commit()
    return redirect(url_for("quiz.results", activity_id=quiz.id))
