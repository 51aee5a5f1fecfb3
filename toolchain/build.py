"""Build each pinned tool from a wrapper module of ours, once: a stamp records what was built.

A tool is rebuilt only when its pin, its main package of ours, or the Go version changes; Go's
build cache makes a rebuild after a small change cost little more than linking.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from toolchain import HERE, PinError, bin_dir, cache_dir, pins, share_dir

# Only the Go on this machine: a module that wants a newer one fails, saying so, instead of
# fetching another toolchain.
GO_ENV = {"GOTOOLCHAIN": "local"}
CHECK_TIMEOUT = 60


class BuildError(Exception):
    """A go command failed; the message is its own output."""


def go(*args: str, cwd: Path | None = None) -> str:
    """Run the go command; its stdout, or BuildError with what it printed."""
    done = subprocess.run(
        ["go", *args], cwd=cwd, env={**os.environ, **GO_ENV}, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BuildError(f"go {' '.join(args)}\n{done.stderr.strip()}")
    return done.stdout


def download(module_at_version: str) -> dict[str, Any]:
    """`go mod download -json` of one module@version, outside any module; its Dir and GoMod."""
    with tempfile.TemporaryDirectory() as empty:
        done = subprocess.run(
            ["go", "mod", "download", "-json", module_at_version],
            cwd=empty, env={**os.environ, **GO_ENV}, capture_output=True, text=True,
        )  # fmt: skip
    info: dict[str, Any] = json.loads(done.stdout) if done.stdout.strip() else {}
    if done.returncode != 0 or "Error" in info:
        raise BuildError(info.get("Error") or done.stderr.strip())
    return info


def go_version() -> str:
    """The go command's own version (go1.26.8)."""
    return go("env", "GOVERSION").strip()


def expand(text: str, spec: dict[str, Any]) -> str:
    """A tools.toml value with {version} set to the tool's pin and {release} to its `release`
    (the release of the Python SDK it serves)."""
    return text.replace("{version}", spec["version"]).replace("{release}", spec.get("release", ""))


def edits(spec: dict[str, Any], gomod: Path) -> list[str]:
    """The `go mod edit` flags of a tool's wrapper module: what it requires and replaces, and
    the tools it builds. A dependency's replace directives are ignored, so the wrapper repeats
    the ones that point at other modules; those that point inside the tool's repository
    (./staging/…) are replaced with the release named by `staging`."""
    flags = [f"-require={spec['module']}@{spec['version']}"]
    flags += [f"-require={expand(r, spec)}" for r in spec.get("requires", [])]
    flags += [f"-replace={expand(r, spec)}" for r in spec.get("replace", [])]
    upstream: dict[str, Any] = json.loads(go("mod", "edit", "-json", str(gomod)))
    replaces: list[dict[str, Any]] = upstream.get("Replace") or []
    for replace in replaces:
        old: str = replace["Old"]["Path"]
        new: dict[str, str] = replace["New"]
        if new.get("Version"):
            flags.append(f"-replace={old}={new['Path']}@{new['Version']}")
        elif new["Path"].startswith("./staging/") and "staging" in spec:
            flags.append(f"-replace={old}={old}@{spec['staging']}")
    flags += [f"-tool={p}" for p in spec["binaries"].values() if not p.startswith("./")]
    return flags


# What a tool's table says that does not change what is built (`commits` only gives `version`,
# which is part of the stamp).
NOT_BUILT = ("check", "wanted", "candidates", "commits")


