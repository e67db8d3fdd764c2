"""Where the wheel's files come from; everything else is in pyproject.toml.

The firmware stays at the top of the repository (firmware/, the source that
`myotwitch flash` copies to boards), and the wheel carries it as the package
data myotwitch/firmware/, so an installed myotwitch runs `demo`, `live
--source sim` and `flash` without a source checkout. pyproject.toml alone
cannot say "the packages found under host/, plus firmware/ mapped in", hence
this file.
"""

from pathlib import Path

from setuptools import find_packages, setup

FIRMWARE = Path(__file__).resolve().parent / "firmware"
# firmware/ and each folder below it that holds modules (boards/, lib/, sim/), as myotwitch.firmware.*
FIRMWARE_PACKAGES = ["myotwitch.firmware"] + sorted(
    "myotwitch.firmware." + ".".join(d.relative_to(FIRMWARE).parts)
    for d in FIRMWARE.rglob("*")
    if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py"))
)

setup(
    package_dir={"": "host", "myotwitch.firmware": "firmware"},
    packages=find_packages("host") + FIRMWARE_PACKAGES,
    package_data={"myotwitch": ["data/*"], "myotwitch.web": ["static/*"]},
)
