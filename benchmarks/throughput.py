"""Throughput of the sampler, side by side with the published script, in one run.

    python benchmarks/throughput.py --v1-script /path/to/CauKer.py   # the authors' V1 script
    python benchmarks/throughput.py                                  # our port of its method
    python benchmarks/throughput.py --quick                          # smaller sizes

Rows of the table, each measured end to end in a fresh process (start-up and
imports included, as a user runs them), with its peak RSS:

- (a) the baseline at L = 512, 1024, 2048: the authors' V1 script
  (``CauKer.py`` of github.com/ShifengXIE/CauKer, fetch it yourself; it is never
  part of this repository), run with a CuPy stand-in that computes on the CPU
  with numpy, BLAS pinned to one thread, writing its Arrow file as it does; or,
  without ``--v1-script``, our port of its method (every node evaluated, a
  dense scikit-learn covariance and an ``eigh`` per root);
- (b) the I/O floor: the same number of random float32 rows written to Parquet;
- ``cauker.generate`` in one process and in two (each half of the rows), with
  the compiled loops (numba, cached on disk beforehand) and, at L = 512, with
  numpy's loops only (``CAUKER_COMPILED=0``) and with an empty numba cache
  (a fresh machine: the loops are compiled in the background meanwhile);
- a sweep over the number of series at L = 512, one process;
- this machine's own ceiling for two processes: the same pure-Python loop, and
  the same numpy loop, in one process and in two (each doing the whole loop),
  so that "2 processes / 1 process" can be read against what the machine gives.

Ratios are against (a) at the same length, measured in the same run, because
this machine is shared and its absolute speed varies. The plot of throughput
against L and against N goes to ``docs/benchmarks/results/throughput.png``
beside the recorded tables (``--plot FILE`` puts it elsewhere); ``--quick``
records nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from results import Table, record, results_folder

ONE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

#: The parts of CuPy the V1 script uses, on the CPU. ``multivariate_normal``
#: follows CuPy's ``method="eigh"``: an eigendecomposition, as the script asks.
CUPY_STAND_IN = '''
"""CPU stand-in for the parts of CuPy the authors' CauKer.py uses."""
import numpy as _np

asarray = _np.asarray


def asnumpy(a):
    return _np.asarray(a)


class _Random:
    def seed(self, seed=None):
        _np.random.seed(seed)

    def multivariate_normal(self, mean, cov, size=None, method="cholesky", **_):
        if method == "eigh":
            w, v = _np.linalg.eigh(cov)
            factor = v * _np.sqrt(_np.clip(w, 0.0, None))
        else:
            factor = _np.linalg.cholesky(cov)
        return mean + factor @ _np.random.standard_normal(len(mean))


