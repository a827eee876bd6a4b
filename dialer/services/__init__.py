"""What the commands and the operator console call: one function per question or action.

operators.py        operators: add, remove, desired states
status.py           what ``dialer status`` shows
attempts_export.py  every attempt of a campaign as CSV
compliance.py       a campaign's compliance record
"""
