"""Weight-optimization baselines: programming statistics, reads, in-situ writes and budgets."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn
from torch.nn.utils import parametrize

from rrampaper.baselines import (
    InSituWO,
    device_weights,
    program_model,
    programmed_weights,
    restart_eval_reads,
    set_read_policy,
    shadow_weight,
)
from rrampaper.devices import ScaledNoise, technology
from rrampaper.models import FashionCNN, SpokenDigitCRNN

US = 1e-6


def _layer(out_features: int, in_features: int, seed: int = 0, bias: bool = False) -> nn.Linear:
    torch.manual_seed(seed)
    layer = nn.Linear(in_features, out_features, bias=bias)
    with torch.no_grad():
        layer.weight.normal_(0.0, 1.0 / math.sqrt(in_features))
    return layer


def _the(model: nn.Module, name: str = "weight"):
    return dict(device_weights(model))[name]


def _targets(w: torch.Tensor, scale: torch.Tensor, tech) -> tuple[torch.Tensor, torch.Tensor]:
    scaled = w.double() * scale.double()
    return tech.g_min_s + scaled.clamp(min=0), tech.g_min_s + (-scaled).clamp(min=0)


def _clamped_moments(t: torch.Tensor, sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """E[Y - t] and E[(Y - t)^2] of Y = max(X, 0), X ~ N(t, sigma^2) (program_conductances
    clamps a landed conductance at 0 S)."""
    a = (t / sigma).numpy()
    cdf, pdf = torch.from_numpy(stats.norm.cdf(a)), torch.from_numpy(stats.norm.pdf(a))
    a = torch.from_numpy(a)
    first = sigma * pdf - t * (1 - cdf)
    second = sigma**2 * (cdf - a * pdf) + t**2 * (1 - cdf)
    return first, second


# ---------------------------------------------------------------------------------------
# programming noise
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "law"), [("post_verify", "post_verify_sigma"),
                                             ("open_loop", "programming_sigma")])
def test_unverified_error_is_the_technologys_law(method, law):
    """Standardized residuals are N(0, 1) where no clamping occurs (KS + moments), for the
    post-verify spread and for one open-loop pulse (idle cells programmed, not RESET)."""
    tech = technology("taox_post_verify_static", g_min_prog_s=20 * US)  # sigma(20 uS) >= 4.5 uS: never clamps
    layer = _layer(100, 200)
    chip, report = program_model(layer, tech, method, seed=3, idle="program")
    dw = _the(chip)
    plus, minus = _targets(layer.weight.detach(), dw.scale, tech)
    sigma_of = getattr(tech, law)
    sigma = torch.sqrt(sigma_of(plus) ** 2 + sigma_of(minus) ** 2)
    z = ((dw.g_plus.double() - dw.g_minus.double()) - (plus - minus)) / sigma
    z = z.reshape(-1).numpy()
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(z.mean()) < 4 / math.sqrt(z.size)
    assert z.std() == pytest.approx(1.0, abs=0.02)
    assert report.total_pulses == report.cells == 2 * 20_000
    assert report.converged_fraction == 1.0


def test_post_verify_relative_error_matches_prediction_of_static_preset():
    """Static TaOx (g_min 1 uS < sigma 4.8 uS: landed values clamp at 0 S): the reported
    relative error equals the analytic one of two clamped Gaussian cells."""
    tech = technology("taox_post_verify_static")
    layer = _layer(100, 200, seed=1)
    chip, report = program_model(layer, tech, "post_verify", seed=0, idle="program")
    w = layer.weight.detach().double()
    scale = _the(chip).scale.double()
    plus, minus = _targets(w, scale, tech)
    m1p, m2p = _clamped_moments(plus, tech.post_verify_sigma(plus))
    m1m, m2m = _clamped_moments(minus, tech.post_verify_sigma(minus))
    mse = (m2p + m2m - 2 * m1p * m1m) / scale**2
    predicted = math.sqrt(float(mse.sum()) / float(w.square().sum()))
    assert report.relative_error == pytest.approx(predicted, rel=0.03)
    assert report.layers["weight"].relative_error == report.relative_error
    # and it is what the programmed weights show
    achieved = programmed_weights(chip)["weight"].double()
    rms = float((achieved - w).square().mean().sqrt() / w.square().mean().sqrt())
    assert rms == pytest.approx(report.relative_error, rel=1e-4)


def test_write_verify_converged_cells_within_tolerance():
    tech = technology("taox_post_verify_static", g_min_prog_s=20 * US)
    layer = _layer(50, 200, seed=2)
    tolerance, atol_s = 0.02, 0.1 * US
    chip, tight = program_model(
        layer, tech, "write_verify", tolerance=tolerance, atol_s=atol_s, max_pulses=400, seed=1,
        idle="program",
    )
    assert tight.converged_fraction == 1.0
    dw = _the(chip)
    plus, minus = _targets(layer.weight.detach(), dw.scale, tech)
    for g, target in ((dw.g_plus.double(), plus), (dw.g_minus.double(), minus)):
        window = (tolerance * target).clamp(min=atol_s)
        # the verify read passed: the cell is inside the window up to that read's noise
        assert bool(((g - target).abs() <= window + 5.5 * tech.read_sigma(g)).all())
    assert tight.total_pulses >= tight.cells
    assert tight.total_pulses / tight.cells > 3.0  # window 0.4 uS vs open-loop sigma >= 4.5 uS
    _, loose = program_model(layer, tech, "write_verify", tolerance=0.2, max_pulses=400, seed=1,
                             idle="program")
    _, open_loop = program_model(layer, tech, "open_loop", seed=1, idle="program")
    assert loose.total_pulses < tight.total_pulses
    assert tight.relative_error < loose.relative_error < open_loop.relative_error
    assert tight.relative_error < 0.25 * open_loop.relative_error


def test_write_verify_reports_unconverged_cells_at_pulse_budget():
    # default TaOx: cells at g_min = 1 uS have sigma 4.8 uS against a 0.5 uS window
    layer = _layer(20, 50, seed=4)
    _, few = program_model(layer, "taox_post_verify_static", "write_verify", max_pulses=2, seed=0)
    _, many = program_model(layer, "taox_post_verify_static", "write_verify", max_pulses=20, seed=0)
    assert few.converged_fraction < many.converged_fraction < 1.0
    assert few.cells <= few.total_pulses <= 2 * few.cells


# ---------------------------------------------------------------------------------------
# reads
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("read_noise_scale", [1.0, 2.0])
def test_read_noise_of_forwards_matches_read_sigma(read_noise_scale):
    tech = technology("taox_post_verify_static")
    layer = _layer(50, 60, seed=5)
    chip, _ = program_model(layer, tech, "post_verify", seed=0, read_noise_scale=read_noise_scale)
    dw = _the(chip)
    base = torch.sqrt(
        tech.read_sigma(dw.g_plus.double()) ** 2 + tech.read_sigma(dw.g_minus.double()) ** 2
    )
    assert torch.allclose(dw.read_sigma.double(), read_noise_scale * base, rtol=1e-5)
    chip.eval()
    eye = torch.eye(60)
    with torch.no_grad():
        reads = torch.stack([chip(eye).T for _ in range(200)]).double()  # [200, 50, 60]
    programmed = dw.programmed_weight().double()
    z = (reads - programmed) / (base / dw.scale)
    assert float(z.mean()) == pytest.approx(0.0, abs=0.01)
    assert float(z.std()) == pytest.approx(read_noise_scale, rel=0.01)
    assert dw.eval_read == 200


def test_reads_deterministic_by_seed_and_index_and_restartable():
    layer = _layer(8, 12, seed=6, bias=True)
    chip, _ = program_model(layer, seed=4)
    again, _ = program_model(layer, seed=4)
    other, _ = program_model(layer, seed=5)
    assert torch.equal(_the(chip).g_plus, _the(again).g_plus)
    assert not torch.equal(_the(chip).g_plus, _the(other).g_plus)
    x = torch.randn(5, 12)
    chip.eval()
    with torch.no_grad():
        first = [chip(x) for _ in range(3)]
        assert not torch.equal(first[0], first[1])
        restart_eval_reads(chip)
        assert all(torch.equal(a, chip(x)) for a in first)
        assert torch.equal(first[2], F.linear(x, _the(chip).effective_weight(2), layer.bias))
        again.eval()
        assert torch.equal(first[0], again(x))  # same seed, same read 0
        # training forwards have their own counter
        chip.train()
        chip(x)
    dw = _the(chip)
    assert (dw.train_read, dw.eval_read) == (1, 3)
    # outside a forward the weight is the programmed one and nothing advances
    assert torch.equal(chip.weight, dw.programmed_weight())
    assert (dw.train_read, dw.eval_read) == (1, 3)
    set_read_policy(chip, eval_reads="fixed", eval_start=7)
    chip.eval()
    with torch.no_grad():
        assert torch.equal(chip(x), chip(x))
        assert torch.equal(chip(x), F.linear(x, dw.effective_weight(7), layer.bias))
    set_read_policy(chip, eval_reads="noiseless")
    with torch.no_grad():
        assert torch.equal(chip(x), F.linear(x, dw.programmed_weight(), layer.bias))


def test_one_read_per_forward_in_rnn_paths():
    for bits in (None, 3):  # nn.RNN's fused path and QuantizedRNN's step-by-step path
        chip, _ = program_model(SpokenDigitCRNN(activation_bits=bits), seed=0)
        chip.eval()
        with torch.no_grad():
            chip(torch.rand(4, 23, 20))
        reads = {name: dw.eval_read for name, dw in device_weights(chip)}
        assert reads == dict.fromkeys(reads, 1)
        assert set(reads) == {
            "conv1.weight", "conv2.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0",
            "fc1.weight", "fc2.weight",
        }  # fmt: skip
        copy.deepcopy(chip)  # no autograd graph is kept between forwards


# ---------------------------------------------------------------------------------------
# the programmed model as a whole
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["post_verify", "write_verify"])
def test_zero_noise_reproduces_the_original_model(method):
    torch.manual_seed(0)
    for model, x in (
        (FashionCNN(activation_bits=None), torch.randn(6, 1, 28, 28)),
        (SpokenDigitCRNN(activation_bits=None), torch.rand(6, 23, 20)),
    ):
        model.eval()
        chip, report = program_model(
            model, method=method, read_noise_scale=0.0, programming_noise_scale=0.0,
            weight_scale="per_channel", idle="program",
        )  # fmt: skip
        chip.eval()
        with torch.no_grad():
            assert torch.allclose(chip(x), model(x), rtol=1e-4, atol=1e-5)
        assert report.total_pulses == report.cells  # every verify passes at once
        assert report.relative_error < 1e-6


def test_original_model_untouched_and_digital_parts_kept():
    model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    before = copy.deepcopy(model.state_dict())
    chip, report = program_model(model, seed=0)
    chip.train()
    chip(torch.randn(4, 6)).sum().backward()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(parametrize.is_parametrized(m) for m in model.modules())
    assert set(report.layers) == {"0.weight", "3.weight"}
    trainable = {name for name, p in chip.named_parameters() if p.requires_grad}
    assert trainable == {"0.bias", "1.weight", "1.bias", "3.bias"}  # biases and BN: digital
    assert torch.equal(shadow_weight(chip, "3.weight"), model[3].weight)
    with pytest.raises(ValueError, match="already programmed"):
        program_model(chip)
    _, partial = program_model(model, exclude=["3"])
    assert set(partial.layers) == {"0.weight"}


@pytest.mark.slow
def test_trained_mlp_keeps_accuracy_after_write_verify_and_loses_it_with_noise():
    teacher = torch.randn(4, 16, generator=torch.Generator().manual_seed(0))

    def data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, 16, generator=torch.Generator().manual_seed(seed))
        return x, (x @ teacher.T).argmax(1)  # linearly separable

    (x_train, y_train), (x_test, y_test) = data(4000, 1), data(4000, 2)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(300):
        optimizer.zero_grad()
        F.cross_entropy(net(x_train), y_train).backward()
        optimizer.step()

    def accuracy(model: nn.Module) -> float:
        model.eval()
        restart_eval_reads(model)
        with torch.no_grad():
            return float((model(x_test).argmax(1) == y_test).float().mean())

    software = accuracy(net)
    assert software > 0.95
    for seed in range(3):
        chip, report = program_model(net, method="write_verify", seed=seed)
        assert accuracy(chip) > software - 0.02
        assert report.total_pulses > report.cells
    mean_accuracy = []
    for scale in (0.0, 1.0, 3.0, 10.0):
        runs = [
            accuracy(
                program_model(net, method="post_verify", programming_noise_scale=scale, seed=s,
                              idle="program")[0]
            )
            for s in range(3)
        ]
        mean_accuracy.append(sum(runs) / len(runs))
    assert all(a > b for a, b in zip(mean_accuracy, mean_accuracy[1:], strict=False))
    assert mean_accuracy[-1] < software - 0.1


# ---------------------------------------------------------------------------------------
# noise scaling
# ---------------------------------------------------------------------------------------
def test_baselines_scale_noise_with_the_scaled_noise_technology():
    """One noise-scaling API: the baselines wrap their technology in devices.ScaledNoise."""
    import rrampaper.baselines as baselines

    assert not hasattr(baselines, "scaled_noise")
    base = technology("pcm")
    method = InSituWO(base, read_noise_scale=3.0, programming_noise_scale=0.5)
    assert method.device == ScaledNoise(base, read_scale=3.0, programming_scale=0.5)
    g = torch.linspace(1e-6, 25e-6, 7, dtype=torch.float64)
    # scale 1 is the technology itself, bit for bit (x * 1.0 is exact)
    assert torch.equal(InSituWO(base).device.read_sigma(g), base.read_sigma(g))
    assert torch.equal(InSituWO(base).device.programming_sigma(g), base.programming_sigma(g))


# ---------------------------------------------------------------------------------------
# in-situ weight optimization
# ---------------------------------------------------------------------------------------
def test_in_situ_writes_and_budget_by_hand():
    layer = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.5, -0.25], [1.0, 0.0]]))  # max |w| = 1: w_max = 1
    method = InSituWO("taox_post_verify_static", write_budget=12, seed=0, programming_noise_scale=0.0)
    model = method.build(layer)
    assert method.initial_pulses == 8 and method.budget_left == 4  # 4 pairs, one-shot
    shadow = shadow_weight(model, "weight")
    assert shadow is layer.parametrizations.weight.original

    def step(values: list[list[float]]) -> int:
        with torch.no_grad():
            shadow.copy_(torch.tensor(values))
        return method.after_step(model)

    # (0,0) +0.3: G+ moves 67 uS -> 1 write; (0,1) changes sign: G+ and G- -> 2 writes;
    # (1,0) -0.001: 0.22 uS, below one programming sigma (2.7 uS) -> none
    assert step([[0.8, 0.25], [0.999, 0.0]]) == 3
    assert method.programming_ops(model) == {"writes": 8 + 3}
    assert method.budget_left == 1
    expected = torch.tensor([[0.8, 0.25], [1.0, 0.0]])
    assert torch.allclose(programmed_weights(model)["weight"], expected, atol=1e-6)
    # two candidates, one pulse left: the larger move (0.6 > 0.5) is written; 1.5 is clipped
    assert step([[0.2, 0.25], [1.5, -0.5]]) == 1
    assert shadow[1, 0] == 1.0
    expected = torch.tensor([[0.2, 0.25], [1.0, 0.0]])
    assert torch.allclose(programmed_weights(model)["weight"], expected, atol=1e-6)
    assert method.programming_ops(model) == {"writes": 1}
    assert method.budget_left == 0
    assert step([[-1.0, -1.0], [-1.0, -1.0]]) == 0
    assert method.programming_ops(model) == {"writes": 0}
    assert method.pulses_by_layer == {"weight": 12}


def test_in_situ_budget_too_small_for_initial_programming():
    with pytest.raises(ValueError, match=r"write_budget=10 .* >= 40"):
        InSituWO(write_budget=10).build(nn.Linear(4, 5, bias=False))
    model = InSituWO(write_budget=10, count_initial=False).build(nn.Linear(4, 5, bias=False))
    assert len(list(device_weights(model))) == 1


def test_in_situ_gradient_reaches_shadow_straight_through():
    torch.manual_seed(0)
    rnn = nn.RNN(3, 4, nonlinearity="relu", bias=False)
    method = InSituWO(seed=1, train_reads="noiseless")
    model = method.build(copy.deepcopy(rnn))
    x = torch.randn(5, 2, 3)
    model(x)[0].square().sum().backward()
    reference = copy.deepcopy(rnn)
    with torch.no_grad():
        for name, dw in device_weights(model):
            getattr(reference, name).copy_(dw.programmed_weight())
    reference(x)[0].square().sum().backward()
    for name, _ in device_weights(model):
        grad = shadow_weight(model, name).grad
        assert torch.allclose(grad, getattr(reference, name).grad, rtol=1e-5, atol=1e-6)


def _teacher_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    teacher = torch.randn(4, 16, generator=torch.Generator().manual_seed(0))
    x = torch.randn(n, 16, generator=torch.Generator().manual_seed(seed))
    return x, (x @ teacher.T).argmax(1)


def _cells(model: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(conductances, targets last written) of every cell, G+ then G-, per device weight."""
    return [
        (torch.cat([dw.g_plus, dw.g_minus]), torch.cat([dw.target_plus, dw.target_minus]))
        for _, dw in device_weights(model)
    ]


