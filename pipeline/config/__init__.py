"""Settings of every component, built once by the CLI and passed down; frozen after start-up.

Precedence is flag > environment > config file > default. A field's environment variable is derived
from its section and name, ``FLEETWATCH_<SECTION>_<FIELD>`` (e.g. ``FLEETWATCH_KAFKA_BOOTSTRAP``);
a config file is TOML with one table per section (``[kafka]``, ``[influx]``, ...). Each section
lives in the module of the component that reads it; this package re-exports them.
"""

from __future__ import annotations

from pipeline.config.agent import AGENT_COLLECTORS, AgentSettings
from pipeline.config.base import REMOVED, Section, env_prefix, load
from pipeline.config.control import ControlSettings
from pipeline.config.incidents import IncidentSettings
from pipeline.config.remediation import RemediationSettings
from pipeline.config.servers import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.config.stream import StreamSettings

# Every section, in the order the README's configuration table lists them.
SECTIONS: tuple[type[Section], ...] = (
    KafkaSettings,
    InfluxSettings,
    TopicSettings,
    StreamSettings,
    ControlSettings,
    IncidentSettings,
    RemediationSettings,
    AgentSettings,
)

__all__ = [
    "AGENT_COLLECTORS",
    "REMOVED",
    "SECTIONS",
    "AgentSettings",
    "ControlSettings",
    "IncidentSettings",
    "InfluxSettings",
    "KafkaSettings",
    "RemediationSettings",
    "Section",
    "StreamSettings",
    "TopicSettings",
    "env_prefix",
    "load",
]
