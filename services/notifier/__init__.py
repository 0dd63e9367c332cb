"""The notifier: records every slashops event in the command ledger and reports it to the user in Slack."""
