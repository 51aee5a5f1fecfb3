"""The Pulumi CLI's checks of Pulumi.yaml and a stack's config, as the render runs them.

The first tests are pulumi/pulumi's own Go tests of these rules, one each, named after it (the Go
name is in the docstring): pkg/workspace/config_project_test.go, pkg/workspace/config_test.go and
sdk/go/common/workspace/project_test.go at 1b5949891b3cefcb9974752b24a5ecef0acc86c8. Then every
stack file of this repository is checked, and the render's own handling of a refused or malformed
stack: one message, exit 1, no traceback, no manifests left behind.
"""

from __future__ import annotations

import base64
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import PASSPHRASE, encrypter, run_render

from components.inputs.problems import ConfigError
from render import diff, pulumi_cli_config
from render.__main__ import ROOT, main
from render.pulumi_cli_config import CliConfigError, ItemsType

# --- helpers --------------------------------------------------------------------------------------


def project_from_text(tmp_path: Path, text: str) -> pulumi_cli_config.Project:
    path = tmp_path / "Pulumi.yaml"
    path.write_text(textwrap.dedent(text))
    return pulumi_cli_config.load_project(path)


def stack_from_text(tmp_path: Path, project: pulumi_cli_config.Project, text: str) -> dict:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(textwrap.dedent(text))
    return pulumi_cli_config.load_stack_file(path, project.name).config


def validated(
    tmp_path: Path,
    project_yaml: str,
    stack_yaml: str,
    plaintext: Callable[[str], str] | None = None,
) -> dict[str, str]:
    """ValidateStackConfigAndApplyProjectConfig over the two files: the merged config as the
    text the CLI stores each value as."""
    project = project_from_text(tmp_path, project_yaml)
    config = stack_from_text(tmp_path, project, stack_yaml)
    merged = pulumi_cli_config.validate_stack_config("dev", project, config, plaintext)
    return {k: pulumi_cli_config.cli_text(v) for k, v in merged.items()}


def base64_plaintext(ciphertext: str) -> str:
    """The Go tests' config.Base64Crypter: the "ciphertext" is the plain text in base64."""
    try:
        return base64.b64decode(ciphertext, validate=True).decode()
    except ValueError as err:
        raise ValueError(f"bad value: {err}") from None


# --- pkg/workspace/config_project_test.go ---------------------------------------------------------


def test_stack_config_is_inherited_from_project_config(tmp_path):
    """TestStackConfigIsInheritedFromProjectConfig"""
    config = validated(
        tmp_path,
        """
        name: test
        runtime: dotnet
        config:
          instanceSize: t3.micro
          instanceCount: 20
          protect: true
        """,
        """
        config:
          test:instanceSize: t4.large
        """,
    )
    assert config == {
        "test:instanceSize": "t4.large",
        "test:instanceCount": "20",
        "test:protect": "true",
    }


def test_namespaced_config_values_are_inherited_correctly(tmp_path):
    """TestNamespacedConfigValuesAreInheritedCorrectly"""
    config = validated(
        tmp_path,
        """
        name: test
        runtime: dotnet
        config:
          aws:region: us-west-1
          pulumi:disable-default-providers: ["*"]
          instanceSize: t3.micro
        """,
        """
        config:
          test:instanceSize: t4.large
        """,
    )
    assert config == {
        "test:instanceSize": "t4.large",
        "aws:region": "us-west-1",
        "pulumi:disable-default-providers": '["*"]',
    }


def test_loading_stack_config_without_namespacing_the_project(tmp_path):
    """TestLoadingStackConfigWithoutNamespacingTheProject"""
    config = validated(
        tmp_path,
        """
        name: test
        runtime: dotnet
        config:
          aws:region: us-west-1
          instanceSize: t3.micro
        """,
        """
        config:
          instanceSize: t4.large
        """,
    )
    assert config == {"test:instanceSize": "t4.large", "aws:region": "us-west-1"}


def test_untyped_project_config_values_are_not_validated(tmp_path):
    """TestUntypedProjectConfigValuesAreNotValidated"""
    config = validated(
        tmp_path,
        """
        name: test
        runtime: dotnet
        config:
          instanceSize: t3.micro
          aws:region: us-west-1
        """,
        """
        config:
          instanceSize: 9999
          aws:region: 42
        """,
    )
    assert config == {"test:instanceSize": "9999", "aws:region": "42"}


