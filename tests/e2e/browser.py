"""Shared by the browser tests: the browser, and a dashboard server in a subprocess."""

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    if not os.path.exists(CHROMIUM):
        return "chromium is not installed (apt-get install -y chromium)"
    return None


missing = _browser_missing()
if missing and os.environ.get("CI") == "true":
    pytest.fail(f"browser tests cannot run under CI: {missing}", pytrace=False)


@contextlib.contextmanager
def chromium_page(height: int = 1000):
    """A page of Debian's chromium (headless, Playwright), 1400 px wide, generous timeouts."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": height})
        page.set_default_timeout(90_000)  # generous: CI machines can be slow
        try:
            yield page
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerURL(str):
    """A dashboard server's URL, with the server's process id (`pid`)."""

    pid: int


@contextlib.contextmanager
def streamlit_server(env: dict[str, str]):
    """`python serve.py` (the README's `streamlit run app.py`) on a free port with extra
    environment; yields its URL (a `ServerURL`)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "serve.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
        ],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = ServerURL(f"http://127.0.0.1:{port}")
    url.pid = proc.pid
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


NAMES = {
    "metalearn", "ProtoNet", "MAML", "FOMAML", "ANIL", "Reptile", "SGD", "Meta", "MANN", "SNAIL",
    "CNP", "LSTM", "Baseline", "Proto", "SimpleShot", "Omniglot", "CIFAR", "CLINC", "GPU", "CPU",
    "CUDA", "MPS", "MSE", "CI", "PCA", "Lake", "Finn", "Santoro", "et", "al", "way", "shot",
    "Ray", "MLflow", "TensorBoard", "Clopper", "Pearson", "English", "Markdown", "LaTeX", "CSV",
    "Play", "Pause", "auto", "cpu", "cuda", "mps", "fp", "bf", "vmap", "loop", "threads", "None",
    "conv", "resnet", "simple", "cnn", "minilm", "bag", "Adam", "sgd", "bfloat", "SNE", "JPEG",
    "Hospedales", "Weng", "Bertinetto", "Larson", "Vinyals", "Nichol", "Ravi",
    "Larochelle", "Snell", "Sung", "Chen", "Antoniou", "Raghu", "Triantafillou", "Garnelo",
    "Mishra", "Wang", "Salakhutdinov", "Tenenbaum", "BERT", "NTM", "MiniLM", "NeurIPS", "ICLR",
    "ImageNet", "WordNet", "TensorFlow", "SimpleCNN", "Hu",
}  # fmt: skip
HIDDEN = (  # what is not words of the interface: formulas, code, icons, references
    ".katex, pre, code, [data-testid='stIconMaterial'], .modebar, [class*='st-key-references'], "
    "[data-testid='stToolbar'], [data-testid='stHeader'], "
    # Streamlit's own file-uploader words ("Drag and drop files here", "Browse files"): its API
    # gives a page no way to translate them.
    "[data-testid='stFileUploaderDropzoneInstructions'], [data-testid='stFileUploaderDropzone'] "
    "button"
)


def english_words(page) -> set[str]:
    """Latin words of two or more letters on the page (main part and sidebar), formulas, code,
    icons and paper references left out, names of methods, datasets and runs allowed."""
    from metalearn import catalog

    text = page.evaluate(
        """(hidden) => {
            const parts = [];
            const roots = '[data-testid="stMain"], [data-testid="stSidebar"]';
            for (const el of document.querySelectorAll(roots)) {
                const copy = el.cloneNode(true);
                copy.querySelectorAll(hidden).forEach((h) => h.remove());
                document.body.appendChild(copy);
                const svg = [...copy.querySelectorAll("svg text")].map((t) => t.textContent);
                parts.push(copy.innerText + " " + svg.join(" "));
                copy.remove();
            }
            return parts.join(" ");
        }""",
        HIDDEN,
    )
    allowed = {w.lower() for w in NAMES | set(catalog.algorithms()) | set(catalog.datasets())}
    # A word starts where no digit or letter comes before it: "61adca", a run id's end, is no
    # word "adca".
    words = set(re.findall(r"(?<![0-9A-Za-z])[A-Za-z][A-Za-z0-9_+-]*", text))
    return {
        w
        for w in words
        if len(re.sub(r"[^A-Za-z]", "", w)) >= 2
        and not re.search(r"\d", w)  # run ids, shapes (5w1s), units with numbers
        and not re.fullmatch(r"[0-9a-f]{6}", w)  # a run id's end with no digit in it
        and not any(part.lower() in allowed for part in re.split(r"[-_+]", w))
    }
