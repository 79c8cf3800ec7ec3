"""Commands, one module per family; `registry` says which command runs which handler."""
