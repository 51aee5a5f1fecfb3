"""The Pulumi CLI's stack-config rules: what `pulumi up` refuses in a stack's config before it
runs a program, and the text it stores each value as, so that the offline render passes the
program what `pulumi up` passes it and refuses what it refuses.

Ported (in our own words) from pulumi/pulumi at 1b5949891b3cefcb9974752b24a5ecef0acc86c8 (after
v3.259.0), and read again at v3.274.0 (the CLI toolchain/tools.toml pins; the SDK is 3.272.0)
where the real CLI found the port wrong:
- pkg/workspace/config.go: ValidateStackConfigAndApplyProjectConfig, mergeConfig,
  validateStackConfigValues, validateStackConfigValue, parseConfigKey, createConfigValue,
  missingStackConfigurationKeysError and formatMissingKeys (moved there from
  sdk/go/common/workspace/config.go by "Move config logic to pkg", #23978);
- sdk/go/common/workspace/project.go: ValidateConfigValue, InferFullTypeName,
  RewriteShorthandConfigValues;
- sdk/go/common/workspace/loaders.go: LoadProjectStackBytes, stackConfigNamespacedWithProject;
- sdk/go/common/resource/config/key.go, value.go, object.go: ParseKey, how a stack value is
  stored (object.MarshalString);
- pkg/secrets/passphrase/manager.go, pkg/cmd/pulumi/config/io.go (getAndSaveSecretsManager) and
  sdk/go/common/resource/config/crypt.go: the passphrase provider, made for every stack with a
  salt, and its errors (used by render/stack_config.py);
- sdk/go/common/resource/config/object.go (unmarshalObject, isSecureValue): a `secure:` that is
  not text is a plain map; sdk/go/common/encoding/marshal.go: "invalid YAML file";
- gopkg.in/yaml.v3 v3.0.1 resolve.go and decode.go (go-yaml/yaml): how a plain YAML scalar is
  typed, a key given twice, a type error's words (terror). yaml.v3 is a port of libyaml, which
  PyYAML binds (CSafeLoader): the render parses with it, so a tab and a syntax error are read as
  the CLI reads them.

Not ported: Pulumi.yaml beyond its name, declarations and stackConfigDir, and a declared key as a
property path (`a.b[0]`): the render reads only this repository's projects, which declare none,
and the real CLI loads them in every judged preview (what a malformed one breaks, it says).

Held to the real CLI by tests/engine/test_stack_files.py. In
test_the_render_accepts_and_refuses_what_the_real_cli_does, every stack file of the repository
and a set of bad ones go through `pulumi preview` and the render, which must accept and refuse
the same ones at the same stage (`getting stack configuration: ` while reading the file and its
secrets manager, `validating stack config: ` after), in the CLI's words, naming the same key (or
naming it after the CLI's words, where the CLI names none). In
test_a_secret_set_by_the_cli_decrypts_in_the_render_to_what_the_program_sees, a secret the CLI
set decrypts to what the program sees under the CLI. Upstream's Go tests
(pkg/workspace/config_project_test.go, config_test.go, sdk/go/common/workspace/project_test.go)
are ported in tests/render/test_pulumi_cli_config.py.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import decimal
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.inputs import go_strconv
from components.inputs.plain import is_list, is_mapping
from components.inputs.problems import ConfigError

VALIDATING = "validating stack config: "
"""How `pulumi up` prefixes every error of its stack config validation (operations/up.go)."""
GETTING = "getting stack configuration: "
"""How `pulumi up` prefixes every error of reading the stack file and its secrets manager."""


class CliConfigError(ConfigError):
    """The Pulumi CLI refuses the project or the stack before any program runs; the message is the
    CLI's own. A ConfigError, so whatever stops on a config mistake stops on it too."""

    def __init__(self, message: str) -> None:
        self.problems = ()
        pulumi.RunError.__init__(self, message)


# --- YAML as the CLI reads it ---------------------------------------------------------------------

