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
from types import ModuleType

import numpy as np

from cauker.config import MAX_NUM_NODES
from cauker.tasks.mechanisms import Mechanism
from cauker.tasks.prior import Nodes, Prior, RootRequest
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


def draw_samples(
    prior: Prior, jobs: list[Job], scale: float, loops: ModuleType
) -> list[np.ndarray]:
    """The samples of each job, ``(count, channels, length)`` float64, with ``loops``
    (``Prior.loops``: numpy's or numba's, the same bits)."""
    requests = [_root_requests(prior, job, scale) for job in jobs]
    flat = [request for job in requests for _, _, request in job]
    drawn = iter(prior.draw_roots(flat, loops))
    roots = []
    for job, job_requests in zip(jobs, requests):
        gp = {(r, part): next(drawn) for r, part, _ in job_requests}
        roots.append(_root_values(job, gp, scale))
    with np.errstate(all="ignore"):  # non-finite samples are redrawn, not warned about
        return _propagate(prior, jobs, roots, scale, loops)


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


def _mixture(prior: Prior, kind: int, change, scale: float):
    """The activation ``(1 - s) f + s f'`` of an ``activation`` intervention, as a bank
    entry ``(name, function)``: ``f`` with the node's parameters (those the
    propagation passes), ``f'`` the intervention's."""
    old, new = prior.activations[kind][1], prior.activations[change.activation][1]

    def mixed(a: np.ndarray, params: np.ndarray) -> np.ndarray:
        fresh = new(a, np.broadcast_to(change.params, params.shape))
        return _mix(old(a, params), fresh, scale)

    return ("mixture", mixed)


def _propagate(prior, jobs, roots, scale, loops) -> list[np.ndarray]:
    """The chosen nodes' samples of every job: ``act(w_0 v_0 + w_1 v_1 + ... + b)`` per
    node and sample, by ``loops``' propagation (one row a node of a sample).

    Rows: job after job, node after node (roots, then inner nodes in order), sample
    after sample. Each job's inner nodes come from its graph's :func:`_layout`, then
    are expanded to their samples with array operations."""
    layouts = [_layout(prior, job.mechanism.graph) for job in jobs]
    sizes = [len(layout.order) * job.count for job, layout in zip(jobs, layouts)]
    values = np.empty((sum(sizes), prior.config.length))
    bases = np.cumsum([0, *sizes]).tolist()
    bank = len(prior.activations)
    extra = []  # activations of interventions that mix two
    # per inner node of every job: its first row, samples, parents, bias, activation, depth
    own, count, width, bias, kind, params, depth = ([] for _ in range(7))
    entry_rows, entry_weights = [], []  # per parent: the parent's first row, its weight
    for number, (job, job_roots, layout) in enumerate(zip(jobs, roots, layouts)):
        n, base, inner = job.count, bases[number], len(layout.biases)
        if job_roots:
            values[base : base + len(job_roots) * n] = np.concatenate(job_roots)
        if not inner:
            continue
        change = job.mechanism.intervention
        weights, kinds, node_params = layout.weights, layout.kinds, layout.params
        if change is not None and change.kind == "weight":
            weights = weights.copy()
            at = layout.first_parent[change.target] + change.parent
            weights[at] = _mix(weights[at], change.weight, scale)
        if change is not None and change.kind == "activation":
            kinds, target = kinds.copy(), change.target
            if scale == 1.0:  # replaced
                node_params = node_params.copy()
                kinds[target], node_params[target] = change.activation, change.params
            else:
                kinds[target] = bank + len(extra)
                extra.append(_mixture(prior, int(layout.kinds[target]), change, scale))
        own.append(base + (len(job_roots) + np.arange(inner)) * n)
        count.append(np.full(inner, n))
        width.append(layout.counts)
        entry_rows.append(base + layout.parents * n)
        entry_weights.append(weights)
        bias.append(layout.biases)
        kind.append(kinds)
        params.append(node_params)
        depth.append(layout.depth)
    if own:
        samples, parents = np.concatenate(count), np.concatenate(width)
        node = np.repeat(np.arange(samples.size), samples)  # the inner node of each row
        sample = np.arange(node.size) - np.repeat(np.cumsum(samples) - samples, samples)
        row_width = parents[node]
        first_parent = np.concatenate([[0], np.cumsum(row_width)])
        entry = np.repeat(np.arange(node.size), row_width)  # the row each parent entry feeds
        entry_start = (np.cumsum(parents) - parents)[node[entry]]
        source = entry_start + np.arange(entry.size) - first_parent[entry]
        nodes = Nodes(
            row=np.concatenate(own)[node] + sample,
            first_parent=first_parent,
            parent_rows=np.concatenate(entry_rows)[source] + sample[entry],
            weights=np.concatenate(entry_weights)[source],
            biases=np.concatenate(bias)[node],
            kinds=np.concatenate(kind)[node],
            params=np.concatenate(params)[node],
            depth=np.concatenate(depth)[node],
        )
        prior.propagate(values, nodes, tuple(extra), loops)
    out = []
    for number, (job, layout) in enumerate(zip(jobs, layouts)):
        first = bases[number] + layout.chosen * job.count
        out.append(np.stack([values[p : p + job.count] for p in first.tolist()], axis=1))
    return out


@dataclass
class Layout:
    """A graph's needed nodes in row order (roots, then inner nodes), as arrays: the
    parents of every inner node (their numbers in that order, in weight order), their
    weights, counts and first entry, the biases, activations and their parameters,
    and the numbers of the chosen nodes."""

    order: list[int]
    parents: np.ndarray
    weights: np.ndarray
    counts: np.ndarray
    first_parent: np.ndarray
    biases: np.ndarray
    kinds: np.ndarray
    params: np.ndarray
    depth: np.ndarray
    chosen: np.ndarray


def _layout(prior: Prior, graph) -> Layout:
    """The :class:`Layout` of ``graph``, made once (a ``shift`` task's classes share it)."""
    if graph.layout is None:
        order = graph.roots + graph.inner
        number = {p: k for k, p in enumerate(order)}
        lists = [[number[int(p)] for p in graph.parents[q]] for q in graph.inner]
        counts = np.array([len(x) for x in lists], dtype=np.int64)
        graph.layout = Layout(
            order=order,
            parents=np.array([p for x in lists for p in x], dtype=np.int64),
            weights=np.concatenate(graph.weights) if graph.inner else np.zeros(0),
            counts=counts,
            first_parent=np.cumsum(counts) - counts,
            biases=np.asarray(graph.biases, dtype=np.float64),
            kinds=np.asarray(graph.activation, dtype=np.int64),
            params=np.asarray(graph.params, dtype=np.float64).reshape(-1, 2),
            depth=np.asarray(graph.depth[graph.inner], dtype=np.int64),
            chosen=np.array([number[int(p)] for p in graph.chosen], dtype=np.int64),
        )
    return graph.layout
