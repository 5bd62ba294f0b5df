"""A worker's imports are left out of the garbage collector's passes (config.heap, #18)."""

import gc
import weakref

import pytest
from celery import signals

from config.heap import heap_freeze_once


@pytest.fixture
def thawed():
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process goes on as before


def test_a_pool_process_starting_freezes_what_it_imported(thawed):
    assert gc.get_freeze_count() == 0

    signals.worker_process_init.send(sender=None)

    assert gc.get_freeze_count() > 10_000  # Django, the apps and their imports
    made = []  # what a task makes afterwards is collected as before: young, not frozen
    assert any(o is made for o in gc.get_objects(generation=0))


def test_garbage_is_collected_before_the_freeze_not_kept_for_ever(thawed):
    class Cycle:
        other: object

    a, b = Cycle(), Cycle()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b  # a cycle only the collector frees

    heap_freeze_once.cache_clear()
    heap_freeze_once("test")
    frozen = gc.get_freeze_count()
    heap_freeze_once("test")  # once per reason: nothing more frozen

    assert gone() is None
    assert gc.get_freeze_count() == frozen > 0