_PLAIN = "tag:cli-config:plain"
_INT64 = go_strconv.int_range(64)
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_SPECIAL = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}


def _go_int(text: str, base: int = 0) -> int | None:
    """strconv.ParseInt(text, base, 64), falling back to ParseUint: None if neither parses."""
    for parse in (go_strconv.parse_int, go_strconv.parse_uint):
        try:
            return parse(text, base, 64)
        except go_strconv.NumError:
            continue
    return None


def _plain_scalar(text: str) -> Any:
    """What yaml.v3 decodes an untagged plain scalar into: YAML 1.2's true/false/null only (`yes`
    and `on` stay text, unlike PyYAML), Go's integer syntax, and a timestamp kept as its text."""
    if text in _SPECIAL:
        return _SPECIAL[text]
    first = text[0]
    if first == ".":
        return float(text) if _DOT_FLOAT.fullmatch(text) else text
    if not (first.isascii() and (first.isdigit() or first in "+-")):
        return text
    plain = text.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        return number
    if _YAML_FLOAT.fullmatch(plain):
        value = float(plain)
        if math.isfinite(value):  # Go's ParseFloat fails on an overflow: the text stays text
            return value
    return text


class _DuplicateKey(yaml.YAMLError):
    """A mapping key given twice, which yaml.v3 refuses as it decodes (an "unmarshal error")."""

    def __init__(self, key: str, line: int, first_line: int) -> None:
        super().__init__(key)
        self.text = f'line {line}: mapping key "{key}" already defined at line {first_line}'


class _CliYamlLoader(yaml.CSafeLoader):
    """YAML as the CLI's yaml.v3 reads it. Parsed by libyaml, the C parser yaml.v3 is a port of
    (so a tab separates tokens, as in yaml.v3, where PyYAML's own scanner refuses it, and a
    mistake is told in the same words); plain scalars typed as yaml.v3 types them; a key given
    twice refused."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], yaml.Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            # types-PyYAML leaves construct_object's `node` unannotated.
            constructed = self.construct_object(key_node)  # pyright: ignore[reportUnknownMemberType]
            kind = type(constructed).__name__
            first = seen.setdefault((kind, key_node.value), key_node)
            if first is not key_node:
                raise _DuplicateKey(
                    key_node.value, key_node.start_mark.line + 1, first.start_mark.line + 1
                )
        return super().construct_mapping(node, deep=deep)


# types-PyYAML leaves add_implicit_resolver's parameters, and the `node` of construct_yaml_map and
# construct_yaml_seq, unannotated.
_CliYamlLoader.yaml_implicit_resolvers = {}
_CliYamlLoader.add_implicit_resolver(  # pyright: ignore[reportUnknownMemberType]
    "tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"]
)
_CliYamlLoader.add_implicit_resolver(  # pyright: ignore[reportUnknownMemberType]
    _PLAIN, re.compile(r"(?s).*"), None
)
_construct_map = _CliYamlLoader.construct_yaml_map  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
_construct_seq = _CliYamlLoader.construct_yaml_seq  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
_CONSTRUCTORS: dict[str, Callable[[_CliYamlLoader, Any], Any]] = {
    _PLAIN: lambda loader, node: _plain_scalar(node.value),
    # yaml.v3 hands a timestamp to an untyped value as its text, and a set or an ordered map as
    # the mapping or sequence it is written as.
    "tag:yaml.org,2002:timestamp": lambda loader, node: loader.construct_scalar(node),
    "tag:yaml.org,2002:binary": lambda loader, node: base64.b64decode(
        loader.construct_scalar(node)
    ).decode("utf-8", "replace"),
    "tag:yaml.org,2002:set": _construct_map,
    "tag:yaml.org,2002:omap": _construct_seq,
    "tag:yaml.org,2002:pairs": _construct_seq,
}
for _tag, _construct in _CONSTRUCTORS.items():
    _CliYamlLoader.add_constructor(_tag, _construct)


def _decode(data: bytes) -> Any:
    """The first document of `data` (yaml.v3 decodes no further), as the CLI decodes it."""
    loader = _CliYamlLoader(data)
    try:
        return loader.get_data() if loader.check_node() else None
    finally:
        loader.dispose()


def read_yaml(path: Path, stage: str = "") -> Any:
    """The document in `path` as the CLI decodes it. A mistake is one message: `stage`, then the
    CLI's words for it (`invalid YAML file: yaml: <libyaml's problem>`), then where it is in the
    file, which the CLI does not say (the line yaml.v3 gives is that of the construct the mistake
    is in, counted from 0)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CliConfigError(f"{stage}could not read '{path}': {err.strerror or err}") from None
    try:
        return _decode(data)
    except _DuplicateKey as err:
        # Returned by yaml.v3 as a type error, so the CLI says it without "invalid YAML file".
        raise CliConfigError(f"{stage}yaml: unmarshal errors: {err.text} (in '{path}')") from None
    except yaml.MarkedYAMLError as err:
        raise CliConfigError(
            f"{stage}invalid YAML file: yaml: {err.problem} ({_marked(err, path)})"
        ) from None
    except yaml.reader.ReaderError as err:
        line = data[: err.position].count(b"\n") + 1
        raise CliConfigError(
            f"{stage}invalid YAML file: yaml: {err.reason} (byte 0x{err.character:02x} at line "
            f"{line} of '{path}')"
        ) from None
    except yaml.YAMLError as err:
        raise CliConfigError(f"{stage}invalid YAML file: yaml: {err} (in '{path}')") from None


def _marked(err: yaml.MarkedYAMLError, path: Path) -> str:
    """`line L, column C of '<path>', while <reading what> from line L'`."""
    mark = err.problem_mark or err.context_mark
    text = f"line {mark.line + 1}, column {mark.column + 1} of " if mark else ""
    text += f"'{path}'"
    if err.context:
        text += f", {err.context}"
        if err.context_mark:
            text += f" from line {err.context_mark.line + 1}"
    return text


