"""``flask labs ...``: the sandbox's operator commands (``selftest``, ``exec``).

The component adds this group to the app (and may hang more commands, such as the worker, on it).
"""

from __future__ import annotations

import json
import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from .cgroups import status as cgroup_status
from .languages import LANGUAGES, get_language
from .sandbox import language_limits, run_program, sandbox_mode, sandbox_status
from .selftest import run_selftest

labs_cli = AppGroup("labs", help="Virtual labs: sandbox checks, runs and grading workers.")


@labs_cli.command("selftest")
def selftest_command() -> None:
    """Check the sandbox's isolation and limits for real; exit non-zero on any failure."""
    click.echo(f"Lab sandbox self-test ({sandbox_mode()}; {cgroup_status()})")

    def echo(result) -> None:
        """Print one self-test check as PASS or FAIL with its detail."""
        mark = click.style("PASS", fg="green") if result.ok else click.style("FAIL", fg="red")
        click.echo(f"  {mark}  {result.name}: {result.detail}")

    app = current_app._get_current_object()
    results = run_selftest(app.root_path, app.instance_path, echo=echo)
    failed = [r for r in results if not r.ok]
    if failed:
        click.echo(f"{len(failed)} of {len(results)} checks failed: labs must stay disabled.")
        sys.exit(1)
    click.echo(f"All {len(results)} checks passed.")


@labs_cli.command("exec")
@click.option("--language", required=True, type=click.Choice(sorted(LANGUAGES)))
@click.option("--stdin", "stdin_file", type=click.File("rb"), help="File fed to standard input.")
@click.option("--cpu", type=click.FloatRange(min=0.01), help="CPU seconds.")
@click.option("--wall", type=click.FloatRange(min=0.01), help="Wall-clock seconds.")
@click.option("--memory", type=click.IntRange(min=1), help="Memory in MB.")
@click.option("--procs", type=click.IntRange(min=1), help="Processes (and threads).")
@click.option("--output-kb", type=click.IntRange(min=1), help="Output cap in KB.")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.argument("extra_files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def exec_command(language, stdin_file, cpu, wall, memory, procs, output_kb, source, extra_files):
    """Run SOURCE (saved as the language's main file) with EXTRA_FILES in the sandbox.

    Prints one JSON object (verdict, exit_code, signal, stdout, stderr, compile_output, cpu_s,
    wall_s, memory_kb, truncated). Exits 0 whenever the run happened, whatever the verdict.
    """
    ok, message = sandbox_status()
    if not ok:
        raise click.ClickException(message)
    lang = get_language(language)
    files = {}
    for path in extra_files:
        with open(path, "rb") as fh:
            files[os.path.basename(path)] = fh.read()
    with open(source, "rb") as fh:
        files[lang.source_file] = fh.read()
    limits = language_limits(lang).with_overrides(
        cpu_s=cpu, wall_s=wall, memory_mb=memory, procs=procs, output_kb=output_kb
    )
    stdin = stdin_file.read() if stdin_file else b""
    try:
        result = run_program(language, files, stdin=stdin, limits=limits)
    except ValueError as exc:  # a bad file name
        raise click.UsageError(str(exc)) from None
    click.echo(json.dumps(result.to_dict()))
