"""The paper's published headline numbers, each with the version it comes from.

Two versions of the paper state numbers (docs/paper.md#versions): the arXiv preprint v1
(2311.07164, 13 Nov 2023) and the Nature Communications article (10 Jan 2026, doi
10.1038/s41467-025-67960-6). The accuracy gains are the same; the energy numbers changed, and
changed meaning ("improvement in energy efficiency" vs "reducing energy consumption"). Every
comparison in this package names the version it compares with.

Examples
--------
>>> from rrampaper.analysis.paper import claim
>>> c = claim("fashion_mnist.accuracy_gain")
>>> c.value, c.unit, c.version
(17.3, 'percentage points', 'Nature Communications 2026')
>>> claim("energy.spoken_digit", "arxiv2023").value
51.2
"""

from __future__ import annotations

from dataclasses import dataclass

from rrampaper._checks import check_choice

NATURE = "nature2026"
ARXIV = "arxiv2023"
VERSIONS: dict[str, str] = {NATURE: "Nature Communications 2026", ARXIV: "arXiv 2311.07164 v1 (2023)"}


@dataclass(frozen=True)
class Claim:
    """One published number.

    Attributes
    ----------
    key:
        ``"<task>.<quantity>"``, e.g. ``"fashion_mnist.accuracy_gain"``.
    value:
        The number as printed.
    unit:
        ``"percentage points"`` for metric gains, ``"percent"`` for energy reductions.
    description:
        What the paper says the number is.
    version:
        Human-readable paper version (a value of :data:`VERSIONS`).
    quote:
        The sentence of the abstract it comes from.
    """

    key: str
    value: float
    unit: str
    description: str
    version: str
    quote: str


_NATURE_QUOTE = ("our co-design yields accuracy improvements of 17.3% and 19.9% on Fashion-MNIST "
                 "and Spoken Digit, respectively, and a 9.8% precision-recall AUC improvement on "
                 "DRIVE, while reducing energy consumption by 78.3%, 67.9%, and 99.7%")
_ARXIV_QUOTE = ("observing 17.3% and 19.9% accuracy improvements in image and audio classification "
                "on FashionMNIST and Spoken digits datasets, as well as 9.8% (2%) improvement in PR "
                "(ROC) in image segmentation on DRIVE datasets, respectively. This is accompanied by "
                "82.1%, 51.2%, and 99.8% improvement in energy efficiency")

_GAINS = {
    "fashion_mnist.accuracy_gain": (17.3, "test accuracy of TO minus weight optimization on the chip"),
    "spoken_digit.accuracy_gain": (19.9, "test accuracy of TO minus weight optimization on the chip"),
    "drive.pr_auc_gain": (9.8, "PR-AUC of TO minus weight optimization on the chip"),
}

CLAIMS: dict[str, dict[str, Claim]] = {
    NATURE: {
        **{k: Claim(k, v, "percentage points", d, VERSIONS[NATURE], _NATURE_QUOTE) for k, (v, d) in _GAINS.items()},
        **{f"energy.{t}": Claim(f"energy.{t}", v, "percent", "reduction of energy consumption vs "
                                "GPU-based weight optimization (baseline NOT FOUND)",
                                VERSIONS[NATURE], _NATURE_QUOTE)
           for t, v in (("fashion_mnist", 78.3), ("spoken_digit", 67.9), ("drive", 99.7))},
    },
    ARXIV: {
        **{k: Claim(k, v, "percentage points", d, VERSIONS[ARXIV], _ARXIV_QUOTE) for k, (v, d) in _GAINS.items()},
        "drive.roc_auc_gain": Claim("drive.roc_auc_gain", 2.0, "percentage points",
                                    "ROC-AUC of TO minus weight optimization", VERSIONS[ARXIV], _ARXIV_QUOTE),
        **{f"energy.{t}": Claim(f"energy.{t}", v, "percent", "improvement in energy efficiency "
                                "(definition NOT FOUND)", VERSIONS[ARXIV], _ARXIV_QUOTE)
           for t, v in (("fashion_mnist", 82.1), ("spoken_digit", 51.2), ("drive", 99.8))},
    },
}


def claim(key: str, version: str = NATURE) -> Claim:
    """The published number ``key`` of paper ``version`` (``"nature2026"`` or ``"arxiv2023"``)."""
    check_choice("version", version, VERSIONS)
    return CLAIMS[version][check_choice("key", key, CLAIMS[version])]
