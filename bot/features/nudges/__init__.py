"""Mandatory-course nudges: cadence (``stages``), the sweep that decides who is reminded
(``sweep``), what people can answer (``replies``, ``outcomes``), the LMS import
(``lms_import``) and the learning manager's compliance report (``report``).
The chat wiring (handlers and their registration table) lives in ``handlers``, button ids in
``actions``, the wording in ``texts``, the handlers' queries in ``store``."""

from .handlers import register

__all__ = ["register"]
