"""SQLModel tables, engine and session factory, queries and migrations."""
