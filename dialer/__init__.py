"""The dial engine: pacing, attempts, and the port to the phone system."""

__version__ = "0.1.0"
