"""panva's `oidc-provider` (npm), a certified OpenID provider, run as a Node process for the sign-in tests: installed
into `.cache/oidc-provider` by scripts/test.sh (or here, on first use, from the npm registry), configured by
`oidc_provider.mjs` with the pages' client, test accounts and a signing key the tests also mint MCP access tokens
with (so the deployment has one issuer, as the settings require)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
VERSION = "9.13.3"
PREFIX = ROOT / ".cache" / "oidc-provider"
MODULE = PREFIX / "node_modules" / "oidc-provider"
NODE = PREFIX / "node_modules" / ".bin" / "node"  # Node 22 from npm (the `node` package), as the provider wants
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID, CLIENT_SECRET = "integrations-pages", "pages-client-secret-" + "q7" * 12
APPROVER_ROLE = "integrations:approve"
# alice asks for changes (her MCP token's subject); bob holds the approver role; carol signs in without it.
ACCOUNTS = {"alice": {"name": "Alice Asker", "email": "alice@example.test", "roles": ["integrations:write"]},
            "bob": {"name": "Bob Approver", "email": "bob@example.test", "roles": [APPROVER_ROLE]},
            "carol": {"name": "Carol Reader", "email": "carol@example.test", "roles": ["integrations:read"]}}


def installed() -> tuple[str, Path]:
    """The Node binary and the provider's module folder, installed from the npm registry when missing (as
    scripts/test.sh does). Skips only where npm is not installed locally; under CI that is a failure."""
    if not ((MODULE / "package.json").is_file() and NODE.exists()):
        if shutil.which("npm") is None:
            if os.environ.get("CI"):
                pytest.fail("npm is needed to install the OpenID provider of the sign-in tests")
            pytest.skip("Node.js is not installed: the sign-in tests need panva's oidc-provider from npm")
        subprocess.run(["npm", "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", "--silent", "node@22",
                        f"oidc-provider@{VERSION}"], check=True, timeout=600, capture_output=True)
    return str(NODE), MODULE


@dataclass
class Provider:
    issuer: str
    key: rsa.RSAPrivateKey
    output: Path
    redirect_uris: list[str] = field(default_factory=list)

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    def access_token(self, audience: str, sub: str, *, scope: str = "integrations:read integrations:write",
                     lifetime: int = 600) -> str:
        """An MCP access token from this issuer (signed with its key), as an MCP client would hold."""
        now = int(time.time())
        return jwt.encode({"iss": self.issuer, "aud": audience, "sub": sub, "scope": scope, "iat": now,
                           "exp": now + lifetime}, self.key, algorithm="RS256", headers={"kid": "k1"})

    def log(self) -> str:
        return self.output.read_text(errors="replace")


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def oidc_provider(redirect_uris: list[str], *, conform_id_token_claims: bool = True) -> Iterator[Provider]:
    node, module = installed()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**RSAAlgorithm.to_jwk(key, as_dict=True), "kid": "k1", "use": "sig", "alg": "RS256"}
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.json"
        config.write_text(json.dumps({
            "module": str(module), "port": port, "issuer": issuer, "keys": [jwk], "cookie_key": "k" * 32,
            "accounts": ACCOUNTS, "conform_id_token_claims": conform_id_token_claims,
            "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris,
                         "response_types": ["code"], "grant_types": ["authorization_code"],
                         "token_endpoint_auth_method": "client_secret_basic"}]}))
        output = Path(folder) / "provider.log"
        with output.open("wb") as out:
            proc = subprocess.Popen([node, str(SCRIPT), str(config)], stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 30
                while not _accepts(port):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"oidc-provider did not start:\n{output.read_text(errors='replace')}")
                    time.sleep(0.1)
                yield Provider(issuer, key, output, redirect_uris)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
