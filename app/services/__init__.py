"""Plain service functions: they take a session (and adapters) and hold the product's logic."""
