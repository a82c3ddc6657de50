"""`@tool(...)`: a tool's annotations and title, declared on the function itself.

A vendor's tools are the decorated methods of one small object that holds what they share (the client, the
secure forms); `declared_tools(obj)` lists them in the order they are defined.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType
from typing import Any, TypeVar

from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict

__all__ = ["DeferredModel", "ToolDeclaration", "declared_tools", "tool"]

F = TypeVar("F", bound=Callable[..., Any])
_ATTRIBUTE = "__integrations_tool__"


@dataclass(frozen=True)
class ToolDeclaration:
    annotations: ToolAnnotations
    title: str


class DeferredModel(BaseModel):
    """The base of the models tools return and the vendor records they read: pydantic builds a model's validator and
    serializer when it is first used, not when its module is imported. A start answers tools/list from the shipped
    schemas (`sdk_tools`) and uses none of them; building ~40 of them took ~10 ms of every start (cold start)."""

    model_config = ConfigDict(defer_build=True)


def tool(annotations: ToolAnnotations, *, title: str) -> Callable[[F], F]:
    """Mark a function as a tool named after it; its docstring becomes the description."""

    def mark(fn: F) -> F:
        setattr(fn, _ATTRIBUTE, ToolDeclaration(annotations, title))
        return fn

    return mark


def declared_tools(obj: object) -> list[tuple[Callable[..., Any], ToolDeclaration]]:
    """The decorated methods of `obj`, bound, with their declarations, in definition order."""
    found = []
    for klass in reversed(type(obj).__mro__):
        for name, member in vars(klass).items():
            declaration = getattr(member, _ATTRIBUTE, None) if isinstance(member, FunctionType) else None
            if isinstance(declaration, ToolDeclaration) and all(name != f.__name__ for f, _ in found):
                found.append((getattr(obj, name), declaration))
    return found
