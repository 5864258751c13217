#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora and the key set the token target
verifies with. Run from the repository root: `python3 fuzz/make_seeds.py`.

Seeds are real inputs of each entry point: tokens signed for every shared
verifier case (verifier/tests/cases.json), the key sets the verifier tests
build, the preset themes as the admin API receives them (JSON), the texts of
the shipped Fluent files as uploads, a few SVG logos and signed Standard
Webhooks deliveries. Keys are generated afresh on every run, so re-running
rewrites every token seed and fuzz/fixtures/jwks.json together. Needs Python 3.11 and `cryptography`.
"""

import base64
import hashlib
import hmac
import json
import pathlib
import re
import tomllib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ROOT = pathlib.Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
CORPUS = FUZZ / "corpus"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(number: int, length: int) -> bytes:
    return number.to_bytes(length, "big")


def write(target: str, name: str, content) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    data = content if isinstance(content, bytes) else content.encode()
    (folder / name).write_bytes(data)


# --- keys and the key set the compact_token target verifies with -----------

KEYS = {
    "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "p256": ec.generate_private_key(ec.SECP256R1()),
    "p384": ec.generate_private_key(ec.SECP384R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate(),
}


def public_jwk(kid: str) -> dict:
    key = KEYS[kid]
    if kid == "rsa":
        numbers = key.public_key().public_numbers()
        return {"kty": "RSA", "kid": kid, "n": b64(uint(numbers.n, 256)), "e": b64(uint(numbers.e, 3))}
    if kid in ("p256", "p384"):
        size = 32 if kid == "p256" else 48
        numbers = key.public_key().public_numbers()
        curve = "P-256" if kid == "p256" else "P-384"
        return {"kty": "EC", "crv": curve, "kid": kid, "x": b64(uint(numbers.x, size)), "y": b64(uint(numbers.y, size))}
    raw = key.public_key().public_bytes_raw()
    return {"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(raw)}


JWKS = {"keys": [public_jwk(kid) for kid in KEYS]}
(FUZZ / "fixtures").mkdir(exist_ok=True)
(FUZZ / "fixtures" / "jwks.json").write_text(json.dumps(JWKS, indent=1) + "\n")


def sign(alg: str, message: bytes) -> bytes:
    hash_of = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
    if alg.startswith("RS"):
        return KEYS["rsa"].sign(message, padding.PKCS1v15(), hash_of[alg[2:]])
    if alg.startswith("PS"):
        algorithm = hash_of[alg[2:]]
        pss = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
        return KEYS["rsa"].sign(message, pss, algorithm)
    if alg.startswith("ES"):
        key, size = (KEYS["p256"], 32) if alg == "ES256" else (KEYS["p384"], 48)
        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hash_of[alg[2:]])))
        return uint(r, size) + uint(s, size)
    return KEYS["ed25519"].sign(message)


# --- compact_token: every shared verifier case, signed ----------------------

cases = json.loads((ROOT / "verifier/tests/cases.json").read_text())
for number, case in enumerate(cases["cases"]):
    signing_input = f"{b64(json.dumps(case['header']).encode())}.{b64(json.dumps(case['claims']).encode())}"
    token = f"{signing_input}.{b64(sign(case['alg'], signing_input.encode()))}"
    slug = "".join(c if c.isalnum() else "-" for c in case["name"].lower())
    write("compact_token", f"{number:02}-{slug}.jwt", token)

# --- jwks: the key sets the verifier tests build ----------------------------

write("jwks", "four-keys.json", json.dumps(JWKS))
for jwk in JWKS["keys"]:
    write("jwks", f"one-{jwk['kid']}.json", json.dumps({"keys": [jwk]}))
restricted = dict(JWKS["keys"][1], use="sig", alg="ES256", key_ops=["verify"])
write("jwks", "restricted.json", json.dumps({"keys": [restricted]}))
write("jwks", "duplicate-kid.json", json.dumps({"keys": [JWKS["keys"][1], dict(JWKS["keys"][2], kid="p256")]}))
write("jwks", "skipped.json", json.dumps({"keys": [
    {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
    {"kty": "RSA", "kid": "short", "e": "AQAB", "n": b64(bytes([0xC3]) * 128)},
    {"kty": "EC", "crv": "secp256k1", "kid": "k1", "x": b64(bytes([1]) * 32), "y": b64(bytes([2]) * 32)},
]}))
write("jwks", "empty.json", '{"keys": []}')

# --- theme: the preset themes as the admin API receives them ----------------

SVG_LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32">'
    '<title>Shop</title><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
    '<stop offset="0" stop-color="#1d4ed8"/><stop offset="1" stop-color="#93c5fd"/>'
    '</linearGradient></defs><rect x="2" y="2" width="28" height="28" rx="6" fill="#1d4ed8"/>'
    '<path d="M8 16l6 6 10-12" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/>'
    "</svg>"
)
# The smallest complete PNG: signature, IHDR, IDAT, IEND.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
for path in sorted((ROOT / "themes").glob("*.toml")):
    theme = tomllib.loads(path.read_text())
    write("theme", f"{path.stem}.json", json.dumps(theme, indent=1))
forest = tomllib.loads((ROOT / "themes/forest.toml").read_text())
write("theme", "with-svg-logo.json", json.dumps(dict(forest, logo={"type": "svg", "markup": SVG_LOGO})))
write("theme", "with-png-logo.json", json.dumps(dict(forest, logo={"type": "png", "base64": base64.b64encode(PNG).decode()})))

# --- svg: logos that pass and logos the sanitizer refuses -------------------

write("svg", "logo.svg", SVG_LOGO)
write("svg", "shapes.svg", (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><g transform="translate(1 1)">'
    '<circle cx="4" cy="4" r="3" fill="#0a0" fill-opacity="0.5"/><ellipse cx="4" cy="4" rx="2" ry="1"/>'
    '<line x1="0" y1="0" x2="8" y2="8" stroke="#000"/><polygon points="0,0 8,0 4,8"/>'
    '<clipPath id="c"><rect width="8" height="8"/></clipPath></g></svg>'
))
write("svg", "script.svg", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
write("svg", "onload.svg", '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>')
write("svg", "url-fill.svg", '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="URL(https://evil.example/x)" width="1"/></svg>')
write("svg", "xlink.svg", (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    '<use xlink:href="data:image/svg+xml;base64,PHN2Zz4="/></svg>'
))
write("svg", "entities.svg", (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
    '<svg xmlns="http://www.w3.org/2000/svg"><title>&b;&b;</title></svg>'
))
write("svg", "processing-instruction.svg", '<svg xmlns="http://www.w3.org/2000/svg"><?php echo 1; ?></svg>')

# --- fluent_texts: each shipped Fluent file as a tenant's text upload ------
# The admin API takes texts as JSON (message id to text, `{var}` markers);
# the messages of i18n/*.ftl are single lines, so each file reads as one.


def overrides(path: pathlib.Path) -> dict:
    texts = {}
    for line in path.read_text().splitlines():
        if " = " in line and not line.startswith((" ", "#", "-")):
            identifier, text = line.split(" = ", 1)
            texts[identifier] = re.sub(r"\{ \$([a-z-]+) \}", r"{\1}", text)
    return texts


for path in sorted((ROOT / "i18n").glob("*.ftl")):
    write("fluent_texts", f"{path.stem}.json", json.dumps(overrides(path), ensure_ascii=False, indent=1))
write("fluent_texts", "one-text.json", json.dumps({"widget-title": "Welcome back"}))
write("fluent_texts", "lost-placeholder.json", json.dumps({"sign-in-with": "Continue"}))
write("fluent_texts", "unknown-id.json", json.dumps({"no-such-message": "Hello"}))

# --- webhook: signed Standard Webhooks deliveries ---------------------------
# The layout the webhook target reads: id, timestamp and signature lines, then
# the body. The secret and "now" are the target's.

SECRET = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
NOW = 1_800_000_000


def delivery(identifier: str, timestamp: str, body: str, signature: str | None = None) -> str:
    if signature is None:
        content = f"{identifier}.{timestamp.strip()}.{body}".encode()
        tag = hmac.new(SECRET, content, hashlib.sha256).digest()
        signature = "v1," + base64.b64encode(tag).decode()
    return f"{identifier}\n{timestamp}\n{signature}\n{body}"


order = json.dumps({"type": "order.paid", "timestamp": "2027-01-15T08:00:00Z", "data": {"order": "ord_1"}})
write("webhook", "signed.txt", delivery("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", str(NOW), order))
signed = delivery("msg_p5jXN8AQM9LWM0D4loKWxJek", str(NOW - 60), order).split("\n")
write("webhook", "two-signatures.txt", "\n".join([signed[0], signed[1], "v1,Zm9v " + signed[2], signed[3]]))
write("webhook", "stale.txt", delivery("msg_old", str(NOW - 3600), order))
write("webhook", "bad-signature.txt", delivery("msg_bad", str(NOW), order, "v1,AAAA"))
write("webhook", "min-timestamp.txt", delivery("msg_min", "-9223372036854775808", order, "v1,AAAA"))


# --- idp_events: each IdP's event format -------------------------------------
# The layout the idp_events target reads: one byte choosing the format, a
# line with the signature header's value (`sign` has the target sign the
# body itself), then the body.
def event(choice: int, body: dict, line: str = "sign") -> bytes:
    return bytes([choice]) + line.encode() + b"\n" + json.dumps(body).encode()


write("idp_events", "logto.txt", event(0, {"event": "User.Deleted", "createdAt": "2026-01-15T10:21:30.000Z", "data": {"id": "u1", "isSuspended": False}}))
write("idp_events", "zitadel.txt", event(1, {"aggregateID": "1", "aggregateType": "user", "instanceID": "2", "sequence": 9, "event_type": "user.human.signed.out", "event_payload": {"sessionID": "s"}}))
write("idp_events", "keycloak.txt", event(2, {"uid": "u", "type": "admin.USER-UPDATE", "time": 1768472493000, "resourcePath": "users/abc", "representation": "{\"enabled\":false}"}))
write("idp_events", "standard.txt", event(3, {"type": "session.revoked", "data": {"sub": "s", "sid": "x"}}))
write("idp_events", "logout.txt", event(4, {"iss": "https://i", "jti": "j", "sub": "s", "events": {"http://schemas.openid.net/event/backchannel-logout": {}}}, ""))
write("idp_events", "set.txt", event(5, {"iss": "https://i", "jti": "j", "sub_id": {"format": "complex", "user": {"format": "iss_sub", "iss": "https://i", "sub": "u"}, "session": {"format": "opaque", "id": "x"}}, "events": {"https://schemas.openid.net/secevent/caep/event-type/session-revoked": {}}}, ""))
