"""The verification probe set: 100+ prompts drawn reproducibly from BFCL's categories plus edgefc's own
English/Vietnamese probes, interleaved so a short prefix still covers every category; shipped as package data."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from edgefc.export import probes
from tests.bfcl_support import real_wheel


@pytest.fixture(autouse=True)
def _bfcl_wheel() -> None:
    real_wheel()


def test_default_set_is_large_and_covers_every_category() -> None:
    drawn = probes.draw()
    assert len(drawn) >= 100 and len({p.id for p in drawn}) == len(drawn)
    bfcl = {p.category for p in drawn if p.source == "bfcl"}
    assert bfcl == set(probes.BFCL_CATEGORIES)
    assert {p.lang for p in drawn if p.source == probes.OWN_SOURCE} == {"en", "vi"}
    assert all(p.messages and p.messages[-1]["role"] == "user" for p in drawn)
    assert all(p.tools and p.tools[0]["type"] == "function" for p in drawn)


def test_same_seed_same_ids_and_a_prefix_covers_categories() -> None:
    ids = [p.id for p in probes.draw()]
    assert ids == [p.id for p in probes.draw()]
    assert ids != [p.id for p in probes.draw(seed=1)]
    assert [p.id for p in probes.draw(10)] == ids[:10]
    first = probes.draw(len(probes.BFCL_CATEGORIES) + 1)
    assert {p.category for p in first if p.source == "bfcl"} == set(probes.BFCL_CATEGORIES)


def test_prompts_over_the_cap_are_skipped_deterministically() -> None:
    size = lambda p: len(str(p.messages)) + len(str(p.tools))  # noqa: E731
    short = probes.draw(fits=lambda p: size(p) < 3000)
    assert short and all(size(p) < 3000 for p in short)
    assert [p.id for p in short] == [p.id for p in probes.draw(fits=lambda p: size(p) < 3000)]
    assert len(short) >= 100 - probes.BFCL_PER_CATEGORY  # only a long category can run short


def test_probes_ship_as_package_data() -> None:
    """A non-editable install carries probes.json: pyproject declares it and it is read as a resource."""
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "probes.json" in pyproject["tool"]["setuptools"]["package-data"]["edgefc.export"]
    text = resources.files("edgefc.export").joinpath("probes.json").read_text(encoding="utf-8")
    assert '"vi-irrelevant"' in text and len(probes.own_probes()) == 10
