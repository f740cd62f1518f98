"""Pure functions from data to plotly figures (and the small computations behind them).

No Streamlit, no I/O: the dashboard pages and the tests call these with plain data.
"""

from metalearn.viz.compare import accuracy_bars, convergence, paired_difference
from metalearn.viz.curves import learning_curves
from metalearn.viz.embeddings import embedding_figure, project

__all__ = [
    "accuracy_bars",
    "convergence",
    "embedding_figure",
    "learning_curves",
    "paired_difference",
    "project",
]
