"""The case state machine: the only code that changes a case's stage (see machine.py)."""

from collections_svc.states.machine import (
    CLOSED_STAGES,
    LADDER,
    NEEDS_APPROVAL,
    OPEN_STAGES,
    STAGES,
    TRANSITIONS,
    TRIGGERS,
    StageChange,
    allowed_triggers,
    fire,
    machine,
    register_effect,
    targets,
    unregister_effect,
)

__all__ = [
    "CLOSED_STAGES",
    "LADDER",
    "NEEDS_APPROVAL",
    "OPEN_STAGES",
    "STAGES",
    "TRANSITIONS",
    "TRIGGERS",
    "StageChange",
    "allowed_triggers",
    "fire",
    "machine",
    "register_effect",
    "targets",
    "unregister_effect",
]
