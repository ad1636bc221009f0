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


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _v

    try:
        return _v("grn-bench")
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "dev"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"grn-bench {version()}")
        raise typer.Exit()


@app.callback()
def _root(show_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                            help="Print grn-bench's version and exit.")) -> None:
    pass


def _usage_error_classes() -> tuple[type, ...]:
    """Usage-error classes of typer's bundled click and of click itself (typer >= 0.20 no longer raises click's)."""
    classes: list[type] = []
    for mod in ("typer._click.exceptions", "click.exceptions"):
        try:
            classes.append(importlib.import_module(mod).ClickException)
        except (ImportError, AttributeError):
            pass
    return tuple(classes)


def _exit_classes() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(Exit classes, Abort classes) of typer and click."""
    exits, aborts = [], []
    for mod in ("typer.exceptions", "click.exceptions"):
        try:
            m = importlib.import_module(mod)
        except ImportError:
            continue
        exits.append(m.Exit)
        aborts.append(m.Abort)
    return tuple(exits), tuple(aborts)


def usage_line(exc) -> str:
    """One line for a usage error: what is wrong, the command's usage and where the help is."""
    msg = " ".join(str(exc.format_message()).split())
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return f"error: {msg}"
    usage = " ".join(ctx.get_usage().split())
    return f"error: {msg.rstrip('.')}. {usage}; try '{ctx.command_path} --help'."


def main(argv: list[str] | None = None) -> int:
    """Console entry point. Exit codes: 0 ok, 1 a method or check failed, 2 bad input or usage, 130 Ctrl-C.

    Every error is one line on stderr, never a traceback.
    """
    from bench import interrupt

    exits, aborts = _exit_classes()
    interrupt.reset()
    try:
        with interrupt.handle_sigint():
            try:
                rv = app(args=argv, standalone_mode=False, prog_name="bench")
            finally:
                interrupt.cleanup()
        if interrupt.interrupted():  # typer turns KeyboardInterrupt into a silent exit code 130
            raise KeyboardInterrupt
        if isinstance(rv, int) and not isinstance(rv, bool):  # typer.Exit(code) comes back as a return value
            return rv
    except BenchError as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo(interrupt.resume_hint(argv), err=True)
        return 130
    except exits as exc:
        return exc.exit_code
    except aborts:  # click turns Ctrl-C inside a prompt into Abort
        typer.echo(interrupt.resume_hint(argv), err=True)
        return 130
    except _usage_error_classes() as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `bench` or `bench methods` alone: show the help
            typer.echo(exc.format_message())
            return 0
        typer.secho(usage_line(exc), err=True, fg="red")
        return 2
    return 0


def _console() -> None:
    sys.exit(main())


if __name__ == "__main__":
    _console()
