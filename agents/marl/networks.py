"""Actor networks the trainer can put in front of an action head (``TrainArgs.actor``).

* ``"mlp"``: TorchRL's ``MultiAgentMLP`` over the flat observation (any env).
* ``"choice-scorer"``: :class:`ChoiceScorer`, for envs whose observation is a table of
  *groups*, each with a list of *choices*, and whose action picks choices per group: one small
  MLP scores every choice from its own features, its group's and the global ones, so the same
  weights serve any number of groups and choices and the policy is equivariant to reordering
  them. The qVPN env is such an env (groups = user pairs, choices = path versions); an MLP over
  its 7,334 flat features has to learn the same ranking separately for each of 150 slots.
* ``"gnn-transformer"``: :class:`agents.marl.gnn.GNNTransformerActor`, a GCN over the
  network's edges (read from ``state()``) and a Transformer over each agent's candidate paths,
  for envs that expose ``graph_layout()`` (the planning env); size agnostic like the scorer.

An env opts in to the scorer by exposing ``observation_layout``: an ordered mapping from block
name to shape whose sizes add up to the flat observation (the qVPN env:
``{"global": (4,), "pairs": (P, Fp), "versions": (P, V, Fv), "links": (L,)}``). The scorer reads
the blocks named ``global``, the group block and the choice block (by default ``"pairs"`` and
``"versions"``) and ignores the others.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torchrl.modules import MLP, MultiAgentMLP

from agents.marl.heads import ActionHead

ACTORS = ("mlp", "choice-scorer", "gnn-transformer")
#: Actors that read the env's global ``state()`` besides the observation.
STATE_ACTORS = ("gnn-transformer",)

Layout = Mapping[str, tuple[int, ...]]


def block_offsets(layout: Layout) -> dict[str, tuple[int, int]]:
    """Start and end of every block in the flat observation, in the layout's order."""
    offsets: dict[str, tuple[int, int]] = {}
    start = 0
    for name, shape in layout.items():
        size = math.prod(shape)
        offsets[name] = (start, start + size)
        start += size
    return offsets


class ChoiceScorer(nn.Module):
    """Per-choice logits for a grouped choice action, from a structured observation.

    Action layout (the qVPN env's): ``n_groups * slots_per_group`` slots, slot ``i * S + s`` is
    slot ``s`` of group ``i``, with ``n_choices + 1`` values each: ``0`` = none, ``j >= 1`` =
    choice ``j - 1`` of the group. Every slot of a group gets the same logits (independent draws
    from one per-group distribution, repeats counting once: the qVPN paper's product policy,
    as in ``agents/selection/reinforce.py``), so the greedy action puts the group's best choice
    in every slot.

    Logits: choice ``j`` of group ``i``: ``score([global, group_i, choice_ij])``; none:
    ``none([global, group_i])``; both Tanh MLPs with ``hidden_sizes``. Before scoring, every
    group feature is standardised over the observation's groups and every choice feature over
    its choices (zero mean, unit variance; a constant feature becomes 0), so features of any
    scale (rates, weights, prices) reach the MLP on one scale, as REINFORCE's scorer does in
    ``agents/selection``. Masks (invalid or padding choices) are the head's job, not the
    network's.

    Args:
        layout: the env's ``observation_layout``.
        slots_per_group: ``S``, action slots per group.
        hidden_sizes: MLP widths.
        groups, choices: names of the group block ``(n_groups, group_dim)`` and the choice
            block ``(n_groups, n_choices, choice_dim)``; ``"global"`` must be a 1-d block.

    Input ``(..., obs_dim)``; output ``(..., n_groups * S * (n_choices + 1))``.
    """

    def __init__(
        self,
        layout: Layout,
        slots_per_group: int,
        hidden_sizes: tuple[int, ...],
        groups: str = "pairs",
        choices: str = "versions",
    ) -> None:
        super().__init__()
        for name in ("global", groups, choices):
            if name not in layout:
                raise ValueError(
                    f"observation_layout has no block {name!r} (blocks: {list(layout)})"
                )
        (self.global_dim,) = layout["global"]
        self.n_groups, self.group_dim = layout[groups]
        n_groups, self.n_choices, self.choice_dim = layout[choices]
        if n_groups != self.n_groups:
            raise ValueError(
                f"observation_layout: {groups!r} has {self.n_groups} rows, {choices!r} has "
                f"{n_groups}"
            )
        if slots_per_group < 1:
            raise ValueError(f"slots_per_group must be >= 1, got {slots_per_group}")
        self.slots_per_group = slots_per_group
        offsets = block_offsets(layout)
        self.obs_dim = max(end for _, end in offsets.values())
        self._global = offsets["global"]
        self._groups = offsets[groups]
        self._choices = offsets[choices]
        context = self.global_dim + self.group_dim
        self.score = MLP(
            in_features=context + self.choice_dim,
            out_features=1,
            num_cells=list(hidden_sizes),
            activation_class=nn.Tanh,
        )
        self.none = MLP(
            in_features=context,
            out_features=1,
            num_cells=list(hidden_sizes),
            activation_class=nn.Tanh,
        )

    @property
    def n_outputs(self) -> int:
        return self.n_groups * self.slots_per_group * (self.n_choices + 1)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        if obs.shape[-1] != self.obs_dim:
            raise ValueError(f"observation has {obs.shape[-1]} features, the layout {self.obs_dim}")
        batch = obs.shape[:-1]
        g = obs[..., slice(*self._global)]
        groups = obs[..., slice(*self._groups)].unflatten(-1, (self.n_groups, self.group_dim))
        choices = obs[..., slice(*self._choices)].unflatten(
            -1, (self.n_groups, self.n_choices, self.choice_dim)
        )
        groups = _standardise(groups, dims=(-2,))
        choices = _standardise(choices, dims=(-3, -2))
        context = torch.cat(
            [g.unsqueeze(-2).expand(*batch, self.n_groups, self.global_dim), groups], dim=-1
        )
        per_choice = torch.cat(
            [context.unsqueeze(-2).expand(*batch, self.n_groups, self.n_choices, -1), choices],
            dim=-1,
        )
        logits = torch.cat([self.none(context), self.score(per_choice).squeeze(-1)], dim=-1)
        slots = logits.unsqueeze(-2).expand(*batch, self.n_groups, self.slots_per_group, -1)
        return slots.reshape(*batch, self.n_outputs)


