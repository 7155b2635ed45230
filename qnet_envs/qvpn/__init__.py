"""qVPN resource management (Pouryousef et al.): problem model, path versions, LP and MILP."""

from qnet_envs.qvpn.problem import DEFAULT_THRESHOLDS, Instance
from qnet_envs.qvpn.versions import VersionTable

__all__ = ["DEFAULT_THRESHOLDS", "Instance", "VersionTable"]
