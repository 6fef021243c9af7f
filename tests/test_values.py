"""@value behaves as @dataclass(frozen=True) does, its methods compiled on first call."""

from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError, asdict, dataclass, field, fields, replace

import pytest

from esc_cli.domain.model import Case, Event
from esc_cli.domain.values import replace as replace_value
from esc_cli.domain.values import value


def _pair():
    """The same class body as a @value and as a frozen dataclass."""

    @value
    class Lazy:
        """a value"""

        name: str
        size: int = 1
        tags: tuple[str, ...] = ()
        notes: list = field(default_factory=list, compare=False)

        def label(self) -> str:
            return f"{self.name}:{self.size}"

    @dataclass(frozen=True)
    class Eager:
        """a value"""

        name: str
        size: int = 1
        tags: tuple[str, ...] = ()
        notes: list = field(default_factory=list, compare=False)

    return Lazy, Eager


def test_fields_exist_before_any_method_is_compiled():
    Lazy, Eager = _pair()
    assert [(f.name, f.default, f.compare) for f in fields(Lazy)] == \
        [(f.name, f.default, f.compare) for f in fields(Eager)]
    assert Lazy.__match_args__ == Eager.__match_args__ == ("name", "size", "tags", "notes")
    stand_ins = {name: Lazy.__dict__[name] for name in ("__init__", "__repr__", "__eq__", "__hash__")}
    made = Lazy("a")
    calls = {"__init__": lambda: None, "__repr__": lambda: repr(made),
             "__eq__": lambda: made == made, "__hash__": lambda: hash(made)}
    names = list(stand_ins)
    for position, name in enumerate(names):
        calls[name]()  # the first call puts @dataclass's own method in place, that one only
        compiled = Lazy.__dict__[name]
        assert compiled is not stand_ins[name]
        assert compiled.__code__.co_varnames == Eager.__dict__[name].__code__.co_varnames
        assert all(Lazy.__dict__[later] is stand_ins[later] for later in names[position + 1:])


@pytest.mark.parametrize("first", ["init", "repr", "eq", "hash"])
def test_behaves_as_a_frozen_dataclass_whichever_method_comes_first(first):
    Lazy, Eager = _pair()
    lazy = object.__new__(Lazy)  # built without __init__, as model.filled builds values
    lazy.__dict__.update(name="a", size=2, tags=("x",), notes=[])
    eager = Eager("a", 2, ("x",))
    if first == "init":
        assert Lazy("a", 2, ("x",)) == lazy
    elif first == "repr":
        assert repr(lazy) == repr(eager).replace("Eager", "Lazy")
    elif first == "eq":
        assert lazy == Lazy("a", size=2, tags=("x",))
    else:
        assert hash(lazy) == hash(eager)
    made = Lazy("a", 2, ("x",), notes=["ignored by eq and hash"])
    assert made == lazy and hash(made) == hash(lazy) and made.label() == "a:2"
    assert made != Lazy("b", 2, ("x",)) and made != eager  # another class is never equal
    assert repr(made) == ("_pair.<locals>.Lazy(name='a', size=2, tags=('x',), "
                          "notes=['ignored by eq and hash'])")
    assert Lazy("z").notes is not Lazy("z").notes  # a fresh default from the factory
    with pytest.raises(TypeError):
        Lazy()  # a required field stays required
    with pytest.raises(TypeError):
        Lazy("a", bogus=1)


def test_frozen_from_the_start():
    Lazy, _ = _pair()
    lazy = Lazy("a")
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'size'"):
        lazy.size = 3
    with pytest.raises(FrozenInstanceError):
        lazy.other = 3
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'name'"):
        del lazy.name
    untouched = _pair()[0]
    instance = object.__new__(untouched)
    with pytest.raises(FrozenInstanceError):  # before any method was compiled
        instance.name = "x"


def test_replace_asdict_copy_and_pickle():
    Lazy, _ = _pair()
    lazy = Lazy("a", 2)
    assert replace(lazy, size=5) == Lazy("a", 5)
    assert asdict(lazy) == {"name": "a", "size": 2, "tags": (), "notes": []}
    assert copy.deepcopy(lazy) == lazy and copy.copy(lazy) == lazy


def test_esc_values_round_trip():
    event = Event(at=1, actor="amy", kind="note", reason="hi")
    assert pickle.loads(pickle.dumps(event)) == event
    assert hash(event) == hash(Event(1, "amy", "note", reason="hi"))
    case = Case(id=1, title="t", customer="c", priority="high", category="other",
                channel="email", opened_at=0, policy_version=1)
    assert replace(case, tier=2).tier == 2 and case.tier == 1
    assert case.extra == {} and case.extra is not replace(case, extra={}).extra
    assert Case(**{f.name: getattr(case, f.name) for f in fields(Case) if f.name != "extra"}) == case


def test_replace_without_init_matches_dataclasses_replace():
    case = Case(id=1, title="t", customer="c", priority="high", category="other",
                channel="email", opened_at=0, policy_version=1, tags=("a",))
    for changes in ({}, {"tier": 2, "owner": "bob"}, {"state": "open", "extra": {"k": 1}}):
        mine, theirs = replace_value(case, **changes), replace(case, **changes)
        assert mine == theirs and type(mine) is Case and mine is not case
        assert {f.name: getattr(mine, f.name) for f in fields(Case)} == \
            {f.name: getattr(theirs, f.name) for f in fields(Case)}
    assert case.tier == 1 and case.owner is None  # the original is untouched
    with pytest.raises(FrozenInstanceError):
        replace_value(case, tier=3).tier = 4
    with pytest.raises(TypeError, match="no field 'colour'"):
        replace_value(case, colour="red")
    event = Event(1, "amy", "note")
    assert replace_value(event, reason="x") == Event(1, "amy", "note", reason="x")
