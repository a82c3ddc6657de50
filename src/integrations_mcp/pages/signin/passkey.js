// Passkeys on the pages (integrations_mcp.pages.signin.passkey): when the person submits a form holding a
// [data-passkey] block, ask the browser for a passkey with the block's options (made by the server, the challenge
// bound to this one decision), put the answer in the block's hidden field and submit the form, with the button the
// person pressed. Nothing is sent anywhere else: the form's own POST carries it.
"use strict";
(function () {
  function bytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(b64 + "===".slice((b64.length + 3) % 4));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }
  function text(buffer) {
    var view = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < view.length; i++) raw += String.fromCharCode(view[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (d) { return Object.assign({}, d, {id: bytes(d.id)}); });
  }
  function publicKey(kind, options) {
    var o = Object.assign({}, options, {challenge: bytes(options.challenge)});
    if (kind === "create") {
      o.user = Object.assign({}, options.user, {id: bytes(options.user.id)});
      o.excludeCredentials = descriptors(options.excludeCredentials);
    } else {
      o.allowCredentials = descriptors(options.allowCredentials);
    }
    return o;
  }
  function answer(kind, credential) {
    var r = credential.response, response = {clientDataJSON: text(r.clientDataJSON)};
    if (kind === "create") {
      response.attestationObject = text(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = text(r.authenticatorData);
      response.signature = text(r.signature);
      if (r.userHandle) response.userHandle = text(r.userHandle);
    }
    return JSON.stringify({id: credential.id, rawId: text(credential.rawId), type: credential.type,
                           response: response, authenticatorAttachment: credential.authenticatorAttachment || null,
                           clientExtensionResults: credential.getClientExtensionResults()});
  }
  function say(block, words) {
    var alert = block.querySelector(".passkey-error");
    alert.textContent = words;
    alert.hidden = false;
  }
  document.querySelectorAll("[data-passkey]").forEach(function (block) {
    var form = block.closest("form"), field = block.querySelector("input[type=hidden]");
    var kind = block.getAttribute("data-passkey"), busy = false;
    if (!form || !field) return;
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (field.value) return;
      event.preventDefault();
      if (busy) return;
      if (!window.PublicKeyCredential || !navigator.credentials) {
        say(block, "This browser cannot use passkeys here. Open the link in a current browser on the device that "
                   + "holds your passkey.");
        return;
      }
      busy = true;
      var options = {publicKey: publicKey(kind, JSON.parse(block.getAttribute("data-options")))};
      var asked = kind === "create" ? navigator.credentials.create(options) : navigator.credentials.get(options);
      asked.then(function (credential) {
        field.value = answer(kind, credential);
        if (button && button.name) {  // form.submit() sends no button: keep the one the person pressed
          var pressed = document.createElement("input");
          pressed.type = "hidden";
          pressed.name = button.name;
          pressed.value = button.value;
          form.appendChild(pressed);
        }
        form.submit();
      }, function (error) {
        busy = false;
        say(block, "Your passkey was not " + (kind === "create" ? "created" : "used") + " ("
                   + (error && error.name || "cancelled") + "). Press the button again to retry."
                   + (kind === "create" ? "" : " No passkey for this server on this device? Ask its operator to "
                                               + "enrol you."));
      });
    });
  });
})();
