# SPDX-License-Identifier: BSD-3-Clause
"""The public API is documented and typed, and docs/python.md's reference
is the one generated from the docstrings."""
from __future__ import annotations

import dataclasses
import enum
import inspect
import sys

import pytest

import tmsfield as tf
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bindings" / "python"))
import gendoc  # noqa: E402


def _public_members(cls: type):
    for k, v in cls.__dict__.items():
        if k.startswith("_") and k != "__init__":
            continue
        yield k, v


def test_every_public_name_documented_and_typed() -> None:
    missing = []
    for name in tf.__all__:
        obj = getattr(tf, name)
        if inspect.isfunction(obj):
            if not inspect.getdoc(obj):
                missing.append(f"{name}: docstring")
            sig = inspect.signature(obj)
            if sig.return_annotation is sig.empty:
                missing.append(f"{name}: return type")
            for p in sig.parameters.values():
                if p.annotation is p.empty:
                    missing.append(f"{name}({p.name}): type")
        elif inspect.isclass(obj):
            if not inspect.getdoc(obj):
                missing.append(f"{name}: docstring")
            if issubclass(obj, enum.Enum) or dataclasses.is_dataclass(obj):
                continue
            for k, v in _public_members(obj):
                fn = v.fget if isinstance(v, property) else getattr(v, "__func__", v)
                if not callable(fn):
                    continue
                if k != "__init__" and not inspect.getdoc(fn):
                    missing.append(f"{name}.{k}: docstring")
                sig = inspect.signature(fn)
                if sig.return_annotation is sig.empty and k != "__init__":
                    missing.append(f"{name}.{k}: return type")
                for p in list(sig.parameters.values())[1:]:
                    if p.annotation is p.empty:
                        missing.append(f"{name}.{k}({p.name}): type")
    assert not missing, "undocumented or untyped: " + ", ".join(missing)


def test_docs_reference_is_current() -> None:
    text = (ROOT / "docs" / "python.md").read_text(encoding="utf-8")
    i, j = text.index(gendoc.BEGIN), text.index(gendoc.END)
    current = text[i + len(gendoc.BEGIN):j].strip()
    assert current == gendoc.generate().strip(), \
        "docs/python.md is stale: run PYTHONPATH=bindings/python python3 " \
        "bindings/python/gendoc.py --update docs/python.md"


def test_package_docstring_states_the_binding_choice() -> None:
    doc = tf.__doc__ or ""
    assert "ctypes" in doc and "TMSF_LIBRARY" in doc and "layout" in doc


@pytest.mark.parametrize("cls", [tf.Mesh, tf.Coil, tf.Field, tf.Simulation, tf.Placement,
                                 tf.Region, tf.Search, tf.Protocol, tf.Catalogue, tf.Casing,
                                 tf.Surface, tf.Context])
def test_handle_classes_are_context_managers(cls: type) -> None:
    assert hasattr(cls, "__enter__") and hasattr(cls, "__exit__") and hasattr(cls, "close")
