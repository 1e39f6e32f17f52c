"""Getting a web worker ready to serve: load every view once, then take what was loaded out
of the garbage collector's reach.

A worker holds a few hundred thousand long-lived objects once Django, pandas, numpy,
shapely, networkx and the Placewise views are loaded. Python's full (generation 2)
collections walk all of them, which makes an occasional request pause for a couple of
hundred milliseconds. ``gc.freeze()`` moves the objects alive at start-up to a permanent
generation that collections skip; objects made while serving requests are collected as
usual. With a pre-forking server, calling this before the fork also keeps the frozen
objects' memory pages shared between workers.
"""

from __future__ import annotations

import gc


def prepare_worker() -> int:
    """Import every URL's view, collect once, and freeze what is left. Returns how many
    objects were frozen."""
    from django.urls import get_resolver

    def load(patterns) -> None:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                load(pattern.url_patterns)

    load(get_resolver().url_patterns)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
