"""The lab's experiments. Each module has `run(profile, run_dir, progress=None, broker="auto") -> dict`."""
