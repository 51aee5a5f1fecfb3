"""`python -m reference` (make docs): the config reference, made from the registry of inputs.

Writes the `config:` block of Pulumi.yaml (the keys the CLI can take as declared, the rest as
comments beside them) and the option tables of docs/configuration.md (between its
`<!-- options: NAME -->` and `<!-- /options -->` markers), from `components.inputs.settings.OPTIONS` and
the docstrings of `MsrCacheArgs` (the descriptions the package schema carries too). `--check`
exits 1, naming the stale files, when either differs from what it would write.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import textwrap
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from components.inputs.plain import is_tuple
from components.inputs.problems import camel_case
from components.inputs.settings import OPTIONS, Option

ROOT = Path(__file__).resolve().parent
ARGS_SOURCE = ROOT / "components" / "msr_cache.py"
# The configuration reference: the page whose option tables `make docs` writes.
REFERENCE = ROOT / "docs" / "configuration.md"
CONFIG_START = "# Every setting of a cache."
TABLES = re.compile(r"(<!-- options: (\w+) -->\n)(.*?)(<!-- /options -->)", re.DOTALL)
# A URL in a description (a form such as https://host[:port]) is code in Markdown: bare, the
# forge would make it a link to nowhere.
URL = re.compile(r"(?<![`\w])(https?://[^\s,;`]*[^\s,;`.)])")
# Keys of the stack program itself, beside the cache's inputs: (stack type, description).
PROGRAM_KEYS: Mapping[str, tuple[str, str]] = {
    "kubeContext": (
        "string",
        "The kubeconfig context to deploy to (default the current context; KUBECONFIG picks "
        "the file). Not with renderYamlToDirectory.",
    ),
    "renderYamlToDirectory": (
        "string",
        "Render the manifests into this folder instead of deploying (pulumi-kubernetes' render "
        "mode: no cluster is contacted; secrets are written in plaintext, keep the folder "
        "private).",
    ),
    "msrApi": (
        "object",
        "{url, username, token, caCert, adopt}: register the cache with MSR (url: MSR's "
        "https://host[:port], without path; an admin's user and access token, the token set with "
        "--secret). `pulumi destroy` deregisters it. MSR's API is trusted through the system's "
        "CAs and caCert (PEM) when given. A registration of the same name MSR already has stops "
        "pulumi up unless adopt is true. Not with renderYamlToDirectory.",
    ),
}


def descriptions(source: Path = ARGS_SOURCE) -> dict[str, str]:
    """MsrCacheArgs' docstrings by Python name, as the schema's analyzer reads them."""
    tree = ast.parse(source.read_text())
    (args,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "MsrCacheArgs"]
    found: dict[str, str] = {}
    for field, doc in zip(args.body, args.body[1:], strict=False):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(doc, ast.Expr)
            and isinstance(doc.value, ast.Constant)
        ):
            found[field.target.id] = str(doc.value.value)
    return found


def for_stack(text: str) -> str:
    """A description with every Python name of an input or output (snake_case) spelled as the
    stack and the schema spell it (camelCase)."""
    return re.sub(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", lambda m: camel_case(m.group()), text)


def plain(value: Any) -> Any:
    """A default as YAML writes it: enums as their values, tuples as lists."""
    if isinstance(value, Enum):
        return value.value
    if is_tuple(value):
        return list(value)
    return value


def default_text(o: Option) -> str:
    """The default as the docs show it."""
    if o.required:
        return "required"
    if o.default is None:
        return o.default_doc or "—"
    default = o.default_doc or yaml.safe_dump(plain(o.default), default_flow_style=True).strip()
    default = default.removesuffix("\n...").strip()
    return f"{default} ({o.only})" if o.only and not o.default_doc else default


def pulumi_yaml(current: str) -> str:
    """Pulumi.yaml with its config block made anew (everything from CONFIG_START on)."""
    head = current[: current.index(CONFIG_START)]
    docs = descriptions()
    declared: dict[str, Any] = {}
    for o in (o for o in OPTIONS if o.declared):
        entry: dict[str, Any] = {"type": o.stack_type}
        if o.stack_type == "array":
            entry["items"] = {"type": "string"}
        if o.default is not None:
            entry["default"] = plain(o.default)
        elif o.required:
            # The program takes [] for not set: the CLI would refuse a stack without a declared
            # key's value before the program runs, in words that cannot say what was meant.
            entry["default"] = []
        entry["description"] = for_stack(docs[o.name])
        declared[o.key] = entry
    block = yaml.safe_dump({"config": declared}, sort_keys=False, width=96)
    lines = [
        CONFIG_START + " Set them per stack in Pulumi.<stack>.yaml, e.g.",
        "#   pulumi config set --path 'upstreams[0]' https://msr.example.com",
        "# Made by `make docs` from components/inputs/settings.py (the registry) and MsrCacheArgs'",
        "# docstrings: edit those. The CLI passes a declared default as if set, so only the plain",
        "# keys whose default always applies are declared, the others described in the comments",
        "# after the block. `upstreams` is required, yet declared with a default of [], which the",
        "# program takes for not set: a declared key without a default stops the CLI before the",
        "# program can say what was meant. A key the program does not know stops `pulumi up`",
        "# naming the closest known key: a typo such as msr-cache:blobTTL, a misspelled namespace",
        "# (msr-cahce:blobTtl), or keys nested Helm-style under msr-cache:.",
        block.rstrip(),
        "# Optional keys, not declared (see above), set the same way:",
    ]
    undeclared = [(o.key, o.stack_type, docs[o.name]) for o in OPTIONS if not o.declared]
    undeclared += [(key, stack_type, text) for key, (stack_type, text) in PROGRAM_KEYS.items()]
    for key, stack_type, doc in undeclared:
        secret = ", secret" if key == "tlsKey" else ", token secret" if key == "msrApi" else ""
        text = f"{key} ({stack_type}{secret}) - {for_stack(doc)}"
        lines += textwrap.wrap(
            text, width=96, initial_indent="# ", subsequent_indent="#   ", break_on_hyphens=False
        )
    return head + "\n".join(lines) + "\n"


def cell(text: str) -> str:
    """Text as a Markdown table cell: its pipes escaped, its URLs as code."""
    return URL.sub(r"`\1`", text.replace("|", "\\|"))


def table(production: bool) -> str:
    """The reference's table of the inputs of one section."""
    docs = descriptions()
    rows = ["| key | default | what it does |", "|---|---|---|"]
    for o in OPTIONS:
        if o.production == production:
            doc, default = (cell(text) for text in (for_stack(docs[o.name]), default_text(o)))
            rows.append(f"| `{o.key}` | {default} | {doc} |")
    if not production:
        for key, (_, text) in PROGRAM_KEYS.items():
            rows.append(f"| `{key}` | — | {cell(text)} |")
    return "\n".join(rows) + "\n"


def tables(current: str) -> str:
    """A page with its option tables made anew."""
    return TABLES.sub(
        lambda m: m.group(1) + table(m.group(2) == "production") + m.group(4), current
    )


def made() -> dict[Path, str]:
    """Each generated file's path and the text it should hold."""
    pulumi_file = ROOT / "Pulumi.yaml"
    return {
        pulumi_file: pulumi_yaml(pulumi_file.read_text()),
        REFERENCE: tables(REFERENCE.read_text()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reference", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    args = parser.parse_args(argv)
    stale = [path for path, text in made().items() if path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run make docs", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(made()[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
