// Authio passkeys: the browser half of the WebAuthn ceremonies (sign-in and registration). Progressive
// enhancement: the passkey forms are hidden until this script finds a browser that can use passkeys, and every
// other way to sign in works without it. No framework, no inline script (the pages' CSP is default-src 'self').
//
// Sign-in: a form [data-passkey-login] gets its options from data-begin (POST state, email, csrf_token), asks
// navigator.credentials.get, puts the answer (JSON, binary members base64url) in its "credential" field and
// submits to /login. When the page has an input whose autocomplete lists "webauthn", a conditional request is
// started too, so the browser offers passkeys in that input's autofill.
// Registration: a form [data-passkey-register] gets options from data-begin, asks navigator.credentials.create
// and posts the answer to data-finish, then goes to data-next.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var s = "";
    for (var i = 0; i < bytes.length; i++) {
      s += String.fromCharCode(bytes[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromB64url(value) {
    var s = value.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      bytes[i] = bin.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var out = { type: d.type, id: fromB64url(d.id) };
      if (d.transports) {
        out.transports = d.transports;
      }
      return out;
    });
  }

  // requestOptions turns the server's JSON ({publicKey: …}) into what navigator.credentials.get takes.
  function requestOptions(json) {
    var pk = json.publicKey;
    var out = { challenge: fromB64url(pk.challenge), userVerification: pk.userVerification || "required" };
    if (pk.rpId) {
      out.rpId = pk.rpId;
    }
    if (pk.timeout) {
      out.timeout = pk.timeout;
    }
    if (pk.allowCredentials && pk.allowCredentials.length) {
      out.allowCredentials = descriptors(pk.allowCredentials);
    }
    return out;
  }

  function creationOptions(json) {
    var pk = json.publicKey;
    var out = {
      rp: pk.rp,
      user: { id: fromB64url(pk.user.id), name: pk.user.name, displayName: pk.user.displayName },
      challenge: fromB64url(pk.challenge),
      pubKeyCredParams: pk.pubKeyCredParams,
      authenticatorSelection: pk.authenticatorSelection,
      attestation: pk.attestation || "none",
      excludeCredentials: descriptors(pk.excludeCredentials)
    };
    if (pk.timeout) {
      out.timeout = pk.timeout;
    }
    return out;
  }

  function assertionJSON(cred) {
    var r = cred.response;
    return JSON.stringify({
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: {
        clientDataJSON: toB64url(r.clientDataJSON),
        authenticatorData: toB64url(r.authenticatorData),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : undefined
      }
    });
  }

  function attestationJSON(cred) {
    var r = cred.response;
    return JSON.stringify({
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: {
        clientDataJSON: toB64url(r.clientDataJSON),
        attestationObject: toB64url(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : []
      }
    });
  }

  function field(form, name) {
    var el = form.querySelector('[name="' + name + '"]');
    return el ? el.value : "";
  }

  function post(url, params) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams(params).toString()
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) {
          var err = new Error(body.error_description || "The request failed (" + res.status + ").");
          err.server = true;
          throw err;
        }
        return body;
      });
    });
  }

  function showError(form, message) {
    var el = form.querySelector(".field-error");
    if (!el) {
      return;
    }
    el.textContent = message;
    el.hidden = false;
    var button = form.querySelector("[data-passkey-button]");
    if (button) {
      button.focus();
    }
  }

  function ceremonyError(err) {
    if (err && err.server) {
      return err.message;
    }
    if (err && err.name === "NotAllowedError") {
      return "The passkey request was cancelled or timed out. Try again.";
    }
    if (err && err.name === "InvalidStateError") {
      return "This device already has a passkey for your account.";
    }
    return "Your browser could not use a passkey here. Try again or choose another way.";
  }

  // ---- sign-in ----

  var conditional = null; // the AbortController of a pending conditional request

  function abortConditional() {
    if (conditional) {
      conditional.abort();
      conditional = null;
    }
  }

  // typedEmail is the email the page already has: the passkey form's own (the methods step), else what the user
  // typed in the page's email input.
  function typedEmail(form) {
    var own = field(form, "email");
    if (own) {
      return own;
    }
    var input = document.querySelector('input[type="email"][name="email"]');
    return input && input.checkValidity() ? input.value.trim() : "";
  }

  function beginLogin(form, withEmail) {
    var params = { state: field(form, "state"), csrf_token: field(form, "csrf_token") };
    if (withEmail) {
      params.email = typedEmail(form);
    }
    return post(form.dataset.begin, params);
  }

  function finishLogin(form, cred) {
    form.querySelector('[name="credential"]').value = assertionJSON(cred);
    form.dataset.submitting = "true";
    form.setAttribute("aria-busy", "true");
    form.submit();
  }

  function signIn(form) {
    abortConditional();
    var button = form.querySelector("[data-passkey-button]");
    button.disabled = true;
    beginLogin(form, true)
      .then(function (json) {
        return navigator.credentials.get({ publicKey: requestOptions(json) });
      })
      .then(function (cred) {
        if (!cred) {
          throw new Error("no credential");
        }
        finishLogin(form, cred);
      })
      .catch(function (err) {
        button.disabled = false;
        showError(form, ceremonyError(err));
      });
  }

  function startConditional(form) {
    if (!PublicKeyCredential.isConditionalMediationAvailable) {
      return;
    }
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available) {
        return;
      }
      var controller = new AbortController();
      conditional = controller;
      beginLogin(form, false)
        .then(function (json) {
          return navigator.credentials.get({
            mediation: "conditional",
            publicKey: requestOptions(json),
            signal: controller.signal
          });
        })
        .then(function (cred) {
          if (cred && conditional === controller) {
            conditional = null;
            finishLogin(form, cred);
          }
        })
        .catch(function () {
          // Aborted (the button started a modal request) or nothing chosen: the other methods stay.
        });
    });
  }

  // ---- registration ----

  function register(form) {
    var button = form.querySelector("[data-passkey-button]");
    button.disabled = true;
    var csrf = field(form, "csrf_token");
    post(form.dataset.begin, { csrf_token: csrf })
      .then(function (json) {
        return navigator.credentials.create({ publicKey: creationOptions(json) });
      })
      .then(function (cred) {
        if (!cred) {
          throw new Error("no credential");
        }
        return post(form.dataset.finish, {
          csrf_token: csrf,
          name: field(form, "name"),
          credential: attestationJSON(cred)
        });
      })
      .then(function () {
        window.location.assign(form.dataset.next || window.location.pathname);
      })
      .catch(function (err) {
        button.disabled = false;
        showError(form, ceremonyError(err));
      });
  }

  function init() {
    var logins = document.querySelectorAll("form[data-passkey-login]");
    logins.forEach(function (form) {
      form.hidden = false;
      form.querySelector("[data-passkey-button]").addEventListener("click", function () {
        signIn(form);
      });
    });
    if (logins.length && document.querySelector('input[autocomplete~="webauthn"]')) {
      startConditional(logins[0]);
    }
    document.querySelectorAll("form[data-passkey-register]").forEach(function (form) {
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        register(form);
      });
      form.querySelector("[data-passkey-button]").addEventListener("click", function () {
        register(form);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
