"""The Telephony port over Asterisk's AMI (see ``dialer.ami.client``)."""

from dialer.ami.client import AmiTelephony
from dialer.ami.settings import AmiSettings, parse_ami_url

__all__ = ["AmiSettings", "AmiTelephony", "parse_ami_url"]
