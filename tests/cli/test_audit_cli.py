"""``labelops audit ...`` on a real database: lots, start, verdict, report, rework, gold."""

from __future__ import annotations

import json
from datetime import timedelta

from typer.testing import CliRunner

from factories import make_world
from labelops.cli.main import app
from labelops.services import audits, labelling, queue
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.types import utcnow

runner = CliRunner()


def _label_all(session, world, key="gambling"):
    project_id = world.project_ids["A"]
    actor = world.actors["labeller-a1"]
    when = utcnow() - timedelta(minutes=5)
    while (served := queue.next_task(session, actor, project_id, now=when)) is not None:
        labelling.submit_label(session, actor, served.assignment_id, [key], now=when)


def _run(*args):
    result = runner.invoke(app, ["audit", *args])
    return result


def test_lot_start_verdict_report_round_trip(cli_env, session):
    world = make_world(session, n_items=8, overlap=1)
    _label_all(session, world)
    created = _run("lot-create", "project-a", "--vendor", "vendor-A", "--json")
    assert created.exit_code == 0, created.output
    lot = json.loads(created.stdout)
    listed = json.loads(_run("lots", "project-a", "--json").stdout)
    assert [(row["id"], row["n_labels"]) for row in listed] == [(lot["id"], 8)]
    table = _run("lots", "project-a")
    assert table.exit_code == 0 and "period" in table.stdout
    started = _run("start", str(lot["id"]), "--aql", "1.0", "--seed", "3", "--json")
    assert started.exit_code == 0, started.output
    audit = json.loads(started.stdout)
    nxt = _run("review", str(audit["id"]))
    assert nxt.exit_code == 0 and "Answer blind" in nxt.stdout
    blind = json.loads(_run("review", str(audit["id"]), "--json").stdout)
    assert blind["stage"] == "blind" and blind["vendor_value"] is None
    items = json.loads(_run("items", str(audit["id"]), "--json").stdout)
    assert items and all(item["vendor_value"] is None for item in items)
    for index, item in enumerate(items):
        if index == 0:
            args = [
                "--answer",
                "compliant",
                "--verdict",
                "incorrect",
                "--error-type",
                "over_flagging",
                "--severity",
                "minor",
                "--comment",
                "不是賭博",
            ]
        else:
            args = ["--answer", "gambling", "--verdict", "correct"]
        done = _run("verdict", str(audit["id"]), str(item["label_id"]), *args)
        assert done.exit_code == 0, done.output
    assert json.loads(_run("review", str(audit["id"]), "--json").stdout) is None
    report = json.loads(_run("report", str(audit["id"]), "--json").stdout)
    assert report["audit"]["n_defects"] == 1 and report["audit"]["decision"] in (
        "accepted",
        "rejected",
    )
    assert report["estimate"]["n_audited"] == len(items)
    pretty = _run("report", str(audit["id"]))
    assert pretty.exit_code == 0 and "Ac / Re" in pretty.stdout
    feedback = json.loads(_run("feedback", "--json").stdout)
    assert feedback[0]["right_value"] == ["compliant"]


def test_bad_input_exit_codes(cli_env, session):
    world = make_world(session, n_items=4, overlap=1)
    _label_all(session, world)
    lot = json.loads(_run("lot-create", "project-a", "--vendor", "vendor-A", "--json").stdout)
    bad_aql = _run("start", str(lot["id"]), "--aql", "0.7")
    assert bad_aql.exit_code == 2 and "0.65" in bad_aql.output
    empty = _run("lot-create", "project-a", "--vendor", "vendor-A")
    assert empty.exit_code == 2
    naive = _run("lot-create", "project-a", "--vendor", "vendor-A", "--since", "yesterday")
    assert naive.exit_code == 2
    assert _run("start", str(lot["id"]), "--seed", "1").exit_code == 0
    twice = _run("start", str(lot["id"]))
    assert twice.exit_code == 4
    missing = _run("report", "999")
    assert missing.exit_code == 3


