"""On-demand workflows: one function per command, shared by the CLI and the chat handlers."""