# --- how the CLI stores a value -------------------------------------------------------------------


def _go_special(value: float) -> str:
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def _go_float(value: float) -> str:
    """A float64 as Go's encoding/json writes it: the shortest digits, fixed notation between 1e-6
    and 1e21 (so 2.0 is `2`), else an exponent without a leading zero (`1e-7`)."""
    if not math.isfinite(value):
        raise ValueError(f"json: unsupported value: {_go_special(value)}")
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    if 1e-6 <= abs(value) < 1e21:
        return format(decimal.Decimal(repr(value)).normalize(), "f")
    mantissa, exponent = repr(value).split("e")
    sign, digits = exponent[0], exponent[1:].lstrip("0")
    if sign == "+":
        digits = digits.rjust(2, "0")
    return f"{mantissa}e{sign}{digits}"


_HTML_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def _go_json(value: Any) -> str:
    """`value` as Go's json.Marshal writes it: compact, map keys sorted, <>& escaped."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).translate(_HTML_ESCAPES)
    if is_mapping(value):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{_go_json(k)}:{_go_json(v)}" for k, v in items) + "}"
    return "[" + ",".join(_go_json(v) for v in value) + "]"


def cli_text(value: Any) -> str:
    """The text the CLI stores a decoded config value as, and hands the program: a string as it
    is, a scalar as JSON (`true`, `30443`, `2` for 2.0), null and structures as compact JSON."""
    return value if isinstance(value, str) else _go_json(value)


def is_secure(value: Any) -> bool:
    """Whether `value` is an encrypted value, `{secure: <ciphertext>}`."""
    return is_mapping(value) and len(value) == 1 and isinstance(value.get("secure"), str)


def has_secure(value: Any) -> bool:
    """Whether `value` is or holds an encrypted value (what the CLI calls a secure value)."""
    return next(ciphertexts(value), None) is not None


def ciphertexts(value: Any) -> Iterator[str]:
    """Every ciphertext in `value`."""
    if is_secure(value):
        yield value["secure"]
    elif is_mapping(value):
        for v in value.values():
            yield from ciphertexts(v)
    elif is_list(value):
        for v in value:
            yield from ciphertexts(v)


def decrypted(value: Any, plaintext: Callable[[str], str]) -> Any:
    """`value` with every ciphertext replaced by `plaintext(ciphertext)`."""
    if is_secure(value):
        return plaintext(value["secure"])
    if is_mapping(value):
        return {k: decrypted(v, plaintext) for k, v in value.items()}
    if is_list(value):
        return [decrypted(v, plaintext) for v in value]
    return value


def sealed_parts(ciphertext: str) -> tuple[bytes, bytes]:
    """(nonce, sealed bytes) of a passphrase provider's `v1:<nonce>:<ciphertext>`; ValueError with
    the CLI's words (symmetricCrypter.DecryptValue) when it cannot be one."""
    parts = ciphertext.split(":")
    if len(parts) != 3:
        raise ValueError("bad value")
    if parts[0] != "v1":
        raise ValueError("unknown value version")
    try:
        nonce, sealed = (base64.b64decode(p, validate=True) for p in parts[1:])
    except binascii.Error as err:
        raise ValueError(f"bad value: illegal base64 data ({err})") from None
    if len(nonce) != 12:
        raise ValueError("bad value: nonce size is incorrect")
    return nonce, sealed


