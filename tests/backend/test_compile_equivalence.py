"""The exported file, run in a separate process with the same safetensors weights, computes what
the in-app module computes, with the shapes analysis predicted."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings

from backend.model.shapes import analyse
from tests.backend.designs import example_docs, random_designs, run_cases, write_case


def _check(report: dict, expected_cases: int) -> None:
    assert report["leaked"] == [], "the exported module must need only torch"
    assert len(report["results"]) == expected_cases
    failures = [r for r in report["results"] if r["problems"]]
    assert not failures, failures[:5]


def test_examples_and_random_designs_match_in_subprocess(tmp_path):
    folders = []
    for i, (stem, doc) in enumerate(example_docs()):
        write_case(tmp_path / f"example_{stem}", doc, seed=i)
        folders.append(tmp_path / f"example_{stem}")
    n_examples = len(folders)
    assert n_examples >= 5
    attempts = itertools.count()

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(random_designs())
    def collect(doc):
        analysis = analyse(doc)
        assert analysis.ok, [e.message for e in analysis.errors]
        attempt = next(attempts)  # a replayed example gets a folder of its own
        folder = tmp_path / f"random_{attempt}"
        write_case(folder, doc, seed=attempt)
        folders.append(folder)

    collect()
    assert len(folders) - n_examples >= 250  # hypothesis ran (close to) the 300 asked for
    _check(run_cases(folders, tmp_path), len(folders))
