"""Quiz grading, selection and settings validation: pure functions over plain data."""

from __future__ import annotations

import random

import pytest

from courses.quiz.bank import QuestionError, clean_question
from courses.quiz.grading import (
    correct_answer_text,
    grade_attempt,
    grade_question,
    normalise_text,
    parse_responses,
    response_text,
)
from courses.quiz.numbers import parse_number
from courses.quiz.selection import SelectionError, pick_questions
from courses.quiz.settings import clean_settings


def single(key="s", points=1.0):
    return {
        "key": key,
        "type": "single",
        "points": points,
        "prompt": "Pick",
        "feedback": "General",
        "options": [
            {"id": 0, "text": "A", "correct": False, "feedback": "Not A"},
            {"id": 1, "text": "B", "correct": True, "feedback": "Yes B"},
            {"id": 2, "text": "C", "correct": False, "feedback": ""},
        ],
    }


def multiple(key="m", correct=(0, 1), n=4, points=2.0):
    return {
        "key": key,
        "type": "multiple",
        "points": points,
        "prompt": "Pick all",
        "options": [
            {"id": i, "text": f"O{i}", "correct": i in correct, "feedback": ""} for i in range(n)
        ],
    }


NUMERIC = {
    "key": "n",
    "type": "numeric",
    "points": 1,
    "prompt": "pi?",
    "answer": 3.14159,
    "tolerance": 0.01,
}
SHORT = {
    "key": "t",
    "type": "short",
    "points": 1,
    "prompt": "?",
    "accepted": ["Mean", "average"],
    "case_sensitive": False,
}
TF = {"key": "b", "type": "true_false", "points": 1, "prompt": "?", "answer": False}


# --- single choice -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "status", "fraction"),
    [(1, "correct", 1.0), ("1", "correct", 1.0), (0, "incorrect", 0.0), (2, "incorrect", 0.0),
     (None, "unanswered", 0.0), (7, "unanswered", 0.0), ("x", "unanswered", 0.0),
     (True, "unanswered", 0.0), ([1], "unanswered", 0.0)],
)  # fmt: skip
def test_single_choice(response, status, fraction):
    r = grade_question(single(), response)
    assert (r.status, r.fraction, r.earned) == (status, fraction, fraction)


def test_single_choice_feedback_of_chosen_option_then_general():
    assert grade_question(single(), 0).feedback == ["Not A", "General"]
    assert grade_question(single(), 1).feedback == ["Yes B", "General"]
    assert grade_question(single(), None).feedback == ["General"]


# --- multiple choice: +1/k per correct ticked, -1/k per wrong ticked, floor 0 -------------------
@pytest.mark.parametrize(
    ("chosen", "fraction", "status"),
    [([0, 1], 1.0, "correct"), ([0], 0.5, "partial"), ([1], 0.5, "partial"),
     ([0, 2], 0.0, "incorrect"), ([0, 1, 2], 0.5, "partial"), ([0, 1, 2, 3], 0.0, "incorrect"),
     ([2, 3], 0.0, "incorrect"), ([2], 0.0, "incorrect"), ([], 0.0, "unanswered"),
     (None, 0.0, "unanswered"), ([0, 0, 1], 1.0, "correct"), ([0, 99], 0.5, "partial"),
     ("1", 0.5, "partial")],
)  # fmt: skip
def test_multiple_choice_partial_credit(chosen, fraction, status):
    r = grade_question(multiple(), chosen)
    assert r.status == status
    assert r.fraction == pytest.approx(fraction)
    assert r.earned == pytest.approx(2.0 * fraction)


def test_multiple_choice_three_correct_thirds():
    q = multiple(correct=(0, 1, 2), n=5, points=3)
    assert grade_question(q, [0]).earned == pytest.approx(1.0)
    assert grade_question(q, [0, 1, 3]).earned == pytest.approx(1.0)
    assert grade_question(q, [0, 1, 2, 3, 4]).earned == pytest.approx(1.0)
    assert grade_question(q, [3, 4]).earned == 0.0


def test_multiple_choice_all_options_correct():
    q = multiple(correct=(0, 1, 2), n=3)
    assert grade_question(q, [0, 1, 2]).status == "correct"


# --- true / false -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "status"),
    [(False, "correct"), ("false", "correct"), ("False", "correct"), (True, "incorrect"),
     ("true", "incorrect"), (None, "unanswered"), ("maybe", "unanswered")],
)  # fmt: skip
def test_true_false(response, status):
    assert grade_question(TF, response).status == status


# --- numeric ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "status"),
    [("3.14", "correct"), ("3,14", "correct"), (" 3.1515 ", "correct"), ("3.13159", "correct"),
     ("3.15159", "correct"), ("3.1516", "incorrect"), ("3.152", "incorrect"), ("3.13", "incorrect"),
     ("+3.14", "correct"), ("314e-2", "correct"), ("abc", "incorrect"), ("nan", "incorrect"),
     ("inf", "incorrect"), ("1,000.5", "incorrect"), ("", "unanswered"), (None, "unanswered"),
     ("   ", "unanswered"), (3.14, "correct")],
)  # fmt: skip
def test_numeric_with_tolerance(response, status):
    assert grade_question(NUMERIC, response).status == status


