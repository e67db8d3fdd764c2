"""myotwitch: a surface-EMG twitch (fasciculation) monitor. It informs; it does not diagnose."""

__version__ = "0.1.0"
