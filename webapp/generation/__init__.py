"""The domain core: lifecycle, quota, creating videos, and the background dispatch/sync/reap."""
