"""Video providers: the only code that talks to a provider (DESIGN.md §5)."""
