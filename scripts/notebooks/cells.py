"""Cell constructors shared by the notebook sources in this folder."""

from __future__ import annotations

import nbformat


def md(text: str):
    """A markdown cell."""
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text: str, parameters: bool = False):
    """A code cell; ``parameters=True`` tags it as the papermill-style parameters cell."""
    cell = nbformat.v4.new_code_cell(text.strip())
    if parameters:
        cell.metadata["tags"] = ["parameters"]
    return cell
