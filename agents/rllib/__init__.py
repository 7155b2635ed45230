"""Ray RLlib glue for the suite's envs (``scripts/train_rllib.py``, ``docs/rllib.md``).

``agents.rllib.masking`` (gymnasium / PettingZoo only, no Ray) folds each env's action mask into
its observation; ``agents.rllib.envs`` builds the envs RLlib runs and the algorithm config
(imports Ray: install the ``[rllib]`` extra, in its own virtual environment).
"""
