"""The live stream (R12.1): server-sent events of a workspace's changes, across processes."""
