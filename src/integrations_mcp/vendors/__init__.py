"""One folder per vendor: settings, client, models, rules, tools, prompts, guides and emulator.

Each vendor package exports `VENDOR` (a `vendors.base.Vendor`); `server/vendors.py` lists them, and that list is
all the server assembles from.
"""
