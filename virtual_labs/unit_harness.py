"""The Python unit-test harness. It runs INSIDE the sandbox, never in the app.

``grading`` copies this file into the box as ``_lab_harness.py`` next to the learner's files and
the author's tests (``_lab_tests.py``), and runs it with Python's standard library only.

Protocol: the first line of stdin is a random per-run nonce; the rest is the test's stdin, given
to the learner's code as ``sys.stdin``. The harness keeps a private duplicate of the real stdout,
then sends everything the learner's code prints to a buffer. It imports the learner's ``main.py``
(also as ``solution``), runs every ``test*`` function of the tests file and writes one result per
test on the private stdout as ``<nonce>{json}``; grading ignores every other line. The learner
cannot forge a result line by printing (their output goes to the buffer, and the nonce is random
per run), but code that digs into the harness's own frames could: that only lets a learner
mislead their own grade in a way that is visible in the submitted code, the same trust model as
CodeRunner's Python question types.

Plain ``assert a == b`` statements are rewritten to report both sides, like pytest.
"""

import ast
import io
import json
import operator
import os
import sys
import traceback

TESTS_FILE = "_lab_tests.py"
_OPS = {
    ast.Eq: (operator.eq, "=="),
    ast.NotEq: (operator.ne, "!="),
    ast.Lt: (operator.lt, "<"),
    ast.LtE: (operator.le, "<="),
    ast.Gt: (operator.gt, ">"),
    ast.GtE: (operator.ge, ">="),
    ast.In: (lambda a, b: a in b, "in"),
    ast.NotIn: (lambda a, b: a not in b, "not in"),
    ast.Is: (operator.is_, "is"),
    ast.IsNot: (operator.is_not, "is not"),
}
_OP_FUNCS = {symbol: func for func, symbol in _OPS.values()}


def _short_repr(value, limit=300):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _lab_check(left, right, symbol, source):
    """The replacement of ``assert left <op> right``: fails with both sides shown."""
    if not _OP_FUNCS[symbol](left, right):
        raise AssertionError(
            f"assert {source}\n  left:  {_short_repr(left)}\n  right: {_short_repr(right)}"
        )


class _AssertRewriter(ast.NodeTransformer):
    def visit_Assert(self, node):
        """Turn a bare assert into a check that reports both compared values, else into one that names its source."""
        source = ast.unparse(node.test)
        if node.msg is not None:
            return node
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _OPS:
            call = ast.Call(
                func=ast.Name(id="_lab_check", ctx=ast.Load()),
                args=[
                    test.left,
                    test.comparators[0],
                    ast.Constant(_OPS[type(test.ops[0])][1]),
                    ast.Constant(source),
                ],
                keywords=[],
            )
            return ast.copy_location(ast.Expr(call), node)
        node.msg = ast.Constant(f"assert {source}")
        return node


def _where(exc):
    """``(main.py, line 3)`` for the innermost frame in the learner's or the tests' code."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = os.path.basename(frame.filename)
        if name == TESTS_FILE:
            return f" (tests, line {frame.lineno})"
        if not name.startswith("_lab_") and frame.filename.startswith(os.getcwd()):
            return f" ({name}, line {frame.lineno})"
    return ""


def _describe(exc):
    text = str(exc)
    if isinstance(exc, AssertionError):
        return (text or "assertion failed") + _where(exc)
    name = type(exc).__name__
    return (f"{name}: {text}" if text else name) + _where(exc)


def _status_of(exc):
    if isinstance(exc, AssertionError):
        return "failed"
    if isinstance(exc, MemoryError):
        return "memory"
    return "error"


def _compile_tests():
    """The author's tests, asserts rewritten to explain themselves, and their test names."""
    with open(TESTS_FILE, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), TESTS_FILE)
    tree = ast.fix_missing_locations(_AssertRewriter().visit(tree))
    names = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
    ]
    return compile(tree, TESTS_FILE, "exec"), names


def main():
    """Run the learner's unit tests in the box and report each result under the nonce."""
    nonce = sys.stdin.readline().strip()
    rest = sys.stdin.read()
    report = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    capture = io.StringIO()
    sys.stdin = io.StringIO(rest)
    sys.stdout = capture

    def emit(**data):
        """Write one report line, prefixed with the nonce."""
        report.write(nonce + json.dumps(data) + "\n")
        report.flush()

    try:
        code, names = _compile_tests()
    except SyntaxError as exc:
        emit(event="setup", status="error", message=f"the tests do not compile: {exc}")
        return
    sys.path.insert(0, os.getcwd())
    try:
        import main as learner  # noqa: PLC0415 (the learner's module)
    except BaseException as exc:  # noqa: BLE001 (anything the learner's module raises)
        emit(event="setup", status=_status_of(exc), message=_describe(exc))
        return
    sys.modules["solution"] = learner
    namespace = {k: v for k, v in vars(learner).items() if not k.startswith("__")}
    namespace.update(__name__="lab_tests", main=learner, solution=learner, _lab_check=_lab_check)
    try:
        exec(code, namespace)
    except BaseException as exc:  # noqa: BLE001
        emit(event="setup", status="error", message="the tests failed to load: " + _describe(exc))
        return
    for name in names:
        capture.seek(0)
        capture.truncate()
        try:
            namespace[name]()
        except BaseException as exc:  # noqa: BLE001 (SystemExit included: a test must return)
            emit(test=name, status=_status_of(exc), message=_describe(exc)[:4000])
        else:
            emit(test=name, status="passed", message="")
    emit(event="done")


if __name__ == "__main__":
    main()
