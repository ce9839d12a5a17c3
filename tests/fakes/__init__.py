"""Local fake servers speaking real wire protocols, driven through the official SDKs in tests.

- :class:`FakeAnthropic` — Anthropic Messages API (``POST /v1/messages``).
- :class:`FakeOpenAI` — OpenAI chat completions (Ollama / vLLM / llama.cpp shape).
- :class:`FakePinecone` — Pinecone control plane and document data plane (2026-07 API).
- :class:`NeverAnswering` — accepts connections and never replies (a hung LLM endpoint).

Each runs a threaded HTTP server on a free 127.0.0.1 port; use it as a context manager and
point the SDK's ``base_url`` / ``host`` at ``fake.url``. Scripted failures (:class:`Fail`) and
replies (:class:`Reply`) drive retries and fallbacks; ``fake.requests`` records what was sent.
"""

from tests.fakes.llm_api import Fail, FakeAnthropic, FakeOpenAI, Reply
from tests.fakes.pinecone_api import FakePinecone, matches
from tests.fakes.server import FakeServer, Recorded, Response
from tests.fakes.silent import NeverAnswering

__all__ = ["Fail", "FakeAnthropic", "FakeOpenAI", "FakePinecone", "FakeServer", "NeverAnswering",
           "Recorded", "Reply", "Response", "matches"]
