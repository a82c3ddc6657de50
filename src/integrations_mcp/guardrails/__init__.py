"""Server-enforced policy shared by every vendor: secret firewall, redaction, confirmation, diffs."""
