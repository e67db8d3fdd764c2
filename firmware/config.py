# Settings for your build: edit, then copy to the board with main.py.
#
# SENSOR_GAIN is the voltage gain from the electrodes to the ADC pin, so the
# host can report µV. Published values (hardware/README.md):
#   MyoWare 2.0, RAW output ........................ 200
#   DFRobot / OYMotion analog EMG (SEN0240) ....... 1000
#   Upside Down Labs Muscle BioAmp Candy/BisCute .. 2420
SENSOR_GAIN = 1000

# WATCHDOG_MS > 0 restarts a firmware that stops running its main loop for
# that long (rp2: at most 8388 ms). Off by default: once started by the first
# START it cannot be stopped, so leaving the board at the REPL (mpremote)
# would reset it. The host sees a restart as a new hello and a gap.
WATCHDOG_MS = 0
