"""Click's own texts in German: "Aufruf:", "Optionen", "Fehler: Ungültiger Wert für …".

Click marks every text it prints with :func:`gettext.gettext` (bound as ``_`` in its
modules) but ships no German catalogue. :func:`install` replaces those bindings in the click
modules by a lookup in :data:`TEXTS`; a text not listed stays as click wrote it. This is the
whole translation: no ``.mo`` file, no locale setting, no effect outside click.
"""

from __future__ import annotations

import importlib

__all__ = ["TEXTS", "germanize_usage", "install"]

TEXTS: dict[str, str] = {
    "Usage:": "Aufruf:",
    "Options": "Optionen",
    "Commands": "Befehle",
    "Positional arguments": "Argumente",
    "Show this message and exit.": "Diese Hilfe zeigen und beenden.",
    "Show the version and exit.": "Die Version zeigen und beenden.",
    "%(prog)s, version %(version)s": "%(prog)s, Version %(version)s",
    "Error: {message}": "Fehler: {message}",
    "Try '{command} {option}' for help.": "Hilfe: '{command} {option}'.",
    "Invalid value for {param_hint}: {message}": "Ungültiger Wert für {param_hint}: {message}",
    "Invalid value: {message}": "Ungültiger Wert: {message}",
    "Missing argument": "Es fehlt das Argument",
    "Missing option": "Es fehlt die Option",
    "Missing parameter": "Es fehlt die Angabe",
    "Missing command.": "Es fehlt ein Befehl.",
    "Missing {param_type}": "Es fehlt {param_type}",
    "Missing parameter: {param_name}": "Es fehlt die Angabe: {param_name}",
    "No such command {name!r}.": "Unbekannter Befehl {name!r}.",
    "No such option {name!r}.": "Unbekannte Option {name!r}.",
    "No such option: {name}": "Unbekannte Option: {name}",
    "Did you mean {possibility}?": "Meinten Sie {possibility}?",
    "(Possible options: {possibilities})": "(Mögliche Optionen: {possibilities})",
    "Option {name!r} does not take a value.": "Die Option {name!r} nimmt keinen Wert.",
    "Option {name!r} requires an argument.": "Die Option {name!r} braucht einen Wert.",
    "Option {name!r} requires {nargs} arguments.": "Die Option {name!r} braucht {nargs} Werte.",
    "Got unexpected extra argument ({args})": "Unerwartetes zusätzliches Argument ({args})",
    "Got unexpected extra arguments ({args})": "Unerwartete zusätzliche Argumente ({args})",
    "{value!r} is not a valid {number_type}.": "{value!r} ist keine gültige Zahl.",
    "(Did you mean one of: {possibilities}?)": "(Meinten Sie eine von: {possibilities}?)",
    "{value} is not in the range {range}.": "{value} liegt nicht im Bereich {range}.",
    "{value!r} is not one of {choices}.": "{value!r} ist keiner der Werte {choices}.",
    "{value!r} is not {choice}.": "{value!r} ist nicht {choice}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "{value!r} ist kein Wahrheitswert. Erlaubt: {states}",
    "Choose from:\n\t{choices}": "Erlaubt:\n\t{choices}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} gibt es nicht.",
    "{name} {filename!r} is a file.": "{name} {filename!r} ist eine Datei.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} ist ein Ordner.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} ist nicht lesbar.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} ist nicht beschreibbar.",
    "File": "Datei",
    "Directory": "Ordner",
    "Path": "Pfad",
    "file": "Datei",
    "directory": "Ordner",
    "path": "Pfad",
    "default: {default}": "Standard: {default}",
    "required": "Pflicht",
    "env var: {var}": "Umgebungsvariable: {var}",
    "Aborted!": "Abgebrochen.",
    "Could not open file {filename!r}: {message}":
        "Die Datei {filename!r} lässt sich nicht öffnen: {message}",
}

_MODULES = ("core", "exceptions", "types", "parser", "formatting", "decorators", "termui",
            "utils")


def _gettext(message: str) -> str:
    return TEXTS.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _gettext(singular if n == 1 else plural)


def germanize_usage(command) -> None:
    """Write the usage line of ``command`` (and its subcommands) in German placeholders."""
    import click

    if command.options_metavar == "[OPTIONS]":
        command.options_metavar = "[OPTIONEN]"
    if isinstance(command, click.Group):
        if command.subcommand_metavar.startswith("COMMAND"):
            command.subcommand_metavar = command.subcommand_metavar.replace(
                "COMMAND1 [ARGS]... [COMMAND2 [ARGS]...]...",
                "BEFEHL1 [ARGUMENTE]... [BEFEHL2 [ARGUMENTE]...]...").replace(
                "COMMAND [ARGS]...", "BEFEHL [ARGUMENTE]...")
        for sub in command.commands.values():
            germanize_usage(sub)


def install() -> None:
    """Let click speak German (idempotent)."""
    for name in _MODULES:
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:  # pragma: no cover - a click without that module
            continue
        if hasattr(module, "_"):
            module._ = _gettext
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext
