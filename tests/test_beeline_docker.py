"""BEELINE docker executor.

Part 1 (always runs): a fake docker client plays each BEELINE image. It reads the input files the executor
wrote, *in the format BEELINE's scripts read them* (checking orientation, separators, order), and writes
outputs in each script's format from a known asymmetric weight matrix; the parsed edges must match that
matrix with the right direction. Also: no daemon / missing image errors, timeout kill, container options.

Part 2 (needs a daemon; skipped with the reason otherwise, or failing with --docker): the real docker path
through the local toy image built by ``.ci/docker-setup.sh`` (BEELINE's PPCOR contract): inputs written, the
container run as non-root without network, outputs parsed, a failing and a hanging container reported as
``failed`` and ``timeout``, and ``run_methods(executor="docker")`` through Dask.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.errors import BenchError
from methods.beeline import ALGORITHMS, run_docker
from methods.beeline import executor as bex
from methods.contract import make_tiny_dataset

TOY_IMAGE = "grn-bench/toy-ppcor:local"


@pytest.fixture(scope="module")
def tiny():
    a = make_tiny_dataset(n_cells=60, n_genes=6, n_tfs=2, seed=1)
    # Shuffle the cells so that "sorted by pseudotime" and "original order" differ.
    order = np.random.default_rng(0).permutation(a.n_obs)
    return a[order].copy()


def _weights(genes):
    """An asymmetric matrix with distinct entries: W[i, j] != W[j, i], so a swapped direction is detected."""
    n = len(genes)
    i, j = np.indices((n, n))
    return (1 + i * n + j) / (n * n + 1.0) * np.where((i + j) % 2, -1, 1)  # signed, to check abs()


# ------------------------------------------------------------------------------------------- fake docker


class FakeContainer:
    def __init__(self, client, image, kwargs):
        self.client, self.image, self.kwargs = client, image, kwargs
        self.id = f"fake{len(client.containers_run)}"
        self.status = "running"
        self.killed = self.removed = False
        self.code = 0
        self.log = b""
        self.hang = client.behaviour == "hang"

    def start_work(self):
        if self.hang:
            return
        [(host, spec)] = self.kwargs["volumes"].items()
        cmd = self.kwargs["command"][-1]
        self.client.env = self.kwargs.get("environment") or {}
        try:
            for part in cmd.split(" && "):  # one command per lineage
                self.client.play(Path(host), spec["bind"], shlex.split(part))
        except Exception as exc:  # a wrong input format fails the "container" like the real script would
            self.code, self.log = 1, f"fake image: {type(exc).__name__}: {exc}".encode()
        if self.client.behaviour == "fail":
            self.code, self.log = 2, b"R: Error in solve.default(): singular"
        self.status = "exited"

    def start(self):
        self.start_work()

    def reload(self):
        pass

    def wait(self, timeout=None):
        return {"StatusCode": self.code}

    def logs(self, stdout=True, stderr=True):
        return self.log

    def kill(self):
        self.killed, self.status = True, "exited"

    def remove(self, force=False):
        self.removed = True

    def stats(self, stream=False, one_shot=None):
        return {"memory_stats": {"usage": 42 * 2**20}, "cpu_stats": {"cpu_usage": {"total_usage": 2.5e9}}}


class FakeClient:
    """Enough of ``docker.DockerClient`` for the executor; ``play`` is the image's script."""

    def __init__(self, behaviour="ok", images=()):
        self.behaviour = behaviour
        self.known_images = set(images)
        self.containers_run: list[FakeContainer] = []
        client = self

        class _Images:
            def get(self, name):
                if name not in client.known_images:
                    import docker

                    raise docker.errors.ImageNotFound(name)
                return name

        class _Containers:
            def create(self, image, **kwargs):
                c = FakeContainer(client, image, kwargs)
                client.containers_run.append(c)
                return c

        class _Api:
            def inspect_container(self, cid):
                return {"State": {"OOMKilled": False}}

        self.images, self.containers, self.api = _Images(), _Containers(), _Api()
        self.genes: list[str] = []
        self.lineages: list[pd.Series] = []  # pseudotime of each lineage's cells
        self.reports_info = False  # arboreto: write outFile.txt.info.json as the local image's runner does
        self.env: dict = {}

    def ping(self):
        return True

    def play(self, host: Path, mount: str, argv: list[str]):
        """Check the inputs as BEELINE's script would read them, then write outputs from _weights()."""
        def h(p):  # container path -> host path
            assert p.startswith(mount + "/"), f"{p} is not under the mount {mount}"
            return host / p[len(mount) + 1:]

        genes = self.genes
        n = len(genes)
        m = re.search(r"ExpressionData(\d+)\.csv", " ".join(argv))
        idx = int(m.group(1)) if m else 0
        pt = self.lineages[idx] if self.lineages else None
        W = _weights(genes) * (1 + idx)  # lineage-dependent, to check the merge by maximum
        pairs = [(i, j) for i in range(n) for j in range(n)]
        if argv[0] == "python":  # arboreto: cells x genes, tab, index
            args = dict(a[2:].split("=", 1) for a in argv[2:])
            df = pd.read_csv(h(args["inFile"]), sep="\t", index_col=0)
            assert list(df.columns) == genes and len(df) == self.n_cells
            rows = [(genes[i], genes[j], abs(W[i, j])) for i, j in pairs if i != j]
            pd.DataFrame(rows, columns=["TF", "target", "importance"]).sort_values("importance", ascending=False) \
                .to_csv(h(args["outFile"]), sep="\t", index=False)
            if self.reports_info:
                tf_file = self.env.get("ARBORETO_TF_FILE")
                info = {"seed": int(self.env["ARBORETO_SEED"]),
                        "n_tfs": len(h(tf_file).read_text().split()) if tf_file else None,
                        "versions": {"arboreto": "0.1.6"}, "infer_wall_s": 0.5}
                h(args["outFile"] + ".info.json").write_text(json.dumps(info))
        elif argv[:2] == ["Rscript", "runPPCOR.R"]:  # genes x cells, comma, index; all pairs incl. diagonal
            df = pd.read_csv(h(argv[2]), index_col=0)
            assert list(df.index) == genes and len(df.columns) == self.n_cells
            rows = [(genes[i], genes[j], 1.0 if i == j else W[i, j], 0.0 if i == j or (i + j) % 3 else 0.5)
                    for i, j in pairs]
            pd.DataFrame(rows, columns=["Gene1", "Gene2", "corVal", "pValue"]).to_csv(h(argv[3]), sep="\t", index=False)
        elif argv[0] == "julia":  # genes x cells, tab, header; output headerless
            df = pd.read_csv(h(argv[2]), sep="\t", index_col=0)
            assert list(df.index) == genes
            with open(h(argv[3]), "w") as fh:
                for i, j in pairs:
                    if i != j:
                        fh.write(f"{genes[i]}\t{genes[j]}\t{abs(W[i, j])}\n")
        elif argv[:2] == ["Rscript", "runLeap.R"]:  # first column GENES, cells sorted by pseudotime
            df = pd.read_csv(h(argv[2]))
            assert df.columns[0] == "GENES" and list(df["GENES"]) == genes
            assert list(df.columns[1:]) == list(pt.sort_values().index)
            assert float(argv[3]) == 0.33
            rows = [(W[i, j], genes[i], genes[j]) for i, j in pairs if i != j]
            pd.DataFrame(rows, columns=["Score", "Gene1", "Gene2"]).to_csv(h(argv[4]), sep="\t", index=False)
        elif argv[0] == "ruby":  # expr: tab, no header/index, original order; pt: cell\tvalue
            expr = pd.read_csv(h(argv[2]), sep="\t", header=None)
            got_pt = pd.read_csv(h(argv[3]), sep="\t", header=None, index_col=0).iloc[:, 0]
            assert expr.shape == (n, len(pt)) and list(got_pt.index) == list(pt.index)
            assert argv[5:10] == [str(n), "10", str(len(pt)), "1000", "6"]
            out = h(argv[4])
            out.mkdir(exist_ok=True)
            pd.DataFrame(W).to_csv(out / "meanA.txt", sep="\t", header=False, index=False)
        elif argv[:2] == ["Rscript", "MAIN.R"]:  # cells x genes + Time (qcut midpoints), comma, no index
            df = pd.read_csv(h(argv[2]))
            assert list(df.columns) == genes + ["Time"] and df["Time"].nunique() <= 10 and len(df) == len(pt)
            # SINCERITIES: SourceGENES holds the target, TargetGENES the regulator (column-major as.vector).
            rows = [(genes[j], genes[i], abs(W[i, j]), "activation") for i, j in pairs]
            pd.DataFrame(rows, columns=["SourceGENES", "TargetGENES", "Interaction", "Edges"]) \
                .to_csv(h(argv[3]), index=False)
        else:  # pragma: no cover
            raise AssertionError(f"unexpected command {argv}")


