"""Serializer fields every API payload shares, so the declared shape renders the response exactly as documented."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class IsoDateTimeField(serializers.DateTimeField):
    """ISO 8601 exactly as ``datetime.isoformat()`` writes it (``+00:00``, microseconds kept), read-only.

    DRF's own field writes ``Z``; the editor has always received ``isoformat()`` and keeps doing so.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return value.isoformat() if value else None


@extend_schema_field({"type": "string", "nullable": True})
class BlankAsNullCharField(serializers.CharField):
    """A text column stored as ``""`` when empty, on the wire as ``null``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return str(value) if value else None
