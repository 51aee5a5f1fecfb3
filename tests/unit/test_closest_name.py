"""components.inputs.closest_name, the one "did you mean": Pulumi's findClosestKey, whose project_test.go
cases (pulumi/pulumi sdk/go/common/workspace, 1b5949891b3cefcb9974752b24a5ecef0acc86c8) come first,
then the rules it keeps; then the two layers that suggest (the render's restatement of the CLI,
the program's unknown keys) giving one typo the same suggestion."""

from __future__ import annotations

import pytest

from components.inputs.closest_name import closest_name, distance

PROJECT_ATTRIBUTES = ["name", "displayName", "runtime", "main", "description", "config"]


@pytest.mark.parametrize(
    ("needle", "names", "expected"),
    [
        # project_test.go
        ("displatName", PROJECT_ATTRIBUTES, "displayName"),
        ("nome", PROJECT_ATTRIBUTES, "name"),
        ("name", ["Name", "runtime"], "Name"),  # lower-cased first: distance 0
        # The rules: at most 2 edits; a tie goes to the first name in sorted order.
        ("tpye", ["type", "items"], "type"),
        ("blobTTL", ["blobTtl", "port"], "blobTtl"),
        ("storagesize", ["storage_size", "storage_class"], "storage_size"),
        ("abc", ["abd", "abe"], "abd"),
        ("abc", ["xyz", "abcdef"], None),
        ("reloadOnCertChange", ["reloadOnCertificateChange"], None),
    ],
)
def test_the_closest_name(needle: str, names: list[str], expected: str | None) -> None:
    assert closest_name(needle, names) == expected


@pytest.mark.parametrize(("a", "b", "d"), [("", "", 0), ("kitten", "sitting", 3), ("ab", "ba", 2)])
def test_distance_counts_single_edits(a: str, b: str, d: int) -> None:
    assert distance(a, b) == distance(b, a) == d