def _expected(name, genes, scale=1.0):
    W = _weights(genes) * scale
    n = len(genes)
    rows = []
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            w = abs(W[i, j])
            if name == "ppcor" and (i + j) % 3:
                pass
            elif name == "ppcor":
                w = 0.0  # p-value 0.5 > pVal 0.01
            rows.append((genes[i], genes[j], w))
    return {(r, t): w for r, t, w in rows}


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_each_algorithm_inputs_command_and_parsing(name, tiny):
    client = FakeClient(images=[ALGORITHMS[name].image])
    client.genes, client.n_cells = list(tiny.var_names), tiny.n_obs
    client.lineages = [pd.Series(tiny.obs["pseudotime"].to_numpy(), index=list(tiny.obs_names))]
    run = run_docker(name, tiny, pseudotime=tiny.obs["pseudotime"].to_numpy(), client=client, timeout=30,
                     poll_interval=0.001)
    assert run.ok, run.record["error"] or run.record["stderr_tail"]
    got = {(r, t): w for r, t, w in zip(run.edges.regulator, run.edges.target, run.edges.weight)}
    want = _expected(name, client.genes)
    assert got.keys() == want.keys()
    assert all(abs(got[k] - want[k]) < 1e-9 for k in want), "weights or directions differ"
    assert list(run.edges["rank"]) == list(range(1, len(got) + 1))
    [c] = client.containers_run
    kw = c.kwargs
    assert kw["network_mode"] == "none" and kw["command"][:2] == ["/bin/sh", "-c"]
    assert kw["user"] and not kw["user"].startswith("0:") and kw["user"] != "root"
    assert len(kw["volumes"]) == 1 and list(kw["volumes"].values())[0]["bind"] == ALGORITHMS[name].mount
    assert c.removed
    assert run.record.peak_memory_mb == 42.0 and run.record.cpu_time_s == 2.5
    assert not Path(list(kw["volumes"])[0]).exists(), "the temporary run folder is removed"


