"""Placewise: Intensive Engagement in neighbourhood policing."""

__version__ = "0.1.0"
