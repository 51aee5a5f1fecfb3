"""toolchain/tools.toml is the one place that pins the engine layer's tools and the CRDs: the probe
table in docs/toolchain.md reports each pin as the proxy answered it, every version the docs say
the proxy refuses has a row there, the vendored CRD schemas are the pinned releases, and a
release the build cannot find the commit of stops the build, naming the key."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path

import pytest
from harness import ROOT

import toolchain
from toolchain import PinError, build, pins, probe

# The CRDs the render layer vendors (tests/render/crds/vendor.py), by the releases they come from.
SOURCES = runpy.run_path(str(ROOT / "tests" / "render" / "crds" / "vendor.py"))["SOURCES"]

# A version as the docs write it: a release (v1.2.3, or 1.2.3 as the SDKs name theirs) or a
# pseudo-version; not part of an address (10.0.0.1).
VERSION = re.compile(r"(?<![\w.])v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]*[0-9A-Za-z])?(?![\w]|\.\d)")


def table() -> list[tuple[probe.Row, str]]:
    """The rows of the probe table in docs/toolchain.md, the module as the doc writes it, each
    with what the proxy said (yes or no)."""
    block = probe.TABLE.search(probe.DOC.read_text())
    assert block, "docs/toolchain.md has no probe table"
    header, rule, *lines = block[2].strip().splitlines()
    assert header == probe.HEADER and set(rule) <= set("|-")
    rows = []
    for line in lines:
        tool, module, version, why, said, _error = (
            cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]
        )
        rows.append((probe.Row(tool, module, version.strip("`"), why), said))
    return rows


def test_every_pin_and_wanted_version_has_a_row_and_the_table_nothing_else() -> None:
    expected = [row for tool, spec in pins().items() for row in probe.asked(tool, spec)]
    found = [row for row, _ in table()]
    # The staging modules are one row, which names the folder and how many there are (which
    # only the pinned module's go.mod tells).
    for row in expected:
        if row.module == probe.STAGED:
            [match] = [
                r for r in found if (r.tool, r.version, r.why) == (row.tool, row.version, row.why)
            ]
            assert f"`{probe.STAGED}`" in match.module
    plain = [
        row._replace(module=f"`{row.module}`") for row in expected if row.module != probe.STAGED
    ]
    rest = [row for row in found if f"`{probe.STAGED}`" not in row.module]
    missing = sorted(set(plain) - set(rest))
    stale = sorted(set(rest) - set(plain))
    assert not missing, f"no row in docs/toolchain.md (run make toolchain-probe): {missing}"
    assert not stale, f"rows tools.toml no longer asks for (run make toolchain-probe): {stale}"
    assert len(found) == len(set(found)), "a row twice"


def test_every_pinned_version_is_one_the_proxy_served() -> None:
    refused = [row for row, said in table() if row.why.startswith("pinned") and said != "yes"]
    assert not refused, f"pinned, but the table says the proxy refused them: {refused}"


def claims() -> list[tuple[str, str]]:
    """(where, sentence) of each sentence of the docs and of tools.toml's comments that says the
    proxy refuses something: the Markdown outside the probe table, and tools.toml's comment lines."""
    texts = {
        str(path.relative_to(ROOT)): probe.TABLE.sub("", path.read_text())
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    }
    comments = [
        line.split("#", 1)[1] if "#" in line else ""
        for line in (ROOT / "toolchain" / "tools.toml").read_text().splitlines()
    ]
    texts["toolchain/tools.toml"] = "\n".join(c if c.strip() else "" for c in comments)
    found = []
    for where, text in texts.items():
        for paragraph in re.split(r"\n\s*\n", text):
            for sentence in re.split(r"(?<=[.;])\s+", " ".join(paragraph.split())):
                if "refus" in sentence and VERSION.search(sentence):
                    found.append((where, sentence))
    return found


def test_each_version_the_docs_say_is_refused_has_a_row() -> None:
    rows = [row for row, _ in table()]
    versions = {row.version.removeprefix("v") for row in rows}
    # A release asked for by name where the version is not: the row says "release 4.26.0's
    # commit", or "release 5.6.2".
    releases = {m[1] for row in rows for m in [re.search(r"release ([^\s']+)", row.why)] if m}
    assert claims(), "no claim found: the scan reads nothing"
    unproven = [
        (where, token, sentence)
        for where, sentence in claims()
        for token in VERSION.findall(sentence)
        if token.removeprefix("v") not in versions | releases
    ]
    assert not unproven, f"a refusal without a row in the probe table: {unproven}"


def test_the_vendored_crd_schemas_are_the_releases_tools_toml_pins() -> None:
    table = pins()
    vendored = {
        (doc["source"]["repository"], doc["source"]["path"]): doc["source"]["tag"]
        for path in (ROOT / "tests" / "render" / "crds").glob("*.json")
        for doc in [json.loads(path.read_text())]
    }
    for source in SOURCES:
        assert source.tag == table[source.pinned_by]["version"]
        key = (f"https://github.com/{source.repository}", source.path)
        assert vendored.get(key) == source.tag, (
            f"tests/render/crds: {source.path} is vendored at {vendored.get(key)}, tools.toml "
            f"[{source.pinned_by}] pins {source.tag}: rerun tests/render/crds/vendor.py"
        )
    assert len(vendored) == len(SOURCES), "a vendored schema vendor.py does not make"


def test_the_kubernetes_provider_reports_its_release_and_links_that_releases_sdk() -> None:
    spec = pins()["pulumi-kubernetes"]
    [flag] = [build.expand(f, spec) for f in spec["ldflags"]]
    assert flag.endswith(f"version.Version={spec['release']}")
    # Its go.mod's `replace sdk/v4 => ../sdk` stands for the SDK of the same release.
    assert build.expand(spec["replace"][0], spec).endswith(f"/sdk/v4@v{spec['release']}")


def pinning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: tuple[str, str]) -> None:
    """toolchain.PINS pointed at a copy of tools.toml with one edit."""
    text = toolchain.PINS.read_text()
    assert edit[0] in text
    copy = tmp_path / "tools.toml"
    copy.write_text(text.replace(edit[0], edit[1], 1))
    monkeypatch.setattr(toolchain, "PINS", copy)


def test_a_release_whose_commit_tools_toml_lacks_stops_the_build_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    release = pins()["pulumi-kubernetes"]["release"]
    pinning(tmp_path, monkeypatch, (f'release = "{release}"', 'release = "4.99.0"'))
    with pytest.raises(PinError, match=r"\[pulumi-kubernetes\] release = '4.99.0' has no entry"):
        pins()
    assert build.main([]) == 2
    out = capsys.readouterr().out
    assert "[pulumi-kubernetes.commits]" in out and "make toolchain-probe" in out


def test_a_release_placeholder_in_a_table_without_a_release_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pinning(
        tmp_path,
        monkeypatch,
        ('"github.com/rhysd/actionlint.version={version}"', '"x.version={release}"'),
    )
    with pytest.raises(PinError, match=r"\[actionlint\]: \{release\} is used"):
        pins()
