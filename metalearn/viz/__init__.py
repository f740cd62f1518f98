"""Pure functions from data to plotly figures (and the small computations behind them), and the
live panel's lightweight SVG curves.

No Streamlit, no I/O: the dashboard pages and the tests call these with plain data.
"""

from metalearn.viz import style  # noqa: F401  (registers the projector template first)
from metalearn.viz.adaptation import navigation_paths, score_by_steps
from metalearn.viz.compare import convergence, paired_difference, score_points
from metalearn.viz.curves import (
    adaptation_figure,
    adaptation_steps,
    learning_curves,
)
from metalearn.viz.embeddings import (
    aligned_pca,
    drawing_landing,
    embedding_figure,
    episode_points,
    project,
)
from metalearn.viz.learners import (
    gates_figure,
    instance_accuracy_figure,
    instance_training_figure,
    memory_figure,
)
from metalearn.viz.live import curves_svg
from metalearn.viz.sweeps import score_vs_shots

__all__ = [
    "aligned_pca",
    "adaptation_figure",
    "adaptation_steps",
    "convergence",
    "curves_svg",
    "drawing_landing",
    "embedding_figure",
    "episode_points",
    "gates_figure",
    "instance_accuracy_figure",
    "instance_training_figure",
    "memory_figure",
    "navigation_paths",
    "learning_curves",
    "paired_difference",
    "project",
    "score_by_steps",
    "score_points",
    "score_vs_shots",
]
