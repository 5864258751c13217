"""schemathesis hooks for tests/api-fuzz/run.sh: the JSON error check, and font uploads sent as raw bytes."""

import schemathesis


@schemathesis.check
def error_is_json_error(ctx, response, case):
    """Every 4xx/5xx answers {"error": {"code": str, "message": str, ...}}."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    assert content_type.startswith("application/json"), (
        f"error {response.status_code} is {content_type or 'untyped'}, not the JSON error"
    )
    try:
        body = response.json()
    except ValueError as error:
        raise AssertionError(f"error {response.status_code} is not JSON: {error}") from None
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"error {response.status_code} has no `error` object: {body!r}"
    assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), (
        f"error {response.status_code} lacks `code` or `message`: {body!r}"
    )
    return None


@schemathesis.serializer("font/woff2")
def woff2(ctx, value):
    """Font uploads (`POST /api/tenants/{tenant}/fonts`): whatever was
    generated, sent as the raw body, as for application/octet-stream."""
    from schemathesis.transport.serialization import serialize_binary

    return {"data": serialize_binary(value)}
