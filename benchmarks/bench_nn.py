"""Trained-network speed: NetworkScore evaluations per second and DSM training steps per second.

Usage: python benchmarks/bench_nn.py [--quick] [--out PATH] [--threads N]
Writes benchmarks/results/bench_nn.json (medians over repeats). Needs torch (extra ``nn``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import environment, median_time, write_json  # noqa: E402

import ridgetheory as rt  # noqa: E402

SCORE_GRID = [  # (D, hidden, time_features, M)
    (2, (256, 256), 64, 10_000),
    (32, (512, 512), 128, 2_000),
    (32, (512, 512), 128, 20_000),
]
TRAIN_GRID = [  # (D, hidden, time_features, batch, steps)
    (2, (64, 64), 64, 512, 300),
    (2, (256, 256), 64, 512, 300),
    (32, (512, 512), 128, 512, 100),
]


def main() -> None:
    import torch

    from ridgetheory.nn import NetworkScore, ScoreMLP, train_dsm

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="only the first case of each grid")
    ap.add_argument("--out", default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    score_rows, train_rows = [], []
    for D, hidden, tf, M in SCORE_GRID[:1] if args.quick else SCORE_GRID:
        model = NetworkScore(ScoreMLP(D, hidden=hidden, time_features=tf), rt.OU(), "noise")
        x = rng.standard_normal((M, D))
        timing = median_time(lambda model=model, x=x: model.score(x, 0.1), repeats=5)
        row = {"D": D, "hidden": list(hidden), "M": M, **timing,
               "points_per_s": M / timing["median_s"]}
        score_rows.append(row)
        print(f"score D={D} hidden={hidden} M={M}: {row['points_per_s']:.3e} points/s")
    for D, hidden, tf, batch, steps in TRAIN_GRID[:1] if args.quick else TRAIN_GRID:
        data = rng.standard_normal((1000, D))

        def train(D=D, hidden=hidden, tf=tf, batch=batch, steps=steps, data=data):
            net = ScoreMLP(D, hidden=hidden, time_features=tf)
            train_dsm(net, data, rt.OU(), steps=steps, batch_size=batch, eval_every=steps,
                      val_size=512, seed=0)

        timing = median_time(train, repeats=3)
        row = {"D": D, "hidden": list(hidden), "batch": batch, "steps": steps, **timing,
               "steps_per_s": steps / timing["median_s"]}
        train_rows.append(row)
        print(f"train D={D} hidden={hidden} batch={batch}: {row['steps_per_s']:.1f} steps/s")
    env = environment() | {"torch": torch.__version__, "torch_threads": args.threads}
    path = write_json("bench_nn", {"benchmark": "trained networks", "env": env,
                                   "score": score_rows, "train": train_rows}, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
