"""``labelops quality`` through Typer's CliRunner, on real files."""

from __future__ import annotations

import json

import krippendorff
import pandas as pd
import pytest
from typer.testing import CliRunner

from labelops.cli.quality import app

runner = CliRunner()


@pytest.fixture()
def dog_csv(tmp_path, crowd_dataset):
    answers, truth = crowd_dataset("s4_Dog_data")
    path = tmp_path / "dog.csv"
    answers.rename(columns={"item_id": "item", "labeller_id": "labeller"}).assign(note="x").to_csv(
        path, index=False
    )
    gold = tmp_path / "gold.csv"
    truth.iloc[:100].rename("label").rename_axis("item").reset_index().to_csv(gold, index=False)
    return path, gold, answers, truth


def test_agreement_json(dog_csv):
    path, _, answers, _ = dog_csv
    result = runner.invoke(
        app,
        ["agreement", str(path), "--metric", "krippendorff-alpha", "--json", "--resamples", "100"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    wide = answers.assign(label=answers["label"].astype(float)).pivot_table(
        index="labeller_id", columns="item_id", values="label", aggfunc="last"
    )
    assert payload["value"] == pytest.approx(
        krippendorff.alpha(wide.to_numpy(), level_of_measurement="nominal"), abs=1e-6
    )
    assert set(payload) == {"metric", "value", "ci_low", "ci_high", "n_items", "n_labellers"}
    assert payload["n_items"] == 807


def test_agreement_by_class(dog_csv):
    path, *_ = dog_csv
    result = runner.invoke(
        app,
        [
            "agreement",
            str(path),
            "--metric",
            "gwet-ac1",
            "--by",
            "class",
            "--json",
            "--resamples",
            "50",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["class"] for row in rows] == ["0", "1", "2", "3"]


def test_aggregate_writes_file(dog_csv, tmp_path):
    path, gold, _, truth = dog_csv
    out = tmp_path / "final.csv"
    result = runner.invoke(
        app,
        ["aggregate", str(path), "--method", "dawid-skene", "--gold", str(gold), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    final = pd.read_csv(out, dtype={"item": str, "label": str})
    assert list(final.columns) == ["item", "label", "probability"]
    assert len(final) == 807 and final["probability"].between(0, 1).all()
    merged = final.set_index("item")["label"].reindex(truth.index)
    assert (merged == truth).mean() > 0.84


def test_labellers_json(dog_csv):
    path, gold, *_ = dog_csv
    result = runner.invoke(app, ["labellers", str(path), "--gold", str(gold), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {row["source"] for row in rows} <= {"gold", "model"}
    assert all(0 <= row["ci_low"] <= row["accuracy"] <= row["ci_high"] <= 1 for row in rows)
    assert len(rows[0]["confusion"]) == 4


def test_bad_rows_exit_2_with_line_numbers(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("item,labeller,label\n1,a,x\n1,,y\n2,b,\n", encoding="utf-8")
    result = runner.invoke(app, ["agreement", str(path)])
    assert result.exit_code == 2
    assert "line 3" in result.output and "line 4" in result.output


def test_missing_column_and_undefined_alpha(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("item,who,label\n1,a,x\n", encoding="utf-8")
    result = runner.invoke(app, ["aggregate", str(path), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "labeller_id" in result.output
    same = tmp_path / "same.csv"
    same.write_text("item,labeller,label\n1,a,x\n1,b,x\n2,a,x\n2,b,x\n", encoding="utf-8")
    result = runner.invoke(app, ["agreement", str(same)])
    assert result.exit_code == 2 and "undefined" in result.output
