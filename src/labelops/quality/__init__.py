"""Pure statistics core: answers, agreement, intervals, aggregation, labeller skill.

No database, HTTP or settings here: frames and arrays in, frozen results or fitted
estimators out (see each module's docstring for when to use what).
"""

from __future__ import annotations

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
