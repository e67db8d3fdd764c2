"""analyze keeps numpy's large temporaries in the heap, as batch workers do: glibc's mallopt with batch's values."""

from __future__ import annotations

import ctypes
import sys

import pytest

from myotwitch import batch
from myotwitch.cli import analyze


class FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


@pytest.fixture
def libc(monkeypatch):
    fake = FakeLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: fake)
    monkeypatch.setattr(sys, "platform", "linux")
    for name in batch.WORKER_MALLOC:
        monkeypatch.delenv(name, raising=False)
    return fake


def test_the_workers_settings_are_set_through_mallopt(libc):
    analyze.keep_heap(batch.WORKER_MALLOC)
    # M_TRIM_THRESHOLD -1, M_TOP_PAD -2, M_MMAP_THRESHOLD -3 (glibc's malloc.h), with the workers' values
    assert sorted(libc.calls) == sorted([(-3, 128 << 20), (-1, 512 << 20), (-2, 64 << 20)])


def test_a_value_the_person_set_is_kept(libc, monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "4096")
    analyze.keep_heap(batch.WORKER_MALLOC)
    assert -3 not in [param for param, _ in libc.calls] and len(libc.calls) == 2


def test_nothing_without_glibc(libc, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    analyze.keep_heap(batch.WORKER_MALLOC)
    assert libc.calls == []

    def no_mallopt(name):
        raise AttributeError("mallopt")  # a C library without it (musl's ctypes lookup)

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", no_mallopt)
    analyze.keep_heap(batch.WORKER_MALLOC)  # no error


def test_analyze_sets_it(libc, tmp_path):
    from myotwitch.cli import main

    (tmp_path / "r.csv").write_text("emg_uv\n" + "".join(f"{(k * 7919) % 13 - 6}\n" for k in range(40000)))
    main(["analyze", str(tmp_path / "r.csv"), "--rate", "2000", "--format", "jsonl"])
    assert len(libc.calls) == 3


def test_a_batch_worker_leaves_its_process_as_the_pool_or_cluster_set_it(libc, tmp_path):
    (tmp_path / "r.csv").write_text("emg_uv\n" + "".join(f"{(k * 7919) % 13 - 6}\n" for k in range(40000)))
    batch.analyze_one(batch.Task(str(tmp_path / "r.csv"), 2000.0))
    assert libc.calls == []
