"""The labelling loop's security rules (issue 19), on both databases.

* Leasing a task changes state: ``POST /api/projects/{id}/next``. Its ``GET`` alias is
  for Bearer-token clients only; a browser's cookie GET leases nothing, and a cookie
  POST needs the CSRF token like every unsafe call.
* A submit's response does not tell gold items from ordinary ones (status, keys,
  fields), and there is no separate feedback call whose 200/404 would.
* A skip of an expired lease is refused, as a submit of one is.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from api.test_hot_lane import _call_lane
from factories import make_world
from labelops.errors import Conflict
from labelops.services import gold, labelling, queue
from labelops.store.models import Assignment, AuditEvent, Project, Task
from labelops.store.types import utcnow
from web.web_support import give_passwords, login


def _leases(session) -> int:
    session.rollback()  # see the server's commits
    return int(session.scalar(select(func.count(Assignment.id))) or 0)


def _bearer(world, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[name]}"}


@pytest.fixture()
def world(session):
    world = make_world(session, n_items=4, overlap=1)
    give_passwords(session, world, "labeller-a1")
    return world


# ---------------------------------------------------------------- POST next


def test_a_cookie_get_of_next_is_refused_and_leases_nothing(client, session, world):
    csrf = login(client, "labeller-a1")
    url = f"/api/projects/{world.project_ids['A']}/next"
    for headers in ({}, {"X-CSRF-Token": csrf}, {"Accept-Language": "zh-TW"}):
        for query in ("", "?prefetch=true"):
            refused = client.get(url + query, headers=headers)
            assert refused.status_code == 403, refused.text
            error = refused.json()["error"]
            assert error["message_id"] == "errors.next.use_post"
            assert f"POST /api/projects/{world.project_ids['A']}/next" in error["message"]
    # An empty Bearer header does not make the cookie count as a token (the fast lane
    # routes on the header; the rule is checked by the call itself).
    assert client.get(url, headers={"Authorization": "Bearer "}).status_code == 403
    assert client.get(url, headers={"Authorization": "Bearer  "}).status_code == 403
    assert _leases(session) == 0


def test_a_cookie_post_of_next_needs_the_csrf_token(client, session, world):
    csrf = login(client, "labeller-a1")
    url = f"/api/projects/{world.project_ids['A']}/next"
    missing = client.post(url)
    assert missing.status_code == 403 and missing.json()["error"]["message_id"] == "web.error.csrf"
    wrong = client.post(url + "?prefetch=true", headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert _leases(session) == 0
    served = client.post(url, headers={"X-CSRF-Token": csrf})
    assert served.status_code == 200 and served.json()["assignment_id"]
    prefetched = client.post(url + "?prefetch=true", headers={"X-CSRF-Token": csrf})
    assert prefetched.status_code == 200
    assert prefetched.json()["assignment_id"] != served.json()["assignment_id"]
    assert _leases(session) == 2


def test_bearer_tokens_lease_by_post_and_by_the_get_alias_without_csrf(client, session, world):
    url = f"/api/projects/{world.project_ids['A']}/next"
    headers = _bearer(world, "labeller-a1")
    by_post = client.post(url, headers=headers)
    by_get = client.get(url + "?prefetch=true", headers=headers)
    assert by_post.status_code == by_get.status_code == 200
    assert by_post.json().keys() == by_get.json().keys()
    assert by_post.json()["assignment_id"] != by_get.json()["assignment_id"]
    # The usual way (not the fast lane) too: an unknown query parameter goes the full way.
    other = client.post(url + "?prefetch=false&x=1", headers=_bearer(world, "labeller-a2"))
    assert other.status_code == 200
    assert client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert _leases(session) == 3


def test_the_fast_lane_serves_post_next_and_the_get_alias_for_tokens_only(client, session, world):
    url = f"/api/projects/{world.project_ids['A']}/next"
    bearer = _bearer(world, "labeller-a1")
    for method, query in (("POST", b""), ("GET", b"prefetch=true")):
        served, sent, _, _ = _call_lane(client.app, method, url, query, bearer)
        assert served and sent[0]["status"] == 200, method
    assert _leases(session) == 2
    csrf = login(client, "labeller-a1")
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    for headers in (
        {"Cookie": cookie},
        {"Cookie": cookie, "X-CSRF-Token": csrf},
        {"Cookie": cookie, "Authorization": "Bearer "},
    ):
        for method in ("GET", "POST"):
            served, sent, _, _ = _call_lane(client.app, method, url, b"", headers)
            assert not served and sent == [], (method, headers)
    assert _leases(session) == 2


def test_the_openapi_document_lists_post_next_and_the_get_alias(client):
    paths = client.get("/openapi.json").json()["paths"]
    operations = paths["/api/projects/{project_id}/next"]
    assert {"post", "get"} <= operations.keys()
    assert "403" in operations["get"]["responses"]


# ---------------------------------------------------------------- gold feedback


class _AlwaysGold(random.Random):
    def random(self) -> float:
        return 0.0


_VARYING = {"id", "assignment_id", "served_at", "submitted_at", "feedback", "next"}
"""Fields of a submit's response that differ between any two submits (ids, times) or
that are compared on their own (``feedback``, ``next``)."""


def _gold_world(session, monkeypatch, *, show: bool):
    world = make_world(session, n_items=4, overlap=1, gold_rate=0.5)
    project_id = world.project_ids["A"]
    gold.mark_gold(
        session,
        world.actors["auditor"],
        project_id,
        "a-00000",
        ["gambling"],
        explanation_en="Casino chips.",
        explanation_zh="賭場籌碼。",
    )
    project = session.get(Project, project_id)
    assert project is not None
    project.show_gold_feedback = show
    session.commit()
    # Gold first whenever one is left for the labeller: the first lease is the gold item.
    monkeypatch.setattr(queue, "_GOLD_DRAWS", _AlwaysGold())
    return world


def _is_gold(session, assignment_id: int) -> bool:
    session.rollback()
    assignment = session.get(Assignment, assignment_id)
    assert assignment is not None
    return bool(session.scalar(select(Task.is_gold).where(Task.id == assignment.task_id)))


def _shape(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in _VARYING}


@pytest.mark.parametrize("and_next", [False, True], ids=["submit", "submit-next"])
def test_submit_responses_do_not_tell_gold_items_apart(client, session, monkeypatch, and_next):
    world = _gold_world(session, monkeypatch, show=False)
    headers = _bearer(world, "labeller-a1")
    url = f"/api/projects/{world.project_ids['A']}/next"
    suffix = "?next=true" if and_next else ""
    gold_task = client.post(url, headers=headers).json()
    assert _is_gold(session, gold_task["assignment_id"])
    submit = f"/api/assignments/{gold_task['assignment_id']}/label{suffix}"
    on_gold = client.post(submit, json={"label": "compliant"}, headers=headers)
    ordinary_task = on_gold.json()["next"] if and_next else client.post(url, headers=headers).json()
    assert not _is_gold(session, ordinary_task["assignment_id"])
    submit = f"/api/assignments/{ordinary_task['assignment_id']}/label{suffix}"
    on_ordinary = client.post(submit, json={"label": "compliant"}, headers=headers)

    assert on_gold.status_code == on_ordinary.status_code == 201
    assert on_gold.json().keys() == on_ordinary.json().keys()
    assert "feedback" in on_gold.json()
    assert on_gold.json()["feedback"] is None and on_ordinary.json()["feedback"] is None
    assert _shape(on_gold.json()) == _shape(on_ordinary.json())
    # The same submit again: the same answers too.
    again = [
        client.post(
            f"/api/assignments/{task['assignment_id']}/label",
            json={"label": "compliant"},
            headers=headers,
        )
        for task in (gold_task, ordinary_task)
    ]
    assert [response.status_code for response in again] == [200, 200]
    assert _shape(again[0].json()) == _shape(again[1].json())
    assert again[0].json()["feedback"] is None
    # No separate call answers differently for gold items.
    asked = [
        client.get(f"/api/assignments/{task['assignment_id']}/feedback", headers=headers)
        for task in (gold_task, ordinary_task)
    ]
    assert asked[0].status_code == asked[1].status_code == 404
    assert asked[0].json() == asked[1].json()


def test_gold_feedback_comes_with_the_submit_when_the_project_shows_it(
    client, session, monkeypatch
):
    world = _gold_world(session, monkeypatch, show=True)
    headers = {**_bearer(world, "labeller-a1"), "Accept-Language": "zh-TW"}
    url = f"/api/projects/{world.project_ids['A']}/next"
    gold_task = client.post(url, headers=headers).json()
    on_gold = client.post(
        f"/api/assignments/{gold_task['assignment_id']}/label?next=true",
        json={"label": "financial_scam"},
        headers=headers,
    )
    assert on_gold.status_code == 201
    shown = on_gold.json()["feedback"]
    assert shown["right_labels"] == ["gambling"]
    assert shown["your_labels"] == ["financial_scam"]
    assert shown["is_correct"] is False
    assert shown["explanation_zh"] == "賭場籌碼。"
    assert [entry["key"] for entry in shown["guideline"]] == ["gambling"]
    ordinary = on_gold.json()["next"]
    on_ordinary = client.post(
        f"/api/assignments/{ordinary['assignment_id']}/label",
        json={"label": "financial_scam"},
        headers=headers,
    )
    assert on_ordinary.status_code == 201
    assert on_ordinary.json().keys() == on_gold.json().keys()
    assert on_ordinary.json()["feedback"] is None
    # A retried submit (its first answer lost on the way) brings the feedback again.
    again = client.post(
        f"/api/assignments/{gold_task['assignment_id']}/label",
        json={"label": "financial_scam"},
        headers=headers,
    )
    assert again.status_code == 200 and again.json()["feedback"]["right_labels"] == ["gambling"]


def test_gold_feedback_comes_with_a_cookie_submit_too(client, session, monkeypatch):
    world = _gold_world(session, monkeypatch, show=True)
    give_passwords(session, world, "labeller-a2")
    csrf = login(client, "labeller-a2")
    headers = {"X-CSRF-Token": csrf}
    task = client.post(f"/api/projects/{world.project_ids['A']}/next", headers=headers).json()
    done = client.post(
        f"/api/assignments/{task['assignment_id']}/label",
        json={"label": "gambling"},
        headers=headers,
    )
    assert done.status_code == 201
    assert done.json()["feedback"]["is_correct"] is True


# ---------------------------------------------------------------- skip of an expired lease


def _expire(session, assignment_id: int) -> None:
    session.rollback()
    assignment = session.get(Assignment, assignment_id)
    assert assignment is not None
    assignment.lease_expires_at = utcnow() - timedelta(seconds=1)
    session.commit()


def test_skipping_an_expired_lease_is_refused_as_submitting_one_is(session):
    world = make_world(session, n_items=2, overlap=1)
    labeller = world.actors["labeller-a1"]
    served = queue.next_task(session, labeller, world.project_ids["A"])
    assert served is not None
    _expire(session, served.assignment_id)
    with pytest.raises(Conflict) as submitted:
        labelling.submit_label(session, labeller, served.assignment_id, ["compliant"])
    assert submitted.value.message_id == "errors.assignment.expired"
    with pytest.raises(Conflict) as skipped:
        labelling.skip_assignment(session, labeller, served.assignment_id, "unclear")
    assert skipped.value.message_id == "errors.assignment.skip_expired"
    session.rollback()
    assignment = session.get(Assignment, served.assignment_id)
    assert assignment is not None and assignment.status == "leased"
    assert assignment.skip_reason is None
    assert (
        session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "task.skip"))
        == 0
    )


def test_the_api_refuses_a_skip_of_an_expired_lease_in_both_languages(client, session):
    world = make_world(session, n_items=2, overlap=1)
    headers = _bearer(world, "labeller-a1")
    task = client.post(f"/api/projects/{world.project_ids['A']}/next", headers=headers).json()
    _expire(session, task["assignment_id"])
    url = f"/api/assignments/{task['assignment_id']}/skip"
    english = client.post(url, json={"reason": "unclear"}, headers=headers)
    chinese = client.post(
        url, json={"reason": "unclear"}, headers={**headers, "Accept-Language": "zh-TW"}
    )
    assert english.status_code == chinese.status_code == 409
    assert english.json()["error"]["message_id"] == "errors.assignment.skip_expired"
    assert (
        f"The lease on assignment {task['assignment_id']} expired"
        in english.json()["error"]["message"]
    )
    assert f"任務 {task['assignment_id']} 的租約已於" in chinese.json()["error"]["message"]
    session.rollback()
    assignment = session.get(Assignment, task["assignment_id"])
    assert assignment is not None and assignment.status == "leased"
    # A lease still running can be skipped (the refusal is the expiry's, not the skip's).
    fresh = client.post(f"/api/projects/{world.project_ids['A']}/next", headers=headers)
    assert fresh.status_code == 200, fresh.text
    skipped = client.post(
        f"/api/assignments/{fresh.json()['assignment_id']}/skip",
        json={"reason": "unclear"},
        headers=headers,
    )
    assert skipped.status_code == 200 and skipped.json()["status"] == "skipped"
