"""Seed the demo: two vendors, their labellers, an auditor, the ad-policy taxonomy, and a
project with generated zh-Hant / English ad items, part of them already labelled."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelops.demo import DemoItem
from labelops.services import (
    audits,
    directory,
    gold,
    imports,
    labelling,
    lots,
    projects,
    queue,
    taxonomies,
)
from labelops.services.auth import actor_for_user
from labelops.services.policy import SYSTEM_ACTOR
from labelops.store.models import Project, User
from labelops.store.types import utcnow
from labelops.types import Role

__all__ = ["DEMO_PROJECT", "DemoAccount", "DemoResult", "seed_demo"]

DEMO_PROJECT = "demo-ads-tw"
DEMO_PASSWORD = "labelops-demo"
VENDOR_A = "Vendor A 標註服務"
VENDOR_B = "Vendor B Data Ops"


@dataclass(frozen=True)
class DemoAccount:
    """A demo login."""

    username: str
    role: str
    password: str


@dataclass(frozen=True)
class DemoResult:
    """What the demo contains."""

    project_name: str
    n_items: int
    accounts: tuple[DemoAccount, ...]
    created: bool


_ACCOUNTS: tuple[tuple[str, Role, str | None], ...] = (
    ("admin", Role.ADMIN, None),
    ("auditor", Role.AUDITOR, None),
    ("manager-a", Role.VENDOR_MANAGER, VENDOR_A),
    ("manager-b", Role.VENDOR_MANAGER, VENDOR_B),
    ("labeller-a1", Role.LABELLER, VENDOR_A),
    ("labeller-a2", Role.LABELLER, VENDOR_A),
    ("labeller-a3", Role.LABELLER, VENDOR_A),
    ("labeller-b1", Role.LABELLER, VENDOR_B),
    ("labeller-b2", Role.LABELLER, VENDOR_B),
    ("labeller-b3", Role.LABELLER, VENDOR_B),
)


def seed_demo(
    session: Session, *, n_items: int = 3000, n_prelabelled: int = 300, seed: int = 7
) -> DemoResult:
    """Seed the demo into the database (idempotent: an existing demo is left alone).

    Args:
        n_items: Generated ad items in the demo project.
        n_prelabelled: Items that simulated labellers answer up front (so progress,
            final labels and agreement have something to show).
    """
    from labelops.demo import generate_demo_items, load_demo_taxonomy

    accounts = tuple(DemoAccount(name, role.value, DEMO_PASSWORD) for name, role, _ in _ACCOUNTS)
    existing = session.scalar(select(Project).where(Project.name == DEMO_PROJECT))
    session.commit()
    if existing is not None:
        return DemoResult(DEMO_PROJECT, n_items, accounts, created=False)
    spec = taxonomies.parse_taxonomy(load_demo_taxonomy(), file="ads_policy_taxonomy.yaml")
    taxonomy, _ = taxonomies.create_taxonomy(session, SYSTEM_ACTOR, spec)
    vendor_ids: dict[str, int] = {}
    for _, _, vendor_name in _ACCOUNTS:
        if vendor_name and vendor_name not in vendor_ids:
            vendor_ids[vendor_name] = directory.create_vendor(session, SYSTEM_ACTOR, vendor_name).id
    users: dict[str, User] = {}
    for name, role, vendor_name in _ACCOUNTS:
        created = directory.create_user(
            session,
            SYSTEM_ACTOR,
            name,
            role=role,
            vendor_id=vendor_ids[vendor_name] if vendor_name else None,
            password=DEMO_PASSWORD,
            language="zh-Hant",
        )
        users[name] = created.user
    project = projects.create_project(
        session,
        SYSTEM_ACTOR,
        DEMO_PROJECT,
        taxonomy_id=taxonomy.id,
        overlap=3,
        gold_rate=0.05,
        vendor_ids=sorted(vendor_ids.values()),
        sla_hours=24,
    )
    items = generate_demo_items(n_items, seed=seed)
    records = [
        {
            "external_id": item.external_id,
            "text": item.text,
            "advertiser": item.advertiser,
            "market": item.market,
            "language": item.language,
            "metadata": dict(item.metadata),
        }
        for item in items
    ]
    for start in range(0, len(records), 5000):
        imports.import_item_records(
            session, SYSTEM_ACTOR, project.id, records[start : start + 5000]
        )
    truth = {item.external_id: item.true_label for item in items}
    keys = taxonomies.label_keys(session, taxonomy.id)
    _add_gold(session, project.id, items[-N_GOLD:])
    _simulate_labelling(session, project.id, users, truth, keys, n_prelabelled, seed)
    # A lot of vendor A's labels with an audit drawn and waiting for the auditor.
    auditor = actor_for_user(users["auditor"])
    lot = lots.create_lot(session, auditor, project.id, vendor_ids[VENDOR_A])
    audits.start_audit(session, auditor, lot.id, plan="aql", aql=1.0, targeted=10, seed=seed)
    return DemoResult(DEMO_PROJECT, n_items, accounts, created=True)


N_GOLD = 40


def _add_gold(session: Session, project_id: int, items: Sequence[DemoItem]) -> None:
    """The last generated items become gold, with explanations in both languages."""
    rows = [
        gold.GoldRow(
            external_id=item.external_id,
            value=(item.true_label,),
            explanation_en=f"Guideline: this ad is '{item.true_label}' (demo gold answer).",
            explanation_zh=f"依準則，此廣告屬於「{item.true_label}」（示範黃金題答案）。",
        )
        for item in items
    ]
    gold.import_gold_rows(session, SYSTEM_ACTOR, project_id, rows, file="demo")


def _simulate_labelling(
    session: Session,
    project_id: int,
    users: dict[str, User],
    truth: dict[str, str],
    keys: list[str],
    n_items: int,
    seed: int,
) -> None:
    """Labellers of vendor A answer the first items with planted accuracies."""
    rng = random.Random(seed)
    accuracy = {"labeller-a1": 0.93, "labeller-a2": 0.85, "labeller-a3": 0.75}
    clock = utcnow() - timedelta(hours=6)
    for _ in range(n_items):
        for name, skill in accuracy.items():
            actor = actor_for_user(users[name])
            clock += timedelta(seconds=rng.uniform(2, 9))
            served = queue.next_task(session, actor, project_id, now=clock, rng=rng)
            if served is None:
                return
            true_key = truth.get(str(served.item["external_id"]), keys[0])
            answer = true_key if rng.random() < skill else rng.choice(keys)
            labelling.submit_label(
                session,
                actor,
                served.assignment_id,
                [answer],
                active_ms=int(rng.uniform(3000, 15000)),
                now=clock + timedelta(seconds=rng.uniform(3, 15)),
            )
