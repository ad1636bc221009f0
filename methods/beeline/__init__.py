"""BEELINE docker executor: run a method in BEELINE's image ``grnbeeline/<algo>:base`` via the docker SDK.

>>> from methods.beeline import run_docker
>>> run = run_docker("ppcor", adata, timeout=600)          # doctest: +SKIP
>>> run.status, run.edges.head()                           # doctest: +SKIP

Images are BEELINE's by default; override them per method with ``images={"ppcor": "repo/name@sha256:..."}`` or
``$BENCH_IMAGE_PPCOR``. Containers run as a non-root user, without network, with only the run's temporary
folder mounted; a timeout kills the container. No daemon, or a missing image, is a one-line
:class:`~bench.errors.BenchError` that says what to do.
"""

from methods.beeline.algorithms import ALGORITHMS, Algorithm, get_algorithm
from methods.beeline.executor import (check_docker_available, default_user, docker_client, expression_frame,
                                      image_for, run_docker)

__all__ = ["ALGORITHMS", "Algorithm", "get_algorithm", "check_docker_available", "default_user", "docker_client",
           "expression_frame", "image_for", "run_docker"]
