"""Where each dataset comes from: official URLs, licences and citations.

One :class:`Source` per dataset. A source with a ``base_url`` can be downloaded file by file (the
registry's relative path, minus the source's ``prefix``, is appended to ``base_url``); a source
without one must be supplied by the user, and its ``how_to_get`` text says how.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """Provenance of one dataset.

    Attributes
    ----------
    name:
        Short name used in the registry, the CLI and error messages (``"fashion-mnist"``).
    title:
        Human-readable name.
    prefix:
        Folder of the dataset's files inside the data folder, with a trailing ``/``.
    homepage:
        Official page of the dataset.
    licence:
        Licence or terms of use, in one line.
    citation:
        The reference to cite.
    base_url:
        URL that the file name (registry path minus ``prefix``) is appended to, or ``None`` when
        the package must never download the dataset.
    env_var:
        The environment variable that moves the folder holding the files.
    how_to_get:
        What a user without the files should do (used when ``base_url`` is ``None``).
    used_for:
        Which experiment of the paper uses it.
    """

    name: str
    title: str
    prefix: str
    homepage: str
    licence: str
    citation: str
    base_url: str | None
    env_var: str
    how_to_get: str
    used_for: str

    def url(self, relpath: str) -> str | None:
        """Official download URL of a registry path, or ``None`` if it is never downloaded."""
        if self.base_url is None:
            return None
        if not relpath.startswith(self.prefix):
            raise ValueError(f"relpath={relpath!r} does not belong to {self.name} ({self.prefix})")
        return self.base_url + relpath[len(self.prefix) :]


FASHION_MNIST = Source(
    name="fashion-mnist",
    title="Fashion-MNIST",
    prefix="fashion-mnist/",
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    licence="MIT (c) 2017 Zalando SE",
    citation=(
        "H. Xiao, K. Rasul, R. Vollgraf, Fashion-MNIST: a novel image dataset for benchmarking "
        "machine learning algorithms, arXiv:1708.07747 (2017)"
    ),
    base_url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    env_var="RRAMPAPER_DATA_DIR",
    how_to_get="downloaded automatically on first use",
    used_for="image classification with the CNN (paper section 'Fashion-MNIST')",
)

#: FSDD is pinned to git tag v1.0.10 (its ``recordings/`` tree is d04322e3...).
FSDD = Source(
    name="fsdd",
    title="Free Spoken Digit Dataset v1.0.10",
    prefix="fsdd/recordings/",
    homepage="https://github.com/Jakobovski/free-spoken-digit-dataset",
    licence="CC BY-SA 4.0",
    citation=(
        "Z. Jackson et al., Free Spoken Digit Dataset (FSDD), v1.0.10, "
        "https://github.com/Jakobovski/free-spoken-digit-dataset (Zenodo DOI via the repository)"
    ),
    base_url=(
        "https://raw.githubusercontent.com/Jakobovski/free-spoken-digit-dataset/v1.0.10/recordings/"
    ),
    env_var="RRAMPAPER_DATA_DIR",
    how_to_get="downloaded automatically on first use, one WAV file at a time",
    used_for="raw audio behind the spoken-digit task (the CRNN reads the pre-extracted features)",
)

#: The official features are pickled object arrays; the package only reads plain ``.npz``.
SPOKEN_FEATURES = Source(
    name="spoken-digit-features",
    title="Spoken-digit features of the paper (23x20 per recording)",
    prefix="spoken-digit-features/",
    homepage=(
        "https://github.com/lyd126/Pruning_random_resistive_memory_for_optimizing_analogue_AI"
        "/tree/main/CRNN_Spoken_Digit_TO"
    ),
    licence="not stated by the authors; derived from FSDD (CC BY-SA 4.0)",
    citation="Li, Wang et al., Nature Communications (2026), doi:10.1038/s41467-025-67960-6",
    base_url=None,
    env_var="RRAMPAPER_DATA_DIR",
    how_to_get=(
        "The paper's authors publish the features as CRNN_Spoken_Digit_TO/train_features.npz and "
        "test_features.npz in "
        "https://github.com/lyd126/Pruning_random_resistive_memory_for_optimizing_analogue_AI "
        "(commit 50287fc). Those are pickled object arrays (loading them can run code), so this "
        "package never opens them. Convert them once, on a trusted machine, into plain arrays "
        "X float32 [N,23,20] and y int64 [N] saved as spoken-digit-features/train.npz "
        "(N=2100) and test.npz (N=900); rrampaper/data/README.md gives the five lines of numpy"
    ),
    used_for="spoken-digit classification with the CRNN (paper section 'Spoken digit')",
)

DRIVE = Source(
    name="drive",
    title="DRIVE retinal vessel segmentation",
    prefix="drive/DRIVE/",
    homepage="https://drive.grand-challenge.org/",
    licence=(
        "research and education only; copying and redistribution prohibited; use restricted to "
        "those who obtained it from the official site"
    ),
    citation=(
        "J. Staal, M. D. Abramoff, M. Niemeijer, M. A. Viergever, B. van Ginneken, Ridge-based "
        "vessel segmentation in color images of the retina, IEEE TMI 23(4):501-509 (2004)"
    ),
    base_url=None,
    env_var="RRAMPAPER_DRIVE_DIR",
    how_to_get=(
        "DRIVE's licence forbids redistribution, so rrampaper never downloads or ships it. "
        "Register and download it from https://drive.grand-challenge.org/, unpack it and set "
        "RRAMPAPER_DRIVE_DIR to the folder holding training/ and test/ "
        "(or pass folder=... to load_drive)"
    ),
    used_for="retinal vessel segmentation with the U-Net (paper section 'DRIVE')",
)

SOURCES: dict[str, Source] = {s.name: s for s in (FASHION_MNIST, FSDD, SPOKEN_FEATURES, DRIVE)}


def source_of(relpath: str) -> Source:
    """The :class:`Source` whose folder holds registry path ``relpath``."""
    for source in SOURCES.values():
        if relpath.startswith(source.prefix):
            return source
    raise ValueError(f"relpath={relpath!r} belongs to no known dataset ({', '.join(SOURCES)})")
