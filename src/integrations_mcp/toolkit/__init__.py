"""How tools are declared and served, the same for every vendor.

- `declare`: the `@tool(...)` decorator that puts a tool's annotations and title next to its code.
- `annotations`, `arguments`: the honest hints and the argument types tools share.
- `sdk_tools`: the one adapter onto the SDK's `Tool` (compact schemas, hidden fixed arguments).
- `registration`: `ToolSpec` and `tool_specs(...)`, which turn a vendor's tool object into specs.
- `server`: `IntegrationsServer`, which refuses unknown arguments and runs each tool's argument guard.
- `identity`: who is asking (the session key forms are bound to).
"""
