"""Issue 19, item 5: any integer (or not an integer) where a page takes an id is a 4xx
page or a redirect, never a 500 (ids past 2^63 crashed the database drivers)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from factories import make_world
from web.web_support import give_passwords, login

PAGES = [
    "/admin/projects/{id}",
    "/admin/taxonomies/{id}",
    "/admin/imports/{id}",
    "/vendor/{id}",
    "/quality/{id}",
    "/audit/lots/{id}",
    "/audit/audits/{id}",
    "/audit/audits/{id}/review",
    "/audit/gold/{id}",
    "/work/{id}",
    "/work/{id}/rework",
    "/w/cards/{id}",
    "/w/media/{id}/0",
]
IDS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, 2**64, 10**30]),
    st.text(alphabet="0123456789-+e.x ", min_size=1, max_size=25),
)


def test_page_ids_never_give_a_server_error(settings, session):
    from labelops.api import create_app

    world = make_world(session, n_items=2, overlap=1)
    give_passwords(session, world, "admin", "labeller-a1")
    session.commit()
    clients = []
    for name in ("admin", "labeller-a1"):
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        login(client, name)
        clients.append(client)

    @settings_for_fuzz
    @given(page=st.sampled_from(PAGES), value=IDS)
    def visit(page: str, value: object) -> None:
        path = page.replace("{id}", str(value).strip() or "1")
        for client in clients:
            response = client.get(path, follow_redirects=False)
            assert response.status_code < 500, (path, response.status_code, response.text[:300])

    visit()


settings_for_fuzz = hypothesis_settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_page_forms_refuse_non_finite_numbers_and_huge_ids(settings, session):
    from labelops.api import create_app

    world = make_world(session, n_items=1, overlap=1)
    give_passwords(session, world, "admin")
    session.commit()
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    csrf = login(client, "admin")
    for sla in ("inf", "nan", "-Infinity"):
        response = client.post(
            "/admin/projects",
            data={
                "name": f"p-{sla}",
                "taxonomy_id": str(world.taxonomy_id),
                "overlap": "1",
                "sla_hours": sla,
                "csrf_token": csrf,
            },
            follow_redirects=False,
        )
        assert response.status_code == 422, (sla, response.status_code)
    huge = client.post(
        "/admin/users",
        data={
            "username": "huge-vendor",
            "role": "labeller",
            "vendor_id": "9" * 20,
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert 200 <= huge.status_code < 500, huge.status_code
    nul = client.post(
        "/admin/vendors", data={"name": "v\x00", "csrf_token": csrf}, follow_redirects=False
    )
    assert nul.status_code == 422
