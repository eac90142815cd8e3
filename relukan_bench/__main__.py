"""`python -m relukan_bench` runs the command-line interface."""

from relukan_bench.cli import main

if __name__ == "__main__":
    main()
