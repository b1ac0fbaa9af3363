"""The analysis layer: results turned into the paper's figures, tables and comparisons.

- :mod:`~rrampaper.analysis.paper`: the published numbers, each with its paper version;
- :mod:`~rrampaper.analysis.summary`: the headline records notebooks store, and the table that
  puts each beside the paper's number;
- :mod:`~rrampaper.analysis.comparison`, :mod:`~rrampaper.analysis.spoken_digit_figures`,
  :mod:`~rrampaper.analysis.drive_figures`, :mod:`~rrampaper.analysis.plotting`: the TO-vs-WO
  figures of every task in one style;
- :mod:`~rrampaper.analysis.energy`: operation counts and the hybrid analog-digital vs GPU energy;
- :mod:`~rrampaper.analysis.scaling`: step time, memory and programming operations vs model size.
"""