@pytest.mark.parametrize("name", sorted(n for n, a in ALGORITHMS.items() if a.needs_pseudotime))
def test_two_lineages_run_separately_and_merge_by_maximum(name, tiny):
    pt = tiny.obs["pseudotime"].to_numpy()
    two = np.column_stack([np.where(pt < 0.6, pt, np.nan), np.where(pt > 0.3, pt, np.nan)])
    client = FakeClient(images=[ALGORITHMS[name].image])
    client.genes, client.n_cells = list(tiny.var_names), tiny.n_obs
    client.lineages = [pd.Series(two[ok, k], index=list(tiny.obs_names[ok]))
                       for k in range(2) for ok in [np.isfinite(two[:, k])]]
    run = run_docker(name, tiny, pseudotime=two, client=client, timeout=30, poll_interval=0.001)
    assert run.ok, run.record["error"] or run.record["stderr_tail"]
    assert run.record["n_lineages"] == 2 and run.record["command"].count(" && ") == 1
    want = _expected(name, client.genes, scale=2.0)  # lineage 1 writes twice the weights of lineage 0
    got = {(r, t): w for r, t, w in zip(run.edges.regulator, run.edges.target, run.edges.weight)}
    assert got.keys() == want.keys() and all(abs(got[k] - want[k]) < 1e-9 for k in want)


def test_params_reach_the_command_under_beeline_names(tiny):
    client = FakeClient(images=["grnbeeline/scode:base", "grnbeeline/arboreto:base"])
    client.genes, client.n_cells = list(tiny.var_names), tiny.n_obs
    client.lineages = [pd.Series(tiny.obs["pseudotime"].to_numpy(), index=list(tiny.obs_names))]
    run = run_docker("scode", tiny, pseudotime=tiny.obs["pseudotime"].to_numpy(), client=client,
                     params={"n_iter": 100, "n_rep": 2, "optimizer": "fixed-d481cd8"}, poll_interval=0.001)
    assert run.record.parameters == {"z": 10, "nIter": 100, "nRep": 2}
    assert run.record["command"].endswith(f"{tiny.n_vars} 10 {tiny.n_obs} 100 2")
    run = run_docker("genie3", tiny, client=client, params={"n_estimators": 100}, poll_interval=0.001)
    assert run.record.parameters == {}  # BEELINE's arboreto script takes no parameters


