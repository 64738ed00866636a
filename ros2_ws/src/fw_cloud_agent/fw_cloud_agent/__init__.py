"""fw_cloud_agent: the robot's side of the cloud bridge (uploads, releases, rollback)."""
