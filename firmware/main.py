# myotwitch firmware entry point: pick the board, run the app.
import sys


def make_board():
    if sys.platform == "rp2":
        from boards.rp2 import Board as Rp2Board

        return Rp2Board()
    if sys.platform == "esp32":
        from boards.esp32 import Board as Esp32Board

        return Esp32Board()
    from boards.sim import Board as SimBoard  # Unix port: the simulated board

    return SimBoard.from_argv(sys.argv)


def main():
    from config import WATCHDOG_MS
    from mtw_app import App, StdinCommands

    App(make_board(), sys.stdout.buffer, StdinCommands(), watchdog_ms=WATCHDOG_MS).run()


main()
