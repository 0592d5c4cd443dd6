"""Long-lived shells (ShellPool) against a real local /bin/sh."""

from __future__ import annotations

import threading
import time

import pytest

from maillab.errors import CommandTimeout
from maillab.remote.shell import ProcessChannel, ShellPool


def pool(size: int = 2, shell: str = "sh") -> ShellPool:
    return ShellPool(lambda command, timeout: ProcessChannel(shell), "local", size=size)


@pytest.fixture
def shells():
    p = pool()
    yield p
    p.close()


def test_output_is_exact_with_or_without_a_final_newline(shells):
    assert shells.run(["printf", "abc"], timeout=5).stdout == "abc"
    assert shells.run(["printf", "a\\n\\n"], timeout=5).stdout == "a\n\n"
    assert shells.run(["true"], timeout=5).stdout == ""


def test_streams_and_exit_status_are_kept_apart(shells):
    result = shells.run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=5)
    assert (result.stdout, result.stderr, result.exit_status) == ("out\n", "err\n", 3)
    assert result.command == "sh -c 'echo out; echo err >&2; exit 3'"


def test_input_reaches_the_command_byte_for_byte(shells):
    text = "l'été $HOME\n`date`\n\nlast line without newline"
    assert shells.run(["cat"], input=text.encode(), timeout=5).stdout == text


def test_a_command_reading_stdin_cannot_eat_the_next_commands(shells):
    assert shells.run(["cat"], timeout=5).stdout == ""
    assert shells.run(["echo", "next"], timeout=5).stdout == "next\n"


def test_output_that_looks_like_a_marker_is_only_output(shells):
    fake = "\nmaillab 0\n"
    result = shells.run(["printf", "%s", fake], timeout=5)
    assert result.stdout == fake and result.exit_status == 0


def test_a_hanging_command_times_out_and_the_pool_goes_on():
    p = pool(size=1)
    start = time.monotonic()
    with pytest.raises(CommandTimeout, match="`sleep 30` did not finish within 0.5 s"):
        p.run(["sleep", "30"], timeout=0.5)
    assert time.monotonic() - start < 4
    assert p.run(["echo", "encore"], timeout=5).stdout == "encore\n"
    p.close()


def test_a_shell_that_cannot_start_gives_its_error_and_is_not_reused():
    refused = "echo 'sudo: a password is required' >&2; exit 1"
    p = pool(size=1, shell=refused)
    for _ in range(2):
        result = p.run(["id"], timeout=5)
        assert result.exit_status == 1
        assert result.stderr == "sudo: a password is required\n"
    assert p.opened == 2


def test_threads_share_a_few_shells():
    p = pool(size=3)
    seen: list[tuple[int, str]] = []

    def work(n: int) -> None:
        for i in range(15):
            out = p.run(["echo", f"{n}-{i}"], timeout=5).stdout
            seen.append((n, out))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    p.close()
    assert sorted(seen) == sorted(
        (n, f"{n}-{i}\n") for n in range(8) for i in range(15)
    )
    assert 1 <= p.opened <= 3


def test_late_output_of_a_background_process_is_not_the_next_command_s(shells):
    first = shells.run(
        ["sh", "-c", "(sleep 0.5; echo LATE; echo LATEERR >&2) & echo first"],
        timeout=5,
    )
    assert first.stdout == "first\n"
    time.sleep(1)
    after = shells.run(["echo", "next"], timeout=5)
    assert (after.stdout, after.stderr) == ("next\n", "")


def test_a_long_output_comes_whole(shells):
    result = shells.run(
        ["sh", "-c", "head -c 20000000 /dev/zero | tr '\\0' y"], timeout=30
    )
    assert len(result.stdout) == 20_000_000 and set(result.stdout) == {"y"}


def test_a_closed_pool_refuses_work_instead_of_waiting():
    from maillab.remote.shell import PoolClosed

    p = pool(size=1)
    assert p.run(["echo", "x"], timeout=5).stdout == "x\n"
    p.close()
    with pytest.raises(PoolClosed, match="closed"):
        p.run(["echo", "x"], timeout=5)


def test_a_closed_pool_wakes_a_thread_waiting_for_a_shell():
    from maillab.remote.shell import PoolClosed

    p = pool(size=1)
    errors: list[BaseException] = []
    busy = threading.Thread(target=lambda: p.run(["sleep", "1"], timeout=5))
    busy.start()
    time.sleep(0.2)

    def waiter() -> None:
        try:
            p.run(["echo", "x"], timeout=5)
        except PoolClosed as exc:
            errors.append(exc)

    waiting = threading.Thread(target=waiter)
    waiting.start()
    time.sleep(0.2)
    p.close()
    waiting.join(timeout=5)
    busy.join(timeout=5)
    assert not waiting.is_alive() and len(errors) == 1


def test_a_timeout_must_be_positive(shells):
    with pytest.raises(ValueError, match="timeout must be positive"):
        shells.run(["true"], timeout=0)
