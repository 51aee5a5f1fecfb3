"""The docs' stack files render as they stand: each complete Pulumi.<stack>.yaml in the README and
in docs/, pasted into a stack file, passes the Pulumi CLI's checks (the render's port of them),
the program's and the policy pack's."""

from __future__ import annotations

import re

import pytest

from render.__main__ import ROOT, main

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
STACK_FILES = [
    (page.relative_to(ROOT).as_posix(), block)
    for page in PAGES
    for block in re.findall(r"^```yaml\n(.*?)^```", page.read_text(), re.M | re.S)
    if block.startswith("config:\n  msr-cache:")
]


def test_the_readme_and_the_deploy_page_have_stack_files() -> None:
    pages = [page for page, _ in STACK_FILES]
    assert pages.count("README.md") >= 1 and pages.count("docs/deploy.md") >= 2


@pytest.mark.parametrize(
    "text",
    [block for _, block in STACK_FILES],
    ids=[f"{page}-{i}" for i, (page, _) in enumerate(STACK_FILES)],
)
def test_a_stack_file_of_the_docs_renders_as_it_stands(
    text: str, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    (tmp_path / "Pulumi.readme.yaml").write_text(text)
    code = main(["readme", str(tmp_path / "out"), "--stack-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
