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
    # a postscript (notebook 09's sections) comes after the table, once
    page = write_markdown(summary_table(loaded), tmp_path / "summary.md", title="Summary",
                          postscript="## Device state\n\nno: far apart\n").read_text()
    assert page.index("| +10.0 ± 1.0 |") < page.index("## Device state") and page.endswith("far apart\n")
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


def test_save_gains_names_the_technology_and_the_time(tmp_path):
    from rrampaper.analysis.summary import GAIN_VARIANTS, format_time, save_gains

    values = {"hardware TO": [0.80, 0.82], "WO open-loop": [0.60, 0.64], "WO write-verify": [0.75, 0.77],
              "HWA WO write-verify": [0.78, 0.78], "software WO": [0.9, 0.9]}
    stored = save_gains("fashion_mnist.accuracy_gain", "smoke", [0, 1], values,
                        technology="taox_40nm_macro", t_inference_s=1.0, folder=tmp_path)
    # only the labels of GAIN_VARIANTS present in values, in GAIN_VARIANTS' order
    assert list(stored) == ["WO open-loop", "WO write-verify", "HWA WO write-verify"]
    assert stored["WO open-loop"] == pytest.approx((19.0, 1.4142135), rel=1e-6)
    loaded = {h.variant: h for h in load_headlines("smoke", folder=tmp_path)}
    assert sorted(loaded) == sorted([
        "hardware TO − WO open-loop · taox_40nm_macro · t = 1 s",
        "hardware TO − WO write-verify · taox_40nm_macro · t = 1 s",
        "hardware TO − HWA WO write-verify · taox_40nm_macro · t = 1 s"])
    record = loaded["hardware TO − HWA WO write-verify · taox_40nm_macro · t = 1 s"]
    assert record.details == {"hardware TO %": 81.0, "HWA WO write-verify %": 78.0}
    # the suffix (e.g. the metric) comes before the technology; a day reads as 1 d
    save_gains("drive.pr_auc_gain", "smoke", [0, 1], values, versus=["WO write-verify"],
               technology="taox_post_verify_static", t_inference_s=86400.0, metric="PR-AUC",
               variant_suffix=", PR-AUC", folder=tmp_path)
    assert "hardware TO − WO write-verify, PR-AUC · taox_post_verify_static · t = 1 d" in {
        h.variant for h in load_headlines("smoke", folder=tmp_path)}
    with pytest.raises(TypeError, match="technology"):
        save_gains("fashion_mnist.accuracy_gain", "smoke", [0], values, folder=tmp_path)
    assert "one-shot" not in " ".join(GAIN_VARIANTS.values())
    assert [format_time(t) for t in (1.0, 3600.0, 86400.0, 365.25 * 86400)] == ["1 s", "1 h", "1 d", "1 y"]
