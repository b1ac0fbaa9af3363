"""The paper's datasets: verified local copies, loaders returning named, typed arrays.

=========================  ==========================================  =======================
dataset                    loader                                      paper's experiment
=========================  ==========================================  =======================
Fashion-MNIST              :func:`load_fashion_mnist`                  CNN classification
FSDD v1.0.10 (audio)       :func:`load_fsdd`                           spoken digits (raw)
spoken-digit features      :func:`load_spoken_features`                CRNN classification
DRIVE (user-supplied)      :func:`load_drive`                          U-Net segmentation
synthetic fundus images    :func:`synthetic_fundus`                    DRIVE stand-in (CI)
=========================  ==========================================  =======================

Every file is listed with its SHA-256 in ``registry.txt``; files are read from
``$RRAMPAPER_DATA_DIR`` (default ``<repo>/data``) when present and verified, downloaded with
pooch from the official URL when missing (Fashion-MNIST, FSDD), and never downloaded for the
spoken-digit features (the authors' files are pickles; see the folder README) and DRIVE
(``$RRAMPAPER_DRIVE_DIR``; its licence forbids redistribution). :func:`check_all` reports
what is present.

Examples
--------
>>> from rrampaper.data import load_fashion_mnist, check_all   # doctest: +SKIP
>>> test = load_fashion_mnist("test")                           # doctest: +SKIP
>>> test.images.shape, test.label_counts()[0]                   # doctest: +SKIP
((10000, 28, 28), 1000)
"""

from rrampaper.data.check import DatasetCheck, check_all, check_dataset
from rrampaper.data.drive import (
    drive_available,
    drive_configured,
    example_fundus,
    load_drive,
    require_drive,
)
from rrampaper.data.errors import ChecksumError, DatasetMissingError
from rrampaper.data.fashion_mnist import FashionMNIST, load_fashion_mnist
from rrampaper.data.fsdd import FSDDRecordings, load_fsdd
from rrampaper.data.fundus import FundusImage, FundusSet
from rrampaper.data.registry import fetch
from rrampaper.data.sources import SOURCES
from rrampaper.data.splits import split_indices
from rrampaper.data.spoken_features import SpokenFeatures, load_spoken_features
from rrampaper.data.synthetic_vessels import (
    synthetic_drive,
    synthetic_fundus,
    write_synthetic_drive,
)

__all__ = [
    "SOURCES",
    "ChecksumError",
    "DatasetCheck",
    "DatasetMissingError",
    "FSDDRecordings",
    "FashionMNIST",
    "FundusImage",
    "FundusSet",
    "SpokenFeatures",
    "check_all",
    "check_dataset",
    "drive_available",
    "drive_configured",
    "example_fundus",
    "fetch",
    "load_drive",
    "load_fashion_mnist",
    "load_fsdd",
    "load_spoken_features",
    "require_drive",
    "split_indices",
    "synthetic_drive",
    "synthetic_fundus",
    "write_synthetic_drive",
]
