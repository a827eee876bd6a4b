"""The command modules ``cli.py`` registers: the only place, with ``cli.py``, that uses typer.

engine_commands.py  ``dialer run``, ``status``, ``operators``
tool_commands.py    ``dialer pbx``, ``report``, ``simulate``
group.py            the root group: --db on every command, every mistake as one red line
support.py          what every command module shares: consoles, the store, output rules
demo.py             ``dialer demo``, with demo_list.py (its sample list) and dashboard.py (its view)
"""
