"""Renderers: turn assembled content into files through the templates."""
