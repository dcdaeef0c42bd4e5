"""Code shape: no function is longer than MAX_LINES lines, from its ``def`` line to its last line.

A function that does not fit on a screen usually does several things; cutting it along its seams
(a construct's role and grants, a command's set-up and its report) names those things. ruff
bounds branches, arguments, statements and complexity, but not length, so this test does.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 40
# All production code: the package (core, runtime, tooling, the handler), the CDK app and the bench.
ROOTS = ("lambdas/gluetrigger", "infra", "app.py", "bench")


def python_files(roots: tuple[str, ...]) -> list[Path]:
    """Every .py file under ``roots`` (files or directories, relative to the repository)."""
    files: list[Path] = []
    for root in roots:
        path = REPO / root
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def long_functions(source: str, filename: str, limit: int = MAX_LINES) -> list[str]:
    """``file:line qualified.name: N lines`` for each function, method or nested function over ``limit``."""
    found: list[str] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}."
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                # lineno is the def line, after any decorators; end_lineno the function's last line.
                lines = (child.end_lineno or child.lineno) - child.lineno + 1
                if lines > limit:
                    found.append(f"{filename}:{child.lineno} {name[:-1]}: {lines} lines")
            visit(child, name)

    visit(ast.parse(source, filename), "")
    return found


def function(name: str, lines: int, indent: str = "") -> str:
    """Source of a function ``lines`` long, def line included."""
    body = "".join(f"{indent}    x{index} = {index}\n" for index in range(lines - 1))
    return f"{indent}def {name}() -> None:\n{body}"


def test_the_checker_names_every_function_over_the_limit_and_only_those() -> None:
    source = "\n".join(
        [
            function("fits", MAX_LINES),
            function("too_long", MAX_LINES + 1),
            "class Construct:",
            "    @decorated",  # not counted: the length runs from the def line
            function("method", MAX_LINES, indent="    "),
            "    def outer(self) -> None:",
            function("nested", MAX_LINES + 5, indent="        ").replace("def ", "async def ", 1),
        ]
    )
    lines = source.splitlines()

    def at(text: str) -> int:
        return lines.index(text) + 1

    assert long_functions(source, "synthetic.py") == [
        f"synthetic.py:{at('def too_long() -> None:')} too_long: {MAX_LINES + 1} lines",
        f"synthetic.py:{at('    def outer(self) -> None:')} Construct.outer: {MAX_LINES + 6} lines",
        f"synthetic.py:{at('        async def nested() -> None:')} Construct.outer.nested: {MAX_LINES + 5} lines",
    ]


def test_every_root_exists_and_holds_python() -> None:
    assert [root for root in ROOTS if not (REPO / root).exists()] == []
    assert {str(path.relative_to(REPO)) for path in python_files(ROOTS)} >= {
        "app.py",
        "infra/stack.py",
        "bench/run.py",
        "lambdas/gluetrigger/tooling/cli.py",
    }


def test_no_function_is_longer_than_the_limit() -> None:
    too_long = [
        line
        for path in python_files(ROOTS)
        for line in long_functions(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    ]
    assert too_long == [], f"functions over {MAX_LINES} lines (cut them along their seams):\n" + "\n".join(too_long)