@pytest.mark.parametrize("reports", [False, True], ids=["beeline-image", "local-image"])
def test_arboreto_gets_seed_and_tfs_and_the_record_says_what_the_image_used(tiny, tmp_path, reports):
    client = FakeClient(images=["grnbeeline/arboreto:base"])
    client.genes, client.n_cells, client.reports_info = list(tiny.var_names), tiny.n_obs, reports
    tfs = list(tiny.var_names[:2]) + ["NotAGene"]
    run = run_docker("genie3", tiny, tfs=tfs, seed=5, client=client, poll_interval=0.001, workdir=tmp_path)
    assert run.ok, run.record["error"]
    [c] = client.containers_run
    assert c.kwargs["environment"] == {"ARBORETO_SEED": "5", "ARBORETO_TF_FILE": "/data/TFs.txt"}
    assert (tmp_path / "TFs.txt").read_text().split() == tfs[:2]  # genes absent from the data are dropped
    # BEELINE's own image reports nothing: unseeded, every gene a regulator; the local image says what it used.
    assert run.record["seeded"] is reports and run.record["used_tfs"] is reports
    assert run.record.get("image_versions") == ({"arboreto": "0.1.6"} if reports else None)
    # The leaderboard row says which executor and image ran.
    from reports.leaderboard import make_row

    row = make_row(method="GENIE3", dataset="d", simulator="real", ground_truth="pos-control",
                   **run.record.leaderboard_fields())
    assert row["executor"] == "docker" and row["image"] == "grnbeeline/arboreto:base"
    with pytest.raises(BenchError, match="none of the given TFs"):
        run_docker("genie3", tiny, tfs=["NotAGene"], client=client, poll_interval=0.001)


@pytest.mark.parametrize("name", ["genie3", "ppcor"])
def test_expression_reaches_the_image_bit_for_bit(name, tmp_path):
    from methods.contract import make_tiny_dataset

    a = make_tiny_dataset(n_cells=200, n_genes=6, n_tfs=2, seed=4)
    a.X = np.log1p(np.asarray(a.X, dtype=np.float64) * np.pi).astype(np.float32)  # many digits
    client = FakeClient(images=[ALGORITHMS[name].image])
    client.genes, client.n_cells = list(a.var_names), a.n_obs
    assert run_docker(name, a, client=client, poll_interval=0.001, workdir=tmp_path).ok
    cells_x_genes = name == "genie3"
    # pandas writes the shortest exact repr; read back exactly (runArboreto.py reads so too) it is the same number.
    back = pd.read_csv(tmp_path / "ExpressionData.csv", sep="\t" if cells_x_genes else ",", index_col=0,
                       float_precision="round_trip").to_numpy()
    assert np.array_equal(back if cells_x_genes else back.T, np.asarray(a.X, dtype=np.float64))


def test_failing_container_is_failed_with_its_log(tiny):
    client = FakeClient("fail", images=["grnbeeline/pidc:base"])
    client.genes, client.n_cells = list(tiny.var_names), tiny.n_obs
    run = run_docker("pidc", tiny, client=client, timeout=30, poll_interval=0.001)
    assert run.status == "failed" and "exited with code 2" in run.record["error"]
    assert "singular" in run.record["stderr_tail"] and run.edges.empty


def test_hanging_container_is_killed_at_the_timeout(tiny):
    client = FakeClient("hang", images=["grnbeeline/ppcor:base"])
    run = run_docker("ppcor", tiny, client=client, timeout=0.3, poll_interval=0.01)
    assert run.status == "timeout" and client.containers_run[0].killed and client.containers_run[0].removed


def test_missing_image_is_a_one_line_error(tiny):
    with pytest.raises(BenchError) as exc:
        run_docker("ppcor", tiny, client=FakeClient(images=[]))
    msg = str(exc.value)
    assert "grnbeeline/ppcor:base is not present" in msg and "docker pull" in msg and "\n" not in msg


def test_no_daemon_is_a_one_line_error(monkeypatch):
    import docker

    def boom(**kw):
        raise docker.errors.DockerException("Error while fetching server API version: ('Connection aborted.', "
                                            "FileNotFoundError(2, 'No such file or directory'))")
    monkeypatch.setattr(docker, "from_env", boom)
    with pytest.raises(BenchError) as exc:
        bex.docker_client()
    msg = str(exc.value)
    assert msg.startswith("no docker daemon answers") and "--executor native" in msg and "\n" not in msg


