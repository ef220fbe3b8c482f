"""Mandatory-course nudges: cadence (``stages``), the sweep that decides who is reminded
(``sweep``), what people can answer (``replies``, ``actions``), the LMS import
(``lms_import``) and the learning manager's compliance report (``report``).
The chat wiring lives in :mod:`bot.features.nudges`."""
