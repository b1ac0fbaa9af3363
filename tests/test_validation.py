"""Every entry point checks its parameters up front: experiments, devices, programming targets
and the notebooks' papermill parameters fail at once with a message naming the parameter."""

import ast
import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from rrampaper.baselines import InSituWO, program_model
from rrampaper.devices import program_conductances, program_weights, technology
from rrampaper.errors import ParameterError, UnwritableError
from rrampaper.experiments.train import Experiment, resolve_device
from rrampaper.notebook_params import CHECKS, check_notebook_parameters

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# --------------------------------------------------------------------------- Experiment
def test_experiment_refuses_bad_fields_when_built():
    cases = {
        "technology": "nope",  # used to fail only when the hardware method built its chip
        "lr": math.inf,
        "weight_decay": math.inf,
        "seed": "abc",
        "keep_ratio": "0.5",
        "limit_size": "yes",
    }
    for field, value in cases.items():
        with pytest.raises(ParameterError, match=rf"^{field}="):
            Experiment(method="hardware_TO", **{field: value})
    for field, value in (("lr", math.nan), ("lr", 11.0), ("weight_decay", math.nan),
                         ("weight_decay", 2.0), ("keep_ratio", True)):
        with pytest.raises(ParameterError, match=rf"^{field}="):
            Experiment(**{field: value})


def test_experiment_keeps_accepting_valid_values():
    assert Experiment(lr=10.0, weight_decay=1.0, keep_ratio=1).lr == 10.0
    tech = technology("pcm")
    assert Experiment(method="hardware_TO", technology=tech).technology is tech


# --------------------------------------------------------------------------- devices
def test_resolve_device_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    for name in ("cuda", "cuda:0", "mps"):
        with pytest.raises(ParameterError) as error:
            resolve_device(name)
        message = str(error.value)
        assert f"device={name!r} does not exist on this machine" in message
        assert message.endswith("choose one of auto, cpu") and "\n" not in message
    with pytest.raises(ParameterError, match=r"^--device='gpu' is not a device name; .* auto, cpu$"):
        resolve_device("gpu", name="--device")


