"""Enforcement: carrying out the rule engine's decisions through the platform backends, and
logging every step (`enforcer`), with the words of its notifications (`messages`), the apps
it closes and pauses (`apps`) and the active time it measures (`usage`)."""

from presence.enforce.enforcer import Enforcer, Timer

__all__ = ["Enforcer", "Timer"]
