"""The LeRobot load check: an isolated venv with the real ``lerobot`` package
(:mod:`lerobot_check.venv`) and the script it runs on an exported dataset
(``check_dataset.py``)."""
