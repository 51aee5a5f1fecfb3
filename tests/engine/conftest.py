"""The engine layer's fixture: a real control plane (tests/engine/cluster.py)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster import Cluster, missing_tools, running_cluster
from harness import unavailable


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A real control plane (tests/engine/cluster.py), one per test worker, started when a test first
    needs it and stopped with the worker, even one killed (its processes run under a
    supervisor); each test works in namespaces of its own. With MSR_CACHE_KUBECONFIG, the
    cluster that kubeconfig reaches instead (the e2e workflow's kind cluster), which has neither
    kwok's Stages nor the EXPANDABLE StorageClass."""
    existing = os.environ.get("MSR_CACHE_KUBECONFIG")
    if existing:
        yield Cluster.existing(Path(existing), tmp_path_factory.mktemp("cluster"))
        return
    missing = missing_tools()
    if missing:
        unavailable(f"not built: {', '.join(missing)}: run `make toolchain`")
    with running_cluster(tmp_path_factory.mktemp("cluster")) as started:
        yield started
