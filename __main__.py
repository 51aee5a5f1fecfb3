"""The stack program: one MSR content cache per stack, configured in Pulumi.<stack>.yaml.

It reads the `msr-cache:*` config keys, checks them all, picks the Kubernetes provider (render to
a folder, or a kubeconfig context), makes the MsrCache and exports what users need from it.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import config as runtime_config

from components import MsrCache, MsrCacheArgs, registration
from components.inputs import problems, rules
from components.inputs.closest_name import closest_name
from components.inputs.plain import is_mapping
from components.inputs.problems import (
    MISSING,
    PROJECT,
    Caller,
    ConfigError,
    Misplaced,
    Problem,
    shape,
    shown_key,
    url_shape,
)
from components.inputs.settings import CONFIG_KEYS, STRUCTURED, Settings, parse
from components.registration import MsrRegistration

# Keys of the stack program itself, beside the cache's inputs.
PROGRAM_KEYS = ("kubeContext", "renderYamlToDirectory", "msrApi")
KNOWN_KEYS = (*CONFIG_KEYS.values(), *PROGRAM_KEYS)
"""Every key the stack program reads: the cache's inputs and its own."""
# msrApi's fields, as MsrRegistration's props.
MSR_API = {"url": "apiUrl", "username": "username", "token": "token", "caCert": "caCertPem",
           "adopt": "adopt"}  # fmt: skip
MSR_API_OBJECT = "an object {url, username, token, caCert (optional), adopt (optional)}"


def stack_config() -> dict[str, str]:
    """Every key the stack sets, of any namespace, as text (the CLI passes undeclared ones too)."""
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def configured_keys() -> set[str]:
    """Every `msr-cache:*` key the stack sets, known or not."""
    return {k.split(":", 1)[1] for k in stack_config() if k.startswith(f"{PROJECT}:")}


def misplaced(every: Mapping[str, str], known: Sequence[str]) -> list[Misplaced]:
    """Keys the program never reads that were meant as its own: `msr-cahce:storageSize` (a
    misspelled namespace, which the CLI hands over as another project's config), and keys
    nested Helm-style under `msr-cache:` (which the CLI reads as one key, `msr-cache:msr-cache`)."""
    found: list[Misplaced] = []
    for full in sorted(every):
        namespace, _, key = full.partition(":")
        if namespace != PROJECT and closest_name(namespace, [PROJECT]) is not None:
            meant = closest_name(key, known) or key
            found.append(
                Misplaced(
                    full,
                    f"namespace {namespace} is not this project's ({PROJECT}), so the program "
                    "never reads it",
                    f"did you mean {PROJECT}:{meant}?",
                )
            )
        elif namespace == PROJECT and key == PROJECT:
            try:
                nested = json.loads(every[full])
            except json.JSONDecodeError:
                continue
            if not is_mapping(nested):
                continue
            names = [shown_key(k) for k in nested]
            listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            example = ", ".join(f"{PROJECT}:{n}" for n in names[:3])
            found.append(
                Misplaced(
                    full,
                    f"keys ({listed}) nested under {PROJECT}: as in a Helm values file, which "
                    f"the CLI reads as one key named {PROJECT}",
                    f"write each at the top of config:, namespaced: {example}",
                )
            )
    return found


def is_secret(key: str) -> bool:
    """Whether the stack stores `key` encrypted (the CLI lists such keys in the environment; a
    program run in-process, as the render does, gets them from set_all_config)."""
    full = f"{PROJECT}:{key}"
    return (
        runtime_config.is_config_secret(full) or full in runtime_config.get_config_secret_keys_env()
    )


# The keys whose encrypted values (`pulumi config set --secret`) the program keeps out of all it
# shows in the clear (the state, a preview's diff, the objects the API server holds, a message):
# tlsKey goes to the cache's Secret as a secret, encrypted or not; tlsCert, tlsCaCert and
# upstreamCaCert are sent to the component as secrets, so the Secret and the outputs made from
# them (caCertPem, certSans, the expiries) are secret; every value of extraEnv goes to the env
# Secret, reaching the container through valueFrom.secretKeyRef; objectStorage's credentials go
# to the storage Secret, and msrApi's token is sent as a secret. The CLI says which keys hold an
# encrypted value, not where inside one (an object with one encrypted field is listed whole:
# pulumi/pulumi sdk/go/common/resource/config, Map.SecureKeys and object.Secure), so the choice
# is per key: the other fields of objectStorage (config.yaml) and msrApi (the registration's
# inputs) are not secrets. Any other key, encrypted, is refused: it goes where it is read in the
# clear (config.yaml, the Deployment, a Service, labels, the provider's inputs).
KEPT_SECRET = ("tlsKey", "tlsCert", "tlsCaCert", "upstreamCaCert", "extraEnv", "objectStorage",
               "msrApi")  # fmt: skip