def test_untyped_project_config_values_with_only_default_or_only_value(tmp_path):
    """TestUntypedProjectConfigValuesWithOnlyDefaultOrOnlyValue"""
    config = validated(
        tmp_path,
        """
        name: test
        runtime: dotnet
        config:
          instanceSize:
            default: t3.micro
          region:
            value: us-west-1
        """,
        """
        config:
          aws:answer: 42
        """,
    )
    assert config == {
        "test:instanceSize": "t3.micro",
        "test:region": "us-west-1",
        "aws:answer": "42",
    }


def test_untyped_stack_config_values_do_need_project_declaration(tmp_path):
    """TestUntypedStackConfigValuesDoNeedProjectDeclaration (despite its name: a stack key the
    project does not declare is accepted)"""
    config = validated(
        tmp_path,
        """
        name: test
        runtime: dotnet
        config:
          createVpc: true
        """,
        """
        config:
          instanceSize: 42
        """,
    )
    assert config == {"test:instanceSize": "42", "test:createVpc": "true"}


def test_untyped_project_config_object_values_passed_down_to_stack(tmp_path):
    """TestUntypedProjectConfigObjectValuesPassedDownToStack"""
    config = validated(
        tmp_path,
        """
        name: test
        runtime: dotnet
        config:
          instanceSize:
            value:
              hello: world
          aws:config:
            value:
              region: us-west-1
        """,
        """
        config:
          aws:whatever: 42
        """,
    )
    assert config == {
        "test:instanceSize": '{"hello":"world"}',
        "aws:config": '{"region":"us-west-1"}',
        "aws:whatever": "42",
    }


def test_stack_config_errors_when_stack_value_is_not_correctly_typed(tmp_path):
    """TestStackConfigErrorsWhenStackValueIsNotCorrectlyTyped"""
    with pytest.raises(CliConfigError) as raised:
        validated(
            tmp_path,
            """
            name: test
            runtime: dotnet
            config:
              values:
                type: array
                items:
                  type: string
                default: [value]
            """,
            """
            config:
              test:values: someValue
            """,
        )
    assert str(raised.value) == (
        "validating stack config: "
        "Stack 'dev' with configuration key 'values' must be of type 'array<string>'"
    )


INTEGER_PROJECT = """
name: test
runtime: dotnet
config:
  importantNumber:
    type: integer
"""


def test_stack_config_integer_type_is_correctly_validated(tmp_path):
    """TestStackConfigIntegerTypeIsCorrectlyValidated"""
    config = validated(tmp_path, INTEGER_PROJECT, "config:\n  test:importantNumber: 20\n")
    assert config == {"test:importantNumber": "20"}
    with pytest.raises(
        CliConfigError,
        match=r"^validating stack config: Stack 'dev' with configuration key 'importantNumber' "
        r"must be of type 'integer'$",
    ):
        validated(tmp_path, INTEGER_PROJECT, "config:\n  test:importantNumber: hello\n")


def test_stack_config_errors_when_missing_stack_value_for_config_type_with_no_default(tmp_path):
    """TestStackConfigErrorsWhenMissingStackValueForConfigTypeWithNoDefault"""
    project = """
    name: test
    runtime: dotnet
    config:
      values:
        type: array
        items:
          type: string
    """
    with pytest.raises(CliConfigError) as raised:
        validated(tmp_path, project, "")
    assert str(raised.value) == (
        "validating stack config: Stack 'dev' is missing configuration value 'values'"
    )


def test_stack_config_errors_when_missing_two_stack_value_for_config_type_with_no_default(
    tmp_path,
):
    """TestStackConfigErrorsWhenMissingTwoStackValueForConfigTypeWithNoDefault"""
    project = """
    name: test
    runtime: dotnet
    config:
      values:
        type: array
        items:
          type: string
      another:
        type: string
    """
    with pytest.raises(CliConfigError) as raised:
        validated(tmp_path, project, "")
    assert str(raised.value) == (
        "validating stack config: Stack 'dev' is missing configuration values 'another' and "
        "'values'"
    )


def test_stack_config_errors_when_missing_multiple_stack_value_for_config_type_with_no_default(
    tmp_path,
):
    """TestStackConfigErrorsWhenMissingMultipleStackValueForConfigTypeWithNoDefault"""
    project = """
    name: test
    runtime: dotnet
    config:
      world:
        type: string
      hello:
        type: integer
      values:
        type: array
        items:
          type: string
    """
    with pytest.raises(CliConfigError) as raised:
        validated(tmp_path, project, "")
    assert str(raised.value) == (
        "validating stack config: Stack 'dev' is missing configuration values 'hello', 'values' "
        "and 'world'"
    )


