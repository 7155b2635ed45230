"""The ``"gnn-transformer"`` actor: a GCN over the network's edges, a Transformer over a demand's
candidate paths (QPLAN, Gan et al., Sec. III).

For envs that expose ``graph_layout()`` (the planning env:
:meth:`qnet_envs.planning.batched.PlanningBatchedEnv.graph_layout`). Per forward pass:

1. **GCN over the line graph.** Nodes are the network's edges, features the env's per-edge
   features read from ``state()`` (block ``"edges"``, ``(n_edges, F)``). Each layer is
   ``H' = relu(A_hat H W + b)`` with ``A_hat = D^-1/2 (A + I) D^-1/2`` (``A`` the line-graph
   adjacency: edges sharing a node; ``D`` its degrees plus one), Kipf and Welling's
   propagation rule; ``gcn_layers`` layers (1, 2, 4 in the paper's study).
2. **Path tokens.** Slot ``j`` of agent ``d`` is one token: its own slot features, the agent's
   demand and the global features, and the mean and the max of the GCN embeddings of the
   edges on the slot's candidate path, through a linear layer and a LayerNorm.
3. **Transformer encoder** over the agent's ``k`` tokens (no positional encoding, padding
   masked out: the output is equivariant to reordering the slots), then a linear layer per
   token to the ``levels + 1`` logits of that slot (the MultiDiscrete head of
   :mod:`agents.marl.heads`; masks stay the head's job).

No weight depends on the topology, the number of agents or ``k``: the static structure (the
normalised adjacency, each slot's path edges) is set by :meth:`GNNTransformerActor.set_graph`
as plain tensors outside the parameters and buffers (TorchRL's loss copies buffers into its
state dict), so one state dict runs on any instance (train on small ones,
apply to big ones). Plain torch (a sparse COO matmul and ``index_add`` / ``scatter_reduce``):
``scripts/bench_gnn.py`` measures it against ``torch_geometric``'s ``GCNConv`` and
``docs/planning-policy.md`` says why it is the one used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

GraphLayout = Mapping[str, Any]


def normalised_adjacency(
    line_graph: np.ndarray, n_nodes: int, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``D^-1/2 (A + I) D^-1/2`` as a coalesced sparse COO ``(n_nodes, n_nodes)`` tensor;
    ``line_graph`` ``(2, m)`` are the directed pairs of ``A`` (both directions)."""
    src = np.concatenate([np.asarray(line_graph[0]), np.arange(n_nodes)])
    dst = np.concatenate([np.asarray(line_graph[1]), np.arange(n_nodes)])
    degree = np.bincount(dst, minlength=n_nodes).astype(np.float64)
    weight = 1.0 / np.sqrt(degree[dst] * degree[src])
    index = torch.as_tensor(np.stack([dst, src]), dtype=torch.long)
    values = torch.as_tensor(weight, dtype=dtype)
    shape = (n_nodes, n_nodes)
    return torch.sparse_coo_tensor(index, values, shape, check_invariants=False).coalesce()


class GCN(nn.Module):
    """``layers`` graph convolutions ``H' = relu(A_hat H W + b)`` (module docstring).

    Input ``(B, n_nodes, in_dim)`` and the sparse ``A_hat``; output ``(B, n_nodes, hidden)``.
    """

    def __init__(self, in_dim: int, hidden: int, layers: int) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"gcn_layers must be >= 1, got {layers}")
        dims = [in_dim] + [hidden] * layers
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        batch, n_nodes, _ = x.shape
        for linear in self.linears:
            h = x @ linear.weight.T  # (B, n, out)
            out = h.shape[-1]
            flat = h.transpose(0, 1).reshape(n_nodes, batch * out)
            h = torch.sparse.mm(adjacency, flat).reshape(n_nodes, batch, out).transpose(0, 1)
            x = torch.relu(h + linear.bias)
        return x


def _blocks(layout: Mapping[str, tuple[int, ...]]) -> dict[str, tuple[int, int]]:
    offsets, start = {}, 0
    for name, shape in layout.items():
        size = math.prod(shape)
        offsets[name] = (start, start + size)
        start += size
    return offsets


