"""Aetherius shared kernel: domain models, settings, errors.

Everything in this package is pure (no I/O) except the CLI composition root in ``aetherius.cli``.
"""

__version__ = "0.1.0"
