"""The config reference (make docs): Pulumi.yaml's config block and the README's option tables
are made from the registry, and what they declare is what the Pulumi CLI can take."""

from __future__ import annotations

import yaml
from harness import ROOT

import reference
from components.settings import CONDITIONAL_DEFAULTS, DEFAULTS, OPTIONS

PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def test_the_generated_reference_is_fresh():
    """A registry or docstring edit without `make docs` fails here."""
    stale = [path.name for path, text in reference.made().items() if path.read_text() != text]
    assert stale == [], f"run make docs: {stale} are stale"


def test_only_upstreams_and_plain_keys_with_a_default_are_declared():
    """The CLI passes a declared default as if the user had set it: a conditional default must
    not be declared. The required upstreams has a default of [], which the program takes for not
    set (a declared key without one would stop the CLI first, unable to say what was meant)."""
    declared = PROJECT["config"]
    assert set(declared) == {o.key for o in OPTIONS if o.declared}
    assert declared["upstreams"]["default"] == []
    for key in set(declared) - {"upstreams"}:
        assert declared[key]["default"] == reference.plain(DEFAULTS[key]), key
    assert not set(declared) & CONDITIONAL_DEFAULTS
    for key, declaration in declared.items():
        assert declaration["type"] in {"string", "integer", "boolean", "array"}, key
        assert declaration.get("description"), key


def test_every_undeclared_key_is_described_beside_the_block():
    text = (ROOT / "Pulumi.yaml").read_text()
    comments = [line for line in text.splitlines() if line.startswith("# ")]
    for o in OPTIONS:
        if o.key not in PROJECT["config"]:
            assert any(line.startswith(f"# {o.key} (") for line in comments), o.key


def test_each_table_row_is_an_input():
    text = (ROOT / "README.md").read_text()
    rows = {line.split("`")[1] for line in text.splitlines() if line.startswith("| `")}
    assert {o.key for o in OPTIONS} <= rows


def test_descriptions_spell_keys_as_the_stack_does():
    assert reference.for_stack("with tls_key and ca_cert_pem") == "with tlsKey and caCertPem"
    assert reference.for_stack("REGISTRY_HTTP_SECRET stays") == "REGISTRY_HTTP_SECRET stays"