def _train_in_situ(method: InSituWO, steps: int, seed: int = 0) -> tuple[nn.Module, float, list]:
    x, y = _teacher_data(2000, 1)
    torch.manual_seed(seed)
    model = method.build(nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    changed_vs_pulses = []
    batches = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        index = torch.randint(0, 2000, (100,), generator=batches)
        optimizer.zero_grad()
        F.cross_entropy(model(x[index]), y[index]).backward()
        optimizer.step()
        before = _cells(model)
        pulses = method.after_step(model)
        written = stray = 0
        for (g0, t0), (g1, t1) in zip(before, _cells(model), strict=True):
            written += int((t1 != t0).sum())  # a write always moves its cell's target
            stray += int(((g1 != g0) & (t1 == t0)).sum())  # conductance changed, no write
        changed_vs_pulses.append((written, stray, pulses))
    x_test, y_test = _teacher_data(2000, 2)
    model.eval()
    restart_eval_reads(model)
    with torch.no_grad():
        accuracy = float((model(x_test).argmax(1) == y_test).float().mean())
    return model, accuracy, changed_vs_pulses


@pytest.mark.slow
def test_in_situ_training_learns_and_never_exceeds_budget():
    free = InSituWO(seed=0)
    model, accuracy, log = _train_in_situ(free, 150)
    assert accuracy > 0.8  # 4 classes: chance is 0.25
    assert all(written == pulses and stray == 0 for written, stray, pulses in log)
    assert sum(pulses for *_, pulses in log) > 1000
    ops = free.programming_ops(model)["writes"]
    assert ops == free.initial_pulses + free.write_pulses
    assert free.write_pulses == sum(pulses for *_, pulses in log)
    budget = free.initial_pulses + 300
    tight = InSituWO(write_budget=budget, seed=0)
    model, tight_accuracy, log = _train_in_situ(tight, 150)
    assert tight.pulses_spent == budget and tight.budget_left == 0
    assert tight.programming_ops(model) == {"writes": budget}
    assert all(written == pulses and stray == 0 for written, stray, pulses in log)
    assert tight_accuracy < accuracy - 0.1


def test_in_situ_resumes_from_checkpoint():
    method = InSituWO(seed=2)
    model, _, _ = _train_in_situ(method, 3)
    model_state, method_state = copy.deepcopy(model.state_dict()), method.state_dict()
    x, y = _teacher_data(64, 9)

    def more_steps(model: nn.Module, method: InSituWO) -> torch.Tensor:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        model.train()
        for _ in range(3):
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
            method.after_step(model)
        return torch.cat([dw.g_plus.reshape(-1) for _, dw in device_weights(model)])

    continued = more_steps(model, method)
    resumed_method = InSituWO(seed=2)
    resumed = resumed_method.build(nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)))
    resumed.load_state_dict(model_state)
    resumed_method.load_state_dict(method_state)
    assert torch.equal(more_steps(resumed, resumed_method), continued)
    assert resumed_method.write_pulses == method.write_pulses


