"""Deploy locks: who holds a client's environment, why and until when (`models`), the port (`port`), DynamoDB."""
