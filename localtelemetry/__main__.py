"""``localtelemetry`` (the console script) and ``python -m localtelemetry``.

``run`` goes straight to the wrapper when its command line is plain (``_cli/runcmd``): no
Typer, Click, pydantic or management commands are imported for it (issue 14). Every
other command, and ``run --help`` or a ``run`` command line with a mistake in it, goes
to the Typer CLI (``_cli``).
"""

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["run"]:
        from ._cli.runcmd import fast_run

        code = fast_run(args[1:])
        if code is not None:
            sys.exit(code)
    from ._cli.app import main as cli_main

    cli_main()


if __name__ == "__main__":  # not when a report worker process imports it again
    main()