# ---------------------------------------------------------------------------------------
# bad parameters
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"technology": "nope"}, r"technology='nope' is not valid; choose one of 'taox_40nm_macro'"),
        ({"method": "twice"}, r"method='twice' is not valid; choose one of 'open_loop'"),
        ({"method": "one_shot"}, r"method='one_shot' was renamed: use 'open_loop'"),
        ({"tolerance": 0.0}, r"tolerance=0.0 is outside the valid range \(0, 1\]"),
        ({"tolerance": 1.5}, r"tolerance=1.5 is outside the valid range \(0, 1\]"),
        ({"max_pulses": 0}, r"max_pulses=0 must be an integer >= 1"),
        ({"weight_scale": "global"}, r"weight_scale='global' is not valid; choose one of"),
        (
            {"read_noise_scale": -1.0},
            r"read_noise_scale=-1.0 is outside the valid range \[0, 100\]",
        ),
        ({"programming_noise_scale": math.nan}, r"programming_noise_scale=nan is outside"),
        ({"eval_reads": "sometimes"}, r"eval_reads='sometimes' is not valid"),
    ],
)
def test_program_model_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        program_model(nn.Linear(3, 2), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"technology": "nope"}, r"technology='nope' is not valid"),
        ({"write_budget": -5}, r"write_budget=-5 must be an integer >= 0"),
        ({"write_budget": 2.5}, r"write_budget=2.5 must be an integer >= 0"),
        ({"write_threshold": -0.1}, r"write_threshold=-0.1 is outside the valid range \[0, inf\)"),
        ({"weight_range": 0.0}, r"weight_range=0.0 is outside the valid range \(0, inf\)"),
        ({"initial_method": "maybe"}, r"initial_method='maybe' is not valid"),
        ({"tolerance": 2.0}, r"tolerance=2.0 is outside the valid range \(0, 1\]"),
    ],
)
def test_in_situ_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        InSituWO(**kwargs)


def test_models_without_device_layers_and_unbuilt_methods_are_refused():
    with pytest.raises(ValueError, match="no nn.Linear"):
        program_model(nn.Sequential(nn.ReLU()))
    method = InSituWO()
    with pytest.raises(ValueError, match="build"):
        method.after_step(nn.Linear(2, 2))
    model = method.build(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="already built"):
        method.build(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="not the one"):
        method.programming_ops(program_model(nn.Linear(2, 2))[0])
    assert method.programming_ops(model) == {"writes": 8}