# --- Pulumi.yaml ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ItemsType:
    """The `items` of an array declaration: its items' type, and theirs if they are arrays."""

    type: str
    items: ItemsType | None = None


@dataclasses.dataclass(frozen=True)
class Declaration:
    """One key under Pulumi.yaml's `config:`. `default` and `value` are None when not given (the CLI
    does not tell `default: null` from no default); `type` is None when the key is untyped."""

    key: str
    type: str | None = None
    items: ItemsType | None = None
    default: Any = None
    value: Any = None
    secret: bool = False


@dataclasses.dataclass(frozen=True)
class Project:
    """What the render needs of Pulumi.yaml: the project's name, its config declarations (in file
    order) and the folder of its stack files."""

    name: str
    config: dict[str, Declaration]
    stack_config_dir: str | None = None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    for types, name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
        (str, "string"),
        (list, "array"),
        (Mapping, "object"),
    ):
        if isinstance(value, types):
            return name
    return type(value).__name__


def _items_type(items: Any) -> ItemsType:
    """An array declaration's `items`: its items' type, and theirs if they are arrays."""
    nested = _items_type(items["items"]) if "items" in items else None
    return ItemsType(items["type"], nested)


def _declaration(key: str, raw: Any, project: str) -> Declaration:
    """One entry under `config:`, and its short form (`key: value`) read as the CLI's
    RewriteShorthandConfigValues does: a default in the project's namespace, else a value."""
    if not is_mapping(raw):
        if ":" not in key or key.startswith(f"{project}:"):
            return Declaration(key, default=raw)
        return Declaration(key, value=raw)
    return Declaration(
        key,
        type=raw.get("type"),
        items=_items_type(raw["items"]) if "items" in raw else None,
        default=raw.get("default"),
        value=raw.get("value"),
        secret=bool(raw.get("secret", False)),
    )


def parse_project(raw: Any, path: Path | str = "Pulumi.yaml") -> Project:
    """What the render needs of a decoded Pulumi.yaml: its name, its config declarations and the
    folder of its stack files (the rest is not ported: see the module's docstring)."""
    try:
        config: Mapping[Any, Any] = raw.get("config") or {}
        declarations = {
            str(key): _declaration(str(key), entry, raw["name"]) for key, entry in config.items()
        }
        return Project(raw["name"], declarations, raw.get("stackConfigDir"))
    except (AttributeError, KeyError, TypeError) as err:
        raise CliConfigError(
            f"could not read '{path}' ({type(err).__name__}: {err}): `pulumi preview` says what "
            "is wrong with it"
        ) from None


