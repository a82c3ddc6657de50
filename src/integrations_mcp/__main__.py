from integrations_mcp.cli import main

raise SystemExit(main())
