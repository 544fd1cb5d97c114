"""Every lab language compiles and runs through the sandbox, with the right verdicts."""

from __future__ import annotations

import textwrap

import pytest

from virtual_labs.languages import LANGUAGES, get_language, language_choices
from virtual_labs.sandbox import Limits, RunResult, language_limits, prepare, run_program

pytestmark = pytest.mark.sandbox

LIMITS = Limits(cpu_s=2, wall_s=5, memory_mb=256, procs=4)

HELLO = {
    "python": "import sys\nname = sys.stdin.readline().strip()\nprint(f'hello, {name}', *sys.argv[1:])\n",
    "c": textwrap.dedent(
        """
        #include <stdio.h>
        int main(int argc, char **argv) {
            char name[64];
            if (scanf("%63s", name) != 1) return 2;
            printf("hello, %s", name);
            for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
            printf("\\n");
            return 0;
        }
        """
    ),
    "cpp": textwrap.dedent(
        """
        #include <iostream>
        #include <string>
        int main(int argc, char **argv) {
            std::string name;
            std::cin >> name;
            std::cout << "hello, " << name;
            for (int i = 1; i < argc; ++i) std::cout << " " << argv[i];
            std::cout << std::endl;
        }
        """
    ),
    "javascript": textwrap.dedent(
        """
        const input = require("fs").readFileSync(0, "utf8").trim();
        console.log(["hello, " + input, ...process.argv.slice(2)].join(" "));
        """
    ),
    "java": textwrap.dedent(
        """
        public class Main {
            public static void main(String[] args) {
                String name = new java.util.Scanner(System.in).next();
                System.out.println("hello, " + name + " " + String.join(" ", args));
            }
        }
        """
    ),
}
COMPILE_ERRORS = {
    "c": "int main(void) { return 1 }\n",
    "cpp": "int main() { undefined_function(); }\n",
    "java": 'public class Main { public static void main(String[] a) { int x = "s"; } }\n',
}
SYNTAX_ERRORS = {
    "python": ("def broken(:\n    pass\n", "SyntaxError"),
    "javascript": ("function broken( {\n", "SyntaxError"),
}
RUNTIME_ERRORS = {
    "python": ("print(1 // 0)\n", "ZeroDivisionError"),
    "c": ('#include <stdio.h>\nint main(void) { fputs("bad input", stderr); return 3; }\n', ""),
    "cpp": ('#include <stdexcept>\nint main() { throw std::runtime_error("boom"); }\n', "boom"),
    "javascript": ('throw new Error("boom");\n', "Error: boom"),
    "java": (
        'public class Main { public static void main(String[] a) { throw new RuntimeException("boom"); } }',
        "RuntimeException: boom",
    ),
}


@pytest.fixture(autouse=True)
def _sandbox_required():
    from virtual_labs.sandbox import sandbox_status

    ok, message = sandbox_status()
    if not ok:
        pytest.skip(f"sandbox unavailable: {message}")


def run(language: str, source: str, **kwargs) -> RunResult:
    return run_program(
        language, {get_language(language).source_file: source}, limits=LIMITS, **kwargs
    )


def test_language_table_is_declarative_and_complete():
    assert set(LANGUAGES) >= {"python", "c", "cpp", "javascript", "java"}
    for lang in LANGUAGES.values():
        assert lang.run and lang.source_file and lang.editor_mode
        assert lang.compiled == (lang.key in ("c", "cpp", "java"))
        tool = lang.compile[0] if lang.compiled else lang.run[0]
        assert tool.startswith("/usr/"), tool  # resolved, never a venv or a shim
    assert ("python", "Python 3") in language_choices()
    assert get_language("javascript").runtime_tasks > 0  # V8's threads come on top
    assert language_limits("python") == Limits()
    with pytest.raises(KeyError, match="unknown language"):
        get_language("cobol")


@pytest.mark.parametrize("language", sorted(HELLO))
def test_hello_world_with_stdin_and_arguments(language):
    result = run(language, HELLO[language], stdin="Ada\n", args=("x", "y z"))
    assert result.verdict == "ok", result
    assert result.stdout == "hello, Ada x y z\n"
    assert result.exit_code == 0 and result.signal is None
    assert result.cpu_s > 0 and result.memory_kb > 0 and result.wall_s > 0