def test_resolve_device_beyond_the_device_count(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    assert resolve_device("cuda") == torch.device("cuda")
    with pytest.raises(ParameterError, match=r"torch sees 2 CUDA devices\); choose one of auto, "
                                             r"cpu, cuda:0, cuda:1"):
        resolve_device("cuda:3")


# --------------------------------------------------------------------------- programming
def test_programming_refuses_nan_and_out_of_range_targets():
    tech = technology("taox_post_verify_static")
    nan = torch.tensor([50e-6, math.nan, 60e-6])
    with pytest.raises(ParameterError, match=r"target_s has 1 of 3 values not finite .* valid range "
                                             r"is \[2e-06, 0.000225\] S"):
        program_conductances(nan, tech)
    for bad in (torch.tensor([50e-6, math.inf]), torch.tensor([0.0, 50e-6]),
                torch.tensor([1e-3, 50e-6])):
        with pytest.raises(ParameterError, match=r"^target_s has 1 of 2 values"):
            program_conductances(bad, tech, "post_verify")
    # the ends of the range (and a rounding excess) are programmable
    edges = torch.tensor([tech.g_min_s, tech.g_max_s, tech.g_max_s * (1 + 1e-12)],
                         dtype=torch.float64)
    assert program_conductances(edges, tech, "post_verify").conductance_s.isfinite().all()
    with pytest.raises(ParameterError, match=r"^weights_s has 2 of 4 values not finite"):
        program_weights(torch.tensor([1e-6, math.nan, -math.inf, 0.0]), tech)


def test_programming_a_model_with_nan_weights_names_the_weight():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        net[2].weight[0, 0] = math.nan
    with pytest.raises(ParameterError, match=r"weight '2.weight' has 1 of 6 values that are not finite"):
        program_model(net)
    with pytest.raises(ParameterError, match=r"weight '2.weight' has 1 of 6"):
        InSituWO().build(net)


# --------------------------------------------------------------------------- notebook parameters
@pytest.mark.parametrize(("values", "message"), [
    ({"profile": "fast"}, r"profile='fast' is not valid; choose one of 'smoke', 'quick', 'paper'"),
    ({"seed": "abc"}, r"seed='abc' must be an integer >= 0"),
    ({"seeds": 3}, r"seeds=3 must be None \(the profile's seeds\) or a list of integers >= 0"),
    ({"seeds": "[0, 1]"}, r"-y 'seeds: \[0, 1, 2\]'"),
    ({"seeds": [0, -1]}, r"seeds=\[0, -1\] holds -1"),
    ({"technology": "nope"}, r"technology='nope' is not valid"),
    ({"technologies": ["pcm", "nope"]}, r"technologies=\['pcm', 'nope'\] holds 'nope'"),
    ({"keep_ratio": "0.5"}, r"keep_ratio='0.5' is not a number"),
    ({"keep_ratio": 0}, r"keep_ratio=0 is outside the valid range \(0, 1\]"),
    ({"weight_decay": math.inf}, r"weight_decay=inf is outside the valid range \[0, 1\] \(or None\)"),
    ({"retrain": "yes"}, r"retrain='yes' must be True or False"),
    ({"measured_tasks": "drive"}, r"measured_tasks='drive' must be a list"),
    ({"scenario": "both"}, r"scenario='both' is not valid"),
    ({"drive_patch": 50}, r"drive_patch=50 must be a multiple of 16"),
    ({"forming_widths_s": (1e-5, 1e-7)}, r"forming_widths_s=\(1e-05, 1e-07\) must be two pulse widths"),
    ({"use_imagenet": "no"}, r"use_imagenet='no' must be True or False \(or None\)"),
])
def test_notebook_parameters_refuse_bad_values(values, message):
    with pytest.raises(ParameterError, match=message):
        check_notebook_parameters(figures=False, **values)


def test_notebook_parameters_report_every_bad_value_and_resolve_the_profile(monkeypatch):
    with pytest.raises(ParameterError, match=r"^seed=-1 .*; keep_ratio=2 "):
        check_notebook_parameters(profile="smoke", seed=-1, keep_ratio=2, figures=False)
    monkeypatch.setenv("RRAMPAPER_PROFILE", "smoke")
    assert check_notebook_parameters(seeds=[0, 1], technology="pcm", weight_decay=None,
                                     use_imagenet=None, figures=False) == "smoke"
    with pytest.raises(TypeError, match="no check for notebook parameter"):
        check_notebook_parameters(sedd=1, figures=False)


def test_unwritable_figures_folder_is_reported_before_any_work(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("RRAMPAPER_FIGURES_DIR", str(blocker / "figures"))
    with pytest.raises(UnwritableError, match=rf"figures folder {blocker / 'figures'} cannot be written"):
        check_notebook_parameters(profile="smoke")
    monkeypatch.setenv("RRAMPAPER_FIGURES_DIR", str(tmp_path / "figures"))
    assert check_notebook_parameters(profile="smoke") == "smoke"


def _parameters_and_check(path: Path) -> tuple[list[str], ast.Call]:
    """The names of the ``parameters`` cell and the first call of the next code cell."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    index = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", []))
    names = [t.id for node in ast.parse("".join(cells[index]["source"])).body for t in node.targets]
    follow = next(c for c in cells[index + 1:] if c["cell_type"] == "code")
    calls = [node.value for node in ast.parse("".join(follow["source"])).body
             if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)]
    return names, calls[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_checks_all_its_parameters_first(path):
    names, call = _parameters_and_check(path)
    assert isinstance(call.func, ast.Name) and call.func.id == "check_notebook_parameters", path.name
    passed = [k.arg for k in call.keywords]
    assert passed == names, f"{path.name}: pass every parameter, in order"
    assert all(isinstance(k.value, ast.Name) and k.value.id == k.arg for k in call.keywords)
    assert set(names) - {"profile"} <= set(CHECKS)


@pytest.mark.slow
def test_papermill_bad_parameters_fail_in_the_cell_after_parameters(tmp_path, monkeypatch):
    papermill = pytest.importorskip("papermill")
    source = next(p for p in NOTEBOOKS if p.name.startswith("02_"))
    nb = json.loads(source.read_text(encoding="utf-8"))
    index = next(i for i, c in enumerate(nb["cells"]) if "parameters" in c["metadata"].get("tags", []))
    nb["cells"] = nb["cells"][: index + 2]  # everything up to the check: no training
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "reached",
                        "metadata": {}, "outputs": [], "source": ["REACHED = True"]})
    short = tmp_path / "short.ipynb"
    short.write_text(json.dumps(nb), encoding="utf-8")
    monkeypatch.setenv("RRAMPAPER_FIGURES_DIR", str(tmp_path / "figures"))
    with pytest.raises(papermill.PapermillExecutionError) as failure:
        papermill.execute_notebook(str(short), str(tmp_path / "out.ipynb"), kernel_name="python3",
                                   parameters={"seeds": 3, "keep_ratio": "0.5"}, progress_bar=False,
                                   cwd=str(tmp_path))
    assert failure.value.ename == "ParameterError"
    assert "seeds=3 must be None" in failure.value.evalue
    assert "keep_ratio='0.5' is not a number" in failure.value.evalue
    executed = json.loads((tmp_path / "out.ipynb").read_text(encoding="utf-8"))["cells"]
    failed = [c for c in executed if c["cell_type"] == "code" and any(
        o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert len(failed) == 1 and "check_notebook_parameters(" in "".join(failed[0]["source"])
    before = [c for c in executed[: executed.index(failed[0])] if c["cell_type"] == "code"]
    assert "injected-parameters" in before[-1]["metadata"]["tags"]  # the cell right after them
    assert executed[-1]["source"] == ["REACHED = True"] and executed[-1]["execution_count"] is None
