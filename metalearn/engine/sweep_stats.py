"""Statistics of a sweep, as papers report them: each method's mean over seeds with a 95% CI
across seeds, paired tests between methods on identical test episodes (seeds paired), and a
method x setting table with the best in bold, exported as CSV, Markdown and LaTeX.

Pure functions over run records and their per-episode scores (scipy for the t quantiles and
tests); the Sweeps page and scripts read them, and `viz` draws them.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd
from scipy import stats

from metalearn.engine.published import method_of, published

if TYPE_CHECKING:
    from metalearn.engine.records import RunRecord

ALPHA = 0.05
MIN_SEEDS_FOR_SEED_TEST = 3  # a t-test over 2 seeds has 1 degree of freedom: it says nothing


def sweep_frame(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run: its method (algorithm, with its backbone where the sweep varies it), its
    setting ("5-way 1-shot", with the dataset where the sweep varies it), seed, status, test
    score and that score's per-episode 95% CI."""
    rows = []
    for r in records:
        res = r.result.fields if r.result else {}
        rows.append(
            {
                "run_id": r.id,
                "algorithm": r.spec.algorithm,
                "backbone": r.spec.hyper.get("backbone") or "",
                "dataset": r.spec.dataset,
                "n_way": r.spec.n_way,
                "n_shot": r.spec.n_shot,
                "seed": r.spec.seed,
                "status": r.status,
                "value": res.get(r.kind.metric),
                "ci95": res.get(r.kind.ci_key),
                "metric": r.kind.metric_label,
                "higher_is_better": r.kind.higher_is_better,
                "pairing_key": r.pairing_key,
                **paper_figure(r),
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    vary_backbone = frame["backbone"].nunique() > 1
    vary_data = frame["dataset"].nunique() > 1
    frame["method"] = frame["algorithm"] + (" (" + frame["backbone"] + ")" if vary_backbone else "")
    shape = frame["n_way"].astype(str) + "-way " + frame["n_shot"].astype(str) + "-shot"
    frame["group"] = (
        (frame["dataset"] + " " if vary_data else "") + frame["n_way"].astype(str) + "-way"
    )
    frame["setting"] = (frame["dataset"] + " " if vary_data else "") + shape
    return frame


def paper_figure(r: RunRecord) -> dict[str, float | str | None]:
    """The paper's accuracy (a fraction) for this run's method, data and episode shape, and its
    source, where its paper reports one (`engine.published`)."""
    method = method_of(r.spec.algorithm, r.spec.hyper)
    figure = published(r.spec.dataset, method, r.spec.n_way, r.spec.n_shot)
    if figure is None:
        return {"published": None, "published_source": None}
    return {"published": figure[0] / 100, "published_source": figure[1]}


def t_ci95(values: list[float]) -> float:
    """Half-width of the 95% t interval of the mean (NaN for fewer than 2 values)."""
    n = len(values)
    if n < 2:
        return float("nan")
    sd = pd.Series(values).std(ddof=1)
    return float(stats.t.ppf(1 - ALPHA / 2, n - 1) * sd / math.sqrt(n))


def across_seeds(frame: pd.DataFrame) -> pd.DataFrame:
    """Per method and setting, over the completed runs (one per seed): seeds, mean, the 95% CI
    across seeds (t interval; NaN with one seed) and the mean of the runs' own episode CIs."""
    done = frame[(frame["status"] == "completed") & frame["value"].notna()]
    rows = []
    keys = ["method", "group", "setting", "n_shot"]
    for (method, group, setting, n_shot), part in done.groupby(keys, sort=False):
        values = part["value"].astype(float).tolist()
        rows.append(
            {
                "method": method,
                "group": group,
                "setting": setting,
                "n_shot": int(n_shot),
                "seeds": len(values),
                "mean": sum(values) / len(values),
                "ci95_seeds": t_ci95(values),
                "ci95_episodes": float(part["ci95"].astype(float).mean()),
                "metric": part["metric"].iloc[0],
                "higher_is_better": bool(part["higher_is_better"].iloc[0]),
                "published": part["published"].iloc[0],
                "published_source": part["published_source"].iloc[0],
            }
        )
    return pd.DataFrame(rows)


def paired_tests(frame: pd.DataFrame, episodes: Callable[[str], list[float]]) -> pd.DataFrame:
    """Each pair of methods at each setting, on the test episodes both were scored on (runs
    with the same pairing key), seed paired with seed.

    The difference A - B is averaged over seeds and episodes. Its CI over episodes pairs each
    episode of A with the same episode of B (the difficulty both share drops out). With at
    least `MIN_SEEDS_FOR_SEED_TEST` common seeds the verdict is a paired t-test over the seeds'
    mean differences (does A beat B whatever the training seed?); with fewer it rests on the
    episodes alone, and says so.
    """
    done = frame[(frame["status"] == "completed") & frame["value"].notna()]
    rows = []
    for setting, part in done.groupby("setting", sort=False):
        methods = list(dict.fromkeys(part["method"]))
        for a, b in itertools.combinations(methods, 2):
            runs_a = part[part["method"] == a].set_index("seed")
            runs_b = part[part["method"] == b].set_index("seed")
            seeds = [
                s
                for s in runs_a.index.intersection(runs_b.index)
                if runs_a.loc[s, "pairing_key"] is not None
                and runs_a.loc[s, "pairing_key"] == runs_b.loc[s, "pairing_key"]
            ]
            if not seeds:
                continue
            diffs = []
            for s in seeds:
                ea, eb = episodes(runs_a.loc[s, "run_id"]), episodes(runs_b.loc[s, "run_id"])
                diffs.append([x - y for x, y in zip(ea, eb, strict=False)])
            n = min(map(len, diffs))
            if n < 2:
                continue
            per_seed = [sum(d) / len(d) for d in diffs]
            per_episode = pd.DataFrame([d[:n] for d in diffs]).mean(axis=0)  # over seeds
            mean = float(per_episode.mean())
            ci = 1.96 * float(per_episode.std(ddof=1)) / math.sqrt(len(per_episode))
            higher = bool(part["higher_is_better"].iloc[0])
            if len(seeds) >= MIN_SEEDS_FOR_SEED_TEST:
                if max(per_seed) - min(per_seed) < 1e-12:  # no spread over seeds at all
                    p = 0.0 if abs(per_seed[0]) > 1e-12 else 1.0
                else:
                    p = float(stats.ttest_1samp(per_seed, 0.0).pvalue)
                significant, basis = p < ALPHA, f"paired t-test over {len(seeds)} seeds"
            else:
                p = float("nan")
                significant = abs(mean) > ci
                basis = (
                    f"{len(per_episode)} paired episodes ({len(seeds)} seed(s): too few for a "
                    "seed-level test)"
                )
            verdict = "no significant difference"
            if significant:
                verdict = f"{a} better" if (mean > 0) == higher else f"{b} better"
            rows.append(
                {
                    "setting": setting,
                    "A": a,
                    "B": b,
                    "seeds": len(seeds),
                    "episodes": len(per_episode),
                    "mean A − B": mean,
                    "95% CI ± (episodes)": ci,
                    "p (seeds)": p,
                    "verdict": verdict,
                    "basis": basis,
                }
            )
    return pd.DataFrame(rows)


def cell(mean: float, ci: float, metric: str) -> str:
    """A table cell: accuracy in percent ("76.1 ± 1.2"), other metrics to 3 significant digits;
    no ± where there is no interval (one seed)."""
    scale, fmt = (100.0, "{:.1f}") if "accuracy" in metric.lower() else (1.0, "{:.3g}")
    text = fmt.format(mean * scale)
    return text if math.isnan(ci) else f"{text} ± {fmt.format(ci * scale)}"


def paper_table(summary: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The method x setting table: cells "mean ± CI across seeds" (the runs' episode CI where a
    setting has one seed), and a same-shaped frame of booleans marking each column's best mean
    (highest, or lowest where lower is better). Where a paper reports a figure for a method and
    setting (`engine.published`), the setting's column is followed by a "(paper)" one."""
    if summary.empty:
        return pd.DataFrame(), pd.DataFrame()
    settings = list(dict.fromkeys(summary.sort_values(["group", "n_shot"])["setting"]))
    methods = list(dict.fromkeys(summary["method"]))
    known = summary[summary["published"].notna()] if "published" in summary else summary[:0]
    with_paper = set(known["setting"])
    columns = [c for s in settings for c in ([s, f"{s} (paper)"] if s in with_paper else [s])]
    cells = pd.DataFrame("", index=methods, columns=columns)
    best = pd.DataFrame(False, index=methods, columns=columns)
    for _, row in known.iterrows():
        cells.loc[row["method"], f"{row['setting']} (paper)"] = cell(
            float(row["published"]), math.nan, row["metric"]
        )
    for setting in settings:
        part = summary[summary["setting"] == setting]
        for _, row in part.iterrows():
            ci = row["ci95_seeds"] if row["seeds"] > 1 else row["ci95_episodes"]
            cells.loc[row["method"], setting] = cell(row["mean"], ci, row["metric"])
        higher = bool(part["higher_is_better"].iloc[0])
        top = part["mean"].max() if higher else part["mean"].min()
        for method in part[part["mean"] == top]["method"]:
            best.loc[method, setting] = True
    cells.index.name = best.index.name = "method"
    return cells, best


def table_csv(cells: pd.DataFrame) -> str:
    return cells.to_csv()


def table_markdown(cells: pd.DataFrame, best: pd.DataFrame) -> str:
    """A Markdown table, the best of each column in bold."""
    head = ["method", *cells.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for method, row in cells.iterrows():
        marked = [f"**{v}**" if best.loc[method, c] and v else v for c, v in row.items()]
        lines.append("| " + " | ".join([str(method), *marked]) + " |")
    return "\n".join(lines) + "\n"


def table_latex(cells: pd.DataFrame, best: pd.DataFrame, caption: str = "") -> str:
    """A LaTeX tabular (booktabs), the best of each column in \\textbf, ± as $\\pm$."""

    def tex(text: str) -> str:
        return text.replace("_", r"\_").replace("%", r"\%").replace(" ± ", r" $\pm$ ")

    out = io.StringIO()
    out.write("\\begin{table}[t]\n\\centering\n")
    out.write("\\begin{tabular}{l" + "c" * len(cells.columns) + "}\n\\toprule\n")
    out.write(" & ".join(["Method", *map(tex, cells.columns)]) + " \\\\\n\\midrule\n")
    for method, row in cells.iterrows():
        marked = [
            f"\\textbf{{{tex(v)}}}" if best.loc[method, c] and v else tex(v) for c, v in row.items()
        ]
        out.write(" & ".join([tex(str(method)), *marked]) + " \\\\\n")
    out.write("\\bottomrule\n\\end{tabular}\n")
    if caption:
        out.write(f"\\caption{{{tex(caption)}}}\n")
    out.write("\\end{table}\n")
    return out.getvalue()
