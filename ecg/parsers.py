"""The JSON parser of every DRF view: DRF's, plus limits so that no JSON body can cause a 500.

- Nesting: Python's decoder recurses per level, so ``[[[[...`` 100,000 deep raised ``RecursionError``
  (a 500). Bodies nested deeper than ``MAX_JSON_DEPTH`` (64; real scenarios nest a few levels) are refused
  with 400 ``JSON_TOO_DEEP`` before anything walks them recursively (serializers, deepcopy, the database).
- Size: bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (``ECG_MAX_JSON_BODY_BYTES``) are 413
  ``PAYLOAD_TOO_LARGE`` (``ecg.exceptions`` maps Django's ``RequestDataTooBig``); the declared length is
  checked before the body is read.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers

from ecg.exceptions import ApplicationError


class JsonTooDeep(ApplicationError):
    status = 400
    code = "JSON_TOO_DEEP"


def json_depth_exceeds(value, limit: int) -> bool:
    """Whether ``value`` nests lists/dicts more than ``limit`` levels (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _too_deep() -> JsonTooDeep:
    return JsonTooDeep(message=_("The JSON body is nested more than %(limit)d levels deep.")
                       % {"limit": settings.MAX_JSON_DEPTH})


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if limit is not None and declared > limit:
                raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        if json_depth_exceeds(data, settings.MAX_JSON_DEPTH):
            raise _too_deep()
        return data
