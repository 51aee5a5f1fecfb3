"""The docs a platform team finds its way in: a short README that leads to every page of docs/,
links that resolve (make lint's link checker, shown here to catch what it must), and no figure
typed in by hand where a command produces it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from harness import ROOT, unavailable

README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
CHECKER = Path(sys.executable).parent / "md-dead-link-check"


def prose(path: Path) -> list[str]:
    """The paragraphs of a Markdown file, without code blocks, tables and generated blocks."""
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.M | re.S)
    text = re.sub(r"<!-- (\w+)[^>]*-->.*?<!-- /\1 -->", "", text, flags=re.S)
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return [p for p in paragraphs if p and not p.startswith("|")]


def all_docs() -> list[Path]:
    return [README, ROOT / "CHANGELOG.md", *PAGES]


def test_the_readme_is_a_front_page() -> None:
    assert len(README.read_bytes()) <= 10 * 1024


def test_the_readme_links_to_every_page_of_docs() -> None:
    linked = set(re.findall(r"\]\(docs/([\w.-]+\.md)[)#]", README.read_text()))
    assert linked == {page.name for page in PAGES}


@pytest.mark.parametrize("path", all_docs(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_test_count_in_prose(path: Path) -> None:
    counts = [p for p in prose(path) if re.search(r"\b\d[\d,]*\s+(?:tests|test cases)\b", p)]
    assert counts == []


@pytest.mark.parametrize("path", all_docs(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_timing_says_when_and_on_what_it_was_measured(path: Path) -> None:
    """A figure of how long something took is stated as "measured on <date> on N cores", so a
    reader can tell how old it is and rerun the command beside it."""
    duration = r"\b\d+(?:\.\d+)?\s*(?:s|ms|seconds?|min|minutes?|hours?)\b"
    timing = r"\b(?:took|takes|build times?|relinks?)\b"
    measured = r"measured on \d{4}-\d{2}-\d{2} on \d+ cores"
    unmeasured = [
        p
        for p in prose(path)
        if re.search(duration, p) and re.search(timing, p, re.I) and not re.search(measured, p)
    ]
    assert unmeasured == []


@pytest.mark.parametrize("path", all_docs(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_each_link_is_on_one_line(path: Path) -> None:
    """The link checker reads a line at a time: a link split over two lines would go unchecked."""
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.M | re.S)
    split = re.findall(r"\[[^\]\n]*\n[^\]]*\]\(|\]\s*\n\s*\(", text)
    assert split == []


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with this project's link checker settings."""
    missing = [
        name
        for name, found in (("git", shutil.which("git")), (CHECKER.name, CHECKER.exists()))
        if not found
    ]
    if missing:
        unavailable(
            f"{' and '.join(missing)} missing: install git (sudo apt-get install git) and the dev "
            "virtualenv, which holds md-dead-link-check (make .venv/.installed)"
        )
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["md_dead_link_check"]
    lines = [f"{key} = {str(value).lower()}" for key, value in config.items()]
    (tmp_path / "pyproject.toml").write_text("[tool.md_dead_link_check]\n" + "\n".join(lines))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "deploy.md").write_text("# Deploy\n\n## Exposure modes\n\ntext\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def check_links(repo: Path, readme: str) -> subprocess.CompletedProcess[str]:
    (repo / "README.md").write_text(readme)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    return subprocess.run(
        [str(CHECKER), "--no-color"], cwd=repo, capture_output=True, text=True, timeout=60
    )


def test_the_link_checker_passes_links_that_resolve_without_fetching_the_web(repo: Path) -> None:
    # 192.0.2.1 (TEST-NET-1) never answers: fetched, the link would fail.
    result = check_links(
        repo,
        "# Front\n\n[deploy](docs/deploy.md#exposure-modes), [docs](docs), [up](#front), "
        "[site](https://192.0.2.1/nowhere)\n",
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("link", "error"),
    [
        ("docs/deplyo.md", "Path not found"),
        ("docs/deploy.md#exposure-mode", "Fragment not found"),
        ("#nowhere", "Fragment not found"),
    ],
)
def test_the_link_checker_catches_a_broken_link(repo: Path, link: str, error: str) -> None:
    result = check_links(repo, f"# Front\n\nSee [this]({link}).\n")
    assert result.returncode == 1
    assert link in result.stdout and error in result.stdout