def test_stack_config_does_not_error_when_project_has_not_defined_config(tmp_path):
    """TestStackConfigDoesNotErrorWhenProjectHasNotDefinedConfig"""
    config = validated(
        tmp_path,
        "name: test\nruntime: dotnet\n",
        "config:\n  hello: 21\n  world: 42\n  another: 42\n",
    )
    assert config == {"test:hello": "21", "test:world": "42", "test:another": "42"}


def test_stack_config_secret_is_correctly_validated(tmp_path):
    """TestStackConfigSecretIsCorrectlyValidated"""
    project = """
    name: test
    runtime: dotnet
    config:
      importantNumber:
        type: integer
        secret: true
    """
    encrypted = base64.b64encode(b"20").decode()
    config = validated(
        tmp_path,
        project,
        f"config:\n  test:importantNumber:\n    secure: {encrypted}\n",
        base64_plaintext,
    )
    assert list(config) == ["test:importantNumber"]
    with pytest.raises(CliConfigError) as raised:
        validated(tmp_path, project, "config:\n  test:importantNumber: 20\n", base64_plaintext)
    assert str(raised.value) == (
        "validating stack config: "
        "Stack 'dev' with configuration key 'importantNumber' must be encrypted as it's secret"
    )


def test_environment_merge(tmp_path):
    """TestEnvironmentMerge: the CLI merges a stack's Pulumi ESC environments into its config. The
    render cannot open an environment, so it refuses the stack rather than render without it."""
    project = project_from_text(tmp_path, "name: test\nruntime: nodejs\n")
    with pytest.raises(CliConfigError, match="imports Pulumi ESC environments"):
        stack_from_text(tmp_path, project, "environment:\n  - shared/msr\nconfig:\n  test:a: 1\n")


def test_stack_config_u_int64(tmp_path):
    """TestStackConfigUInt64"""
    config = validated(
        tmp_path,
        "name: test\nruntime: dotnet\n",
        "config:\n  test:instanceSize: 18446744073709551615\n",
    )
    assert config == {"test:instanceSize": "18446744073709551615"}


# --- pkg/workspace/config_test.go: TestValidateStackConfigValues ----------------------------------


def test_validate_stack_config_values_empty_project_with_decrypter_returns_nil():
    """TestValidateStackConfigValues/Empty Project With Decrypter Returns Nil (its sibling "No
    Decrypter Returns Nil" does not apply: `pulumi up` always has a decrypter, and the render
    checks without one too)"""
    project = pulumi_cli_config.Project("testProject", {})
    pulumi_cli_config.validate_values("stackA", project, {}, base64_plaintext)
    pulumi_cli_config.validate_values("stackA", project, {})


def test_validate_stack_config_values_decrypt_error_is_propagated():
    """TestValidateStackConfigValues/Decrypt Error Is Propagated"""

    def failing(_ciphertext: str) -> str:
        raise ValueError("failed to decrypt: decrypt failed")

    project = pulumi_cli_config.Project("testProject", {})
    config = {"testProject:someKey": {"secure": "someVal"}}
    with pytest.raises(CliConfigError, match="decrypt failed"):
        pulumi_cli_config.validate_values("stackA", project, config, failing)


def test_validate_stack_config_values_typed_config_validates():
    """TestValidateStackConfigValues/Typed Config Validates (its keys without a path: the
    render reads declared keys as names)"""
    declarations = [
        pulumi_cli_config.Declaration("testInt", type="integer"),
        pulumi_cli_config.Declaration("testSecret", type="string", secret=True),
    ]
    project = pulumi_cli_config.Project("testProject", {d.key: d for d in declarations})
    config = {
        "testProject:testInt": 1,
        "testProject:testSecret": {"secure": base64.b64encode(b"testValue").decode()},
    }
    pulumi_cli_config.validate_values("stackA", project, config, base64_plaintext)


def test_validate_stack_config_values_secret_enforced():
    """TestValidateStackConfigValues/Secret Enforced"""
    declaration = pulumi_cli_config.Declaration("proj:secretKey", type="string", secret=True)
    project = pulumi_cli_config.Project("proj", {declaration.key: declaration})
    with pytest.raises(CliConfigError, match="must be encrypted"):
        pulumi_cli_config.validate_values("stack1", project, {"proj:secretKey": "plain"})


