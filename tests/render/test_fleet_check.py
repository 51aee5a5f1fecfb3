"""A fleet file, checked before any stack is touched: its shape, then each cache's stack file as
the stack program itself checks it, offline (fleet/check.py renders each cache)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fleet import stack_files
from fleet.check import check
from fleet.spec import CA_KEY, CONTEXT_KEY, UPSTREAMS, Cache, Cluster, FleetError, parse
from render.__main__ import ROOT

MSR = "https://msr.example.com"


def cache(name: str, upstreams: list[str], port: int, **more: Any) -> dict[str, Any]:
    config = {UPSTREAMS: upstreams, "msr-cache:hosts": [f"cache.{name}.example.com"],
              "msr-cache:port": port, **{f"msr-cache:{k}": v for k, v in more.items()}}  # fmt: skip
    return {"name": name, "cluster": {"context": f"{name}-cluster"}, "config": config}


CENTRAL_AND_REGIONS = {
    "caches": [
        cache("central", [MSR], 30443),
        cache("asia", ["cache:central"], 30443),
        cache("eu", ["cache:central"], 30444),
        cache("eu-west", ["cache:eu"], 30445),
    ]
}


def problems(raw: Any, base: Path = Path(".")) -> list[str]:
    with pytest.raises(FleetError) as raised:
        check(parse(raw, base))
    return list(raised.value.problems)


def test_caches_go_in_waves_after_the_caches_they_pull_from() -> None:
    fleet = parse(CENTRAL_AND_REGIONS, Path("."))
    assert [[c.name for c in wave] for wave in fleet.waves()] == [
        ["central"], ["asia", "eu"], ["eu-west"]
    ]  # fmt: skip
    assert fleet.downstream_of("central") == ["asia", "eu", "eu-west"]
    assert fleet.downstream_of("eu") == ["eu-west"] and fleet.downstream_of("asia") == []


def test_a_chained_cache_is_checked_with_its_upstreams_url_and_trusts_its_ca() -> None:
    checked = check(parse(CENTRAL_AND_REGIONS, Path(".")))
    central = checked.said["central"].outputs
    asia = checked.said["asia"]
    configs = [r.inputs["data"]["config.yaml"] for r in asia.resources
               if r.typ == "kubernetes:core/v1:ConfigMap"]  # fmt: skip
    (config,) = [yaml.safe_load(c) for c in configs]
    downstream = config["middleware"]["registry"][0]["options"]["upstreams"]
    assert downstream == [central["url"].value] == ["https://cache.central.example.com:30443"]
    assert asia.outputs["url"].value == "https://cache.asia.example.com:30443"


def test_every_problem_of_every_cache_is_named_at_once_and_a_downstream_says_why_unchecked() -> (
    None
):
    raw = {
        "caches": [
            cache("central", [MSR], 70000),
            cache("asia", ["cache:central"], 30443),
            cache("eu", [MSR], 30443, blobTTl="1h"),
        ]
    }
    assert problems(raw) == [
        "central: msr-cache:port: got 70000; expected an integer port from 1 to 65535",
        "eu: msr-cache:blobTTl: unknown key; did you mean blobTtl?",
        "asia: not checked: it pulls from central",
    ]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda r: r["caches"][1].update(name="Asia"), 'caches[1] (Asia).name: got "Asia"'),
        (lambda r: r["caches"][1].update(stack="central", name="central"),
         "each name once; central more than once"),
        (lambda r: r["caches"][2].update(cluster={}), "caches[2] (eu).cluster: got {}"),
        (lambda r: r["caches"][2].update(cluster={"context": ""}), ".cluster.context: got"),
        (lambda r: r["caches"][2].update(cluster={"kubeconfig": "nowhere.yaml"}),
         "/nowhere.yaml is not a file"),
        (lambda r: r["caches"][2].update(region="eu"), "caches[2] (eu).region: unknown"),
        (lambda r: r["caches"][2]["config"].update(port=1), "config.port: expected a key of msr-cache"),
        (lambda r: r["caches"][2]["config"].update({CONTEXT_KEY: "x"}), "the cluster says it"),
        (lambda r: r["caches"][1]["config"].update({UPSTREAMS: ["cache:mars"]}),
         "asia: msr-cache:upstreams: cache:mars is no cache of this fleet"),
        (lambda r: r["caches"][0]["config"].update({UPSTREAMS: ["cache:eu-west"]}),
         "central, eu, eu-west pull from each other in a loop"),
    ],
)  # fmt: skip
def test_a_wrong_fleet_file_is_refused_naming_where(change: Any, said: str, tmp_path: Path) -> None:
    raw = yaml.safe_load(yaml.safe_dump(CENTRAL_AND_REGIONS))
    change(raw)
    found = problems(raw, tmp_path)
    assert any(said in p for p in found), found


def test_a_secret_the_stack_file_holds_stays_and_the_fleet_sets_the_rest(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.asia.yaml").write_text(
        yaml.safe_dump({
            "encryptionsalt": "v1:abc",
            "config": {
                "msr-cache:tlsKey": {"secure": "v1:cipher"},
                "msr-cache:port": 1,
                "aws:region": "eu-west-1",
            },
        })
    )  # fmt: skip
    asia = Cache("asia", "asia", Cluster("asia"), {UPSTREAMS: ["cache:central"]})
    config = asia.resolved({"central": "https://c.example.com:30443"}, {"central": "PEM"})
    written = yaml.safe_load(stack_files.write(tmp_path, "asia", config, tmp_path).read_text())
    assert written == {
        "encryptionsalt": "v1:abc",
        "config": {
            "aws:region": "eu-west-1",
            "msr-cache:tlsKey": {"secure": "v1:cipher"},
            UPSTREAMS: ["https://c.example.com:30443"],
            CONTEXT_KEY: "asia",
            CA_KEY: "PEM",
        },
    }


def test_the_docs_worked_example_passes_the_check() -> None:
    text = (ROOT / "docs" / "fleet.md").read_text()
    section = text[text.index("## A worked example") :]
    block = section[section.index("```yaml\n") + len("```yaml\n") : section.index("```\n", 10)]
    checked = check(parse(yaml.safe_load(block), ROOT))
    assert sorted(checked.said) == ["asia", "central", "eu", "us"]
