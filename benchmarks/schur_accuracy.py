"""Accuracy of the batched Schur factorisation on random products of bank kernels.

    python benchmarks/schur_accuracy.py [--samples 200]

For random products of 2 to 5 stationary kernels of both banks, rebuilds the
factor R (by drawing with identity normals, the code path of real draws) and
reports the worst ``max|R^T R - T| / T[0, 0]`` and the jitters that were needed.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
from results import Table, record
from scipy.linalg import toeplitz

from cauker.sampler.gp import GaussianProcessSampler
from cauker.sampler.kernels import paper_bank, v2_bank
from cauker.sampler.toeplitz import toeplitz_draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    columns = ["bank", "L", "samples", "worst error", "jitters used"]
    table = Table("Schur factorisation: worst max|R^T R - T| / T[0, 0]", columns)
    for length, share in ((512, 1.0), (1024, 0.3), (2048, 0.05)):
        samples = max(5, int(args.samples * share))
        rng = np.random.default_rng(length)
        for name, bank in (("paper", paper_bank), ("v2", v2_bank)):
            gp = GaussianProcessSampler(bank(length), length)
            stationary = [i for i, c in enumerate(gp.components) if c.kind == "stationary"]
            worst, used = 0.0, Counter()
            for _ in range(samples):
                ids = sorted(rng.choice(stationary, rng.integers(2, 6)))
                column = gp._column(ids)
                owner = np.zeros(length, dtype=int)
                rows, jitter = toeplitz_draws(column[None], np.eye(length), owner)
                err = np.abs(rows.T @ rows - toeplitz(column)).max() / column[0]
                worst = max(worst, err)
                used[f"{jitter[0]:g}"] += 1
            table.add(name, length, samples, f"{worst:.2e}", dict(used))
    print(table.markdown())
    record(__file__, table)


if __name__ == "__main__":
    main()
