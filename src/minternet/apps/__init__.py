"""Applications: programs written against :mod:`minternet.node.api` (servers, clients, tools)."""
