"""The SQL the dial engine runs: claims, attempt rows, reconciliation, pacing state, nodes.

claims.py     portable lead claims (conditional UPDATE)
wal.py        SQLite: the log checkpointed by a thread of its own, off the engine's commits
recorder.py   attempt rows and their leads' dispositions
reconcile.py  end what a node left unfinished, release what it held
pace.py       the pacer's warm start and its last decision
contacts.py   a number's recent contacts, in any campaign
nodes.py      node heartbeats; taking over a silent node
ownership.py  one node dials each campaign
abandon.py    the abandon figures over the campaign's window
operators.py  who serves which queue, what they asked for; the observed states written back

Synchronous: no event loop, no terminal, no phone system.
"""