def test_validate_stack_config_values_type_mismatch():
    """TestValidateStackConfigValues/Type Mismatch: a type the CLI does not know (here `number`)
    is checked as an array, which text is not ("Object Unmarshal Error" does not apply: the render
    holds decoded values, never a JSON text to unmarshal)"""
    declaration = pulumi_cli_config.Declaration("proj:typeKey", type="number")
    project = pulumi_cli_config.Project("proj", {declaration.key: declaration})
    with pytest.raises(CliConfigError, match="must be of type 'number'"):
        pulumi_cli_config.validate_values("stackX", project, {"proj:typeKey": "not-a-number"})


# --- sdk/go/common/workspace/project_test.go ------------------------------------------------------


def test_project_validation_succeeds_for_object_config_type(tmp_path):
    """TestProjectValidationSucceedsForObjectConfigType"""
    project = project_from_text(
        tmp_path,
        """
        name: test
        runtime: dotnet
        config:
          example:
            type: object
            default: {hello: world}
        """,
    )
    assert project.config["example"].type == "object"


def test_project_validation_succeeds_for_correct_default_value_type(tmp_path):
    """TestProjectValidationSucceedsForCorrectDefaultValueType"""
    project = project_from_text(
        tmp_path,
        """
        name: test
        runtime: dotnet
        config:
          instanceSize:
            type: integer
            default: 1
          values:
            type: array
            items:
              type: array
              items:
                type: string
            default: [[hello]]
        """,
    )
    assert project.config["instanceSize"].default == 1
    assert project.config["values"].default == [["hello"]]


def test_project_loads_config_schemas(tmp_path):
    """TestProjectLoadsConfigSchemas"""
    project = project_from_text(
        tmp_path,
        """
        name: test
        runtime: dotnet
        config:
          integerSchemaFull:
            type: integer
            description: a very important value
            default: 1
          integerSchemaSimple: 20
          textSchemaFull:
            type: string
            default: t3.micro
          textSchemaSimple: t4.large
          booleanSchemaFull:
            type: boolean
            default: true
          booleanSchemaSimple: false
          simpleArrayOfStrings:
            type: array
            items:
              type: string
            default: [hello]
          arrayOfArrays:
            type: array
            items:
              type: array
              items:
                type: string
          secretString:
            type: string
            secret: true
        """,
    )
    d = project.config
    assert len(d) == 9
    assert (d["integerSchemaFull"].type, d["integerSchemaFull"].default) == ("integer", 1)
    assert (d["integerSchemaSimple"].type, d["integerSchemaSimple"].default) == (None, 20)
    assert (d["textSchemaFull"].type, d["textSchemaFull"].default) == ("string", "t3.micro")
    assert (d["textSchemaSimple"].type, d["textSchemaSimple"].default) == (None, "t4.large")
    assert (d["booleanSchemaFull"].type, d["booleanSchemaFull"].default) == ("boolean", True)
    assert (d["booleanSchemaSimple"].type, d["booleanSchemaSimple"].default) == (None, False)
    assert d["simpleArrayOfStrings"].items == ItemsType("string")
    assert d["simpleArrayOfStrings"].default == ["hello"]
    assert d["arrayOfArrays"].items == ItemsType("array", ItemsType("string"))
    assert d["secretString"].secret and d["secretString"].default is None
    assert not d["integerSchemaFull"].secret


def test_config_object_and_stack_config_dir_successfully_load_project(tmp_path):
    """TestConfigObjectAndStackConfigDirSuccessfullyLoadProject"""
    project = project_from_text(
        tmp_path,
        "name: test\nruntime: dotnet\nstackConfigDir: ./some/other/path\nconfig:\n  value: hello\n",
    )
    assert project.stack_config_dir == "./some/other/path"
    assert list(project.config) == ["value"]


# --- the stack file as yaml.v3 reads it -----------------------------------------------------------


BOOLEAN_PROJECT = """
name: test
config:
  createNamespace:
    type: boolean
    default: true
  replicas:
    type: integer
    default: 1
  name:
    type: string
    default: cache
"""


@pytest.mark.parametrize("written", ["yes", "on", "True", "'true'"])
def test_a_boolean_is_yaml_1_2_true_or_false(tmp_path, written):
    # PyYAML reads yes and on as true; the CLI's yaml.v3 keeps them as text, which is no boolean.
    # True is a boolean for both; quoted 'true' is the text the CLI checks a boolean against.
    if written in ("yes", "on"):
        with pytest.raises(CliConfigError, match="'createNamespace' must be of type 'boolean'"):
            validated(tmp_path, BOOLEAN_PROJECT, f"config:\n  test:createNamespace: {written}\n")
    else:
        config = validated(
            tmp_path, BOOLEAN_PROJECT, f"config:\n  test:createNamespace: {written}\n"
        )
        assert config["test:createNamespace"] == "true"