class GNNTransformerActor(nn.Module):
    """Per-slot level logits from the agents' observations and the env's state.

    Args:
        edge_dim: features per edge in ``state()``'s ``"edges"`` block.
        slot_dim, demand_dim, global_dim: the observation's per-slot, demand and global
            feature counts.
        n_choices: values per slot (``levels + 1``).
        hidden: width of the GCN, the tokens and the Transformer.
        gcn_layers: graph convolutions (>= 1).
        transformer_layers, heads: the encoder's depth and attention heads.

    Call :meth:`set_graph` with the env's ``graph_layout()`` before the first forward.
    ``forward(observation (..., n_agents, obs_dim), state (..., state_dim))`` returns
    ``(..., n_agents, k * n_choices)`` logits, slot-major.
    """

    def __init__(
        self,
        edge_dim: int,
        slot_dim: int,
        demand_dim: int,
        global_dim: int,
        n_choices: int,
        hidden: int = 64,
        gcn_layers: int = 2,
        transformer_layers: int = 1,
        heads: int = 4,
    ) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be a multiple of heads ({heads})")
        self.dims = {"edge": edge_dim, "slot": slot_dim, "demand": demand_dim}
        self.global_dim = global_dim
        self.n_choices = n_choices
        self.gcn = GCN(edge_dim, hidden, gcn_layers)
        token_in = slot_dim + demand_dim + global_dim + 2 * hidden
        self.token = nn.Sequential(nn.Linear(token_in, hidden), nn.LayerNorm(hidden))
        layer = nn.TransformerEncoderLayer(
            d_model=hidden,
            nhead=heads,
            dim_feedforward=2 * hidden,
            dropout=0.0,
            batch_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, transformer_layers, enable_nested_tensor=False)
        self.logits = nn.Linear(hidden, n_choices)
        self._graph: dict[str, Any] | None = None
        self._structure: dict[str, torch.Tensor] = {}

    @classmethod
    def for_layout(cls, graph: GraphLayout, **kwargs: Any) -> GNNTransformerActor:
        """An actor sized for the feature counts of ``graph`` (the env's ``graph_layout()``),
        with its structure already set."""
        obs, state = graph["observation"], graph["state"]
        net = cls(
            edge_dim=state["edges"][1],
            slot_dim=obs["slots"][1],
            demand_dim=obs["demand"][0],
            global_dim=obs["global"][0],
            n_choices=int(graph["levels"]) + 1,
            **kwargs,
        )
        net.set_graph(graph)
        return net

    def set_graph(self, graph: GraphLayout) -> None:
        """Install an env's static structure (its ``graph_layout()``); weights are untouched."""
        obs, state = graph["observation"], graph["state"]
        n_edges, k = int(graph["n_edges"]), int(graph["k"])
        if state["edges"][1] != self.dims["edge"] or obs["slots"][1] != self.dims["slot"]:
            raise ValueError(
                f"graph_layout: {state['edges'][1]} edge and {obs['slots'][1]} slot features, "
                f"the network was built for {self.dims['edge']} and {self.dims['slot']}"
            )
        if int(graph["levels"]) + 1 != self.n_choices:
            raise ValueError(
                f"graph_layout: levels {graph['levels']}, the network has {self.n_choices} "
                "values per slot"
            )
        slot_edges = np.asarray(graph["slot_edges"], dtype=np.int64)
        n_slots = int(graph["n_agents"]) * k
        counts = np.bincount(slot_edges[0], minlength=n_slots)
        self._graph = {
            "n_edges": n_edges,
            "k": k,
            "n_agents": int(graph["n_agents"]),
            "obs": _blocks(obs),
            "obs_dim": sum(math.prod(s) for s in obs.values()),
            "state": _blocks(state),
            "state_dim": sum(math.prod(s) for s in state.values()),
        }
        self._structure = {
            "adjacency": normalised_adjacency(graph["line_graph"], n_edges),
            "slot_index": torch.as_tensor(slot_edges[0]),
            "edge_index": torch.as_tensor(slot_edges[1]),
            "inverse_count": torch.as_tensor(1.0 / np.maximum(counts, 1), dtype=torch.float32),
            "has_edges": torch.as_tensor(counts > 0),
        }

    def _tensors(self, device: torch.device) -> dict[str, torch.Tensor]:
        """The structure on ``device`` (moved once, when the inputs first arrive there)."""
        if self._structure["slot_index"].device != device:
            self._structure = {k: v.to(device) for k, v in self._structure.items()}
        return self._structure

    @property
    def n_outputs(self) -> int:
        if self._graph is None:
            raise RuntimeError("set_graph() first")
        return self._graph["k"] * self.n_choices

    def edge_embeddings(self, state: torch.Tensor) -> torch.Tensor:
        """GCN embeddings ``(B, n_edges, hidden)`` from states ``(B, state_dim)``."""
        g = self._graph
        if g is None:
            raise RuntimeError("GNNTransformerActor: set_graph() before the first forward")
        edges = state[..., slice(*g["state"]["edges"])].unflatten(-1, (g["n_edges"], -1))
        return self.gcn(edges, self._tensors(state.device)["adjacency"])

    def forward(self, observation: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        g = self._graph
        if g is None:
            raise RuntimeError("GNNTransformerActor: set_graph() before the first forward")
        if observation.shape[-1] != g["obs_dim"] or state.shape[-1] != g["state_dim"]:
            raise ValueError(
                f"observation {observation.shape[-1]} / state {state.shape[-1]} features, the "
                f"graph layout {g['obs_dim']} / {g['state_dim']}"
            )
        lead = observation.shape[:-2]
        n, k = observation.shape[-2], g["k"]
        obs = observation.reshape(-1, n, observation.shape[-1])
        states = state.reshape(-1, state.shape[-1])
        batch = obs.shape[0]
        t = self._tensors(obs.device)
        h = self.edge_embeddings(states)  # (B, E, H)
        hidden = h.shape[-1]
        on_path = h[:, t["edge_index"]]  # (B, nnz, H)
        mean = h.new_zeros(batch, n * k, hidden).index_add_(1, t["slot_index"], on_path)
        mean = mean * t["inverse_count"][:, None]
        peak = h.new_zeros(batch, n * k, hidden).scatter_reduce(
            1,
            t["slot_index"][None, :, None].expand(batch, -1, hidden),
            on_path,
            reduce="amax",
            include_self=False,
        )
        pooled = torch.cat([mean, peak], dim=-1).reshape(batch, n, k, 2 * hidden)
        blocks = g["obs"]
        glob = obs[..., slice(*blocks["global"])]
        demand = obs[..., slice(*blocks["demand"])]
        slots = obs[..., slice(*blocks["slots"])].unflatten(-1, (k, -1))
        context = torch.cat([glob, demand], dim=-1).unsqueeze(-2).expand(-1, -1, k, -1)
        tokens = self.token(torch.cat([slots, context, pooled], dim=-1))
        tokens = tokens.reshape(batch * n, k, hidden)
        usable = (slots[..., 0] > 0.5) & t["has_edges"].reshape(n, k)
        usable = usable.reshape(batch * n, k)
        usable = usable | ~usable.any(dim=-1, keepdim=True)  # no usable slot: attend to all
        out = self.encoder(tokens, src_key_padding_mask=~usable)
        logits = self.logits(out).reshape(*lead, n, k * self.n_choices)
        return logits
