"""``labelops quality``: agreement, aggregation and labeller accuracy on answer files.

Input files are long-format CSV with a header ``item,labeller,label`` (the canonical
``item_id,labeller_id,label`` names work too; extra columns are ignored). Files are read
in chunks into integer codes, with a progress bar, so a 10-million-row file fits.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from labelops.cli._common import cli_command, console, emit_json, err_console, settings
from labelops.errors import InvalidInput
from labelops.i18n import translate

if TYPE_CHECKING:
    import pandas as pd

    from labelops.quality.agreement import AgreementResult
    from labelops.quality.answers import EncodedAnswers

# numpy, pandas and the statistics are imported by the commands that use them: every
# ``labelops`` command loads this module, and an import or an export should not pay
# for the statistics stack (~2 s of start-up here).

__all__ = ["app"]

app = typer.Typer(help="Agreement, aggregation and labeller accuracy.", no_args_is_help=True)

_RENAME = {"item": "item_id", "labeller": "labeller_id", "worker": "labeller_id"}
_CHUNK_ROWS = 500_000


FileArgument = Annotated[Path | None, typer.Argument(help="Long-format CSV: item,labeller,label.")]
ProjectOption = Annotated[str | None, typer.Option(help="A project's labels instead of a file.")]
VendorOption = Annotated[str | None, typer.Option(help="With --project: one vendor's labels.")]


class Metric(StrEnum):
    KRIPPENDORFF_ALPHA = "krippendorff-alpha"
    FLEISS_KAPPA = "fleiss-kappa"
    COHEN_KAPPA = "cohen-kappa"
    GWET_AC1 = "gwet-ac1"
    PERCENT = "percent"


class Method(StrEnum):
    MAJORITY = "majority"
    WEIGHTED_MAJORITY = "weighted-majority"
    DAWID_SKENE = "dawid-skene"
    ONE_COIN = "one-coin"
    GLAD = "glad"
    MACE = "mace"


class By(StrEnum):
    CLASS = "class"


class Duplicates(StrEnum):
    ERROR = "error"
    LAST = "last"


def _lang() -> str:
    return settings().lang


def read_answers(path: Path, *, show_progress: bool = True) -> EncodedAnswers:
    """Stream a long-format answers CSV into :class:`EncodedAnswers`, validating each chunk.

    Raises:
        InvalidInput: The file is missing, lacks a column, or has bad rows (every bad row
            of the first bad chunk is listed with its line number).
    """
    import pandas as pd

    from labelops.quality.answers import AnswersEncoder, validate_answers

    if not path.is_file():
        raise InvalidInput("quality.file_not_found", file=str(path))
    encoder = AnswersEncoder()
    line = 2
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task(
            translate("quality.cli_reading", _lang()), total=path.stat().st_size
        )
        with path.open("rb") as handle:
            reader = pd.read_csv(
                handle,
                dtype=str,
                keep_default_na=False,
                chunksize=_CHUNK_ROWS,
                quoting=csv.QUOTE_MINIMAL,
            )
            for chunk in reader:
                chunk = chunk.rename(columns=_RENAME)
                valid = validate_answers(chunk, file=str(path), first_line=line)
                encoder.add(valid)
                line += len(chunk)
                progress.update(task, completed=handle.tell())
    return encoder.finish()


def read_gold(path: Path | None) -> pd.Series | None:
    """Read a gold file with header ``item,label`` into ``item_id -> label``."""
    import pandas as pd

    if path is None:
        return None
    if not path.is_file():
        raise InvalidInput("quality.file_not_found", file=str(path))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).rename(columns=_RENAME)
    for column in ("item_id", "label"):
        if column not in frame.columns:
            raise InvalidInput(
                "quality.missing_column",
                file=str(path),
                field=column,
                columns=", ".join(map(str, frame.columns)),
            )
    return pd.Series(frame["label"].to_numpy(), index=frame["item_id"].to_numpy(), name="label")


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _agreement_payload(result: AgreementResult, metric: str) -> dict[str, Any]:
    return {
        "metric": metric,
        "value": _round(result.value),
        "ci_low": _round(result.ci_low),
        "ci_high": _round(result.ci_high),
        "n_items": result.n_items,
        "n_labellers": result.n_labellers,
    }


def _answers_from(
    file: Path | None,
    project: str | None,
    vendor: str | None,
    since: datetime | None,
    *,
    show_progress: bool,
) -> EncodedAnswers | pd.DataFrame:
    """The answers of a file, or of a project's current labels (local operator)."""
    if (file is None) == (project is None):
        raise InvalidInput("quality.file_or_project", field="file")
    if file is not None:
        return read_answers(file, show_progress=show_progress)
    from labelops.cli.main import open_session
    from labelops.services import directory, project_quality, projects
    from labelops.services.policy import SYSTEM_ACTOR

    with open_session() as session:
        target = projects.get_project_by_name(session, SYSTEM_ACTOR, project or "")
        vendor_id = directory.get_vendor_by_name(session, vendor).id if vendor else None
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        frame = project_quality.load_project_answers(
            session, SYSTEM_ACTOR, target.id, vendor_id=vendor_id, since=since
        )
    if frame.empty:
        raise InvalidInput("errors.quality.no_labels", field="project", value=project)
    return frame[["item_id", "labeller_id", "label"]]