random = _Random()
'''


def peak_rss_mib(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def _run(argv: list[str], env: dict[str, str], cwd: str | None = None) -> dict:
    """Run a command; wall seconds and the peak RSS of its process tree (MiB)."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed:\n{done.stderr[-3000:]}")
    rss = json.loads(done.stdout.strip().splitlines()[-1])["rss_mib"] if "rss" in done.stdout else 0
    return {"seconds": seconds, "rss_mib": rss, "stdout": done.stdout}


def run_v1_script(script: Path, length: int, num_series: int) -> dict:
    """The authors' script, unchanged, with the CuPy stand-in first on its path."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "cupy").mkdir()
        (Path(tmp) / "cupy" / "__init__.py").write_text(CUPY_STAND_IN)
        env = {**os.environ, **ONE_THREAD, "PYTHONPATH": tmp}
        # Measured through a tiny wrapper that runs the script as __main__ and
        # reports the process's own peak RSS.
        wrapper = textwrap.dedent(
            f"""
            import json, resource, runpy, sys
            sys.argv = [{str(script)!r}, "-N", "{num_series}", "-L", "{length}",
                        "-O", {str(Path(tmp) / "v1.arrow")!r}]
            runpy.run_path({str(script)!r}, run_name="__main__")
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(json.dumps({{"rss_mib": rss}}))
            """
        )
        result = _run([sys.executable, "-c", wrapper], env, cwd=tmp)
    return {"series": num_series, **result}


def run_dense_port(length: int, num_series: int) -> dict:
    """Our port of the published method (no V1 script given)."""
    code = textwrap.dedent(
        f"""
        import functools, json, operator, resource
        import numpy as np
        from cauker.sampler import activations, dag, kernels, loops, means
        length, num_series = {length}, {num_series}
        bank = [entry.kernel for entry in kernels.paper_bank(length)]
        acts = activations.activation_bank("paper")
        mean_bank = means.mean_bank("paper")
        x = np.linspace(0, 1, length)
        rng = np.random.default_rng(0)
        ops = (operator.add, operator.mul)
        made = 0
        while made < num_series:
            graph = dag.paper_dags([rng], 18, 6).graph(0)
            values = {{}}
            for i, parents in enumerate(graph.parents):
                if parents.size == 0:
                    chosen = [bank[j] for j in rng.integers(0, len(bank), rng.integers(1, 8))]
                    kernel = functools.reduce(
                        lambda a, b: ops[rng.integers(0, 2)](a, b), chosen[1:], chosen[0]
                    )
                    numbers = means.MeanDraws(
                        kinds=mean_bank[rng.integers(0, mean_bank.size, (1, 2))],
                        multiply=rng.integers(0, 2, 1),
                        u=rng.random((1, 2, 2)),
                        spikes=rng.integers(1, 6, (1, 2)),
                        where=rng.integers(0, length, (1, 2, 5)),
                        heights=rng.uniform(-5.0, 5.0, (1, 2, 5)),
                    )
                    mean = means.compute_means(numbers, x, loops).values[0]
                    w, v = np.linalg.eigh(kernel(x[:, None]))
                    noise = np.sqrt(np.clip(w, 0, None)) * rng.standard_normal(length)
                    values[i] = mean + v @ noise
                else:
                    a = sum(rng.standard_normal() * values[p] for p in parents)
                    a = a + rng.standard_normal()
                    name, act = acts[rng.integers(0, len(acts))]
                    values[i] = act(a[None], rng.random((1, 2)))[0]
            np.stack([values[c] for c in rng.permutation(18)[:4]]).astype(np.float32)
            made += 4
        print(json.dumps({{"rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
        """
    )
    result = _run([sys.executable, "-c", code], {**os.environ, **ONE_THREAD})
    return {"series": num_series, **result}


def run_io_floor(length: int, num_series: int) -> dict:
    code = textwrap.dedent(
        f"""
        import json, os, resource, tempfile
        import numpy as np, pyarrow as pa, pyarrow.parquet as pq
        length, num_series = {length}, {num_series}
        rng = np.random.default_rng(0)
        with tempfile.TemporaryDirectory() as tmp:
            schema = pa.schema([pa.field("target", pa.list_(pa.float32(), length))])
            with pq.ParquetWriter(os.path.join(tmp, "floor.parquet"), schema) as writer:
                for first in range(0, num_series, 512):
                    rows = min(512, num_series - first)
                    values = rng.standard_normal(rows * length, dtype=np.float32)
                    column = pa.FixedSizeListArray.from_arrays(pa.array(values), length)
                    writer.write_batch(pa.record_batch([column], schema=schema))
        print(json.dumps({{"rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
        """
    )
    return {"series": num_series, **_run([sys.executable, "-c", code], dict(os.environ))}


def two_process_ceiling() -> dict[str, float]:
    """Work per second of 2 processes over 1, for a pure-Python and a numpy loop."""
    loops = {
        "pure Python": "s = 0\nfor i in range(20_000_000):\n    s += i",
        "numpy (in cache)": (
            "import numpy as np\na = np.ones(20_000)\n"
            "for _ in range(40_000):\n    a = a * 1.0000001 + 0.5"
        ),
    }
    ceilings = {}
    for name, code in loops.items():
        seconds = []
        for processes in (1, 2):
            start = time.perf_counter()
            children = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(processes)]
            if any(child.wait() for child in children):
                raise RuntimeError(f"the {name} loop failed")
            seconds.append(time.perf_counter() - start)
        ceilings[name] = 2 * seconds[0] / seconds[1]
    return ceilings


def run_cauker(
    length: int,
    num_series: int,
    processes: int,
    compiled: str = "auto",
    cache: str | None = None,
    checkout: Path | None = None,
) -> dict:
    """``import cauker`` and generate the rows (streamed, nothing kept), in one or
    several fresh processes, each taking a contiguous part of the rows.

    ``compiled``: ``auto`` (cauker decides), ``always`` or ``numpy`` (never);
    ``cache``: numba's cache folder; ``checkout``: import cauker from this
    source folder (run from a neutral folder, so the current one cannot shadow it).
    """
    code = textwrap.dedent(
        """
        import json, resource, sys
        import cauker
        length, start, stop, total = map(int, sys.argv[1:5])
        config = cauker.CauKerConfig(num_series=total, length=length)
        for _ in cauker.iter_batches(config, start=start, stop=stop):
            pass
        print(json.dumps({"rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        """
    )
    env = {**os.environ, "CAUKER_COMPILED": {"auto": "auto", "always": "1", "numpy": "0"}[compiled]}
    if cache is not None:  # numba's cache folder (an empty one: a fresh machine)
        env["NUMBA_CACHE_DIR"] = cache
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    cuts = [round(num_series * p / processes) for p in range(processes + 1)]
    with tempfile.TemporaryDirectory() as neutral:
        start = time.perf_counter()
        children = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(length), str(a), str(b), str(num_series)],
                env=env,
                cwd=neutral if checkout is not None else None,
                stdout=subprocess.PIPE,
                text=True,
            )
            for a, b in zip(cuts, cuts[1:])
        ]
        outputs = [child.communicate()[0] for child in children]
        seconds = time.perf_counter() - start
    if any(child.returncode for child in children):
        raise RuntimeError("a cauker process failed")
    rss = max(json.loads(out.strip().splitlines()[-1])["rss_mib"] for out in outputs)
    return {"series": num_series, "seconds": seconds, "rss_mib": rss}


def warm_compiled_loops() -> None:
    """Compile the numba loops once, so that no measurement includes compiling."""
    code = "import cauker; cauker.generate(cauker.CauKerConfig(num_series=8, length=16))"
    subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "CAUKER_COMPILED": "1"}, check=True
    )


def table(rows: list[tuple], baseline_name: str) -> Table:
    result = Table(
        f"Throughput against {baseline_name} (a)",
        ["L", "method", "series", "seconds", "series/s", "x (a)", "peak RSS"],
    )
    for length, name, r, base in rows:
        rate = r["series"] / r["seconds"]
        ratio = rate / (base["series"] / base["seconds"])
        result.add(
            length,
            name,
            f"{r['series']:,}",
            f"{r['seconds']:.2f}",
            f"{rate:,.1f}",
            f"{ratio:,.0f}",
            f"{r['rss_mib']:.0f} MiB",
        )
    return result


def plot(path: str, by_length: dict, by_count: dict, baseline_name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, points in by_length.items():
        lengths = sorted(points)
        left.plot(lengths, [points[x] for x in lengths], marker="o", label=name)
    left.set(xscale="log", yscale="log", xlabel="series length L", ylabel="series / s")
    left.set_xticks([512, 1024, 2048], ["512", "1024", "2048"])
    left.minorticks_off()
    left.legend(fontsize=8)
    left.set_title("throughput against L (end to end)")
    counts = sorted(by_count)
    right.plot(counts, [by_count[n] for n in counts], marker="o", label="cauker, 1 process")
    right.set(xscale="log", xlabel="series generated (L = 512)", ylabel="series / s")
    right.set_title("against N (start-up included)")
    right.legend(fontsize=8)
    fig.suptitle(f"cauker against {baseline_name}, one run, same machine", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--v1-script", type=Path, help="the authors' CauKer.py (V1)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--plot", help="write the plots to this image file")
    parser.add_argument("--lengths", default="512,1024,2048")
    args = parser.parse_args()

    scale = 0.2 if args.quick else 1.0
    lengths = [int(x) for x in args.lengths.split(",")]
    sizes = {512: 100_000, 1024: 20_000, 2048: 5_000}
    baseline_sizes = {512: 400, 1024: 80, 2048: 16}
    baseline_name = "the authors' V1 script" if args.v1_script else "our port of V1's method"

    warm_compiled_loops()
    rows, by_length = [], {"cauker, 1 process": {}, "cauker, 2 processes": {}, "(a)": {}}
    for length in lengths:
        n = max(1000, int(sizes.get(length, 5_000) * scale))
        nb = max(8, int(baseline_sizes.get(length, 16) * scale))
        if args.v1_script:
            base = run_v1_script(args.v1_script.resolve(), length, nb)
        else:
            base = run_dense_port(length, nb)
        rows.append((length, f"(a) {baseline_name}", base, base))
        if length == 512:
            rows.append((length, "(b) Parquet I/O floor", run_io_floor(length, n), base))
            numpy_only = run_cauker(length, n, 1, compiled="numpy")
            rows.append((length, "cauker, 1 process, numpy loops only", numpy_only, base))
            with tempfile.TemporaryDirectory() as empty:
                cold = run_cauker(length, n, 1, cache=empty)
            rows.append((length, "cauker, 1 process, empty numba cache", cold, base))
        one = run_cauker(length, n, 1)
        two = run_cauker(length, n, 2)
        rows.append((length, "cauker, 1 process", one, base))
        rows.append((length, "cauker, 2 processes", two, base))
        by_length["(a)"][length] = base["series"] / base["seconds"]
        by_length["cauker, 1 process"][length] = n / one["seconds"]
        by_length["cauker, 2 processes"][length] = n / two["seconds"]
        print(f"L={length}: 2 processes / 1 process = {one['seconds'] / two['seconds']:.2f}")

    by_count = {}
    for n in [int(x * scale) for x in (1_000, 4_000, 16_000, 64_000, 256_000)]:
        by_count[n] = n / run_cauker(512, n, 1)["seconds"]
    result = table(rows, baseline_name)
    print(result.markdown())
    by_n = "series/s against N at L = 512 (one process, start-up included): " + ", ".join(
        f"{n:,}: {rate:,.0f}" for n, rate in by_count.items()
    )
    print(by_n)
    ceilings = two_process_ceiling()
    ceiling = "this machine, 2 processes / 1 process: " + ", ".join(
        f"{name} loop {ratio:.2f}" for name, ratio in ceilings.items()
    )
    print(ceiling)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end")
    by_length[f"(a) {baseline_name}"] = by_length.pop("(a)")
    figure = Path(args.plot) if args.plot else results_folder() / "throughput.png"
    plot(str(figure), by_length, by_count, baseline_name)
    print(f"wrote {figure}")
    if args.quick:  # a smoke run: the page keeps the full run's results
        return
    figures = [figure.name] if figure.parent.resolve() == results_folder().resolve() else []
    record(__file__, result, notes=[by_n, ceiling], figures=figures)


if __name__ == "__main__":
    main()
