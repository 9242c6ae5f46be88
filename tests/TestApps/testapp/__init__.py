"""WSGI test application for PyPE.Exec's functional tests and the shim self-test (see app.py)."""
