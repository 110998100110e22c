from commsflow.cli import main

main()
