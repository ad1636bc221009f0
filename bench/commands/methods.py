"""``bench methods`` (list, show, test) and ``bench infer`` (run methods on a dataset)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Optional

import typer

from bench.errors import BenchError

_METHOD_FILE_HELP = "a Python file defining METHOD or METHODS (registered before anything else); repeatable"


def _load_files(files: Optional[list[Path]]) -> None:
    from methods.base import load_method_file

    for f in files or []:
        load_method_file(f)


def parse_size(text: Optional[str]) -> Optional[float]:
    """``"8G"``, ``"512M"``, ``"1.5GB"`` or a number of bytes -> bytes (``None`` stays ``None``)."""
    if text is None or str(text).strip().lower() in ("", "none", "0"):
        return None
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)i?b?\s*", str(text).lower())
    if not m:
        raise BenchError(f"cannot read the memory size {text!r}.", "Write it like 8G, 512M or 2000000000.")
    return float(m.group(1)) * 1024 ** "bkmgt".index(m.group(2) or "b")


def _parse_images(items: Optional[list[str]]) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise BenchError(f"--image {item!r} is not METHOD=IMAGE.", "Example: --image ppcor=grnbeeline/ppcor:base")
        k, v = item.split("=", 1)
        out[k.strip().lower()] = v.strip()
    return out


def _read_tfs(value: Optional[str], adata) -> Optional[list[str]]:
    if value is None:
        return None
    if value == "dataset":
        tfs = adata.uns.get("tfs")
        if tfs is None or len(tfs) == 0:
            raise BenchError("--tfs dataset: the dataset has no uns['tfs'].", "Give a TF list file instead.")
        return [str(t) for t in tfs]
    path = Path(value)
    if not path.exists():
        raise BenchError(f"TF list not found: {path}.", "Give a file with one TF per line, or --tfs dataset.")
    return [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def register(app: typer.Typer) -> None:
    grp = typer.Typer(help="GRN inference methods: list them, show one's metadata, run the contract checks.\n\n"
                           "Examples:\n\n"
                           "  bench methods list\n\n"
                           "  bench methods show genie3\n\n"
                           "  bench methods test pidc\n\n"
                           "  bench methods test mymethod --method-file my_method.py",
                      no_args_is_help=True)
    app.add_typer(grp, name="methods")

    @grp.command("list")
    def list_cmd(
        method_file: Optional[list[Path]] = typer.Option(None, "--method-file", help=_METHOD_FILE_HELP),
        as_json: bool = typer.Option(False, "--json", help="print the full metadata records as JSON"),
    ) -> None:
        """List the registered methods with their metadata.

        Built-in methods, `bench.methods` entry points of installed packages and --method-file files.

        Examples:

          bench methods list

          bench methods list --method-file my_method.py --json
        """
        from methods.base import all_methods

        _load_files(method_file)
        ms = all_methods()
        if as_json:
            typer.echo(json.dumps([m.info.as_dict() for m in ms.values()], indent=2, default=str))
            return
        head = f"{'name':<12}{'pseudotime':<11}{'directed':<9}{'signed':<7}{'TFs':<5}{'presets':<20}{'license':<26}summary"
        typer.echo(head)
        typer.echo("-" * len(head))
        for m in ms.values():
            i = m.info
            yn = lambda b: "yes" if b else "no"  # noqa: E731
            typer.echo(f"{i.name:<12}{i.pseudotime:<11}{yn(i.directed):<9}{yn(i.signed):<7}{yn(i.accepts_tfs):<5}"
                       f"{','.join(i.presets) or '-':<20}{i.license[:25]:<26}{i.summary}")

    @grp.command("show")
    def show_cmd(
        name: str = typer.Argument(..., help="method name (case-insensitive)"),
        method_file: Optional[list[Path]] = typer.Option(None, "--method-file", help=_METHOD_FILE_HELP),
    ) -> None:
        """Show one method's full metadata: paper, code, defaults, presets.

        Example: bench methods show grnboost2
        """
        from methods.base import get_method

        _load_files(method_file)
        info = get_method(name).info.as_dict()
        for k, v in info.items():
            typer.echo(f"{k:<11}{json.dumps(v, default=str) if isinstance(v, dict) else v}")

    @grp.command("test")
    def test_cmd(
        name: str = typer.Argument(..., help="method name, or 'all'"),
        method_file: Optional[list[Path]] = typer.Option(None, "--method-file", help=_METHOD_FILE_HELP),
        preset: str = typer.Option("test", "--preset", help="preset to use when the method has it"),
        seed: int = typer.Option(0, "--seed", help="seed of the tiny dataset and of the method"),
    ) -> None:
        """Run the contract checks on a tiny synthetic dataset (100 cells x 15 genes).

        Checks: valid ranked edge table, only the data's genes, no self-loops, same output for the same seed,
        TF list respected (if the method accepts one), survives a constant gene. Exit code 1 if a check fails.

        Examples:

          bench methods test ppcor

          bench methods test all

          bench methods test mymethod --method-file my_method.py
        """
        from methods.base import all_methods, get_method
        from methods.contract import check_method, format_results, make_tiny_dataset

        _load_files(method_file)
        targets = list(all_methods().values()) if name.lower() == "all" else [get_method(name)]
        adata = make_tiny_dataset(seed=seed)
        failed = 0
        for m in targets:
            results = check_method(m, adata, seed=seed, preset=preset)
            typer.echo(format_results(m.name, results))
            failed += sum(not r.passed for r in results)
        if failed:
            raise typer.Exit(1)

    @app.command("infer")
    def infer_cmd(
        dataset: Path = typer.Option(..., "--dataset", help="an .h5ad file, cells x genes (X is what methods get)"),
        methods: str = typer.Option(..., "--methods", help="comma-separated method names, or 'all'"),
        executor: str = typer.Option("native", "--executor", help="native (Python, default) or docker (BEELINE images)"),
        method_file: Optional[list[Path]] = typer.Option(None, "--method-file", help=_METHOD_FILE_HELP),
        out: Optional[Path] = typer.Option(None, "--out", help="output folder (default: infer-<dataset name>)"),
        pseudotime: Optional[str] = typer.Option(
            None, "--pseudotime", help="CSV (cell, pseudotime) or an obs column; default: computed and cached"),
        tfs: Optional[str] = typer.Option(
            None, "--tfs", help="TF list file, or 'dataset' for uns['tfs']; default none (the paper's setting)"),
        preset: Optional[str] = typer.Option(
            None, "--preset", help="preset for every method that has it (e.g. fast), or METHOD=PRESET,..."),
        timeout: Optional[float] = typer.Option(None, "--timeout", help="seconds per method before it is killed"),
        memory_limit: Optional[str] = typer.Option(None, "--memory-limit", help="resident memory per method, e.g. 8G"),
        seed: int = typer.Option(0, "--seed", help="seed given to every method"),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, tcp://HOST:8786"),
        workers: Optional[int] = typer.Option(None, "--workers", help="local Dask workers = methods at once (default 1)"),
        image: Optional[list[str]] = typer.Option(None, "--image", help="docker image for a method: METHOD=IMAGE"),
        input_transform: str = typer.Option(
            "log1p", "--input-transform",
            help="what methods get from X: log1p (of the library-size-normalised X, as bench run and the paper) "
                 "or none (X as given, e.g. already log-transformed)"),
    ) -> None:
        """Infer GRNs: run methods on a dataset, each in its own process, through Dask.

        Methods get log1p of X (X = library-size-normalised expression, as in bench run's simulated h5ad files),
        exactly as in bench run, so the same cells, preset, TFs, pseudotime and seed give the same edges.

        Writes OUT/<method>/edges.parquet (regulator, target, weight, rank), OUT/<method>/record.json (status,
        error, stderr tail, wall/CPU time, peak memory, parameters, preset, input transform) and OUT/runs.json. A failing
        method does not stop the others; the exit code is 1 if any failed.

        Examples:

          bench infer --dataset sim.h5ad --methods pidc,genie3 --preset genie3=fast --timeout 3600

          bench infer --dataset sim.h5ad --methods leap,scode --pseudotime pseudotime.csv --out runs/sim

          bench infer --dataset sim.h5ad --methods ppcor --executor docker --image ppcor=grnbeeline/ppcor:base

          bench infer --dataset sim.h5ad --methods all --scheduler tcp://10.0.0.5:8786
        """
        import anndata

        from methods.base import all_methods, get_method
        from methods.execution import records_table, run_methods

        _load_files(method_file)
        if not dataset.exists():
            raise BenchError(f"dataset file not found: {dataset}.", "Give an .h5ad file (cells x genes).")
        try:
            adata = anndata.read_h5ad(dataset)
        except Exception as exc:
            raise BenchError(f"cannot read {dataset}: {type(exc).__name__}: {exc}", "Give a valid .h5ad file.") from None
        names = list(all_methods()) if methods.strip().lower() == "all" else \
            [m.strip() for m in methods.split(",") if m.strip()]
        ms = [get_method(n) for n in names]
        preset_arg: Optional[str | dict] = preset
        if preset and "=" in preset:
            preset_arg = dict(p.split("=", 1) for p in preset.split(","))
        elif preset:  # one preset for all: only the methods that define it
            preset_arg = {m.name: preset for m in ms if preset in m.info.presets}
            if not preset_arg:
                raise BenchError(f"no chosen method has a preset {preset!r}.", "See bench methods show NAME.")
        out = out or Path(f"infer-{dataset.stem}")
        images = _parse_images(image)
        runs = run_methods(adata, ms, pseudotime=pseudotime, tfs=_read_tfs(tfs, adata), seed=seed, executor=executor,
                           timeout=timeout, memory_limit=parse_size(memory_limit), scheduler=scheduler,
                           n_workers=workers, out_dir=out, preset=preset_arg, input_transform=input_transform,
                           executor_options={"images": images} if images else None)
        table = records_table(runs)
        table["preset"] = table["preset"].fillna("default")
        typer.echo(table.drop(columns=["error"]).to_string(index=False))
        for r in runs:
            if not r.ok:
                typer.echo(f"{r.method}: {r.status}: {r.record.error}", err=True)
        typer.echo(f"wrote {out}/")
        if any(not r.ok for r in runs):
            raise typer.Exit(1)
