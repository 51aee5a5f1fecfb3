"""The README's stack files render as they stand: pasted into Pulumi.<stack>.yaml, each passes the
Pulumi CLI's checks (the render's port of them), the program's and the policy pack's."""

from __future__ import annotations

import re

import pytest

from render.__main__ import ROOT, main

STACK_FILES = [
    block
    for block in re.findall(r"^```yaml\n(.*?)^```", (ROOT / "README.md").read_text(), re.M | re.S)
    if block.startswith("config:\n  msr-cache:")
]


def test_the_readme_has_stack_files() -> None:
    assert len(STACK_FILES) >= 2


@pytest.mark.parametrize(
    "text", STACK_FILES, ids=[f"stack-file-{i}" for i in range(len(STACK_FILES))]
)
def test_a_readme_stack_file_renders_as_it_stands(text: str, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    (tmp_path / "Pulumi.readme.yaml").write_text(text)
    code = main(["readme", str(tmp_path / "out"), "--stack-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
