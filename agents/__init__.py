"""Trainers and baselines for the qnet_envs environments; depends on qnet_envs, never the reverse.

Submodules are imported on demand (``agents.baselines`` is numpy only; the trainers pull in
torch and Stable-Baselines3), so ``import agents`` stays light.
"""
