"""`make bench` keeps working: it runs at a tiny size, and its resource check catches a twin
that registers other resources than MsrCache."""

import importlib.util
import re
import subprocess
import sys

import pytest
from harness import ROOT

BENCH = ROOT / "bench" / "bench.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_under_test", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()

# What a default nodePort MsrCache registers, once (the component type aside).
ONE_CACHE = {
    "kubernetes:apps/v1:Deployment": 1,
    "kubernetes:core/v1:ConfigMap": 1,
    "kubernetes:core/v1:Namespace": 1,
    "kubernetes:core/v1:Secret": 1,
    "kubernetes:core/v1:Service": 1,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": 1,
    "random:index/randomPassword:RandomPassword": 1,
    "tls:index/certRequest:CertRequest": 1,
    "tls:index/locallySignedCert:LocallySignedCert": 1,
    "tls:index/privateKey:PrivateKey": 2,
    "tls:index/selfSignedCert:SelfSignedCert": 1,
}


def test_bench_runs_at_a_tiny_size() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "1,2", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"ratio \d+(\.\d+)? at 2 caches", last), done.stdout


def test_same_resources_have_no_differences() -> None:
    component = {bench.COMPONENT_TYPE: 1, **ONE_CACHE}
    bare = {bench.BARE_TYPE: 1, **ONE_CACHE}
    assert bench.resource_differences(component, bare) == []


def test_a_type_missing_from_the_twin_is_named() -> None:
    component = {bench.COMPONENT_TYPE: 1, **ONE_CACHE}
    bare = {bench.BARE_TYPE: 1, **ONE_CACHE}
    del bare["kubernetes:networking.k8s.io/v1:NetworkPolicy"]
    assert bench.resource_differences(component, bare) == [
        "missing from BareCache: kubernetes:networking.k8s.io/v1:NetworkPolicy "
        "(MsrCache registers 1)"
    ]


def test_an_extra_type_and_a_different_count_are_named() -> None:
    component = {bench.COMPONENT_TYPE: 1, **ONE_CACHE}
    bare = {
        bench.BARE_TYPE: 1,
        **ONE_CACHE,
        "tls:index/privateKey:PrivateKey": 1,
        "kubernetes:policy/v1:PodDisruptionBudget": 1,
    }
    differences = bench.resource_differences(component, bare)
    assert len(differences) == 2
    assert any(
        "extra in BareCache: kubernetes:policy/v1:PodDisruptionBudget" in d for d in differences
    )
    assert any("count differs: tls:index/privateKey:PrivateKey" in d for d in differences)


def test_check_same_resources_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A component that registers more than the twin stops the bench, naming the type."""

    class Mocks:
        def __init__(self, types: dict[str, int]) -> None:
            self.types = types

    component = {bench.COMPONENT_TYPE: 2, **{t: 2 * c for t, c in ONE_CACHE.items()}}
    bare = {bench.BARE_TYPE: 2, **{t: 2 * c for t, c in ONE_CACHE.items()}}
    bare.pop("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    sides = {bench.component: component, bench.bare: bare}
    monkeypatch.setattr(bench, "run", lambda make, n: (0.0, Mocks(sides[make])))
    with pytest.raises(SystemExit) as exit_:
        bench.check_same_resources()
    assert "missing from BareCache: kubernetes:networking.k8s.io/v1:NetworkPolicy" in str(
        exit_.value.code
    )
