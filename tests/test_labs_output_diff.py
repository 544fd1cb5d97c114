"""Where a failed test's output differs (virtual_labs.output_diff) and how the results show it."""

from __future__ import annotations

from types import SimpleNamespace

from virtual_labs.output_diff import diff_output


def marked(line) -> list[str]:
    return [text for text, is_marked in line.pieces if is_marked]


def test_the_differing_characters_of_a_line_are_marked_on_both_sides():
    diff = diff_output("Total: 1250 units\n", "Total: 1205 units\n")
    (row,) = diff.rows
    assert row.kind == "changed" and diff.changed == 1
    assert row.expected.text == "Total: 1250 units" and row.actual.text == "Total: 1205 units"
    assert "".join(marked(row.expected)) in ("50", "5", "0") and marked(row.actual)
    assert row.expected.pieces[0] == ("Total: 12", False)  # the shared start is not marked


def test_unrelated_lines_are_marked_whole_and_missing_lines_have_no_partner():
    diff = diff_output("5\nbye\n", "-1\n")
    first, second = diff.rows
    assert marked(first.expected) == ["5"] and marked(first.actual) == ["-1"]
    assert second.kind == "changed" and second.expected.text == "bye" and second.actual is None


def test_a_difference_deep_in_a_long_output_is_shown_with_its_context_only():
    expected = "".join(f"line {n}\n" for n in range(1, 301))
    actual = expected.replace("line 250\n", "line 205\n")
    diff = diff_output(expected, actual)
    kinds = [row.kind for row in diff.rows]
    assert kinds == ["skip", "same", "same", "changed", "same", "same", "skip"]
    assert diff.rows[0].count == 247 and diff.rows[-1].count == 48
    assert diff.rows[3].expected.number == 250


def test_nothing_to_mark_when_only_line_endings_differ():
    assert not diff_output("5\n", "5\r\n") and not diff_output("5\n", None)


def test_results_show_expected_over_actual_full_width_with_words_not_colour_alone(app):
    from flask import render_template

    test = {
        "name": "Small numbers",
        "verdict": "wrong_answer",
        "passed": False,
        "hidden": False,
        "expected": "5\n",
        "actual": "-1\n",
        "message": "Line 1 differs.",
        "diff": diff_output("5\n", "-1\n"),
    }
    result = {
        "title": "Submission #1",
        "tag": "wrong_answer",
        "tests": [test],
        "passed": 0,
        "score": 0.0,
    }
    with app.test_request_context():
        html = render_template("labs/_result.html", r=SimpleNamespace(sub=None, **result))
    assert '<tr class="lab-tests__diff">' in html and 'colspan="3"' in html
    assert '<th scope="row">Expected</th>' in html and '<th scope="row">Your output</th>' in html
    assert "<mark>5</mark>" in html and "<mark>-1</mark>" in html
    assert "<del>" not in html and "<ins>" not in html  # not "struck out" vs "added"
