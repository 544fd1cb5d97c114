"""The completion rules as pure functions: activity rules, course rules, programs."""

from lms.progress import rules
from lms.progress.rules import ActivityFacts as F
from lms.progress.rules import CourseRule


def test_activity_rules():
    assert rules.evaluate_activity("none", None, True, True, 100).completed is False
    assert rules.evaluate_activity("viewed", None, True, False, None).completed is True
    assert rules.evaluate_activity("viewed", None, False, False, None).completed is False
    assert rules.evaluate_activity("submitted", None, True, False, None).completed is False
    assert rules.evaluate_activity("submitted", None, True, True, None).completed is True
    passed = rules.evaluate_activity("passed", 70, True, True, 70)
    assert (passed.completed, passed.failed) == (True, False)
    failed = rules.evaluate_activity("passed", 70, True, True, 69.9)
    assert (failed.completed, failed.failed) == (False, True)
    # default pass mark is 50; ungraded is neither
    assert rules.evaluate_activity("passed", None, True, True, 50).completed is True
    pending = rules.evaluate_activity("passed", None, True, True, None)
    assert (pending.completed, pending.failed) == (False, False)


def test_course_all_required():
    rule = CourseRule()
    nothing = rules.evaluate_course(rule, [F(True, "viewed"), F(True, "passed")])
    assert (nothing.state, nothing.progress) == ("not_started", 0.0)
    half = rules.evaluate_course(rule, [F(True, "viewed", completed=True, touched=True),
                                        F(True, "passed")])  # fmt: skip
    assert (half.state, half.progress) == ("in_progress", 50.0)
    done = rules.evaluate_course(
        rule,
        [F(True, "viewed", completed=True), F(True, "passed", completed=True, grade=80),
         F(False, "viewed")],  # optional activity does not count
    )  # fmt: skip
    assert (done.state, done.progress, done.grade) == ("completed", 100.0, 80.0)


def test_course_n_of_and_none_rule():
    rule = CourseRule("n_of", 2)
    facts = [F(True, "viewed", completed=True), F(True, "viewed"), F(True, "viewed", completed=True),
             F(True, "none", completed=True)]  # fmt: skip
    outcome = rules.evaluate_course(rule, facts)
    assert (outcome.state, outcome.done, outcome.needed) == ("completed", 2, 2)
    # N larger than the number of activities is capped
    assert rules.evaluate_course(CourseRule("n_of", 9), facts).needed == 3


def test_course_min_grade_weighted():
    rule = CourseRule(min_grade=60)
    facts = [F(True, "passed", weight=3, completed=True, grade=50),
             F(True, "passed", weight=1, completed=True, grade=100)]  # fmt: skip
    outcome = rules.evaluate_course(rule, facts)
    assert outcome.grade == 62.5
    assert outcome.state == "completed"
    low = [F(True, "passed", weight=3, completed=True, grade=50),
           F(True, "passed", weight=1, completed=True, grade=55)]  # fmt: skip
    assert rules.evaluate_course(CourseRule(min_grade=60), low).state == "failed"


def test_course_failed_only_when_everything_attempted():
    rule = CourseRule()
    one_failed_one_open = [
        F(True, "passed", failed=True, grade=20, touched=True),
        F(True, "passed"),
    ]
    assert rules.evaluate_course(rule, one_failed_one_open).state == "in_progress"
    all_attempted = [F(True, "passed", failed=True, grade=20, touched=True),
                     F(True, "passed", completed=True, grade=90, touched=True)]  # fmt: skip
    assert rules.evaluate_course(rule, all_attempted).state == "failed"


def test_course_without_counted_activities_is_never_complete():
    outcome = rules.evaluate_course(CourseRule(), [F(True, "none", touched=True)])
    assert (outcome.state, outcome.needed) == ("in_progress", 0)


def test_program_progress_and_median():
    assert rules.program_progress([100, 50, 0], 1, "all", None) == (50.0, False)
    assert rules.program_progress([100, 50, 0], 1, "n_of", 1) == (100.0, True)
    assert rules.program_progress([100, 50, 0], 1, "n_of", 2) == (75.0, False)
    assert rules.program_progress([], 0, "all", None) == (0.0, False)
    assert rules.median([]) is None
    assert rules.median([3, 1, 2]) == 2
    assert rules.median([4, 1, 2, 3]) == 2.5


def test_add_months_clamps_day():
    assert rules.add_months(2026, 1, 31, 1) == (2026, 2, 28)
    assert rules.add_months(2026, 11, 15, 12) == (2027, 11, 15)
    assert rules.add_months(2026, 12, 1, 1) == (2027, 1, 1)
