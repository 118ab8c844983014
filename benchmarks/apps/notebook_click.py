"""The Click host with localtelemetry installed: ``click_notes`` plus the README's lines.

python benchmarks/apps/notebook_click.py [--telemetry] check NOTES_DIR
"""

from __future__ import annotations

from click_notes import make_cli

from localtelemetry import Telemetry

telemetry = Telemetry("nbclick", version="0.3.1")
cli = make_cli(telemetry.build)
telemetry.install(cli)

if __name__ == "__main__":
    cli()
