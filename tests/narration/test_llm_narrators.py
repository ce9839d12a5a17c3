"""Anthropic and OpenAI-compatible narrators through the official SDKs against local fakes."""

from __future__ import annotations

import logging

import pytest

from f1analyzer.config import get_settings, reset_settings
from f1analyzer.narration import (
    AnthropicNarrator,
    NarrationRequest,
    OfflineWriter,
    OpenAICompatibleNarrator,
    get_narrator,
    narrate_checked,
)
from tests.fakes import Fail, FakeAnthropic, FakeOpenAI, Reply

GOOD_TEXT = ("VER should run the one-stop, Medium to Hard, pitting on lap 22 inside the lap 19–26 "
             "window; it averages P1.4 and finishes between P1 and P3 in most races. The two-stop "
             "averages P2.1, about 0.7 places worse. Both use two compounds as required [1], and a "
             "Safety Car would make a stop cheaper [2].")


def anthropic_narrator(url: str, **kw) -> AnthropicNarrator:
    kw.setdefault("max_retries", 2)
    kw.setdefault("backoff_attempts", 2)
    kw.setdefault("backoff_s", 0.01)
    kw.setdefault("timeout_s", 5.0)
    return AnthropicNarrator(api_key="sk-ant-test", model="claude-test", base_url=url, **kw)


@pytest.fixture
def request_(strategy_result, rule_hits) -> NarrationRequest:
    return NarrationRequest(strategy_result=strategy_result, sources=rule_hits)


def test_anthropic_success_records_usage_and_citations(request_, rule_hits):
    with FakeAnthropic(default=Reply(GOOD_TEXT, input_tokens=812, output_tokens=95)) as fake:
        narration = narrate_checked(request_, anthropic_narrator(fake.url))
        sent = fake.calls("/v1/messages")
    assert narration.fallback_reason is None
    assert narration.provider == "anthropic"
    assert narration.text == GOOD_TEXT
    assert narration.usage.input_tokens == 812 and narration.usage.output_tokens == 95
    assert narration.cited_source_ids == (rule_hits[0].id, rule_hits[1].id)
    assert len(sent) == 1
    body = sent[0].body
    assert body["model"] == "claude-test"
    assert "only the facts" in body["system"] and "[1]" in body["system"]
    prompt = body["messages"][0]["content"]
    assert "[1] Two-compound rule" in prompt and '"pit_laps"' in prompt
    assert FakeAnthropic.api_key(sent[0]) == "sk-ant-test"


def test_anthropic_429_then_success(request_):
    with FakeAnthropic(default=Reply(GOOD_TEXT)) as fake:
        fake.script.append(Fail(429, "rate limited"))
        narration = narrate_checked(request_, anthropic_narrator(fake.url))
        n_calls = len(fake.calls("/v1/messages"))
    assert narration.fallback_reason is None and narration.provider == "anthropic"
    assert n_calls == 2


def test_anthropic_overloaded_529_is_retried(request_):
    with FakeAnthropic(default=Reply(GOOD_TEXT)) as fake:
        fake.script.extend([Fail(529, "overloaded"), Fail(529, "overloaded")])
        narration = narrate_checked(request_, anthropic_narrator(fake.url, max_retries=1))
        n_calls = len(fake.calls("/v1/messages"))
    # the SDK round (1 try + 1 retry) fails, the tenacity round succeeds
    assert narration.fallback_reason is None
    assert n_calls == 3


def test_anthropic_500_until_retries_exhausted_falls_back_offline(request_, caplog):
    with FakeAnthropic(default=Fail(500, "boom")) as fake:
        with caplog.at_level(logging.WARNING, logger="f1analyzer"):
            narration = narrate_checked(
                request_, anthropic_narrator(fake.url, max_retries=1, backoff_attempts=2))
        n_calls = len(fake.calls("/v1/messages"))
    assert n_calls == 4  # (1 + 1 SDK retry) x 2 tenacity rounds
    assert narration.provider == "offline"
    assert narration.fallback_reason.startswith("llm_unavailable: anthropic unavailable")
    assert "InternalServerError" in narration.fallback_reason
    assert narration.text == OfflineWriter().narrate(request_).text
    assert any("fell back" in r.message for r in caplog.records)


def test_anthropic_timeout_falls_back(request_):
    with FakeAnthropic(default=Reply(GOOD_TEXT, delay_s=1.0)) as fake:
        narration = narrate_checked(request_, anthropic_narrator(
            fake.url, timeout_s=0.2, max_retries=0, backoff_attempts=1))
    assert narration.provider == "offline"
    assert "Timeout" in narration.fallback_reason


def test_anthropic_invented_number_is_rejected(request_):
    invented = GOOD_TEXT.replace("pitting on lap 22", "pitting on lap 29")
    with FakeAnthropic(default=Reply(invented)) as fake:
        narration = narrate_checked(request_, anthropic_narrator(fake.url))
    assert narration.provider == "offline"
    assert narration.fallback_reason == "unsupported numbers: 29"
    # the tokens spent on the rejected answer are still reported
    assert narration.usage.input_tokens == 120


