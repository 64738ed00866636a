"""Topic and service names of the Flywheel stack.

Names are *relative* so that a robot namespace (``/robot_1``) applies to all of them; in the root
namespace they resolve to the absolute names in the design (``scan`` → ``/scan``). The driver
topics (``scan``, ``imu``, ``joint_states``, ``cmd_vel``, ``odom``) keep the names that real ROS 2
drivers and Nav2 use so the stack runs unchanged on hardware.
"""

from __future__ import annotations

__all__ = [
    "CLOCK",
    "CLOUD_AGENT_EVENTS",
    "CLOUD_AGENT_STATUS",
    "CMD_VEL",
    "CMD_VEL_RAW",
    "DIAGNOSTICS",
    "ESTOP",
    "EXPERT_CMD_VEL",
    "GOAL_POSE",
    "IMU",
    "JOINT_COMMANDS",
    "JOINT_STATES",
    "ODOM",
    "PERCEPTION_GOAL",
    "PERCEPTION_RESET",
    "PERCEPTION_SCAN",
    "PERCEPTION_STATE",
    "POLICY_INFO",
    "RECORDER_EPISODE",
    "RECORDER_STATUS",
    "RECORDER_TRIGGER",
    "SAFETY_EVENTS",
    "SAFETY_HEARTBEAT",
    "SAFETY_RESET",
    "SAFETY_STATUS",
    "SCAN",
    "SIM_COLLISIONS",
    "SIM_GROUND_TRUTH",
    "SIM_NEW_SCENARIO",
    "SIM_RELEASE_EXPERT",
    "SIM_RESET",
    "SIM_SCENARIO",
    "TELEOP_CMD_VEL",
    "TF",
]

# --- What hardware drivers (or fw_sim standing in for them) publish --------------------------
SCAN = "scan"  #: sensor_msgs/LaserScan, frame ``laser``
IMU = "imu"  #: sensor_msgs/Imu, frame ``imu_link``
JOINT_STATES = "joint_states"  #: sensor_msgs/JointState, wheel positions (rad) and velocities
#: rosgraph_msgs/Clock. Relative on purpose: each simulated robot keeps its own clock in its
#: namespace, and its nodes remap ``/clock`` to it (see fw_bringup).
CLOCK = "clock"

# --- What hardware drivers consume -----------------------------------------------------------
JOINT_COMMANDS = "fw/joint_commands"  #: sensor_msgs/JointState with wheel velocities (rad/s)

# --- Edge loop -------------------------------------------------------------------------------
CMD_VEL = "cmd_vel"  #: geometry_msgs/TwistStamped, the only command the actuators obey
CMD_VEL_RAW = "fw/cmd_vel_raw"  #: geometry_msgs/TwistStamped from the policy (unfiltered)
TELEOP_CMD_VEL = "fw/teleop/cmd_vel"  #: geometry_msgs/TwistStamped from a person
ODOM = "odom"  #: nav_msgs/Odometry from wheel encoders
TF = "/tf"  #: tf2_msgs/TFMessage (absolute: tf is shared by the whole graph)
GOAL_POSE = "goal_pose"  #: geometry_msgs/PoseStamped in ``odom``
ESTOP = "fw/estop"  #: std_msgs/Bool, latched
SAFETY_STATUS = "fw/safety/status"  #: diagnostic_msgs/DiagnosticArray, supervisor state
SAFETY_EVENTS = "fw/safety/events"  #: diagnostic_msgs/DiagnosticStatus, one per intervention
SAFETY_RESET = "fw/safety/reset"  #: std_srvs/Trigger: clear a latched stop once its cause is gone
SAFETY_HEARTBEAT = "fw/safety/heartbeat"  #: std_msgs/Bool, the lock that must keep arriving
PERCEPTION_SCAN = "fw/perception/scan"  #: sensor_msgs/LaserScan, cleaned (REP-117), ``laser``
PERCEPTION_STATE = "fw/perception/state"  #: nav_msgs/Odometry, wheels + IMU fused, ``odom``
PERCEPTION_GOAL = "fw/perception/goal"  #: geometry_msgs/PoseStamped, the goal in ``base_link``
#: std_srvs/Trigger: restart the state estimate at the origin of ``odom`` and forget the goal
#: (a new mission episode: its recording then starts where a replay of it starts)
PERCEPTION_RESET = "fw/perception/reset"
POLICY_INFO = "fw/policy/info"  #: std_msgs/String (JSON), latched: which policy/model runs
RECORDER_TRIGGER = "fw/recorder/trigger"  #: std_srvs/Trigger: write an episode around now
#: std_srvs/SetBool: true opens an episode now (closing any open one), false closes it; the
#: answer's message is the episode's name (a mission runner records one episode per scenario)
RECORDER_EPISODE = "fw/recorder/episode"
RECORDER_STATUS = "fw/recorder/status"  #: diagnostic_msgs/DiagnosticArray, recorder counters
CLOUD_AGENT_STATUS = "fw/cloud_agent/status"  #: std_msgs/String (JSON), latched: releases, queue
CLOUD_AGENT_EVENTS = "fw/cloud_agent/events"  #: diagnostic_msgs/DiagnosticStatus, one per decision
DIAGNOSTICS = "diagnostics"  #: diagnostic_msgs/DiagnosticArray, the ROS diagnostics convention

# --- Simulation only (evaluation, never used by the robot stack) -----------------------------
SIM_GROUND_TRUTH = "fw/sim/ground_truth"  #: nav_msgs/Odometry in the world frame
SIM_COLLISIONS = "fw/sim/collisions"  #: diagnostic_msgs/DiagnosticStatus, one per contact begin
SIM_SCENARIO = "fw/sim/scenario"  #: std_msgs/String (JSON), latched: seed, goal, obstacles
SIM_RESET = "fw/sim/reset"  #: std_srvs/Trigger: put the robot back at the scenario start
SIM_NEW_SCENARIO = "fw/sim/new_scenario"  #: std_srvs/Trigger: generate the next seeded scenario
#: std_srvs/Trigger: the expert stops driving (drive/supervise) until the robot's next goal
SIM_RELEASE_EXPERT = "fw/sim/release_expert"
#: geometry_msgs/TwistStamped in ``base_link``: what the privileged expert would command now (a
#: training label), every control period, from ground truth
EXPERT_CMD_VEL = "fw/expert/cmd_vel"
