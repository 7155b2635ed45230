"""Action heads: what the policy network's outputs mean, and the distribution they define.

A head says how many outputs per agent the policy MLP needs (:attr:`ActionHead.n_outputs`),
which TensorDict entries the distribution reads (:meth:`ActionHead.distribution_keys`) and which
distribution class TorchRL's ``ProbabilisticActor`` builds from them. The trainer only talks to
this interface, so a new action type (a Box head, or the offloading family's hybrid
``Dict(Discrete target, Box share)`` head, a composite distribution) is a new head class and a
case in :func:`make_head`, not a change to the PPO loop. Implemented: Discrete and MultiDiscrete
(:class:`CategoricalHead`) and the hybrid ``Dict(target, share)`` (:class:`HybridHead`: a
categorical target times a Beta share); a Box head is not implemented yet.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar, Protocol

import torch
from gymnasium import spaces
from torch import distributions as D

from agents.marl.batched import action_nvec, hybrid_targets

GROUP = "agents"
LOGITS_KEY = (GROUP, "logits")
MASK_KEY = (GROUP, "action_mask")


@functools.lru_cache(maxsize=32)
def _padding_index(nvec: tuple[int, ...]) -> torch.Tensor:
    """``(n_slots, max(nvec))`` indices into the flat logits plus one padding column (index
    ``sum(nvec)``) for the choices a slot does not have."""
    width, total = max(nvec), sum(nvec)
    index = torch.full((len(nvec), width), total, dtype=torch.long)
    start = 0
    for slot, n in enumerate(nvec):
        index[slot, :n] = torch.arange(start, start + n)
        start += n
    return index


class MaskedMultiCategorical(D.Distribution):
    """Independent categoricals, one per action slot, with optional masks.

    Args:
        logits: ``(..., sum(nvec))``, slot-major (slot 0's ``nvec[0]`` logits first).
        mask: ``(..., sum(nvec))`` bool, True = valid; invalid choices get probability 0.
            Every slot needs at least one valid choice.
        nvec: choices per slot.

    Samples and :attr:`mode` are ``(..., n_slots)`` int64; :meth:`log_prob` and
    :meth:`entropy` sum over slots (shape ``(...)``).
    """

    arg_constraints: ClassVar[dict] = {}
    has_enumerate_support = False

    def __init__(
        self,
        logits: torch.Tensor,
        mask: torch.Tensor | None = None,
        nvec: tuple[int, ...] = (),
        validate_args: bool | None = None,
    ) -> None:
        self.nvec = tuple(int(n) for n in nvec)
        if logits.shape[-1] != sum(self.nvec):
            raise ValueError(
                f"logits end in {logits.shape[-1]} entries, nvec sums to {sum(self.nvec)}"
            )
        if mask is not None:
            logits = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
        width = max(self.nvec)
        if all(n == width for n in self.nvec):
            padded = logits.unflatten(-1, (len(self.nvec), width))
        else:  # one gather into (n_slots, width); the padding reads an extra -inf-like column
            fill = logits.new_full((*logits.shape[:-1], 1), torch.finfo(logits.dtype).min)
            padded = torch.cat([logits, fill], dim=-1)[..., _padding_index(self.nvec)]
        self._categorical = D.Categorical(logits=padded, validate_args=False)
        super().__init__(batch_shape=logits.shape[:-1], validate_args=False)

    @property
    def logits(self) -> torch.Tensor:
        """Normalised log-probabilities ``(..., n_slots, max(nvec))`` (padding at -inf)."""
        return self._categorical.logits

    def sample(self, sample_shape: tuple[int, ...] = ()) -> torch.Tensor:
        return self._categorical.sample(torch.Size(sample_shape))

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return self._categorical.log_prob(value).sum(-1)

    def entropy(self) -> torch.Tensor:
        return self._categorical.entropy().sum(-1)

    @property
    def mode(self) -> torch.Tensor:
        return self._categorical.probs.argmax(-1)

    @property
    def deterministic_sample(self) -> torch.Tensor:
        return self.mode


class ActionHead(Protocol):
    """What the trainer needs from an action head."""

    @property
    def n_outputs(self) -> int:
        """Policy-network outputs per agent."""
        ...

    @property
    def param_keys(self) -> list[tuple[str, str]]:
        """TensorDict entries :meth:`network_tail` writes (the distribution's parameters)."""
        ...

    def distribution_keys(self) -> dict[str, tuple[str, str]]:
        """Distribution keyword -> TensorDict entry (parameters and e.g. the action mask)."""
        ...

    @property
    def distribution_class(self) -> type[D.Distribution]: ...

    @property
    def distribution_kwargs(self) -> dict[str, Any]: ...

    def network_tail(self) -> torch.nn.Module:
        """Maps the MLP's ``n_outputs`` to the tensors of :attr:`param_keys`."""
        ...


@dataclasses.dataclass(frozen=True)
class CategoricalHead:
    """Discrete or MultiDiscrete actions: one categorical per slot, masked when the env
    offers ``action_mask``."""

    nvec: tuple[int, ...]
    masked: bool = False

    @property
    def n_outputs(self) -> int:
        return sum(self.nvec)

    @property
    def param_keys(self) -> list[tuple[str, str]]:
        """Entries the policy network writes."""
        return [LOGITS_KEY]

    def distribution_keys(self) -> dict[str, tuple[str, str]]:
        keys = {"logits": LOGITS_KEY}
        if self.masked:
            keys["mask"] = MASK_KEY
        return keys

    @property
    def distribution_class(self) -> type[D.Distribution]:
        return MaskedMultiCategorical

    @property
    def distribution_kwargs(self) -> dict[str, Any]:
        return {"nvec": self.nvec}

    def network_tail(self) -> torch.nn.Module:
        """Maps the MLP's ``n_outputs`` to the parameters (identity: they are the logits)."""
        return torch.nn.Identity()


SHARE_KEY = (GROUP, "share_concentration")
_LOG_EPS = 1e-6


class HybridTargetShare(D.Distribution):
    """A categorical target and a Beta share, independent: the hybrid ``Dict(Discrete(n),
    Box(0, 1, (1,)))`` action as one float row ``[target, share]``.

    Args:
        logits: ``(..., n)`` target logits; ``mask`` ``(..., n)`` bool (True = valid) optional.
        concentration: ``(..., 2)`` raw parameters; the Beta's are ``1 + softplus(.)`` (both
            above 1, so the density is unimodal and the mode ``(a - 1) / (a + b - 2)`` exists).

    Samples and :attr:`mode` are ``(..., 2)`` float32; :meth:`log_prob` and :meth:`entropy`
    add the two parts (the share is sampled and scored for every target, local included, so
    that the PPO ratio is that of the whole row).
    """

    arg_constraints: ClassVar[dict] = {}
    has_enumerate_support = False

    def __init__(
        self,
        logits: torch.Tensor,
        concentration: torch.Tensor,
        mask: torch.Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if mask is not None:
            logits = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
        self._target = D.Categorical(logits=logits, validate_args=False)
        alpha_beta = 1.0 + torch.nn.functional.softplus(concentration)
        self._share = D.Beta(alpha_beta[..., 0], alpha_beta[..., 1], validate_args=False)
        super().__init__(batch_shape=logits.shape[:-1], validate_args=False)

    def sample(self, sample_shape: tuple[int, ...] = ()) -> torch.Tensor:
        shape = torch.Size(sample_shape)
        target = self._target.sample(shape).to(torch.float32)
        share = self._share.sample(shape).to(torch.float32)
        return torch.stack([target, share], dim=-1)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        target = value[..., 0].round().long()
        share = value[..., 1].clamp(_LOG_EPS, 1.0 - _LOG_EPS)
        return self._target.log_prob(target) + self._share.log_prob(share)

    def entropy(self) -> torch.Tensor:
        return self._target.entropy() + self._share.entropy()

    @property
    def mode(self) -> torch.Tensor:
        a, b = self._share.concentration1, self._share.concentration0
        share = torch.where(a + b > 2.0 + 1e-6, (a - 1.0) / (a + b - 2.0), 0.5)
        target = self._target.probs.argmax(-1).to(share.dtype)
        return torch.stack([target, share], dim=-1).to(torch.float32)

    @property
    def deterministic_sample(self) -> torch.Tensor:
        return self.mode


class _SplitHybrid(torch.nn.Module):
    """``(..., n + 2)`` -> target logits ``(..., n)`` and share parameters ``(..., 2)``."""

    def __init__(self, n_targets: int) -> None:
        super().__init__()
        self.n_targets = n_targets

    def forward(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return out[..., : self.n_targets], out[..., self.n_targets :]


@dataclasses.dataclass(frozen=True)
class HybridHead:
    """The hybrid ``Dict(target Discrete(n), share Box(0, 1, (1,)))`` action
    (:class:`HybridTargetShare`); the target is masked when the env offers ``action_mask``
    (``n`` entries)."""

    n_targets: int
    masked: bool = False

    @property
    def n_outputs(self) -> int:
        return self.n_targets + 2

    @property
    def param_keys(self) -> list[tuple[str, str]]:
        return [LOGITS_KEY, SHARE_KEY]

    def distribution_keys(self) -> dict[str, tuple[str, str]]:
        keys = {"logits": LOGITS_KEY, "concentration": SHARE_KEY}
        if self.masked:
            keys["mask"] = MASK_KEY
        return keys

    @property
    def distribution_class(self) -> type[D.Distribution]:
        return HybridTargetShare

    @property
    def distribution_kwargs(self) -> dict[str, Any]:
        return {}

    def network_tail(self) -> torch.nn.Module:
        return _SplitHybrid(self.n_targets)


def make_head(action_space: spaces.Space, masked: bool) -> ActionHead:
    """The head for an agent's action space; ``ValueError`` for unsupported spaces."""
    n_targets = hybrid_targets(action_space)
    if n_targets is not None:
        return HybridHead(n_targets=n_targets, masked=masked)
    return CategoricalHead(nvec=action_nvec(action_space), masked=masked)
