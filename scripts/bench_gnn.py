"""GCN forward + backward over a topology's line graph: plain torch against torch_geometric.

The planning actor's GCN (``agents.marl.gnn.GCN``: a sparse COO matmul with the precomputed
``D^-1/2 (A + I) D^-1/2``) against a stack of ``torch_geometric.nn.GCNConv`` layers of the same
sizes (``cached=True``, so neither recomputes the normalisation; PyG's batched node features
``(B, n, F)``, ``node_dim=-2``), on the line graphs of Cogentco (243 edges) and Kdl (895), one
thread, in the same run; each configuration is timed ``--repeats`` times after a warm-up and
the median reported, with the ratio PyG / plain torch. Both compute the same function (checked
with copied weights). torch_geometric is not a dependency of the suite: install it in a
throwaway venv and pass its site-packages with ``--pyg-site``; without it only plain torch runs.

    PYTHONPATH=$PWD nice python scripts/bench_gnn.py \\
        --pyg-site /work/scratch/pygvenv/lib/python3.11/site-packages --out docs/bench-gnn.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from agents.marl.gnn import GCN, normalised_adjacency
from qnet_envs.planning import Instance
from qnet_envs.planning.core import line_graph


def topology_line_graph(name: str) -> tuple[np.ndarray, int]:
    graph = Instance.load(name).graph  # the network only: no paths are computed
    u, v = (np.asarray(a, dtype=np.int64) for a in zip(*graph.edges(), strict=True))
    return line_graph(u, v), len(u)


def timed(step, repeats: int) -> float:
    step()
    times = []
    for _ in range(repeats):
        tick = time.perf_counter()
        step()
        times.append(time.perf_counter() - tick)
    return statistics.median(times)


def pyg_stack(in_dim: int, hidden: int, layers: int):
    from torch_geometric.nn import GCNConv

    dims = [in_dim] + [hidden] * layers
    return torch.nn.ModuleList(
        GCNConv(a, b, cached=True, node_dim=-2) for a, b in zip(dims[:-1], dims[1:], strict=True)
    )


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", nargs="+", default=["cogentco", "kdl"])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--layers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--features", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--pyg-site", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.pyg_site is not None:
        sys.path.append(str(args.pyg_site))  # after the suite's own packages
    try:
        import torch_geometric

        pyg_version = torch_geometric.__version__
    except ImportError:
        pyg_version = None
    rows = []
    for name in args.instances:
        pairs, n_edges = topology_line_graph(name)
        adjacency = normalised_adjacency(pairs, n_edges)
        edge_index = torch.as_tensor(pairs)
        for layers in args.layers:
            torch.manual_seed(0)
            ours = GCN(args.features, args.hidden, layers)
            theirs = pyg_stack(args.features, args.hidden, layers) if pyg_version else None
            if theirs is not None:
                for conv, linear in zip(theirs, ours.linears, strict=True):
                    conv.lin.weight.data.copy_(linear.weight.data)
                    conv.bias.data.copy_(linear.bias.data)
            for batch in args.batch:
                x = torch.rand(batch, n_edges, args.features)

                def ours_step(x=x, ours=ours) -> torch.Tensor:
                    out = ours(x, adjacency)
                    out.square().mean().backward()
                    return out

                row = {
                    "instance": name,
                    "line_graph_nodes": n_edges,
                    "line_graph_pairs": int(pairs.shape[1]),
                    "layers": layers,
                    "batch": batch,
                    "hidden": args.hidden,
                    "torch_s": timed(ours_step, args.repeats),
                }
                if theirs is not None:

                    def pyg_forward(x=x, theirs=theirs) -> torch.Tensor:
                        h = x
                        for conv in theirs:
                            h = torch.relu(conv(h, edge_index))
                        return h

                    def pyg_step(pyg_forward=pyg_forward) -> torch.Tensor:
                        out = pyg_forward()
                        out.square().mean().backward()
                        return out

                    with torch.no_grad():
                        gap = (pyg_forward() - ours(x, adjacency)).abs().max().item()
                    row["pyg_s"] = timed(pyg_step, args.repeats)
                    row["pyg_over_torch"] = row["pyg_s"] / row["torch_s"]
                    row["max_abs_difference"] = gap
                rows.append(row)
                print(json.dumps(row), flush=True)
    report = {"torch": torch.__version__, "torch_geometric": pyg_version, "rows": rows}
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=1))
    return rows


if __name__ == "__main__":
    main()
