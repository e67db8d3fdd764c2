from myotwitch.cli import run

run()
