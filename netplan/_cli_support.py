"""Plumbing of the ``netplan`` command line: help formatting, -v/-q, logging and progress.

:mod:`netplan.cli` stays a list of commands; this module owns how they talk to a person:

* help texts show each option's default (:class:`HelpFormatter`);
* ``-v``/``-q`` are accepted before or after the subcommand (:func:`add_verbosity`);
* logging (:func:`logging_for`): Python warnings become one ``netplan: warning:`` line;
  netplan's own loggers at the chosen level, third-party
  loggers (pyogrio, fiona, matplotlib, urllib3, ...) held at WARNING so their INFO lines do
  not leak; HiGHS's "Interrupted by user" status (netplan's own callback stopping the
  master problem to add cuts) is reworded so it does not read as a Ctrl-C;
* progress (:func:`progress_mode`): a tqdm bar on an interactive terminal, and one log
  line per stage with its time when output is not a terminal (``netplan run ... | cat``,
  CI logs, cron), so a long run is never silent.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: What HiGHS reports when netplan's callback stops a master solve to add cuts.
HIGHS_INTERRUPT = "Interrupted by user"
#: The wording netplan logs instead (the lead may change the solver's log line to match).
HIGHS_INTERRUPT_MEANS = "stopped by netplan's callback to add cuts"
#: The loggers whose INFO lines are a run's stages (netplan.scenario.pipeline._step) and
#: the writing of its outputs (netplan.report.write_result).
STAGE_LOGGERS = ("netplan.scenario", "netplan.report")


class HelpFormatter(argparse.HelpFormatter):
    """argparse help with ``(default: X)`` added where the text does not already say it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            action.help is argparse.SUPPRESS
            or not action.option_strings
            or "default" in text.lower()
            or action.default in (None, False, True, argparse.SUPPRESS, [], 0)
            or action.required
        ):
            return action.help
        return f"{text} (default: %(default)s)"


def add_verbosity(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Add ``-v/--verbose`` and ``-q/--quiet``; sub-level ones add to the top-level counts."""
    suffix = "" if top else "_sub"
    default = 0 if top else argparse.SUPPRESS
    group = parser.add_argument_group("output")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        dest="verbose" + suffix,
        help="log progress and details (-vv: debug); accepted before or after the command",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="count",
        default=default,
        dest="quiet" + suffix,
        help="print only results and errors (no progress, no stage lines)",
    )


def add_verbosity_everywhere(sub: argparse._SubParsersAction) -> None:
    """:func:`add_verbosity` on every subcommand (and their subcommands) of ``sub``."""
    for parser in dict.fromkeys(sub.choices.values()):
        if not any("--verbose" in a.option_strings for a in parser._actions):
            add_verbosity(parser, top=False)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                add_verbosity_everywhere(action)


def verbosity(args: argparse.Namespace) -> int:
    """Net verbosity: -1 quiet, 0 normal, 1 info, 2 debug (``-v`` and ``-q`` anywhere)."""
    v = int(getattr(args, "verbose", 0) or 0) + int(getattr(args, "verbose_sub", 0) or 0)
    q = int(getattr(args, "quiet", 0) or 0) + int(getattr(args, "quiet_sub", 0) or 0)
    args.verbose = v
    args.quiet = q
    return -1 if q else min(v, 2)


def interactive() -> bool:
    """Whether a person watches a terminal (stdout and stderr both ttys)."""
    return _isatty(sys.stdout) and _isatty(sys.stderr)


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def progress_mode(level: int, *, tty: bool | None = None) -> tuple[bool, bool]:
    """``(bar, stage_lines)`` for verbosity ``level``: a bar on a terminal, else lines."""
    tty = interactive() if tty is None else tty
    if level < 0:
        return False, False
    return tty, (not tty) or level >= 1


class _Reword(logging.Filter):
    """Rewrite HiGHS's "Interrupted by user" in netplan's solver log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and HIGHS_INTERRUPT in record.args:
            record.args = tuple(
                HIGHS_INTERRUPT_MEANS if a == HIGHS_INTERRUPT else a for a in record.args
            )
        elif isinstance(record.msg, str) and HIGHS_INTERRUPT in record.msg:
            record.msg = record.msg.replace(HIGHS_INTERRUPT, HIGHS_INTERRUPT_MEANS)
        return True


_REWORD = _Reword()
#: Loggers whose records may carry a HiGHS status string.
_SOLVER_LOGGERS = ("netplan.optimise._decompose", "netplan.optimise.placement")


class _StageFormatter(logging.Formatter):
    """``12:01:03 netplan: network 0.8 s`` for stage lines, the full form for the rest."""

    def __init__(self, detailed: bool) -> None:
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s" if detailed else None
        super().__init__(fmt or "%(asctime)s netplan: %(message)s", datefmt="%H:%M:%S")
        self.detailed = detailed

    def format(self, record: logging.LogRecord) -> str:
        if not self.detailed and record.levelno >= logging.WARNING:
            return f"netplan: {record.levelname.lower()}: {record.getMessage()}"
        return super().format(record)


@contextmanager
def logging_for(level: int, *, stage_lines: bool, bar: bool) -> Iterator[None]:
    """Configure logging for one command; everything is restored afterwards.

    ``level`` is :func:`verbosity`'s value. netplan's loggers log at INFO (``-v``) or DEBUG
    (``-vv``), else WARNING; with ``stage_lines`` the run's stage logger logs INFO even
    without ``-v``. Third-party loggers stay at WARNING (DEBUG at ``-vv`` is netplan's
    only). With ``bar``, log lines go through tqdm so they do not tear the progress bar.
    """
    netplan_level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(
        level, logging.DEBUG
    )
    root = logging.getLogger()
    ours = logging.getLogger("netplan")
    stages = [logging.getLogger(n) for n in STAGE_LOGGERS]
    solvers = [logging.getLogger(n) for n in _SOLVER_LOGGERS]
    saved = (root.level, ours.level, [g.level for g in stages], list(root.handlers))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_StageFormatter(detailed=level >= 1))
    root.handlers = [handler]
    root.setLevel(logging.WARNING)
    ours.setLevel(netplan_level)
    if stage_lines and level >= 0:
        for g in stages:
            g.setLevel(min(netplan_level, logging.INFO))
    for log in solvers:
        log.addFilter(_REWORD)
    import warnings

    shown = warnings.showwarning

    def _as_log_line(message, category, filename, lineno, file=None, line=None) -> None:
        # a Python warning (e.g. points snapped far from the road) as one log line, not a
        # source path and a line of code
        ours.warning("%s", message)

    warnings.showwarning = _as_log_line
    try:
        if bar:
            from tqdm.contrib.logging import logging_redirect_tqdm

            with logging_redirect_tqdm(loggers=[root]):
                yield
        else:
            yield
    finally:
        warnings.showwarning = shown
        for log in solvers:
            log.removeFilter(_REWORD)
        root.setLevel(saved[0])
        ours.setLevel(saved[1])
        for g, old in zip(stages, saved[2], strict=True):
            g.setLevel(old)
        root.handlers = saved[3]


