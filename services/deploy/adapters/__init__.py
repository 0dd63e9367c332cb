"""The deploy service's real adapters: DynamoDB claims, python-jenkins, the SQS follow scheduler."""
