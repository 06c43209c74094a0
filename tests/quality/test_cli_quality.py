"""``labelops quality`` through Typer's CliRunner, on real files."""

from __future__ import annotations

import json

import krippendorff
import pandas as pd
import pytest
from typer.testing import CliRunner

from labelops.cli.quality import app
from real_data import is_full

runner = CliRunner()


@pytest.fixture()
def dog_csv(tmp_path, crowd_dataset, data_dir):
    answers, truth = crowd_dataset("s4_Dog_data")
    assert truth.size == (807 if is_full(data_dir) else 50)
    path = tmp_path / "dog.csv"
    answers.rename(columns={"item_id": "item", "labeller_id": "labeller"}).assign(note="x").to_csv(
        path, index=False
    )
    gold = tmp_path / "gold.csv"
    truth.iloc[:100].rename("label").rename_axis("item").reset_index().to_csv(gold, index=False)
    return path, gold, answers, truth


def test_agreement_json(dog_csv):
    path, _, answers, truth = dog_csv
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
    assert payload["n_items"] == truth.size


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
    assert len(final) == truth.size and final["probability"].between(0, 1).all()
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


def test_agreement_streams_large_files_in_chunks(tmp_path, monkeypatch):
    """~200k rows read in 50k-row chunks give exactly the in-memory answer.

    The 10-million-row case is measured by ``bench/aggregation.py --cli-10m``.
    """
    import labelops.cli.quality as cli_quality
    from labelops.quality.agreement import compute_krippendorff_alpha
    from labelops.quality.answers import AnswersEncoder
    from labelops.quality.simulate import simulate_answers

    sim = simulate_answers(66_667, 40, 4, labels_per_item=3, seed=5)
    frame = sim.answers.assign(
        item_id="ad-" + sim.answers["item_id"].astype(str),
        labeller_id="v" + sim.answers["labeller_id"].astype(str),
        label="c" + sim.answers["label"].astype(str),
    )
    path = tmp_path / "big.csv"
    frame.rename(columns={"item_id": "item", "labeller_id": "labeller"}).to_csv(path, index=False)
    chunks: list[int] = []
    original_add = AnswersEncoder.add

    def counting_add(self, chunk):
        chunks.append(len(chunk))
        original_add(self, chunk)

    monkeypatch.setattr(cli_quality, "_CHUNK_ROWS", 50_000)
    monkeypatch.setattr(AnswersEncoder, "add", counting_add)
    result = runner.invoke(
        app, ["agreement", str(path), "--json", "--resamples", "50", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert chunks == [50_000, 50_000, 50_000, 50_000, 1]
    payload = json.loads(result.stdout)
    expected = compute_krippendorff_alpha(frame, n_resamples=50, seed=3, per_class=False)
    assert payload["value"] == pytest.approx(expected.value, abs=1e-6)
    assert payload["ci_low"] == pytest.approx(expected.ci_low, abs=1e-6)
    assert payload["ci_high"] == pytest.approx(expected.ci_high, abs=1e-6)
    assert payload["n_items"] == expected.n_items == 66_667
