"""The Asterisk side: shipped config (``config``), finding Asterisk (``install``), the sandbox."""
