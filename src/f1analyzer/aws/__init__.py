"""AWS glue: Secrets Manager keys, CloudWatch metrics, S3 sync and the API Gateway adapter.

Everything here reads its configuration from ``Settings`` (environment variables only:
``AWS_REGION``, ``F1A_AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL``, ``F1A_S3_BUCKET``,
``F1A_DYNAMODB_TABLE``, ``SECRETS_MANAGER_SECRET_ID``). Credentials come from boto3's usual chain
(the Lambda/ECS/EC2 role in AWS); nothing here stores or logs a secret value.
"""
