"""LLM narrators: Anthropic Claude and any OpenAI-compatible server (Ollama, vLLM, llama.cpp).

Both send the same prompt: the structured result as JSON and the sources numbered [1], [2]…,
with a system prompt that allows only the given facts and asks for [n] citations. The SDKs retry
429/5xx and connection errors themselves (``settings.llm_max_retries``); a tenacity loop adds
a few slower rounds with exponential backoff for rate limits and overloads (429, 529, 5xx).
When everything fails they raise :class:`~f1analyzer.errors.BackendUnavailableError`, and
:func:`~f1analyzer.narration.narrate_checked` falls back to the offline writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from f1analyzer.deadlines import remaining_s
from f1analyzer.errors import BackendUnavailableError, ConfigError
from f1analyzer.log import get_logger
from f1analyzer.narration.base import Narration, NarrationRequest, TokenUsage, cited_ids

log = get_logger("narration.llm")
T = TypeVar("T")

SYSTEM_PROMPT = """You are a Formula 1 race strategist explaining results to a team.
Rules:
- Use only the facts in the STRATEGY RESULT and the SOURCES. Do not add outside knowledge.
- Every number you write must appear in those facts (you may round it). Do not compute new
  statistics, invent lap numbers, times or positions.
- Cite sources with their number in square brackets, e.g. [1], right after the fact they support.
- In a strategy result, expected_position_if_classified is the average finishing position over the
  simulated races the car finishes (the headline); p_dnf is the retirement risk, apart.
  position_10th_percentile = "in 10% of races this position or better" (never "tenth place"),
  position_median the median, position_90th_percentile "in 90% of races this or better".
  p_win, p_podium are probabilities, expected_points mean points. reasons are seconds from the
  simulation (pit loss, tyre time, gaps); simulation_inputs are the numbers the simulation used:
  quote those, never other tyre or pit-loss numbers. Name rules_applied and, when
  confidence_reasons are given, say confidence is lowered and why. For a likely winner talk about
  P(win), not average places lost. Strategies are listed best first.
- field_history is what the top ten really did at this circuit in its earlier races (newest first:
  most common stop count and compound sequence, median first-stop lap; wet races marked).
  history_check compares the recommended plan with the newest dry one of the same car era: say
  in one sentence whether the plan follows the field's habit or how it differs (stops, timing
  against the first pit window, using plan_stops_minus_field_stops for the difference).
- Answer in at most 180 words of plain prose, no headings, no lists.
If the facts do not answer the question, say so briefly."""

MAX_SOURCE_CHARS = 1500


def build_prompt(request: NarrationRequest) -> str:
    """The user message: question, strategy result (JSON) and numbered sources."""
    parts = []
    if request.question:
        parts.append(f"QUESTION:\n{request.question.strip()}")
    if request.strategy_result:
        parts.append("STRATEGY RESULT (JSON):\n"
                     + json.dumps(request.strategy_result, indent=1, default=str))
    if request.sources:
        lines = []
        for n, hit in enumerate(request.sources, start=1):
            lines.append(f"[{n}] {hit.title}\n{hit.text[:MAX_SOURCE_CHARS]}")
        parts.append("SOURCES:\n" + "\n\n".join(lines))
    else:
        parts.append("SOURCES:\n(none)")
    task = ("Explain the recommended strategy and how the alternatives compare."
            if request.strategy_result else "Answer the question.")
    parts.append(f"TASK:\n{task} Cite sources as [n].")
    return "\n\n".join(parts)


def sdk_timeout_s(settings) -> float:
    """One SDK attempt never outlives the narration deadline (the guard cuts the whole call)."""
    return min(settings.llm_timeout_s, settings.llm_deadline_s)


def upstream_code(exc: BaseException) -> str:
    """A short public code for an SDK error: its class and HTTP status, never the body."""
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}, HTTP {status}" if status else type(exc).__name__


class NarrationAbandoned(Exception):
    """Raised before a request is sent once the narration's deadline has passed."""


def deadline_passed() -> bool:
    """True when the call runs under a deadline (the guard's, :mod:`f1analyzer.deadlines`)
    that has passed: nobody waits for this answer any more."""
    left = remaining_s()
    return left is not None and left <= 0


def refuse_past_deadline(request) -> None:
    """httpx request hook of the SDK clients. Why: the guard answers from the offline writer at
    its deadline but cannot stop the SDK thread, whose own retries would otherwise keep opening
    connections to a hung endpoint for minutes (and spend quota on answers nobody reads)."""
    if deadline_passed():
        raise NarrationAbandoned(f"narration deadline passed; {request.method} {request.url} not sent")


def _backoff_call(fn: Callable[[], T], *, attempts: int, backoff_s: float,
                  transient: Callable[[BaseException], bool]) -> T:
    return retry(
        # no new round once the deadline has passed (the hook refuses the requests anyway)
        retry=retry_if_exception(lambda exc: transient(exc) and not deadline_passed()),
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential(multiplier=backoff_s, max=20.0),
        reraise=True,
    )(fn)()


def _anthropic_transient(exc: BaseException) -> bool:
    import anthropic

    if isinstance(exc, (anthropic.RateLimitError, anthropic.InternalServerError,
                        anthropic.APIConnectionError)):
        return True
    if isinstance(exc, anthropic.APIStatusError):
        return exc.status_code in (429, 529) or exc.status_code >= 500
    return False


