"""Augmentations of hexagonal movies (import submodules explicitly)."""
