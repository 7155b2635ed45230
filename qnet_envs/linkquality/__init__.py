"""Link-quality-aware routing: drifting links seen through noisy measurements (Gymnasium env).

``LinkQualityScenario`` (``from_dict`` / ``load``) and ``LinkQualityRoutingEnv`` are the public
names; the rules live in :mod:`qnet_envs.linkquality.core` (model: ``docs/linkquality-model.md``).
"""

from qnet_envs.linkquality.env import LinkQualityRoutingEnv
from qnet_envs.linkquality.scenario import LinkQualityScenario

__all__ = ["LinkQualityRoutingEnv", "LinkQualityScenario"]