SENT_AS_SECRETS = ("tlsCert", "tlsCaCert", "upstreamCaCert")
"""The keys sent as secret Outputs when encrypted (tlsKey is not: the component keeps the key
secret itself, and a secret tlsKey would make the certificate it pairs with secret too)."""


def encrypted_problems() -> list[Problem]:
    """The keys the stack stores encrypted that the program would show in the clear."""
    kept = ", ".join(k for k in KEPT_SECRET if k not in ("objectStorage", "msrApi"))
    accepted = (
        "a value set without --secret: the program writes this key where it is read in the "
        f"clear (config.yaml, the Deployment, a Service, the state); only {kept}, "
        "objectStorage's credentials and msrApi's token are kept secret"
    )
    return [
        Problem(key, problems.HIDDEN, accepted)
        for key in sorted(configured_keys())
        if key in KNOWN_KEYS and key not in KEPT_SECRET and is_secret(key)
    ]


def kept_secret(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The cache's inputs from the stack's checked values, each encrypted one kept secret as
    KEPT_SECRET says: a certificate as a secret Output, every value of extraEnv as one (which
    the component puts in a Secret)."""
    inputs = dict(raw)
    for key in SENT_AS_SECRETS:
        if key in inputs and is_secret(key):
            inputs[key] = pulumi.Output.secret(inputs[key])
    if "extraEnv" in inputs and is_secret("extraEnv"):
        env: Mapping[str, str] = inputs["extraEnv"]
        inputs["extraEnv"] = {name: pulumi.Output.secret(value) for name, value in env.items()}
    return inputs


def cache_config(config: pulumi.Config) -> dict[str, Any]:
    """The cache's keys as set in the stack, decoded; unset keys are left out."""
    raw: dict[str, Any] = {}
    for key in CONFIG_KEYS.values():
        text = config.get(key)
        if text is None or (key == "upstreams" and text == "[]"):
            # Pulumi.yaml declares upstreams with a default of [], so that the CLI hands the
            # program a stack without it, which then says what was meant (reference.py).
            continue
        try:
            raw[key] = json.loads(text) if key in STRUCTURED else text
        except json.JSONDecodeError:
            raw[key] = text  # reported by `parse` as the wrong type, naming the key
    return raw


def checked(config: pulumi.Config) -> tuple[dict[str, Any], Settings]:
    """The cache's inputs as set and as parsed, after every key of the stack was checked;
    raises one ConfigError listing every problem: unknown keys (typos), invalid values and
    conflicts."""
    raw = cache_config(config)
    if config.get("renderYamlToDirectory"):
        # A render reaches no cluster: the component reads nothing from it, whatever readCluster
        # says (Pulumi.yaml's default hands every stack true).
        raw["readCluster"] = False
    every = stack_config()
    nested = [m for m in misplaced(every, KNOWN_KEYS) if m.key == f"{PROJECT}:{PROJECT}"]
    found: list[Any] = [
        *misplaced(every, KNOWN_KEYS),
        *problems.unknown_keys(configured_keys() - ({PROJECT} if nested else set()), KNOWN_KEYS),
        *rules.check_resource_name(pulumi.get_stack(), "stack name"),
    ]
    settings = None
    try:
        settings = parse(raw)
    except ConfigError as err:
        # A value the stack stores encrypted is never shown, whatever it holds.
        found += [
            Problem(p.key, problems.HIDDEN, p.accepted)
            if isinstance(p, Problem) and is_secret(p.key)
            else p
            for p in err.problems
        ]
    found += encrypted_problems()
    if config.get("renderYamlToDirectory") and config.get("kubeContext"):
        found.append(
            Problem(
                "kubeContext",
                problems.HIDDEN if is_secret("kubeContext") else config.get("kubeContext"),
                "no kubeContext with renderYamlToDirectory: a render reaches no cluster",
            )
        )
    found += msr_api_problems(config)
    if found or settings is None:
        raise ConfigError(found)
    return raw, settings


def msr_api_problems(config: pulumi.Config) -> list[Problem]:
    """What is wrong with msrApi, {url, username, token, caCert, adopt}, the token stored
    encrypted. No value under msrApi is shown, whatever its shape: only what it is."""
    text = config.get("msrApi")
    if text is None:
        return []
    try:
        api = json.loads(text)
    except json.JSONDecodeError:
        api = text
    found: list[Problem] = []
    if config.get("renderYamlToDirectory"):
        found.append(
            Problem(
                "msrApi",
                shape(api),
                "no msrApi with renderYamlToDirectory: a render deploys no cache, so there is "
                "none for MSR to list (register it from a stack that deploys, with kubeContext)",
            )
        )
    if not is_mapping(api):
        return [*found, Problem("msrApi", shape(api), MSR_API_OBJECT)]
    try:
        registration.normalised_url(api.get("url"))
    except ValueError:
        url = api.get("url")
        shown = MISSING if url is None else url_shape(url)
        found.append(Problem("msrApi.url", shown, registration.API_URL_ACCEPTED))
    for field in ("username", "token"):
        if not isinstance(api.get(field), str) or not api[field]:
            shown = MISSING if api.get(field) is None else shape(api[field])
            found.append(Problem(f"msrApi.{field}", shown, "a non-empty string"))
    if api.get("caCert") is not None:
        try:
            registration.check_ca_cert(api["caCert"])
        except ValueError as err:
            found.append(Problem("msrApi.caCert", shape(api["caCert"]), str(err)))
    if api.get("adopt") not in (None, True, False):
        found.append(Problem("msrApi.adopt", shape(api["adopt"]), "true or false"))
    found += [
        Problem(f"msrApi.{shown_key(k)}", shape(api[k]), f"no other field: {MSR_API_OBJECT}")
        for k in sorted(set(api) - set(MSR_API), key=str)
    ]
    if isinstance(api.get("token"), str) and api["token"] and not is_secret("msrApi"):
        found.append(
            Problem("msrApi.token", shape(api["token"]),
                    "a secret: pulumi config set --secret --path msrApi.token <token>")
        )  # fmt: skip
    return found


def register(config: pulumi.Config, cache: MsrCache) -> None:
    """With msrApi, the cache registered with MSR (and deregistered by `pulumi destroy`)."""
    if config.get("msrApi") is None:
        return
    api = config.require_object("msrApi")
    named = cache.registration.apply(json.loads)  # {"name", "host"}
    made = MsrRegistration(
        "registration",
        {
            "api_url": api["url"],
            "username": api["username"],
            "token": pulumi.Output.secret(api["token"]),
            "name": named.apply(lambda r: str(r["name"])),
            "host": named.apply(lambda r: str(r["host"])),
            # MSR's API has a trust of its own: upstreamCaCert is the next hop's CA (for a
            # chained cache, the central cache's), not necessarily MSR's.
            "ca_cert_pem": api.get("caCert"),
            "adopt": api.get("adopt"),
        },
        opts=pulumi.ResourceOptions(depends_on=[cache]),
    )
    pulumi.export("msrRegistrationId", made.id)


def provider(config: pulumi.Config) -> k8s.Provider:
    """Render manifests into a folder, or deploy through a kubeconfig context. The provider
    locked (pulumi-kubernetes 4.25, docs/toolchain.md) creates with a server-side apply: an
    object that exists under the same name is updated, not refused (adoptExisting)."""
    render_dir = config.get("renderYamlToDirectory")
    if render_dir:
        # No kubeconfig: the SDK would fill in $KUBECONFIG, which pulumi-kubernetes before
        # 4.32 refuses beside renderYamlToDirectory (pulumi-kubernetes#4406).
        return k8s.Provider("kubernetes", render_yaml_to_directory=render_dir, kubeconfig="")
    return k8s.Provider("kubernetes", context=config.get("kubeContext"))


def end_silently_on_sigint() -> None:
    """Run by the Pulumi language host, the program ends at once and silently on SIGINT.

    The CLI sends SIGINT to the program only when it is done with it. After a resource failed,
    the engine ends the update without waiting for the program, then closes its plugins: SIGINT
    to each one's process group, the language host's holding this program (pulumi v3.274.0
    pkg/resource/deploy/deployment_executor.go and sdk/go/common/resource/plugin/plugin.go,
    since pulumi/pulumi#19603); a language host of release 3.229 or later also sends it SIGINT
    when the CLI cancels (Ctrl-C). The program is then still unwinding the registrations the
    engine refused, and Python's KeyboardInterrupt, which pulumi-language-python-exec does not
    catch, printed a traceback under the stack after the resource's own error. The default
    action ends the process as SIGKILL did before #19603, with the status Python itself ends
    with after a KeyboardInterrupt, so the engine reads it as before; this program has nothing
    to clean up. Run in-process (the render, the tests' mocks), the caller's handler stays."""
    if any(Path(arg).name == "pulumi-language-python-exec" for arg in sys.orig_argv):
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def main() -> None:
    end_silently_on_sigint()
    problems.set_caller(Caller.STACK)
    config = pulumi.Config(PROJECT)
    # Every mistake is reported before the provider or anything else exists.
    raw, _ = checked(config)
    inputs = kept_secret(raw)
    cache = MsrCache(
        pulumi.get_stack(),
        MsrCacheArgs(**{name: inputs[key] for name, key in CONFIG_KEYS.items() if key in inputs}),
        opts=pulumi.ResourceOptions(providers=[provider(config)]),
    )
    pulumi.export("url", cache.url)
    pulumi.export("caCertPem", cache.ca_cert_pem)
    pulumi.export("namespace", cache.namespace)
    pulumi.export("serviceName", cache.service_name)
    pulumi.export("registration", cache.registration)
    pulumi.export("certExpiresAt", cache.cert_expires_at)
    pulumi.export("caExpiresAt", cache.ca_expires_at)
    pulumi.export("certSans", cache.cert_sans)
    register(config, cache)


main()