def test_anthropic_citation_without_source_is_rejected(request_):
    with FakeAnthropic(default=Reply(GOOD_TEXT + " See also [7].")) as fake:
        narration = narrate_checked(request_, anthropic_narrator(fake.url))
    assert narration.provider == "offline"
    assert narration.fallback_reason == "citations without a source: [7]"


def test_anthropic_bad_key_falls_back_without_retrying(request_):
    with FakeAnthropic() as fake:
        narrator = AnthropicNarrator(api_key="sk-ant-test", model="m", base_url=fake.url,
                                     backoff_attempts=3, backoff_s=0.01)
        fake.script.append(Fail(401, "invalid x-api-key", retry_after_ms=None))
        narration = narrate_checked(request_, narrator)
        n_calls = len(fake.calls("/v1/messages"))
    assert narration.provider == "offline" and "AuthenticationError" in narration.fallback_reason
    assert n_calls == 1


def test_narrator_from_settings_uses_base_url_and_auto_provider(monkeypatch, request_):
    with FakeAnthropic(default=Reply(GOOD_TEXT)) as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("F1A_ANTHROPIC_MODEL", "claude-from-env")
        reset_settings()
        narrator = get_narrator()
        assert isinstance(narrator, AnthropicNarrator)
        narration = narrate_checked(request_)  # default narrator from settings
        sent = fake.calls("/v1/messages")
    assert narration.provider == "anthropic" and narration.model == "claude-from-env"
    assert FakeAnthropic.api_key(sent[0]) == "sk-ant-env"


def test_auto_provider_without_key_is_offline(request_):
    assert get_settings().anthropic_api_key is None
    assert isinstance(get_narrator(), OfflineWriter)
    narration = narrate_checked(request_)
    assert narration.provider == "offline" and narration.fallback_reason is None


# --- OpenAI-compatible ------------------------------------------------------------------------
def openai_narrator(url: str, **kw) -> OpenAICompatibleNarrator:
    kw.setdefault("max_retries", 1)
    kw.setdefault("backoff_attempts", 2)
    kw.setdefault("backoff_s", 0.01)
    return OpenAICompatibleNarrator(base_url=url + "/v1", model="llama3.1", **kw)


def test_openai_compatible_success(request_, rule_hits):
    with FakeOpenAI(default=Reply(GOOD_TEXT, input_tokens=700, output_tokens=80)) as fake:
        narration = narrate_checked(request_, openai_narrator(fake.url))
        sent = fake.calls("/v1/chat/completions")
    assert narration.provider == "openai" and narration.fallback_reason is None
    assert narration.usage.input_tokens == 700 and narration.usage.output_tokens == 80
    assert narration.cited_source_ids == (rule_hits[0].id, rule_hits[1].id)
    messages = sent[0].body["messages"]
    assert messages[0]["role"] == "system" and "[n]" in messages[1]["content"]


def test_openai_compatible_server_errors_fall_back(request_):
    with FakeOpenAI(default=Fail(503, "loading model")) as fake:
        narration = narrate_checked(request_, openai_narrator(fake.url))
        n_calls = len(fake.calls("/v1/chat/completions"))
    assert narration.provider == "offline"
    assert narration.fallback_reason.startswith("llm_unavailable: openai unavailable")
    assert n_calls == 4


def test_openai_compatible_question_answer(rule_hits):
    question = NarrationRequest(question="Why pit under a Safety Car?", sources=rule_hits)
    answer = ("Because the field is slow behind the Safety Car, the pit loss falls to about half, "
              "from roughly 20–25 s to 10–13 s [2].")
    with FakeOpenAI(default=Reply(answer)) as fake:
        narration = narrate_checked(question, openai_narrator(fake.url))
    assert narration.fallback_reason is None
    assert narration.cited_source_ids == ("rule:safety-car-pit-loss",)


def test_cached_narration_calls_the_llm_once_and_keeps_fallbacks_briefly(request_, monkeypatch):
    from f1analyzer.backends.cache import MemoryCache
    from f1analyzer.narration import _request_key, cached_narration

    cache = MemoryCache()
    with FakeAnthropic(default=Reply(GOOD_TEXT)) as fake:
        narrator = anthropic_narrator(fake.url)
        first = cached_narration(request_, cache, narrator)
        second = cached_narration(request_, cache, narrator)
        assert len(fake.calls("/v1/messages")) == 1
    assert first == second and first.provider == "anthropic"

    with FakeAnthropic(default=Fail(500)) as failing:
        narrator = anthropic_narrator(failing.url, max_retries=0, backoff_attempts=1)
        other = NarrationRequest(question="Why pit early?", sources=request_.sources)
        first = cached_narration(other, cache, narrator)
        again = cached_narration(other, cache, narrator)
        # the fallback is reused for llm_fallback_cache_s (not for the cache's long TTL)
        assert len(failing.calls("/v1/messages")) == 1
        assert again == first and first.provider == "offline"
        assert cache.get(_request_key(other, narrator)) is None

    monkeypatch.setenv("F1A_LLM_FALLBACK_CACHE_S", "0")
    reset_settings()
    with FakeAnthropic(default=Fail(500)) as failing:
        narrator = anthropic_narrator(failing.url, max_retries=0, backoff_attempts=1)
        cached_narration(other, cache, narrator)
        cached_narration(other, cache, narrator)
        assert len(failing.calls("/v1/messages")) == 2  # no reuse when the setting is 0
