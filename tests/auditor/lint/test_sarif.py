"""SARIF 2.1.0 output (auditor/lint/sarif.py), validated against the spec's required fields."""

import json

import jsonschema

from auditor.lint.config import LintConfig
from auditor.lint.rules import RULES
from auditor.lint.runner import lint_paths
from auditor.lint.sarif import to_sarif

# The required structure of a SARIF 2.1.0 log (sarif-schema-2.1.0.json, OASIS), written out
# here so the test needs no network: sarifLog -> run -> tool.driver, result -> message,
# location -> physicalLocation -> artifactLocation + region.
_MESSAGE = {"type": "object", "anyOf": [{"required": ["text"]}, {"required": ["id"]}]}
SARIF_REQUIRED = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "shortDescription": _MESSAGE,
                                                "defaultConfiguration": {
                                                    "properties": {
                                                        "level": {
                                                            "enum": [
                                                                "none",
                                                                "note",
                                                                "warning",
                                                                "error",
                                                            ]
                                                        }
                                                    }
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "message": _MESSAGE,
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "anyOf": [
                                                    {"required": ["address"]},
                                                    {"required": ["artifactLocation"]},
                                                ],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "properties": {
                                                            "uri": {
                                                                "type": "string",
                                                                "format": "uri-reference",
                                                            },
                                                            "uriBaseId": {"type": "string"},
                                                        },
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {
                                                            "startLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            },
                                                            "startColumn": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            },
                                                            "endLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            },
                                                            "endColumn": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            },
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

DEFECT = (
    "from app.ids import generate_thread_id\n\n\n"
    "class QualityHandler:\n"
    "    async def handle(self, user_id, payload):\n"
    "        thread_id = payload.get('thread_id') or generate_thread_id()\n"
    "        return await self.sm.get_execution_context(thread_id=thread_id)\n"
)


def _sarif(tmp_path, monkeypatch):
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "quality.py").write_text(DEFECT)
    (tmp_path / "handlers" / "broken.py").write_text("def (:\n")
    monkeypatch.chdir(tmp_path)
    return to_sarif(lint_paths(["handlers"], LintConfig()))


def test_sarif_validates_against_the_required_fields(tmp_path, monkeypatch):
    log = _sarif(tmp_path, monkeypatch)
    jsonschema.validate(log, SARIF_REQUIRED, format_checker=jsonschema.FormatChecker())
    json.dumps(log)  # serialisable as is


def test_sarif_results_point_at_the_code(tmp_path, monkeypatch):
    run = _sarif(tmp_path, monkeypatch)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [code.value for code in RULES]
    summary = [
        (
            r["ruleId"],
            rules[r["ruleIndex"]]["id"],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    ]
    assert summary == [
        ("QC000", "QC000", "error", {"uri": "handlers/broken.py", "uriBaseId": "%SRCROOT%"}, 1),
        ("QC001", "QC001", "warning", {"uri": "handlers/quality.py", "uriBaseId": "%SRCROOT%"}, 7),
    ]


def test_absolute_paths_become_file_uris(tmp_path):
    path = tmp_path / "quality.py"
    path.write_text(DEFECT)
    result = to_sarif(lint_paths([str(path)], LintConfig()))["runs"][0]["results"][0]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": path.as_uri()}


def test_relative_paths_are_uri_references_with_their_characters_escaped(tmp_path, monkeypatch):
    """A space, `#` (a fragment), `%` and non-ASCII letters in a relative path are escaped as
    the absolute path's file URI escapes them (RFC 3986), so a code-scanning UI finds it."""
    folder = tmp_path / "sp ace" / "ü#x"
    folder.mkdir(parents=True)
    (folder / "h%1.py").write_text(DEFECT)
    monkeypatch.chdir(tmp_path)
    result = to_sarif(lint_paths(["sp ace"], LintConfig()))["runs"][0]["results"][0]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "sp%20ace/%C3%BC%23x/h%251.py", "uriBaseId": "%SRCROOT%"}
    absolute = (folder / "h%1.py").as_uri()
    assert absolute.endswith("/" + location["uri"])


def test_schema_rejects_a_broken_log():
    """The schema above is strict enough to catch a missing driver name."""
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]}
    try:
        jsonschema.validate(broken, SARIF_REQUIRED)
    except jsonschema.ValidationError as exc:
        assert "'name' is a required property" in exc.message
    else:
        raise AssertionError("a driver without a name passed validation")
