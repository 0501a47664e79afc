"""Chat and HTTP surfaces of oncall-copilot: intake, store, worker, CLI."""
