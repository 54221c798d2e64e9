"""Day-two views of a deployed environment: what is running and what it costs (status), and what the next
deploy will start, stop, buy or delete (preview).

Reads only (SSM records, Bedrock Get calls); sits on top with plan and may import every room below it.
"""
