"""Command line (typer). Entry point: :func:`microsr.cli.main.main`."""
