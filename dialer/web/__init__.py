"""The operator console: a Starlette application over ``dialer.services``.

Routes parse a request, call one service function and render a template; push events reach the
browser over Server-Sent Events from one place, ``dialer.web.events.EventHub``.
"""
