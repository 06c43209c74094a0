"""The command line on a real database file: set-up, import, finalize, export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelops.cli import app

REPO = Path(__file__).resolve().parents[2]
TAXONOMY = REPO / "src" / "labelops" / "demo" / "ads_policy_taxonomy.yaml"


def _run(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture()
def runner(cli_env) -> CliRunner:
    return CliRunner()


def _setup(runner: CliRunner) -> str:
    assert _run(runner, "vendor", "add", "Vendor A")[0] == 0
    code, out = _run(
        runner, "user", "add", "alice", "--role", "labeller", "--vendor", "Vendor A", "--json"
    )
    assert code == 0
    user = json.loads(out)
    assert set(user) >= {"username", "role", "token"} and user["token"].startswith("lo_")
    assert _run(runner, "taxonomy", "add", str(TAXONOMY))[0] == 0
    code, out = _run(
        runner,
        "project",
        "create",
        "ads-q4",
        "--taxonomy",
        "ads-policy@1",
        "--overlap",
        "1",
        "--gold-rate",
        "0.05",
        "--vendor",
        "Vendor A",
        "--sla-hours",
        "24",
        "--json",
    )
    assert code == 0 and json.loads(out)["name"] == "ads-q4"
    return str(user["token"])


def test_end_to_end_import_finalize_export(runner, client, tmp_path):
    token = _setup(runner)
    source = tmp_path / "items.jsonl"
    source.write_text(
        "".join(
            json.dumps(
                {"external_id": f"ad-{i}", "text": f"限時特價 {i} 元，加LINE"}, ensure_ascii=False
            )
            + "\n"
            for i in range(5)
        ),
        encoding="utf-8",
    )
    code, out = _run(runner, "import", "ads-q4", str(source), "--json")
    assert code == 0 and json.loads(out)["n_created"] == 5
    code, out = _run(runner, "import", "ads-q4", str(source), "--json")
    assert code == 0 and json.loads(out)["n_duplicates"] == 5
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(5):
        body = client.get("/api/projects/1/next", headers=headers).json()
        client.post(
            f"/api/assignments/{body['assignment_id']}/label",
            json={"label": "compliant"},
            headers=headers,
        )
    code, out = _run(runner, "finalize", "ads-q4", "--method", "majority", "--json")
    assert code == 0 and json.loads(out)["n_final"] == 5
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert _run(runner, "export", "ads-q4", "--format", "jsonl", "--out", str(first))[0] == 0
    assert _run(runner, "export", "ads-q4", "--format", "jsonl", "--out", str(second))[0] == 0
    assert first.read_bytes() == second.read_bytes()
    rows = [json.loads(line) for line in first.read_text(encoding="utf-8").splitlines()]
    assert {row["final_label"] for row in rows} == {"compliant"}
    code, out = _run(runner, "project", "list", "--json")
    assert json.loads(out)[0]["n_final"] == 5


def test_invalid_import_exits_non_zero_and_says_where(runner, tmp_path):
    _setup(runner)
    source = tmp_path / "bad.jsonl"
    source.write_text('{"external_id": "a", "text": "ok"}\n{not json}\n', encoding="utf-8")
    code, out = _run(runner, "import", "ads-q4", str(source))
    assert code == 2
    assert "bad.jsonl" in out and "line 2" in out
    code, out = _run(runner, "project", "list", "--json")
    assert json.loads(out)[0]["n_tasks"] == 0


def test_messages_follow_labelops_lang(runner, monkeypatch):
    _setup(runner)
    monkeypatch.setenv("LABELOPS_LANG", "zh-Hant")
    code, out = _run(runner, "vendor", "add", "Vendor A")
    assert code == 4
    assert "供應商「Vendor A」已存在" in out


def test_project_with_overlap_zero_is_refused(runner):
    _setup(runner)
    code, out = _run(
        runner,
        "project",
        "create",
        "p0",
        "--taxonomy",
        "ads-policy@1",
        "--overlap",
        "0",
        "--vendor",
        "Vendor A",
    )
    assert code == 2 and "overlap" in out.lower()


def test_listing_commands_take_json(runner):
    _setup(runner)
    for command in (
        ["vendor", "list"],
        ["user", "list"],
        ["taxonomy", "list"],
        ["project", "list"],
    ):
        code, out = _run(runner, *command, "--json")
        assert code == 0, command
        assert isinstance(json.loads(out), list)


def test_import_maps_a_column_of_another_name(runner, real_data):
    """The real cofacts CSV keys its rows ``id``: the error says how to map it, and
    ``--column external_id=id`` imports it as is."""
    _setup(runner)
    source = real_data / "cofacts-flow-categories-zhtw" / "dev.csv"
    code, out = _run(runner, "import", "ads-q4", str(source))
    assert code == 2 and "dev.csv" in out and "--column external_id=id" in out
    code, out = _run(runner, "import", "ads-q4", str(source), "--column", "external_id", "--json")
    assert code == 2 and "FIELD=COLUMN" in out
    code, out = _run(runner, "project", "list", "--json")
    assert json.loads(out)[0]["n_tasks"] == 0
    code, out = _run(
        runner, "import", "ads-q4", str(source), "--column", "external_id=id", "--json"
    )
    assert code == 0, out
    with open(source, newline="", encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    report = json.loads(out)
    assert (report["n_rows"], report["n_created"]) == (len(texts), len(set(texts)))


def test_import_a_file_without_ids_with_hash_ids(runner, real_data, tmp_path, monkeypatch):
    """The real tg-spam CSV has ``target,input`` and no id: the error (here in zh-Hant)
    names --hash-ids; with it and --skip-invalid the good rows land, the ten bad ones
    (no text, three fields) go to the report, and a second run creates nothing."""
    _setup(runner)
    source = real_data / "tg-spam-zh" / "train.csv"
    monkeypatch.setenv("LABELOPS_LANG", "zh-Hant")
    code, out = _run(runner, "import", "ads-q4", str(source), "--column", "text=input")
    assert code == 2 and "train.csv" in out and "--hash-ids" in out and "缺少必要欄位" in out
    monkeypatch.setenv("LABELOPS_LANG", "en")
    args = ["import", "ads-q4", str(source), "--column", "text=input", "--hash-ids"]
    rejected = tmp_path / "rejected.jsonl"
    code, out = _run(runner, *args, "--skip-invalid", "--report", str(rejected), "--json")
    assert code == 0, out
    with open(source, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    good_texts = {row[1] for row in rows if len(row) == 2 and row[1]}
    report = json.loads(out)
    assert (report["n_created"], report["n_rejected"]) == (len(good_texts), 10)
    assert len(rejected.read_text(encoding="utf-8").splitlines()) == 10
    code, out = _run(runner, *args, "--skip-invalid", "--report", str(rejected), "--json")
    assert code == 0 and json.loads(out)["n_created"] == 0
