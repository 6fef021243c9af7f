"""esc's immutable value classes, made cheap to define and to build.

@value: a @dataclass(frozen=True) whose generated methods are compiled the first time
each is called. @dataclass compiles a class's __init__, __repr__, __eq__, __hash__,
__setattr__ and __delattr__ from source text as the class is defined, on every run:
about 1 ms a class and 3 ms for Case, some 10 ms of each esc command before it reads its
store (benchmarks/cpuprofile.py), while a run calls few of them: `esc note` constructs
only the event it adds and never compares, hashes or prints a value (the others are
built by `filled` and `replace` below). Here a class gets its fields when it is defined,
so dataclasses.fields, replace and asdict work at once; the first call of a generated
method compiles that one, by applying @dataclass itself to a twin class with the same
fields (frozen for __init__, which then sets fields as a frozen dataclass does), so it
is exactly the method @dataclass(frozen=True) would have made. Assignment is refused
from the start, as on a frozen dataclass.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, fields
from typing import dataclass_transform

# Each method, and the @dataclass options that generate it and as little else as they can.
_GENERATED = {
    "__init__": {"frozen": True, "repr": False, "eq": False},
    "__repr__": {"init": False, "eq": False},
    "__eq__": {"init": False, "repr": False},
    "__hash__": {"init": False, "repr": False, "unsafe_hash": True},
}


# Tells type checkers that @value classes get a frozen dataclass's __init__ and fields.
@dataclass_transform(frozen_default=True)
def value(cls):
    """Use as @value where @dataclass(frozen=True) would go (no __post_init__, no
    subclassing: esc's value classes have neither)."""
    if cls.__doc__ is None:
        # @dataclass would build one from inspect.signature, which for a class without
        # an __init__ of its own parses object's signature with tokenize (milliseconds
        # of regular expressions compiled)
        cls.__doc__ = cls.__name__
    cls = dataclass(init=False, repr=False, eq=False)(cls)  # fields only: no code compiled
    for name in _GENERATED:
        setattr(cls, name, _compiled_on_first_call(cls, name))
    cls.__setattr__ = _refuse_assignment
    cls.__delattr__ = _refuse_deletion
    return cls


def _compiled_on_first_call(cls, name: str):
    def method(self, *args, **kwargs):
        compiled = _compile(cls, name)
        setattr(cls, name, compiled)
        return compiled(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


def _compile(cls, name: str):
    specs = fields(cls)
    twin = type(
        cls.__name__,
        (),
        {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__annotations__": {spec.name: spec.type for spec in specs},
            **{spec.name: spec for spec in specs},
        },
    )
    return dataclass(**_GENERATED[name])(twin).__dict__[name]


# -- building values without their __init__ -----------------------------------------
# A frozen dataclass's __init__ sets each field through object.__setattr__; an import
# builds a Case, five Events and three clock traces per row, `overdue` or `queue --json`
# thousands of Cases, and every run parses its policy. None of these classes has a
# __post_init__, an InitVar or an init=False field, so filling in the instance's
# __dict__ makes the same object at a fraction of the cost, and a run that only reads
# or replaces values never compiles their __init__ (Case's alone: ≈ 1.7 ms).

_new_object = object.__new__


def filled(cls, values: dict):
    """An instance of the @value class `cls` holding exactly `values` (every field)."""
    instance = _new_object(cls)
    instance.__dict__.update(values)
    return instance


def replace(instance, /, **changes):
    """dataclasses.replace for @value instances: a copy of the instance's fields with
    `changes` applied, built by `filled`."""
    cls = type(instance)
    unknown = changes.keys() - cls.__dataclass_fields__.keys()
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {min(unknown)!r}")
    return filled(cls, {**instance.__dict__, **changes})


def _refuse_assignment(self, name: str, value) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_deletion(self, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")
