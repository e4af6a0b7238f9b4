from halubench.cli import main

# Guarded: engines that start worker processes by spawning (vLLM) re-import this module.
if __name__ == "__main__":
    main()
