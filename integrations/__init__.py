"""Adapters to the outside world: stores, carriers and ESPs. Plain values in, plain dataclasses out; no Flask, no database."""
