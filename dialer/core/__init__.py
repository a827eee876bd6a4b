"""The core every layer shares: pure, synchronous, no I/O.

errors.py     the product's exception tree
telephony.py  the one port to a phone system, and its call and member events
attempt.py    the life of one call attempt, as a pure state machine
modes.py      the pacing modes
operators.py  an operator's desired and observed state
clock.py      clock readings as datetimes, and a periodic timer
"""
