"""Native Python implementations of the benchmarked GRN inference methods."""