def load_project(path: Path) -> Project:
    """The project in the Pulumi.yaml at `path`, refused as `pulumi up` refuses it."""
    if not path.exists():
        raise CliConfigError(
            f"no Pulumi.yaml project file found (searching upwards from {path.parent})"
        )
    return parse_project(read_yaml(path), path)


# --- Pulumi.<stack>.yaml --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StackFile:
    """What the render reads of a stack file: its config, every key `<namespace>:<name>`, values
    as decoded (an encrypted one as `{secure: <ciphertext>}`), the passphrase's salt, and each key
    as the file writes it (`port` for msr-cache:port), so that a refusal names it so."""

    config: dict[str, Any]
    encryption_salt: str | None = None
    written: dict[str, str] = dataclasses.field(default_factory=dict[str, str])


def parse_key(text: str) -> tuple[str, str]:
    """(namespace, name) of a config key `<namespace>:<name>` or the old
    `<namespace>:config:<name>` (config.ParseKey)."""
    parts = text.split(":")
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return parts[0], parts[2]
    raise CliConfigError(
        f"could not parse {text} as a configuration key "
        "(configuration keys should be of the form `<namespace>:<name>`)"
    )


UNMARSHAL = "invalid YAML file: could not unmarshal map: "
"""How the CLI words a stack's config it cannot decode (config.Map's UnmarshalYAML, through
encoding.YAML, which calls every such error an invalid YAML file)."""