def _project_labellers(project: str, vendor: str | None, method: str) -> tuple[Any, ...]:
    from labelops.cli.main import open_session
    from labelops.services import directory, project_quality, projects
    from labelops.services.policy import SYSTEM_ACTOR

    with open_session() as session:
        target = projects.get_project_by_name(session, SYSTEM_ACTOR, project)
        vendor_id = directory.get_vendor_by_name(session, vendor).id if vendor else None
        return project_quality.estimate_project_labellers(
            session, SYSTEM_ACTOR, target.id, method=method, vendor_id=vendor_id
        )


@app.command("agreement")
@cli_command
def agreement_command(
    file: FileArgument = None,
    project: ProjectOption = None,
    vendor: VendorOption = None,
    since: Annotated[
        datetime | None, typer.Option(help="With --project: labels submitted since (UTC).")
    ] = None,
    metric: Annotated[
        Metric, typer.Option(help="Agreement statistic.")
    ] = Metric.KRIPPENDORFF_ALPHA,
    by: Annotated[By | None, typer.Option(help="Break down by class (one-vs-rest).")] = None,
    level: Annotated[str, typer.Option(help="Alpha level: nominal or ordinal.")] = "nominal",
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples over items.")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    duplicates: Annotated[
        Duplicates, typer.Option(help="A labeller answering an item twice: error or keep last.")
    ] = Duplicates.ERROR,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Agreement between labellers, with a 95% bootstrap interval (a file or --project)."""
    from labelops.quality.agreement import compute_agreement

    answers = _answers_from(file, project, vendor, since, show_progress=not as_json)
    result = compute_agreement(
        answers,
        metric=metric.value.replace("-", "_"),  # type: ignore[arg-type]
        level=level,  # type: ignore[arg-type]
        per_class=by is not None,
        n_resamples=resamples,
        seed=seed,
        duplicates=duplicates.value,  # type: ignore[arg-type]
    )
    if by is None:
        rows = [_agreement_payload(result, metric.value)]
    else:
        rows = []
        for entry in result.per_class:
            payload = {
                "class": str(entry.label),
                "metric": metric.value,
                "value": _round(entry.value),
                "ci_low": _round(entry.ci_low),
                "ci_high": _round(entry.ci_high),
                "n_items": result.n_items,
                "n_labellers": result.n_labellers,
            }
            rows.append(payload)
    if as_json:
        emit_json(rows[0] if by is None else rows)
        return
    lang = _lang()
    console.print(
        translate("quality.cli_agreement_line", lang, **_agreement_payload(result, metric.value)),
        markup=False,
    )
    if by is not None:
        table = Table()
        for header in ("quality.col_class", "quality.col_value", "quality.col_ci"):
            table.add_column(translate(header, lang))
        for row in rows:
            table.add_row(
                row["class"], f"{row['value']:.4f}", f"{row['ci_low']} – {row['ci_high']}"
            )
        console.print(table)


@app.command("aggregate")
@cli_command
def aggregate_command(
    file: Annotated[Path, typer.Argument(help="Long-format CSV: item,labeller,label.")],
    out: Annotated[Path, typer.Option(help="Output CSV: item,label,probability.")],
    method: Annotated[Method, typer.Option(help="Aggregation method.")] = Method.DAWID_SKENE,
    gold: Annotated[Path | None, typer.Option(help="Gold CSV: item,label (clamped).")] = None,
) -> None:
    """One final label per item with its posterior probability."""
    import numpy as np
    import pandas as pd

    from labelops.quality.aggregation import (
        MajorityVote,
        WeightedMajorityVote,
        make_aggregator,
    )

    encoded = read_answers(file)
    gold_labels = read_gold(gold)
    lang = _lang()
    with err_console.status(translate("quality.cli_fitting", lang, method=method.value)):
        model = make_aggregator(method.value).fit(encoded, gold=gold_labels)
    probas = model.probas_.to_numpy()
    best = probas.argmax(axis=1)
    frame = pd.DataFrame(
        {
            "item": model.probas_.index,
            "label": model.labels_.to_numpy(),
            "probability": np.round(probas[np.arange(len(best)), best], 6),
        }
    )
    tmp = out.with_name(out.name + ".partial")
    frame.to_csv(tmp, index=False)
    tmp.replace(out)  # nothing half-written: the file appears whole or not at all
    console.print(translate("quality.cli_written", lang, count=len(frame), path=str(out)))
    if isinstance(model, MajorityVote | WeightedMajorityVote) and model.tied_.any():
        err_console.print(translate("quality.cli_ties", lang, count=int(model.tied_.sum())))


@app.command("labellers")
@cli_command
def labellers_command(
    file: FileArgument = None,
    project: ProjectOption = None,
    vendor: VendorOption = None,
    gold: Annotated[Path | None, typer.Option(help="Gold CSV: item,label.")] = None,
    method: Annotated[Method, typer.Option(help="Model for labellers without gold.")] = (
        Method.DAWID_SKENE
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON with confusion matrices.")] = (
        False
    ),
) -> None:
    """Each labeller's accuracy with a Wilson interval, from gold or from the model."""
    import numpy as np

    from labelops.quality.skill import estimate_labeller_accuracy

    if project is not None:
        results = _project_labellers(project, vendor, method.value)
    else:
        encoded = _answers_from(file, None, None, None, show_progress=not as_json)
        results = estimate_labeller_accuracy(encoded, gold=read_gold(gold), method=method.value)
    if as_json:
        emit_json(
            [
                {
                    "labeller": str(r.labeller_id),
                    "accuracy": _round(r.accuracy_rate),
                    "ci_low": _round(r.ci_low),
                    "ci_high": _round(r.ci_high),
                    "n_answers": r.n_answers,
                    "source": r.source,
                    "classes": [str(c) for c in r.classes],
                    "confusion": np.round(r.confusion, 6).tolist(),
                }
                for r in results
            ]
        )
        return
    lang = _lang()
    table = Table()
    for header in (
        "quality.col_labeller",
        "quality.col_accuracy",
        "quality.col_ci",
        "quality.col_answers",
        "quality.col_source",
    ):
        table.add_column(translate(header, lang))
    for r in results:
        table.add_row(
            str(r.labeller_id),
            f"{r.accuracy_rate:.3f}",
            f"{r.ci_low:.3f} – {r.ci_high:.3f}",
            str(r.n_answers),
            translate(f"quality.source_{r.source}", lang),
        )
    console.print(table)
