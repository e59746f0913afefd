"""Plots (matplotlib is imported only here and in flyvis.analysis.animations)."""
