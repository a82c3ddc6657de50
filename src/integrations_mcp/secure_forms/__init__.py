"""Secure forms: one-time pages where a person types credentials, so they never pass through the chat.

- `origin`: the one rule deciding whether a form POST came from the form's own page (used by every form page,
  the server's own and the emulators' imitations of vendor pages).
- `html`: the shared document shell, stylesheet and security headers of those pages.
- `scripted_person`: what a person's browser does with a form page, for the demo and the tests.
"""