def test_scalars_reach_the_program_as_the_cli_stores_them(tmp_path):
    config = validated(
        tmp_path,
        BOOLEAN_PROJECT,
        """
        config:
          test:replicas: 2.0
          test:name: 0777
          test:when: 2024-01-01
          test:list: [1, 2.5, 'x', {b: 1, a: null}]
        """,
    )
    # Whole floats as Go's JSON writes them (so 2.0 is an integer), 0777 as yaml.v3's octal,
    # a date as its text, structures as compact JSON with sorted keys.
    assert config["test:replicas"] == "2"
    assert config["test:name"] == "511"
    assert config["test:when"] == "2024-01-01"
    assert config["test:list"] == '[1,2.5,"x",{"a":null,"b":1}]'


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: test\n")
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  test:a: 1\n  test:b: 2\n  test:a: 3\n")
    with pytest.raises(CliConfigError) as raised:
        pulumi_cli_config.load_stack_file(path, "test")
    # yaml.v3's words for it (an unmarshal error, not an invalid file), then the file.
    assert str(raised.value) == (
        'getting stack configuration: yaml: unmarshal errors: line 4: mapping key "test:a" '
        f"already defined at line 2 (in '{path}')"
    )


def test_a_key_with_and_without_its_namespace_is_refused(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  a: 1\n  test:a: 2\n")
    with pytest.raises(CliConfigError, match="configuration key 'test:a' is set twice"):
        pulumi_cli_config.load_stack_file(path, "test")


def test_a_key_with_two_namespaces_is_refused_as_the_cli_refuses_it(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  test:a:b: 1\n")
    with pytest.raises(CliConfigError) as raised:
        pulumi_cli_config.load_stack_file(path, "test")
    assert str(raised.value) == (
        "getting stack configuration: invalid YAML file: could not unmarshal map: could not "
        "parse test:a:b as a configuration key (configuration keys should be of the form "
        f"`<namespace>:<name>`) in '{path}'"
    )


def test_the_old_config_module_form_of_a_key_is_read(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  aws:config:region: eu-west-1\n")
    assert pulumi_cli_config.load_stack_file(path, "test").config == {"aws:region": "eu-west-1"}


def test_null_is_set_but_of_no_type(tmp_path):
    # `key:` with no value is set (not missing) and is null, which no declared type accepts.
    with pytest.raises(CliConfigError, match="'importantNumber' must be of type 'integer'"):
        validated(tmp_path, INTEGER_PROJECT, "config:\n  test:importantNumber:\n")


def test_a_secret_key_with_a_default_must_still_be_set_encrypted(tmp_path):
    project = "name: test\nconfig:\n  token:\n    type: string\n    secret: true\n    default: x\n"
    with pytest.raises(CliConfigError, match="'token' must be encrypted as it's secret"):
        validated(tmp_path, project, "")


def test_an_encrypted_value_without_a_passphrase_is_checked_for_form_only(tmp_path):
    project = "name: test\nconfig:\n  port:\n    type: integer\n    secret: true\n"
    good = base64.b64encode(b"n" * 12).decode()
    validated(tmp_path, project, f"config:\n  test:port:\n    secure: v1:{good}:{good}\n")
    with pytest.raises(
        CliConfigError,
        match=r"^validating stack config: bad value \(the secure: value of test:port\)$",
    ):
        validated(tmp_path, project, "config:\n  test:port:\n    secure: AAAA\n")


# --- every stack of this repository ---------------------------------------------------------------


def repository_stacks() -> list[tuple[Path, Path]]:
    """(Pulumi.yaml, stack file) of every stack file in the repository."""
    root_stacks = [
        *sorted(ROOT.glob("Pulumi.*.yaml")),
        *sorted(ROOT.glob("tests/render/stacks/*.yaml")),
    ]
    fleet = ROOT / "examples" / "fleet"
    return [
        *((ROOT / "Pulumi.yaml", s) for s in root_stacks),
        *((fleet / "Pulumi.yaml", s) for s in sorted(fleet.glob("Pulumi.*.yaml"))),
    ]


@pytest.mark.parametrize(
    ("project_file", "stack_file"),
    repository_stacks(),
    ids=lambda p: str(p.relative_to(ROOT)) if isinstance(p, Path) else p,
)
def test_every_stack_file_passes_the_clis_checks(project_file, stack_file):
    project = pulumi_cli_config.load_project(project_file)
    stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
    config = pulumi_cli_config.load_stack_file(stack_file, project.name).config
    pulumi_cli_config.validate_stack_config(stack, project, config)


def test_a_new_stack_needs_only_its_upstreams(tmp_path):
    project = pulumi_cli_config.load_project(ROOT / "Pulumi.yaml")
    path = tmp_path / "Pulumi.new.yaml"
    path.write_text("config:\n  msr-cache:upstreams: [https://msr.example.com]\n")
    config = pulumi_cli_config.load_stack_file(path, project.name).config
    merged = pulumi_cli_config.validate_stack_config("new", project, config)
    assert merged["msr-cache:upstreams"] == ["https://msr.example.com"]


# --- the render's handling: one message, exit 1, nothing left behind -----------------------------


UPSTREAMS = "  msr-cache:upstreams: [https://msr.example.com]\n"


def test_a_stack_without_upstreams_exits_with_the_programs_message(tmp_path, capsys):
    """Pulumi.yaml declares upstreams with a default of [] (reference.py), so the CLI hands the
    stack to the program, which says what is missing, and what was meant where it can."""
    code, err = run_render(tmp_path, capsys, "config:\n  msr-cache:port: 30443\n")
    assert code == 1
    assert "  - msr-cache:upstreams: missing; expected at least one https URL of MSR" in err


@pytest.mark.parametrize(
    ("stack_text", "says"),
    [
        ("- config\n", "getting stack configuration: expected project to be an object, was "
         "'[]interface {}' (the stack file '{path}' is array; it must be a mapping"),
        ("config: [a, b]\n", "getting stack configuration: invalid YAML file: could not unmarshal "
         "map: yaml: unmarshal errors: cannot unmarshal !!seq into map[string]config.Value "
         "(config: in '{path}' must be a mapping of <namespace>:<key> to values)"),
        ("config: a long text\n", "cannot unmarshal !!str `a long ...` into "
         "map[string]config.Value (config: in '{path}'"),
        (
            "config:\n  msr-cache:upstreams: [https://msr.example.com\n  msr-cache:port: 1\n",
            "getting stack configuration: invalid YAML file: yaml: did not find expected ',' or "
            "']' (line 3, column 17 of '{path}', while parsing a flow sequence from line 2)",
        ),
        (
            "config:\n  msr-cache:hosts: [a\tb\n",
            "getting stack configuration: invalid YAML file: yaml: did not find expected ',' or "
            "']' (line 3, column 1 of '{path}', while parsing a flow sequence from line 2)",
        ),
        (
            b"config:\n  msr-cache:name: \xff\xfe\n",
            "getting stack configuration: invalid YAML file: yaml: invalid leading UTF-8 octet "
            "(byte 0xff at line 2 of '{path}')",
        ),
        (
            "config:\n" + UPSTREAMS + "  msr-cache:tlsKey:\n    secure: not-a-ciphertext\n",
            "validating stack config: bad value (the secure: value of msr-cache:tlsKey)",
        ),
        (
            "config:\n" + UPSTREAMS + "  msr-cache:tlsKey:\n    secure: v2:AAAA:AAAA\n",
            "validating stack config: unknown value version (the secure: value of msr-cache:tlsKey)",
        ),
        (
            "config:\n" + UPSTREAMS + "  msr-cache:replicas: .nan\n",
            "getting stack configuration: invalid YAML file: could not unmarshal map: json: "
            "unsupported value: NaN (the value of msr-cache:replicas in '{path}')",
        ),
        (
            "config:\n" + UPSTREAMS + "  replicas: -.inf\n",
            "getting stack configuration: invalid YAML file: could not unmarshal map: json: "
            "unsupported value: -Inf (the value of replicas in '{path}')",
        ),
        (
            "config:\n" + UPSTREAMS + "  msr-cache:replicas: two\n",
            "validating stack config: Stack 'bad' with configuration key 'replicas' must be of "
            "type 'integer' (set as msr-cache:replicas)",
        ),
    ],
    ids=[
        "not-a-mapping",
        "config-not-a-mapping",
        "config-a-text",
        "yaml-syntax",
        "yaml-unclosed-after-a-tab",
        "not-utf8",
        "secure-malformed",
        "secure-version",
        "nan",
        "infinity-without-namespace",
        "wrong-type",
    ],
)  # fmt: skip
def test_a_malformed_stack_file_is_one_message(tmp_path, capsys, stack_text, says):
    """The CLI's words (the stage it stops at, and what it says), then where: the file, and the
    key as the stack file writes it, which the CLI does not always say."""
    code, err = run_render(tmp_path, capsys, stack_text)
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert says.replace("{path}", str(tmp_path / "Pulumi.bad.yaml")) in err


def test_tabs_separate_as_in_the_clis_yaml(tmp_path):
    """yaml.v3 is a port of libyaml, which takes a tab for a space between tokens (PyYAML's own
    scanner refuses it); tests/engine/test_stack_files.py has the real CLI take one too."""
    project = project_from_text(tmp_path, "name: test\n")
    config = stack_from_text(tmp_path, project, "config:\n  test:a:\t[x,\ty]\n  test:b: c\t# d\n")
    assert config == {"test:a": ["x", "y"], "test:b": "c"}


def test_only_the_first_document_is_read_as_yaml_v3_reads_it(tmp_path):
    project = project_from_text(tmp_path, "name: test\n")
    config = stack_from_text(tmp_path, project, "config:\n  test:a: 1\n---\nconfig: [\n")
    assert config == {"test:a": 1}


def test_a_secure_map_that_holds_no_text_is_a_map(tmp_path):
    """`secure: 42` is no ciphertext: the CLI hands the program the map as JSON, as any other,
    and the program says what is wrong with it (tests/engine/test_stack_files.py, bad/secure-not-text)."""
    config = validated(tmp_path, "name: test\n", "config:\n  test:key:\n    secure: 42\n")
    assert config == {"test:key": '{"secure":42}'}


@pytest.fixture(scope="module")
def encrypted() -> tuple[str, Callable[[str], str]]:
    """(encryptionsalt, encrypt) of a passphrase provider, as the Pulumi CLI makes them."""
    return encrypter()


@pytest.mark.parametrize(
    ("salt", "says"),
    [
        ("v1:AAAA", "malformed state value"),
        ("v2:AAAA:AAAA", "unknown state version"),
        ("v1:not base64!:AAAA", "illegal base64 data"),
    ],
    ids=["malformed", "wrong-version", "not-base64"],
)
@pytest.mark.parametrize("secret", [True, False], ids=["with-a-secret", "without-secrets"])
@pytest.mark.parametrize("passphrase", [PASSPHRASE, None], ids=["passphrase", "no-passphrase"])
def test_a_malformed_encryption_salt_is_one_message(
    tmp_path, capsys, monkeypatch, salt, says, secret, passphrase
):
    """The CLI makes the secrets manager of every stack with a salt, and a salt it cannot read
    stops it; without a passphrase the render refuses it still (it would stand in for secrets)."""
    if passphrase is None:
        monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    else:
        monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", passphrase)
    stack = f"encryptionsalt: {salt}\nconfig:\n{UPSTREAMS}"
    if secret:
        stack += "  msr-cache:tlsKey:\n    secure: x\n"
    code, err = run_render(tmp_path, capsys, stack)
    assert code == 1
    path = tmp_path / "Pulumi.bad.yaml"
    assert err.startswith(f"error: getting stack configuration: get stack secrets manager: {says}")
    assert err.endswith(f" (the encryptionsalt of '{path}')\n") and err.count("\n") == 1


def test_an_unreadable_passphrase_file_is_one_message(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(tmp_path / "absent"))
    stack = (
        f"encryptionsalt: v1:AAAA:AAAA\nconfig:\n{UPSTREAMS}  msr-cache:tlsKey:\n    secure: x\n"
    )
    code, err = run_render(tmp_path, capsys, stack)
    assert code == 1
    assert err == (
        "error: getting stack configuration: get stack secrets manager: unable to read "
        "PULUMI_CONFIG_PASSPHRASE_FILE: No such file or directory\n"
    )


@pytest.mark.parametrize("secret", [True, False], ids=["with-a-secret", "without-secrets"])
def test_a_wrong_passphrase_is_the_clis_message(tmp_path, capsys, monkeypatch, encrypted, secret):
    """Refused as the CLI makes the stack's secrets manager, secrets or none."""
    salt, encrypt = encrypted
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "wrong")
    stack = f"encryptionsalt: {salt}\nconfig:\n{UPSTREAMS}"
    if secret:
        stack += f"  msr-cache:tlsKey:\n    secure: {encrypt('key')}\n"
    code, err = run_render(tmp_path, capsys, stack)
    assert code == 1
    assert err == (
        "error: getting stack configuration: get stack secrets manager: incorrect passphrase "
        "(the passphrase given, PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, does "
        f"not open the encryptionsalt of '{tmp_path / 'Pulumi.bad.yaml'}')\n"
    )


def test_a_value_sealed_with_another_passphrase_is_one_message(
    tmp_path, capsys, monkeypatch, encrypted
):
    salt, _ = encrypted
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
    other = base64.b64encode(b"n" * 12).decode()
    stack = f"encryptionsalt: {salt}\nconfig:\n{UPSTREAMS}  msr-cache:tlsKey:\n"
    stack += f"    secure: v1:{other}:{other}\n"
    code, err = run_render(tmp_path, capsys, stack)
    assert code == 1
    assert err == (
        "error: validating stack config: cipher: message authentication failed "
        "(the secure: value of msr-cache:tlsKey)\n"
    )


def test_a_failed_render_leaves_no_earlier_manifests(tmp_path, capsys):
    out = tmp_path / "out" / "1-manifest"
    out.mkdir(parents=True)
    (out / "v1-service-dtr-dtr-cache.yaml").write_text("kind: Service\n")
    code, _ = run_render(tmp_path, capsys, "config:\n  msr-cache:port: 30443\n")
    assert code == 1
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.bad.yaml"]  # no staging left


@pytest.mark.parametrize("other", ["notes.txt", "1-manifest/notes.txt", "2-other/a.yaml"])
def test_a_folder_with_other_files_is_neither_replaced_nor_removed(tmp_path, capsys, other):
    kept = tmp_path / "out" / other
    kept.parent.mkdir(parents=True)
    kept.write_text("mine\n")
    code, err = run_render(tmp_path, capsys, "config:\n  msr-cache:port: 30443\n")
    assert code == 1
    assert f"error: {tmp_path / 'out'} holds files a render does not write" in err
    assert kept.read_text() == "mine\n"


def test_a_render_replaces_the_earlier_folder_whole(tmp_path, capsys):
    stale = tmp_path / "out" / "1-manifest" / "v1-service-dtr-gone.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("kind: Service\n")
    shutil.copy(ROOT / "Pulumi.dev.yaml", tmp_path / "Pulumi.dev.yaml")
    assert main(["dev", str(tmp_path / "out"), "--stack-dir", str(tmp_path)]) == 0
    count = int(capsys.readouterr().out.split("rendered ", 1)[1].split()[0])
    assert not stale.exists()
    assert len(list((tmp_path / "out" / "1-manifest").glob("*.yaml"))) == count > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.dev.yaml", "out"]


def test_the_manifest_diff_reports_a_refused_stack_as_not_rendering(tmp_path):
    # render.diff renders each side in a subprocess: a tree whose render is this one.
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copytree(ROOT / "render", tree / "render", ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "components").symlink_to(ROOT / "components")
    (tree / "Pulumi.yaml").write_text(
        "name: msr-cache\nconfig:\n  upstreams:\n    type: array\n    items: {type: string}\n"
    )
    (tree / "Pulumi.refused.yaml").write_text("config:\n  msr-cache:port: 30443\n")
    result = diff.rendered(tree, ".", "refused", tmp_path / "out")
    assert result == (
        "error: validating stack config: Stack 'refused' is missing configuration value 'upstreams'"
    )
    assert not (tmp_path / "out").exists()


def test_the_error_is_a_config_error_printed_as_the_clis_message():
    # A ConfigError, so whatever stops on a config mistake (main, the tests) stops on it too.
    assert issubclass(CliConfigError, ConfigError)
    assert str(CliConfigError("Stack 'x' is missing configuration value 'y'")) == (
        "Stack 'x' is missing configuration value 'y'"
    )


@pytest.mark.parametrize(
    "project_text", ["- name\n", "runtime: python\n", "name: x\nconfig: ./stacks\n"]
)
def test_a_project_file_the_render_cannot_read_is_one_message(tmp_path, capsys, project_text):
    # What is wrong with it, the real CLI says (tests/engine/test_stack_files.py loads the repository's).
    project_dir = tmp_path / "project"
    project_dir.mkdir()
    (project_dir / "Pulumi.yaml").write_text(project_text)
    code, err = run_render(
        tmp_path, capsys, "config:\n" + UPSTREAMS, "--project-dir", str(project_dir)
    )
    assert code == 1
    assert err.startswith("error: could not read") and err.count("\n") == 1, err
    assert str(project_dir / "Pulumi.yaml") in err and "pulumi preview" in err
