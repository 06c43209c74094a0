"""Pure statistics core: answers, agreement, intervals, aggregation, labeller skill.

No database, HTTP or settings here: frames and arrays in, frozen results or fitted
estimators out (see each module's docstring for when to use what).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# sampling: re-exported by its own module

__all__ = [
    "ANSWER_COLUMNS",
    "GLAD",
    "MACE",
    "AgreementResult",
    "AnswersEncoder",
    "ClassAgreement",
    "ConfidenceInterval",
    "DawidSkene",
    "EncodedAnswers",
    "LabellerAccuracy",
    "MajorityVote",
    "OneCoinDawidSkene",
    "SimulatedAnswers",
    "WeightedMajorityVote",
    "bootstrap_interval",
    "clopper_pearson_interval",
    "compute_agreement",
    "compute_cohen_kappa",
    "compute_confusion_matrices",
    "compute_fleiss_kappa",
    "compute_gwet_ac1",
    "compute_krippendorff_alpha",
    "compute_percent_agreement",
    "encode_answers",
    "estimate_labeller_accuracy",
    "make_aggregator",
    "simulate_answers",
    "split_binary_relevance",
    "to_crowdkit",
    "validate_answers",
    "wilson_bounds",
    "wilson_interval",
]

# The statistics stack (numpy, pandas, scipy, scikit-learn) costs ~130 MiB; names are
# imported on first use so a process that only labels (the API's hot path imports
# ``labelops.quality.voting``) never loads it.
if TYPE_CHECKING:
    from labelops.quality.aggregation import (
        GLAD,
        MACE,
        DawidSkene,
        MajorityVote,
        OneCoinDawidSkene,
        WeightedMajorityVote,
        make_aggregator,
    )
    from labelops.quality.agreement import (
        AgreementResult,
        ClassAgreement,
        compute_agreement,
        compute_cohen_kappa,
        compute_fleiss_kappa,
        compute_gwet_ac1,
        compute_krippendorff_alpha,
        compute_percent_agreement,
    )
    from labelops.quality.answers import (
        ANSWER_COLUMNS,
        AnswersEncoder,
        EncodedAnswers,
        encode_answers,
        split_binary_relevance,
        to_crowdkit,
        validate_answers,
    )
    from labelops.quality.intervals import (
        ConfidenceInterval,
        bootstrap_interval,
        clopper_pearson_interval,
        wilson_bounds,
        wilson_interval,
    )
    from labelops.quality.simulate import SimulatedAnswers, simulate_answers
    from labelops.quality.skill import (
        LabellerAccuracy,
        compute_confusion_matrices,
        estimate_labeller_accuracy,
    )

_LAZY: dict[str, str] = {
    "ANSWER_COLUMNS": "labelops.quality.answers",
    "AgreementResult": "labelops.quality.agreement",
    "AnswersEncoder": "labelops.quality.answers",
    "ClassAgreement": "labelops.quality.agreement",
    "ConfidenceInterval": "labelops.quality.intervals",
    "DawidSkene": "labelops.quality.aggregation",
    "EncodedAnswers": "labelops.quality.answers",
    "GLAD": "labelops.quality.aggregation",
    "MACE": "labelops.quality.aggregation",
    "MajorityVote": "labelops.quality.aggregation",
    "OneCoinDawidSkene": "labelops.quality.aggregation",
    "LabellerAccuracy": "labelops.quality.skill",
    "SimulatedAnswers": "labelops.quality.simulate",
    "WeightedMajorityVote": "labelops.quality.aggregation",
    "bootstrap_interval": "labelops.quality.intervals",
    "clopper_pearson_interval": "labelops.quality.intervals",
    "compute_agreement": "labelops.quality.agreement",
    "compute_cohen_kappa": "labelops.quality.agreement",
    "compute_fleiss_kappa": "labelops.quality.agreement",
    "compute_gwet_ac1": "labelops.quality.agreement",
    "compute_krippendorff_alpha": "labelops.quality.agreement",
    "compute_percent_agreement": "labelops.quality.agreement",
    "encode_answers": "labelops.quality.answers",
    "make_aggregator": "labelops.quality.aggregation",
    "compute_confusion_matrices": "labelops.quality.skill",
    "estimate_labeller_accuracy": "labelops.quality.skill",
    "simulate_answers": "labelops.quality.simulate",
    "split_binary_relevance": "labelops.quality.answers",
    "to_crowdkit": "labelops.quality.answers",
    "validate_answers": "labelops.quality.answers",
    "wilson_bounds": "labelops.quality.intervals",
    "wilson_interval": "labelops.quality.intervals",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
