"""The real agent CLIs (Claude Code, Codex, Aider) as fixtures: pinned installs in the cache and prepared
homes that point each CLI at the fake model server with no first-run dialog in the way."""
