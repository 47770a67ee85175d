"""`python -m rolodex` is the `rolodex` command."""

from rolodex.cli import main

main()
