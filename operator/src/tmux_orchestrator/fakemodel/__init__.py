"""A fake model server for running the real agent CLIs without any API key (tests, demos, screen capture).

One loopback HTTP server answers the three APIs the supported CLIs speak: Anthropic Messages (Claude Code),
OpenAI Responses (Codex) and OpenAI Chat Completions (Aider), each with streaming server-sent events. What it
answers is decided per request by a script (`script.py`): a quick answer, a slow stream, a tool call that
needs the user's approval, or an error status on every try. Every request is recorded (`recording.py`) so a
test can check exactly what the agent sent.
"""
