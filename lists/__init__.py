"""Lead lists: phone numbers, import, do-not-call, export."""
