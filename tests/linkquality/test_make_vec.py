"""Gymnasium's own vector wrappers run the link-quality env (it has no batched vector env:
`docs/vector.md`)."""

import gymnasium as gym
import numpy as np

import qnet_envs  # noqa: F401  (registers the ids)

ENV_ID = "qnet_envs/LinkQualityRouting-Small-v0"


def test_sync_vector_env_equals_single_envs_with_the_same_seeds() -> None:
    envs = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="sync")
    singles = [gym.make(ENV_ID) for _ in range(3)]
    obs, _ = envs.reset(seed=7)
    for i, env in enumerate(singles):
        single_obs, _ = env.reset(seed=7 + i)
        np.testing.assert_array_equal(obs[i], single_obs)
    for step in range(5):
        actions = np.full(3, step % 2)
        obs, rewards, terminated, truncated, _ = envs.step(actions)
        for i, env in enumerate(singles):
            single_obs, reward, term, trunc, _ = env.step(int(actions[i]))
            np.testing.assert_array_equal(obs[i], single_obs)
            assert rewards[i] == reward
            assert (terminated[i], truncated[i]) == (term, trunc) == (False, False)
    envs.close()
