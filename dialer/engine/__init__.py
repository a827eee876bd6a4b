"""The dial engine: the async loop that claims, dials, connects and records.

loop.py          ``DialEngine``: ticks and the event task
settings.py      ``EngineSettings`` and ``RunReport``
campaign_run.py  what the engine keeps per campaign (pacer, rate limit, abandon figures), and
                 which campaigns this node dials
selection.py     claim, then check each lead again at dial time; a dialing cycle's store job
store_thread.py  the one thread every store call of the engine runs in, in order
writer.py        the journal, attempt ends and what a store outage kept back, via that thread
membership.py    carries out the membership plan (``dialer.policy.membership``); observed states
live.py          calls in flight, and the pure views the loop takes of them

Talks to the phone system only through ``dialer.core.telephony``; never loads the terminal.
"""
