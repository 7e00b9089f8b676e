"""One wrapper for the modules that also run alone (``python -m analysis.synth``, ...)."""
from __future__ import annotations

import argparse
from collections.abc import Callable


def standalone(argv: list[str] | None, prog: str, description: str,
               add_arguments: Callable[[argparse.ArgumentParser], None],
               command: Callable[[argparse.Namespace], int]) -> int:
    """Parse `argv` with the module's own arguments and run its command: exit 0 for --help,
    2 for bad arguments (argparse has printed why), else the command's own exit code."""
    ap = argparse.ArgumentParser(prog=prog, description=description)
    add_arguments(ap)
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    return command(args)
