"""Where a Khatri-Rao draw stops being cheaper than a Schur draw (cauker.sampler.gp).

    python benchmarks/khatri_rao_vs_schur.py             # numpy's loops
    python benchmarks/khatri_rao_vs_schur.py --compiled  # the compiled loops (numba)

For products of bank kernels with growing rank products, times one draw each
way: the Khatri-Rao product of the cached exact factors (cost ~ L * prod(ranks)),
and the batched Schur factorisation (cost ~ L^2, per matrix in a batch of 128).
``cauker.sampler.gp.KHATRI_RAO_PER_POINT`` is discussed where it is set.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from results import Table, record

from cauker.sampler.backend import Backend
from cauker.sampler.gp import GaussianProcessSampler, TermPlan
from cauker.sampler.kernels import paper_bank
from cauker.sampler.toeplitz import toeplitz_draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compiled", action="store_true", help="the compiled loops")
    args = parser.parse_args()
    loops = Backend("compiled" if args.compiled else "numpy").loops(1, 512)
    rng = np.random.default_rng(0)
    columns = ["L", "kernels", "prod(ranks)", "Khatri-Rao us", "Schur us"]
    table = Table("One draw, Khatri-Rao against Schur", columns)
    for length in (512, 1024):
        gp = GaussianProcessSampler(paper_bank(length), length)
        names = [b.name for b in paper_bank(length)]
        cases = [
            ["RBF(10)", "RationalQuadratic(alpha=10)"],
            ["ExpSineSquared(p=24/L)", "RBF(1)"],
            ["ExpSineSquared(p=24/L)", "RationalQuadratic(alpha=1)"],
            ["ExpSineSquared(p=24/L)", "ExpSineSquared(p=7/L)"],
            ["ExpSineSquared(p=24/L)", "RBF(10)", "RBF(1)"],
            ["ExpSineSquared(p=24/L)", "RBF(1)", "RationalQuadratic(alpha=1)"],
            ["ExpSineSquared(p=24/L)", "ExpSineSquared(p=7/L)", "RBF(10)"],
            ["ExpSineSquared(p=24/L)", "ExpSineSquared(p=7/L)", "RBF(1)"],
        ]
        for case in cases:
            ids = [names.index(n.replace("/L", f"/{length}")) for n in case]
            factors = sorted((gp.factor(i) for i in ids), key=lambda f: -f.shape[0])
            ranks = math.prod(f.shape[0] for f in factors)
            plan = TermPlan(
                "khatri_rao",
                scales=np.ones((1, length)),
                unit=True,
                rows=factors[0],
                others=tuple(factors[1:]),
            )
            normals = [rng.standard_normal(gp.normals_shape(plan)) for _ in range(20)]
            start = time.perf_counter()
            gp.draw([plan] * 20, normals, loops)
            kr = (time.perf_counter() - start) / 20
            column = gp._column(ids)
            start = time.perf_counter()
            batch = np.repeat(column[None], 128, 0)
            toeplitz_draws(batch, rng.standard_normal((128, length)), loops=loops)
            schur = (time.perf_counter() - start) / 128
            label = " * ".join(case)
            table.add(length, label, ranks, f"{kr * 1e6:.0f}", f"{schur * 1e6:.0f}")
    print(table.markdown())
    record(__file__, table)


if __name__ == "__main__":
    main()