def _standardise(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """``x`` shifted and scaled to mean 0, standard deviation 1 over ``dims``, per feature."""
    mean = x.mean(dim=dims, keepdim=True)
    std = x.std(dim=dims, keepdim=True, unbiased=False)
    return (x - mean) / (std + 1e-6)


def observation_layout(env: object) -> Layout | None:
    """The ``observation_layout`` of a batched env or of the PettingZoo env it stacks."""
    layout = getattr(env, "observation_layout", None)
    if layout is None:
        layout = getattr(getattr(env, "env", None), "observation_layout", None)
    return layout


def graph_layout(env: object) -> Mapping[str, Any] | None:
    """The ``graph_layout()`` of a batched env or of the PettingZoo env it stacks (``None``
    when neither has one)."""
    for candidate in (env, getattr(env, "env", None)):
        method = getattr(candidate, "graph_layout", None)
        if callable(method):
            return method()
    return None


def build_actor_network(
    actor: str,
    head: ActionHead,
    n_agents: int,
    obs_dim: int,
    hidden_sizes: tuple[int, ...],
    share_params: bool,
    layout: Layout | None = None,
    graph: Mapping[str, Any] | None = None,
    gcn_layers: int = 2,
) -> nn.Module:
    """The network from ``("agents", "observation")`` ``(..., n_agents, obs_dim)`` (and, for
    :data:`STATE_ACTORS`, ``"state"``) to the head's ``n_outputs`` per agent; ``ValueError``
    naming what does not fit. ``graph`` is the env's ``graph_layout()``."""
    if actor not in ACTORS:
        raise ValueError(f"actor must be one of {ACTORS}, got {actor!r}")
    if actor == "gnn-transformer":
        return _gnn_transformer(head, obs_dim, hidden_sizes, share_params, graph, gcn_layers)
    if actor == "mlp":
        return MultiAgentMLP(
            n_agent_inputs=obs_dim,
            n_agent_outputs=head.n_outputs,
            n_agents=n_agents,
            centralised=False,
            share_params=share_params,
            num_cells=list(hidden_sizes),
            activation_class=nn.Tanh,
        )
    if layout is None:
        raise ValueError(
            "actor='choice-scorer' needs an env with an observation_layout (e.g. the qVPN env)"
        )
    if not share_params:
        raise ValueError("actor='choice-scorer' is one shared policy: per_agent_policies=False")
    nvec = getattr(head, "nvec", None)
    probe = ChoiceScorer(layout, 1, hidden_sizes)
    if nvec is None or len(set(nvec)) != 1 or nvec[0] != probe.n_choices + 1:
        raise ValueError(
            f"actor='choice-scorer' needs a MultiDiscrete action with {probe.n_choices + 1} "
            f"values per slot (none + {probe.n_choices} choices), got nvec {nvec}"
        )
    if len(nvec) % probe.n_groups:
        raise ValueError(
            f"actor='choice-scorer': {len(nvec)} action slots are not a multiple of the "
            f"{probe.n_groups} groups"
        )
    scorer = ChoiceScorer(layout, len(nvec) // probe.n_groups, hidden_sizes)
    if scorer.obs_dim != obs_dim:
        raise ValueError(
            f"observation_layout adds up to {scorer.obs_dim} features, the env has {obs_dim}"
        )
    return scorer


def _gnn_transformer(
    head: ActionHead,
    obs_dim: int,
    hidden_sizes: tuple[int, ...],
    share_params: bool,
    graph: Mapping[str, Any] | None,
    gcn_layers: int,
) -> nn.Module:
    from agents.marl.gnn import GNNTransformerActor

    if graph is None:
        raise ValueError(
            "actor='gnn-transformer' needs an env with graph_layout() (e.g. the planning env)"
        )
    if not share_params:
        raise ValueError("actor='gnn-transformer' is one shared policy: per_agent_policies=False")
    nvec = getattr(head, "nvec", None)
    k, choices = int(graph["k"]), int(graph["levels"]) + 1
    if nvec is None or tuple(nvec) != (choices,) * k:
        raise ValueError(
            f"actor='gnn-transformer' needs a MultiDiscrete action of {k} slots with {choices} "
            f"values each, got nvec {nvec}"
        )
    width = hidden_sizes[0]
    heads = 4 if width % 4 == 0 else 1
    net = GNNTransformerActor.for_layout(graph, hidden=width, gcn_layers=gcn_layers, heads=heads)
    if net._graph is not None and net._graph["obs_dim"] != obs_dim:
        raise ValueError(
            f"graph_layout's observation adds up to {net._graph['obs_dim']} features, the env "
            f"has {obs_dim}"
        )
    return net
