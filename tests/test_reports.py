"""`bench report` and `bench publish` built from a synthetic run directory; XSS; missing parts."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from reports import leaderboard as lb
from reports.html import build_report
from reports.publish import publish, slugify
from reports.rundir import RunDir
from reports.synthetic import make_synthetic_run

XSS = "<script>alert(1)</script>"
XSS_STDERR = "</pre><script>alert(2)</script><img src=x onerror=alert(3)>"


def make_small_run(path):
    rd = make_synthetic_run(path, n_methods=3, n_tfs=10, n_targets=40, per_gene=3, n_cells=60, n_ko_tfs=3,
                            method_names=["grnboost2", XSS, "ppcor"])
    rd.add_rows([lb.make_row(method='pidc" onmouseover="alert(4)', dataset="toy", simulator="real",
                             ground_truth="pos-control", status="timeout", universe="imposed",
                             error="killed after 10 s", stderr_tail=XSS_STDERR)])
    return rd


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_small_run(tmp_path_factory.mktemp("run") / "run-1").path


@pytest.fixture(scope="module")
def report(run_dir):
    return build_report(run_dir)


def assert_safe(html: str):
    assert XSS not in html and "<script>alert" not in html and "<img src=x" not in html
    assert 'onmouseover="alert' not in html
    assert len(re.findall(r"<script\b", html)) == 1  # only our inline sorter
    # self-contained: nothing fetched from the network
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "<link rel=\"stylesheet\"" not in html


def test_report_has_every_section(report):
    html = report.read_text()
    assert report.name == "report.html"
    for anchor in ("leaderboard", "controls", "curves", "realism", "knockout", "failures", "metadata"):
        assert f'id="{anchor}"' in html
    assert html.count('src="data:image/png;base64,') >= 6
    assert 'id="leaderboard-table"' in html and 'class="sortable"' in html
    assert "positive control" in html and "negative control" in html
    assert "control (real vs real)" in html
    assert "killed after 10 s" in html and "matrix is singular" in html   # failed methods with stderr
    assert "config.toml" in html and "run-1" in html
    assert "in this run directory" not in html  # every part present, so no section is omitted


def test_report_verdict_section_comes_first(report, run_dir):
    html = report.read_text()
    assert html.index('id="verdict"') < html.index('id="leaderboard"')
    for src in ("real", "groundgan", "scgan"):
        assert f'id="ranks-{src}"' in html and f'alt="{src} forest plot"' in html
    assert 'id="qc-table"' in html and 'id="stability-table"' in html and "methods x data sources" in html
    assert "QC gates fired" in html and "unrealistic" in html  # the synthetic scgan is easy to tell from real
    tables = RunDir(run_dir).read_verdicts()
    s = tables["summary"]
    assert {"auprc_ratio_ci_low", "auprc_ratio_ci_high", "tied_group", "qc", "baseline"} <= set(s.columns)
    assert set(s.loc[s["baseline"], "method"]) == {"random"}
    board = RunDir(run_dir).read_leaderboard()
    assert set(board["replicate"].dropna()) == {0, 1} and board["qc"].notna().any()


def test_report_escapes_user_strings(report):
    html = report.read_text()
    assert_safe(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(2)" in html


def test_report_with_missing_parts(tmp_path, run_dir):
    rd = RunDir(tmp_path / "partial")
    rd.write_leaderboard(RunDir(run_dir).read_leaderboard())
    html = build_report(rd.path, tmp_path / "out.html").read_text()
    for f in ("curves.parquet", "realism.json", "embedding.parquet", "knockout.parquet", "manifest.json",
              "config.toml"):
        assert f"No {f} in this run directory" in html
    assert 'id="leaderboard-table"' in html
    empty = RunDir(tmp_path / "empty")
    empty.write_manifest({"run_id": "nothing yet"})
    html = build_report(empty.path).read_text()
    assert "No leaderboard.parquet in this run directory" in html and "nothing yet" in html


def test_report_missing_dir_is_a_bench_error(tmp_path):
    from bench.errors import BenchError

    with pytest.raises(BenchError):
        build_report(tmp_path / "absent")


def test_publish_site(tmp_path, run_dir, tmp_path_factory):
    second = make_synthetic_run(tmp_path_factory.mktemp("run") / "run-2", n_methods=2, n_tfs=8, n_targets=30,
                                per_gene=2, n_cells=40, realism=False, dataset="other <b>ds</b>", seed=1)
    index = publish([run_dir, second.path], tmp_path / "site")
    site = tmp_path / "site"
    assert index == site / "index.html" and (site / ".nojekyll").exists()
    html = index.read_text()
    assert_safe(html)
    assert "other &lt;b&gt;ds&lt;/b&gt;" in html
    pages = sorted((site / "datasets").glob("*.html"))
    assert len(pages) == 2 and all(re.fullmatch(r"[a-z0-9-]+\.html", p.name) for p in pages)
    for p in pages:
        assert_safe(p.read_text())
    for href in re.findall(r'href="(?!data:)([^"#]+)"', html):
        assert (site / href).exists(), href
    for p in pages:
        for href in re.findall(r'href="(?!data:)([^"#]+)"', p.read_text()):
            assert (p.parent / href).resolve().exists(), href
    board = lb.read_leaderboard(site / "data" / "leaderboard.parquet")
    assert set(board["run_id"]) == {"run-1", "run-2"} and len(board) == len(RunDir(run_dir).read_leaderboard()) + \
        len(second.read_leaderboard())
    csv = pd.read_csv(site / "data" / "leaderboard.csv")
    assert list(csv.columns) == lb.LEADERBOARD_COLUMNS and len(csv) == len(board)
    assert (site / "runs" / slugify("run-1") / "report.html").exists()


def test_publish_rejects_duplicates_and_empty(tmp_path, run_dir):
    from bench.errors import BenchError

    with pytest.raises(BenchError):
        publish([run_dir, run_dir], tmp_path / "s")
    with pytest.raises(BenchError):
        publish([tmp_path], tmp_path / "s")


def test_cli(tmp_path, run_dir):
    from bench.cli import main

    out = tmp_path / "r.html"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0 and out.exists()
    assert main(["publish", str(run_dir), "--out", str(tmp_path / "site"), "--no-reports"]) == 0
    assert (tmp_path / "site" / "index.html").exists() and not (tmp_path / "site" / "runs").exists()
    assert main(["report", str(tmp_path / "nope")]) == 2


def test_paper_comparison_section(tmp_path, run_dir):
    import shutil

    from reports.html import code_version

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    rd = RunDir(run)
    rd.update_manifest(paper_comparison={
        "paper": "PIDC > GENIE3 <b>", "order": ["genie3"],
        "per_method": {"genie3": {"pos_auprc_ratio": 3.1, "neg_auprc_ratio": 1.2, "pos_over_neg": 2.58}},
        "claims": [{"claim": "pidc > genie3", "holds": True}, {"claim": XSS, "holds": False},
                   {"claim": "genie3 > grnboost2", "verdict": "inconclusive", "evidence": "CIs overlap"}]})
    html = build_report(run).read_text()
    assert "inconclusive" in html and "CIs overlap" in html and ">holds<" in html and ">fails<" in html
    assert 'id="paper"' in html and 'id="paper-claims"' in html and "2.580" in html
    assert "PIDC &gt; GENIE3 &lt;b&gt;" in html
    assert_safe(html)
    assert "paper_comparison" not in html  # shown as its own section, not dumped into the metadata table
    assert len(code_version()) == 12


def test_odd_method_names_and_all_failed_rows(tmp_path):
    # "$" would start matplotlib mathtext; a lone "{" would break str.format-based code.
    rd = make_synthetic_run(tmp_path / "odd", n_methods=2, n_tfs=6, n_targets=20, per_gene=2, n_cells=30,
                            realism=False, method_names=["a$b_{x", "{0}%s"], failed_method=False)
    html = build_report(rd.path).read_text()
    assert "a$b_{x" in html and "{0}%s" in html
    failed = RunDir(tmp_path / "failed")
    failed.add_rows([lb.make_row(method="m", dataset="d", simulator="groundgan", ground_truth=gt, status="timeout",
                                 universe="imposed", error="timed out after 3600 s") for gt in
                     ("pos-control", "neg-control")])
    html = build_report(failed.path).read_text()
    assert "No successful rows scored against a control network." in html
    assert html.count("timed out after 3600 s") == 1  # listed once, not once per control
