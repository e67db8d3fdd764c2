# Settings for your build, copied to the board with main.py.
#
# The sensor (hence its gain, electrodes to ADC pin, so the host can report
# µV) is set over the wire, not here: `myotwitch flash --sensor myoware2` or
# `myotwitch live --sensor ...` stores it on the board (sensors.txt), and the
# hello reports it. SENSOR_GAIN is only the gain of a channel with no stored
# sensor, and the hello then says sensor=none so the host warns that µV are a
# guess. It is the headline build's: a Pico with a MyoWare 2.0 on its RAW
# output (gain 200). Published gains (host/myotwitch/sensors.py cites them):
#   MyoWare 2.0, RAW output ........................ 200
#   DFRobot / OYMotion analog EMG (SEN0240) ....... 1000
#   Upside Down Labs Muscle BioAmp Candy/BisCute .. 2420
SENSOR_GAIN = 200

# Channels: 1 to 3 on the Pico (GP26, GP27, GP28), 1 to 4 on the ESP32
# (GPIO34, 35, 32, 33). Each channel samples at the rate asked (RATE).
CHANNELS = 1

# WATCHDOG_MS > 0 restarts a firmware that stops running its main loop for
# that long (rp2: at most 8388 ms). Off by default: once started by the first
# START it cannot be stopped, so leaving the board at the REPL (mpremote)
# would reset it. The host sees a restart as a new hello and a gap.
WATCHDOG_MS = 0
