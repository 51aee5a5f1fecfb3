"""The toolchain's commands: build what is not built, probe the proxy, print the bin folder."""

from __future__ import annotations

import sys

from toolchain import bin_dir, build, probe

USAGE = "python3 -m toolchain build [tool …] | probe | bin"


def main(argv: list[str]) -> int:
    command, *rest = argv or [""]
    if command == "build":
        return build.main(rest)
    if command == "probe" and not rest:
        return probe.main()
    if command == "bin" and not rest:
        print(bin_dir())
        return 0
    print(f"usage: {USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
