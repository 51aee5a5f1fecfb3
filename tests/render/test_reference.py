"""The config reference (make docs): Pulumi.yaml's config block and the option tables of
docs/configuration.md are made from the registry, and what they declare is what the Pulumi CLI
can take."""

from __future__ import annotations

import yaml
from harness import ROOT

import reference
from components.inputs.settings import CONDITIONAL_DEFAULTS, DEFAULTS, OPTIONS

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


def test_each_input_has_a_row_in_the_reference():
    text = reference.REFERENCE.read_text()
    rows = {line.split("`")[1] for line in text.splitlines() if line.startswith("| `")}
    assert {o.key for o in OPTIONS} | set(reference.PROGRAM_KEYS) == rows


def test_a_url_in_a_description_is_code_in_the_table():
    """Bare, a form such as https://host[:port] would be a link to nowhere on the forge (and the
    link checker would read it as one)."""
    assert reference.cell("MSR's https://host[:port], without path") == (
        "MSR's `https://host[:port]`, without path"
    )
    assert reference.cell("a proxy (http://host:port, or host:port).") == (
        "a proxy (`http://host:port`, or host:port)."
    )
    assert reference.cell("s3|azure, `https://x` stays") == "s3\\|azure, `https://x` stays"


def test_descriptions_spell_keys_as_the_stack_does():
    assert reference.for_stack("with tls_key and ca_cert_pem") == "with tlsKey and caCertPem"
    assert reference.for_stack("REGISTRY_HTTP_SECRET stays") == "REGISTRY_HTTP_SECRET stays"
