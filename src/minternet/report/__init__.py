"""Renderers of a whole run: the fetch story (timeline) and its JSON summary."""
