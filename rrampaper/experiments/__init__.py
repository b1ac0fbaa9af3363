"""The run layer: what turns a task, an approach and a device into stored, comparable results.

- :mod:`~rrampaper.experiments.approaches`: the registry of compared approaches (software and
  hardware TO, software and in-situ WO, ...): name, label, colour, builder, counters;
- :mod:`~rrampaper.experiments.train`: the generic training loop, ``Experiment`` -> ``run()``;
- :mod:`~rrampaper.experiments.store`: the result store (netCDF keyed by configuration hash);
- :mod:`~rrampaper.experiments.study`: grids over seeds and approaches, WO on the device, sweeps;
- :mod:`~rrampaper.experiments.reproduce`, :mod:`~rrampaper.experiments.html_check`: every
  notebook executed with papermill, and its HTML page checked in a browser.

Examples
--------
>>> from rrampaper.experiments.train import Experiment
>>> Experiment(task="fashion_mnist", method="hardware_TO", profile="smoke").keep_ratio
0.5
"""
