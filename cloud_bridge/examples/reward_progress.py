"""An example reward function for ``flywheel train-rl --reward`` (DeepRacer style).

Rewards getting closer to the goal, facing it and arriving; penalises touching an obstacle,
making the safety supervisor step in, and crawling near obstacles. Every key of ``params`` is
documented in cloud_bridge/README.md ("Reward functions"). Copy it and change it: the file needs
only ``reward_function(params)`` returning a finite number.
"""

import math


def reward_function(params):
    if params["collision"]:
        return -20.0
    # Metres gained towards the goal since the previous step (about 0.1 m at full speed).
    reward = 10.0 * params["progress_delta"]
    # A small bonus for facing the goal, so turning towards it pays before driving does.
    reward += 0.02 * math.cos(params["bearing_to_goal"])
    if params["safety_intervention"]:
        reward -= 0.5
    if params["min_clearance"] < 0.5:
        reward -= 0.05
    if params["reached_goal"]:
        reward += 20.0
    return float(reward)
