"""Importing items into a project: real zh-Hant data round-trips byte-exact; bad files
land nothing; re-imports and content duplicates change nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from factories import make_world, write_jsonl
from labelops.errors import InvalidInput, InvalidRows
from labelops.services import export, finals, imports, labelling, queue
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import AuditEvent, FinalLabel, ImportBatch, Item, Label, Task
from real_data import is_full

COFACTS = Path("cofacts-flow-categories-zhtw") / "dev.csv"


def _cofacts_rows(real_data: Path) -> list[dict[str, str]]:
    with open(real_data / COFACTS, newline="", encoding="utf-8") as handle:
        return [{"external_id": row["id"], "text": row["text"]} for row in csv.DictReader(handle)]


def _counts(session) -> tuple[int, int, int]:
    result = (
        session.scalar(select(func.count(Item.id))),
        session.scalar(select(func.count(Task.id))),
        session.scalar(select(func.count(ImportBatch.id))),
    )
    session.commit()
    return result  # type: ignore[return-value]


def test_cofacts_texts_round_trip_byte_exact_through_import_api_and_export(
    client, session, real_data, tmp_path
):
    world = make_world(session, n_items=0, overlap=1)
    project_id = world.project_ids["A"]
    rows = _cofacts_rows(real_data)
    assert len(rows) > (1000 if is_full(real_data) else 200)
    source = write_jsonl(tmp_path / "cofacts.jsonl", rows)
    report = imports.import_items(session, SYSTEM_ACTOR, project_id, source)
    # dev.csv holds one text twice (DATASET.md): it is reported, not imported twice.
    assert report.n_duplicates == 1 and report.n_created == len(rows) - 1
    expected = {row["external_id"]: row["text"] for row in rows}
    stored = dict(session.execute(select(Item.external_id, Item.text)).all())
    assert all(stored[key] == expected[key] for key in stored)
    # Serve a sample of them over the API and label them, then export.
    headers = {"Authorization": f"Bearer {world.tokens['labeller-a1']}"}
    served_texts = {}
    for _ in range(40):
        body = client.get(f"/api/projects/{project_id}/next", headers=headers).json()
        served_texts[body["item"]["external_id"]] = body["item"]["text"]
        client.post(
            f"/api/assignments/{body['assignment_id']}/label",
            json={"label": "compliant"},
            headers=headers,
        )
    assert all(text == expected[key] for key, text in served_texts.items())
    finals.finalize_project(session, SYSTEM_ACTOR, project_id)
    out = tmp_path / "final.jsonl"
    export.export_project(session, SYSTEM_ACTOR, project_id, out, format="jsonl")
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(exported) == 40
    for row in exported:
        assert row["text"].encode("utf-8") == expected[row["external_id"]].encode("utf-8")
        assert {"external_id", "final_label", "method", "confidence", "status"} <= row.keys()


def test_reimport_is_idempotent_and_reports_duplicates(session, tmp_path):
    world = make_world(session, n_items=0)
    source = write_jsonl(
        tmp_path / "items.jsonl", [{"external_id": f"x{i}", "text": f"廣告 {i}"} for i in range(50)]
    )
    first = imports.import_items(session, SYSTEM_ACTOR, world.project_ids["A"], source)
    items, tasks, _ = _counts(session)
    second = imports.import_items(session, SYSTEM_ACTOR, world.project_ids["A"], source)
    assert (first.n_created, second.n_created, second.n_duplicates) == (50, 0, 50)
    assert _counts(session)[:2] == (items, tasks)


def test_content_duplicates_are_found_across_ids_and_nfc_forms(session, tmp_path):
    world = make_world(session, n_items=0)
    composed, decomposed = "café 優惠", "cafe\u0301 優惠"
    source = write_jsonl(
        tmp_path / "dups.jsonl",
        [
            {"external_id": "one", "text": composed},
            {"external_id": "two", "text": decomposed},
            {"external_id": "three", "text": "別的廣告"},
        ],
    )
    report = imports.import_items(session, SYSTEM_ACTOR, world.project_ids["A"], source)
    assert (report.n_created, report.n_duplicates) == (2, 1)
    assert report.duplicates[0]["external_id"] == "two"
    assert report.duplicates[0]["duplicate_of"] == "one"
    # The stored text is the file's bytes, never normalised.
    assert session.scalar(select(Item.text).where(Item.external_id == "one")) == composed


def test_same_external_id_with_other_content_is_rejected(session, tmp_path):
    world = make_world(session, n_items=0)
    project_id = world.project_ids["A"]
    imports.import_items(
        session,
        SYSTEM_ACTOR,
        project_id,
        write_jsonl(tmp_path / "a.jsonl", [{"external_id": "k", "text": "一"}]),
    )
    with pytest.raises(InvalidRows) as caught:
        imports.import_items(
            session,
            SYSTEM_ACTOR,
            project_id,
            write_jsonl(tmp_path / "b.jsonl", [{"external_id": "k", "text": "二"}]),
        )
    assert caught.value.problems[0].field == "external_id"


def test_bad_rows_land_nothing_and_every_one_is_reported(session, tmp_path):
    world = make_world(session, n_items=0)
    before = _counts(session)
    source = tmp_path / "bad.jsonl"
    source.write_text(
        '{"external_id": "ok", "text": "好"}\n'
        '{"external_id": "broken", "text": \n'
        '{"text": "no id"}\n'
        '{"external_id": "ok2", "text": "好2"}\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidRows) as caught:
        imports.import_items(session, SYSTEM_ACTOR, world.project_ids["A"], source)
    assert [p.line for p in caught.value.problems] == [2, 3]
    message = caught.value.render("en")
    assert "bad.jsonl" in message and "line 2" in message
    assert _counts(session) == before


def test_skip_invalid_lands_the_rest_and_writes_a_report(session, tmp_path):
    world = make_world(session, n_items=0)
    source = tmp_path / "mixed.jsonl"
    source.write_text('{"external_id": "ok", "text": "好"}\n{"oops"\n', encoding="utf-8")
    report_path = tmp_path / "rejected.jsonl"
    report = imports.import_items(
        session,
        SYSTEM_ACTOR,
        world.project_ids["A"],
        source,
        skip_invalid=True,
        report_path=report_path,
    )
    assert (report.n_created, report.n_rejected) == (1, 1)
    rejected = [json.loads(line) for line in report_path.read_text(encoding="utf-8").splitlines()]
    assert rejected[0]["line"] == 2 and rejected[0]["file"] == "mixed.jsonl"
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "items.import")).all()
    assert events[-1].after is not None and events[-1].after["n_rejected"] == 1


def test_csv_missing_column_names_it(session, tmp_path):
    world = make_world(session, n_items=0)
    source = tmp_path / "items.csv"
    source.write_text("id,text\n1,廣告\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        imports.import_items(session, SYSTEM_ACTOR, world.project_ids["A"], source)
    assert "external_id" in caught.value.render("en")
    assert _counts(session)[0] == 0


def test_big5_bytes_in_a_utf8_file_are_named(session, tmp_path):
    world = make_world(session, n_items=0)
    source = tmp_path / "big5.csv"
    source.write_bytes(b"external_id,text\n1,ok\n2," + "限時優惠".encode("big5") + b"\n")
    with pytest.raises(InvalidInput) as caught:
        imports.import_items(session, SYSTEM_ACTOR, world.project_ids["A"], source)
    message = caught.value.render("en")
    assert "Big5" in message and "line 3" in message
    assert _counts(session)[0] == 0


def test_empty_file_is_refused(session, tmp_path):
    world = make_world(session, n_items=0)
    source = tmp_path / "empty.jsonl"
    source.write_bytes(b"")
    with pytest.raises(InvalidInput) as caught:
        imports.import_items(session, SYSTEM_ACTOR, world.project_ids["A"], source)
    assert "empty" in caught.value.render("en")
    assert _counts(session)[2] == 0


def test_fifty_megabyte_text_is_rejected_with_its_size(session, tmp_path):
    world = make_world(session, n_items=0)
    source = tmp_path / "huge.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"external_id": "small", "text": "ok"}) + "\n")
        handle.write('{"external_id": "huge", "text": "' + "廣" * (50 * 1024 * 1024 // 3) + '"}\n')
    with pytest.raises(InvalidRows) as caught:
        imports.import_items(session, SYSTEM_ACTOR, world.project_ids["A"], source)
    assert caught.value.problems[0].line == 2
    assert caught.value.problems[0].field == "text"
    assert _counts(session)[0] == 0


def test_label_studio_export_imports_its_tasks(session, tmp_path):
    world = make_world(session, n_items=0, overlap=1)
    tasks = [
        {
            "id": 11,
            "data": {"text": "線上娛樂城 首儲送千元"},
            "annotations": [
                {
                    "completed_by": 1,
                    "lead_time": 3.5,
                    "result": [
                        {
                            "type": "choices",
                            "from_name": "label",
                            "to_name": "text",
                            "value": {"choices": ["gambling"]},
                        }
                    ],
                }
            ],
        },
        {"id": 12, "data": {"text": "全新 iPhone 保固一年"}, "annotations": []},
    ]
    source = tmp_path / "export.json"
    source.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    report = imports.import_items(
        session, SYSTEM_ACTOR, world.project_ids["A"], source, format="label-studio"
    )
    assert report.n_created == 2
    assert report.annotations[0].labels == ("gambling",)
    assert set(session.scalars(select(Item.external_id))) == {"11", "12"}


def test_export_twice_is_byte_identical_in_every_format(session, tmp_path):
    world = make_world(session, n_items=6, overlap=1)
    project_id = world.project_ids["A"]
    labeller = world.actors["labeller-a1"]
    while (served := queue.next_task(session, labeller, project_id)) is not None:
        labelling.submit_label(session, labeller, served.assignment_id, ["gambling"])
    finals.finalize_project(session, SYSTEM_ACTOR, project_id)
    for fmt in ("jsonl", "csv", "parquet", "label-studio"):
        one, two = tmp_path / f"one.{fmt}", tmp_path / f"two.{fmt}"
        export.export_project(session, SYSTEM_ACTOR, project_id, one, format=fmt, raw=True)
        export.export_project(session, SYSTEM_ACTOR, project_id, two, format=fmt, raw=True)
        assert one.read_bytes() == two.read_bytes(), fmt
        assert one.stat().st_size > 0


def test_label_studio_annotations_land_as_labels_once(session, tmp_path):
    world = make_world(session, n_items=0, overlap=2)
    choice = [
        {
            "type": "choices",
            "from_name": "label",
            "to_name": "text",
            "value": {"choices": ["gambling"]},
        }
    ]
    tasks = [
        {
            "id": 21,
            "data": {"text": "百家樂 首儲 100% 回饋"},
            "annotations": [
                {
                    "completed_by": {"email": "ann@example.com"},
                    "lead_time": 4.0,
                    "created_at": "2024-05-01T08:00:00Z",
                    "result": choice,
                },
                {
                    "completed_by": 7,
                    "lead_time": 2.5,
                    "created_at": "2024-05-01T08:05:00Z",
                    "result": choice,
                },
            ],
        },
        {
            "id": 22,
            "data": {"text": "新品上市"},
            "annotations": [
                {
                    "completed_by": 7,
                    "result": [
                        {
                            "type": "choices",
                            "from_name": "label",
                            "to_name": "text",
                            "value": {"choices": ["weapons"]},
                        }
                    ],
                }
            ],
        },
    ]
    source = tmp_path / "ls.json"
    source.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    project_id = world.project_ids["A"]
    with pytest.raises(InvalidRows) as caught:  # "weapons" is not in the taxonomy
        imports.import_items(
            session,
            SYSTEM_ACTOR,
            project_id,
            source,
            format="label-studio",
            annotations_vendor_id=world.vendor_ids["A"],
        )
    assert caught.value.problems[0].field == "annotations"
    assert _counts(session)[0] == 0
    report = imports.import_items(
        session,
        SYSTEM_ACTOR,
        project_id,
        source,
        format="label-studio",
        skip_invalid=True,
        report_path=tmp_path / "r.jsonl",
        annotations_vendor_id=world.vendor_ids["A"],
    )
    assert (report.n_created, report.n_labels, report.n_rejected) == (2, 2, 1)
    labels = session.scalars(select(Label).order_by(Label.id)).all()
    assert [label.value for label in labels] == [["gambling"], ["gambling"]]
    assert labels[0].active_ms == 4000
    final = session.scalar(select(FinalLabel).where(FinalLabel.snapshot_id.is_(None)))
    assert final is not None and final.value == ["gambling"] and final.status == "final"
    again = imports.import_items(
        session,
        SYSTEM_ACTOR,
        project_id,
        source,
        format="label-studio",
        skip_invalid=True,
        report_path=tmp_path / "r2.jsonl",
        annotations_vendor_id=world.vendor_ids["A"],
    )
    assert (again.n_created, again.n_labels) == (0, 0)


@pytest.mark.parametrize("read_ahead", [False, True])
def test_the_real_cofacts_csv_imports_as_is_with_its_id_column_mapped(
    session, real_data, read_ahead
):
    world = make_world(session, n_items=0)
    source = real_data / COFACTS
    with pytest.raises(InvalidInput):
        imports.import_items(session, SYSTEM_ACTOR, world.project_ids["A"], source)
    report = imports.import_items(
        session,
        SYSTEM_ACTOR,
        world.project_ids["A"],
        source,
        columns={"external_id": "id"},
        read_ahead=read_ahead,
    )
    rows = _cofacts_rows(real_data)
    distinct_texts = len({row["text"] for row in rows})
    assert (report.n_rows, report.n_created) == (len(rows), distinct_texts)
    stored = {item.external_id: item for item in session.scalars(select(Item))}
    assert len(stored) == distinct_texts
    with open(source, newline="", encoding="utf-8") as handle:
        lines = [line for line in csv.DictReader(handle) if line["id"] in stored]
    assert len(lines) == distinct_texts  # the others are content duplicates, reported
    for line in lines:
        item = stored[line["id"]]
        assert (item.text, item.item_metadata["label"]) == (line["text"], line["label"])
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "items.import")).one()
    assert event.after is not None and event.after["columns"] == {"external_id": "id"}


def test_a_bad_column_map_writes_nothing(session, tmp_path):
    world = make_world(session, n_items=0)
    source = write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "廣告"}])
    with pytest.raises(InvalidInput) as caught:
        imports.import_items(
            session, SYSTEM_ACTOR, world.project_ids["A"], source, columns={"ad_id": "id"}
        )
    assert caught.value.message_id == "itemfiles.column_map_unknown_field"
    assert _counts(session) == (0, 0, 0)


@pytest.mark.parametrize("read_ahead", [False, True])
def test_the_real_sms_tsv_without_header_or_ids_imports_and_reimports_idempotently(
    session, real_data, read_ahead
):
    """``label<TAB>text`` lines: the texts land byte-exact under row-hash ids, a repeated
    text is a content duplicate, and the same file again changes nothing."""
    world = make_world(session, n_items=0)
    source = real_data / "sms-spam-collection-en" / "SMSSpamCollection.tsv"
    lines = [line.split("\t") for line in source.read_text(encoding="utf-8").splitlines()]
    options = {"columns": {"text": "#2"}, "header": False, "hash_ids": True}
    report = imports.import_items(
        session, SYSTEM_ACTOR, world.project_ids["A"], source, read_ahead=read_ahead, **options
    )
    texts = [text for _, text in lines]
    assert (report.n_rows, report.n_created) == (len(lines), len(set(texts)))
    assert report.n_duplicates == len(lines) - len(set(texts)) and report.n_rejected == 0
    stored = dict(session.execute(select(Item.text, Item.item_metadata)).all())
    assert sorted(stored) == sorted(set(texts))
    first_label = {}
    for label, text in lines:
        first_label.setdefault(text, label)
    assert all(stored[text] == {"#1": label} for text, label in first_label.items())
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "items.import")).one()
    assert event.after is not None
    assert (event.after["columns"], event.after["header"], event.after["hash_ids"]) == (
        {"text": "#2"},
        False,
        True,
    )
    before = _counts(session)
    again = imports.import_items(
        session, SYSTEM_ACTOR, world.project_ids["A"], source, read_ahead=read_ahead, **options
    )
    assert (again.n_created, again.n_duplicates) == (0, len(lines))
    assert _counts(session)[:2] == before[:2]


def test_hash_ids_refused_for_a_file_with_ids_write_nothing(session, real_data):
    world = make_world(session, n_items=0)
    with pytest.raises(InvalidInput) as caught:
        imports.import_items(
            session,
            SYSTEM_ACTOR,
            world.project_ids["A"],
            real_data / COFACTS,
            columns={"external_id": "id"},
            hash_ids=True,
        )
    assert caught.value.message_id == "itemfiles.hash_ids_with_id_column"
    assert _counts(session) == (0, 0, 0)