class AnthropicNarrator:
    """Claude through the official ``anthropic`` SDK.

    Args:
        api_key: ``ANTHROPIC_API_KEY``.
        model: e.g. ``claude-sonnet-4-5`` (``settings.anthropic_model``).
        base_url: API URL (``ANTHROPIC_BASE_URL``), None for the public API.
        timeout_s: per-request timeout (``settings.llm_timeout_s``).
        max_retries: SDK retries per round (``settings.llm_max_retries``).
        backoff_attempts: tenacity rounds around the SDK call (1 = SDK retries only).
        backoff_s: first tenacity wait; doubles per round.
        max_tokens: answer length cap.
    """

    name = "anthropic"

    def __init__(self, *, api_key: str, model: str, base_url: str | None = None,
                 timeout_s: float = 30.0, max_retries: int = 3, backoff_attempts: int = 2,
                 backoff_s: float = 2.0, max_tokens: int = 600):
        if not api_key:
            raise ConfigError("The Anthropic narrator needs ANTHROPIC_API_KEY.")
        import anthropic

        self.model = model
        self.endpoint = base_url
        self.backoff_attempts = backoff_attempts
        self.backoff_s = backoff_s
        self.max_tokens = max_tokens
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries,
            http_client=anthropic.DefaultHttpxClient(event_hooks={"request": [refuse_past_deadline]}))

    @classmethod
    def from_settings(cls, settings, **overrides) -> "AnthropicNarrator":
        kwargs = dict(api_key=settings.secret("anthropic_api_key") or "", model=settings.anthropic_model,
                      base_url=settings.anthropic_base_url, timeout_s=sdk_timeout_s(settings),
                      max_retries=settings.llm_max_retries)
        kwargs.update(overrides)
        return cls(**kwargs)

    def narrate(self, request: NarrationRequest) -> Narration:
        prompt = build_prompt(request)

        def call():
            return self._client.messages.create(
                model=self.model, max_tokens=self.max_tokens, system=SYSTEM_PROMPT,
                messages=[{"role": "user", "content": prompt}],
            )

        import anthropic

        try:
            message = _backoff_call(call, attempts=self.backoff_attempts,
                                    backoff_s=self.backoff_s, transient=_anthropic_transient)
        except anthropic.AnthropicError as exc:  # every API failure is "provider unavailable"
            # the upstream body stays in the log; answers carry only a short code
            log.warning("Anthropic narration failed: %s: %s", type(exc).__name__, exc)
            raise BackendUnavailableError(
                f"Anthropic request failed ({upstream_code(exc)})",
                details={"provider": self.name}) from exc
        text = "".join(getattr(block, "text", "") for block in message.content
                       if getattr(block, "type", "") == "text").strip()
        if not text:
            raise BackendUnavailableError("Anthropic returned no text.",
                                          details={"provider": self.name})
        usage = TokenUsage(input_tokens=int(message.usage.input_tokens or 0),
                           output_tokens=int(message.usage.output_tokens or 0))
        return Narration(text=text, provider=self.name,
                         cited_source_ids=cited_ids(text, request.sources), usage=usage,
                         model=getattr(message, "model", None) or self.model)


def _openai_transient(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, (openai.RateLimitError, openai.InternalServerError,
                        openai.APIConnectionError)):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


class OpenAICompatibleNarrator:
    """Any OpenAI-compatible chat endpoint via the ``openai`` SDK with ``base_url``.

    Works with Ollama (``http://localhost:11434/v1``), vLLM and llama.cpp's server. Local
    servers ignore the API key; a placeholder is sent when none is set.
    """

    name = "openai"

    def __init__(self, *, base_url: str | None, model: str, api_key: str | None = None,
                 timeout_s: float = 30.0, max_retries: int = 3, backoff_attempts: int = 2,
                 backoff_s: float = 2.0, max_tokens: int = 600):
        import openai

        self.model = model
        self.endpoint = base_url
        self.backoff_attempts = backoff_attempts
        self.backoff_s = backoff_s
        self.max_tokens = max_tokens
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=max_retries,
            http_client=openai.DefaultHttpxClient(event_hooks={"request": [refuse_past_deadline]}))

    @classmethod
    def from_settings(cls, settings, **overrides) -> "OpenAICompatibleNarrator":
        kwargs = dict(base_url=settings.openai_base_url, model=settings.openai_model,
                      api_key=settings.secret("openai_api_key"), timeout_s=sdk_timeout_s(settings),
                      max_retries=settings.llm_max_retries)
        kwargs.update(overrides)
        return cls(**kwargs)

    def narrate(self, request: NarrationRequest) -> Narration:
        messages = [{"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": build_prompt(request)}]

        def call():
            return self._client.chat.completions.create(
                model=self.model, messages=messages, temperature=0.2,
                max_tokens=self.max_tokens)

        import openai

        try:
            completion = _backoff_call(call, attempts=self.backoff_attempts,
                                       backoff_s=self.backoff_s, transient=_openai_transient)
        except openai.OpenAIError as exc:
            log.warning("OpenAI-compatible narration failed: %s: %s", type(exc).__name__, exc)
            raise BackendUnavailableError(
                f"OpenAI-compatible request failed ({upstream_code(exc)})",
                details={"provider": self.name}) from exc
        text = ""
        if completion.choices:
            text = (completion.choices[0].message.content or "").strip()
        if not text:
            raise BackendUnavailableError("The OpenAI-compatible server returned no text.",
                                          details={"provider": self.name})
        usage = TokenUsage()
        if completion.usage is not None:
            usage = TokenUsage(input_tokens=int(completion.usage.prompt_tokens or 0),
                               output_tokens=int(completion.usage.completion_tokens or 0))
        return Narration(text=text, provider=self.name,
                         cited_source_ids=cited_ids(text, request.sources), usage=usage,
                         model=completion.model or self.model)
