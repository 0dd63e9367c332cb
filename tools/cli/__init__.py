"""`slashops`, the operator's command line (`main.py`): one module per verb, each with its own `--help`."""
