"""Schemathesis against the OpenAPI document, as an admin and as a labeller: no
response is a 5xx, and every response matches what the document says of its route
(status code, content type, body schema: the error envelope for 4xx).

Bounded in time: ``EXAMPLES`` cases per operation, valid and invalid ones (each sent
with both tokens, and again with its path ids folded onto rows that exist),
derandomised, so the run is the same every time: 20-75 s on SQLite or
PostgreSQL on the 2-core machine, under the three minutes it is given.
Runs on both databases (CI runs the suite on SQLite and on PostgreSQL).
"""

from __future__ import annotations

import time
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from factories import make_world

EXAMPLES = 12
"""Cases per operation: about 50 operations x 12 cases x 2 tokens."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture()
def fuzzed_app(settings, session) -> tuple[Any, dict[str, str]]:
    from labelops.api import create_app

    world = make_world(session, n_items=6, overlap=1, gold_rate=0.0)
    tokens = {
        role: world.tokens[name] for role, name in (("admin", "admin"), ("labeller", "labeller-a1"))
    }
    return create_app(settings), tokens


def _small(value: Any) -> Any:
    return value % 8 + 1 if isinstance(value, int) and not isinstance(value, bool) else value


def test_no_server_error_and_every_response_as_documented(fuzzed_app):
    app, tokens = fuzzed_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(
            case=st.one_of(
                operation.as_strategy(GenerationMode.POSITIVE),
                operation.as_strategy(GenerationMode.NEGATIVE),
            )
        )
        def check(case: Any) -> None:
            for token in tokens.values():
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
            if case.path_parameters:
                # Random ids name nothing: again with ids of the rows the world has.
                case.path_parameters = {
                    name: _small(value) for name, value in case.path_parameters.items()
                }
                for token in tokens.values():
                    case.call_and_validate(
                        headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
                    )

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - reported together
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures)
    assert elapsed < 240, f"the fuzz run took {elapsed:.0f} s (budget: under 3 minutes)"
