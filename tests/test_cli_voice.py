"""One voice on the command line: German help for every command, German click messages."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from gis_planning.cli import cli

ENGLISH = re.compile(
    r"\b(the|and|with|of|for|write|writes|written|file|files|instead|only|from|into|"
    r"this|that|is|are|be|to|when|which|each|every|default|use|used|must|than|"
    r"without|by|or|if|not|its|their|as|on|at)\b"
)


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


def _prose(text: str) -> str:
    """Help text without example lines, option names, metavars and quoted values."""
    lines = [ln for ln in text.splitlines() if "gis-planning " not in ln and
             not ln.strip().startswith(("Aufruf:", "$"))]
    out = "\n".join(lines)
    out = re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"|\[[^\]]*\]", " ", out)
    out = re.sub(r"(?<!\w)--?[\w-]+", " ", out)
    out = re.sub(r"\b[A-Z][A-Z_|:]+\b", " ", out)  # metavars
    return out


COMMANDS = [(), *list(_commands(cli))]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "gis-planning")
def test_help_is_german(path):
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    prose = _prose(result.output)
    found = sorted({m.group(0) for m in ENGLISH.finditer(prose)})
    assert found == [], f"English in `{' '.join(path)} --help`: {found}\n{result.output}"
    assert "Optionen:" in result.output and "Diese Hilfe zeigen und beenden." in result.output


def test_click_errors_are_german():
    runner = CliRunner()
    bad = runner.invoke(cli, ["site", "--p", "0"])
    assert bad.exit_code == 2
    assert "Fehler: Ungültiger Wert für '--p': 0 liegt nicht im Bereich" in bad.output
    unknown = runner.invoke(cli, ["segregation", "--distanc", "3"])
    assert "Unbekannte Option '--distanc'" in unknown.output and "Meinten Sie" in unknown.output
    missing = runner.invoke(cli, ["nosuchcommand"])
    assert "Unbekannter Befehl 'nosuchcommand'" in missing.output


def test_older_option_spellings_are_hidden_but_work(tmp_path):
    help_text = CliRunner().invoke(cli, ["atlas", "--help"]).output
    assert "-o, --output" in help_text and "--out " not in help_text
