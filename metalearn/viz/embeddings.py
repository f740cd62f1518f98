"""2-D views of an episode's embeddings: support points, query points, class prototypes."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

PALETTE = [
    "#3b5bdb",
    "#e8590c",
    "#2f9e44",
    "#c2255c",
    "#7048e8",
    "#0c8599",
    "#f08c00",
    "#5c940d",
    "#a61e4d",
    "#1864ab",
]


def project(features: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """[N, D] -> [N, 2] by PCA or t-SNE (scikit-learn)."""
    if features.shape[1] <= 2:
        return np.pad(features, ((0, 0), (0, 2 - features.shape[1])))
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = max(2.0, min(30.0, (len(features) - 1) / 3))
        return TSNE(2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(features)
    from sklearn.decomposition import PCA

    return PCA(2, random_state=seed).fit_transform(features)


def episode_points(
    support: np.ndarray, query: np.ndarray, support_labels: np.ndarray
) -> np.ndarray:
    """Support [S, D], query [Q, D] and the class prototypes [N, D], stacked: [S + Q + N, D]."""
    n_way = int(support_labels.max()) + 1
    protos = np.stack([support[support_labels == c].mean(0) for c in range(n_way)])
    return np.concatenate([support, query, protos])


def aligned_pca(snapshots: list[np.ndarray]) -> list[np.ndarray]:
    """Each snapshot's own 2-D PCA [N, 2], turned (rotation or reflection, no stretching:
    orthogonal Procrustes, scipy) onto the last snapshot's, so that a slider over training
    shows the points moving, not the axes flipping. Scale is left alone: features that grow
    during training are part of what the view shows."""
    from scipy.linalg import orthogonal_procrustes

    flat = [project(f, "pca") for f in snapshots]
    target = flat[-1] - flat[-1].mean(0)
    out = []
    for points in flat:
        centred = points - points.mean(0)
        turn, _ = orthogonal_procrustes(centred, target)
        out.append(centred @ turn)
    return out


def embedding_figure(
    support: np.ndarray,
    query: np.ndarray,
    support_labels: np.ndarray,
    query_labels: np.ndarray,
    predictions: np.ndarray,
    class_names: list[str],
    method: str = "pca",
    title: str = "",
    texts: list[str] | None = None,
    points: np.ndarray | None = None,
    ranges: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> go.Figure:
    """Support (circles), query (crosses: right, or open X: wrong) and prototypes (stars).

    Args:
        support: [S, D] features; query: [Q, D]; labels and predictions: episode class indices.
        texts: for text episodes, the S support then Q query utterances, shown on hover.
        points: the 2-D points already projected ([S + Q + N, 2], `episode_points` order;
            e.g. from `aligned_pca`); None: projected here by `method`.
        ranges: fixed (x, y) axis ranges, the same for every snapshot of a slider.
    """
    blank = [""] * (len(support) + len(query))
    said = np.array(texts if texts is not None else blank, dtype=object)

    def quote(t: str) -> str:  # the sentence on its own hover line, as text (not markup)
        return f"<br>“{html.escape(t)}”" if texts is not None else ""

    n_way = len(class_names)
    if points is None:
        points = project(episode_points(support, query, support_labels), method)
    s, q, p = np.split(points, [len(support), len(support) + len(query)])
    fig = go.Figure()
    for c in range(n_way):
        color = PALETTE[c % len(PALETTE)]
        name = class_names[c]
        m = support_labels == c
        fig.add_trace(
            go.Scatter(
                x=s[m, 0],
                y=s[m, 1],
                mode="markers",
                name=f"{name} support",
                marker={"color": color, "size": 10, "line": {"width": 1, "color": "black"}},
                customdata=np.flatnonzero(m),
                hovertext=[quote(t) for t in said[: len(support)][m]],
                hovertemplate=f"support · {name}%{{hovertext}}<extra></extra>",
            )
        )
        for right in (True, False):
            m = (query_labels == c) & ((predictions == query_labels) == right)
            if not m.any():
                continue
            fig.add_trace(
                go.Scatter(
                    x=q[m, 0],
                    y=q[m, 1],
                    mode="markers",
                    name=f"{name} query {'right' if right else 'wrong'}",
                    marker={"color": color, "size": 8, "symbol": "cross" if right else "x-open"},
                    customdata=len(support) + np.flatnonzero(m),
                    hovertext=[quote(t) for t in said[len(support) :][m]],
                    hovertemplate=(
                        f"query · true {name} · predicted %{{text}}%{{hovertext}}<extra></extra>"
                    ),
                    text=[class_names[int(k)] for k in predictions[m]],
                )
            )
        fig.add_trace(
            go.Scatter(
                x=p[c : c + 1, 0],
                y=p[c : c + 1, 1],
                mode="markers",
                name=f"{name} prototype",
                marker={
                    "color": color,
                    "size": 22,
                    "symbol": "star",
                    "line": {"width": 1.5, "color": "black"},
                },
                hovertemplate=f"prototype · {name}<extra></extra>",
            )
        )
    acc = float((predictions == query_labels).mean()) if len(query_labels) else 0.0
    fig.update_layout(
        title=title or f"{method.upper()} of the episode (query accuracy {acc:.2f})",
        height=480,
        margin={"l": 20, "r": 10, "t": 40, "b": 20},
    )
    if ranges is not None:
        fig.update_xaxes(range=list(ranges[0]))
        fig.update_yaxes(range=list(ranges[1]))
    return fig


def drawing_landing(
    support: np.ndarray,
    query: np.ndarray,
    support_labels: np.ndarray,
    predicted: int,
    names: list[str],
) -> go.Figure:
    """Where one drawing of unknown class lands among the support examples and prototypes (PCA).

    Args:
        support: [S, D] features; query: [1, D]; support_labels: [S] class indices;
        predicted: the class the model chose; names: the class names.
    """
    pred = np.array([predicted])
    fig = embedding_figure(
        support,
        query,
        support_labels,
        pred,
        pred,
        names,
        "pca",
        title="Where your drawing lands (stars: each symbol's prototype)",
    )
    for trace in fig.data:
        if " query " in (trace.name or ""):
            trace.name = "your drawing"
            trace.marker.size = 18
            trace.marker.color = "black"
            trace.hovertemplate = "your drawing · the model says %{text}<extra></extra>"
    return fig
