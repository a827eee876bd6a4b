"""The Telephony port over Asterisk's AMI.

client.py    ``AmiTelephony``: the adapter, the one module that imports panoramisk
settings.py  ``AmiSettings`` and ``parse_ami_url``: where and how to log in
tracker.py   pure: AMI events in, the port's call and member events out
headers.py   pure: values checked before they reach an AMI header

Import the module you need; this package imports none of them, so the pure ones load alone.
"""