def test_image_overrides(monkeypatch):
    assert bex.image_for("PPCOR") == "grnbeeline/ppcor:base"
    assert bex.image_for("ppcor", {"PPCOR": "x/y@sha256:abc"}) == "x/y@sha256:abc"
    monkeypatch.setenv("BENCH_IMAGE_SCODE", "mirror/scode:1")
    assert bex.image_for("scode") == "mirror/scode:1"
    monkeypatch.setenv("BENCH_IMAGE_REGISTRY", "registry.example.org:5000/mirror/")
    assert bex.image_for("genie3") == "registry.example.org:5000/mirror/grnbeeline/arboreto:base"
    assert bex.image_for("scode") == "mirror/scode:1"  # a per-method image wins over the registry
    with pytest.raises(BenchError, match="no BEELINE docker image"):
        bex.image_for("cespgrn")


def test_pseudotime_is_required_for_trajectory_methods(tiny):
    with pytest.raises(BenchError, match="needs pseudotime"):
        run_docker("leap", tiny, client=FakeClient(images=["grnbeeline/leap:base"]))


# ------------------------------------------------------------------------------------------- real docker


@pytest.fixture(scope="module")
def real_docker(request):
    try:
        client = bex.docker_client()
    except BenchError as exc:
        if request.config.getoption("--docker"):
            pytest.fail(f"--docker given but {exc}")
        pytest.skip(f"docker tests skipped: {exc.problem} (run `bash .ci/docker-setup.sh` as root)")
    try:
        bex.check_image(client, TOY_IMAGE)
    except BenchError as exc:
        if request.config.getoption("--docker"):
            pytest.fail(f"--docker given but {exc}")
        pytest.skip(f"docker tests skipped: {exc.problem} (run `bash .ci/docker-setup.sh`)")
    return client


@pytest.mark.docker
def test_real_docker_full_path(real_docker, tiny, tmp_path):
    work = tmp_path / "run"
    run = run_docker("ppcor", tiny, images={"ppcor": TOY_IMAGE}, params={"pVal": 1.0}, timeout=120,
                     workdir=work, client=real_docker)
    assert run.ok, run.record
    # BEELINE input: genes x cells, comma, gene names in the first column.
    expr = pd.read_csv(work / "ExpressionData.csv", index_col=0)
    assert list(expr.index) == list(tiny.var_names) and list(expr.columns) == list(tiny.obs_names)
    # The toy computes Pearson correlations; with pVal = 1 every pair keeps |r|.
    X = np.asarray(tiny.X, dtype=float)
    C = np.corrcoef(X.T)
    g = list(tiny.var_names)
    for r, t, w in zip(run.edges.regulator, run.edges.target, run.edges.weight):
        assert abs(w - abs(C[g.index(r), g.index(t)])) < 1e-8
    assert len(run.edges) == len(g) * (len(g) - 1)
    # Sandbox: non-root user, no network interface but loopback.
    assert int((work / "toy_uid.txt").read_text()) != 0
    assert (work / "toy_net.txt").read_text().split() == ["lo"]
    assert run.record["user"] != "0:0" and run.record["network"] == "none"


@pytest.mark.docker
def test_real_docker_failure_and_timeout(real_docker, tiny):
    import docker

    failed = run_docker("ppcor", tiny, images={"ppcor": TOY_IMAGE}, environment={"TOY_MODE": "fail"}, timeout=60,
                        client=real_docker)
    assert failed.status == "failed" and "exited with code 3" in failed.record["error"]
    assert "failing on purpose" in failed.record["stderr_tail"]
    hung = run_docker("ppcor", tiny, images={"ppcor": TOY_IMAGE}, environment={"TOY_MODE": "hang"}, timeout=3,
                      client=real_docker)
    assert hung.status == "timeout" and hung.record.runtime_s < 30
    bad_user = run_docker("ppcor", tiny, images={"ppcor": TOY_IMAGE}, user="nosuchuser", client=real_docker)
    assert bad_user.status == "failed" and "could not start the container" in bad_user.record["error"]
    # Only this test's image: other sessions may be running other methods on the same daemon.
    left = real_docker.containers.list(all=True, filters={"label": "grn-bench.method", "ancestor": TOY_IMAGE})
    assert left == [], "containers are removed after the run, even one that could not start"
    assert isinstance(real_docker, docker.DockerClient)


@pytest.mark.docker
def test_real_docker_through_run_methods(real_docker, tiny, tmp_path):
    from methods.execution import run_methods

    runs = run_methods(tiny, ["ppcor", "cespgrn"], executor="docker", timeout=120, out_dir=tmp_path,
                       executor_options={"images": {"ppcor": TOY_IMAGE}})
    assert runs[0].ok and runs[0].record["executor"] == "docker" and len(runs[0].edges) > 0
    assert runs[1].status == "failed" and "no BEELINE docker image" in runs[1].record["error"]
