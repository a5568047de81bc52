"""The session cache asks identity once per session however many of its requests arrive together
on a cold cache (issue 16: a burst on one token sent ~1,000 get_session calls)."""
import threading
import time

import pytest

from gateway.sessions import SessionCache

SESSION = {"email": "a@my-company.example", "user": {"email": "a@my-company.example"},
           "expires_at": "2099-01-01T00:00:00+00:00"}


def burst(cache: SessionCache, n: int = 30) -> list:
    answers: list = []
    start = threading.Barrier(n)

    def one() -> None:
        start.wait()
        try:
            answers.append(cache.get("sid"))
        except Exception as exc:  # noqa: BLE001 - collected, asserted on
            answers.append(exc)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return answers


def slow(answer, calls: list, fail_first: bool = False):
    def fetch(session_id: str):
        calls.append(session_id)
        time.sleep(0.2)
        if fail_first and len(calls) == 1:
            raise TimeoutError("identity did not answer")
        return None if answer is None else dict(answer)
    return fetch


@pytest.mark.parametrize("answer", [SESSION, None], ids=["known", "unknown"])
def test_a_burst_on_one_session_asks_identity_once(answer):
    calls: list = []
    cache = SessionCache(slow(answer, calls))
    cache.trusted = True
    answers = burst(cache)
    assert len(calls) == 1
    assert len(answers) == 30 and all((a or {}).get("email") == (answer or {}).get("email") for a in answers)


def test_when_the_first_question_fails_the_others_ask_themselves():
    calls: list = []
    cache = SessionCache(slow(SESSION, calls, fail_first=True))
    cache.trusted = True
    answers = burst(cache, 10)
    assert sum(isinstance(a, TimeoutError) for a in answers) == 1  # only the one that asked sees its failure
    assert sum(isinstance(a, dict) for a in answers) == 9
    assert 2 <= len(calls) <= 10


def test_an_untrusted_cache_still_answers_everyone():
    calls: list = []
    cache = SessionCache(slow(SESSION, calls))  # listener not connected: answers are not kept
    answers = burst(cache, 10)
    assert all(isinstance(a, dict) for a in answers)
    assert len(calls) >= 2  # each waiting request asked for itself after the first answer
