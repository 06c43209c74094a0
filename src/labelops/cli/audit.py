"""``labelops audit``: second-tier audit of vendor lots (issue #4).

For now only ``plan``: the MIL-STD-105E / ISO 2859-1 single sampling plan of a lot. It
needs no database, so it works before ``labelops db upgrade``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from labelops.cli._common import cli_command, console, emit_json, settings
from labelops.i18n import translate

if TYPE_CHECKING:
    from labelops.quality.sampling import SamplingPlan

__all__ = ["app", "plan_payload"]

app = typer.Typer(help="Second-tier audit of vendor lots.", no_args_is_help=True)


@app.callback()
def _audit() -> None:
    """Second-tier audit of vendor lots."""


def _t(message_id: str) -> str:
    return translate(message_id, settings().lang)


def _reinstates_normal_between(plan: SamplingPlan) -> tuple[int, int] | None:
    """Defect counts that accept the lot but reinstate normal inspection, or None.

    On reduced inspection Table II-C can leave a gap between Ac and Re; MIL-STD-105E
    (and ISO 2859-1) then accept the lot when the count falls strictly between them, but
    switch back to normal inspection for the next lot. Normal and tightened plans have
    ``Re = Ac + 1``, so no gap.

    Returns:
        ``(accept + 1, reject - 1)``, both inclusive, or None when there is no gap.
    """
    if plan.inspection == "reduced" and plan.reject > plan.accept + 1:
        return plan.accept + 1, plan.reject - 1
    return None


def plan_payload(plan: SamplingPlan) -> dict[str, object]:
    """The JSON object of ``audit plan --json``.

    Keys ``code_letter`` (the lot's letter), ``sample_size``, ``accept``, ``reject``
    (the plan actually used), ``inspection``, ``level``, ``aql``;
    plus ``plan_letter`` only when an arrow of the master table sent the lot to another
    letter's plan. Exactly the keys of the interface contract: the reduced-inspection gap
    between Ac and Re follows from ``accept`` and ``reject`` (the table states the rule).
    """
    payload: dict[str, object] = {
        "code_letter": plan.code_letter,
        "sample_size": plan.sample_size,
        "accept": plan.accept,
        "reject": plan.reject,
        "inspection": plan.inspection,
        "level": plan.level,
        "aql": plan.aql,
    }
    if plan.plan_letter != plan.code_letter:
        payload["plan_letter"] = plan.plan_letter
    return payload


@app.command("plan")
@cli_command
def plan_command(
    lot_size: Annotated[int, typer.Option("--lot-size", help="Labels in the lot.")],
    aql: Annotated[str, typer.Option("--aql", help="AQL from 0.010 to 1000, e.g. 1.0.")],
    level: Annotated[
        str, typer.Option("--level", help="I, II, III or S-1 ... S-4 (default II).")
    ] = "II",
    inspection: Annotated[
        str, typer.Option("--inspection", help="normal, tightened or reduced.")
    ] = "normal",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show the single sampling plan (sample size, Ac, Re) for a lot."""
    from labelops.quality.sampling import find_sampling_plan  # numpy/scipy: only here

    plan = find_sampling_plan(lot_size, aql, level=level, inspection=inspection)
    if as_json:
        emit_json(plan_payload(plan))
        return
    table = Table(title=_t("audit.plan.title"))
    table.add_column(_t("audit.plan.field"))
    table.add_column(_t("audit.plan.value"), justify="right")
    rows: list[tuple[str, str]] = [
        ("audit.plan.code_letter", plan.code_letter),
        ("audit.plan.sample_size", str(plan.sample_size)),
        ("audit.plan.accept", str(plan.accept)),
        ("audit.plan.reject", str(plan.reject)),
        ("audit.plan.inspection", plan.inspection),
        ("audit.plan.level", plan.level),
        ("audit.plan.aql", f"{plan.aql:g}"),
    ]
    if plan.plan_letter != plan.code_letter:
        rows.insert(1, ("audit.plan.plan_letter", plan.plan_letter))
    gap = _reinstates_normal_between(plan)
    if gap:
        low, high = gap
        span = str(low) if low == high else f"{low}-{high}"
        rows.insert(
            rows.index(("audit.plan.reject", str(plan.reject))) + 1,
            ("audit.plan.reinstates_normal_between", span),
        )
    for message_id, value in rows:
        table.add_row(_t(message_id), value)
    console.print(table)
    if gap:
        console.print(
            translate(
                "audit.plan.reinstates_normal_note",
                settings().lang,
                accept=plan.accept,
                reject=plan.reject,
            )
        )
    if plan.full_inspection:
        console.print(_t("audit.plan.full_inspection"))
