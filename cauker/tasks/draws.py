"""Samples of classes: ``n`` draws of one mechanism, differing only by their root noise.

Root ``r`` of a class takes its standard normals from sub-stream ``r + 1`` of
the class stream, ``n`` samples at once, sample after sample; a ``kernel``
intervention's second kernel takes its own from sub-stream
``INTERVENTION_STREAM``. Every term of a root's kernel is drawn for all ``n``
samples from one factor (:meth:`cauker.tasks.prior.Prior.draw_roots`), and the
classes of a batch of tasks are drawn together, each value computed as if
alone.

Propagation follows the corpora's arithmetic: a node is ``act(w_0 v_0 + w_1
v_1 + ... + b)``, evaluated in that order for all samples of the class at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cauker.config import MAX_NUM_NODES
from cauker.tasks.mechanisms import Mechanism
from cauker.tasks.prior import Prior, RootRequest
from cauker.tasks.seeding import normals

#: The sub-stream of a ``kernel`` intervention's second kernel (beyond every root's).
INTERVENTION_STREAM = MAX_NUM_NODES + 1


@dataclass
class Job:
    """``count`` samples of ``mechanism``, from the class stream whose first state is
    ``origin``."""

    mechanism: Mechanism
    origin: dict
    count: int


def _root_requests(prior: Prior, job: Job, scale: float) -> list[tuple[int, str, RootRequest]]:
    """The GP draws a job needs: ``(root, part, request)`` with part ``old`` (the
    root's kernel) or ``new`` (a ``kernel`` intervention's)."""
    graph, change = job.mechanism.graph, job.mechanism.intervention
    out = []
    for r, (ids, ops) in enumerate(zip(graph.kernel_ids, graph.ops)):
        shifted = change is not None and change.kind == "kernel" and change.target == r
        if not (shifted and scale == 1.0):
            out.append((r, "old", _request(prior, ids, ops, job, r + 1)))
        if shifted:
            new = list(ids)
            new[change.position] = change.kernel
            out.append((r, "new", _request(prior, new, ops, job, INTERVENTION_STREAM)))
    return out


def _request(prior: Prior, ids, ops, job: Job, number: int) -> RootRequest:
    terms = prior.root_terms(ids, ops, job.count)
    size = sum(term.size for term in terms)
    drawn = normals(job.origin, number, job.count * size)
    return RootRequest(terms, drawn.reshape(job.count, size))


def draw_samples(prior: Prior, jobs: list[Job], scale: float) -> list[np.ndarray]:
    """The samples of each job, ``(count, channels, length)`` float64."""
    requests = [_root_requests(prior, job, scale) for job in jobs]
    flat = [request for job in requests for _, _, request in job]
    drawn = iter(prior.draw_roots(flat))
    roots = []
    for job, job_requests in zip(jobs, requests):
        gp = {(r, part): next(drawn) for r, part, _ in job_requests}
        roots.append(_root_values(job, gp, scale))
    kernel = prior.compiled_propagation()
    with np.errstate(all="ignore"):  # non-finite samples are redrawn, not warned about
        if kernel is None:
            return [_propagate(prior, job, values, scale) for job, values in zip(jobs, roots)]
        return _propagate_compiled(prior, kernel, jobs, roots, scale)


def _mix(old, new, scale: float):
    """``(1 - s) old + s new``; ``new`` itself when ``s = 1``."""
    return new if scale == 1.0 else (1.0 - scale) * old + scale * new


def _root_values(job: Job, gp: dict, scale: float) -> list[np.ndarray]:
    """Each needed root's samples ``(count, length)``: its mean plus its GP draws."""
    graph, change = job.mechanism.graph, job.mechanism.intervention
    out = []
    for r in range(len(graph.roots)):
        mean = graph.means.values[r]
        if change is not None and change.kind == "mean" and change.target == r:
            mean = _mix(mean, change.mean.values[0], scale)
        if (r, "new") not in gp:
            noise = gp[r, "old"]
        elif (r, "old") not in gp:
            noise = gp[r, "new"]
        else:
            noise = math.sqrt(1.0 - scale) * gp[r, "old"] + math.sqrt(scale) * gp[r, "new"]
        out.append(mean + noise)
    return out


def _weights(job: Job, i: int, scale: float) -> np.ndarray:
    """The parent weights of inner node ``i``, with a ``weight`` intervention applied."""
    weights, change = job.mechanism.graph.weights[i], job.mechanism.intervention
    if change is not None and change.kind == "weight" and change.target == i:
        weights = weights.copy()
        weights[change.parent] = _mix(weights[change.parent], change.weight, scale)
    return weights


