"""Passkeys (WebAuthn): a person proves who they are with the passkey they enrolled through an operator's one-time
link (`approvers enrol`), once per decision.

- Enrolment: `GET/POST {prefix}/signin/passkey/enrol/{token}` runs the registration ceremony (user verification
  required, a discoverable credential) and stores the credential for the link's subject, name and roles; the link
  is spent by it (a used or expired link says what to do).
- A decision: the page's part carries assertion options with a challenge bound to the decision's `purpose` and a
  short expiry (`challenges`); the script asks the browser for the passkey when the person presses a button, and
  the POST carries the assertion. `approver()` verifies it with the `webauthn` library against the pages' own
  origin and RP ID (its host: a domain, in a secure context), spends the challenge (an assertion counts once, on
  any replica) and records the sign count.

The script is served from the pages' own origin (the pages' CSP allows `'self'` scripts only, no inline script);
the options travel in a data attribute, and the answer in a hidden field of the page's own form, so the POST is the
page's own (`pages.post.read_own_post`) and no other endpoint exists.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from html import escape
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integrations_mcp.pages.listener import DEFAULT_PATH_PREFIX
from integrations_mcp.pages.origin import origin_of
from integrations_mcp.pages.post import PostRefused, read_own_post
from integrations_mcp.pages.shell import document, message
from integrations_mcp.pages.signin import Approver, PagePart, PublicOrigin
from integrations_mcp.pages.signin.challenges import Challenges
from integrations_mcp.pages.signin.passkey_store import PasskeyStore
from integrations_mcp.pages.signin.relying_party import RelyingParty, relying_party
from integrations_mcp.state.keys import derive
from integrations_mcp.state.store import StateStore

__all__ = ["ASSERTION_FIELD", "PasskeySignIn", "RelyingParty", "relying_party"]

log = logging.getLogger(__name__)

ASSERTION_FIELD = "_passkey"  # a leading _: never a secure form field (PagePart)
REGISTRATION_FIELD = "_passkey"
MAX_ASSERTION_CHARS = 3000  # a real assertion is under 1,500 characters
MAX_ENROL_BYTES = 16 * 1024
MAX_CREDENTIAL_ID_BYTES = 1023  # WebAuthn's bound (the column holds its base64url)
RP_NAME = "integrations-mcp approvals"
CEREMONY_MS = 120_000

ENROL_GONE = ("This enrolment link was already used or has expired. Ask the operator of your integrations-mcp server "
              "for a new one (integrations-mcp approvers enrol).")
ENROL_CROSS_SITE = ("This passkey was not sent from the enrolment page itself, so it was not saved. Open the link "
                    "the operator gave you in this browser and press Create passkey there.")
ENROL_FAILED = ("Your passkey could not be checked, so it was not saved. Reload this page and press Create passkey "
                "again; if it fails again, ask the operator for a new link.")
NO_SECURE_ORIGIN = ("Passkeys work only on a page at an https:// address or at http://localhost, and this page is at "
                    "{origin}. Ask the operator of your integrations-mcp server to set INTEGRATIONS_PUBLIC_URL to such "
                    "an address.")


def _b64url(data: bytes) -> str:
    from webauthn.helpers import bytes_to_base64url

    return bytes_to_base64url(data)


class PasskeySignIn:
    """`SignIn` by passkey, over the passkeys of `store`; `challenges` issues and checks the ceremonies' challenges
    (its key shared by replicas)."""

    method = "passkey"

    def __init__(self, store: PasskeyStore, challenges: Challenges | None = None) -> None:
        self.store = store
        self.challenges = challenges or Challenges()
        self._prefix = f"{DEFAULT_PATH_PREFIX}/signin/passkey"  # until `routes` is given the pages' prefix
        self._public_origin: PublicOrigin = lambda: None

    def __repr__(self) -> str:
        return f"PasskeySignIn({self.store!r})"

    @classmethod
    def over(cls, state: StateStore, state_key: str | None) -> PasskeySignIn:
        """Over the state database, with keys derived from INTEGRATIONS_STATE_KEY when set (replicas and the
        operator's command agree on them)."""
        return cls(PasskeyStore(state, key=derive(state_key, "passkey-enrolment") if state_key else None),
                   Challenges(derive(state_key, "passkey-challenges") if state_key else None))

    @property
    def script_path(self) -> str:
        return f"{self._prefix}/passkey.js"

    def enrol_path(self, token: str) -> str:
        """The enrolment page's path for a link's token (the operator's command puts an origin in front)."""
        return f"{self._prefix}/enrol/{token}"

    def routes(self, path_prefix: str, public_origin: PublicOrigin) -> list[Route]:
        self._prefix = f"/{path_prefix.strip('/')}/signin/passkey"
        self._public_origin = public_origin
        enrol = f"{self._prefix}/enrol/{{token}}"
        return [Route(self.script_path, _script, methods=["GET"]),
                Route(enrol, self._show_enrolment, methods=["GET"]),
                Route(enrol, self._enrol, methods=["POST"])]

    def _relying_party(self, request: Request) -> tuple[str, RelyingParty | None]:
        origin = self._public_origin() or origin_of(str(request.url))
        return origin, relying_party(origin)

    # A decision -------------------------------------------------------------------------------------------------

    async def page_part(self, request: Request, *, purpose: str, return_to: str) -> PagePart:
        from webauthn import generate_authentication_options, options_to_json
        from webauthn.helpers.structs import UserVerificationRequirement

        origin, rp = self._relying_party(request)
        if rp is None:
            return PagePart(f'<p role="alert">{escape(NO_SECURE_ORIGIN.format(origin=origin))}</p>')
        options = generate_authentication_options(
            rp_id=rp.rp_id, challenge=self.challenges.issue(purpose), timeout=CEREMONY_MS,
            user_verification=UserVerificationRequirement.REQUIRED)  # no allowCredentials: the person's own passkey
        html = (f'<div class="passkey" data-passkey="get" data-options="{escape(options_to_json(options))}">'
                f'<input type="hidden" name="{ASSERTION_FIELD}" value="">'
                '<p class="hint">When you press the button, your browser asks for your passkey: only with it does '
                'this count.</p><p role="alert" class="passkey-error" hidden></p></div>')
        return PagePart(html, (self.script_path,))

    async def approver(self, request: Request, fields: Mapping[str, str], *, purpose: str) -> Approver | None:
        from webauthn import verify_authentication_response
        from webauthn.helpers import parse_authentication_credential_json, parse_client_data_json

        raw = fields.get(ASSERTION_FIELD, "")
        _, rp = self._relying_party(request)
        if not raw or len(raw) > MAX_ASSERTION_CHARS or rp is None:
            return None
        try:  # the library parses bytes a stranger sent: any failure is a failed proof, never a crash
            credential = parse_authentication_credential_json(raw)
            challenge = parse_client_data_json(credential.response.client_data_json).challenge
        except Exception as exc:  # noqa: BLE001
            log.info("passkey: an unreadable assertion (%s)", type(exc).__name__)
            return None
        if not self.challenges.check(challenge, purpose):
            log.info("passkey: an assertion for another decision, expired, or not issued here")
            return None
        stored = await self.store.credential(_b64url(credential.raw_id))
        if stored is None or stored.rp_id != rp.rp_id:
            log.info("passkey: an assertion by a passkey not enrolled here")
            return None
        try:
            verified = verify_authentication_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=rp.rp_id,
                expected_origin=rp.origin, credential_public_key=stored.public_key,
                credential_current_sign_count=stored.sign_count, require_user_verification=True)
        except Exception as exc:  # noqa: BLE001
            log.info("passkey: an assertion that does not verify (%s)", type(exc).__name__)
            return None
        if not await self.store.spend_challenge(challenge, self.challenges.expires_at(challenge)):
            log.warning("passkey: an assertion answered again (replayed)")
            return None
        if not await self.store.used(stored.id, was=stored.sign_count, now=verified.new_sign_count):
            log.warning("passkey: the sign count of %s… moved meanwhile (a copied authenticator?)", stored.id[:8])
            return None
        return Approver(subject=stored.subject, method=self.method, name=stored.name, roles=stored.roles)

    # Enrolment --------------------------------------------------------------------------------------------------

    async def _show_enrolment(self, request: Request) -> Response:
        from webauthn import generate_registration_options, options_to_json
        from webauthn.helpers.structs import (
            AuthenticatorSelectionCriteria,
            ResidentKeyRequirement,
            UserVerificationRequirement,
        )

        token = request.path_params["token"]
        enrolment = await self.store.enrolment(token)
        if not self.store.live(enrolment):
            return message("Enrolment link used or expired", ENROL_GONE, 404)
        assert enrolment is not None  # live
        origin, rp = self._relying_party(request)
        if rp is None:
            return message("Passkeys cannot be made here", NO_SECURE_ORIGIN.format(origin=origin), 400, alert=True)
        options = generate_registration_options(
            rp_id=rp.rp_id, rp_name=RP_NAME, user_name=enrolment.subject, user_display_name=enrolment.name,
            challenge=self.challenges.issue(self._enrol_purpose(token)), timeout=CEREMONY_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED))
        body = (f"<h1>Create your passkey, {escape(enrolment.name)}</h1>"
                "<p>With it you confirm who you are when you decide on a change your assistant asks you "
                "to approve. It stays on your device (or your password manager); this server keeps only "
                "its public key.</p>"
                f"<p>You act as <strong>{escape(enrolment.subject)}</strong>. This link works once.</p>"
                '<form method="post">'
                f'<div class="passkey" data-passkey="create" data-options="{escape(options_to_json(options))}">'
                f'<input type="hidden" name="{REGISTRATION_FIELD}" value="">'
                '<p role="alert" class="passkey-error" hidden></p></div>'
                '<button type="submit">Create passkey</button></form>')
        return document("Create your passkey", body, scripts=(self.script_path,))

    def _enrol_purpose(self, token: str) -> str:
        return f"enrol:{self.store.link_hash(token)}"

    async def _enrol(self, request: Request) -> Response:
        from webauthn import verify_registration_response
        from webauthn.helpers import parse_client_data_json, parse_registration_credential_json

        try:
            fields = await read_own_post(request, self._public_origin, max_bytes=MAX_ENROL_BYTES, max_fields=5)
        except PostRefused as refused:
            log.warning("passkey enrolment refused (%s)", refused.reason)
            text = ENROL_CROSS_SITE if refused.reason == PostRefused.CROSS_SITE else ENROL_FAILED
            return message("Not saved", text, refused.status, alert=True)
        token = request.path_params["token"]
        if not self.store.live(await self.store.enrolment(token)):
            return message("Enrolment link used or expired", ENROL_GONE, 404)
        _, rp = self._relying_party(request)
        raw = fields.get(REGISTRATION_FIELD, "")
        if rp is None or not raw:
            return message("Not saved", ENROL_FAILED, 400, alert=True)
        try:  # a stranger's bytes: any failure is a refused enrolment
            credential = parse_registration_credential_json(raw)
            challenge = parse_client_data_json(credential.response.client_data_json).challenge
            if not self.challenges.check(challenge, self._enrol_purpose(token)):
                raise ValueError("challenge")
            verified = verify_registration_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=rp.rp_id,
                expected_origin=rp.origin, require_user_verification=True)
            if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
                raise ValueError("credential id")
        except Exception as exc:  # noqa: BLE001
            log.info("passkey enrolment: not verified (%s)", type(exc).__name__)
            return message("Not saved", ENROL_FAILED, 400, alert=True)
        enrolled = await self.store.enrol(token, credential_id=_b64url(verified.credential_id),
                                          public_key=verified.credential_public_key,
                                          sign_count=verified.sign_count, rp_id=rp.rp_id)
        if enrolled is None:
            return message("Enrolment link used or expired", ENROL_GONE, 409)
        log.info("passkey enrolled for %s", enrolled.subject)
        return message("Passkey created",
                       f"{enrolled.name}, your passkey is saved. When your assistant asks you to approve a change, "
                       "open the link it gives you and confirm with this passkey. You can close this page.", 200)


SCRIPT = files("integrations_mcp.pages.signin").joinpath("passkey.js")


async def _script(request: Request) -> Response:
    return Response(SCRIPT.read_bytes(), media_type="text/javascript")
