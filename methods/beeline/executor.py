"""Run a method through BEELINE's docker image with the docker SDK.

One run = one temporary folder holding BEELINE's input files; the folder (and nothing else) is mounted into a
container that runs BEELINE's command as a non-root user with no network. A timeout kills the container;
a memory limit is the container's cgroup limit. The outputs are parsed into the edge schema and the run gets
the same record as a native run (:class:`methods.record.MethodRun`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from bench.arrays import dense
from bench.edges import empty_edges, rank_edges
from bench.errors import BenchError
from methods.beeline.algorithms import beeline_params, get_algorithm
from methods.record import MethodRun, RunRecord
from methods.pseudotime import lineages

DEFAULT_USER_WHEN_ROOT = "65534:65534"  # nobody:nogroup
STDERR_TAIL_CHARS = 4000
API_TIMEOUT_S = 600
_FIX_DAEMON = ("Start the docker daemon (as root: bash .ci/docker-setup.sh, or dockerd &), set DOCKER_HOST, "
               "or use --executor native.")


def docker_client(client=None):
    """A docker SDK client whose daemon answers; a one-line :class:`BenchError` otherwise."""
    if client is not None:
        return client
    try:
        import docker
    except ImportError:
        raise BenchError("the docker Python SDK is not installed.", "pip install docker==7.2.0.") from None
    try:
        # Generous: creating a container copies the whole image on the vfs storage driver (tens of s under load).
        c = docker.from_env(timeout=API_TIMEOUT_S)
        c.ping()
    except Exception as exc:  # DockerException, requests ConnectionError, ...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"no docker daemon answers ({reason[:160]}).", _FIX_DAEMON) from None
    return c


def image_for(name: str, images: Mapping[str, str] | None = None) -> str:
    """The image for a method: ``images[name]`` (case-insensitive), ``$BENCH_IMAGE_<NAME>``, or BEELINE's.

    BEELINE's name is looked up under ``$BENCH_IMAGE_REGISTRY`` when set (a registry or mirror prefix such as
    ``registry.example.org/mirror``, giving ``registry.example.org/mirror/grnbeeline/ppcor:base``).
    """
    algo = get_algorithm(name)
    for k, v in (images or {}).items():
        if k.lower() == algo.name.lower():
            return v
    registry = os.environ.get("BENCH_IMAGE_REGISTRY", "").strip().rstrip("/")
    default = f"{registry}/{algo.image}" if registry else algo.image
    return os.environ.get(f"BENCH_IMAGE_{algo.name.upper()}", default)


BUILD_LABEL = "grn-bench.build"  # content hash of a locally built image (.ci/build-arboreto-image.sh)


def check_image(client, image: str):
    """The docker image object of ``image``; a one-line :class:`BenchError` if it is not present."""
    import docker

    try:
        return client.images.get(image)
    except docker.errors.ImageNotFound:
        raise BenchError(f"docker image {image} is not present.",
                         f"Run: docker pull {image}, or use a local image (bench infer --image METHOD=IMAGE, "
                         f"images={{METHOD: IMAGE}} in Python, or $BENCH_IMAGE_<METHOD>).") from None


def check_docker_available(method_names=(), images: Mapping[str, str] | None = None, client=None) -> None:
    """Raise a one-line :class:`BenchError` if the daemon or a needed image is missing."""
    c = docker_client(client)
    for name in method_names:
        check_image(c, image_for(name, images))


def default_user() -> str:
    """Run containers as the calling user, or as ``nobody`` when the caller is root."""
    uid, gid = os.getuid(), os.getgid()
    return DEFAULT_USER_WHEN_ROOT if uid == 0 else f"{uid}:{gid}"


def expression_frame(adata) -> pd.DataFrame:
    """BEELINE's ExpressionData: genes x cells, index = gene names, columns = cell names."""
    return pd.DataFrame(dense(adata.X, float).T, index=list(map(str, adata.var_names)),
                        columns=list(map(str, adata.obs_names)))


