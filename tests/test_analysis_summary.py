"""Headline records and the summary table that puts ours beside the paper's numbers."""

import pytest

from rrampaper.analysis.summary import (
    Headline,
    load_headlines,
    save_headline,
    summary_table,
    write_markdown,
)


def test_headlines_round_trip_and_table(tmp_path):
    a = Headline("fashion_mnist.accuracy_gain", "TO − WO post-verify", "quick", [0, 1, 2], 10.0, 1.0,
                 details={"TO": 85.2, "WO": 75.2})
    b = Headline("energy.spoken_digit", "training energy", "quick", [0], 50.0, 0.0, version="arxiv2023")
    c = Headline("drive.pr_auc_gain", "TO − WO", "smoke", [0], 9.0, 0.5)
    for h in (a, b, c):
        save_headline(h, folder=tmp_path)
    loaded = load_headlines("quick", folder=tmp_path)
    assert loaded == sorted([a, b], key=lambda h: (h.key, h.version, h.variant))
    table = summary_table(loaded).set_index("claim")
    # 17.3 - 10.0 = 7.3 > 5 + 2 * 1.0: outside; |51.2 - 50| = 1.2 <= 10: inside
    assert not table.loc["fashion_mnist.accuracy_gain", "within tolerance"]
    assert table.loc["energy.spoken_digit", "within tolerance"]
    assert table.loc["energy.spoken_digit", "paper"] == "+51.2 percent"
    assert table.loc["energy.spoken_digit", "paper version"] == "arXiv 2311.07164 v1 (2023)"
    assert table.loc["fashion_mnist.accuracy_gain", "details"] == "TO 85.2, WO 75.2"
    # a model calculation (no seeds): no spread shown
    model = summary_table([Headline("energy.drive", "model", "quick", [], 97.2, 0.0)]).iloc[0]
    assert (model["ours"], model["seeds"]) == ("+97.2", "model")
    page = write_markdown(summary_table(loaded), tmp_path / "summary.md", title="Summary").read_text()
    assert page.startswith("# Summary") and "| +10.0 ± 1.0 |" in page and "| no |" in page
    # saving the same claim/variant/profile again replaces the record
    save_headline(Headline("fashion_mnist.accuracy_gain", "TO − WO post-verify", "quick", [0], 16.0, 0.0),
                  folder=tmp_path)
    again = summary_table(load_headlines("quick", folder=tmp_path)).set_index("claim")
    assert again.loc["fashion_mnist.accuracy_gain", "ours"] == "+16.0 ± 0.0"
    assert again.loc["fashion_mnist.accuracy_gain", "within tolerance"]


def test_headline_rejects_unknown_claims():
    with pytest.raises(ValueError, match="key='mnist.gain' is not valid"):
        Headline("mnist.gain", "x", "quick", [0], 1.0, 0.0)
    with pytest.raises(ValueError, match="key='drive.roc_auc_gain' is not valid"):
        Headline("drive.roc_auc_gain", "x", "quick", [0], 1.0, 0.0)  # ROC is an arXiv-only claim
    with pytest.raises(ValueError, match="profile='full' is not valid"):
        Headline("drive.pr_auc_gain", "x", "full", [0], 1.0, 0.0)


def test_missing_claims_counts_identical_values_across_versions():
    from rrampaper.analysis.summary import missing_claims

    fashion = Headline("fashion_mnist.accuracy_gain", "x", "quick", [0], 1.0, 0.0)
    energy = Headline("energy.fashion_mnist", "x", "quick", [0], 80.0, 0.0)
    missing = missing_claims([fashion, energy])
    # the +17.3 gain is the same in both versions: covered; 78.3 % (Nature) covered, 82.1 % not
    assert not any(m.startswith("fashion_mnist.accuracy_gain") for m in missing)
    assert "energy.fashion_mnist (arXiv 2311.07164 v1 (2023))" in missing
    assert "energy.fashion_mnist (Nature Communications 2026)" not in missing
    assert "drive.roc_auc_gain (arXiv 2311.07164 v1 (2023))" in missing