@pytest.mark.parametrize("language", sorted(COMPILE_ERRORS))
def test_compile_errors_report_the_compiler_output(language):
    result = run(language, COMPILE_ERRORS[language])
    assert result.verdict == "compile_error"
    assert "error" in result.compile_output
    assert get_language(language).source_file in result.compile_output
    assert result.stdout == ""


@pytest.mark.parametrize("language", sorted(SYNTAX_ERRORS))
def test_interpreted_syntax_errors_are_runtime_errors(language):
    source, marker = SYNTAX_ERRORS[language]
    result = run(language, source)
    assert result.verdict == "runtime_error"
    assert marker in result.stderr


@pytest.mark.parametrize("language", sorted(RUNTIME_ERRORS))
def test_runtime_errors(language):
    source, marker = RUNTIME_ERRORS[language]
    result = run(language, source)
    assert result.verdict == "runtime_error", result
    assert marker in result.stderr
    assert result.exit_code not in (0, None) or result.signal is not None


def test_node_threads_do_not_count_against_the_learners_processes():
    source = "require('fs').readFile('main.js', (err, data) => console.log(data.length > 0));\n"
    result = run_program("javascript", {"main.js": source}, limits=Limits(procs=1))
    assert result.verdict == "ok", result
    assert result.stdout == "true\n"


def test_compiler_warnings_are_kept_on_success():
    result = run("c", "int main(void) { int unused; return 0; }\n")
    assert result.verdict == "ok"
    assert "unused" in result.compile_output


def test_prepare_compiles_once_and_runs_many_times():
    source = (
        '#include <stdio.h>\nint main(void) { int x; scanf("%d", &x); printf("%d\\n", x * x); }\n'
    )
    with prepare("c", {"main.c": source}, LIMITS) as prepared:
        assert prepared.ok and prepared.compile_result.verdict == "ok"
        outputs = [prepared.run(str(n)).stdout for n in (2, 3, 12)]
    assert outputs == ["4\n", "9\n", "144\n"]


def test_prepare_reports_a_compile_error_for_every_run():
    with prepare("cpp", {"main.cpp": "int main( {"}, LIMITS) as prepared:
        assert not prepared.ok
        assert prepared.run("x").verdict == "compile_error"


def test_multi_file_submissions():
    python = run_program(
        "python",
        {
            "main.py": "from helpers import double\nprint(double(21))\n",
            "helpers.py": "def double(x):\n    return 2 * x\n",
        },
        limits=LIMITS,
    )
    assert python.stdout == "42\n"
    c = run_program(
        "c",
        {
            "main.c": '#include <stdio.h>\n#include "lib.h"\nint main(void) { printf("%d\\n", triple(5)); }\n',
            "lib.c": '#include "lib.h"\nint triple(int x) { return 3 * x; }\n',
            "lib.h": "int triple(int x);\n",
        },
        limits=LIMITS,
    )
    assert c.verdict == "ok" and c.stdout == "15\n"
    data = run_program(
        "python",
        {
            "main.py": "print(open('data/input.csv').read().count(','))\n",
            "data/input.csv": "a,b,c\n",
        },
        limits=LIMITS,
    )
    assert data.stdout == "2\n"


def test_unsafe_file_names_are_refused():
    for name in ("../escape.py", "/etc/passwd", "a/../../b", "-rf", ""):
        with pytest.raises(ValueError):
            run_program("python", {"main.py": "print(1)", name: "x"}, limits=LIMITS)


def test_large_stdin_does_not_deadlock():
    data = "1\n" * 500_000  # 1 MB: far more than a pipe buffer
    result = run(
        "python",
        "import sys\nprint(sum(int(line) for line in sys.stdin))\n",
        stdin=data,
    )
    assert result.verdict == "ok", result
    assert result.stdout == "500000\n"


def test_program_ignoring_its_stdin_is_fine():
    result = run("python", "print('done')\n", stdin="x" * 1_000_000)
    assert result.verdict == "ok" and result.stdout == "done\n"


def test_result_serialises_with_the_cli_keys():
    result = run("python", "print('hi')\n")
    data = result.to_dict()
    assert list(data) == [
        "verdict",
        "exit_code",
        "signal",
        "stdout",
        "stderr",
        "compile_output",
        "cpu_s",
        "wall_s",
        "memory_kb",
        "truncated",
    ]
    assert RunResult.from_dict(data).stdout == "hi\n"
