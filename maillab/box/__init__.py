"""The embedded lab box: a Debian 12 image booted by systemd-nspawn in its own netns."""

from maillab.box.machine import Box, all_boxes

__all__ = ["Box", "all_boxes"]
