"""The write pipeline every write tool follows: plan → check → confirm → send → verify (`write.py`), with the
change model (`changes.py`), the one confirmation decision (`confirm.py`) and progress (`progress.py`)."""
