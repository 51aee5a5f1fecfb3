"""The cache's pod on disk, as the kubelet would lay it out from the component's objects.

Each of the Deployment's volumes becomes a directory under a root: a Secret or ConfigMap as one
file per key (or per listed item) with the volume's modes, a projected volume as the files of
its sources, a claim as a directory the caller shares between replicas, an emptyDir as an empty
one. Env values are resolved as the kubelet resolves them (`secretKeyRef` from the Secret).
config.yaml is then rewritten for a server on this machine: mount paths become the directories,
listen addresses 127.0.0.1 and free ports; nothing else changes (tests/registry/test_registry_server.py
checks that).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from harness import CONFIG_MAP, DEPLOYMENT, SECRET, Deployment

from components.objects import registry_config as rc


@dataclasses.dataclass
class Pod:
    """One replica of the cache, laid out under `root`."""

    root: Path
    mounts: dict[str, Path]  # mountPath -> the directory standing in for it
    env: dict[str, str]
    config: dict[str, Any]  # config.yaml as the ConfigMap holds it
    # Where http.addr now listens (127.0.0.1), and http.debug.addr if config.yaml has one: a
    # Registry that finds one taken by the time it binds moves the pod to others.
    port: int
    metrics_port: int | None

    def path(self, in_container: str) -> Path:
        """The file on this machine behind a path in the container."""
        for mount, folder in sorted(self.mounts.items(), key=lambda m: -len(m[0])):
            if in_container == mount or in_container.startswith(mount + "/"):
                return folder / in_container[len(mount) :].lstrip("/")
        raise KeyError(f"{in_container} is on no volume")

    def rewritten(self) -> dict[str, Any]:
        """config.yaml with only mount paths and listen addresses changed."""
        config = _paths_replaced(copy.deepcopy(self.config), self)
        config["http"]["addr"] = f"127.0.0.1:{self.port}"
        if self.metrics_port is not None:
            config["http"]["debug"]["addr"] = f"127.0.0.1:{self.metrics_port}"
        return config


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 now. Only now: another process (another test
    worker) may bind it before the server it is meant for does, so a server started on it goes
    through `servers.on_free_ports` or `Registry`, which pick again when that happens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lay_out(d: Deployment, root: Path, claims: Mapping[str, Path] | None = None) -> Pod:
    """The pod of `d`'s Deployment under `root`; `claims` maps claim names to shared folders."""
    pod = d.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts: dict[str, Path] = {}
    for mount in container["volumeMounts"]:
        folder = root / "volumes" / mount["name"]
        _fill(d, volumes[mount["name"]], folder, claims or {})
        mounts[mount["mountPath"]] = folder
    env = {e["name"]: _env_value(d, e) for e in container["env"]}
    config = yaml.safe_load(_data(_object(d, CONFIG_MAP, _config_map_name(pod)))[rc.CONFIG_FILE])
    metrics = free_port() if "debug" in config["http"] else None
    return Pod(root, mounts, env, config, free_port(), metrics)


def _config_map_name(pod: Mapping[str, Any]) -> str:
    return next(v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v)


def _object(d: Deployment, typ: str, name: str) -> dict[str, Any]:
    """The object of a type the program registered under that (possibly generated) name."""
    found = [r.outputs for r in d.all(typ) if r.outputs["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} objects of type {typ} named {name}"
    return found[0]


def _data(obj: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's or ConfigMap's keys and values, as the kubelet writes them to files."""
    if obj["kind"] == "ConfigMap":
        return dict(obj.get("data", {}))
    # The API server merges stringData over the base64 data.
    decoded = {k: base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()}
    return {**decoded, **obj.get("stringData", {})}


def _write(folder: Path, data: Mapping[str, str], items: Any, mode: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    chosen = items or [{"key": k, "path": k} for k in data]
    for item in chosen:
        file = folder / item["path"]
        file.write_text(data[item["key"]])
        file.chmod(item.get("mode", mode))


def _fill(
    d: Deployment, volume: Mapping[str, Any], folder: Path, claims: Mapping[str, Path]
) -> None:
    if "secret" in volume:
        source = volume["secret"]
        data = _data(_object(d, SECRET, source["secretName"]))
        _write(folder, data, source.get("items"), source.get("defaultMode", 0o644))
    elif "configMap" in volume:
        source = volume["configMap"]
        data = _data(_object(d, CONFIG_MAP, source["name"]))
        _write(folder, data, source.get("items"), source.get("defaultMode", 0o644))
    elif "projected" in volume:
        mode = volume["projected"].get("defaultMode", 0o644)
        for source in volume["projected"]["sources"]:
            kind, typ = ("secret", SECRET) if "secret" in source else ("configMap", CONFIG_MAP)
            data = _data(_object(d, typ, source[kind]["name"]))
            _write(folder, data, source[kind].get("items"), mode)
    elif "persistentVolumeClaim" in volume:
        claim = claims[volume["persistentVolumeClaim"]["claimName"]]
        claim.mkdir(parents=True, exist_ok=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.symlink_to(claim)
    elif "emptyDir" in volume:
        folder.mkdir(parents=True)
    else:
        raise AssertionError(f"no stand-in for volume {volume}")


def _env_value(d: Deployment, var: Mapping[str, Any]) -> str:
    if "value" in var:
        return var["value"]
    ref = var["valueFrom"]["secretKeyRef"]
    return _data(_object(d, SECRET, ref["name"]))[ref["key"]]


def _paths_replaced(value: Any, pod: Pod) -> Any:
    if isinstance(value, dict):
        return {k: _paths_replaced(v, pod) for k, v in value.items()}
    if isinstance(value, list):
        return [_paths_replaced(v, pod) for v in value]
    if isinstance(value, str) and value.startswith("/"):
        try:
            return str(pod.path(value))
        except KeyError:
            return value
    return value


def without_downstream(config: Mapping[str, Any], remote: str | None = None) -> dict[str, Any]:
    """config.yaml for the stock server: MSR's `downstream` middleware removed (distribution 2.8
    panics on a middleware it does not know), and, given `remote`, distribution's own
    pull-through (`proxy.remoteurl`) standing in for it."""
    changed = copy.deepcopy(dict(config))
    kept = [m for m in changed["middleware"]["registry"] if m["name"] != "downstream"]
    if kept:
        changed["middleware"]["registry"] = kept
    else:
        del changed["middleware"]
    if remote is not None:
        changed["proxy"] = {"remoteurl": remote}
    return changed


def downstream(config: Mapping[str, Any]) -> dict[str, Any]:
    """The options of config.yaml's `downstream` middleware."""
    return next(m for m in config["middleware"]["registry"] if m["name"] == "downstream")["options"]


def stored(pod: Pod, blob: str, timeout: float = 10.0) -> Path:
    """The blob's file under config.yaml's rootdirectory, once the pull-through has stored it
    (it stores in the background while it streams to the client); it may not exist yet when
    `timeout` runs out."""
    hexdigest = blob.removeprefix("sha256:")
    root = pod.path(pod.config["storage"]["filesystem"]["rootdirectory"])
    data = root / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"
    deadline = time.monotonic() + timeout
    while not data.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return data
