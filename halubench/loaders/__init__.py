"""Loaders turn a task's raw rows into validated ``Sample`` objects."""
