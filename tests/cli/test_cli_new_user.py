"""What a new user met on the command line (issue #19): a crash on a taxonomy without a
zh-Hant name, a blank line before ``--json`` output, messages wrapped at 80 columns in
pipes, reStructuredText in ``--help``, and English parser text in zh-Hant errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from labelops.cli import app

REPO = Path(__file__).resolve().parents[2]
TAXONOMY = REPO / "src" / "labelops" / "demo" / "ads_policy_taxonomy.yaml"

NO_ZH_NAME = """\
key: no-zh
version: 1
labels:
  - key: ok
    name: {en: OK, zh-Hant: 好}
  - key: scam_without_chinese
    name: {en: Scam}
"""


@pytest.fixture()
def runner(cli_env, monkeypatch) -> CliRunner:
    # A pipe as Rich sees it when no standard stream is a terminal.
    monkeypatch.setenv("COLUMNS", "80")
    for forcing in ("FORCE_COLOR", "TTY_COMPATIBLE"):  # would make Rich see a terminal
        monkeypatch.delenv(forcing, raising=False)
    return CliRunner()


def _run(runner: CliRunner, *args: str) -> click.testing.Result:
    return runner.invoke(app, list(args))


def _project(runner: CliRunner) -> None:
    assert _run(runner, "vendor", "add", "Vendor A").exit_code == 0
    assert _run(runner, "taxonomy", "add", str(TAXONOMY)).exit_code == 0
    args = ["project", "create", "ads-q4", "--taxonomy", "ads-policy@1", "--overlap", "1"]
    assert _run(runner, *args, "--vendor", "Vendor A").exit_code == 0


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Label 'scam_without_chinese' has no name in zh-Hant"),
        ("zh-Hant", "標籤「scam_without_chinese」缺少 zh-Hant 名稱"),
    ],
)
def test_taxonomy_without_a_zh_hant_name_names_file_label_and_field(
    runner, tmp_path, monkeypatch, lang, expected
):
    path = tmp_path / "policy-without-chinese-names.yaml"
    path.write_text(NO_ZH_NAME, encoding="utf-8")
    monkeypatch.setenv("LABELOPS_LANG", lang)
    result = _run(runner, "taxonomy", "add", str(path))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = result.stderr
    assert str(path) in message and "labels[1].name.zh-Hant" in message and expected in message
    assert _run(runner, "taxonomy", "list", "--json").stdout.strip() == "[]"


def test_import_json_prints_exactly_one_json_document(runner, tmp_path):
    _project(runner)
    source = tmp_path / "items.jsonl"
    source.write_text('{"external_id": "a", "text": "限時特價"}\n', encoding="utf-8")
    result = _run(runner, "import", "ads-q4", str(source), "--json")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("{") and result.stdout.endswith("}\n")
    assert json.loads(result.stdout)["n_created"] == 1
    plain = _run(runner, "import", "ads-q4", str(source))
    assert plain.stdout.startswith("Import ")  # no blank line before the summary either


def test_piped_messages_are_not_wrapped(runner, tmp_path):
    folder = tmp_path / "a-folder-with-a-rather-long-name-as-vendors-deliver-them"
    folder.mkdir()
    path = folder / "policy-without-chinese-names.yaml"
    path.write_text(NO_ZH_NAME, encoding="utf-8")
    result = _run(runner, "taxonomy", "add", str(path))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and len(lines[0]) > 120, lines
    assert lines[0].startswith(str(path)) and lines[0].endswith("in en and zh-Hant")


def test_piped_tables_keep_their_natural_width(runner):
    assert _run(runner, "taxonomy", "add", str(TAXONOMY)).exit_code == 0
    result = _run(runner, "taxonomy", "list")
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if "ads-policy" in line)
    assert "compliant, adult_sexual" in row and "political" in row  # one line, not folded


def _commands(command: click.Command, path: tuple[str, ...]):
    yield path, command
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app), ()))
RST = re.compile(r"``|:(?:func|mod|class|meth|data|attr|ref):`|`[^`]+`_")


def test_help_texts_carry_no_restructuredtext():
    found = []
    for path, command in COMMANDS:
        texts = [command.help or "", command.short_help or ""]
        texts += [getattr(param, "help", None) or "" for param in command.params]
        found += [(" ".join(path), text) for text in texts if RST.search(text)]
    assert not found


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "root")
def test_every_help_page_shows_its_text_without_markup(path):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert not RST.search(result.stdout)
    command = dict(COMMANDS)[path]
    first_line = (command.help or "").strip().splitlines()[0] if command.help else ""
    flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stdout).split())
    assert " ".join(first_line.split()) in flat  # no word eaten as Rich markup
    for param in command.params:
        text = getattr(param, "help", None)
        if text and not getattr(param, "hidden", False):
            assert " ".join(text.split()) in flat, (param.name, text)


def _assert_zh_json_error(text: str, line: int) -> None:
    match = re.search(
        rf"第 {line} 行: JSON 格式錯誤，第 (\d+) 字元：(.+)（解析器訊息：(.+)）", text
    )
    assert match, text
    explanation, reason = match.group(2), match.group(3)
    words = re.sub(r"\b(JSON|true|false|null|Tab|UTF-8)\b", "", explanation)
    assert not re.search(r"[A-Za-z]{3,}", words), explanation  # no English sentence
    assert re.search(r"[\u4e00-\u9fff]{4,}", explanation)
    assert re.search(r"[A-Za-z]{3,}", reason)  # the parser's own words, as a detail only


def test_zh_hant_jsonl_errors_are_in_chinese_with_line_and_column(runner, tmp_path, monkeypatch):
    _project(runner)
    source = tmp_path / "bad.jsonl"
    source.write_text(
        '{"external_id": "a", "text": "好"}\n{"external_id": "b", "text": "壞"\n', encoding="utf-8"
    )
    monkeypatch.setenv("LABELOPS_LANG", "zh-Hant")
    result = _run(runner, "import", "ads-q4", str(source))
    assert result.exit_code == 2
    assert "bad.jsonl" in result.stderr
    _assert_zh_json_error(result.stderr, 2)


def test_zh_hant_json_taxonomy_error_is_in_chinese(runner, tmp_path, monkeypatch):
    source = tmp_path / "policy.json"
    source.write_text('{"key": "x",\n "version": 1,\n "labels": [,]}\n', encoding="utf-8")
    monkeypatch.setenv("LABELOPS_LANG", "zh-Hant")
    result = _run(runner, "taxonomy", "add", str(source))
    assert result.exit_code == 2
    assert str(source) in result.stderr
    _assert_zh_json_error(result.stderr, 3)


def test_zh_hant_yaml_taxonomy_error_is_in_chinese(runner, tmp_path, monkeypatch):
    source = tmp_path / "policy.yaml"
    source.write_text("key: x\nversion: 1\nlabels: [a, b\n", encoding="utf-8")
    monkeypatch.setenv("LABELOPS_LANG", "zh-Hant")
    result = _run(runner, "taxonomy", "add", str(source))
    assert result.exit_code == 2
    assert re.search(
        r"policy.yaml, 第 \d+ 行: YAML 格式錯誤，第 \d+ 字元（解析器訊息：.+）", result.stderr
    )


def test_zh_hant_error_types_file_error_is_in_chinese(runner, tmp_path, monkeypatch):
    source = tmp_path / "error-types.json"
    source.write_text('[{"key": "a", "name_en": "A", "name_zh": "甲"},\n]\n', encoding="utf-8")
    monkeypatch.setenv("LABELOPS_LANG", "zh-Hant")
    result = _run(runner, "audit", "error-types-set", str(source))
    assert result.exit_code == 2
    assert str(source) in result.stderr
    _assert_zh_json_error(result.stderr, 2)
