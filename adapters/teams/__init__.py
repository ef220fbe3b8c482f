"""Microsoft Teams on botbuilder-core: the only package that imports botbuilder.

botbuilder-python is in maintenance; keeping every use of it here means the adapter can be
swapped (for the Microsoft 365 Agents SDK, say) without touching the core.
"""