# ------------------------------------------------------------------------ completion
def bash_completion(parser: argparse.ArgumentParser) -> str:
    """A bash completion script for ``parser`` (``eval "$(netplan completion bash)"``).

    Completes subcommands (and ``data`` subcommands), each command's options, and file
    names elsewhere; generated from the parser so it never goes out of date.
    """
    prog = parser.prog
    cases = []
    for path, p in _walk(parser, ()):
        words = [*_options(p), *_subcommands(p)]
        key = " ".join(path) if path else ""
        cases.append(f'        "{key}") words="{" ".join(words)}" ;;')
    fn = "_" + prog.replace("-", "_") + "_complete"
    body = "\n".join(cases)
    return f"""# bash completion for {prog}; load with: eval "$({prog} completion bash)"
{fn}() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} path="" w words i
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${{COMP_WORDS[i]}}
        case "$w" in -*) ;; *)
            case " $({fn}_subs "$path") " in *" $w "*) path="${{path:+$path }}$w" ;; esac ;;
        esac
    done
    case "$path" in
{body}
        *) words="" ;;
    esac
    if [[ "$cur" == -* || -n "$({fn}_subs "$path")" ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    fi
    [[ ${{#COMPREPLY[@]}} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
    return 0
}}
{fn}_subs() {{
    case "$1" in
{_subs_cases(parser)}
        *) echo "" ;;
    esac
}}
complete -o filenames -F {fn} {prog}
"""


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _walk(child, (*path, name))


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [s for a in parser._actions for s in a.option_strings if s.startswith("--")]


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    return [
        name
        for a in parser._actions
        if isinstance(a, argparse._SubParsersAction)
        for name in a.choices
    ]


def _subs_cases(parser: argparse.ArgumentParser) -> str:
    lines = []
    for path, p in _walk(parser, ()):
        subs = _subcommands(p)
        if subs:
            lines.append(f'        "{" ".join(path)}") echo "{" ".join(subs)}" ;;')
    return "\n".join(lines)


def add_mirror(p: argparse.ArgumentParser) -> None:
    """The ``--mirror DIR`` option of the commands that read data."""
    p.add_argument(
        "--mirror",
        type=Path,
        metavar="DIR",
        help="offline data mirror folder (default: $NETPLAN_DATA_MIRROR)",
    )
