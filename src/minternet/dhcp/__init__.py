"""DHCP (RFC 2131, options RFC 2132): the message codec, the server and the client, sans-IO.

The node adapters (a server on a router interface, a client configuring a host's
interface) live in :mod:`minternet.node.dhcp`.
"""
