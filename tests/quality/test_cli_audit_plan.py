"""``labelops audit plan`` through Typer's CliRunner (no database needed)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from labelops.cli.audit import app

runner = CliRunner()


def _run(*args: str, lang: str = "en"):
    return runner.invoke(app, ["plan", *args], env={"LABELOPS_LANG": lang})


def test_json_has_exactly_the_documented_keys():
    result = _run("--lot-size", "1000", "--aql", "1.0", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "code_letter": "J",
        "sample_size": 80,
        "accept": 2,
        "reject": 3,
        "inspection": "normal",
        "level": "II",
        "aql": 1.0,
    }


def test_json_names_the_plan_letter_when_an_arrow_was_followed():
    result = _run("--lot-size", "1000", "--aql", "0.10", "--json")
    assert json.loads(result.stdout) == {
        "code_letter": "J",
        "plan_letter": "K",
        "sample_size": 125,
        "accept": 0,
        "reject": 1,
        "inspection": "normal",
        "level": "II",
        "aql": 0.1,
    }


def test_level_and_inspection_options():
    result = _run(
        "--lot-size", "1000", "--aql", "2.5", "--level", "II", "--inspection", "reduced", "--json"
    )
    payload = json.loads(result.stdout)
    assert (payload["sample_size"], payload["accept"], payload["reject"]) == (32, 2, 5)
    result = _run("--lot-size", "1000", "--aql", "2.5", "--level", "S-3", "--json")
    assert json.loads(result.stdout)["code_letter"] == "E"


@pytest.mark.parametrize(("lang", "label"), [("en", "Sample size"), ("zh-Hant", "樣本數")])
def test_rich_table_is_bilingual(lang, label):
    result = _run("--lot-size", "1000", "--aql", "0.25", lang=lang)
    assert result.exit_code == 0
    assert label in result.stdout and "50" in result.stdout


def test_bad_aql_exits_2_with_the_allowed_values():
    result = _run("--lot-size", "1000", "--aql", "3")
    assert result.exit_code == 2
    assert "0.010" in result.output and "1000" in result.output


def test_lot_of_one_exits_2_in_chinese_too():
    result = _run("--lot-size", "1", "--aql", "1.0", lang="zh-Hant")
    assert result.exit_code == 2
    assert "全數檢驗" in result.output
