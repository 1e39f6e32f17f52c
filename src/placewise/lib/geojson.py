"""Writing GeoJSON from stored geometry text without parsing it again (fast for many polygons)."""

from __future__ import annotations

import json
from collections.abc import Iterable

CONTENT_TYPE = "application/geo+json"


def feature_collection_text(features: Iterable[tuple[str, dict]]) -> str:
    """A FeatureCollection as text from (GeoJSON geometry text, properties) pairs."""
    parts = []
    for geometry, props in features:
        props_text = json.dumps(props, separators=(",", ":"), default=str)
        parts.append(
            f'{{"type":"Feature","geometry":{geometry or "null"},"properties":{props_text}}}'
        )
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
