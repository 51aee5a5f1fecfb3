"""checkov over several folders, each scanned on its own, for the price of one start.

    .venv-checkov/bin/python tests/render/checkov_scan.py <checkov argument>... -- <folder>...

prints {folder: checkov's JSON report of `checkov <argument>... -d <folder> -o json --quiet`}.

Starting checkov costs seconds (it imports every framework's runner), scanning a stack's
manifests a fraction of one: the imports are done once here, then each folder is scanned by a
process forked from this one, as a `checkov` command of its own would scan it. So no folder's
objects meet another's in checkov's graph (a NetworkPolicy of one stack never covers the pods of
another), and no state of one scan outlives it. Scans run as many at a time as there are cores.

Runs under checkov's own virtualenv (see requirements-checkov.txt), not the project's.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=SyntaxWarning)  # as checkov's own script does
    from checkov.main import Checkov


def scan(arguments: list[str], folder: str, out: str) -> int:
    """Fork a process that runs `checkov <arguments> -d <folder> -o json --quiet`, its stdout and
    stderr in `out` and `out`.err; returns its pid."""
    pid = os.fork()
    if pid:
        return pid
    status = 70  # EX_SOFTWARE, should anything escape
    try:
        with open(out, "w") as stdout, open(f"{out}.err", "w") as stderr:
            os.dup2(stdout.fileno(), 1)
            os.dup2(stderr.fileno(), 2)
            argv = [*arguments, "-d", folder, "--output", "json", "--quiet"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=SyntaxWarning)
                status = Checkov(argv=argv).run() or 0
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException as err:
        print(f"checkov on {folder}: {err!r}", file=sys.__stderr__)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def main(argv: list[str]) -> int:
    split = argv.index("--")
    arguments, folders = argv[:split], argv[split + 1 :]
    reports: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        outs = {folder: os.path.join(tmp, f"{i}.json") for i, folder in enumerate(folders)}
        waiting, running = list(folders), {}
        while waiting or running:
            while waiting and len(running) < (os.cpu_count() or 1):
                folder = waiting.pop(0)
                running[scan(arguments, folder, outs[folder])] = folder
            pid, _ = os.wait()
            running.pop(pid, None)
        for folder, out in outs.items():
            with open(out) as stdout, open(f"{out}.err") as stderr:
                text, errors = stdout.read(), stderr.read()
            try:
                reports[folder] = json.loads(text)
            except ValueError:
                reports[folder] = {"error": f"no report from checkov:\n{text}\n{errors}"}
    json.dump(reports, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
