"""The declared public surface of ``labelops.quality`` (STYLE 3.2 rule 3)."""

from __future__ import annotations

import importlib

import labelops.quality as quality

EXPECTED = {
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
}

MODULES = [
    "answers",
    "agreement",
    "intervals",
    "skill",
    "simulate",
    "aggregation",
]


def test_package_all_is_pinned():
    assert set(quality.__all__) == EXPECTED
    for name in quality.__all__:
        assert getattr(quality, name) is not None


def test_package_names_come_from_their_modules():
    """Each re-exported name is declared in exactly one submodule's ``__all__``."""
    declared: dict[str, str] = {}
    for module_name in MODULES:
        module = importlib.import_module(f"labelops.quality.{module_name}")
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.__all__ lists missing {name}"
            declared.setdefault(name, module_name)
    for name in quality.__all__:
        assert name in declared, f"{name} is not declared by any quality module"
        module = importlib.import_module(f"labelops.quality.{declared[name]}")
        assert getattr(quality, name) is getattr(module, name)


def test_sampling_names_are_not_re_exported():
    sampling = importlib.import_module("labelops.quality.sampling")
    for name in sampling.__all__:
        assert name not in quality.__all__


def test_public_callables_have_docstrings():
    for name in quality.__all__:
        value = getattr(quality, name)
        if callable(value):
            assert (value.__doc__ or "").strip(), f"{name} has no docstring"
