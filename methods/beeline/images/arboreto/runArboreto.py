"""The command of grn-bench's local arboreto image: BEELINE's command line, arboreto 0.1.6 called as BEELINE does.

    python runArboreto.py --algo=GENIE3|GRNBoost2 --inFile=IN --outFile=OUT

IN is BEELINE's arboreto input: cells x genes, tab-separated, cell names in the first column, gene names in the
header. OUT gets arboreto's network: ``TF<tab>target<tab>importance``, strongest first, no index. arboreto runs
on a threaded dask client in this process (``processes=False``, as BEELINE), with every gene a candidate
regulator and no seed, unless the environment says otherwise:

ARBORETO_SEED     an integer: the ``seed`` of every per-target regressor (BEELINE's image has none)
ARBORETO_TF_FILE  a file with one gene name per line: the candidate regulators (``tf_names``)

Both are ignored by BEELINE's own image. ``OUT.info.json`` records what was used (versions, seed, TFs, time), so
the caller can tell this image's run from the original's.

This file runs inside the image (Python 3.11, the pins of ``requirements.txt``); it is not imported by grn-bench.
"""

import argparse
import json
import os
import sys
import time
import warnings

ALGORITHMS = ("GENIE3", "GRNBoost2")


def parse_args(argv):
    p = argparse.ArgumentParser(description="Run arboreto's GENIE3 or GRNBoost2 on BEELINE's input file.")
    p.add_argument("--algo", required=True, help="GENIE3 or GRNBoost2")
    p.add_argument("--inFile", required=True, help="cells x genes, tab-separated, cell names in column 1")
    p.add_argument("--outFile", required=True, help="where the TF/target/importance table goes")
    p.add_argument("--expose", default=None, help="accepted for BEELINE's command line; unused")
    args = p.parse_args(argv)
    names = {a.lower(): a for a in ALGORITHMS}
    if args.algo.lower() not in names:
        p.error(f"--algo must be one of {', '.join(ALGORITHMS)}, not {args.algo!r}")
    args.algo = names[args.algo.lower()]
    return args


def read_tfs(path):
    with open(path) as fh:
        return [line.strip() for line in fh if line.strip()]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Imported here so that a bad command line fails before the slow imports.
    import arboreto
    import dask
    import distributed
    import numpy
    import pandas as pd
    import sklearn
    from arboreto.algo import genie3, grnboost2
    from distributed import Client

    # Without a network distributed warns that it cannot find an outside IP; the in-process cluster needs none.
    warnings.filterwarnings("ignore", message="Couldn't detect a suitable IP address")

    seed = os.environ.get("ARBORETO_SEED")
    seed = int(seed) if seed not in (None, "") else None
    tf_file = os.environ.get("ARBORETO_TF_FILE") or None
    # round_trip: exactly the numbers that were written (pandas' default parser is off by an ulp for ~20% of them,
    # enough to move a GRNBoost2 early-stopping decision against a run on the same data in memory).
    expr = pd.read_csv(args.inFile, sep="\t", index_col=0, header=0, float_precision="round_trip")
    genes = [str(g) for g in expr.columns]
    tfs = read_tfs(tf_file) if tf_file else None
    if tfs is not None:
        tfs = [t for t in tfs if t in set(genes)]
        if not tfs:
            sys.exit(f"runArboreto: none of the TFs in {tf_file} is a gene of {args.inFile}")

    t0 = time.perf_counter()
    infer = genie3 if args.algo == "GENIE3" else grnboost2
    # No dashboard: the container has no network and nothing would look at it.
    client = Client(processes=False, dashboard_address=None)
    try:
        network = infer(expr.to_numpy(), gene_names=genes, tf_names=tfs if tfs is not None else "all",
                        client_or_address=client, seed=seed)
    finally:
        client.close()
    wall = time.perf_counter() - t0
    network.to_csv(args.outFile, index=False, sep="\t")

    info = {"algo": args.algo, "seed": seed, "n_tfs": None if tfs is None else len(tfs), "n_cells": expr.shape[0],
            "n_genes": expr.shape[1], "n_links": int(len(network)), "infer_wall_s": round(wall, 3),
            "versions": {"python": sys.version.split()[0], "arboreto": getattr(arboreto, "__version__", "0.1.6"),
                         "dask": dask.__version__, "distributed": distributed.__version__,
                         "numpy": numpy.__version__, "pandas": pd.__version__, "scikit-learn": sklearn.__version__},
            "image_build": os.environ.get("GRN_BENCH_IMAGE_BUILD")}
    with open(args.outFile + ".info.json", "w") as fh:
        json.dump(info, fh, indent=1)


if __name__ == "__main__":
    main()
