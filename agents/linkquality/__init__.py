"""Agents of link-quality-aware routing (``qnet_envs.linkquality``).

``routers`` (shortest path, greedy, static, estimate-driven k-shortest), ``clairvoyant`` (the
upper bound: a HiGHS MILP on the true link values), ``evaluation`` (one episode, the metrics),
``predictor`` (the supervised link-quality model, torch) and ``policy`` (SB3 PPO over the
candidate paths). The numpy modules import no torch. See ``docs/linkquality.md``.
"""
