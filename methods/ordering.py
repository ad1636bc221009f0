"""The one helper that orders cells along a pseudotime (LEAP, SINCERITIES, the docker executor's inputs)."""

from __future__ import annotations

import numpy as np

from bench.errors import BenchError

TIE_ORDERS = ("stable", "beeline")


def order_cells(times, tie_order: str = "stable") -> np.ndarray:
    """Indices that put a lineage's cells in increasing pseudotime; ``tie_order`` decides tied cells.

    * ``"stable"``: tied cells keep their given order (the same on every platform).
    * ``"beeline"``: the order BEELINE's runners produce with pandas' default ``sort_values()`` on the lineage's
      cells in file order, i.e. numpy's quicksort, which is not stable: tied cells come out in the order the
      sorting algorithm leaves them (numpy's introsort on this machine; another numpy version or CPU could
      differ).

    Users: LEAP (its lagged correlations depend on the order of tied cells; ``tie_order`` parameter, ``beeline``
    in its ``beeline`` preset), the docker executor's LEAP input, and SINCERITIES, which sorts cells by their
    time bin as its ``uploading.R`` does with R's stable ``order()`` (its KS distances do not depend on the order
    within a bin). SCODE does not sort: BEELINE hands it the cells in file order, and so does bench.
    """
    if tie_order not in TIE_ORDERS:
        raise BenchError(f"unknown tie order {tie_order!r}.", f"Choose one of: {', '.join(TIE_ORDERS)}.")
    t = np.asarray(times, dtype=float)
    return np.argsort(t, kind="quicksort" if tie_order == "beeline" else "stable")
