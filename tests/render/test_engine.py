"""The program runner and the render's providers: stable auto-names, stand-ins for cluster reads."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from harness import ROOT

from components.inputs.checks import check_ca_certificates
from render import manifests, stack_config
from render.__main__ import main, render
from render.provider_mocks import ClusterReadInRender, RenderProviders


def test_two_renders_are_byte_identical(rendered, tmp_path):
    render("dev", tmp_path, stack_dir=ROOT)
    first = {p.name: p.read_bytes() for p in (rendered["dev"] / "1-manifest").iterdir()}
    second = {p.name: p.read_bytes() for p in (tmp_path / "1-manifest").iterdir()}
    assert first == second


def test_what_the_stack_reads_from_the_cluster_gets_a_stand_in(tmp_path, capsys):
    # upstreamCaSecret is read at deployment; a render reaches no cluster, so it reads a Secret
    # holding a stand-in CA at the key, as encrypted values get stand-ins, and says so.
    (tmp_path / "Pulumi.ca.yaml").write_text(
        "config:\n  msr-cache:upstreams: [https://msr.example.com]\n"
        "  msr-cache:hosts: [a.example.com]\n  msr-cache:port: 30443\n"
        "  msr-cache:upstreamCaSecret: {namespace: msr, name: msr-nginx-ca-cert, key: ca.pem}\n"
    )
    code = main(["ca", str(tmp_path / "out"), "--stack-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    [notice] = [line for line in out.splitlines() if line.startswith("notice: ")]
    assert "msr-cache:upstreamCaSecret: Secret msr/msr-nginx-ca-cert" in notice
    assert "stand-in" in notice and "ca.pem" in notice
    # The CA reaches the cache's Secret (redacted, as every Secret of a render), under its file.
    [secret] = (tmp_path / "out" / "1-manifest").glob("v1-secret-dtr-ca-certs-*.yaml")
    assert "msr.cert.pem" in yaml.safe_load(secret.read_text())["data"]


def test_a_stand_in_answers_only_the_read_it_stands_in_for():
    config = stack_config.cluster_stand_ins(
        "msr-cache", {"msr-cache:upstreamCaSecret": '{"namespace": "msr", "name": "ca"}'}
    )
    [stand_in] = config
    assert (stand_in.typ, stand_in.id) == ("kubernetes:core/v1:Secret", "msr/ca")
    pem = base64.b64decode(stand_in.state["data"]["ca.crt"]).decode()
    assert check_ca_certificates(pem) == pem  # what the program checks it holds
    providers = RenderProviders(cluster={(stand_in.typ, stand_in.id): stand_in.state})
    assert providers.read(stand_in.typ, stand_in.id)["data"] == stand_in.state["data"]
    with pytest.raises(ClusterReadInRender, match="reads Secret msr/other from the cluster"):
        providers.read("kubernetes:core/v1:Secret", "msr/other")
    # A value the program refuses gets no stand-in: the program says what is wrong with it.
    assert stack_config.cluster_stand_ins("msr-cache", {"msr-cache:upstreamCaSecret": "[]"}) == ()


def test_the_fleet_renders_a_folder_per_cache(tmp_path, capsys):
    # `make render PROJECT=examples/fleet STACK=example`: each cache has its own Kubernetes
    # provider (its own cluster), so its objects are a render of their own, as each provider
    # would write them with renderYamlToDirectory.
    fleet = ROOT / "examples" / "fleet"
    assert main(["example", str(tmp_path / "out"), "--project-dir", str(fleet)]) == 0
    assert "rendered 19 objects of stack example into " in capsys.readouterr().out
    folders = {p.name: p for p in (tmp_path / "out").iterdir() if p.is_dir()}
    assert set(folders) == {"central-k8s", "asia-k8s", "eu-k8s"}
    # Beside them, which Pulumi resource each file is: what render-diff pairs objects by.
    index = json.loads((tmp_path / "out" / manifests.INDEX).read_text())
    for name, folder in folders.items():
        [deployment] = (folder / "1-manifest").glob("apps_v1-deployment-*.yaml")
        namespace = f"msr-cache-{name.removesuffix('-k8s')}"
        assert yaml.safe_load(deployment.read_text())["metadata"]["namespace"] == namespace
        cache = name.removesuffix("-k8s")
        assert index[deployment.relative_to(tmp_path / "out").as_posix()] == f"{cache}-deployment"
    # Rendered again into the same folder, it is replaced whole.
    assert main(["example", str(tmp_path / "out"), "--project-dir", str(fleet)]) == 0
