"""Teaching material behind the tutorials in ``notebooks/tutorials/``.

Each module serves one tutorial and holds what a lecturer would otherwise paste into cells:
the precomputation, the figures, the interactive explorers (:func:`widgets.explore`: sliders
that redraw a figure in place, and a static figure wherever the notebook runs without a live
frontend) and the exercise checks a student runs on an answer.
"""
