"""The episode uploader (runs on the robot, no ROS): the recorder's ``ready/`` folder to the
store, resumable, verified, retried, bandwidth-capped, within a disk budget. See
:mod:`cloud_bridge.upload.uploader`."""

from cloud_bridge.upload.config import UploaderConfig
from cloud_bridge.upload.uploader import EpisodeUploader, PassResult

__all__ = ["EpisodeUploader", "PassResult", "UploaderConfig"]
