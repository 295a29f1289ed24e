"""Temperatures from thermal zones and hwmon sensors under ``/sys/class``, when present."""

from __future__ import annotations

from pathlib import Path

from pipeline.agent.collectors.base import (
    MAX_INSTANCES,
    Collector,
    instance_name,
    read_number,
    read_text,
)


class TemperatureCollector(Collector):
    """``temp.<sensor>.celsius`` for each thermal zone and hwmon input (VMs usually have none)."""

    name = "temp"

    def collect(self, now_s: float) -> dict[str, float]:
        """Current temperatures in degrees Celsius."""
        readings: dict[str, float] = {}
        for zone in _sorted_glob(self.sys_root / "class" / "thermal", "thermal_zone*"):
            kind = (read_text(zone / "type") or zone.name).strip()
            _add(readings, kind, read_number(zone / "temp"))
        for chip in _sorted_glob(self.sys_root / "class" / "hwmon", "hwmon*"):
            chip_name = (read_text(chip / "name") or chip.name).strip()
            for sensor in _sorted_glob(chip, "temp*_input"):
                label_file = chip / sensor.name.replace("_input", "_label")
                label = (read_text(label_file) or sensor.name.removesuffix("_input")).strip()
                _add(readings, f"{chip_name}_{label}", read_number(sensor))
        kept = list(readings.items())[:MAX_INSTANCES]
        return {f"temp.{name}.celsius": value for name, value in kept}


def _add(readings: dict[str, float], raw_name: str, millidegrees: float | None) -> None:
    if millidegrees is None:
        return
    name = instance_name(raw_name)
    unique, n = name, 1
    while unique in readings:  # several zones often share a type (acpitz, acpitz)
        unique, n = f"{name}_{n}", n + 1
    readings[unique] = millidegrees / 1000.0


def _sorted_glob(directory: Path, pattern: str) -> list[Path]:
    """Sorted matches so names stay stable across rounds; a missing directory matches nothing."""
    return sorted(directory.glob(pattern))
