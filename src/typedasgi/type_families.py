"""The families a typed handler's annotations fall into, read from msgspec's type info at registration.

A scalar (``str``, ``int``, a date, an enum...) or a list of one is a path,
query, header or cookie parameter; ``UploadFile`` (or a list of them) is a file
part; anything else msgspec decodes (a Struct, a dict) is a body. ``typedasgi.params``
asks these questions once per parameter; nothing here runs per request.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Annotated, Any

import msgspec.inspect as mi

from typedasgi.uploads import UploadFile

__all__ = ["SEQUENCES", "form_keys", "is_multi", "is_optional", "is_scalar", "takes_file", "type_info", "upload_kind"]


def type_info(annotation: Any) -> mi.Type:
    info = mi.type_info(annotation)
    while isinstance(info, mi.Metadata):
        info = info.type
    return info


SCALARS = (
    mi.StrType, mi.IntType, mi.FloatType, mi.BoolType, mi.EnumType, mi.LiteralType, mi.UUIDType,
    mi.DateTimeType, mi.DateType, mi.TimeType, mi.TimeDeltaType, mi.DecimalType, mi.NoneType, mi.AnyType,
)
SEQUENCES = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)


def is_scalar(info: mi.Type) -> bool:
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        return all(is_scalar(member) for member in info.types)
    return isinstance(info, SCALARS)


def is_multi(info: mi.Type) -> bool | None:
    """True for ``list[int]`` (and ``list[int] | None``), False for a scalar, None for neither."""
    if isinstance(info, mi.UnionType):
        members = [member for member in info.types if not isinstance(member, mi.NoneType)]
        if len(members) == 1:
            info = members[0]
            while isinstance(info, mi.Metadata):
                info = info.type
        elif is_scalar(info):
            return False
    if isinstance(info, SEQUENCES):
        return True if is_scalar(info.item_type) else None
    return False if is_scalar(info) else None


def is_optional(annotation: object) -> bool:
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


def takes_file(info: mi.Type) -> bool:
    """True for ``UploadFile``, ``UploadFile | None`` or a list of them: a type a file part may fill."""
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        return any(takes_file(member) for member in info.types)
    if isinstance(info, SEQUENCES):
        return takes_file(info.item_type)
    return isinstance(info, mi.CustomType) and issubclass(info.cls, UploadFile)


def form_keys(annotation: object) -> tuple[frozenset[str], frozenset[str] | None]:
    """How a form fills a body type: the keys that may repeat (list fields), and where a file part may not go.

    A file goes only where the type names ``UploadFile`` (the second set: the other fields; None: every
    key). An ``Any``/``object`` field would otherwise take the file, which no JSON encoder writes.
    """
    try:
        info = type_info(annotation)
    except TypeError:
        return frozenset(), None
    fields = getattr(info, "fields", None)
    if not fields:
        takes_files = isinstance(info, mi.DictType) and takes_file(info.value_type)
        return frozenset(), frozenset() if takes_files else None
    lists: set[str] = set()
    for field in fields:
        field_info = field.type
        while isinstance(field_info, mi.Metadata):
            field_info = field_info.type
        if is_multi(field_info) or isinstance(field_info, SEQUENCES):
            lists.add(field.encode_name)
    return frozenset(lists), frozenset(field.encode_name for field in fields if not takes_file(field.type))


def upload_kind(annotation: Any) -> tuple[bool, bool] | None:
    """(is a file, many) for ``UploadFile``, ``UploadFile | None``, ``list[UploadFile]``; None otherwise."""
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) != 1:
            return None
        annotation = members[0]
    many = typing.get_origin(annotation) is list
    item = typing.get_args(annotation)[0] if many else annotation
    return (True, many) if inspect.isclass(item) and issubclass(item, UploadFile) else None
