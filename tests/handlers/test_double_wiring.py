"""The Bedrock double, not moto, answers Bedrock calls even inside mock_aws (else tests would prove nothing)."""


def test_bedrock_calls_reach_the_double_under_mock_aws(clients, bedrock_double):
    # When
    clients.bedrock.list_custom_models()
    # Then
    assert [c.operation_name for c in bedrock_double.calls] == ["ListCustomModels"]
