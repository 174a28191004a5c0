"""The `[tool.quality.lint]` section and `--select`/`--ignore` (auditor/lint/config.py)."""

import pytest

from auditor.errors import LintError
from auditor.lint import run_lint
from auditor.lint.config import LintConfig, config_from_mapping, load_config, matches, parse_codes
from auditor.lint.rules import SELECTABLE, Code

MINTS_CONVERSATION = (
    "async def handle(store, user_id, payload):\n"
    "    conversation_id = payload.get('conversation_id') or fresh_conversation()\n"
    "    return await store.get_execution_context(conversation_id=conversation_id)\n"
)


def _write_project(root, section: str) -> None:
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n\n' + section)
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "handler.py").write_text(MINTS_CONVERSATION)


def test_defaults_when_no_pyproject_has_the_section(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    assert load_config([str(tmp_path)]) == LintConfig()


def test_nearest_pyproject_section_is_found_from_a_nested_path(tmp_path):
    _write_project(tmp_path, '[tool.quality.lint]\nextend-generators = ["fresh_conversation"]\n')
    handler = str(tmp_path / "src" / "app" / "handler.py")
    config = load_config([handler])
    assert config.source == tmp_path / "pyproject.toml"
    assert config.generators == (*LintConfig().generators, "fresh_conversation")
    assert [f.code for f in run_lint([handler]).findings] == [Code.QC001]


def test_without_the_section_the_custom_generator_is_not_known(tmp_path):
    _write_project(tmp_path, "")
    assert run_lint([str(tmp_path / "src")]).findings == ()


def test_replacing_a_list_drops_the_defaults():
    config = config_from_mapping({"getters": ["open_dialog"]}, "test")
    assert config.getters == ("open_dialog",)
    assert config.generators == LintConfig().generators


def test_select_and_ignore_in_the_section():
    config = config_from_mapping({"select": ["QC001", "QC003"], "ignore": ["QC003"]}, "test")
    assert config.enabled == frozenset({Code.QC001})


def test_cli_codes_replace_the_section_codes():
    config = config_from_mapping({"ignore": ["QC002"]}, "test").with_codes("QC002,QC004", "")
    assert config.enabled == frozenset({Code.QC002, Code.QC004})


def test_a_cli_select_runs_what_the_config_ignores():
    """`ignore = ["QC002"]` in pyproject.toml and `--select QC002`: QC002 runs (it ran
    nothing, and the check passed)."""
    config = config_from_mapping({"ignore": ["QC002"]}, "test").with_codes("QC002", None)
    assert config.enabled == frozenset({Code.QC002})
    both = config_from_mapping({"ignore": ["QC002"]}, "test").with_codes("QC", "QC003")
    assert both.enabled == frozenset({Code.QC001, Code.QC002, Code.QC004})


@pytest.mark.parametrize("empty", ["", " , "])
def test_an_empty_select_is_an_error_not_a_pass(empty):
    with pytest.raises(LintError, match=r"--select names no rule code"):
        LintConfig().with_codes(empty, None)


def test_unknown_key_names_the_file_and_the_known_keys():
    with pytest.raises(LintError) as info:
        config_from_mapping({"generator": ["x"]}, "[tool.quality.lint] of pyproject.toml")
    message = str(info.value)
    assert message.startswith(
        "unknown key 'generator' in [tool.quality.lint] of pyproject.toml; known keys: "
    )
    assert "extend-generators" in message and "new-thread-functions" in message


def test_wrong_type_is_an_error():
    with pytest.raises(LintError, match=r"^getters in test must be a list of strings, got 3$"):
        config_from_mapping({"getters": 3}, "test")


def test_broken_toml_is_an_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.quality.lint\n")
    with pytest.raises(
        LintError, match=r"^cannot parse .*pyproject.toml: .*; fix the TOML syntax$"
    ):
        load_config([str(tmp_path)])


def test_config_file_with_top_level_keys(tmp_path):
    path = tmp_path / "lint.toml"
    path.write_text('ignore = ["QC002"]\nextend-getters = ["open_dialog"]\n')
    config = load_config([str(tmp_path)], str(path))
    assert Code.QC002 not in config.enabled
    assert config.getters[-1] == "open_dialog"


def test_config_file_that_is_a_pyproject_without_the_section(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.ruff]\nline-length = 100\n")
    with pytest.raises(
        LintError, match=r"has no \[tool.quality.lint\] section; add one or pass another file$"
    ):
        load_config([str(tmp_path)], str(path))


def test_missing_config_file(tmp_path):
    with pytest.raises(LintError, match=r"^config file not found: .*missing.toml$"):
        load_config([str(tmp_path)], str(tmp_path / "missing.toml"))


@pytest.mark.parametrize(
    ("values", "codes"),
    [
        (["QC001"], (Code.QC001,)),
        ([" qc003 ", ""], (Code.QC003,)),
        (["QC"], SELECTABLE),
        (["QC00", "QC001"], SELECTABLE),
    ],
)
def test_parse_codes(values, codes):
    assert parse_codes(values, "--select") == codes


def test_unknown_code_is_an_error():
    with pytest.raises(
        LintError,
        match=r"^unknown rule code 'QC999' in --select; known codes: QC001, QC002, QC003, QC004$",
    ):
        parse_codes(["QC999"], "--select")


@pytest.mark.parametrize(
    ("name", "patterns", "hit"),
    [
        ("uuid.uuid4", ("uuid4",), True),
        ("self.ids.generate_thread_id", LintConfig().generators, True),
        ("generate_video", LintConfig().generators, False),
        ("ids.new", ("ids.new",), True),
        ("other.new", ("ids.new",), False),
        ("ExecutionContext", ("*Context",), True),
        ("executioncontext", ("*Context",), False),
    ],
)
def test_name_patterns(name, patterns, hit):
    assert matches(name, patterns) is hit
