"""Number formatting for figures: thousands separators and fixed decimals."""

from django import template

register = template.Library()


@register.filter
def intcomma_lite(value):
    try:
        return f"{int(round(float(value))):,}"
    except (TypeError, ValueError):
        return value if value not in (None, "") else "—"


@register.filter
def fixed(value, places=1):
    try:
        return f"{float(value):,.{int(places)}f}"
    except (TypeError, ValueError):
        return "—"


@register.filter
def percent(value, places=0):
    try:
        return f"{100 * float(value):.{int(places)}f}%"
    except (TypeError, ValueError):
        return "—"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