def stamp_key(spec: dict[str, Any]) -> str:
    """What a build depends on besides Go's caches: the pin and how it is built, our main
    package, the Go version."""
    built = {k: v for k, v in spec.items() if k not in NOT_BUILT}
    ours = ""
    if "main" in spec:
        files = sorted((HERE / spec["main"]).rglob("*"))
        ours = "".join(f"{f.relative_to(HERE)}\n{f.read_text()}" for f in files if f.is_file())
    text = json.dumps([built, ours, go_version()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def stamp_path(tool: str) -> Path:
    return cache_dir() / "stamps" / f"{tool}.json"


def built(tool: str, spec: dict[str, Any]) -> dict[str, Any] | None:
    """The stamp of a build that is still current, or None."""
    path = stamp_path(tool)
    if not path.exists():
        return None
    stamp = json.loads(path.read_text())
    present = all((bin_dir() / name).exists() for name in outputs(spec)) and all(
        (share_dir(tool) / Path(path).name).exists() for path in spec.get("share", [])
    )
    return stamp if stamp.get("key") == stamp_key(spec) and present else None


def outputs(spec: dict[str, Any]) -> list[str]:
    """The files a tool puts in bin/: its binaries and the scripts it copies."""
    return [*spec.get("binaries", {}), *(Path(f).name for f in spec.get("files", []))]


def wrapper(tool: str, spec: dict[str, Any]) -> Path:
    """The tool's wrapper module, made anew in the cache, tidied (which downloads its graph)."""
    info = download(f"{spec['module']}@{spec['version']}")
    src = cache_dir() / "src" / tool
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    upstream_go = json.loads(go("mod", "edit", "-json", info["GoMod"]))["Go"]
    (src / "go.mod").write_text(f"module msr-cache.local/toolchain/{tool}\n\ngo {upstream_go}\n")
    go("mod", "edit", *edits(spec, Path(info["GoMod"])), cwd=src)
    if "main" in spec:
        shutil.copytree(HERE / spec["main"], src / spec["main"])
    go("mod", "tidy", cwd=src)
    # Only a provider's main embeds a schema; another (cert-manager's controller) has none to make.
    if "schema" in spec or "generate" in spec:
        _embedded_files(spec, src / spec["main"], Path(info["Dir"]))
    return src


def _embedded_files(spec: dict[str, Any], main: Path, module: Path) -> None:
    """What our main package embeds: the Pulumi schema, taken from the module (`schema`) or
    made by a generator of ours (`generate`, which also writes bridge-metadata.json), with the
    version set, as the tool's own build does. The generator gets the binary's ldflags: the
    bridge records the provider's major version in the metadata it writes."""
    schema = main / "schema.json"
    if "schema" in spec:
        shutil.copyfile(module / spec["schema"], schema)
    if "generate" in spec:
        log(f"  go run ./{spec['main']}/{spec['generate']} schema")
        go("run", "-ldflags", " ".join(_ldflags(spec)), f"./{spec['main']}/{spec['generate']}",
           "schema", "--out", f"./{spec['main']}", cwd=main.parent)  # fmt: skip
    versioned = json.loads(schema.read_text())
    versioned["version"] = _ldflag_version(spec) or spec["version"].lstrip("v")
    (main / "schema-embed.json").write_text(json.dumps(versioned))


def _ldflag_version(spec: dict[str, Any]) -> str | None:
    """The version a tool's ldflags give it (…/version.Version=4.25.0), if they do."""
    for flag in spec.get("ldflags", []):
        name, _, value = flag.partition("=")
        if name.endswith(".Version"):
            return expand(value, spec).lstrip("v")
    return None


def build(tool: str, spec: dict[str, Any]) -> float:
    """Build one tool into bin/ and copy its files; the seconds it took."""
    started = time.monotonic()
    out = cache_dir() / "src" / tool / "out"
    if spec.get("binaries"):
        src = wrapper(tool, spec)
        ldflags = ["-s", "-w", *_ldflags(spec)]
        for name, package in spec["binaries"].items():
            log(f"  go build {package}")
            go("build", "-trimpath", "-pgo=off", "-ldflags", " ".join(ldflags),
               "-o", str(out / name), package, cwd=src)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    for file in spec.get("files", []):
        module_at_version, path = _split_file(expand(file, spec))
        source = Path(download(module_at_version)["Dir"]) / path
        shutil.copyfile(source, out / source.name)
        (out / source.name).chmod(0o755)
    share = share_dir(tool)
    shutil.rmtree(share, ignore_errors=True)
    if spec.get("share"):
        share.mkdir(parents=True)
        root = Path(download(f"{spec['module']}@{spec['version']}")["Dir"])
        for path in spec["share"]:
            shutil.copyfile(root / path, share / Path(path).name)
    bin_dir().mkdir(parents=True, exist_ok=True)
    for name in outputs(spec):
        (out / name).replace(bin_dir() / name)
    return time.monotonic() - started


# {file:PATH} in an ldflag: a file of the tool's module.
FILE = re.compile(r"\{file:([^}]+)\}")


def _ldflags(spec: dict[str, Any]) -> list[str]:
    """The -X settings of a tool's ldflags; {file:PATH} is the text of that file of `module` at
    the pin (Prometheus' VERSION, the release its own build stamps)."""
    flags = [expand(f, spec) for f in spec.get("ldflags", [])]
    if any(FILE.search(f) for f in flags):
        root = Path(download(f"{spec['module']}@{spec['version']}")["Dir"])
        flags = [FILE.sub(lambda m: (root / m[1]).read_text().strip(), f) for f in flags]
    return [f"-X {f}" for f in flags]


def _split_file(text: str) -> tuple[str, str]:
    """'module@version/path/in/module' → ('module@version', 'path/in/module')."""
    at = text.index("@")
    slash = text.index("/", at)
    return text[:slash], text[slash + 1 :]


def check(name: str, spec: dict[str, Any]) -> str:
    """What a built binary says of itself: its version, or the port a plugin serves on."""
    binary = bin_dir() / name
    how: object = spec.get("check", [])
    if isinstance(how, dict):
        how = cast(dict[str, object], how)[name]
    if how == "plugin":
        return _plugin_port(binary)
    args = [str(a) for a in cast(list[object], how)]
    done = subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=CHECK_TIMEOUT
    )
    if done.returncode != 0:
        raise BuildError(f"{name} {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return (done.stdout or done.stderr).strip().splitlines()[0]


def _plugin_port(binary: Path) -> str:
    """Start a Pulumi plugin as the engine does and read the port it prints first, waiting at
    most CHECK_TIMEOUT seconds for it: a plugin that hangs before serving fails the check."""
    plugin = subprocess.Popen(
        [str(binary)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = ""
        if plugin.stdout and select.select([plugin.stdout], [], [], CHECK_TIMEOUT)[0]:
            line = plugin.stdout.readline().strip()
    finally:
        plugin.kill()
        _, err = plugin.communicate()
    if not line.isdigit():
        raise BuildError(f"{binary.name} printed no port within {CHECK_TIMEOUT} s:\n{line}\n{err}")
    return f"serves gRPC (port {line})"


def log(text: str) -> None:
    print(text, flush=True)


def main(only: list[str]) -> int:
    """Build what is not built yet; print each binary's build time and what it says it is."""
    try:
        table = pins()
    except PinError as e:
        log(f"tools.toml: {e}")
        return 2
    unknown = sorted(set(only) - set(table))
    if unknown:
        log(f"unknown tool(s) {', '.join(unknown)}: tools.toml has {', '.join(table)}")
        return 2
    log(f"toolchain in {cache_dir()} ({go_version()})")
    failed = False
    for tool, spec in table.items():
        if only and tool not in only:
            continue
        stamp = built(tool, spec)
        try:
            if stamp is None:
                log(f"{tool} {spec['version']}: building")
                seconds = build(tool, spec)
                stamp = {"key": stamp_key(spec), "seconds": round(seconds),
                         "built": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
                stamp_path(tool).parent.mkdir(parents=True, exist_ok=True)
                stamp_path(tool).write_text(json.dumps(stamp, indent=1))
            log(f"{tool} {spec['version']}: built {stamp['built']} in {stamp['seconds']} s")
            for name in spec.get("binaries", {}):
                log(f"  {name}: {check(name, spec)}")
        except (BuildError, subprocess.TimeoutExpired) as e:
            log(f"{tool} {spec['version']}: FAILED\n{e}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
