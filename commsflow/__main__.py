from commsflow.cli import run

run()