def _activate(prior: Prior, job: Job, i: int, a: np.ndarray, scale: float) -> np.ndarray:
    """Inner node ``i``'s activation of its pre-activations ``a``, with an
    ``activation`` intervention applied."""
    graph, change = job.mechanism.graph, job.mechanism.intervention
    out = prior.activate(graph.activation[i], a, graph.activation_u[i])
    if change is not None and change.kind == "activation" and change.target == i:
        out = _mix(out, prior.activate(change.activation, a, change.activation_u), scale)
    return out


def _propagate(prior: Prior, job: Job, roots: list[np.ndarray], scale: float) -> np.ndarray:
    """The chosen nodes' samples, with numpy: each node for all samples at once."""
    graph = job.mechanism.graph
    values = dict(zip(graph.roots, roots))
    for i, position in enumerate(graph.inner):
        weights, parents = _weights(job, i, scale), graph.parents[position]
        a = values[int(parents[0])] * weights[0]
        for j in range(1, len(parents)):
            a = a + values[int(parents[j])] * weights[j]
        a = a + graph.biases[i]
        values[position] = _activate(prior, job, i, a, scale)
    return np.stack([values[int(p)] for p in graph.chosen], axis=1)


def _propagate_compiled(prior, kernel, jobs, roots, scale) -> list[np.ndarray]:
    """:func:`_propagate` for all jobs, one row (a node of a sample) at a time, by the
    sampler's compiled kernel: the same operations in the same order, so the same bits.

    Rows: job after job, node after node (roots, then inner nodes in order), sample
    after sample. Every inner node of every job is listed once, then expanded to its
    samples with array operations."""
    sizes = [(len(j.mechanism.graph.roots) + len(j.mechanism.graph.inner)) * j.count for j in jobs]
    values = np.empty((sum(sizes), prior.config.length))
    bases = np.cumsum([0, *sizes]).tolist()
    # per inner node: its first row, samples, parents, bias, activation, owner
    own, count, parents, bias, kind, owner = [], [], [], [], [], []
    params: list[np.ndarray] = []
    entry_rows: list[int] = []  # per parent: the parent's first row
    entry_weights: list[float] = []
    for number, (job, job_roots) in enumerate(zip(jobs, roots)):
        graph, n, base = job.mechanism.graph, job.count, bases[number]
        order = graph.roots + graph.inner
        first_row = {p: base + k * n for k, p in enumerate(order)}
        for r, position in enumerate(graph.roots):
            values[first_row[position] : first_row[position] + n] = job_roots[r]
        change = job.mechanism.intervention
        for i, position in enumerate(graph.inner):
            own.append(first_row[position])
            count.append(n)
            parents.append(len(graph.parents[position]))
            entry_rows += [first_row[int(p)] for p in graph.parents[position]]
            entry_weights += _weights(job, i, scale).tolist()
            bias.append(graph.biases[i])
            shifted = change is not None and change.kind == "activation" and change.target == i
            kind.append(-1 if shifted else int(graph.activation[i]))
            owner.append((number, i))
        if graph.inner:
            params.append(_parameters(prior, graph))
    if own:
        samples = np.array(count)
        node = np.repeat(np.arange(len(own)), samples)  # the inner node of each row
        sample = np.arange(node.size) - np.repeat(np.cumsum(samples) - samples, samples)
        width = np.array(parents)[node]
        first_parent = np.concatenate([[0], np.cumsum(width)])
        entry = np.repeat(np.arange(node.size), width)  # the row each parent entry feeds
        entry_start = (np.cumsum(parents) - np.array(parents))[node[entry]]
        local = np.arange(entry.size) - first_parent[entry]
        source = entry_start + local
        own_row = np.array(own)[node] + sample

        def fallback(k: int) -> None:
            number, i = owner[node[k]]
            row = values[own_row[k] : own_row[k] + 1]
            row[:] = _activate(prior, jobs[number], i, row, scale)

        kernel.run(
            values, own_row, first_parent, np.array(entry_rows)[source] + sample[entry],
            np.array(entry_weights)[source], np.array(bias)[node], np.array(kind)[node],
            np.concatenate(params)[node], fallback,
        )  # fmt: skip
    out = []
    for number, job in enumerate(jobs):
        graph, n, base = job.mechanism.graph, job.count, bases[number]
        order = graph.roots + graph.inner
        picks = [base + order.index(int(p)) * n for p in graph.chosen]
        out.append(np.stack([values[p : p + n] for p in picks], axis=1))
    return out


def _parameters(prior: Prior, graph) -> np.ndarray:
    """``(inner nodes, 2)``: the parameters of each inner node's activation (kept on the
    graph: a ``shift`` task's classes share it)."""
    if graph.activation_params is None:
        pairs = zip(graph.activation, graph.activation_u)
        graph.activation_params = np.array([prior.activation_parameters(k, u) for k, u in pairs])
    return graph.activation_params
