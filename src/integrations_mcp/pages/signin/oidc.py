"""Sign-in with OpenID Connect at the deployment's own OAuth issuer: the authorization code flow with PKCE (S256).

`start` sends the browser to the issuer's authorization endpoint (from its discovery document) with a fresh state,
nonce and code verifier, held meanwhile in a short-lived signed cookie (SameSite=Lax: the issuer's redirect back
is a cross-site navigation). `callback` checks the state, redeems the code with the verifier (and the client's
secret, when it has one), verifies the ID token (signature with the issuer's JWKS, iss, aud = the client id, exp,
nonce; `verify_id_token` is the HTTP transport's own JWT verifier) and sets a signed session cookie (HttpOnly,
SameSite=Strict, Secure over https, path = the pages' prefix). Its key comes from INTEGRATIONS_STATE_KEY, so every
replica accepts the sign-in. Roles come from a configurable claim of the ID token, else of the userinfo answer.

The issuer is asked to authenticate the person anew (`prompt=login`): a browser's standing session at the issuer is
never taken for a decision silently, and signing out here then in again can switch accounts.

Never in a log line, a page or a cookie: the code, the tokens, the client secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

import httpx2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from integrations_mcp.pages.listener import DEFAULT_PATH_PREFIX
from integrations_mcp.pages.origin import origin_of
from integrations_mcp.pages.shell import document, message
from integrations_mcp.pages.signin import Approver, PagePart, PublicOrigin
from integrations_mcp.pages.signin.cookies import CookieSigner

__all__ = ["OidcSignIn"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "imcp_signin"
FLOW_COOKIE = "imcp_oidc_flow"
FLOW_SECONDS = 600  # from pressing Sign in to coming back from the issuer
DISCOVERY_MAX_AGE = 300
MAX_ROLES, MAX_WORD = 50, 200
_RETURN_TO = re.compile(r"/[A-Za-z0-9_\-/.]{1,500}")

START_AGAIN = ("Go back to the page your assistant gave you and press Sign in again. If this keeps happening, ask "
               "your administrator.")
UNAVAILABLE = ("The sign-in service cannot be reached right now, so you cannot sign in. Try again in a minute; if it "
               "keeps failing, tell the server's operator.")
NOT_VERIFIED = ("Your sign-in could not be confirmed, so you are not signed in. " + START_AGAIN)
STALE_FLOW = ("This sign-in was started too long ago, or in another browser, so it cannot be completed. "
              + START_AGAIN)


class OidcUnavailable(Exception):
    """The issuer's discovery document or token endpoint could not be used."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _words(value: Any) -> frozenset[str]:
    """Roles, groups or scopes as a claim carries them: a list of strings, or one space-separated string."""
    items = value.split() if isinstance(value, str) else value if isinstance(value, list) else []
    return frozenset(str(v)[:MAX_WORD] for v in items[:MAX_ROLES] if isinstance(v, str | int) and str(v).strip())


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested objects (Keycloak's `realm_access.roles`)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _shown_name(claims: Mapping[str, Any], subject: str) -> str:
    for key in ("name", "preferred_username", "email"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip() and value.isprintable():
            return value.strip()[:100]
    return subject


class OidcSignIn:
    """The `SignIn` method "oidc"."""

    method = "oidc"

    def __init__(self, *, issuer: str, client_id: str, client_secret: str | None,
                 verify_id_token: Callable[[str], Awaitable[dict[str, Any] | None]], key: bytes,
                 roles_claim: str = "roles", lifetime_seconds: float = 1800, timeout: float = 10,
                 reserved: frozenset[str] = frozenset(), scope: str = "openid profile email",
                 keep_roles: frozenset[str] | None = None,
                 transport: httpx2.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """`verify_id_token`: the verified claims of a JWT from `issuer` whose audience is `client_id` (None when
        it does not verify); `key`: of the cookies (replicas share it); `reserved`: subjects that may not sign in
        (the static tokens' names, which approvals name as requesters); `keep_roles`: the roles the policy reads
        (the session cookie keeps only those, so a person in hundreds of groups still fits in a cookie)."""
        self.issuer, self.client_id, self._secret = issuer, client_id, client_secret
        self._verify, self.roles_claim, self.scope = verify_id_token, roles_claim, scope
        self.lifetime_seconds, self.timeout, self.reserved = lifetime_seconds, timeout, reserved
        self._transport, self._clock, self.keep_roles = transport, clock, keep_roles
        self._sessions = CookieSigner(key, "oidc-session", clock=clock)
        self._flows = CookieSigner(key, "oidc-flow", clock=clock)
        self._discovered: tuple[float, dict[str, Any]] | None = None
        self.prefix = f"/{DEFAULT_PATH_PREFIX.strip('/')}"
        self._public_origin: PublicOrigin = lambda: None

    def __repr__(self) -> str:  # never the secret
        return f"OidcSignIn(issuer={self.issuer!r}, client_id={self.client_id!r})"

    # ------------------------------------------------------------------ the contract

    def routes(self, path_prefix: str, public_origin: PublicOrigin) -> list[Route]:
        self.prefix, self._public_origin = f"/{path_prefix.strip('/')}", public_origin
        base = self._base
        return [Route(f"{base}/start", self.start, methods=["GET"]),
                Route(f"{base}/callback", self.callback, methods=["GET"]),
                Route(f"{base}/signout", self.signout, methods=["GET"])]

    async def page_part(self, request: Request, *, purpose: str, return_to: str) -> PagePart:
        back = quote(return_to, safe="")
        approver = self._signed_in(request)
        if approver is not None:
            return PagePart(f'<p class="signin">Signed in as <strong>{escape(approver.name)}</strong>. '
                            f'<a href="{self._base}/signout?return_to={back}">Sign out</a></p>', signed_in=True)
        return PagePart(f'<p class="signin"><a href="{self._base}/start?return_to={back}">Sign in with your '
                        "organisation's account</a></p>")

    async def approver(self, request: Request, fields: Mapping[str, str], *, purpose: str) -> Approver | None:
        return self._signed_in(request)

    # ------------------------------------------------------------------ the pages

    @property
    def _base(self) -> str:
        return f"{self.prefix}/signin/oidc"

    def _origin(self, request: Request) -> str:
        return self._public_origin() or origin_of(str(request.url))

    def _redirect_uri(self, request: Request) -> str:
        return f"{self._origin(request)}{self._base}/callback"

    def _return_to(self, value: str | None) -> str | None:
        """Only a path of the pages themselves (never another site, never a sign-in endpoint)."""
        if not value or not _RETURN_TO.fullmatch(value) or "//" in value or ".." in value:
            return None
        if not value.startswith(f"{self.prefix}/") or value.startswith(f"{self.prefix}/signin/"):
            return None
        return value

    def _signed_in(self, request: Request) -> Approver | None:
        session = self._sessions.open(request.cookies.get(SESSION_COOKIE))
        if session is None or session.get("iss") != self.issuer or session.get("aud") != self.client_id:
            return None
        subject = session.get("sub")
        if not isinstance(subject, str) or not subject or subject in self.reserved:
            return None
        return Approver(subject=subject, method=self.method, name=str(session.get("name") or subject),
                        roles=_words(session.get("roles")))

    async def start(self, request: Request) -> Response:
        return_to = self._return_to(request.query_params.get("return_to"))
        if return_to is None:
            return message("Cannot sign in here", "This sign-in link is incomplete. " + START_AGAIN, 400, alert=True)
        try:
            endpoint = str((await self._discovery())["authorization_endpoint"])
        except (OidcUnavailable, KeyError):
            return message("Cannot sign in now", UNAVAILABLE, 502, alert=True)
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
        query = urlencode({"response_type": "code", "client_id": self.client_id,
                           "redirect_uri": self._redirect_uri(request), "scope": self.scope, "state": state,
                           "nonce": nonce, "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
                           "code_challenge_method": "S256", "prompt": "login"})
        response = RedirectResponse(f"{endpoint}{'&' if '?' in endpoint else '?'}{query}", 303)
        flow = self._flows.seal({"state": state, "nonce": nonce, "verifier": verifier, "return_to": return_to},
                                FLOW_SECONDS)
        response.set_cookie(FLOW_COOKIE, flow, max_age=FLOW_SECONDS, path=f"{self._base}/", httponly=True,
                            samesite="lax", secure=self._secure(request))
        return response

    async def callback(self, request: Request) -> Response:
        flow = self._flows.open(request.cookies.get(FLOW_COOKIE))
        params = request.query_params
        if flow is None or not hmac.compare_digest(str(params.get("state", "")).encode(),
                                                   str(flow.get("state", "")).encode()):
            return self._forget_flow(message("Not signed in", STALE_FLOW, 400, alert=True))
        return_to = self._return_to(flow.get("return_to")) or self.prefix + "/"
        if params.get("error") or not params.get("code"):
            error = re.sub(r"[^a-z_]", "", str(params.get("error", ""))[:40]) or "no answer"
            log.info("oidc sign-in not completed: the issuer answered %s", error)
            return self._forget_flow(document("Not signed in", (
                "<h1>Not signed in</h1>"
                f'<p role="alert">The sign-in did not complete (the sign-in service said: {escape(error)}).</p>'
                f'<p><a href="{escape(return_to)}">Go back to the page</a> and try again, or ask your '
                "administrator for access.</p>"), 403))
        try:
            claims = await self._redeem(request, str(params["code"]), flow)
        except OidcUnavailable:
            return self._forget_flow(message("Not signed in", UNAVAILABLE, 502, alert=True))
        if claims is None:
            return self._forget_flow(message("Not signed in", NOT_VERIFIED, 403, alert=True))
        subject = str(claims["sub"])
        session = {"iss": self.issuer, "aud": self.client_id, "sub": subject, "name": _shown_name(claims, subject),
                   "roles": sorted(self._kept(_words(_claim(claims, self.roles_claim))))}
        log.info("oidc sign-in completed (subject %s…)", hashlib.sha256(subject.encode()).hexdigest()[:8])
        target = escape(return_to)
        response = document("Signed in", (
            f"<h1>Signed in</h1><p role=\"status\">You are signed in as <strong>{escape(session['name'])}</strong>."
            f' <a href="{target}">Go back to the page</a> to decide.</p>'),
            head=f'<meta http-equiv="refresh" content="0;url={target}">')
        response.set_cookie(SESSION_COOKIE, self._sessions.seal(session, self.lifetime_seconds),
                            max_age=int(self.lifetime_seconds), path=self.prefix, httponly=True, samesite="strict",
                            secure=self._secure(request))
        return self._forget_flow(response)

    def _kept(self, roles: frozenset[str]) -> frozenset[str]:
        return roles if self.keep_roles is None else roles & self.keep_roles

    async def signout(self, request: Request) -> Response:
        return_to = self._return_to(request.query_params.get("return_to"))
        response: Response = RedirectResponse(return_to, 303) if return_to else message(
            "Signed out", "You are signed out of these pages. You can close this page.", 200)
        response.delete_cookie(SESSION_COOKIE, path=self.prefix, httponly=True, samesite="strict",
                               secure=self._secure(request))
        return response

    def _forget_flow(self, response: Response) -> Response:
        response.delete_cookie(FLOW_COOKIE, path=f"{self._base}/", httponly=True, samesite="lax")
        return response

    def _secure(self, request: Request) -> bool:
        return self._origin(request).startswith("https://")

    # ------------------------------------------------------------------ the issuer

    async def _discovery(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._discovered is not None and now - self._discovered[0] < DISCOVERY_MAX_AGE:
            return self._discovered[1]
        url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
        try:
            async with httpx2.AsyncClient(timeout=self.timeout, transport=self._transport) as http:
                answer = await http.get(url, headers={"accept": "application/json"})
            answer.raise_for_status()
            document_ = answer.json()
        except (httpx2.HTTPError, ValueError) as exc:
            log.warning("oidc discovery at %s failed (%s)", url, type(exc).__name__)
            raise OidcUnavailable from None
        if not isinstance(document_, dict) or str(document_.get("issuer", "")).rstrip("/") != \
                self.issuer.rstrip("/") or not document_.get("authorization_endpoint") or \
                not document_.get("token_endpoint"):
            log.warning("oidc discovery at %s: not this issuer's document, or no authorization/token endpoint", url)
            raise OidcUnavailable
        methods = document_.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            log.warning("oidc discovery at %s: the issuer does not support PKCE S256", url)
            raise OidcUnavailable
        self._discovered = (now, document_)
        return document_

    async def _redeem(self, request: Request, code: str, flow: Mapping[str, Any]) -> dict[str, Any] | None:
        """The code for tokens, then the ID token's verified claims (None: refused, the reason logged)."""
        found = await self._discovery()
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": self._redirect_uri(request),
                "code_verifier": str(flow.get("verifier", ""))}
        headers = {"accept": "application/json"}
        if self._secret is None:
            data["client_id"] = self.client_id  # a public client: PKCE is its proof
        else:  # client_secret_basic: each part form-encoded first (RFC 6749 §2.3.1)
            pair = f"{quote(self.client_id, safe='')}:{quote(self._secret, safe='')}".encode()
            headers["authorization"] = "Basic " + base64.b64encode(pair).decode()
        try:
            async with httpx2.AsyncClient(timeout=self.timeout, transport=self._transport) as http:
                answer = await http.post(str(found["token_endpoint"]), data=data, headers=headers)
                tokens = answer.json() if answer.content else {}
                if answer.status_code != 200 or not isinstance(tokens, dict):
                    error = tokens.get("error") if isinstance(tokens, dict) else None
                    log.warning("oidc sign-in refused: the token endpoint answered %d (%s)", answer.status_code,
                                re.sub(r"[^a-z_]", "", str(error or ""))[:40] or "no error code")
                    return None
                claims = await self._id_token_claims(tokens.get("id_token"), str(flow.get("nonce", "")))
                if claims is not None and _claim(claims, self.roles_claim) is None:
                    claims = await self._with_userinfo(http, found, tokens.get("access_token"), claims)
        except (httpx2.HTTPError, ValueError) as exc:
            log.warning("oidc sign-in failed: the issuer could not be reached (%s)", type(exc).__name__)
            raise OidcUnavailable from None
        return claims

    async def _id_token_claims(self, id_token: Any, nonce: str) -> dict[str, Any] | None:
        if not isinstance(id_token, str) or not id_token:
            log.warning("oidc sign-in refused: no ID token in the token endpoint's answer")
            return None
        claims = await self._verify(id_token)  # signature, iss, aud, exp (logs its own reason)
        if claims is None:
            return None
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        subject = claims.get("sub")
        why = ("its nonce is not this sign-in's" if not hmac.compare_digest(str(claims.get("nonce", "")).encode(),
                                                                             nonce.encode()) or not nonce
               else "another party is its authorized party" if len(audiences) > 1 and claims.get("azp") !=
               self.client_id
               else "no subject" if not isinstance(subject, str) or not subject or len(subject) > 200
               else "its subject is a static token's name" if subject in self.reserved
               else "")
        if why:
            log.warning("oidc sign-in refused: %s", why)
            return None
        return claims

    async def _with_userinfo(self, http: httpx2.AsyncClient, found: Mapping[str, Any], access_token: Any,
                             claims: dict[str, Any]) -> dict[str, Any]:
        """The roles claim from the userinfo endpoint when the ID token has none (issuers that keep claims there)."""
        endpoint = found.get("userinfo_endpoint")
        if not endpoint or not isinstance(access_token, str):
            return claims
        answer = await http.get(str(endpoint), headers={"authorization": f"Bearer {access_token}",
                                                        "accept": "application/json"})
        info = answer.json() if answer.status_code == 200 else None
        if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
            return claims
        return {**info, **claims, self.roles_claim: _claim(info, self.roles_claim)}
