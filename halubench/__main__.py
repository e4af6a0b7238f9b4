from halubench.cli import main

main()
