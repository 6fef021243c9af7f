"""esc: a terminal-first escalation manager for customer-support teams."""

__version__ = "0.1.0"
