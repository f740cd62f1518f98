"""metalearn: few-shot learning algorithms, datasets, training and evaluation, and a run store.

This package never imports Streamlit; the dashboard (app.py, pages/) builds on it.
"""

__version__ = "0.1.0"