def test_rework_and_disputes_and_gold(cli_env, session, tmp_path):
    world = make_world(session, n_items=6, overlap=1)
    _label_all(session, world)
    lot = json.loads(_run("lot-create", "project-a", "--vendor", "vendor-A", "--json").stdout)
    audit = json.loads(_run("start", str(lot["id"]), "--seed", "2", "--json").stdout)
    items = audits.list_audit_items(session, SYSTEM_ACTOR, audit["id"])
    for item in items:
        done = _run(
            "verdict",
            str(audit["id"]),
            str(item.label_id),
            "--answer",
            "adult",
            "--verdict",
            "incorrect",
            "--error-type",
            "wrong_label",
            "--severity",
            "critical",
        )
        assert done.exit_code == 0, done.output
    sent = _run("rework", str(audit["id"]), "--priority", "20", "--json")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["n_items"] == 6
    opened = _run("dispute-open", str(audit["id"]), str(items[0].label_id), "--reason", "看不出來")
    assert opened.exit_code == 0, opened.output
    listed = json.loads(_run("disputes", "--json").stdout)
    assert listed[0]["status"] == "open"
    resolved = _run("dispute-resolve", str(listed[0]["id"]), "--outcome", "overturn")
    assert resolved.exit_code == 0 and "overturned" in resolved.stdout
    gold_file = tmp_path / "gold.csv"
    gold_file.write_text(
        "external_id,label,explanation_en,explanation_zh\nb-00000,gambling,Casino,賭場\n",
        encoding="utf-8",
    )
    imported = _run("gold", "import", "project-b", str(gold_file), "--json")
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["n_created"] == 1
    added = _run(
        "gold",
        "add",
        "project-b",
        "b-00001",
        "--label",
        "adult",
        "--explanation-en",
        "Adult",
        "--explanation-zh",
        "成人",
    )
    assert added.exit_code == 0, added.output
    bad = _run(
        "gold",
        "add",
        "project-b",
        "b-00002",
        "--label",
        "weapons",
        "--explanation-en",
        "x",
        "--explanation-zh",
        "x",
    )
    assert bad.exit_code == 2
    accuracy = _run("gold", "accuracy", "project-b", "--json")
    assert accuracy.exit_code == 0 and json.loads(accuracy.stdout) == []


def test_error_types_and_switching_commands(cli_env, session, tmp_path):
    make_world(session, n_items=1, overlap=1)
    listed = json.loads(_run("error-types", "--json").stdout)
    assert [row["key"] for row in listed][0] == "wrong_label"
    spec = tmp_path / "types.json"
    spec.write_text(
        json.dumps([{"key": "policy_gap", "name_en": "Policy gap", "name_zh": "政策缺口"}]),
        encoding="utf-8",
    )
    saved = _run("error-types-set", str(spec))
    assert saved.exit_code == 0 and "version 2" in saved.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert _run("error-types-set", str(broken)).exit_code == 2
    state = _run("switching", "project-a", "--vendor", "vendor-A", "--json")
    assert state.exit_code == 0 and json.loads(state.stdout)["inspection"] == "normal"
    assert _run("switching", "project-a", "--vendor", "vendor-A", "--resume").exit_code == 4


CONTRACT_KEYS = {"code_letter", "sample_size", "accept", "reject", "inspection", "level", "aql"}


def _squeezed(text):
    """The text without whitespace, so Rich's line wrapping does not matter."""
    return "".join(text.split())


def _row(field, value):
    """A squeezed row of the plan table."""
    return f"│{_squeezed(field)}│{value}│"


def test_plan_json_keeps_the_contract_keys_on_reduced_inspection(cli_env):
    # Table II-C, code letter J: reduced AQL 2.5 is n=32, Ac=2, Re=5 (a gap of 3 and 4);
    # the JSON keeps exactly the contract's keys, the gap follows from Ac and Re.
    gap = _run("plan", "--lot-size", "1000", "--aql", "2.5", "--inspection", "reduced", "--json")
    assert gap.exit_code == 0, gap.output
    payload = json.loads(gap.stdout)
    assert set(payload) == CONTRACT_KEYS
    assert (payload["sample_size"], payload["accept"], payload["reject"]) == (32, 2, 5)


def test_plan_table_shows_the_reinstatement_rule_in_both_languages(cli_env, monkeypatch):
    args = ("plan", "--lot-size", "1000", "--aql", "2.5", "--inspection")
    english = _run(*args, "reduced")
    assert english.exit_code == 0, english.output
    text = _squeezed(english.stdout)
    assert _row("Accept, reinstate normal inspection (defects)", "3-4") in text
    assert _squeezed("above Ac (2) and below Re (5) accepts the lot") in text
    assert "audit.plan." not in english.stdout  # every id has a text
    normal = _squeezed(_run(*args, "normal").stdout)
    assert "reinstate" not in normal and _row("Reject (Re)", "6") in normal
    monkeypatch.setenv("LABELOPS_LANG", "zh-Hant")
    chinese = _squeezed(_run(*args, "reduced").stdout)
    assert _row("允收但恢復正常檢驗（缺失數）", "3-4") in chinese
    assert "缺失數大於允收數Ac（2）且小於拒收數Re（5）時，本批次允收" in chinese
    assert "恢復正常檢驗" not in _squeezed(_run(*args, "normal").stdout)
