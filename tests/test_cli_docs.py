"""The ``citydip`` command stays documented and fast.

* every ``citydip …`` line in README.md's code blocks names a command that exists;
* every command's ``--help`` has an ``Example`` section whose ``citydip …`` lines name that command;
* ``import citydiplomacy.cli`` (all that ``citydip --help`` needs) imports none of the heavy libraries,
  and ``citydip --help`` answers well within a second.

The tests walk the command tree, so command modules added later are held to the same rules.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from citydiplomacy.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# Libraries that take 0.1-1 s each to import; `citydip --help` must not pay for any of them.
HEAVY = ("pandas", "numpy", "scipy", "sqlalchemy", "igraph", "sklearn", "plotly")


def _children(command: Any) -> dict[str, Any]:
    """Sub-commands of a group ({} for a leaf); Typer's command classes need not derive from click's."""
    return dict(getattr(command, "commands", None) or {})


def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    children = _children(command)
    if not children:
        yield path, command
    for name, child in sorted(children.items()):
        if not getattr(child, "hidden", False):
            yield from _leaves(child, (*path, name))


def _resolve(words: list[str]) -> tuple[str, ...]:
    """The command path that ``citydip WORDS…`` runs; AssertionError when a word names no sub-command."""
    command, path = typer.main.get_command(app), ()
    for word in words:
        children = _children(command)
        if not children:  # a leaf: the rest are its arguments and options
            break
        assert word in children, f"`citydip {' '.join((*path, word))}`: no such command (have: {sorted(children)})"
        command, path = children[word], (*path, word)
    return path


def _citydip_words(line: str) -> list[str] | None:
    """The words after ``citydip`` in one shell line (a comment and a trailing ``\\`` dropped), or None."""
    line = line.split(" #", 1)[0].rstrip().removesuffix("\\")
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    return words[1:] if words[:1] == ["citydip"] else None


def _readme_commands() -> list[tuple[int, str, list[str]]]:
    """(line number, line, words) of every ``citydip`` invocation in README.md's fenced code blocks."""
    found: list[tuple[int, str, list[str]]] = []
    in_block = False
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            continue
        for part in re.split(r"&&|\|\||;|\|", line):  # `… && citydip demo` counts too
            words = _citydip_words(part.strip())
            if words is not None:
                found.append((number, line.strip(), words))
    return found


def test_readme_commands_exist() -> None:
    commands = _readme_commands()
    assert len(commands) >= 20, "README.md should show the commands (did its code blocks move?)"
    problems = []
    for number, line, words in commands:
        try:
            path = _resolve(words)
        except AssertionError as exc:
            problems.append(f"README.md:{number}: {line}\n    {exc}")
            continue
        if _children(_command_at(path)):
            group = " ".join(path)
            problems.append(f"README.md:{number}: {line}\n    names the group `citydip {group}`, not a command")
    assert not problems, "\n".join(problems)


def _command_at(path: tuple[str, ...]) -> Any:
    command = typer.main.get_command(app)
    for word in path:
        command = _children(command)[word]
    return command


def _rendered_help(path: tuple[str, ...]) -> str:
    # Wide and plain, so that an example line is neither wrapped nor split by colour codes.
    env = {"COLUMNS": "200", "TERMINAL_WIDTH": "200", "NO_COLOR": "1", "TERM": "dumb"}
    result = CliRunner().invoke(app, [*path, "--help"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _examples(help_text: str) -> list[str]:
    """The ``citydip …`` lines after the ``Example:``/``Examples:`` heading of a rendered help page."""
    lines = [line.strip(" │") for line in help_text.splitlines()]
    starts = [i for i, line in enumerate(lines) if re.fullmatch(r"Examples?:?", line.strip())]
    if not starts:
        return []
    examples = []
    for line in lines[starts[0] + 1 :]:
        text = line.strip()
        if text.startswith("╭") or text.startswith("Options") or text.startswith("Arguments"):
            break  # the options/arguments panels follow the description
        if text.startswith("citydip ") or text == "citydip":
            examples.append(text)
    return examples


LEAVES = [path for path, _ in _leaves(typer.main.get_command(app))]


def test_the_command_tree_is_walked() -> None:
    assert len(LEAVES) >= 25
    assert ("network", "ego") in LEAVES and ("demo",) in LEAVES


@pytest.mark.parametrize("path", LEAVES, ids=lambda p: " ".join(p))
def test_every_command_help_has_an_example(path: tuple[str, ...]) -> None:
    help_text = _rendered_help(path)
    examples = _examples(help_text)
    name = " ".join(path)
    assert examples, (
        f"`citydip {name} --help` has no example: end its docstring with a line 'Example:' and, after a blank "
        f"line, indented lines 'citydip {name} …' (one paragraph each)\n{help_text}"
    )
    for example in examples:
        words = _citydip_words(example)
        assert words is not None
        assert _resolve(words) == path, f"`citydip {name} --help` shows an example of another command: {example}"


def test_graph_kinds_of_the_cli_match_the_library() -> None:
    # cli/network.py repeats them so that --help does not import igraph; they must not drift apart.
    from citydiplomacy.cli import network as cli_network
    from citydiplomacy.network import graphs

    assert cli_network.GRAPH_KINDS == graphs.GRAPH_KINDS


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    """Run this interpreter on this checkout (not on whatever `citydip` is first on PATH)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_importing_the_cli_imports_no_heavy_library() -> None:
    # The robust check (timings vary between machines): these are what made `citydip --help` take 3.5 s.
    done = _python("-c", f"import sys, citydiplomacy.cli; print([m for m in {HEAVY!r} if m in sys.modules])")
    assert done.returncode == 0, done.stderr
    imported = done.stdout.strip()
    assert imported == "[]", (
        f"`import citydiplomacy.cli` imports {imported}: import them inside the commands that need them "
        "(see `python -X importtime -c 'import citydiplomacy.cli' 2>&1 | sort -t'|' -k2 -n | tail`)"
    )


def test_citydip_help_is_fast() -> None:
    # `python -m citydiplomacy --help` is `citydip --help`: the whole process, interpreter start included.
    # Best of three, and a generous bound: CI machines are shared (it takes ~0.3 s; 3.5 s with eager imports).
    times = []
    for _ in range(3):
        start = time.perf_counter()
        done = _python("-m", "citydiplomacy", "--help")
        times.append(time.perf_counter() - start)
        assert done.returncode == 0, done.stderr
        assert "Usage" in done.stdout
    assert min(times) < 1.5, f"`citydip --help` took {min(times):.2f} s at best"


def _readme_code_lines() -> list[str]:
    lines, in_block = [], False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_block = not in_block
        elif in_block:
            lines.append(line.strip())
    return lines


def test_ci_runs_the_readme_test_command_with_the_lock() -> None:
    (test_command,) = [line for line in _readme_code_lines() if "pytest" in line and "pip install" in line]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert test_command in ci, "keep .ci/run running exactly the README's test command"
    (demo_command,) = [line for line in _readme_code_lines() if line.endswith("citydip demo")]
    for command in (test_command, demo_command):
        assert "-c requirements.lock" in command, f"install with the lock as constraints: {command}"


def test_the_lock_pins_every_dependency_within_its_range() -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    locked = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[canonicalize_name(name)] = version.strip()
    problems = []
    for spec in project["dependencies"] + project["optional-dependencies"]["dev"]:
        requirement = Requirement(spec)
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name} is not in requirements.lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"requirements.lock has {requirement.name}=={version}, outside {requirement.specifier}")
    assert not problems, "run `bash scripts/lock.sh`:\n" + "\n".join(problems)
