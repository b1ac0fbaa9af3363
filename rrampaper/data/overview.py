"""One overview figure of the paper's datasets (notebook ``00_datasets``).

Top left: one Fashion-MNIST image per class. Top right: a spoken digit of FSDD (waveform,
spectrogram) and one of the paper's 23x20 CRNN feature matrices of the same digit. Bottom: a
fundus image with its vessel annotation and field-of-view mask (DRIVE, or a synthetic image when
DRIVE is not available, which the panel title says).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure, SubFigure
from scipy import signal

from rrampaper.data.fashion_mnist import FashionMNIST
from rrampaper.data.fsdd import FSDDRecordings
from rrampaper.data.fundus import FundusImage
from rrampaper.data.spoken_features import SpokenFeatures


def plot_overview(
    fashion: FashionMNIST,
    recordings: FSDDRecordings,
    features: SpokenFeatures,
    fundus: FundusImage,
    seed: int = 0,
) -> Figure:
    """The datasets overview figure; ``seed`` picks the examples shown."""
    rng = np.random.default_rng(seed)
    fig = plt.figure(figsize=(14, 10), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 1.05])
    left, right = top.subfigures(1, 2, width_ratios=[1.3, 1.0])
    plot_fashion_classes(left, fashion, rng)
    plot_spoken_digit(right, recordings, features, rng)
    plot_fundus(bottom, fundus)
    return fig


def plot_fashion_classes(
    fig: Figure | SubFigure, fashion: FashionMNIST, rng: np.random.Generator
) -> None:
    """A 2x5 grid with one randomly chosen image of each class, titled with its class name."""
    axes = fig.subplots(2, 5)
    for label, ax in enumerate(axes.flat):
        index = rng.choice(np.flatnonzero(fashion.labels == label))
        ax.imshow(fashion.images[index], cmap="gray", vmin=0, vmax=255)
        ax.set_title(fashion.classes[label], fontsize=10, fontweight="normal")
        ax.set_axis_off()
    fig.suptitle(
        f"Fashion-MNIST ({fashion.split}, {len(fashion):,} images of 28×28 px): one per class",
        fontweight="bold",
    )


def plot_spoken_digit(
    fig: Figure | SubFigure,
    recordings: FSDDRecordings,
    features: SpokenFeatures,
    rng: np.random.Generator,
) -> None:
    """Waveform and spectrogram of one FSDD recording, and a paper feature of the same digit."""
    i = int(rng.integers(len(recordings)))
    x, fs = recordings.waveforms[i], recordings.sample_rate
    digit = int(recordings.labels[i])
    grid = fig.add_gridspec(2, 2, height_ratios=[0.8, 1.2], width_ratios=[1.35, 1.0])
    ax_wave = fig.add_subplot(grid[0, :])
    t_ms = np.arange(x.shape[0]) / fs * 1e3
    ax_wave.plot(t_ms, x, lw=0.6, color="#0173b2")
    peak = float(np.abs(x).max()) or 1.0
    ax_wave.set(
        xlim=(0, t_ms[-1]), ylim=(-1.1 * peak, 1.1 * peak), xlabel="time (ms)", ylabel="amplitude"
    )
    ax_wave.set_title(
        f"waveform, {fs / 1e3:g} kHz, {x.shape[0] / fs:.2f} s (peak {peak:.2f} of full scale)",
        fontsize=10,
        fontweight="normal",
    )

    ax_spec = fig.add_subplot(grid[1, 0])
    f, t, power = signal.spectrogram(x, fs=fs, nperseg=256, noverlap=224)
    db = 10 * np.log10(power + 1e-12)
    mesh = ax_spec.pcolormesh(
        t * 1e3, f / 1e3, db, shading="auto", cmap="magma", vmin=db.max() - 70, vmax=db.max()
    )
    ax_spec.set(xlabel="time (ms)", ylabel="frequency (kHz)")
    ax_spec.set_title("spectrogram (32 ms window)", fontsize=10, fontweight="normal")
    ax_spec.grid(False)
    fig.colorbar(mesh, ax=ax_spec, label="power (dB)", shrink=0.9)

    ax_feat = fig.add_subplot(grid[1, 1])
    j = int(rng.choice(np.flatnonzero(features.y == digit)))
    image = ax_feat.imshow(
        features.X[j], origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1
    )
    ax_feat.set(xlabel="frame (32 ms hop)", ylabel="coefficient")
    ax_feat.set_title(f"paper's CRNN input, another '{digit}'", fontsize=10, fontweight="normal")
    ax_feat.grid(False)
    fig.colorbar(image, ax=ax_feat, shrink=0.9)
    fig.suptitle(
        f"FSDD: digit '{digit}' by {recordings.speakers[i]} (take {recordings.takes[i]}); "
        f"paper's features {features.X.shape[1]}×{features.X.shape[2]}",
        fontweight="bold",
    )


def plot_fundus(fig: Figure | SubFigure, fundus: FundusImage) -> None:
    """The colour image, its vessel annotation and its FOV mask, side by side."""
    axes = fig.subplots(1, 3)
    h, w = fundus.fov.shape
    panels = [
        (fundus.image, {}, f"colour image ({h}×{w} px)"),
        (
            np.where(fundus.vessels, 1.0, 0.25 * fundus.fov),  # FOV shown faintly behind
            {"cmap": "gray", "vmin": 0.0, "vmax": 1.0},
            f"vessel annotation ({100 * fundus.vessel_fraction:.1f} % of the FOV)",
        ),
        (fundus.fov, {"cmap": "gray", "vmin": 0, "vmax": 1}, "field-of-view (FOV) mask"),
    ]
    for ax, (array, style, title) in zip(axes, panels, strict=True):
        ax.imshow(array, interpolation="antialiased", **style)
        ax.set_title(title, fontsize=10, fontweight="normal")
        ax.set_axis_off()
    if fundus.synthetic:
        heading = (
            f"Synthetic fundus image ({fundus.name}): DRIVE is not available here, "
            "so a generated stand-in is shown"
        )
    else:
        heading = f"DRIVE retinal image {fundus.name} with its manual vessel annotation"
    fig.suptitle(heading, fontweight="bold")
