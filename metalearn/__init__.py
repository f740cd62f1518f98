"""metalearn: few-shot learning algorithms, datasets, training and evaluation, and a run store.

This package never imports Streamlit; the dashboard (app.py, pages/) builds on it.
"""

__version__ = "0.1.0"


def package_version(name: str) -> str:
    """The installed version of a package ("metalearn": this one's own, installed or not),
    or "not installed"."""
    if name == "metalearn":
        return __version__
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
