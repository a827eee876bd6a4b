"""The command modules ``cli.py`` registers: the only place, with ``cli.py``, that uses typer.

engine_commands.py  ``dialer run``, ``status``, ``operators``, ``export attempts``
tool_commands.py    ``dialer pbx``, ``report``, ``simulate``
support.py          what every command module shares: consoles, the store, atomic writes
demo.py             ``dialer demo``, with demo_list.py (its sample list) and dashboard.py (its view)
"""
