"""Campaigns: settings, calling rules and the store."""
