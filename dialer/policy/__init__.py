"""Dialing and compliance rules: pure functions of values and a clock reading, no I/O.

campaign_rules.py     a campaign's settings as one value object
gate.py               the last check before a lead is dialed
originate.py          the Originate request, with every lead value made safe
ratelimit.py          the token bucket for the originate rate
sharing.py            operators shared between campaigns
compliance_checks.py  the compliance record's figures, from attempt rows
membership.py         desired and observed queue states in, queue actions out
abandon.py            the abandon figures between store readings; AMD silence read as abandon
"""
