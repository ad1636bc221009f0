"""The ``bench`` command line.

Each command group lives in ``bench/commands/<name>.py`` and exposes ``register(app)``. Every
:class:`~bench.errors.BenchError` becomes one line on stderr and exit code 2, with no traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

from bench.errors import BenchError

app = typer.Typer(
    name="bench",
    help=(
        "grn-bench: benchmark GRN inference methods on single-cell data simulated by GRouNdGAN, "
        "where the imposed network is a known ground truth.\n\n"
        "\b\nExamples:\n"
        "  bench run --dataset bonemarrow       # the whole benchmark, end to end\n"
        "  bench datasets list                  # named datasets and where their files are\n"
        "  bench grn build bonemarrow --strategy pos-control --k 10\n"
        "  bench methods list                   # registered inference methods\n"
        "\n\b\nData: reference files are read from $BENCH_DATA_DIR (see `bench datasets list`)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Order = order in `bench --help`.
COMMAND_MODULES = [
    "bench.commands.run",
    "bench.commands.datasets",
    "bench.commands.grn",
    "bench.commands.simulate",
    "bench.commands.methods",
    "bench.commands.report",
]

for _mod in COMMAND_MODULES:
    importlib.import_module(_mod).register(app)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turn BenchError into a one-line message and exit code 2."""
    try:
        app(args=argv, standalone_mode=False)
    except BenchError as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("interrupted; re-run the same command to resume.", err=True)
        return 130
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.Exit):
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            typer.echo("aborted.", err=True)
            return 130
        if isinstance(exc, click.ClickException):
            exc.show()
            return 2
        raise
    return 0


def _console() -> None:
    sys.exit(main())


if __name__ == "__main__":
    _console()
