"""The known name a mistyped one most likely meant: the one "did you mean" of every layer.

The Pulumi CLI suggests a name for a mistyped Pulumi.yaml attribute with findClosestKey
(pulumi/pulumi sdk/go/common/workspace/project.go at commit
1b5949891b3cefcb9974752b24a5ecef0acc86c8): the Levenshtein distance (insertions, deletions and
substitutions costing 1, as github.com/texttheater/golang-levenshtein's DefaultOptionsWithSub)
between the lower-cased names, at most 2, the first such name in sorted order winning a tie. The
render restates the CLI's messages, so it must suggest what the CLI suggests; the program's own
checks (a misspelled config key, a misspelled project namespace) use the same rule, so one typo
gets one suggestion whichever layer reports it. Ported in our own words; pure Python.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MAX_DISTANCE", "closest_name", "distance"]

MAX_DISTANCE = 2
"""project.go maxValidationAttributeDistance: farther names are not suggested."""


def distance(a: str, b: str) -> int:
    """The Levenshtein distance between `a` and `b`, each edit costing 1."""
    row = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, char_b in enumerate(b, 1):
            diagonal, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, diagonal + (char_a != char_b)),
            )
    return row[-1]


def closest_name(needle: str, names: Iterable[str], max_distance: int = MAX_DISTANCE) -> str | None:
    """The name of `names` nearest to `needle`, ignoring case, within `max_distance`; of several
    as near, the first in sorted order; None when none is that near."""
    best, best_distance = None, max_distance + 1
    for name in sorted(names):
        d = distance(needle.lower(), name.lower())
        if d == 0:
            return name
        if d < best_distance:
            best, best_distance = name, d
    return best
