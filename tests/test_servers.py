"""The registry server layer's setup: a missing tool skips where it may, and fails under CI."""

import pytest
from servers import require


def test_a_missing_tool_skips_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"no-such-registry not installed: .*apt-get"):
        require("no-such-registry")


def test_under_ci_a_missing_tool_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no-such-registry not installed"):
        require("no-such-registry")
