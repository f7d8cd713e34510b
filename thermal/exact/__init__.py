"""Exact references: the cosine series of the lumped die and of layered stacks."""