def _sample_stats(container) -> tuple[int | None, float | None]:
    """Current memory use (bytes) and total CPU time (s) of a running container, or ``None`` if unavailable."""
    try:
        s = container.stats(stream=False, one_shot=True)
    except Exception:
        return None, None
    mem = (s.get("memory_stats") or {})
    usage = mem.get("max_usage") or mem.get("usage")
    cpu = ((s.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
    return (int(usage) if usage else None), (cpu / 1e9 if cpu else None)


def image_identity(image_obj) -> tuple[str | None, str | None]:
    """(image id, grn-bench build hash or ``None`` for an image not built by grn-bench)."""
    attrs = getattr(image_obj, "attrs", None) or {}
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    return getattr(image_obj, "id", None), labels.get(BUILD_LABEL)


def run_docker(name: str, adata, *, pseudotime=None, tfs=None, seed: int = 0, params: dict | None = None,
               preset: str | None = None, timeout: float | None = None, memory_limit: float | None = None,
               images: Mapping[str, str] | None = None, user: str | None = None,
               environment: Mapping[str, str] | None = None, client=None, workdir: str | os.PathLike | None = None,
               poll_interval: float = 0.2):
    """Run method ``name`` through its BEELINE docker image.

    Parameters
    ----------
    name
        A method with a BEELINE image (GENIE3, GRNBoost2, PPCOR, PIDC, LEAP, SCODE, SINCERITIES).
    adata
        Cells x genes expression; written as BEELINE's ``ExpressionData.csv``.
    pseudotime
        One value per cell, for LEAP, SCODE and SINCERITIES.
    tfs
        Candidate regulators, for GENIE3 and GRNBoost2: handed to the image, which may ignore them (BEELINE's
        does; the local image built by ``.ci/build-arboreto-image.sh`` uses them). ``used_tfs`` in the record
        says which happened.
    seed
        Handed to GENIE3's and GRNBoost2's image the same way (``seeded`` in the record); BEELINE's other
        scripts are unseeded, so for them it is recorded only.
    params
        BEELINE parameters (``pVal``, ``maxLag``, ``z``/``nIter``/``nRep``, ``nBins``; the native modules'
        snake_case names are accepted too). Only these reach the image and the record: BEELINE's GENIE3,
        GRNBoost2 and PIDC scripts take no parameters.
    timeout, memory_limit
        Seconds before the container is killed (status ``timeout``); bytes for the container's memory cgroup.
    images
        ``{method: image}`` overrides (tags or digests, e.g. ``grnbeeline/ppcor@sha256:...``); also
        ``$BENCH_IMAGE_<METHOD>``.
    user
        ``uid:gid`` inside the container; default the caller, or ``65534:65534`` when the caller is root.
    environment
        Extra environment variables for the container.
    client
        A docker SDK client (default ``docker.from_env()``).
    workdir
        Keep the run folder here (inputs, outputs, ``container.log``) instead of a temporary one.
    """
    algo = get_algorithm(name)
    params = beeline_params(algo, params)
    c = docker_client(client)
    image = image_for(name, images)
    image_id, image_build = image_identity(check_image(c, image))
    user = user or default_user()
    if tfs is not None and algo.extras is not None:
        present = set(map(str, adata.var_names))
        tfs = [str(t) for t in tfs if str(t) in present]
        if not tfs:
            raise BenchError("none of the given TFs is among the expression's genes.",
                             "Check the TF list's species and gene-symbol style.")
    record = RunRecord(method=algo.name, executor="docker", image=image, image_id=image_id, parameters=params,
                       preset=preset, seed=int(seed), timeout_s=timeout,
                       memory_limit_mb=None if memory_limit is None else round(memory_limit / 2**20, 1),
                       n_cells=int(adata.n_obs), n_genes=int(adata.n_vars),
                       details={"image_build": image_build, "seeded": False, "user": user, "network": "none"})
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-beeline-{algo.name.lower()}-")) if workdir is None else Path(workdir)
    tmp.mkdir(parents=True, exist_ok=True)
    # The container user is not the owner of the folder: let it write its outputs there.
    os.chmod(tmp, 0o777)
    container = None
    try:
        expr = expression_frame(adata)
        if algo.needs_pseudotime:
            if pseudotime is None:
                raise BenchError(f"{algo.name} needs pseudotime.", "Pass pseudotime (one value per cell).")
            # One set of input files and one command per lineage, as BEELINE's runners loop over PseudoTime columns.
            runs = [(i, pd.Series(times, index=expr.columns[cells], name=f"PseudoTime{i + 1}"))
                    for i, (_, cells, times) in enumerate(lineages(pseudotime, expr.shape[1]))]
        else:
            runs = [(0, None)]
        for i, pt in runs:
            algo.write_inputs(tmp, expr, pt, params, i)
        env = dict(algo.extras(tmp, algo.mount, seed, tfs) if algo.extras else {})
        env.update(environment or {})
        for p in tmp.rglob("*"):
            os.chmod(p, 0o777 if p.is_dir() else 0o666)
        cmd = " && ".join(algo.command(algo.mount, params, expr.shape[0], expr.shape[1] if pt is None else len(pt), i)
                          for i, pt in runs)
        record.details["command"] = cmd
        record.details["n_lineages"] = len(runs) if algo.needs_pseudotime else None
        kwargs = dict(command=["/bin/sh", "-c", cmd], detach=True, network_mode="none", user=user,
                      volumes={str(tmp): {"bind": algo.mount, "mode": "rw"}}, environment=env,
                      labels={"grn-bench.method": algo.name, "grn-bench.run": tmp.name}, stdin_open=False, tty=False)
        if memory_limit is not None:
            kwargs.update(mem_limit=int(memory_limit), memswap_limit=int(memory_limit))
        t0 = time.perf_counter()
        try:  # create, then start: a container that fails to start is still removed below
            container = c.containers.create(image, **{k: v for k, v in kwargs.items() if k != "detach"})
            container.start()
        except Exception as exc:  # e.g. an invalid user or mount: this run fails, the caller goes on
            first = str(exc).strip().splitlines()
            record.error = f"docker could not start the container: {first[0] if first else type(exc).__name__}"
            # The daemon may have created it although the call failed (e.g. a client timeout): remove it too.
            with contextlib.suppress(Exception):
                for leftover in c.containers.list(all=True, filters={"label": f"grn-bench.run={tmp.name}"}):
                    leftover.remove(force=True)
            return MethodRun(algo.name, empty_edges(), record)
        peak, cpu, timed_out = 0, None, False
        while True:
            # Sample before the exit check, so that even a short run gets one memory/CPU reading.
            mem, cpu_now = _sample_stats(container)
            peak = max(peak, mem or 0)
            cpu = cpu_now if cpu_now else cpu
            container.reload()
            if container.status in ("exited", "dead"):
                break
            if timeout is not None and time.perf_counter() - t0 > timeout:
                timed_out = True
                with contextlib.suppress(Exception):
                    container.kill()
                break
            time.sleep(poll_interval)
        state = c.api.inspect_container(container.id)["State"] if hasattr(c, "api") else {}
        exit_code = container.wait().get("StatusCode", -1) if not timed_out else None
        record.runtime_s = round(time.perf_counter() - t0, 3)
        record.cpu_time_s = None if cpu is None else round(cpu, 3)
        record.peak_memory_mb = round(peak / 2**20, 1) if peak else None
        logs = container.logs(stdout=True, stderr=True)
        logs = logs.decode("utf-8", "replace") if isinstance(logs, bytes) else str(logs)
        (tmp / "container.log").write_text(logs)
        record.stderr_tail = logs[-STDERR_TAIL_CHARS:]
        edges = empty_edges()
        if timed_out:
            record.status = "timeout"
            record.error = f"timed out after {timeout:g} s; the container was killed"
        elif state.get("OOMKilled"):
            record.error = f"exceeded the memory limit ({memory_limit / 2**20:.0f} MB) and was killed"
        elif exit_code != 0:
            last = [ln for ln in logs.strip().splitlines() if ln.strip()]
            record.error = f"container exited with code {exit_code}" + (f": {last[-1].strip()[:200]}" if last else "")
        else:
            try:
                parts = [algo.parse(tmp, list(expr.index), params, i) for i, _ in runs]
                parsed = pd.concat(parts, ignore_index=True).groupby(["regulator", "target"], as_index=False,
                                                                     sort=True)["weight"].max()
            except Exception as exc:
                record.error = f"cannot parse {algo.name}'s output: {type(exc).__name__}: {exc}"
            else:
                edges = rank_edges(parsed)
                record.status = "ok"
                record.n_edges_predicted = int(len(edges))
                info = algo.run_info(tmp) if algo.run_info else {}
                if info:  # the image says what it used; BEELINE's own images say nothing
                    record.used_tfs = info.get("n_tfs") is not None
                    record.details.update(seeded=info.get("seed") == int(seed), image_versions=info.get("versions"),
                                          image_runtime_s=info.get("infer_wall_s"))  # without container start-up
        return MethodRun(algo.name, edges, record)
    finally:
        if container is not None:
            with contextlib.suppress(Exception):
                container.remove(force=True)
        if workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)
