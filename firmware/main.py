# myotwitch firmware entry point: pick the board, run the app.
import sys


def make_board():
    if sys.platform == "rp2":
        from boards.rp2 import Board

        return Board()
    if sys.platform == "esp32":
        from boards.esp32 import Board

        return Board()
    from boards.sim import Board  # Unix port: the simulated board

    return Board.from_argv(sys.argv)


def main():
    from mtw_app import App, StdinCommands

    App(make_board(), sys.stdout.buffer, StdinCommands()).run()


main()