def test_numeric_exact_answer_survives_float_rounding():
    q = {"key": "x", "type": "numeric", "points": 1, "prompt": "", "answer": 0.3, "tolerance": 0}
    assert grade_question(q, str(0.1 + 0.2)).status == "correct"
    assert grade_question(q, "0.3000001").status == "incorrect"


def test_numeric_negative_and_typographic_minus():
    q = {"key": "x", "type": "numeric", "points": 1, "prompt": "", "answer": -2.5, "tolerance": 0}
    assert grade_question(q, "-2.5").status == "correct"
    assert grade_question(q, "\u22122.5").status == "correct"
    assert grade_question(q, "2.5").status == "incorrect"


def test_numeric_not_a_number_says_so():
    assert "not a number" in grade_question(NUMERIC, "three").feedback[0]


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1.0), ("-1.5", -1.5), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0), ("2,5", 2.5),
     ("1 000", 1000.0), ("0x10", None), ("1e999", None), ("", None), (None, None), (True, None),
     ("1.2.3", None), ("--1", None)],
)  # fmt: skip
def test_parse_number(text, value):
    assert parse_number(text) == value


# --- short answer -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "status"),
    [("mean", "correct"), ("MEAN", "correct"), ("  Average ", "correct"), ("the mean", "incorrect"),
     ("median", "incorrect"), ("", "unanswered"), ("   ", "unanswered"), (None, "unanswered")],
)  # fmt: skip
def test_short_answer_case_insensitive(response, status):
    assert grade_question(SHORT, response).status == status


def test_short_answer_case_sensitive_and_whitespace():
    q = {**SHORT, "accepted": ["pH value"], "case_sensitive": True}
    assert grade_question(q, "pH value").status == "correct"
    assert grade_question(q, " pH   value ").status == "correct"
    assert grade_question(q, "PH value").status == "incorrect"
    assert grade_question(q, "ph value").status == "incorrect"


def test_short_answer_unicode_normalisation():
    q = {**SHORT, "accepted": ["Café"]}
    assert grade_question(q, "cafe\u0301").status == "correct"  # decomposed é
    assert normalise_text("  A\tB \n C ") == "a b c"


def test_unknown_type_is_an_error():
    with pytest.raises(ValueError, match="unknown question type"):
        grade_question({"key": "z", "type": "essay", "points": 1}, "x")


# --- attempts -----------------------------------------------------------------------------------
def test_grade_attempt_weights_points():
    questions = [single(points=1), multiple(points=2), NUMERIC, SHORT, TF]
    answers = {"s": 1, "m": [0], "n": "3.14", "t": "nope"}
    result = grade_attempt(questions, answers)
    assert result.total == 6
    assert result.earned == pytest.approx(1 + 1 + 1)
    assert result.score == 50.0
    assert [r.status for r in result.results] == [
        "correct",
        "partial",
        "correct",
        "incorrect",
        "unanswered",
    ]
    assert result.passed(50) and not result.passed(50.01)


def test_grade_attempt_empty_and_all_correct():
    assert grade_attempt([], {}).score == 0.0
    perfect = grade_attempt([single(), TF], {"s": 1, "b": False})
    assert perfect.score == 100.0


def test_parse_responses_keeps_only_well_formed_values():
    questions = [single(), multiple(), NUMERIC, SHORT, TF]
    form = {
        "q-s": ["9"],  # not an option
        "q-m": ["0", "1", "1", "x", "42"],
        "q-n": [" 3.14 "],
        "q-t": ["x" * 900],
        "q-b": ["false"],
        "q-other": ["ignored"],
    }
    answers = parse_responses(questions, form)
    assert answers == {"s": None, "m": [0, 1], "n": "3.14", "t": "x" * 500, "b": False}


def test_response_and_correct_answer_text():
    assert response_text(single(), 1) == "B"
    assert response_text(multiple(), [0, 1]) == "O0; O1"
    assert response_text(TF, False) == "False"
    assert response_text(NUMERIC, None) == "—"
    assert correct_answer_text(single()) == "B"
    assert correct_answer_text(NUMERIC) == "3.14159 (± 0.01)"
    assert correct_answer_text(SHORT) == "“Mean” or “average”"
    assert correct_answer_text(TF) == "False"


# --- selection ----------------------------------------------------------------------------------
BANK = [dict(single(key=f"k{i}"), category="A" if i < 4 else "B") for i in range(6)]


def test_fixed_selection_keeps_order_and_skips_missing():
    picked = pick_questions(BANK, selection="fixed", question_keys=["k3", "gone", "k1"])
    assert [q["key"] for q in picked] == ["k3", "k1"]
    assert [o["id"] for o in picked[0]["options"]] == [0, 1, 2]