def _with_string_keys(value: Any, key: str, path: Path | str) -> Any:
    """`value` with its nested mapping keys as the CLI's text of them. A map whose one key is
    `secure` but not text is no encrypted value, only a map (object.go, isSecureValue)."""
    if is_mapping(value):
        return {cli_text(k): _with_string_keys(v, key, path) for k, v in value.items()}
    if is_list(value):
        return [_with_string_keys(v, key, path) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        # The CLI stores a value as JSON, which has no NaN or infinity.
        raise CliConfigError(
            f"{GETTING}{UNMARSHAL}json: unsupported value: {_go_special(value)} (the value of "
            f"{key} in '{path}')"
        )
    return value


def _go_type(value: Any) -> str:
    """The Go type yaml.v3 decodes a YAML value into, as the CLI names it (`%T`)."""
    if is_list(value):
        return "[]interface {}"
    for types, name in ((bool, "bool"), (int, "int"), (float, "float64"), (str, "string")):
        if isinstance(value, types):
            return name
    return "map[string]interface {}"


def _yaml_tag(value: Any) -> str:
    """A decoded value as yaml.v3 names it in a type error: its short tag, and a scalar's text
    (shortened past 10 characters, as yaml.v3 does)."""
    if is_list(value):
        return "!!seq"
    for types, tag in ((bool, "!!bool"), (int, "!!int"), (float, "!!float"), (str, "!!str")):
        if isinstance(value, types):
            text = value if isinstance(value, str) else cli_text(value)
            return f"{tag} `{text if len(text) <= 10 else text[:7] + '...'}`"
    return "!!map"


def parse_stack(raw: Any, project: str, path: Path | str = "Pulumi.<stack>.yaml") -> StackFile:
    """The stack in a decoded stack file, read as LoadProjectStackBytes reads it: a key without a
    namespace is in the project's. Refuses what the CLI cannot read, in its words, then says where
    (the CLI does not); and ESC environments, which only the CLI can open."""
    if raw is None:
        return StackFile({})
    if not is_mapping(raw):
        raise CliConfigError(
            f"{GETTING}expected project to be an object, was '{_go_type(raw)}' (the stack file "
            f"'{path}' is {_kind(raw)}; it must be a mapping: config:, encryptionsalt:, ...)"
        )
    for key in raw:
        if not isinstance(key, str):
            raise CliConfigError(
                f"{GETTING}could not read '{path}': expected only string keys, got "
                f"'{cli_text(key)}'"
            )
    if raw.get("environment"):
        raise CliConfigError(
            f"{GETTING}opening environment: '{path}' imports Pulumi ESC environments "
            "(environment:); the offline render cannot open them: use `pulumi preview` for this "
            "stack"
        )
    salt = raw.get("encryptionsalt")
    if salt is not None and not isinstance(salt, str):
        salt = cli_text(salt)
    config_raw = raw.get("config")
    if config_raw is None:
        return StackFile({}, salt)
    if not is_mapping(config_raw):
        raise CliConfigError(
            f"{GETTING}{UNMARSHAL}yaml: unmarshal errors: cannot unmarshal {_yaml_tag(config_raw)} "
            f"into map[string]config.Value (config: in '{path}' must be a mapping of "
            "<namespace>:<key> to values)"
        )
    config: dict[str, Any] = {}
    written: dict[str, str] = {}
    for key, value in config_raw.items():
        text = key if isinstance(key, str) else cli_text(key)
        try:
            namespace, name = parse_key(text if ":" in text else f"{project}:{text}")
        except CliConfigError as err:
            raise CliConfigError(f"{GETTING}{UNMARSHAL}{err} in '{path}'") from None
        full = f"{namespace}:{name}"
        if full in config:
            # The CLI keeps either at random (it namespaces the keys through a Go map): the render
            # refuses rather than guess which.
            raise CliConfigError(
                f"{GETTING}configuration key '{full}' is set twice in '{path}', as "
                f"'{written[full]}' and as '{text}': pulumi would use either one"
            )
        config[full], written[full] = _with_string_keys(value, text, path), text
    return StackFile(config, salt, written)


def load_stack_file(path: Path, project: str) -> StackFile:
    """The stack file at `path`, read as `pulumi up` reads it."""
    return parse_stack(read_yaml(path, GETTING), project, path)


# --- declared keys ---------------------------------------------------------------------------------


def config_key(project: str, key: str) -> str:
    """A key declared in Pulumi.yaml as parseConfigKey reads it (not as a property path: see the
    module's docstring): a bare key is in the project's namespace."""
    namespace, name = parse_key(key) if ":" in key else (project, key)
    return f"{namespace}:{name}"


_MISSING = object()


# --- the checks -----------------------------------------------------------------------------------


def full_type_name(type_name: str, items: ItemsType | None) -> str:
    """InferFullTypeName: `array<array<string>>` for an array of arrays of strings."""
    if items is not None:
        return f"array<{full_type_name(items.type, items.items)}>"
    return type_name


def _atoi(text: str) -> bool:
    """Whether Go's strconv.Atoi accepts `text` (ValidateConfigValue's reading of an integer)."""
    try:
        go_strconv.atoi(text)
    except go_strconv.NumError:
        return False
    return True


def valid_value(type_name: str, items: ItemsType | None, value: Any) -> bool:
    """ValidateConfigValue: whether `value`, as the CLI holds it, is of the declared type. A stack
    holds scalars as text, so `30443` passes as a string and `"30443"` as an integer."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return value in _INT64
        if isinstance(value, float):
            return math.isinf(value) or value.is_integer()  # NaN is not
        return isinstance(value, str) and _atoi(value)
    if type_name == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_name == "object":
        return isinstance(value, Mapping)
    # Any other name is checked as an array: the CLI does so too.
    if not is_list(value) or items is None:
        return False
    return all(valid_value(items.type, items.items, item) for item in value)


def missing_keys_message(stack: str, keys: list[str]) -> str:
    """missingStackConfigurationKeysError: `'a'`, `'a' and 'b'`, `'a', 'b' and 'c'`, sorted."""
    keys = sorted(keys)
    quoted = [f"'{k}'" for k in keys]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    plural = "values" if len(keys) > 1 else "value"
    return f"Stack '{stack}' is missing configuration {plural} {listed}"


def apply_project_config(stack: str, project: Project, config: Mapping[str, Any]) -> dict[str, Any]:
    """mergeConfig: `config` with every declared default or value the stack does not set; a key
    declared in the project's namespace with neither, and not set, is refused, all in one
    message."""
    merged = dict(config)
    missing: list[str] = []
    for key in sorted(project.config):
        declaration = project.config[key]
        root = config_key(project.name, key)
        if root in merged:
            continue
        if declaration.default is None and declaration.value is None:
            if root.split(":", 1)[0] == project.name:
                missing.append(key)
            continue
        merged[root] = declaration.default if declaration.default is not None else declaration.value
    if missing:
        raise CliConfigError(VALIDATING + missing_keys_message(stack, missing))
    return merged


def _read_back(value: Any) -> Any:
    """A structure as the CLI reads its JSON back to check it: numbers are float64."""
    if is_mapping(value):
        return {k: _read_back(v) for k, v in value.items()}
    if is_list(value):
        return [_read_back(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _set_as(key: str, written: Mapping[str, str] | None) -> str:
    """` (set as <key as the stack file writes it>)`, when the stack file sets `key`: the CLI
    names a declared key as Pulumi.yaml declares it, which is not always how the user wrote it."""
    return f" (set as {written[key]})" if written and key in written else ""


def validate_values(
    stack: str,
    project: Project,
    config: Mapping[str, Any],
    plaintext: Callable[[str], str] | None = None,
    written: Mapping[str, str] | None = None,
) -> None:
    """validateStackConfigValues over the merged `config`: every ciphertext decrypts (with
    `plaintext`; without it the render stands in, and only the ciphertext's form is checked);
    then, key by key in sorted order, a typed key declared `secret` must be encrypted and its value
    must be of its type. A value holding a ciphertext is not type-checked without `plaintext`.
    Each refusal is the CLI's words, then the key as `written` in the stack file, which the CLI
    does not always say."""
    for key in sorted(config):
        for ciphertext in ciphertexts(config[key]):
            try:
                if plaintext is None:
                    sealed_parts(ciphertext)
                else:
                    plaintext(ciphertext)
            except ValueError as err:
                # The CLI's words (pulumi 3.274 says only these), then the key they are about.
                shown = written.get(key, key) if written else key
                raise CliConfigError(f"{VALIDATING}{err} (the secure: value of {shown})") from None
    for key in sorted(project.config):
        declaration = project.config[key]
        if declaration.type is None:
            continue
        root = config_key(project.name, key)
        value = config.get(root, _MISSING)
        secure = value is not _MISSING and has_secure(value)
        if declaration.secret and not secure:
            raise CliConfigError(
                f"{VALIDATING}Stack '{stack}' with configuration key '{key}' must be encrypted as "
                f"it's secret{_set_as(root, written)}"
            )
        if secure:
            if plaintext is None:
                continue
            value = decrypted(value, plaintext)
        if value is _MISSING:
            content: Any = ""  # an empty config.Value
        elif value is None or isinstance(value, (list, Mapping)):
            content = _read_back(value)
        else:
            content = cli_text(value)  # a scalar is held as its text
        if not valid_value(declaration.type, declaration.items, content):
            raise CliConfigError(
                f"{VALIDATING}Stack '{stack}' with configuration key '{key}' must be of type "
                f"'{full_type_name(declaration.type, declaration.items)}'{_set_as(root, written)}"
            )


def validate_stack_config(
    stack: str,
    project: Project,
    config: Mapping[str, Any],
    plaintext: Callable[[str], str] | None = None,
    written: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """ValidateStackConfigAndApplyProjectConfig: the stack's config with the project's defaults,
    refused as `pulumi up` refuses it (keys named as `written` in the stack file, too)."""
    merged = apply_project_config(stack, project, config)
    validate_values(stack, project, merged, plaintext, written)
    return merged
