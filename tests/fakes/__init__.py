"""Loopback fakes of remote services used by the tests."""
