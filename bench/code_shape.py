"""Measure the code's shape: long files, long functions, docstrings and package import cycles.

Run: ``python bench/code_shape.py`` from the repository root. Prints a table; the figures are the ones
the shape issue reports before and after (files over 400 lines, functions over 50 lines, the median
function length, the share of public functions with a docstring, the package import cycles and the
imports made inside functions), and how thick the views are: views over 30 lines and ``select()``
calls inside views, where a view is a function decorated with a blueprint route (``@bp.route``,
``@bp.get``, ``@bp.post``, ...).
"""

from __future__ import annotations

import ast
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lms", "courses", "virtual_labs")


def python_files() -> list[Path]:
    """Every module of the application packages (tests, migrations and bench excluded)."""
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def module_name(path: Path) -> str:
    """Dotted module name of a file under the repository root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str) -> str:
    """The unit a module belongs to: a feature package of core (``lms.progress.x`` → ``lms.progress``),
    a single core module (``lms.extensions``), or a top-level package (``courses``)."""
    parts = module.split(".")
    if parts[0] != "lms" or len(parts) == 1:
        return parts[0]
    return ".".join(parts[:2])


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """Absolute module name of a (possibly relative) ``from ... import``."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def is_module(name: str) -> bool:
    """Whether a dotted name is a module or package of the repository."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


def is_view(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a function is a view: decorated with a blueprint route (``@bp.get(...)``)."""
    return any(
        isinstance(dec, ast.Call)
        and isinstance(dec.func, ast.Attribute)
        and dec.func.attr in ROUTE_DECORATORS
        for dec in node.decorator_list
    )


def select_calls(node: ast.AST) -> int:
    """Number of ``select(...)`` (or ``sa.select(...)``) calls inside a function."""
    return sum(
        1
        for inner in ast.walk(node)
        if isinstance(inner, ast.Call)
        and (
            (isinstance(inner.func, ast.Name) and inner.func.id == "select")
            or (isinstance(inner.func, ast.Attribute) and inner.func.attr == "select")
        )
    )


def analyse() -> dict:
    """Walk every module and collect the figures."""
    long_files, lengths, long_functions = [], [], []
    long_views, selecting_views = [], []
    public = documented = late_imports = 0
    edges: dict[str, set[str]] = defaultdict(set)
    for path in python_files():
        source = path.read_text()
        tree = ast.parse(source)
        lines = len(source.splitlines())
        rel = str(path.relative_to(ROOT))
        if lines > 400:
            long_files.append((lines, rel))
        module = module_name(path)
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                lengths.append(length)
                if length > 50:
                    long_functions.append((length, f"{rel}:{node.name}"))
                if is_view(node):
                    if length > 30:
                        long_views.append((length, f"{rel}:{node.name}"))
                    if selects := select_calls(node):
                        selecting_views.append((selects, f"{rel}:{node.name}"))
                if not node.name.startswith("_"):
                    public += 1
                    documented += ast.get_docstring(node) is not None
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        late_imports += 1
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                public += 1
                documented += ast.get_docstring(node) is not None
        src_pkg = package_of(module)
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:  # not imported at run time
                continue
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = resolve(module, is_package, node)
                # ``from lms import permissions`` imports the module lms.permissions, not lms.
                targets = [
                    f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base
                    for alias in node.names
                ]
            for target in targets:
                if target.split(".")[0] in PACKAGES:
                    dst = package_of(target)
                    if dst != src_pkg:
                        edges[src_pkg].add(dst)
    return {
        "long_files": sorted(long_files, reverse=True),
        "long_functions": sorted(long_functions, reverse=True),
        "long_views": sorted(long_views, reverse=True),
        "selecting_views": sorted(selecting_views, reverse=True),
        "median": statistics.median(lengths) if lengths else 0,
        "functions": len(lengths),
        "docstrings": documented / public if public else 1.0,
        "late_imports": late_imports,
        "cycles": cycles(edges),
    }


def cycles(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs of packages that import each other, directly or through others (strongly connected)."""
    found = set()
    for a in list(edges):
        for b in reachable(edges, a):
            if a < b and a in reachable(edges, b):
                found.add((a, b))
    return sorted(found)


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    """Every package reachable from ``start`` along import edges."""
    seen, stack = set(), [start]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def main() -> int:
    """Print the table (and the long files and functions with ``-v``)."""
    figures = analyse()
    rows = [
        ("files over 400 lines", len(figures["long_files"])),
        ("functions over 50 lines", len(figures["long_functions"])),
        ("views over 30 lines", len(figures["long_views"])),
        ("select() in views (calls)", sum(n for n, _ in figures["selecting_views"])),
        ("views calling select()", len(figures["selecting_views"])),
        ("median function length (lines)", figures["median"]),
        ("functions and methods", figures["functions"]),
        ("public docstring share", f"{figures['docstrings']:.0%}"),
        ("imports inside functions", figures["late_imports"]),
        ("package import cycles", len(figures["cycles"])),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if "-v" in sys.argv:
        print(
            "\nfiles over 400 lines:", *(f"  {n:5} {f}" for n, f in figures["long_files"]), sep="\n"
        )
        print(
            "\nfunctions over 50 lines:",
            *(f"  {n:5} {f}" for n, f in figures["long_functions"]),
            sep="\n",
        )
        print(
            "\nviews over 30 lines:", *(f"  {n:5} {f}" for n, f in figures["long_views"]), sep="\n"
        )
        print(
            "\nselect() in views (calls per view):",
            *(f"  {n:5} {f}" for n, f in figures["selecting_views"]),
            sep="\n",
        )
        print("\ncycles:", *(f"  {a} <-> {b}" for a, b in figures["cycles"]), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
