"""A Typer host that records the privacy corpus as error messages of one real run.

    python host.py plant --telemetry < texts.json

Each text becomes the error of one ``build`` (the exception is caught), and the last
one is raised out of the command, so it also lands in the ``cli-command`` document's
``error_message``. The texts come on stdin, so no argument or option of the run carries
them.
"""

from __future__ import annotations

import json
import sys

import typer

from localtelemetry import Limits, Telemetry

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
telemetry = Telemetry("corpus", version="1.0.0", limits=Limits(max_documents=10_000))
telemetry.install(app)


@app.command()
def plant() -> None:
    texts = json.load(sys.stdin)
    for text in texts:
        try:
            with telemetry.build("step"):
                raise RuntimeError(text)
        except RuntimeError:
            pass
    raise RuntimeError(texts[-1])


@app.command()
def other() -> None:
    pass


if __name__ == "__main__":
    app()
