"""An actor for "run it here or send it to one of these targets" actions (``target-scorer``).

The offloading env's agent picks a target (``0`` = keep the job local, ``1 + j`` = remote node
``j``) and a share. Its observation is the agent's own features followed by one row of
features per remote target (``observation_layout = {"global": (G,), "targets": (R, F)}``). An
MLP over the flat observation has to learn the same "is this target good" rule separately for
each of the ``R`` target slots; :class:`TargetScorer` learns it once:

* target ``j``'s logit is ``score([global, targets_j])`` (one shared Tanh MLP for every
  target, so the policy is equivariant to reordering the targets);
* the local logit is ``local(global)``;
* the head's remaining outputs (the share: ``K`` level logits in the discrete variant, two Beta
  concentrations in the hybrid one) come from ``rest(flat observation)``.

Masks stay the head's job. Input ``(..., obs_dim)``, output ``(..., head.n_outputs)`` with the
``1 + R`` target logits first (the order :class:`~agents.marl.heads.CategoricalHead` with
``nvec = (1 + R, K)`` and :class:`~agents.marl.heads.HybridHead` both read).
"""

from __future__ import annotations

import torch
from torch import nn
from torchrl.modules import MLP

from agents.marl.heads import ActionHead

TargetLayout = dict[str, tuple[int, ...]]


class TargetScorer(nn.Module):
    """Target logits from per-target features, the other outputs from the whole observation.

    Args:
        layout: the env's ``observation_layout``: ``"global"`` ``(G,)`` then ``"targets"``
            ``(R, F)``, in that order, nothing else.
        n_rest: outputs after the ``1 + R`` target logits (``>= 0``).
        hidden_sizes: widths of the three Tanh MLPs.
    """

    def __init__(self, layout: TargetLayout, n_rest: int, hidden_sizes: tuple[int, ...]) -> None:
        super().__init__()
        if list(layout) != ["global", "targets"]:
            raise ValueError(
                f"observation_layout: got blocks {list(layout)} (allowed: exactly "
                "['global', 'targets'] for actor='target-scorer')"
            )
        (self.global_dim,) = layout["global"]
        self.n_targets, self.target_dim = layout["targets"]
        self.obs_dim = self.global_dim + self.n_targets * self.target_dim
        if n_rest < 0:
            raise ValueError(f"n_rest: got {n_rest} (allowed: >= 0)")
        self.n_rest = n_rest
        cells = list(hidden_sizes)
        self.score = MLP(
            in_features=self.global_dim + self.target_dim,
            out_features=1,
            num_cells=cells,
            activation_class=nn.Tanh,
        )
        self.local = MLP(
            in_features=self.global_dim, out_features=1, num_cells=cells, activation_class=nn.Tanh
        )
        self.rest = (
            MLP(
                in_features=self.obs_dim,
                out_features=n_rest,
                num_cells=cells,
                activation_class=nn.Tanh,
            )
            if n_rest
            else None
        )

    @property
    def n_outputs(self) -> int:
        return 1 + self.n_targets + self.n_rest

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        if obs.shape[-1] != self.obs_dim:
            raise ValueError(f"observation has {obs.shape[-1]} features, the layout {self.obs_dim}")
        g = obs[..., : self.global_dim]
        targets = obs[..., self.global_dim :].unflatten(-1, (self.n_targets, self.target_dim))
        context = g.unsqueeze(-2).expand(*g.shape[:-1], self.n_targets, self.global_dim)
        remote = self.score(torch.cat([context, targets], dim=-1)).squeeze(-1)
        parts = [self.local(g), remote]
        if self.rest is not None:
            parts.append(self.rest(obs))
        return torch.cat(parts, dim=-1)


def build_target_scorer(
    head: ActionHead,
    obs_dim: int,
    hidden_sizes: tuple[int, ...],
    share_params: bool,
    layout: TargetLayout | None,
) -> TargetScorer:
    """A :class:`TargetScorer` for ``head``; ``ValueError`` naming what does not fit."""
    if layout is None:
        raise ValueError(
            "actor='target-scorer' needs an env with an observation_layout "
            "{'global': (G,), 'targets': (R, F)} (e.g. the offloading env)"
        )
    if not share_params:
        raise ValueError("actor='target-scorer' is one shared policy: per_agent_policies=False")
    scorer = TargetScorer(layout, 0, hidden_sizes)
    n_choice = 1 + scorer.n_targets
    nvec = getattr(head, "nvec", None)
    first = nvec[0] if nvec else getattr(head, "n_targets", None)
    if first != n_choice:
        raise ValueError(
            f"actor='target-scorer' needs an action whose first slot has {n_choice} values "
            f"(local + {scorer.n_targets} targets), got {nvec or first}"
        )
    if scorer.obs_dim != obs_dim:
        raise ValueError(
            f"observation_layout adds up to {scorer.obs_dim} features, the env has {obs_dim}"
        )
    return TargetScorer(layout, head.n_outputs - n_choice, hidden_sizes)