def test_random_selection_draws_from_category():
    picked = pick_questions(BANK, selection="random", category="A", count=3, rng=random.Random(1))
    assert len(picked) == 3 and {q["category"] for q in picked} == {"A"}
    assert len({q["key"] for q in picked}) == 3


def test_random_selection_needs_enough_questions():
    with pytest.raises(SelectionError, match="only 2"):
        pick_questions(BANK, selection="random", category="B", count=3)


def test_empty_selection_refused():
    with pytest.raises(SelectionError, match="no questions"):
        pick_questions(BANK, selection="fixed", question_keys=[])


def test_shuffle_is_a_permutation_and_copies():
    picked = pick_questions(BANK, selection="fixed", question_keys=[q["key"] for q in BANK],
                            shuffle=True, rng=random.Random(3))  # fmt: skip
    assert sorted(q["key"] for q in picked) == sorted(q["key"] for q in BANK)
    assert [q["key"] for q in picked] != [q["key"] for q in BANK]
    assert any([o["id"] for o in q["options"]] != [0, 1, 2] for q in picked)
    assert [o["id"] for o in BANK[0]["options"]] == [0, 1, 2]  # the bank is untouched


# --- question validation ------------------------------------------------------------------------
def base(**kw):
    return {"key": "q1", "type": "single", "prompt": "Why?", "points": 1, **kw}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (base(type="essay"), "type", "unknown type"),
        (base(key="bad key!"), "key", "key"),
        (base(prompt="  "), "prompt", "Enter the question"),
        (base(points=0), "points", "more than 0"),
        (base(points="x"), "points", "number"),
        (base(options=[{"text": "A", "correct": True}]), "options", "at least two"),
        (base(options=[{"text": "A", "correct": True}, {"text": "B", "correct": True}]), "options", "exactly one"),
        (base(options=[{"text": "A"}, {"text": "B"}]), "options", "exactly one"),
        (base(type="multiple", options=[{"text": "A"}, {"text": "B"}]), "options", "at least one"),
        (base(options=[{"text": "A", "correct": True}, {"text": "a"}]), "options", "same text"),
        (base(options=[{"text": "", "correct": True}, {"text": "B"}]), "options", "no text"),
        (base(options="A,B"), "options", "list"),
        (base(type="numeric"), "answer", "number"),
        (base(type="numeric", answer="nan"), "answer", "finite"),
        (base(type="numeric", answer=1, tolerance=-0.1), "tolerance", "negative"),
        (base(type="true_false", answer="yes"), "answer", "true or false"),
        (base(type="short", accepted=[]), "accepted", "at least one"),
        (base(type="short", accepted="mean"), "accepted", "list"),
        (base(type="short", accepted=["a"], case_sensitive="no"), "case_sensitive", "true or false"),
    ],
)  # fmt: skip
def test_clean_question_refuses(data, field, message):
    with pytest.raises(QuestionError, match=message) as info:
        clean_question(data)
    assert info.value.field == field


def test_clean_question_normalises():
    clean = clean_question(
        base(type="short", accepted=[" mean ", "mean", "", "avg"], feedback=None)
    )
    assert clean["accepted"] == ["mean", "avg"]
    assert clean["case_sensitive"] is False and clean["feedback"] == ""
    numeric = clean_question(base(type="numeric", answer="2.5", options=[{"text": "ignored"}]))
    assert numeric["answer"] == 2.5 and numeric["tolerance"] == 0.0 and "options" not in numeric


# --- quiz settings ------------------------------------------------------------------------------
def test_clean_settings_defaults_and_random():
    assert clean_settings({"question_keys": ["q1"]}) == {
        "selection": "fixed", "question_keys": ["q1"], "random_category": None,
        "random_count": None, "pass_mark": None, "attempts_allowed": None,
        "time_limit_minutes": None, "shuffle": False, "feedback_mode": "immediate",
        "close_at": None,
    }  # fmt: skip
    clean = clean_settings({"random": {"category": "stats", "count": 5}, "pass_mark": 70,
                            "attempts_allowed": 2, "time_limit_minutes": 15, "shuffle": True,
                            "feedback_mode": "on_release"})  # fmt: skip
    assert clean["selection"] == "random" and clean["random_count"] == 5
    assert clean["pass_mark"] == 70.0 and clean["feedback_mode"] == "on_release"


@pytest.mark.parametrize(
    ("content", "message"),
    [({"question_keys": "q1"}, "list"), ({"question_keys": ["q1", "q1"]}, "twice"),
     ({"random": {"category": "a"}}, "required"), ({"random": {"category": "a", "count": 0}}, "between"),
     ({"pass_mark": 101}, "0 to 100"), ({"pass_mark": "50"}, "0 to 100"),
     ({"attempts_allowed": 0}, "between"), ({"attempts_allowed": 1.5}, "whole"),
     ({"time_limit_minutes": -5}, "between"), ({"shuffle": "yes"}, "true or false"),
     ({"feedback_mode": "later"}, "feedback_mode"), ("nope", "object")],
)  # fmt: skip
def test_clean_settings_refuses(content, message):
    with pytest.raises(ValueError, match=message):
        clean_settings(content)
