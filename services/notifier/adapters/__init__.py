"""The notifier's real adapters (the ledger's DynamoDB adapter is shared: `shared.ledger.dynamodb`)."""
