"""The command ledger: every published command and each of its transitions, keyed on the command id."""
