"""The long-running service (``dialer serve``): the dial engine for the campaigns on schedule, the
job scheduler (drop folders), and the metrics and health endpoint.
"""
