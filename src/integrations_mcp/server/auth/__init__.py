"""Authentication of the streamable-HTTP transport: static bearer tokens (`tokens`) and an OAuth 2.1 resource server
(`jwt_tokens`: JWTs checked against a JWKS), both through the SDK's token-verifier hook, assembled in `setup`."""
