# The sensor on each channel, stored on the board (a small file on its flash;
# the simulated board's in its own folder), so the gain travels with the
# board instead of being edited into config.py. Portable MicroPython.
#
# The file holds one line per channel that has a sensor: "<channel> <name> <gain>".
# A channel with no line has no stored sensor: its gain is the firmware's
# default (config.SENSOR_GAIN), and the hello says sensor=none for it.
from micropython import const

_NAME_MAX = const(16)
_GAIN_MAX = const(100000)


def valid_name(name):
    """Sensor names: 1-16 of a-z, 0-9, '-', '_' (they travel in the hello's comma-separated list)."""
    if not 0 < len(name) <= _NAME_MAX:
        return False
    for ch in name:
        if not ("a" <= ch <= "z" or "0" <= ch <= "9" or ch in "-_"):
            return False
    return True


def parse_gain(text):
    """A gain from its text: a number from 1 to 100000, else -1."""
    try:
        gain = float(text)
    except ValueError:
        return -1
    if not 1 <= gain <= _GAIN_MAX:
        return -1
    return int(gain) if gain == int(gain) else gain


class Sensors:
    """Each channel's sensor name ("none") and gain, loaded from and saved to `path`."""

    def __init__(self, path, channels, default_gain):
        self.path = path
        self.default_gain = default_gain
        self.names = ["none"] * channels
        self.gains = [default_gain] * channels
        self.problem = ""  # why the stored file was (partly) ignored, for the hello
        self._load()

    def _load(self):
        try:
            with open(self.path) as f:
                lines = f.read().split("\n")
        except OSError:
            return  # nothing stored yet
        for line in lines:
            parts = line.split()
            if not parts:
                continue
            ok = len(parts) == 3 and parts[0].isdigit() and valid_name(parts[1]) and parse_gain(parts[2]) > 0
            if ok and int(parts[0]) < len(self.names):
                channel = int(parts[0])
                self.names[channel] = parts[1]
                self.gains[channel] = parse_gain(parts[2])
            else:
                self.problem = "ignored a line of " + self.path

    def set(self, channel, name, gain):
        """Store `name` with `gain` for `channel` ("none": forget it, back to the default gain)."""
        if name == "none":
            self.names[channel] = "none"
            self.gains[channel] = self.default_gain
        else:
            self.names[channel] = name
            self.gains[channel] = gain
        self._save()

    def _save(self):
        with open(self.path, "w") as f:
            for channel in range(len(self.names)):
                if self.names[channel] != "none":
                    f.write("%d %s %s\n" % (channel, self.names[channel], self.gains[channel]))
